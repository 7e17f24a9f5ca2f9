/*
 * fuzz_schema - request validation: the fuzzer's bytes decoded as JSON (by
 * cjson.safe, so cjson.null can appear where a user's table might hold it,
 * or by the module's own decoder), then dbw_schema_check against each
 * operation's schema and, when accepted, dbw_op_build (JSON body or query
 * string).
 *
 * Invariants: validation never raises and leaves the stack as it was; a
 * refusal has a message naming the operation; an accepted request passes an
 * independent, stricter re-check written here (byte-exact enum names, exact
 * arrays, known fields only, required fields, the cross-field rules), and
 * builds into a URL of safe bytes plus, for body operations, a JSON object
 * with exactly the request's fields.
 */
#include <string.h>
#include <strings.h>

#include "fz.h"

#include "../csrc/client.h"
#include "../csrc/json.h"
#include "../csrc/ops.h"
#include "../csrc/request.h"
#include "../csrc/schema.h"

#define HOST "https://fuzz.example"

static dbw_client fake;

/* Byte-exact membership: a name with a NUL or anything after it is not a name. */
static int exact_enum(lua_State *L, int idx, const char *const *list)
{
    size_t n, i;
    const char *s;
    if (lua_type(L, idx) != LUA_TSTRING)
        return 0;
    s = lua_tolstring(L, idx, &n);
    for (i = 0; list[i]; i++)
        if (strlen(list[i]) == n && memcmp(list[i], s, n) == 0)
            return 1;
    return 0;
}

static void recheck(lua_State *L, int t, const dbw_field *fields, const char *op);

static void recheck_value(lua_State *L, int v, const dbw_field *f, const char *op)
{
    size_t i, n;
    switch (f->type) {
    case DBW_T_STRING:
        FZ_ASSERT(lua_type(L, v) == LUA_TSTRING, "%s.%s accepted a %s", op, f->name, luaL_typename(L, v));
        if (f->flags & DBW_F_NONEMPTY)
            FZ_ASSERT(lua_rawlen(L, v) > 0, "%s.%s accepted an empty string", op, f->name);
        break;
    case DBW_T_BOOLEAN:
        FZ_ASSERT(lua_type(L, v) == LUA_TBOOLEAN, "%s.%s accepted a %s", op, f->name, luaL_typename(L, v));
        break;
    case DBW_T_POSINT:
        FZ_ASSERT(lua_type(L, v) == LUA_TNUMBER, "%s.%s accepted a %s", op, f->name, luaL_typename(L, v));
        {
            lua_Number d = lua_tonumber(L, v);
            FZ_ASSERT(d >= 1 && d <= 2147483647.0 && (lua_Number)(long long)d == d, "%s.%s accepted %.17g",
                      op, f->name, (double)d);
        }
        break;
    case DBW_T_ID:
        if (lua_type(L, v) == LUA_TNUMBER) {
            lua_Number d = lua_tonumber(L, v);
            FZ_ASSERT(d >= 0 && d <= 9007199254740992.0 && (lua_Number)(long long)d == d,
                      "%s.%s accepted %.17g", op, f->name, (double)d);
            break;
        }
        FZ_ASSERT(lua_type(L, v) == LUA_TSTRING, "%s.%s accepted a %s", op, f->name, luaL_typename(L, v));
        if (f->flags & DBW_F_NONEMPTY)
            FZ_ASSERT(lua_rawlen(L, v) > 0, "%s.%s accepted an empty string", op, f->name);
        break;
    case DBW_T_ENUM:
        FZ_ASSERT(exact_enum(L, v, f->values->names), "%s.%s accepted a name that is not a %s", op, f->name,
                  f->values->what);
        break;
    case DBW_T_ENUM_LIST:
        FZ_ASSERT(fz_is_array(L, v), "%s.%s accepted a table that is not an array", op, f->name);
        n = lua_rawlen(L, v);
        if (f->flags & DBW_F_NONEMPTY)
            FZ_ASSERT(n > 0, "%s.%s accepted an empty list", op, f->name);
        for (i = 1; i <= n; i++) {
            lua_rawgeti(L, v, (lua_Integer)i);
            FZ_ASSERT(exact_enum(L, -1, f->values->names), "%s.%s[%zu] accepted a name that is not a %s", op,
                      f->name, i, f->values->what);
            lua_pop(L, 1);
        }
        break;
    case DBW_T_OBJECT:
        FZ_ASSERT(lua_type(L, v) == LUA_TTABLE, "%s.%s accepted a %s", op, f->name, luaL_typename(L, v));
        recheck(L, v, f->fields, op);
        break;
    case DBW_T_PAIR:
        FZ_ASSERT(dbw_pair_index(L, v, f->values->names) >= 0, "%s.%s accepted an invalid pair", op, f->name);
        break;
    case DBW_T_PAIR_LIST:
        FZ_ASSERT(fz_is_array(L, v), "%s.%s accepted a table that is not an array", op, f->name);
        n = lua_rawlen(L, v);
        if (f->flags & DBW_F_NONEMPTY)
            FZ_ASSERT(n > 0, "%s.%s accepted an empty list", op, f->name);
        for (i = 1; i <= n; i++) {
            lua_rawgeti(L, v, (lua_Integer)i);
            FZ_ASSERT(dbw_pair_index(L, lua_gettop(L), f->values->names) >= 0,
                      "%s.%s[%zu] accepted an invalid pair", op, f->name, i);
            lua_pop(L, 1);
        }
        break;
    case DBW_T_NAME:
    case DBW_T_URL:
        FZ_ASSERT(lua_type(L, v) == LUA_TSTRING && lua_rawlen(L, v) > 0 && lua_rawlen(L, v) < 1u << 20,
                  "%s.%s accepted a %s", op, f->name, luaL_typename(L, v));
        if (f->type == DBW_T_NAME)
            FZ_ASSERT(lua_rawlen(L, v) <= 63, "%s.%s accepted a name of %zu bytes", op, f->name,
                      (size_t)lua_rawlen(L, v));
        else
            FZ_ASSERT(strncasecmp(lua_tostring(L, v), "http", 4) == 0, "%s.%s accepted a URL without http",
                      op, f->name);
        break;
    }
}

