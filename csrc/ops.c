#include "ops.h"

#include <stdio.h>
#include <string.h>

#include "json.h"
#include "urlenc.h"

#define BASE "/api/2.0/mlflow/registry-webhooks/"

const dbw_op dbw_op_create = {"create", "POST", BASE "create", 0, 0, DBW_SHAPE_WEBHOOK, &dbw_schema_create};
const dbw_op dbw_op_list = {"list", "GET", BASE "list", 1, 1, DBW_SHAPE_LIST, &dbw_schema_list};
const dbw_op dbw_op_update = {"update", "PATCH", BASE "update", 0, 0, DBW_SHAPE_UPDATE, &dbw_schema_update};
const dbw_op dbw_op_delete = {"delete", "DELETE", BASE "delete", 1, 0, DBW_SHAPE_DELETE, &dbw_schema_delete};
const dbw_op dbw_op_test = {"test", "POST", BASE "test", 0, 0, DBW_SHAPE_TEST, &dbw_schema_test};

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

int dbw_op_build(lua_State *L, dbw_client *c, const dbw_op *op, int reqidx)
{
    id_to_string(L, reqidx);
    dbw_buf_reset(&c->url);
    if (dbw_buf_puts(&c->url, c->host) != 0 || dbw_buf_puts(&c->url, op->path) != 0)
        goto oom;
    if (op->in_query) {
        /* Schema order is alphabetical, as the SDKs emit their queries. */
        const dbw_field *f;
        int first = 1;
        for (f = op->schema->fields; f->name != NULL; f++) {
            int rc = 0;
            lua_getfield(L, reqidx, f->name);
            if (!lua_isnil(L, -1))
                rc = dbw_query_append(L, &c->url, f->name, lua_gettop(L), &first);
            lua_pop(L, 1);
            if (rc != 0)
                goto oom;
        }
        return 0;
    }
    if (!dbw_json_encode(L, reqidx)) {
        dbw_buf_reset(&c->msg);
        dbw_buf_printf(&c->msg, "%s: request cannot be encoded as JSON: %s", op->name, lua_tostring(L, -1));
        lua_pop(L, 1);
        return -1;
    }
    return 1;
oom:
    dbw_buf_reset(&c->msg);
    dbw_buf_puts(&c->msg, "out of memory building the request");
    return -1;
}
