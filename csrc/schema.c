#include "schema.h"

#include <ctype.h>
#include <string.h>

const char *const dbw_events[] = {
    "MODEL_VERSION_CREATED",
    "MODEL_VERSION_TRANSITIONED_STAGE",
    "TRANSITION_REQUEST_CREATED",
    "COMMENT_CREATED",
    "REGISTERED_MODEL_CREATED",
    "MODEL_VERSION_TAG_SET",
    "MODEL_VERSION_TRANSITIONED_TO_STAGING",
    "MODEL_VERSION_TRANSITIONED_TO_PRODUCTION",
    "MODEL_VERSION_TRANSITIONED_TO_ARCHIVED",
    "TRANSITION_REQUEST_TO_STAGING_CREATED",
    "TRANSITION_REQUEST_TO_PRODUCTION_CREATED",
    "TRANSITION_REQUEST_TO_ARCHIVED_CREATED",
    NULL,
};

const char *const dbw_statuses[] = {"ACTIVE", "DISABLED", "TEST_MODE", NULL};

static const dbw_enum event_names = {"event", dbw_events};
static const dbw_enum status_names = {"status", dbw_statuses};

/* clang-format off: one field per line reads as a table */
static const dbw_field http_url_spec_fields[] = {
    {"url", DBW_T_STRING, DBW_F_REQUIRED | DBW_F_NONEMPTY, NULL, NULL},
    {"secret", DBW_T_STRING, 0, NULL, NULL},
    {"authorization", DBW_T_STRING, 0, NULL, NULL},
    {"enable_ssl_verification", DBW_T_BOOLEAN, 0, NULL, NULL},
    {NULL, DBW_T_STRING, 0, NULL, NULL},
};

static const dbw_field job_spec_fields[] = {
    {"job_id", DBW_T_STRING, DBW_F_REQUIRED | DBW_F_NONEMPTY, NULL, NULL},
    {"access_token", DBW_T_STRING, DBW_F_REQUIRED | DBW_F_NONEMPTY, NULL, NULL},
    {"workspace_url", DBW_T_STRING, 0, NULL, NULL},
    {NULL, DBW_T_STRING, 0, NULL, NULL},
};

static const dbw_field create_fields[] = {
    {"events", DBW_T_ENUM_LIST, DBW_F_REQUIRED | DBW_F_NONEMPTY, NULL, &event_names},
    {"model_name", DBW_T_STRING, DBW_F_NONEMPTY, NULL, NULL},
    {"description", DBW_T_STRING, 0, NULL, NULL},
    {"status", DBW_T_ENUM, 0, NULL, &status_names},
    {"http_url_spec", DBW_T_OBJECT, 0, http_url_spec_fields, NULL},
    {"job_spec", DBW_T_OBJECT, 0, job_spec_fields, NULL},
    {NULL, DBW_T_STRING, 0, NULL, NULL},
};

static const dbw_field list_fields[] = {
    /* alphabetical: the order the query string is written in */
    {"events", DBW_T_ENUM_LIST, 0, NULL, &event_names},
    {"max_results", DBW_T_POSINT, 0, NULL, NULL},
    {"model_name", DBW_T_STRING, 0, NULL, NULL},
    {"page_token", DBW_T_STRING, 0, NULL, NULL},
    {NULL, DBW_T_STRING, 0, NULL, NULL},
};

static const dbw_field update_fields[] = {
    {"id", DBW_T_ID, DBW_F_REQUIRED | DBW_F_NONEMPTY, NULL, NULL},
    {"description", DBW_T_STRING, 0, NULL, NULL},
    {"events", DBW_T_ENUM_LIST, DBW_F_NONEMPTY, NULL, &event_names},
    {"status", DBW_T_ENUM, 0, NULL, &status_names},
    {"http_url_spec", DBW_T_OBJECT, 0, http_url_spec_fields, NULL},
    {"job_spec", DBW_T_OBJECT, 0, job_spec_fields, NULL},
    {NULL, DBW_T_STRING, 0, NULL, NULL},
};

static const dbw_field id_fields[] = {
    {"id", DBW_T_ID, DBW_F_REQUIRED | DBW_F_NONEMPTY, NULL, NULL},
    {NULL, DBW_T_STRING, 0, NULL, NULL},
};