static void recheck(lua_State *L, int t, const dbw_field *fields, const char *op)
{
    const dbw_field *f;
    lua_pushnil(L);
    while (lua_next(L, t) != 0) {
        int known = 0;
        lua_pop(L, 1);
        FZ_ASSERT(lua_type(L, -1) == LUA_TSTRING, "%s: accepted a %s key", op, luaL_typename(L, -1));
        for (f = fields; f->name; f++)
            if (strlen(f->name) == lua_rawlen(L, -1) && strcmp(f->name, lua_tostring(L, -1)) == 0)
                known = 1;
        FZ_ASSERT(known, "%s: accepted unknown field '%s'", op, lua_tostring(L, -1));
    }
    for (f = fields; f->name; f++) {
        lua_getfield(L, t, f->name);
        if (lua_isnil(L, -1))
            FZ_ASSERT(!(f->flags & DBW_F_REQUIRED), "%s: accepted without required '%s'", op, f->name);
        else
            recheck_value(L, lua_gettop(L), f, op);
        lua_pop(L, 1);
    }
}

static int present(lua_State *L, int t, const char *k)
{
    int p;
    lua_getfield(L, t, k);
    p = !lua_isnil(L, -1);
    lua_pop(L, 1);
    return p;
}

static void recheck_rules(lua_State *L, int t, const dbw_op *op)
{
    int http = present(L, t, "http_url_spec"), job = present(L, t, "job_spec");
    unsigned rules = op->schema->rules;
    if (rules & (DBW_R_ONE_SPEC | DBW_R_AT_MOST_ONE_SPEC))
        FZ_ASSERT(!(http && job), "%s: accepted both specs", op->name);
    if (rules & DBW_R_ONE_SPEC)
        FZ_ASSERT(http || job, "%s: accepted no spec", op->name);
    if ((rules & DBW_R_REGISTRY_WIDE_EVENT) && present(L, t, "model_name")) {
        size_t i, n;
        lua_getfield(L, t, "events");
        n = lua_rawlen(L, -1);
        for (i = 1; i <= n; i++) {
            lua_rawgeti(L, -1, (lua_Integer)i);
            FZ_ASSERT(strcmp(lua_tostring(L, -1), "REGISTERED_MODEL_CREATED") != 0,
                      "%s: accepted REGISTERED_MODEL_CREATED with a model_name", op->name);
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
}

/* Under lua_pcall: (op lightuserdata, request). */
static int check_one(lua_State *L)
{
    const dbw_op *op = lua_touserdata(L, 1);
    dbw_req *r = dbw_req_push(L); /* freed by its __gc */
    int top = lua_gettop(L), rc;
    size_t keys = 0;
    if (dbw_schema_check(L, 2, op->schema, op->name, &r->msg) != 0) {
        FZ_ASSERT(lua_gettop(L) == top, "%s: validation left the stack unbalanced", op->name);
        FZ_ASSERT(r->msg.len > strlen(op->name) + 2 &&
                      strncmp(r->msg.data, op->name, strlen(op->name)) == 0 &&
                      r->msg.data[strlen(op->name)] == ':',
                  "%s: refusal without a proper message: %s", op->name, r->msg.data ? r->msg.data : "(null)");
        return 0;
    }
    FZ_ASSERT(lua_gettop(L) == top, "%s: validation left the stack unbalanced", op->name);
    recheck(L, 2, op->schema->fields, op->name);
    recheck_rules(L, 2, op);

    rc = dbw_op_build(L, HOST, op, 2, r);
    FZ_ASSERT(r->url.len > 0 && strncmp(r->url.data, HOST, strlen(HOST)) == 0, "%s: URL lost the host",
              op->name);
    if (op->in_query) {
        size_t i;
        FZ_ASSERT(rc == 0 && !r->has_body, "%s: query operation returned %d", op->name, rc);
        for (i = 0; i < r->url.len; i++)
            FZ_ASSERT((unsigned char)r->url.data[i] > ' ' && r->url.data[i] != '#', "%s: unsafe URL byte",
                      op->name);
        return 0;
    }
    FZ_ASSERT(rc == 0 && r->has_body, "%s: no JSON body (%d: %s)", op->name, rc,
              r->msg.data ? r->msg.data : "");
    lua_pushlstring(L, r->body.data, r->body.len);
    /* The body is a JSON object with exactly the request's fields. */
    FZ_ASSERT(dbw_json_decode(L, lua_tostring(L, -1), lua_rawlen(L, -1)) && lua_type(L, -1) == LUA_TTABLE,
              "%s: body is not a JSON object", op->name);
    lua_pushnil(L);
    while (lua_next(L, 2) != 0) {
        lua_pop(L, 1);
        if (strstr(op->path, "{id}") && strcmp(lua_tostring(L, -1), "id") == 0)
            continue; /* it went into the path */
        lua_pushvalue(L, -1);
        lua_rawget(L, -3);
        FZ_ASSERT(!lua_isnil(L, -1), "%s: field '%s' missing from the body", op->name, lua_tostring(L, -2));
        lua_pop(L, 1);
        keys++;
    }
    lua_pushnil(L);
    while (lua_next(L, -2) != 0) {
        lua_pop(L, 1);
        keys--;
    }
    FZ_ASSERT(keys == 0, "%s: body has other fields than the request", op->name);
    return 0;
}

static int nothing(lua_State *L)
{
    (void)L;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lua_State *L = fz_lua();
    fz_in in = {data, size};
    unsigned sel = fz_u8(&in), i;
    size_t n;
    const char *json;
    int top = lua_gettop(L), req;
    if (fake.host == NULL) {
        fake.host = (char *)HOST;
        fake.closed = 0;
    }
    json = fz_rest(&in, &n);
    if (!((sel & 8) ? dbw_json_decode(L, json, n) : fz_cjson_decode(L, json, n))) {
        fz_done(L, top);
        return 0;
    }
    if (lua_type(L, -1) != LUA_TTABLE) {
        lua_settop(L, top);
        fz_done(L, top);
        return 0;
    }
    req = lua_gettop(L);
    fz_shape_feature(L, req);
    if (sel & 16) {
        lua_pushcfunction(L, nothing); /* a value JSON cannot express */
        lua_setfield(L, req, "description");
    }
    if (sel & 32) {
        lua_pushboolean(L, 1); /* a key that is not a string */
        lua_pushliteral(L, "x");
        lua_rawset(L, req);
    }
    /* the chosen operation first, then the others on the same table */
    for (i = 0; i < 11; i++) {
        /* the five Databricks rows, then the six MLflow ones */
        unsigned k = (sel + (unsigned)i) % 11;
        const dbw_op *op = k < 5 ? &dbw_families[0].ops[k] : &dbw_families[1].ops[k - 5];
        lua_pushcfunction(L, check_one);
        lua_pushlightuserdata(L, (void *)op);
        lua_pushvalue(L, req);
        FZ_ASSERT(lua_pcall(L, 2, 0, 0) == LUA_OK, "%s: raised: %s", op->name, lua_tostring(L, -1));
    }
    lua_settop(L, top);
    fz_done(L, top);
    return 0;
}
