#include "stepper.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "call.h"
#include "clock.h"
#include "exchange.h"
#include "request.h"
#include "retry.h"
#include "transport.h"

typedef enum {
    ST_IDLE, /* nothing outstanding: the next step sends (start, after a sleep) */
    ST_SENT, /* a request was handed out: the next step takes its answer */
    ST_DONE  /* the result was returned; further steps are misuse */
} dbw_step_state;

typedef struct dbw_stepper {
    dbw_exchange ex;    /* points into req, never into the client */
    dbw_req req;        /* owned (request.h) */
    dbw_client *client; /* kept alive by client_ref */
    int client_ref;
    dbw_step_state state;
    const char *last_method; /* of the request handed out last, for the debug line: */
    const char *last_path;   /* static strings, req's, or the token source's */
    double sent_at;
    char request_id[96]; /* of the last response: rs points here, not at the transport's */
    char location[256];
} dbw_stepper;

/* ---- lifetime ------------------------------------------------------------- */

/* Whether s's exchange has a token request out: the answer every other
 * exchange of the client waits for (single flight, auth.h). */
static int holds_refresh(const dbw_stepper *s)
{
    return s->state == ST_SENT && (s->ex.sent == DBW_SENT_TOKEN || s->ex.sent == DBW_SENT_DISCOVERY);
}

/* The exchange ends here, wherever it was: a refresh it had out is forgotten. */
static void abandon(dbw_stepper *s)
{
    if (s->client != NULL && !s->client->closed && holds_refresh(s))
        dbw_auth_abandon(s->client);
    s->state = ST_DONE;
}

static void release(lua_State *L, dbw_stepper *s)
{
    abandon(s);
    dbw_req_free(&s->req); /* the body wiped: webhook secrets, job access tokens */
    s->client = NULL;
    luaL_unref(L, LUA_REGISTRYINDEX, s->client_ref);
    s->client_ref = LUA_NOREF;
}

/* __gc and st:abort(): ends the exchange (the Lua driver aborts one whose
 * transport raised), frees the copies and lets the client go. Idempotent. */
static int ex_gc(lua_State *L)
{
    release(L, luaL_checkudata(L, 1, DBW_STEPPER_MT));
    return 0;
}

static int ex_tostring(lua_State *L)
{
    dbw_stepper *s = luaL_checkudata(L, 1, DBW_STEPPER_MT);
    lua_pushfstring(L, "databricks.webhooks.Stepper (%s %s, %s): %p", s->req.method ? s->req.method : "-",
                    s->req.path ? s->req.path : "-", s->state == ST_DONE ? "done" : "running", (void *)s);
    return 1;
}

int dbw_stepper_begin(lua_State *L, dbw_client *c, const dbw_op *op)
{
    dbw_stepper *s;
    int rc;

    if (op == NULL)
        lua_settop(L, 5); /* client:request's method, path, body, query at 2..5 */
    /* Zeroed and tagged before anything is allocated, so __gc is always safe. */
    s = lua_newuserdata(L, sizeof *s);
    memset(s, 0, sizeof *s);
    s->client_ref = LUA_NOREF;
    s->state = ST_DONE;
    luaL_getmetatable(L, DBW_STEPPER_MT);
    lua_setmetatable(L, -2);

    rc = op ? dbw_req_prepare_op(L, c, op, 2, &s->req) : dbw_req_prepare_raw(L, c, 2, &s->req);
    if (rc != 0)
        return dbw_req_push_invalid(L, &s->req); /* nil, err: nothing was sent */

    lua_pushvalue(L, 1);
    s->client_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    s->client = c;
    s->state = ST_IDLE;
    dbw_exchange_begin(&s->ex, c, &s->req);
    return 1;
}

/* ---- one step ------------------------------------------------------------- */

/* Pushes the request table a transport sends. Every string is copied into Lua
 * here, so it stays valid whatever the client's buffers hold later. */
