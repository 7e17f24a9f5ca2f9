#include "call.h"

#include <stdio.h>
#include <string.h>

#include "errors.h"
#include "http.h"
#include "json.h"
#include "response.h"
#include "retry.h"
#include "urlenc.h"

/* One line per attempt. Paths carry no secrets; headers are never logged. */
void dbw_call_log(lua_State *L, dbw_client *c, const char *method, const char *path, const dbw_response *rs,
                  int attempt)
{
    char line[512];
    if (!c->debug_stderr && c->debug_ref == LUA_NOREF)
        return;
    if (rs->net == DBW_NET_OK)
        snprintf(line, sizeof line, "databricks.webhooks: %s %s -> %ld, %zu bytes, %.1f ms, attempt %d%s%s",
                 method, path, rs->status, rs->body_len, rs->elapsed_ms, attempt,
                 rs->request_id ? ", request-id " : "", rs->request_id ? rs->request_id : "");
    else
        snprintf(line, sizeof line, "databricks.webhooks: %s %s -> failed (%s), %.1f ms, attempt %d", method,
                 path, rs->net_msg ? rs->net_msg : "network error", rs->elapsed_ms, attempt);
    if (c->debug_stderr) {
        fprintf(stderr, "%s\n", line);
        return;
    }
    /* Runs inside a protected call (core.c's run, stepper.c's step): an
     * error here unwinds no libcurl frame and leaves the client consistent. */
    lua_rawgeti(L, LUA_REGISTRYINDEX, c->debug_ref);
    lua_pushstring(L, line);
    lua_call(L, 1, 0);
}

int dbw_call_finish(lua_State *L, dbw_client *c, const dbw_exchange *ex, const dbw_response *rs,
                    dbw_shape shape, int reqidx)
{
    if (ex->err_code) {
        dbw_error e;
        memset(&e, 0, sizeof e);
        e.code = ex->err_code;
        e.message = c->msg.data ? c->msg.data : "";
        e.status = ex->err_status;
        e.retry_after = -1;
        e.method = ex->method;
        e.path = ex->path;
        lua_pushnil(L);
        dbw_error_push(L, &e);
        return 2;
    }
    return dbw_response_push(L, c, shape, ex, rs, reqidx);
}

/* Drives the exchange to the end over libcurl; pushes what the method returns. */
static int drive(lua_State *L, dbw_client *c, dbw_exchange *ex, dbw_shape shape, int reqidx)
{
    dbw_request rq;
    dbw_response rs;
    double delay;
    int have = 0;
    dbw_ex_action act;

    memset(&rs, 0, sizeof rs);
    for (;;) {
        act = dbw_exchange_step(L, c, ex, have ? &rs : NULL, &rq, &delay);
        if (act == DBW_EX_DONE)
            break;
        if (act == DBW_EX_SLEEP) {
            dbw_sleep(delay);
            have = 0;
            continue;
        }
        dbw_http_perform(c, &rq, &rs);
        have = 1;
        dbw_call_log(L, c, rq.method, rq.path, &rs, ex->sent == DBW_SENT_API ? ex->attempts : 1);
    }
    return dbw_call_finish(L, c, ex, &rs, shape, reqidx);
}

static int push_invalid(lua_State *L, const char *msg, const char *method, const char *path)
{
    lua_pushnil(L);
    dbw_error_push_local(L, DBW_E_INVALID, msg, method, path);
    return 2;
}

int dbw_call_prepare_op(lua_State *L, dbw_client *c, const dbw_op *op, int reqidx, dbw_prepared *p)
{
    int rc;
    memset(p, 0, sizeof *p);
    if (dbw_schema_check(L, reqidx, op->schema, op->name, &c->msg) != 0)
        return push_invalid(L, c->msg.data, op->method, op->path);
    rc = dbw_op_build(L, c, op, reqidx);
    if (rc < 0)
        return push_invalid(L, c->msg.data, op->method, op->path);
    if (rc == 1)
        p->body = lua_tolstring(L, -1, &p->body_len); /* anchored on the stack for the whole call */
    p->method = op->method;
    p->path = op->path;
    p->url = c->url.data;
    p->url_len = c->url.len;
    p->replay_safe = op->replay_safe;
    p->shape = op->shape;
    return 0;
}

int dbw_call_op(lua_State *L, dbw_client *c, const dbw_op *op, int reqidx)
{
    dbw_exchange ex;
    dbw_prepared p;
    int n = dbw_call_prepare_op(L, c, op, reqidx, &p);
    if (n)
        return n;
    dbw_exchange_begin(&ex, c, p.method, p.path, p.url, p.body, p.body_len, p.replay_safe);
    return drive(L, c, &ex, p.shape, reqidx);
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

int dbw_call_prepare_raw(lua_State *L, dbw_client *c, dbw_prepared *p)
{
    const char *method = luaL_checkstring(L, 2);
    const char *path = luaL_checkstring(L, 3);
    size_t i;
    int first = 1;

    memset(p, 0, sizeof *p);
    if (!lua_isnoneornil(L, 4))
        luaL_checktype(L, 4, LUA_TTABLE);
    if (!lua_isnoneornil(L, 5))
        luaL_checktype(L, 5, LUA_TTABLE);
    lua_settop(L, 5);
    if (!valid_method(method))
        return push_invalid(L, "request: method must be GET, POST, PUT, PATCH or DELETE", method, path);
    for (i = 0; path[i]; i++)
        if ((unsigned char)path[i] <= ' ' || path[i] == 0x7f || path[i] == '?' || path[i] == '#')
            return push_invalid(L, "request: path must not contain spaces, control characters, '?' or '#'",
                                method, "?");
    if (path[0] != '/' || strlen(path) != dbw_rawlen(L, 3))
        return push_invalid(L, "request: path must start with '/'", method, "?");

    dbw_buf_reset(&c->url);
    dbw_buf_puts(&c->url, c->host);
    dbw_buf_puts(&c->url, path);
    if (!lua_isnil(L, 5)) {
        lua_pushnil(L);
        while (lua_next(L, 5) != 0) {
            if (lua_type(L, -2) != LUA_TSTRING ||
                dbw_query_append(L, &c->url, lua_tostring(L, -2), lua_gettop(L), &first) != 0) {
                lua_pop(L, 2);
                return push_invalid(L,
                                    "request: query keys must be strings and values strings, finite "
                                    "numbers, booleans or arrays of them",
                                    method, path);
            }
            lua_pop(L, 1);
        }
    }
    if (!lua_isnil(L, 4)) {
        if (!dbw_json_encode(L, 4))
            return push_invalid(L, lua_tostring(L, -1), method, path);
        p->body = lua_tolstring(L, -1, &p->body_len);
    }
    p->method = method;
    p->path = path;
    p->url = c->url.data;
    p->url_len = c->url.len;
    p->replay_safe = strcmp(method, "GET") == 0;
    p->shape = DBW_SHAPE_ANY;
    return 0;
}

int dbw_call_raw(lua_State *L, dbw_client *c)
{
    dbw_exchange ex;
    dbw_prepared p;
    int n = dbw_call_prepare_raw(L, c, &p);
    if (n)
        return n;
    dbw_exchange_begin(&ex, c, p.method, p.path, p.url, p.body, p.body_len, p.replay_safe);
    return drive(L, c, &ex, DBW_SHAPE_ANY, 0);
}
