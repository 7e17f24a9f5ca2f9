#include "call.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "driver.h"
#include "errors.h"
#include "json.h"
#include "result.h"
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
    dbw_client_debug(L, c, line);
}

/* A host written without a scheme got https:// (config.lua); a TLS failure
 * then most likely means a plain-HTTP server: say so in the error at the top. */
static void hint_assumed_https(lua_State *L, const dbw_client *c)
{
    if (!c->host_assumed_https || lua_type(L, -1) != LUA_TTABLE)
        return;
    lua_getfield(L, -1, "error_code");
    if (lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), DBW_E_TLS) == 0) {
        lua_getfield(L, -2, "message");
        lua_pushfstring(L,
                        "%s (the host was given without a scheme, so https:// was assumed; write http:// "
                        "for a plain-HTTP server)",
                        lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "");
        lua_setfield(L, -4, "message");
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
}

static int finish(lua_State *L, dbw_client *c, const dbw_exchange *ex, const dbw_response *rs, dbw_req *r)
{
    if (ex->err_code) {
        dbw_error e;
        memset(&e, 0, sizeof e);
        e.code = ex->err_code;
        e.message = c->msg.data ? c->msg.data : ""; /* the token source's reason */
        e.status = ex->err_status;
        e.retry_after = -1;
        e.method = ex->method;
        e.path = ex->path;
        lua_pushnil(L);
        dbw_error_push(L, &e);
        return 2;
    }
    return dbw_result_push(L, c, r, ex, rs);
}

/* The error at the top of the stack gets attempts, elapsed and retry_timeout
 * when API attempts were made. Its message names them when nothing answered
 * at all, or a retry was made or was due within a budget: a dead host never
 * fails without saying how hard it was tried. */
static void add_attempts(lua_State *L, const dbw_exchange *ex, const dbw_response *rs)
{
    char summary[256];
    const char *msg = "";
    size_t len = 0;
    luaL_Buffer b;
    double now = dbw_now();
    if (ex->attempts <= 0 || ex->err_code || rs == NULL || lua_type(L, -1) != LUA_TTABLE)
        return;
    lua_pushinteger(L, ex->attempts);
    lua_setfield(L, -2, "attempts");
    dbw_pushnumber(L, now - ex->started);
    lua_setfield(L, -2, "elapsed");
    dbw_pushnumber(L, ex->budget);
    lua_setfield(L, -2, "retry_timeout");
    /* one answer, final or with retries off by choice: the server's words alone */
    if (ex->attempts < 2 && rs->net == DBW_NET_OK && (ex->stop == DBW_STOP_FINAL || ex->budget <= 0))
        return;
    dbw_exchange_summary(ex, rs, now, summary, sizeof summary);
    lua_getfield(L, -1, "message");
    if (lua_type(L, -1) == LUA_TSTRING)
        msg = lua_tolstring(L, -1, &len);
    luaL_buffinit(L, &b);
    luaL_addlstring(&b, msg, len);
    luaL_addstring(&b, " (");
    luaL_addstring(&b, summary);
    luaL_addchar(&b, ')');
    luaL_pushresult(&b);
    lua_setfield(L, -3, "message");
    lua_pop(L, 1);
}

/* A 401 or 403 names where the credential came from: a rejected token is
 * most often the wrong variable or profile, not the wrong token. */
static void hint_credentials(lua_State *L, const dbw_client *c)
{
    long status;
    if (c->cred_source[0] == '\0' || lua_type(L, -1) != LUA_TTABLE)
        return;
    lua_getfield(L, -1, "status");
    status = (long)lua_tointeger(L, -1);
    lua_pop(L, 1);
    if (status != 401 && status != 403)
        return;
    lua_getfield(L, -1, "message");
    lua_pushfstring(L, "%s (%s credentials: %s)", lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "",
                    c->auth_name, c->cred_source);
    lua_setfield(L, -3, "message");
    lua_pop(L, 1);
}

int dbw_call_finish(lua_State *L, dbw_client *c, const dbw_exchange *ex, const dbw_response *rs, dbw_req *r)
{
    int n = finish(L, c, ex, rs, r);
    if (n == 2) {
        hint_assumed_https(L, c);
        hint_credentials(L, c);
        add_attempts(L, ex, rs);
    }
    return n;
}

/* What a drive of one leaves on the stack: the method's values. */
static void keep_values(lua_State *L, void *ud, size_t i, int nret)
{
    (void)L;
    (void)i;
    *(int *)ud = nret;
}

/* Drives the exchange of r to the end: a drive of one on the client's own
 * handle. Pushes what the method returns; r is freed (its body wiped) at once. */
static int drive(lua_State *L, dbw_client *c, dbw_req *r)
{
    dbw_item it;
    dbw_conn *k = &c->conn;
    int nret = 0;
    memset(&it, 0, sizeof it);
    it.req = r;
    it.state = DBW_ITEM_READY;
    dbw_exchange_begin(&it.ex, c, r);
    dbw_drive(L, c, &it, 1, &k, 1, keep_values, &nret);
    return nret;
}

int dbw_call_op(lua_State *L, dbw_client *c, const dbw_op *op, int reqidx)
{
    dbw_req *r = dbw_req_push(L);
    if (dbw_req_prepare_op(L, c, op, reqidx, r) != 0)
        return dbw_req_push_invalid(L, r);
    return drive(L, c, r);
}

int dbw_call_raw(lua_State *L, dbw_client *c)
{
    dbw_req *r;
    lua_settop(L, 5);
    r = dbw_req_push(L);
    if (dbw_req_prepare_raw(L, c, 2, r) != 0)
        return dbw_req_push_invalid(L, r);
    return drive(L, c, r);
}
