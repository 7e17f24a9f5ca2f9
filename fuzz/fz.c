#include "fz.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef DBW_ROOT
#define DBW_ROOT "."
#endif

int luaopen_databricks_webhooks_core(lua_State *L);

void fz_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("\n*** fuzz invariant broken: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs("\n", stderr);
    va_end(ap);
    abort();
}

static lua_State *state;

lua_State *fz_lua(void)
{
    const char *root;
    if (state)
        return state;
    state = luaL_newstate();
    FZ_ASSERT(state != NULL, "luaL_newstate failed");
    luaL_openlibs(state);
    root = getenv("DBW_ROOT");
    if (root == NULL || *root == '\0')
        root = DBW_ROOT;
    lua_getglobal(state, "package");
    lua_pushfstring(state, "%s/lua/?.lua;", root);
    lua_getfield(state, -2, "path");
    lua_concat(state, 2);
    lua_setfield(state, -2, "path");
    lua_pop(state, 1);
    /* As require("databricks.webhooks.core") would: cjson.safe must be found
     * on the default cpath (Debian's lua-cjson). */
    luaL_requiref(state, "databricks.webhooks.core", luaopen_databricks_webhooks_core, 0);
    lua_setfield(state, LUA_REGISTRYINDEX, FZ_CORE);
    return state;
}

void fz_done(lua_State *L, int top)
{
    FZ_ASSERT(lua_gettop(L) == top, "stack unbalanced: %d values left", lua_gettop(L) - top);
    /* twice: userdata with __gc are only freed by the cycle after the one
     * that finalised them */
    lua_gc(L, LUA_GCCOLLECT, 0);
    lua_gc(L, LUA_GCCOLLECT, 0);
}

void fz_push_core(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, FZ_CORE);
}

void fz_push_cjson(lua_State *L, const char *fn)
{
    lua_getglobal(L, "require");
    lua_pushliteral(L, "cjson.safe");
    lua_call(L, 1, 1);
    lua_getfield(L, -1, fn);
    lua_remove(L, -2);
}

int fz_cjson_decode(lua_State *L, const char *s, size_t n)
{
    fz_push_cjson(L, "decode");
    lua_pushlstring(L, s, n);
    lua_call(L, 1, 2);
    if (lua_isnil(L, -2)) {
        lua_pop(L, 2);
        return 0;
    }
    lua_pop(L, 1);
    return 1;
}

#define FZ_EDGES 65536
/* libFuzzer reads every counter in this section as coverage (Linux). */
__attribute__((used, section("__libfuzzer_extra_counters"))) static uint8_t lua_edges[FZ_EDGES];
static uintptr_t prev_line;

static void line_hook(lua_State *L, lua_Debug *ar)
{
    uintptr_t here;
    if (!lua_getinfo(L, "S", ar))
        return;
    here = (uintptr_t)ar->source * 31u ^ (uintptr_t)ar->currentline * 2654435761u;
    lua_edges[(here ^ prev_line >> 1) % FZ_EDGES]++;
    prev_line = here;
}

void fz_lua_coverage(lua_State *L, int on)
{
    prev_line = 0;
    lua_sethook(L, on ? line_hook : NULL, on ? LUA_MASKLINE : 0, 0);
}

static const char *const known_keys[] = {
    "webhook",    "webhooks",   "events",     "next_page_token", "status_code",  "status",
    "body",       "error_code", "message",    "error",           "id",           "http_url_spec",
    "job_spec",   "url",        "model_name", "description",     "access_token", "token_endpoint",
    "expires_in", "token_type", "event",      "max_results",     "page_token",   NULL};

static uint32_t mix(uint32_t h, uint32_t v)
{
    return (h ^ v) * 16777619u;
}

/* Coarse on purpose: the type and array-ness of a value and of the API's
 * fields in it, two levels down (the first element stands for an array).
 * Finer hashes make every input "new" and bloat the corpus. */
static uint32_t shape_hash(lua_State *L, int t, int depth)
{
    uint32_t h = 2166136261u;
    int i;
    h = mix(h, (uint32_t)lua_type(L, t));
    if (lua_type(L, t) != LUA_TTABLE || depth > 2)
        return h;
    h = mix(h, 100u + (uint32_t)fz_is_array(L, t) * 2u + (lua_rawlen(L, t) > 0));
    luaL_checkstack(L, 4, "fz_shape_feature");
    if (lua_rawlen(L, t) > 0) {
        lua_rawgeti(L, t, 1);
        h = mix(h, 1000u + shape_hash(L, lua_gettop(L), depth + 1));
        lua_pop(L, 1);
    }
    for (i = 0; known_keys[i]; i++) {
        lua_getfield(L, t, known_keys[i]);
        if (!lua_isnil(L, -1))
            h = mix(h, (uint32_t)i * 131u + shape_hash(L, lua_gettop(L), depth + 1));
        lua_pop(L, 1);
    }
    return h;
}

void fz_shape_feature(lua_State *L, int idx)
{
    lua_edges[shape_hash(L, lua_absindex(L, idx), 0) % FZ_EDGES]++;
}

unsigned fz_u8(fz_in *in)
{
    unsigned v;
    if (in->n == 0)
        return 0;
    v = in->p[0];
    in->p++;
    in->n--;
    return v;
}

