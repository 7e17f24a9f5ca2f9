#include "schema.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

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

/* The entity/action pairs an MLflow server accepts (its VALID_ENTITY_ACTIONS),
 * in the order of the entities' enum numbers. */
const char *const dbw_mlflow_events[] = {
    "registered_model.created",
    "model_version.created",
    "model_version_tag.set",
    "model_version_tag.deleted",
    "model_version_alias.created",
    "model_version_alias.deleted",
    "prompt.created",
    "prompt_version.created",
    "prompt_tag.set",
    "prompt_tag.deleted",
    "prompt_version_tag.set",
    "prompt_version_tag.deleted",
    "prompt_alias.created",
    "prompt_alias.deleted",
    "budget_policy.exceeded",
    NULL,
};

/* TEST_MODE is Databricks' alone: an MLflow server would misparse it. */
const char *const dbw_mlflow_statuses[] = {"ACTIVE", "DISABLED", NULL};

static const dbw_enum event_names = {"event", dbw_events};
static const dbw_enum status_names = {"status", dbw_statuses};
static const dbw_enum mlflow_event_names = {"event", dbw_mlflow_events};
static const dbw_enum mlflow_status_names = {"status", dbw_mlflow_statuses};

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

/* Open-source MLflow. Fields the server would refuse, or answer with a 500
 * page, are refused here first: see docs/mlflow.md. */
static const dbw_field mlflow_create_fields[] = {
    {"name", DBW_T_NAME, DBW_F_REQUIRED, NULL, NULL},
    {"url", DBW_T_URL, DBW_F_REQUIRED, NULL, NULL},
    {"events", DBW_T_PAIR_LIST, DBW_F_REQUIRED | DBW_F_NONEMPTY, NULL, &mlflow_event_names},
    {"description", DBW_T_STRING, 0, NULL, NULL},
    {"secret", DBW_T_STRING, 0, NULL, NULL},
    {"status", DBW_T_ENUM, 0, NULL, &mlflow_status_names},
    {NULL, DBW_T_STRING, 0, NULL, NULL},
};

static const dbw_field mlflow_list_fields[] = {
    /* 0 would be read as unset by the server: 1..1000 */
    {"max_results", DBW_T_POSINT, DBW_F_UPTO_1000, NULL, NULL},
    {"page_token", DBW_T_STRING, 0, NULL, NULL},
    {NULL, DBW_T_STRING, 0, NULL, NULL},
};

static const dbw_field mlflow_update_fields[] = {
    {"id", DBW_T_ID, DBW_F_REQUIRED | DBW_F_NONEMPTY, NULL, NULL},
    {"name", DBW_T_NAME, 0, NULL, NULL},
    {"description", DBW_T_STRING, 0, NULL, NULL},
    {"url", DBW_T_URL, 0, NULL, NULL},
    {"events", DBW_T_PAIR_LIST, DBW_F_NONEMPTY, NULL, &mlflow_event_names},
    {"secret", DBW_T_STRING, 0, NULL, NULL},
    {"status", DBW_T_ENUM, 0, NULL, &mlflow_status_names},
    {NULL, DBW_T_STRING, 0, NULL, NULL},
};

static const dbw_field mlflow_test_fields[] = {
    {"id", DBW_T_ID, DBW_F_REQUIRED | DBW_F_NONEMPTY, NULL, NULL},
    {"event", DBW_T_PAIR, 0, NULL, &mlflow_event_names},
    {NULL, DBW_T_STRING, 0, NULL, NULL},
};

/* clang-format on */

const dbw_schema dbw_mlflow_schema_create = {mlflow_create_fields, 0};
const dbw_schema dbw_mlflow_schema_list = {mlflow_list_fields, 0};
const dbw_schema dbw_mlflow_schema_update = {mlflow_update_fields, 0};
const dbw_schema dbw_mlflow_schema_id = {id_fields, 0};
const dbw_schema dbw_mlflow_schema_test = {mlflow_test_fields, 0};

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

/* "'<given>' is not a valid <what> (did you mean ...); one of ..." */
static int not_one_of(dbw_buf *msg, const where *w, const dbw_enum *e, const char *given)
{
    const char *const *list = e->names;
    dbw_buf_reset(msg);
    dbw_buf_printf(msg, "%s: %s%s%s: '%.80s' is not a valid %s", w->op, w->parent ? w->parent : "",
                   w->parent ? "." : "", w->name, given, e->what);
    suggest(msg, list, given);
    dbw_buf_puts(msg, "; one of ");
    for (; *list; list++)
        dbw_buf_printf(msg, "%s%s", *list, list[1] ? ", " : "");
    return -1;
}

