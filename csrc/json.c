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
 * "\/" pair can be written as '/' without touching an escaped backslash. */
static int append_unescaped(dbw_buf *out, const char *s, size_t n)
{
    const char *end = s + n, *bs;
    while ((bs = memchr(s, '\\', (size_t)(end - s))) != NULL && bs + 1 < end) {
        int slash = bs[1] == '/';
        if (dbw_buf_append(out, s, (size_t)(bs - s) + (slash ? 0 : 2)) != 0)
            return -1;
        if (slash && dbw_buf_append(out, "/", 1) != 0)
            return -1;
        s = bs + 2;
    }
    return dbw_buf_append(out, s, (size_t)(end - s));
}

int dbw_json_encode_into(lua_State *L, int idx, dbw_buf *out)
{
    size_t n;
    const char *s;
    int rc;
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
        return DBW_JSON_BAD;
    }
    s = lua_tolstring(L, -2, &n);
    rc = append_unescaped(out, s, n) == 0 ? DBW_JSON_OK : DBW_JSON_OOM;
    lua_pop(L, 2);
    return rc;
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