static const dbw_field test_fields[] = {
    {"id", DBW_T_ID, DBW_F_REQUIRED | DBW_F_NONEMPTY, NULL, NULL},
    {"event", DBW_T_ENUM, 0, NULL, &event_names},
    {NULL, DBW_T_STRING, 0, NULL, NULL},
};

/* clang-format on */

const dbw_schema dbw_schema_create = {create_fields, DBW_R_ONE_SPEC | DBW_R_REGISTRY_WIDE_EVENT};
const dbw_schema dbw_schema_list = {list_fields, 0};
const dbw_schema dbw_schema_update = {update_fields, DBW_R_AT_MOST_ONE_SPEC};
const dbw_schema dbw_schema_delete = {id_fields, 0};
const dbw_schema dbw_schema_test = {test_fields, 0};

int dbw_enum_index(const char *const *list, const char *name)
{
    int i;
    for (i = 0; list[i] != NULL; i++)
        if (strcmp(list[i], name) == 0)
            return i;
    return -1;
}

/* Levenshtein distance ignoring case, or (size_t)-1 for names too long to
 * be worth comparing (nothing here is longer than 64 bytes). */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), i, j, row[65];
    if (la > 64 || lb > 64)
        return (size_t)-1;
    for (j = 0; j <= lb; j++)
        row[j] = j;
    for (i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (j = 1; j <= lb; j++) {
            size_t up = row[j], cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
            size_t best = diag + cost;
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* Keeps cand in *best when it is nearer to s than what *best holds and near
 * enough to be a typo of it: at most a third of the longer name apart. */
static void consider(const char *cand, const char *s, const char **best, size_t *best_d)
{
    size_t d = distance(cand, s), lc = strlen(cand), ls = strlen(s);
    if (d != (size_t)-1 && d * 3 <= (lc > ls ? lc : ls) && d < *best_d) {
        *best = cand;
        *best_d = d;
    }
}

const char *dbw_closest(const char *const *list, const char *s)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (; *list; list++)
        consider(*list, s, &best, &best_d);
    return best;
}

static const char *closest_field(const dbw_field *fields, const char *s)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (; fields->name; fields++)
        consider(fields->name, s, &best, &best_d);
    return best;
}

/* The path of the field being checked, e.g. "http_url_spec.url". */
typedef struct where {
    const char *op;
    const char *parent;
    const char *name;
} where;

static int fail(dbw_buf *msg, const where *w, const char *why, const char *detail)
{
    dbw_buf_reset(msg);
    dbw_buf_printf(msg, "%s: %s%s%s: %s%s", w->op, w->parent ? w->parent : "", w->parent ? "." : "", w->name,
                   why, detail ? detail : "");
    return -1;
}

static const char *type_name(lua_State *L, int idx)
{
    return lua_typename(L, lua_type(L, idx));
}

/* An array is a table whose keys are exactly 1..n. */
static int check_array(lua_State *L, int idx, size_t *n_out)
{
    size_t n = dbw_rawlen(L, idx), count = 0;
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        lua_pop(L, 1);
        count++;
        if (!dbw_isintegral(L, -1) || lua_tonumber(L, -1) < 1 || (size_t)lua_tonumber(L, -1) > n) {
            lua_pop(L, 1);
            return -1;
        }
    }
    *n_out = n;
    return count == n ? 0 : -1;
}

static int check_table(lua_State *L, int idx, const dbw_field *fields, const char *op, const char *parent,
                       dbw_buf *msg);

/* "did you mean 'X'?" for a name close to one of list, else nothing. */
static void suggest(dbw_buf *msg, const char *const *list, const char *s)
{
    const char *best = dbw_closest(list, s);
    if (best)
        dbw_buf_printf(msg, " (did you mean '%s'?)", best);
}

static int check_enum(lua_State *L, int idx, const dbw_enum *e, const where *w, dbw_buf *msg)
{
    const char *const *list = e->names;
    if (lua_type(L, idx) != LUA_TSTRING)
        return fail(msg, w, "expected string, got ", type_name(L, idx));
    /* "NAME\0junk" would compare equal to NAME below, and go out as is */
    if (strlen(lua_tostring(L, idx)) != dbw_rawlen(L, idx))
        return fail(msg, w, "must not contain a NUL byte", NULL);
    if (dbw_enum_index(list, lua_tostring(L, idx)) < 0) {
        dbw_buf_reset(msg);
        dbw_buf_printf(msg, "%s: %s%s%s: '%s' is not a valid %s", w->op, w->parent ? w->parent : "",
                       w->parent ? "." : "", w->name, lua_tostring(L, idx), e->what);
        suggest(msg, list, lua_tostring(L, idx));
        dbw_buf_puts(msg, "; one of ");
        for (; *list; list++)
            dbw_buf_printf(msg, "%s%s", *list, list[1] ? ", " : "");
        return -1;
    }
    return 0;
}

