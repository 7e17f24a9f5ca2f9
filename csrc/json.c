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

#if LUA_VERSION_NUM >= 503
/* Replaces the integral float at the stack top, stored under the key below it
 * in table t, by an integer. Leaves the stack as it was. */
static void integer_in_place(lua_State *L, int t)
{
    lua_Number d = lua_tonumber(L, -1);
    if (!lua_isinteger(L, -1) && d >= -9007199254740992.0 && d <= 9007199254740992.0 &&
        (lua_Number)(lua_Integer)d == d) {
        lua_pushvalue(L, -2);
        lua_pushinteger(L, (lua_Integer)d);
        lua_rawset(L, t);
    }
}
#endif

/* An array holding nulls: keep the other elements, in order, from 1. */
static void close_up(lua_State *L, int t, size_t n)
{
    size_t i, j = 0;
    for (i = 1; i <= n; i++) {
        lua_rawgeti(L, t, (int)i);
        if (is_null(L, -1) || lua_isnil(L, -1)) {
            lua_pop(L, 1);
            continue;
        }
        lua_rawseti(L, t, (int)++j);
    }
    for (i = j + 1; i <= n; i++) {
        lua_pushnil(L);
        lua_rawseti(L, t, (int)i);
    }
}

static void normalize(lua_State *L, int t, int depth, int numbers)
{
    size_t n = dbw_rawlen(L, t);
    int had_null = 0;
    if (depth > MAX_DEPTH)
        return;
    luaL_checkstack(L, 4, "json nesting");
    lua_pushnil(L);
    while (lua_next(L, t) != 0) {
        /* Assigning to an existing key (nil included) is allowed during lua_next. */
        if (is_null(L, -1)) {
            had_null = 1;
            if (n == 0) {
                lua_pushvalue(L, -2);
                lua_pushnil(L);
                lua_rawset(L, t);
            }
        } else if (lua_type(L, -1) == LUA_TTABLE) {
            normalize(L, lua_gettop(L), depth + 1, numbers);
        }
#if LUA_VERSION_NUM >= 503
        else if (numbers && lua_type(L, -1) == LUA_TNUMBER) {
            integer_in_place(L, t);
        }
#endif
        lua_pop(L, 1);
    }
    if (had_null && n > 0)
        close_up(L, t, n);
}

void dbw_json_normalize(lua_State *L, int idx)
{
    idx = idx < 0 ? lua_gettop(L) + idx + 1 : idx;
    if (lua_type(L, idx) == LUA_TTABLE)
        normalize(L, idx, 0, 1);
}

void dbw_json_drop_nulls(lua_State *L, int idx)
{
    idx = idx < 0 ? lua_gettop(L) + idx + 1 : idx;
    if (lua_type(L, idx) == LUA_TTABLE)
        normalize(L, idx, 0, 0);
}

void dbw_json_integer_field(lua_State *L, int t, const char *key)
{
#if LUA_VERSION_NUM >= 503
    t = t < 0 ? lua_gettop(L) + t + 1 : t;
    lua_pushstring(L, key);
    lua_rawget(L, t);
    if (lua_type(L, -1) == LUA_TNUMBER) {
        lua_pushstring(L, key);
        lua_insert(L, -2);
        integer_in_place(L, t);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
#else
    (void)L, (void)t, (void)key;
#endif
}

int dbw_json_is_array(lua_State *L, int idx)
{
    int empty;
    if (dbw_rawlen(L, idx) > 0)
        return 1;
    lua_pushnil(L);
    empty = lua_next(L, idx < 0 ? idx - 1 : idx) == 0;
    if (!empty)
        lua_pop(L, 2);
    return empty;
}
