#include "json.h"

#define DECODE_KEY "databricks.webhooks.json_decode"
#define ENCODE_KEY "databricks.webhooks.json_encode"

/* cjson's decoder already refuses nesting past 1000; this bounds our own walk. */
#define MAX_DEPTH 1000

void dbw_json_init(lua_State *L)
{
    lua_getglobal(L, "require");
    lua_pushliteral(L, "cjson.safe");
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "decode");
    lua_setfield(L, LUA_REGISTRYINDEX, DECODE_KEY);
    lua_getfield(L, -1, "encode");
    lua_setfield(L, LUA_REGISTRYINDEX, ENCODE_KEY);
    lua_pop(L, 1);
}

int dbw_json_decode(lua_State *L, const char *s, size_t n)
{
    lua_getfield(L, LUA_REGISTRYINDEX, DECODE_KEY);
    lua_pushlstring(L, s, n);
    lua_call(L, 1, 2);
    if (lua_isnil(L, -2)) {
        lua_pop(L, 2);
        return 0;
    }
    lua_pop(L, 1);
    return 1;
}

int dbw_json_encode(lua_State *L, int idx)
{
    idx = idx < 0 ? lua_gettop(L) + idx + 1 : idx;
    lua_getfield(L, LUA_REGISTRYINDEX, ENCODE_KEY);
    lua_pushvalue(L, idx);
    lua_call(L, 1, 2);
    if (lua_isnil(L, -2)) {
        lua_remove(L, -2);
        if (!lua_isstring(L, -1)) {
            lua_pop(L, 1);
            lua_pushliteral(L, "cannot encode as JSON");
        }
        return 0;
    }
    lua_pop(L, 1);
    return 1;
}

static int is_null(lua_State *L, int idx)
{
    return lua_type(L, idx) == LUA_TLIGHTUSERDATA && lua_touserdata(L, idx) == NULL;
}

static void normalize(lua_State *L, int t, int depth)
{
    if (depth > MAX_DEPTH)
        return;
    luaL_checkstack(L, 4, "json nesting");
    lua_pushnil(L);
    while (lua_next(L, t) != 0) {
        /* Assigning to an existing key (nil included) is allowed during lua_next. */
        if (is_null(L, -1)) {
            lua_pushvalue(L, -2);
            lua_pushnil(L);
            lua_rawset(L, t);
        }
#if LUA_VERSION_NUM >= 503
        else if (lua_type(L, -1) == LUA_TNUMBER && !lua_isinteger(L, -1)) {
            lua_Number d = lua_tonumber(L, -1);
            if (d >= -9007199254740992.0 && d <= 9007199254740992.0 && (lua_Number)(lua_Integer)d == d) {
                lua_pushvalue(L, -2);
                lua_pushinteger(L, (lua_Integer)d);
                lua_rawset(L, t);
            }
        }
#endif
        else if (lua_type(L, -1) == LUA_TTABLE) {
            normalize(L, lua_gettop(L), depth + 1);
        }
        lua_pop(L, 1);
    }
}

void dbw_json_normalize(lua_State *L, int idx)
{
    idx = idx < 0 ? lua_gettop(L) + idx + 1 : idx;
    if (lua_type(L, idx) == LUA_TTABLE)
        normalize(L, idx, 0);
}
