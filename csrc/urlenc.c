#include "urlenc.h"

#include <stdio.h>
#include <string.h>

static int unreserved(unsigned char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
           ch == '.' || ch == '_' || ch == '~';
}

int dbw_urlenc_append(dbw_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i;
    char *o;
    if (dbw_buf_reserve(b, n * 3) != 0)
        return -1;
    o = b->data + b->len;
    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (unreserved(ch)) {
            *o++ = (char)ch;
        } else {
            *o++ = '%';
            *o++ = hex[ch >> 4];
            *o++ = hex[ch & 15];
        }
    }
    b->len = (size_t)(o - b->data);
    b->data[b->len] = '\0';
    return 0;
}

static int append_scalar(lua_State *L, dbw_buf *b, const char *key, int idx, int *first)
{
    const char *v;
    size_t n;
    char num[64];
    switch (lua_type(L, idx)) {
    case LUA_TBOOLEAN:
        v = lua_toboolean(L, idx) ? "true" : "false";
        n = strlen(v);
        break;
    case LUA_TNUMBER:
#if LUA_VERSION_NUM >= 503
        if (lua_isinteger(L, idx)) {
            n = (size_t)snprintf(num, sizeof num, "%lld", (long long)lua_tointeger(L, idx));
            v = num;
            break;
        }
#endif
        {
            double d = (double)lua_tonumber(L, idx);
            if (d != d || d - d != 0) /* NaN or an infinity: no number to send */
                return -1;
            if (dbw_isintegral(L, idx)) /* within 2^53, so the cast is exact */
                n = (size_t)snprintf(num, sizeof num, "%lld", (long long)d);
            else
                n = (size_t)snprintf(num, sizeof num, "%.17g", d);
        }
        v = num;
        break;
    case LUA_TSTRING:
        v = lua_tolstring(L, idx, &n);
        break;
    default:
        return -1;
    }
    if (dbw_buf_append(b, *first ? "?" : "&", 1) != 0 || dbw_urlenc_append(b, key, strlen(key)) != 0 ||
        dbw_buf_append(b, "=", 1) != 0 || dbw_urlenc_append(b, v, n) != 0)
        return -1;
    *first = 0;
    return 0;
}

int dbw_query_append(lua_State *L, dbw_buf *b, const char *key, int idx, int *first)
{
    size_t i, n;
    if (lua_type(L, idx) != LUA_TTABLE)
        return append_scalar(L, b, key, idx, first);
    n = dbw_rawlen(L, idx);
    for (i = 1; i <= n; i++) {
        int rc;
        lua_rawgeti(L, idx, (int)i);
        rc = append_scalar(L, b, key, lua_gettop(L), first);
        lua_pop(L, 1);
        if (rc != 0)
            return -1;
    }
    return 0;
}
