#include "errors.h"

#include <stdio.h>
#include <string.h>

/* Control bytes become spaces, so that tostring(err) stays one line
 * whatever a server put in its message (or a Location header). */
static void add_one_line(luaL_Buffer *b, const char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        luaL_addchar(b, (char)(ch < 0x20 || ch == 0x7f ? ' ' : ch));
    }
}

static int error_tostring(lua_State *L)
{
    const char *code = "UNKNOWN", *msg = "";
    size_t cn = 7, mn = 0;
    luaL_Buffer b;
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "error_code");
    lua_getfield(L, 1, "message");
    lua_getfield(L, 1, "status");
    if (lua_isstring(L, 2))
        code = lua_tolstring(L, 2, &cn);
    if (lua_isstring(L, 3))
        msg = lua_tolstring(L, 3, &mn);
    luaL_buffinit(L, &b);
    add_one_line(&b, code, cn);
    if (lua_type(L, 4) == LUA_TNUMBER) {
        /* err is a plain table: status may have been set to anything */
        char num[64];
        lua_Number st = lua_tonumber(L, 4);
        if (st > -1e15 && st < 1e15 && st == (lua_Number)(long long)st)
            snprintf(num, sizeof num, " (HTTP %lld)", (long long)st);
        else
            snprintf(num, sizeof num, " (HTTP %.14g)", (double)st);
        luaL_addstring(&b, num);
    }
    luaL_addstring(&b, ": ");
    add_one_line(&b, msg, mn);
    luaL_pushresult(&b);
    return 1;
}

void dbw_errors_init(lua_State *L)
{
    if (luaL_newmetatable(L, DBW_ERROR_MT)) {
        lua_pushcfunction(L, error_tostring);
        lua_setfield(L, -2, "__tostring");
        lua_pushliteral(L, "databricks.webhooks.Error");
        lua_setfield(L, -2, "__name");
    }
    lua_pop(L, 1);
}

void dbw_error_push(lua_State *L, const dbw_error *e)
{
    lua_createtable(L, 0, 6);
    lua_pushstring(L, e->code);
    lua_setfield(L, -2, "error_code");
    if (e->message)
        lua_pushlstring(L, e->message, e->message_len ? e->message_len : strlen(e->message));
    else
        lua_pushliteral(L, "");
    lua_setfield(L, -2, "message");
    if (e->status > 0) {
        lua_pushinteger(L, (lua_Integer)e->status);
        lua_setfield(L, -2, "status");
    }
    if (e->retry_after >= 0) {
        dbw_pushnumber(L, e->retry_after);
        lua_setfield(L, -2, "retry_after");
    }
    if (e->method && e->path) {
        lua_pushfstring(L, "%s %s", e->method, e->path);
        lua_setfield(L, -2, "request");
    }
    if (e->request_id && *e->request_id) {
        lua_pushstring(L, e->request_id);
        lua_setfield(L, -2, "request_id");
    }
    luaL_getmetatable(L, DBW_ERROR_MT);
    lua_setmetatable(L, -2);
}

void dbw_error_push_local(lua_State *L, const char *code, const char *message, const char *method,
                          const char *path)
{
    dbw_error e;
    memset(&e, 0, sizeof e);
    e.code = code;
    e.message = message;
    e.retry_after = -1;
    e.method = method;
    e.path = path;
    dbw_error_push(L, &e);
}

/* The same status -> code mapping the official SDKs fall back on. */
const char *dbw_error_code_for_status(long status)
{
    switch (status) {
    case 400:
        return "BAD_REQUEST";
    case 401:
        return DBW_E_UNAUTHENTICATED;
    case 403:
        return "PERMISSION_DENIED";
    case 404:
        return "NOT_FOUND";
    case 409:
        return "RESOURCE_CONFLICT";
    case 429:
        return "REQUEST_LIMIT_EXCEEDED";
    case 499:
        return "CANCELLED";
    case 500:
        return "INTERNAL_ERROR";
    case 501:
        return "NOT_IMPLEMENTED";
    case 502:
        return "BAD_GATEWAY";
    case 503:
        return "TEMPORARILY_UNAVAILABLE";
    case 504:
        return "DEADLINE_EXCEEDED";
    default:
        break;
    }
    if (status >= 300 && status < 400)
        return DBW_E_BAD_RESPONSE; /* redirects are never followed */
    return "UNKNOWN";
}

/* ---- reference documentation (LDoc reads csrc/: see config.ld) ------------ */

/***
 * The error objects of `databricks.webhooks`.
 * @module databricks.webhooks
 */

/***
 * Errors
 * @section errors
 */

/***
 * The error objects returned as the second result of a failed call.
 *
 * Everything that depends on data, the network or the server returns
 * `nil, err`; misuse (a non-table request, a closed client) raises instead.
 * `Error` is the metatable shared by every error object, so
 * `getmetatable(err) == webhooks.Error` tells them apart. `tostring(err)` is
 * one line, `"RESOURCE_DOES_NOT_EXIST (HTTP 404): <message>"`. No error,
 * message or `tostring` ever contains a token, a client secret or a webhook
 * secret.
 * @table Error
 * @field error_code the server's `error_code` (`RESOURCE_DOES_NOT_EXIST`,
 * `PERMISSION_DENIED`, ...) or a local one: `INVALID_PARAMETER_VALUE`
 * (validation: nothing was sent, `status` is nil), `TIMEOUT`,
 * `CONNECTION_ERROR`, `TLS_ERROR`, `UNAUTHENTICATED`, `BAD_RESPONSE`
 * @field message human text
 * @field status the HTTP status, or nil when no response was received
 * @field retry_after seconds, when the server sent `Retry-After`
 * @field request `"METHOD /path"` of the failed call
 * @field request_id the server's `x-request-id`, when it sent one
 * @field attempts how many times the request was sent, once it was sent
 * @field elapsed seconds from the start of the call to the error, once sent
 * @field retry_timeout the call's retry budget in seconds, once sent; when
 * nothing answered or a retry was made or due, `message` ends with these and
 * why retrying stopped: `(6 attempts in 4.90 s; the next retry would start
 * past retry_timeout 5 s)`
 */