unsigned fz_u16(fz_in *in)
{
    unsigned hi = fz_u8(in);
    return (hi << 8) | fz_u8(in);
}

const char *fz_bytes(fz_in *in, size_t max, size_t *len)
{
    size_t n = fz_u8(in);
    const char *s = (const char *)in->p;
    if (n > max)
        n = max;
    if (n > in->n)
        n = in->n;
    in->p += n;
    in->n -= n;
    *len = n;
    return s;
}

const char *fz_rest(fz_in *in, size_t *len)
{
    const char *s = (const char *)in->p;
    *len = in->n;
    in->p += in->n;
    in->n = 0;
    return s;
}

static void check_plain(lua_State *L, int t, const char *what, int depth, int numbers)
{
    FZ_ASSERT(depth < 1100, "%s: nesting deeper than cjson allows", what);
    luaL_checkstack(L, 4, "fz_check_plain");
    lua_pushnil(L);
    while (lua_next(L, t) != 0) {
        int vt = lua_type(L, -1);
        FZ_ASSERT(!(vt == LUA_TLIGHTUSERDATA && lua_touserdata(L, -1) == NULL),
                  "%s: cjson.null left in the result", what);
#if LUA_VERSION_NUM >= 503
        if (numbers && vt == LUA_TNUMBER && !lua_isinteger(L, -1)) {
            lua_Number d = lua_tonumber(L, -1);
            FZ_ASSERT(
                !(d >= -9007199254740992.0 && d <= 9007199254740992.0 && (lua_Number)(lua_Integer)d == d),
                "%s: integral float %.17g not normalised to an integer", what, (double)d);
        }
#endif
        if (vt == LUA_TTABLE)
            check_plain(L, lua_gettop(L), what, depth + 1, numbers);
        lua_pop(L, 1);
    }
}

void fz_check_plain(lua_State *L, int idx, const char *what, int numbers)
{
    idx = lua_absindex(L, idx);
    if (lua_type(L, idx) == LUA_TTABLE)
        check_plain(L, idx, what, 0, numbers);
    else
        FZ_ASSERT(!(lua_type(L, idx) == LUA_TLIGHTUSERDATA && lua_touserdata(L, idx) == NULL),
                  "%s: cjson.null returned", what);
}

void fz_check_integer_field(lua_State *L, int t, const char *key, const char *what)
{
    lua_getfield(L, t, key);
#if LUA_VERSION_NUM >= 503
    if (lua_type(L, -1) == LUA_TNUMBER && !lua_isinteger(L, -1)) {
        lua_Number d = lua_tonumber(L, -1);
        FZ_ASSERT(!(d >= -9007199254740992.0 && d <= 9007199254740992.0 && (lua_Number)(lua_Integer)d == d),
                  "%s: %s %.17g is a float", what, key, (double)d);
    }
#else
    (void)what;
#endif
    lua_pop(L, 1);
}

int fz_is_array(lua_State *L, int idx)
{
    lua_Integer n, count = 0;
    idx = lua_absindex(L, idx);
    if (lua_type(L, idx) != LUA_TTABLE)
        return 0;
    n = (lua_Integer)lua_rawlen(L, idx);
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        lua_pop(L, 1);
        if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 || lua_tointeger(L, -1) > n) {
            lua_pop(L, 1);
            return 0;
        }
        count++;
    }
    return count == n;
}

void fz_check_error(lua_State *L, int idx, const char *what)
{
    const char *s;
    size_t n;
    int top = lua_gettop(L);
    idx = lua_absindex(L, idx);
    FZ_ASSERT(lua_type(L, idx) == LUA_TTABLE, "%s: error is a %s, not a table", what, luaL_typename(L, idx));
    FZ_ASSERT(lua_getmetatable(L, idx), "%s: error has no metatable", what);
    fz_push_core(L);
    lua_getfield(L, -1, "Error");
    FZ_ASSERT(lua_rawequal(L, -1, -3), "%s: error has the wrong metatable", what);
    lua_settop(L, top);

    lua_getfield(L, idx, "error_code");
    FZ_ASSERT(lua_type(L, -1) == LUA_TSTRING && lua_rawlen(L, -1) > 0, "%s: error_code missing", what);
    lua_getfield(L, idx, "message");
    FZ_ASSERT(lua_type(L, -1) == LUA_TSTRING, "%s: message missing", what);
    lua_getfield(L, idx, "status");
    FZ_ASSERT(lua_isnil(L, -1) || (lua_isinteger(L, -1) && lua_tointeger(L, -1) > 0), "%s: bad status", what);
    lua_settop(L, top);

    /* tostring(err) is one line, whatever the server put in the message. */
    lua_getglobal(L, "tostring");
    lua_pushvalue(L, idx);
    FZ_ASSERT(lua_pcall(L, 1, 1, 0) == LUA_OK, "%s: tostring(err) raised: %s", what, lua_tostring(L, -1));
    s = lua_tolstring(L, -1, &n);
    FZ_ASSERT(s != NULL && memchr(s, '\n', n) == NULL && memchr(s, '\r', n) == NULL,
              "%s: tostring(err) is not one line", what);
    lua_settop(L, top);
}