static void push_request(lua_State *L, const dbw_client *c, const dbw_request *rq, int api)
{
    int i;
    lua_createtable(L, 0, 8);
    /* "api", or "token" for a credential's refresh: the Lua driver's window
     * (webhooks.lua) reads only the answers to API requests, as driver.c does */
    lua_pushstring(L, api ? "api" : "token");
    lua_setfield(L, -2, "kind");
    lua_pushstring(L, rq->method);
    lua_setfield(L, -2, "method");
    lua_pushstring(L, rq->url);
    lua_setfield(L, -2, "url");
    lua_pushstring(L, rq->path);
    lua_setfield(L, -2, "path");
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
    lua_pushnumber(L, (lua_Number)c->conn.max_response);
    lua_setfield(L, -2, "max_body");
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
    if (strcmp(s, "too_large") == 0)
        return DBW_NET_TOO_LARGE;
    if (strcmp(s, "local") == 0)
        return DBW_NET_LOCAL;
    return DBW_NET_CONNECTION;
}

static const char *default_message(dbw_net net)
{
    switch (net) {
    case DBW_NET_TIMEOUT:
        return "transport: timed out";
    case DBW_NET_TLS:
        return "transport: TLS failure";
    case DBW_NET_CONNECT:
        return "transport: could not connect";
    case DBW_NET_TOO_LARGE:
        return "response body exceeds the client's size limit";
    case DBW_NET_LOCAL:
        return "transport: request refused";
    default:
        return "transport: connection failed";
    }
}

/* Reads the transport's answer at idx into rs:
 *   {status = n, headers = {lower-case name = value}, body = "..."}
 *   {error_kind = "timeout"|"connect"|"connection"|"tls"|"too_large"|"local", message = "..."}
 * ("local": the transport refused the request itself, nothing was sent; never retried)
 * Strings stay anchored by the table at idx for the rest of the step; the
 * two headers kept are copied into the Exchange. */
static void read_response(lua_State *L, dbw_stepper *s, int idx, dbw_response *rs)
{
    int top = lua_gettop(L);
    memset(rs, 0, sizeof *rs);
    rs->retry_after = -1;
    if (lua_type(L, idx) != LUA_TTABLE) {
        rs->net = DBW_NET_CONNECTION;
        rs->net_msg = "transport returned no response";
        return;
    }
    lua_getfield(L, idx, "error_kind");
    if (!lua_isnil(L, -1)) {
        rs->net = net_kind(lua_tostring(L, -1));
        lua_getfield(L, idx, "message");
        rs->net_msg = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : default_message(rs->net);
        lua_settop(L, top); /* the message stays anchored by the table */
        return;
    }
    lua_getfield(L, idx, "status");
    /* range-checked before the cast: (long)1e300 or NaN is undefined */
    if (lua_type(L, -1) == LUA_TNUMBER && lua_tonumber(L, -1) >= 100 && lua_tonumber(L, -1) <= 999)
        rs->status = (long)lua_tonumber(L, -1);
    else
        rs->status = 0;
    lua_getfield(L, idx, "body");
    rs->body = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &rs->body_len) : "";
    lua_getfield(L, idx, "headers");
    if (lua_type(L, -1) == LUA_TTABLE) {
        int h = lua_gettop(L);
        lua_getfield(L, h, "retry-after");
        if (lua_type(L, -1) == LUA_TSTRING)
            rs->retry_after = dbw_retry_after_parse(lua_tostring(L, -1), dbw_epoch_now());
        lua_getfield(L, h, "x-request-id");
        if (lua_type(L, -1) == LUA_TSTRING) {
            snprintf(s->request_id, sizeof s->request_id, "%s", lua_tostring(L, -1));
            rs->request_id = s->request_id;
        }
        lua_getfield(L, h, "location");
        if (lua_type(L, -1) == LUA_TSTRING) {
            snprintf(s->location, sizeof s->location, "%s", lua_tostring(L, -1));
            rs->location = s->location;
        }
    }
    lua_settop(L, top);
    if (rs->status < 100 || rs->status > 999) {
        rs->net = DBW_NET_CONNECTION;
        rs->net_msg = "transport returned no valid HTTP status";
        return;
    }
    s->client->counters.requests++; /* stats(): responses received, as on libcurl's path */
    if (rs->body_len > s->client->conn.max_response) {
        /* the same limit as libcurl's path, whether or not the transport kept max_body */
        rs->net = DBW_NET_TOO_LARGE;
        rs->net_msg = default_message(DBW_NET_TOO_LARGE);
    }
}