static int check_enum(lua_State *L, int idx, const dbw_enum *e, const where *w, dbw_buf *msg)
{
    if (lua_type(L, idx) != LUA_TSTRING)
        return fail(msg, w, "expected string, got ", type_name(L, idx));
    /* "NAME\0junk" would compare equal to NAME below, and go out as is */
    if (strlen(lua_tostring(L, idx)) != dbw_rawlen(L, idx))
        return fail(msg, w, "must not contain a NUL byte", NULL);
    if (dbw_enum_index(e->names, lua_tostring(L, idx)) < 0)
        return not_one_of(msg, w, e, lua_tostring(L, idx));
    return 0;
}

/* The longest "entity.action" name, with room to spare. */
#define PAIR_MAX 64

/* Appends the lowercase copy of the string at idx to out (of PAIR_MAX
 * bytes, holding *len); 0, or -1 when it has a NUL or is too long. */
static int lower_into(lua_State *L, int idx, char *out, size_t *len)
{
    size_t n, i;
    const char *s = lua_tolstring(L, idx, &n);
    if (strlen(s) != n || *len + n >= PAIR_MAX)
        return -1;
    for (i = 0; i < n; i++)
        out[(*len)++] = (char)tolower((unsigned char)s[i]);
    out[*len] = '\0';
    return 0;
}

/* The lowercase "entity.action" of an event given as that string or as
 * { entity, action }, into out (PAIR_MAX bytes): 0, or -1 with why. */
static int pair_name(lua_State *L, int idx, char *out, const char **why)
{
    size_t len = 0;
    int ok;
    out[0] = '\0';
    if (lua_type(L, idx) == LUA_TSTRING) {
        if (lower_into(L, idx, out, &len) == 0)
            return 0;
        *why = "must be a short \"entity.action\" name without NUL bytes";
        return -1;
    }
    if (lua_type(L, idx) != LUA_TTABLE) {
        *why = "expected an \"entity.action\" string or an { entity, action } table";
        return -1;
    }
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        int known = lua_type(L, -2) == LUA_TSTRING && (strcmp(lua_tostring(L, -2), "entity") == 0 ||
                                                       strcmp(lua_tostring(L, -2), "action") == 0);
        lua_pop(L, 1);
        if (!known) {
            lua_pop(L, 1);
            *why = "an event table has only the fields entity and action";
            return -1;
        }
    }
    lua_getfield(L, idx, "entity");
    lua_getfield(L, idx, "action");
    ok =
        lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TSTRING && lower_into(L, -2, out, &len) == 0;
    if (ok && len + 1 < PAIR_MAX) {
        out[len++] = '.';
        out[len] = '\0';
        ok = lower_into(L, -1, out, &len) == 0;
    }
    lua_pop(L, 2);
    if (!ok)
        *why = "an event table needs short entity and action strings";
    return ok ? 0 : -1;
}

static int check_pair(lua_State *L, int idx, const dbw_enum *e, const where *w, dbw_buf *msg)
{
    char name[PAIR_MAX];
    const char *why = NULL;
    if (pair_name(L, idx, name, &why) != 0)
        return fail(msg, w, why, NULL);
    if (dbw_enum_index(e->names, name) < 0)
        return not_one_of(msg, w, e, name);
    return 0;
}

int dbw_pair_index(lua_State *L, int idx, const char *const *names)
{
    char name[PAIR_MAX];
    const char *why;
    return pair_name(L, idx, name, &why) == 0 ? dbw_enum_index(names, name) : -1;
}

/* A family's pairs in both wire forms, built once per lua_State and kept in
 * the registry under the names array's address. One table: [k + 1] is the
 * request object { entity = "MODEL_VERSION", action = "CREATED" } of
 * names[k], shared by every request (cjson only reads it); [ENTITY][ACTION]
 * is the name a response's object stands for. Requests and list pages then
 * build no tables or strings per event. */
void dbw_pairs_push(lua_State *L, const char *const *names)
{
    int k;
    lua_pushlightuserdata(L, (void *)names);
    lua_rawget(L, LUA_REGISTRYINDEX);
    if (!lua_isnil(L, -1))
        return;
    lua_pop(L, 1);
    lua_newtable(L);
    for (k = 0; names[k] != NULL; k++) {
        char up[PAIR_MAX], *p, *dot;
        snprintf(up, sizeof up, "%s", names[k]);
        for (p = up; *p; p++)
            *p = (char)toupper((unsigned char)*p);
        if ((dot = strchr(up, '.')) == NULL)
            continue;
        *dot = '\0';
        lua_createtable(L, 0, 2);
        lua_pushstring(L, up);
        lua_setfield(L, -2, "entity");
        lua_pushstring(L, dot + 1);
        lua_setfield(L, -2, "action");
        lua_rawseti(L, -2, k + 1);
        lua_getfield(L, -1, up);
        if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            lua_newtable(L);
            lua_pushvalue(L, -1);
            lua_setfield(L, -3, up);
        }
        lua_pushstring(L, names[k]);
        lua_setfield(L, -2, dot + 1);
        lua_pop(L, 1);
    }
    lua_pushlightuserdata(L, (void *)names);
    lua_pushvalue(L, -2);
    lua_rawset(L, LUA_REGISTRYINDEX);
}

