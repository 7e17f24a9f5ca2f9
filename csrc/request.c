#include "request.h"

#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "json.h"
#include "urlenc.h"

#define REQ_MT "databricks.webhooks.Request"

typedef struct req_block {
    size_t n;
    dbw_req reqs[1]; /* n of them */
} req_block;

static int block_gc(lua_State *L)
{
    req_block *b = lua_touserdata(L, 1);
    size_t i;
    for (i = 0; i < b->n; i++)
        dbw_req_free(&b->reqs[i]);
    return 0;
}

dbw_req *dbw_req_push_array(lua_State *L, size_t n)
{
    size_t count = n ? n : 1;
    req_block *b = lua_newuserdata(L, sizeof *b + (count - 1) * sizeof(dbw_req));
    memset(b, 0, sizeof *b + (count - 1) * sizeof(dbw_req));
    b->n = count;
    if (luaL_newmetatable(L, REQ_MT)) {
        lua_pushcfunction(L, block_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    return b->reqs;
}

dbw_req *dbw_req_push(lua_State *L)
{
    return dbw_req_push_array(L, 1);
}

void dbw_req_free(dbw_req *r)
{
    dbw_buf_free(&r->body); /* wipes first */
    dbw_buf_free(&r->url);
    dbw_buf_free(&r->msg);
    free(r->owned);
    free(r->update_id);
    memset(r, 0, sizeof *r);
}

static int fail(dbw_req *r, const char *msg)
{
    dbw_buf_reset(&r->msg);
    dbw_buf_puts(&r->msg, msg);
    return -1;
}

int dbw_req_prepare_op(lua_State *L, const dbw_client *c, const dbw_op *op, int reqidx, dbw_req *r)
{
    r->method = op->method;
    r->path = op->path;
    r->replay_safe = op->replay_safe;
    r->shape = op->shape;
    if (dbw_schema_check(L, reqidx, op->schema, op->name, &r->msg) != 0)
        return -1;
    if (dbw_op_build(L, c->host, op, reqidx, r) != 0)
        return -1;
    if (op->shape == DBW_SHAPE_UPDATE) {
        size_t n;
        const char *id;
        lua_getfield(L, reqidx, "id"); /* a non-empty string: the schema said so */
        id = lua_tolstring(L, -1, &n);
        if (id != NULL && (r->update_id = malloc(n + 1)) != NULL)
            memcpy(r->update_id, id, n + 1);
        lua_pop(L, 1);
        if (r->update_id == NULL)
            return fail(r, "out of memory building the request");
    }
    return 0;
}

static int valid_method(const char *m)
{
    static const char *const ok[] = {"GET", "POST", "PUT", "PATCH", "DELETE", NULL};
    int i;
    for (i = 0; ok[i]; i++)
        if (strcmp(ok[i], m) == 0)
            return 1;
    return 0;
}

/* client:request's method and path, copied so the request owns them. */
static int own_method_path(dbw_req *r, const char *method, const char *path)
{
    size_t ml = strlen(method), pl = strlen(path);
    r->owned = malloc(ml + pl + 2);
    if (r->owned == NULL)
        return -1;
    memcpy(r->owned, method, ml + 1);
    memcpy(r->owned + ml + 1, path, pl + 1);
    r->method = r->owned;
    r->path = r->owned + ml + 1;
    return 0;
}

int dbw_req_prepare_raw(lua_State *L, const dbw_client *c, int first, dbw_req *r)
{
    const char *method = luaL_checkstring(L, first);
    const char *path = luaL_checkstring(L, first + 1);
    int body = first + 2, query = first + 3, qfirst = 1;
    size_t i;

    if (!lua_isnoneornil(L, body))
        luaL_checktype(L, body, LUA_TTABLE);
    if (!lua_isnoneornil(L, query))
        luaL_checktype(L, query, LUA_TTABLE);
    r->shape = DBW_SHAPE_ANY;
    /* until copied, these point at the arguments, alive while the error is pushed */
    r->method = method;
    r->path = path;
    if (!valid_method(method))
        return fail(r, "request: method must be GET, POST, PUT, PATCH or DELETE");
    r->path = "?"; /* not printable, or not a path */
    for (i = 0; path[i]; i++)
        if ((unsigned char)path[i] <= ' ' || path[i] == 0x7f || path[i] == '?' || path[i] == '#')
            return fail(r, "request: path must not contain spaces, control characters, '?' or '#'");
    if (path[0] != '/' || strlen(path) != dbw_rawlen(L, first + 1))
        return fail(r, "request: path must start with '/'");
    if (own_method_path(r, method, path) != 0)
        return fail(r, "out of memory building the request");
    r->replay_safe = strcmp(r->method, "GET") == 0;

    if (dbw_buf_puts(&r->url, c->host) != 0 || dbw_buf_puts(&r->url, r->path) != 0)
        return fail(r, "out of memory building the request");
    if (!lua_isnoneornil(L, query)) {
        lua_pushnil(L);
        while (lua_next(L, query) != 0) {
            if (lua_type(L, -2) != LUA_TSTRING ||
                dbw_query_append(L, &r->url, lua_tostring(L, -2), lua_gettop(L), &qfirst) != 0) {
                lua_pop(L, 2);
                return fail(r, "request: query keys must be strings and values strings, finite numbers, "
                               "booleans or arrays of them");
            }
            lua_pop(L, 1);
        }
    }
    if (!lua_isnoneornil(L, body)) {
        int rc = dbw_json_encode_into(L, body, &r->body);
        r->has_body = 1;
        if (rc == DBW_JSON_BAD) {
            fail(r, lua_isstring(L, -1) ? lua_tostring(L, -1) : "request: body cannot be encoded as JSON");
            lua_pop(L, 1);
            return -1;
        }
        if (rc != DBW_JSON_OK)
            return fail(r, "out of memory building the request");
    }
    return 0;
}

int dbw_req_push_invalid(lua_State *L, const dbw_req *r)
{
    lua_pushnil(L);
    dbw_error_push_local(L, DBW_E_INVALID, r->msg.data ? r->msg.data : "invalid request", r->method, r->path);
    return 2;
}
