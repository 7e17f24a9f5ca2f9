#include "call.h"

#include <stdio.h>
#include <string.h>

#include "errors.h"
#include "exchange.h"
#include "http.h"
#include "json.h"
#include "response.h"
#include "retry.h"
#include "urlenc.h"

/* One line per attempt. Paths carry no secrets; headers are never logged. */
static void log_attempt(lua_State *L, dbw_client *c, const dbw_request *rq, const dbw_response *rs, int attempt)
{
    char line[512];
    if (!c->debug_stderr && c->debug_ref == LUA_NOREF)
        return;
    if (rs->net == DBW_NET_OK)
        snprintf(line, sizeof line, "databricks.webhooks: %s %s -> %ld, %zu bytes, %.1f ms, attempt %d%s%s",
                 rq->method, rq->path, rs->status, rs->body_len, rs->elapsed_ms, attempt,
                 rs->request_id ? ", request-id " : "", rs->request_id ? rs->request_id : "");
    else
        snprintf(line, sizeof line, "databricks.webhooks: %s %s -> failed (%s), %.1f ms, attempt %d", rq->method,
                 rq->path, rs->net_msg ? rs->net_msg : "network error", rs->elapsed_ms, attempt);
    if (c->debug_stderr) {
        fprintf(stderr, "%s\n", line);
        return;
    }
    /* Runs inside the protected call of core.c: an error here unwinds no
     * libcurl frame and leaves the client consistent. */
    lua_rawgeti(L, LUA_REGISTRYINDEX, c->debug_ref);
    lua_pushstring(L, line);
    lua_call(L, 1, 0);
}

static dbw_net net_kind(const char *s)
{
    if (s == NULL)
        return DBW_NET_CONNECTION;
    if (strcmp(s, "timeout") == 0)
        return DBW_NET_TIMEOUT;
    if (strcmp(s, "tls") == 0)
        return DBW_NET_TLS;
    if (strcmp(s, "connect") == 0)
        return DBW_NET_CONNECT;
    return DBW_NET_CONNECTION;
}

/* The user's transport: transport(req) -> {status, headers, body} | nil, kind, msg.
 * Its answer stays at stack slot `slot` so the body string outlives its use. */
static void lua_transport(lua_State *L, dbw_client *c, const dbw_request *rq, dbw_response *rs, int slot)
{
    int i, top = lua_gettop(L);
    double t0 = dbw_now();
    memset(rs, 0, sizeof *rs);
    rs->retry_after = -1;
    lua_rawgeti(L, LUA_REGISTRYINDEX, c->transport_ref);
    lua_createtable(L, 0, 6);
    lua_pushstring(L, rq->method);
    lua_setfield(L, -2, "method");
    lua_pushstring(L, rq->url);
    lua_setfield(L, -2, "url");
    if (rq->body) {
        lua_pushlstring(L, rq->body, rq->body_len);
        lua_setfield(L, -2, "body");
    }
    lua_createtable(L, 0, rq->nheaders + 1);
    for (i = 0; i < rq->nheaders; i++) {
        const char *h = rq->headers[i], *colon = strchr(h, ':');
        if (colon == NULL || colon[1] == '\0')
            continue; /* "Expect:" and the like only steer libcurl */
        lua_pushlstring(L, h, (size_t)(colon - h));
        lua_pushstring(L, colon + 2);
        lua_rawset(L, -3);
    }
    lua_pushstring(L, c->user_agent);
    lua_setfield(L, -2, "User-Agent");
    lua_setfield(L, -2, "headers");
    lua_pushnumber(L, c->timeout);
    lua_setfield(L, -2, "timeout");
    lua_pushnumber(L, c->connect_timeout);
    lua_setfield(L, -2, "connect_timeout");
    lua_call(L, 1, 3);
    rs->elapsed_ms = (dbw_now() - t0) * 1000.0;
    if (lua_type(L, top + 1) != LUA_TTABLE) {
        rs->net = net_kind(lua_tostring(L, top + 2));
        lua_pushfstring(L, "transport: %s", lua_isstring(L, top + 3) ? lua_tostring(L, top + 3) : "failed");
        lua_replace(L, slot);
        rs->net_msg = lua_tostring(L, slot);
        lua_settop(L, top);
        return;
    }
    lua_settop(L, top + 1);
    lua_replace(L, slot);
    lua_getfield(L, slot, "status");
    rs->status = (long)lua_tonumber(L, -1);
    lua_getfield(L, slot, "body");
    rs->body = lua_isstring(L, -1) ? lua_tolstring(L, -1, &rs->body_len) : "";
    lua_getfield(L, slot, "headers");
    if (lua_type(L, -1) == LUA_TTABLE) {
        lua_getfield(L, -1, "retry-after");
        if (lua_isstring(L, -1))
            rs->retry_after = dbw_retry_after_parse(lua_tostring(L, -1), dbw_epoch_now());
        lua_getfield(L, -2, "x-request-id");
        rs->request_id = lua_isstring(L, -1) ? lua_tostring(L, -1) : NULL;
        lua_getfield(L, -3, "location");
        rs->location = lua_isstring(L, -1) ? lua_tostring(L, -1) : NULL;
    }
    /* The strings above are anchored by the table in `slot` (body) or copied
     * now into the client (headers), before the stack is trimmed. */
    if (rs->request_id) {
        snprintf(c->request_id, sizeof c->request_id, "%s", rs->request_id);
        rs->request_id = c->request_id;
    }
    if (rs->location) {
        snprintf(c->location, sizeof c->location, "%s", rs->location);
        rs->location = c->location;
    }
    lua_settop(L, top);
    if (rs->status < 100 || rs->status > 999) {
        rs->net = DBW_NET_CONNECTION;
        rs->net_msg = "transport returned no valid HTTP status";
    }
}