void dbw_pair_push_wire(lua_State *L, const char *const *names, int k)
{
    dbw_pairs_push(L, names);
    lua_rawgeti(L, -1, k + 1);
    lua_replace(L, -2);
}

/* Answers are not validated like requests: only entity and action are read,
 * and a list page has one event object per subscription to turn into its name. */
void dbw_pair_from_wire(lua_State *L, int idx, int pairs)
{
    char name[PAIR_MAX];
    size_t len = 0;
    int ok;
    idx = idx < 0 ? lua_gettop(L) + idx + 1 : idx;
    if (lua_type(L, idx) != LUA_TTABLE)
        return;
    lua_getfield(L, idx, "entity");
    if (lua_type(L, -1) == LUA_TSTRING) {
        lua_pushvalue(L, -1);
        lua_rawget(L, pairs);
        if (lua_type(L, -1) == LUA_TTABLE) {
            lua_getfield(L, idx, "action");
            lua_rawget(L, -2);
            if (lua_type(L, -1) == LUA_TSTRING) {
                lua_replace(L, idx);
                lua_pop(L, 2);
                return;
            }
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    /* not a pair the family knows: the server's words, lowercased */
    lua_getfield(L, idx, "action");
    ok = lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TSTRING &&
         lower_into(L, -2, name, &len) == 0 && len + 1 < PAIR_MAX;
    if (ok) {
        name[len++] = '.';
        name[len] = '\0';
        ok = lower_into(L, -1, name, &len) == 0;
    }
    lua_pop(L, 2);
    if (!ok)
        return;
    lua_pushlstring(L, name, len);
    lua_replace(L, idx);
}

/* The server's rule for webhook names. */
static int valid_name(const char *s, size_t n)
{
    size_t i;
    if (n < 1 || n > 63 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
        return 0;
    for (i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-')
            return 0;
    return 1;
}

/* http(s)://, then a host before any '/', '?' or '#', and nothing a URL
 * cannot hold (blanks, control characters). */
static int valid_url(const char *s, size_t n)
{
    size_t i, start;
    if (n >= 7 && strncasecmp(s, "http://", 7) == 0)
        start = 7;
    else if (n >= 8 && strncasecmp(s, "https://", 8) == 0)
        start = 8;
    else
        return 0;
    for (i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
            return 0;
    return start < n && s[start] != '/' && s[start] != '?' && s[start] != '#' && s[start] != ':' &&
           s[start] != '@';
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
        if ((f->flags & DBW_F_UPTO_1000) && !dbw_integer_in(L, idx, 1, 1000))
            return fail(msg, w, "must be an integer from 1 to 1000", NULL);
        if (!dbw_integer_in(L, idx, 1, 2147483647))
            return fail(msg, w, "must be an integer from 1 to 2147483647", NULL);
        return 0;
    case DBW_T_NAME:
        if (t != LUA_TSTRING)
            return fail(msg, w, "expected string, got ", type_name(L, idx));
        if (!valid_name(lua_tostring(L, idx), dbw_rawlen(L, idx)))
            return fail(msg, w,
                        "must be 1 to 63 letters, digits, '.', '_' or '-', "
                        "starting and ending with a letter or digit",
                        NULL);
        return 0;
    case DBW_T_URL:
        if (t != LUA_TSTRING)
            return fail(msg, w, "expected string, got ", type_name(L, idx));
        if (strlen(lua_tostring(L, idx)) != dbw_rawlen(L, idx) ||
            !valid_url(lua_tostring(L, idx), dbw_rawlen(L, idx)))
            return fail(msg, w, "must be an http:// or https:// URL with a host (and no blanks)", NULL);
        return 0;
    case DBW_T_PAIR:
        return check_pair(L, idx, f->values, w, msg);
    case DBW_T_ID:
        if (t == LUA_TNUMBER) {
            if (!dbw_integer_in(L, idx, 0, (long long)DBW_EXACT_INT_MAX))
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
    case DBW_T_PAIR_LIST:
        if (t != LUA_TTABLE)
            return fail(msg, w, "expected an array of names, got ", type_name(L, idx));
        if (check_array(L, idx, &n) != 0)
            return fail(msg, w, "expected an array (keys 1..n)", NULL);
        if ((f->flags & DBW_F_NONEMPTY) && n == 0)
            return fail(msg, w, "must not be empty", NULL);
        for (i = 1; i <= n; i++) {
            int rc;
            lua_rawgeti(L, idx, (int)i);
            rc = f->type == DBW_T_PAIR_LIST ? check_pair(L, lua_gettop(L), f->values, w, msg)
                                            : check_enum(L, lua_gettop(L), f->values, w, msg);
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
