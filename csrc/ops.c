#include "ops.h"

#include <string.h>

#include "json.h"
#include "urlenc.h"

#define BASE "/api/2.0/mlflow/registry-webhooks/"

const dbw_op dbw_op_create = {"create", "POST", BASE "create", 0, 0, DBW_SHAPE_WEBHOOK, &dbw_schema_create};
const dbw_op dbw_op_list = {"list", "GET", BASE "list", 1, 1, DBW_SHAPE_LIST, &dbw_schema_list};
const dbw_op dbw_op_update = {"update", "PATCH", BASE "update", 0, 0, DBW_SHAPE_UPDATE, &dbw_schema_update};
const dbw_op dbw_op_delete = {"delete", "DELETE", BASE "delete", 1, 0, DBW_SHAPE_DELETE, &dbw_schema_delete};
const dbw_op dbw_op_test = {"test", "POST", BASE "test", 0, 0, DBW_SHAPE_TEST, &dbw_schema_test};

int dbw_op_build(lua_State *L, dbw_client *c, const dbw_op *op, int reqidx)
{
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