static int check_value(lua_State *L, int idx, const dbw_field *f, const where *w, dbw_buf *msg)
{
    int t = lua_type(L, idx);
    size_t n, i;
    switch (f->type) {
    case DBW_T_STRING:
        if (t != LUA_TSTRING)
            return fail(msg, w, "expected string, got ", type_name(L, idx));
        if ((f->flags & DBW_F_NONEMPTY) && dbw_rawlen(L, idx) == 0)
            return fail(msg, w, "must not be empty", NULL);
        return 0;
    case DBW_T_BOOLEAN:
        return t == LUA_TBOOLEAN ? 0 : fail(msg, w, "expected boolean, got ", type_name(L, idx));
    case DBW_T_POSINT:
        if (t != LUA_TNUMBER)
            return fail(msg, w, "expected integer, got ", type_name(L, idx));
        if (!dbw_integer_in(L, idx, 1, 2147483647))
            return fail(msg, w, "must be an integer from 1 to 2147483647", NULL);
        return 0;
    case DBW_T_ID:
        if (t == LUA_TNUMBER) {
            if (!dbw_integer_in(L, idx, 0, 9007199254740992LL))
                return fail(msg, w, "must be a string, or an integer from 0 to 2^53", NULL);
            return 0;
        }
        if (t != LUA_TSTRING)
            return fail(msg, w, "expected string, got ", type_name(L, idx));
        if ((f->flags & DBW_F_NONEMPTY) && dbw_rawlen(L, idx) == 0)
            return fail(msg, w, "must not be empty", NULL);
        return 0;
    case DBW_T_ENUM:
        return check_enum(L, idx, f->values, w, msg);
    case DBW_T_ENUM_LIST:
        if (t != LUA_TTABLE)
            return fail(msg, w, "expected an array of names, got ", type_name(L, idx));
        if (check_array(L, idx, &n) != 0)
            return fail(msg, w, "expected an array (keys 1..n)", NULL);
        if ((f->flags & DBW_F_NONEMPTY) && n == 0)
            return fail(msg, w, "must not be empty", NULL);
        for (i = 1; i <= n; i++) {
            int rc;
            lua_rawgeti(L, idx, (int)i);
            rc = check_enum(L, lua_gettop(L), f->values, w, msg);
            lua_pop(L, 1);
            if (rc != 0)
                return rc;
        }
        return 0;
    case DBW_T_OBJECT:
        if (t != LUA_TTABLE)
            return fail(msg, w, "expected table, got ", type_name(L, idx));
        return check_table(L, idx, f->fields, w->op, w->name, msg);
    }
    return 0;
}

/* The field a key names, byte for byte: "events\0x" is no field, though
 * strcmp would take it for "events". */
static const dbw_field *find_field(const dbw_field *fields, const char *name, size_t len)
{
    if (strlen(name) != len)
        return NULL;
    for (; fields->name != NULL; fields++)
        if (strcmp(fields->name, name) == 0)
            return fields;
    return NULL;
}