/* Drives the exchange to the end; pushes what the method returns. */
static int drive(lua_State *L, dbw_client *c, dbw_exchange *ex, dbw_shape shape, int reqidx)
{
    dbw_request rq;
    dbw_response rs;
    double delay;
    int slot, have = 0, attempt = 0;
    dbw_ex_action act;

    lua_pushnil(L); /* anchors a Lua transport's answer */
    slot = lua_gettop(L);
    for (;;) {
        act = dbw_exchange_step(L, c, ex, have ? &rs : NULL, &rq, &delay);
        if (act == DBW_EX_DONE)
            break;
        if (act == DBW_EX_SLEEP) {
            dbw_sleep(delay);
            have = 0;
            continue;
        }
        if (c->transport_ref != LUA_NOREF)
            lua_transport(L, c, &rq, &rs, slot);
        else
            dbw_http_perform(c, &rq, &rs);
        have = 1;
        if (ex->sent == DBW_SENT_API)
            attempt = ex->attempts;
        log_attempt(L, c, &rq, &rs, ex->sent == DBW_SENT_API ? attempt : 1);
    }
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
    return dbw_response_push(L, c, shape, ex, &rs, reqidx);
}

static int push_invalid(lua_State *L, const char *msg, const char *method, const char *path)
{
    lua_pushnil(L);
    dbw_error_push_local(L, DBW_E_INVALID, msg, method, path);
    return 2;
}

int dbw_call_op(lua_State *L, dbw_client *c, const dbw_op *op, int reqidx)
{
    dbw_exchange ex;
    const char *body = NULL;
    size_t body_len = 0;
    int rc;

    if (dbw_schema_check(L, reqidx, op->schema, op->name, &c->msg) != 0)
        return push_invalid(L, c->msg.data, op->method, op->path);
    rc = dbw_op_build(L, c, op, reqidx);
    if (rc < 0)
        return push_invalid(L, c->msg.data, op->method, op->path);
    if (rc == 1)
        body = lua_tolstring(L, -1, &body_len); /* anchored on the stack for the whole call */
    dbw_exchange_begin(&ex, c, op->method, op->path, c->url.data, body, body_len, op->replay_safe);
    return drive(L, c, &ex, op->shape, reqidx);
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

int dbw_call_raw(lua_State *L, dbw_client *c)
{
    dbw_exchange ex;
    const char *method = luaL_checkstring(L, 2);
    const char *path = luaL_checkstring(L, 3);
    const char *body = NULL;
    size_t body_len = 0, i;
    int first = 1;

    if (!lua_isnoneornil(L, 4))
        luaL_checktype(L, 4, LUA_TTABLE);
    if (!lua_isnoneornil(L, 5))
        luaL_checktype(L, 5, LUA_TTABLE);
    lua_settop(L, 5);
    if (!valid_method(method))
        return push_invalid(L, "request: method must be GET, POST, PUT, PATCH or DELETE", method, path);
    for (i = 0; path[i]; i++)
        if ((unsigned char)path[i] <= ' ' || path[i] == '?' || path[i] == '#')
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
                return push_invalid(L, "request: query keys must be strings and values strings, numbers, "
                                       "booleans or arrays of them", method, path);
            }
            lua_pop(L, 1);
        }
    }
    if (!lua_isnil(L, 4)) {
        if (!dbw_json_encode(L, 4))
            return push_invalid(L, lua_tostring(L, -1), method, path);
        body = lua_tolstring(L, -1, &body_len);
    }
    dbw_exchange_begin(&ex, c, method, path, c->url.data, body, body_len, strcmp(method, "GET") == 0);
    return drive(L, c, &ex, DBW_SHAPE_ANY, 0);
}
