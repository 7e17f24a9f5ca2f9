/* A token source written in Lua (databricks-cli: the front runs `databricks
 * auth token`): a function() -> {access_token, expiry (seconds since the
 * epoch), token_type?} | nil, message. Called in place when the token is
 * missing or near expiry, so it never needs a request of its own. */
#include "auth.h"

#include <string.h>
#include <time.h>

#include "clock.h"
#include "errors.h"

static const char *check(const dbw_client *c)
{
    return c->auth_fn_ref != LUA_NOREF ? NULL : "token_source: a function is required";
}

static const char *failed(dbw_client *c, const char *why)
{
    dbw_buf_reset(&c->msg);
    dbw_buf_printf(&c->msg, "%s: cannot get a token: %.300s", c->auth_name, why);
    return DBW_E_UNAUTHENTICATED;
}

static const char *next(lua_State *L, dbw_client *c, dbw_request *rq)
{
    int top = lua_gettop(L);
    const char *code = NULL, *tok = NULL, *type = "";
    size_t tok_len = 0, type_len = 0;
    double expiry;
    (void)rq;
    lua_rawgeti(L, LUA_REGISTRYINDEX, c->auth_fn_ref);
    if (lua_pcall(L, 0, 2, 0) != 0) {
        code = failed(c, lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "the token source raised");
    } else if (lua_type(L, top + 1) != LUA_TTABLE) {
        code = failed(c, lua_type(L, top + 2) == LUA_TSTRING ? lua_tostring(L, top + 2) : "no token");
    } else {
        lua_getfield(L, top + 1, "access_token");
        lua_getfield(L, top + 1, "token_type");
        lua_getfield(L, top + 1, "expiry");
        if (lua_type(L, top + 3) == LUA_TSTRING)
            tok = lua_tolstring(L, top + 3, &tok_len);
        if (lua_type(L, top + 4) == LUA_TSTRING)
            type = lua_tolstring(L, top + 4, &type_len);
        expiry = lua_type(L, top + 5) == LUA_TNUMBER ? lua_tonumber(L, top + 5) : 0;
        if (expiry - (double)time(NULL) <= 0)
            code = failed(c, "the token it gave has no expiry in the future");
        else
            code = dbw_auth_set_token(c, type, type_len, tok, tok_len, expiry - (double)time(NULL), dbw_now(),
                                      c->auth_name);
    }
    lua_settop(L, top);
    return code;
}

static const char *on_response(lua_State *L, dbw_client *c, const dbw_response *rs, double now)
{
    (void)L, (void)rs, (void)now;
    return failed(c, "no request was expected");
}

const dbw_auth_source dbw_auth_callback = {"token-source", check, NULL, next, on_response};
