/*
 * compat.h - the only place that knows which Lua version we are built for.
 *
 * Everything here is static and prefixed dbw_ so that the module never
 * redefines lua_* / luaL_* names: LuaJIT 2.1 exports some 5.2 functions while
 * still reporting LUA_VERSION_NUM 501, and a second definition would clash
 * inside an nginx worker that loads several C modules.
 */
#ifndef DBW_COMPAT_H
#define DBW_COMPAT_H

#include <lua.h>
#include <lauxlib.h>

#ifndef LUA_OK
#define LUA_OK 0
#endif

/* 2^53: every integer up to it is exact as a double (the numbers of Lua 5.1
 * and LuaJIT, and JSON's in practice). */
#define DBW_EXACT_INT_MAX 9007199254740992.0

/* Only luaopen_* is exported; everything else stays inside the .so. */
#if defined(__GNUC__)
#define DBW_API __attribute__((visibility("default")))
#else
#define DBW_API
#endif

static inline void dbw_setfuncs(lua_State *L, const luaL_Reg *l)
{
    for (; l->name != NULL; l++) {
        lua_pushcfunction(L, l->func);
        lua_setfield(L, -2, l->name);
    }
}

static inline size_t dbw_rawlen(lua_State *L, int idx)
{
#if LUA_VERSION_NUM >= 502
    return (size_t)lua_rawlen(L, idx);
#else
    return (size_t)lua_objlen(L, idx);
#endif
}

/* Creates the metatable `name` once: __index = methods, __gc (and __close,
 * when close_too; gc must be idempotent) = gc, __tostring, __name, and a locked __metatable. */
static inline void dbw_newclass(lua_State *L, const char *name, const luaL_Reg *methods, lua_CFunction gc,
                                int close_too, lua_CFunction tostring)
{
    if (luaL_newmetatable(L, name)) {
        lua_newtable(L);
        dbw_setfuncs(L, methods);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, gc);
        lua_setfield(L, -2, "__gc");
        if (close_too) {
            lua_pushcfunction(L, gc);
            lua_setfield(L, -2, "__close");
        }
        lua_pushcfunction(L, tostring);
        lua_setfield(L, -2, "__tostring");
        lua_pushstring(L, name);
        lua_setfield(L, -2, "__name");
        lua_pushliteral(L, "locked");
        lua_setfield(L, -2, "__metatable");
    }
}

/* The one table a userdata carries for Lua values it owns (a "user value"
 * from 5.2 on, the environment table on 5.1/LuaJIT). Values kept there are
 * traversed by the GC as part of the userdata, so cycles through them are
 * collected on every version, unlike a weak-keyed side table on 5.1. */
static inline void dbw_set_box(lua_State *L, int idx)
{
#if LUA_VERSION_NUM >= 502
    lua_setuservalue(L, idx);
#else
    lua_setfenv(L, idx);
#endif
}

static inline void dbw_get_box(lua_State *L, int idx)
{
#if LUA_VERSION_NUM >= 502
    lua_getuservalue(L, idx);
#else
    lua_getfenv(L, idx);
#endif
}

/* Push a number as a Lua integer when the value is integral (5.3+). */
static inline void dbw_pushnumber(lua_State *L, double d)
{
#if LUA_VERSION_NUM >= 503
    if (d >= -DBW_EXACT_INT_MAX && d <= DBW_EXACT_INT_MAX && (double)(lua_Integer)d == d) {
        lua_pushinteger(L, (lua_Integer)d);
        return;
    }
#endif
    lua_pushnumber(L, (lua_Number)d);
}

/* True when the value at idx is a number with no fractional part. */
static inline int dbw_isintegral(lua_State *L, int idx)
{
    if (lua_type(L, idx) != LUA_TNUMBER)
        return 0;
#if LUA_VERSION_NUM >= 503
    if (lua_isinteger(L, idx))
        return 1;
#endif
    {
        lua_Number n = lua_tonumber(L, idx);
        return n >= -DBW_EXACT_INT_MAX && n <= DBW_EXACT_INT_MAX && (lua_Number)(long long)n == n;
    }
}

/* 1 when the value at idx is an integer within [lo, hi], compared without
 * ever converting an out-of-range number (NaN, inf, 2^63) to an integer. */
static inline int dbw_integer_in(lua_State *L, int idx, long long lo, long long hi)
{
    long long v;
    if (!dbw_isintegral(L, idx))
        return 0;
#if LUA_VERSION_NUM >= 503
    if (lua_isinteger(L, idx))
        v = (long long)lua_tointeger(L, idx);
    else
#endif
        v = (long long)lua_tonumber(L, idx); /* integral and within 2^53: exact */
    return v >= lo && v <= hi;
}

#endif