/* The body of ex:step, run under lua_pcall by ex_step: stack is (ex, resp). */
static int step_impl(lua_State *L)
{
    dbw_stepper *s = lua_touserdata(L, 1);
    dbw_client *c = s->client;
    dbw_response rs;
    dbw_request rq;
    double delay;
    int have = 0;
    dbw_ex_action act;

    memset(&rs, 0, sizeof rs);
    if (s->state == ST_SENT) {
        read_response(L, s, 2, &rs);
        rs.elapsed_ms = (dbw_now() - s->sent_at) * 1000.0;
        have = 1;
        dbw_call_log(L, c, s->last_method, s->last_path, &rs,
                     s->ex.sent == DBW_SENT_API ? s->ex.attempts : 1);
    }
    act = dbw_exchange_step(L, c, &s->ex, have ? &rs : NULL, &rq, &delay);
    switch (act) {
    case DBW_EX_SEND:
        s->state = ST_SENT;
        s->last_method = rq.method;
        s->last_path = rq.path;
        s->sent_at = dbw_now();
        lua_pushliteral(L, "send");
        push_request(L, c, &rq, s->ex.sent == DBW_SENT_API);
        return 2;
    case DBW_EX_SLEEP:
        s->state = ST_IDLE;
        lua_pushliteral(L, "sleep");
        lua_pushnumber(L, delay);
        return 2;
    case DBW_EX_DONE:
        break;
    }
    s->state = ST_DONE;
    lua_pushliteral(L, "done");
    return 1 + dbw_call_finish(L, c, &s->ex, &rs, &s->req);
}

/* st:step(resp): takes one step of the exchange. resp is the transport's
 * answer to the last "send" (else nil); returns "send" and the request table,
 * "sleep" and the seconds, or "done" and what the method returns. */
static int ex_step(lua_State *L)
{
    dbw_stepper *s = luaL_checkudata(L, 1, DBW_STEPPER_MT);
    dbw_client *c = s->client;
    int rc;
    if (s->state == ST_DONE)
        return luaL_error(L, "databricks.webhooks: exchange is finished");
    if (c == NULL || c->closed || c->close_pending)
        return luaL_error(L, "databricks.webhooks: client is closed");
    if (c->busy)
        return luaL_error(L, "databricks.webhooks: client is busy (called again from its own callback)");
    if (!lua_isnoneornil(L, 2))
        luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    /* busy only for the step itself (the debug callback may run inside it),
     * never across the yields between steps. */
    c->busy = 1;
    lua_pushcfunction(L, step_impl);
    lua_insert(L, 1);
    rc = lua_pcall(L, 2, LUA_MULTRET, 0);
    if (rc != LUA_OK)
        abandon(s);               /* half a step cannot be resumed */
    dbw_client_end_call(L, c, 0); /* no libcurl transfer is ever the Stepper's */
    if (rc != LUA_OK)
        return lua_error(L);
    return lua_gettop(L);
}

int dbw_stepper_sleep(lua_State *L)
{
    double secs = luaL_checknumber(L, 1);
    luaL_argcheck(L, secs >= 0 && secs <= 86400.0, 1, "seconds out of range");
    dbw_sleep(secs);
    return 0;
}

void dbw_stepper_init(lua_State *L)
{
    static const luaL_Reg methods[] = {{"step", ex_step}, {"abort", ex_gc}, {NULL, NULL}};
    dbw_newclass(L, DBW_STEPPER_MT, methods, ex_gc, 1, ex_tostring);
    lua_pop(L, 1);
}
