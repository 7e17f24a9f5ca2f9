#include "ops.h"

#include <stdio.h>
#include <string.h>

#include "errors.h"
#include "json.h"
#include "request.h"
#include "urlenc.h"

#define BASE "/api/2.0/mlflow/registry-webhooks/"

/* name, method, path, in_query, replay_safe, id_positional, optional_req, in_bulk, shape, schema */
const dbw_op dbw_ops[] = {
    {"create", "POST", BASE "create", 0, 0, 0, 0, 1, DBW_SHAPE_WEBHOOK, &dbw_schema_create},
    {"list", "GET", BASE "list", 1, 1, 0, 1, 0, DBW_SHAPE_LIST, &dbw_schema_list},
    {"update", "PATCH", BASE "update", 0, 0, 0, 0, 1, DBW_SHAPE_UPDATE, &dbw_schema_update},
    {"delete", "DELETE", BASE "delete", 1, 0, 1, 0, 1, DBW_SHAPE_DELETE, &dbw_schema_delete},
    {"test", "POST", BASE "test", 0, 0, 1, 0, 1, DBW_SHAPE_TEST, &dbw_schema_test},
    {NULL, NULL, NULL, 0, 0, 0, 0, 0, DBW_SHAPE_ANY, NULL},
};

const dbw_op *dbw_op_find(const char *name)
{
    const dbw_op *op;
    for (op = dbw_ops; op->name != NULL; op++)
        if (strcmp(op->name, name) == 0)
            return op;
    return NULL;
}

void dbw_op_push_table(lua_State *L)
{
    const dbw_op *op;
    lua_newtable(L);
    for (op = dbw_ops; op->name != NULL; op++) {
        lua_createtable(L, 0, 5);
        lua_pushboolean(L, op->id_positional);
        lua_setfield(L, -2, "id_positional");
        lua_pushboolean(L, op->optional_req);
        lua_setfield(L, -2, "optional_request");
        lua_pushboolean(L, op->in_bulk);
        lua_setfield(L, -2, "bulk");
        lua_pushstring(L, op->method);
        lua_setfield(L, -2, "method");
        lua_pushstring(L, op->path);
        lua_setfield(L, -2, "path");
        lua_setfield(L, -2, op->name);
    }
}

/* A numeric id goes out as its digits ("124323"), as the API's ids are
 * strings: the request is replaced by a shallow copy holding the string, so
 * the caller's table is left as it was. */
static void id_to_string(lua_State *L, int reqidx)
{
    char digits[32];
    lua_getfield(L, reqidx, "id");
    if (lua_type(L, -1) != LUA_TNUMBER) {
        lua_pop(L, 1);
        return;
    }
#if LUA_VERSION_NUM >= 503
    if (lua_isinteger(L, -1))
        snprintf(digits, sizeof digits, "%lld", (long long)lua_tointeger(L, -1));
    else
#endif
        snprintf(digits, sizeof digits, "%.0f", (double)lua_tonumber(L, -1)); /* integral, within 2^53 */
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushnil(L);
    while (lua_next(L, reqidx) != 0) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, -4);
    }
    lua_pushstring(L, digits);
    lua_setfield(L, -2, "id");
    lua_replace(L, reqidx);
}

int dbw_op_build(lua_State *L, const char *host, const dbw_op *op, int reqidx, dbw_req *r)
{
    size_t n;
    const char *s;
    int ok;
    id_to_string(L, reqidx);
    dbw_buf_reset(&r->url);
    if (dbw_buf_puts(&r->url, host) != 0 || dbw_buf_puts(&r->url, op->path) != 0)
        goto oom;
    if (op->in_query) {
        /* Schema order is alphabetical, as the SDKs emit their queries. */
        const dbw_field *f;
        int first = 1;
        for (f = op->schema->fields; f->name != NULL; f++) {
            int rc = 0;
            lua_getfield(L, reqidx, f->name);
            if (!lua_isnil(L, -1))
                rc = dbw_query_append(L, &r->url, f->name, lua_gettop(L), &first);
            lua_pop(L, 1);
            if (rc != 0)
                goto oom;
        }
        return 0;
    }
    ok = dbw_json_encode(L, reqidx);
    s = lua_tolstring(L, -1, &n);
    if (!ok) {
        dbw_buf_reset(&r->msg);
        dbw_buf_printf(&r->msg, "%s: request cannot be encoded as JSON: %s", op->name, s ? s : "?");
        lua_pop(L, 1);
        return -1;
    }
    dbw_buf_reset(&r->body);
    ok = dbw_buf_append(&r->body, s, n) == 0;
    lua_pop(L, 1);
    r->has_body = 1;
    if (ok)
        return 0;
oom:
    dbw_buf_reset(&r->msg);
    dbw_buf_puts(&r->msg, "out of memory building the request");
    return -1;
}

/* The message buffer of dbw_op_validate lives in a userdata, so that a Lua
 * error raised while the table is read still frees it (on collection). */
#define VALIDATE_BUF_MT "databricks.webhooks.validate_buf"

static int validate_buf_gc(lua_State *L)
{
    dbw_buf_free(lua_touserdata(L, 1));
    return 0;
}

static dbw_buf *push_validate_buf(lua_State *L)
{
    dbw_buf *b = lua_newuserdata(L, sizeof *b);
    memset(b, 0, sizeof *b);
    if (luaL_newmetatable(L, VALIDATE_BUF_MT)) {
        lua_pushcfunction(L, validate_buf_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    return b;
}

int dbw_op_validate(lua_State *L)
{
    const dbw_op *op = dbw_op_find(luaL_checkstring(L, 1));
    dbw_buf *msg;
    if (op == NULL)
        return luaL_argerror(L, 1, "operation name expected");
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    msg = push_validate_buf(L);
    if (dbw_schema_check(L, 2, op->schema, op->name, msg) == 0) {
        lua_pushboolean(L, 1);
        return 1;
    }
    lua_pushnil(L);
    dbw_error_push_local(L, DBW_E_INVALID, msg->data ? msg->data : op->name, op->method, op->path);
    dbw_buf_free(msg);
    return 2;
}
