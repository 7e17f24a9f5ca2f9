#include "json.h"

#define ENCODE_KEY "databricks.webhooks.json_encode"

void dbw_json_init(lua_State *L)
{
    lua_getglobal(L, "require");
    lua_pushliteral(L, "cjson.safe");
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "encode");
    lua_setfield(L, LUA_REGISTRYINDEX, ENCODE_KEY);
    lua_pop(L, 1);
    dbw_json_decode_init(L);
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