static int check_table(lua_State *L, int idx, const dbw_field *fields, const char *op, const char *parent,
                       dbw_buf *msg)
{
    const dbw_field *f;
    where w;
    w.op = op;
    w.parent = parent;

    /* Unknown keys first: a typo must not pass silently as "field absent". */
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING ||
            find_field(fields, lua_tostring(L, -1), dbw_rawlen(L, -1)) == NULL) {
            dbw_buf_reset(msg);
            if (lua_type(L, -1) == LUA_TSTRING) {
                const char *near = closest_field(fields, lua_tostring(L, -1));
                dbw_buf_printf(
                    msg, "%s: unknown field '%s%s%s'%s", op, parent ? parent : "", parent ? "." : "",
                    lua_tostring(L, -1),
                    strlen(lua_tostring(L, -1)) != dbw_rawlen(L, -1) ? " (with a NUL byte after it)" : "");
                if (near)
                    dbw_buf_printf(msg, " (did you mean '%s%s%s'?)", parent ? parent : "", parent ? "." : "",
                                   near);
            } else
                dbw_buf_printf(msg, "%s: %s%sunexpected %s key", op, parent ? parent : "", parent ? ": " : "",
                               lua_typename(L, lua_type(L, -1)));
            lua_pop(L, 1);
            return -1;
        }
    }
    for (f = fields; f->name != NULL; f++) {
        int rc = 0;
        w.name = f->name;
        lua_getfield(L, idx, f->name);
        if (lua_isnil(L, -1)) {
            if (f->flags & DBW_F_REQUIRED)
                rc = fail(msg, &w, "is required", NULL);
        } else {
            rc = check_value(L, lua_gettop(L), f, &w, msg);
        }
        lua_pop(L, 1);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int has_field(lua_State *L, int idx, const char *name)
{
    int present;
    lua_getfield(L, idx, name);
    present = !lua_isnil(L, -1);
    lua_pop(L, 1);
    return present;
}

static int names_event(lua_State *L, int idx, const char *event)
{
    size_t i, n;
    int found = 0;
    lua_getfield(L, idx, "events");
    n = dbw_rawlen(L, -1);
    for (i = 1; i <= n && !found; i++) {
        lua_rawgeti(L, -1, (int)i);
        found = strcmp(lua_tostring(L, -1), event) == 0;
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return found;
}

int dbw_schema_check(lua_State *L, int idx, const dbw_schema *s, const char *op, dbw_buf *msg)
{
    int http, job;
    idx = idx < 0 ? lua_gettop(L) + idx + 1 : idx;
    luaL_checkstack(L, 8, "validation");
    if (check_table(L, idx, s->fields, op, NULL, msg) != 0)
        return -1;
    http = has_field(L, idx, "http_url_spec");
    job = has_field(L, idx, "job_spec");
    if ((s->rules & (DBW_R_ONE_SPEC | DBW_R_AT_MOST_ONE_SPEC)) && http && job) {
        dbw_buf_reset(msg);
        dbw_buf_printf(msg, "%s: specify only one of http_url_spec and job_spec", op);
        return -1;
    }
    if ((s->rules & DBW_R_ONE_SPEC) && !http && !job) {
        dbw_buf_reset(msg);
        dbw_buf_printf(msg, "%s: exactly one of http_url_spec and job_spec is required", op);
        return -1;
    }
    if ((s->rules & DBW_R_REGISTRY_WIDE_EVENT) && has_field(L, idx, "model_name") &&
        names_event(L, idx, "REGISTERED_MODEL_CREATED")) {
        dbw_buf_reset(msg);
        dbw_buf_printf(msg,
                       "%s: REGISTERED_MODEL_CREATED can only be used by a registry-wide webhook "
                       "(one created without model_name)",
                       op);
        return -1;
    }
    return 0;
}

/* ---- reference documentation (LDoc reads csrc/: see config.ld) ------------ */

/***
 * The constants of `databricks.webhooks` that the schema defines.
 * @module databricks.webhooks
 */

/***
 * Constants
 * @section constants
 */

/***
 * The 12 event names a webhook can listen to, in the order of the API
 * reference: `MODEL_VERSION_CREATED`, `MODEL_VERSION_TRANSITIONED_STAGE`,
 * `TRANSITION_REQUEST_CREATED`, `COMMENT_CREATED`, `REGISTERED_MODEL_CREATED`,
 * `MODEL_VERSION_TAG_SET`, `MODEL_VERSION_TRANSITIONED_TO_STAGING`,
 * `MODEL_VERSION_TRANSITIONED_TO_PRODUCTION`,
 * `MODEL_VERSION_TRANSITIONED_TO_ARCHIVED`,
 * `TRANSITION_REQUEST_TO_STAGING_CREATED`,
 * `TRANSITION_REQUEST_TO_PRODUCTION_CREATED`,
 * `TRANSITION_REQUEST_TO_ARCHIVED_CREATED`.
 * @field EVENTS
 */

/***
 * The webhook statuses: `{ "ACTIVE", "DISABLED", "TEST_MODE" }`.
 * @field STATUSES
 */
