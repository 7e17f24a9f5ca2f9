#include "json.h"

#include <string.h>

#define ENCODE_KEY "databricks.webhooks.json_encode"

void dbw_json_init(lua_State *L, const char *const *const *interned)
{
    lua_getglobal(L, "require");
    lua_pushliteral(L, "cjson.safe");
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "encode");
    lua_setfield(L, LUA_REGISTRYINDEX, ENCODE_KEY);
    lua_pop(L, 1);
    dbw_json_decode_init(L, interned);
}

/* lua-cjson 2.1.0 (Debian's) writes '/' as "\/" and has no switch to stop it.
 * In its output a backslash always starts a two-character escape, so each
 * "\/" pair can be rewritten to '/' without touching an escaped backslash.
 * Replaces the string on top of the stack. */
static void unescape_slashes(lua_State *L)
{
    size_t n, i, from = 0;
    const char *s = lua_tolstring(L, -1, &n);
    luaL_Buffer b;
    if (memchr(s, '\\', n) == NULL)
        return;
    luaL_buffinit(L, &b);
    for (i = 0; i + 1 < n; i++) {
        if (s[i] != '\\')
            continue;
        if (s[i + 1] == '/') {
            luaL_addlstring(&b, s + from, i - from);
            from = i + 1;
        }
        i++;
    }
    luaL_addlstring(&b, s + from, n - from);
    luaL_pushresult(&b);
    lua_remove(L, -2);
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
    unescape_slashes(L);
    return 1;
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
