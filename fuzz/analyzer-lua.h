/*
 * analyzer-lua.h - force-included by .ci/static into every file clang-tidy
 * and cppcheck analyse (never into a build). The Lua API functions that raise
 * a Lua error never return, but lauxlib.h does not say so, and without that
 * the analyzers follow impossible paths past luaL_argcheck/luaL_argerror and
 * report them (e.g. "realloc of 0 bytes" after a rejected argument). This
 * repeats their declarations with the attribute; it changes no code.
 */
#ifndef DBW_ANALYZER_LUA_H
#define DBW_ANALYZER_LUA_H

#include <lua.h>
#include <lauxlib.h>

__attribute__((noreturn)) int lua_error(lua_State *L);
__attribute__((noreturn)) int luaL_error(lua_State *L, const char *fmt, ...);
__attribute__((noreturn)) int luaL_argerror(lua_State *L, int arg, const char *extramsg);
__attribute__((noreturn)) int luaL_typeerror(lua_State *L, int arg, const char *tname);

#endif
