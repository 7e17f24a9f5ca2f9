/*
 * fuzz_json - the module's JSON decoder (dbw_json_decode, csrc/json_decode.c)
 * against lua-cjson, differentially: the fuzzer's bytes go to both.
 *
 * The reference is cjson.safe.decode followed by the normalisation the
 * module used to apply to its output (written out here, below): nulls left
 * out (arrays close up), integral numbers within 2^53 made integers (the
 * module also keeps integers past 2^53 that fit 64 bits exact; see same_value).
 *
 * Invariants: the decoder never raises and leaves one value or nothing on
 * the stack; it accepts nothing cjson refuses (it is stricter about number
 * syntax, and lets a raw NUL byte inside a string through, where cjson
 * stops reading); when both accept, the values are equal (same types, same
 * integer-ness, same bytes, same keys); and whatever cjson accepts, encoded
 * again by cjson.encode (strict JSON), the decoder accepts and decodes as
 * cjson does.
 */
#include <math.h>
#include <string.h>

#include "fz.h"

#include "../csrc/json.h"

static int is_null(lua_State *L, int idx)
{
    return lua_type(L, idx) == LUA_TLIGHTUSERDATA && lua_touserdata(L, idx) == NULL;
}

/* The reference normalisation, on a copy: returns a new value on the stack
 * (nothing for a null). */
static int normalised_copy(lua_State *L, int v)
{
    luaL_checkstack(L, 8, "fuzz_json");
    if (is_null(L, v))
        return 0;
    if (lua_type(L, v) == LUA_TNUMBER) {
        lua_Number d = lua_tonumber(L, v);
#if LUA_VERSION_NUM >= 503
        if (d >= -9007199254740992.0 && d <= 9007199254740992.0 && (lua_Number)(lua_Integer)d == d) {
            lua_pushinteger(L, (lua_Integer)d);
            return 1;
        }
#endif
        lua_pushnumber(L, d);
        return 1;
    }
    if (lua_type(L, v) != LUA_TTABLE) {
        lua_pushvalue(L, v);
        return 1;
    }
    lua_newtable(L);
    if (lua_rawlen(L, v) > 0) { /* an array (cjson: keys 1..n only) */
        size_t i, n = lua_rawlen(L, v), j = 0;
        for (i = 1; i <= n; i++) {
            lua_rawgeti(L, v, (lua_Integer)i);
            if (normalised_copy(L, lua_gettop(L)))
                lua_rawseti(L, -3, (lua_Integer)++j);
            lua_pop(L, 1);
        }
        return 1;
    }
    lua_pushnil(L);
    while (lua_next(L, v) != 0) {
        if (normalised_copy(L, lua_gettop(L))) {
            lua_pushvalue(L, -3);
            lua_insert(L, -2);
            lua_rawset(L, -5);
        }
        lua_pop(L, 1);
    }
    return 1;
}

static int same_value(lua_State *L, int a, int b, int depth);

#if LUA_VERSION_NUM >= 503
/* An integer a double cannot hold exactly, or 2^53 itself. */
static int past_2_53(lua_State *L, int idx)
{
    lua_Integer i;
    if (!lua_isinteger(L, idx))
        return 0;
    i = lua_tointeger(L, idx);
    return i >= 9007199254740992LL || i <= -9007199254740992LL;
}
#endif

/* Every key of a is in b, with the same value when deep is set (a walk
 * each way comparing values would be exponential in the nesting). */
static int keys_within(lua_State *L, int a, int b, int depth, int deep)
{
    lua_pushnil(L);
    while (lua_next(L, a) != 0) {
        int ok;
        lua_pushvalue(L, -2);
        lua_rawget(L, b);
        ok = deep ? same_value(L, lua_gettop(L) - 1, lua_gettop(L), depth + 1) : !lua_isnil(L, -1);
        lua_pop(L, 2);
        if (!ok) {
            lua_pop(L, 1);
            return 0;
        }
    }
    return 1;
}

static int same_value(lua_State *L, int a, int b, int depth)
{
    int t = lua_type(L, a);
    luaL_checkstack(L, 8, "fuzz_json");
    FZ_ASSERT(depth < 1100, "nesting deeper than either decoder allows");
    if (t != lua_type(L, b))
        return 0;
    switch (t) {
    case LUA_TNUMBER:
#if LUA_VERSION_NUM >= 503
        if (past_2_53(L, a) || past_2_53(L, b)) {
            /* Past 2^53 the module keeps the digits cjson's double rounds
             * away (and the reference normalisation may turn that double
             * back into an integer): the same number, as far as a double
             * can tell. */
            return lua_tonumber(L, a) == lua_tonumber(L, b);
        }
        if (lua_isinteger(L, a) != lua_isinteger(L, b))
            return 0;
#endif
        if (isnan(lua_tonumber(L, a)))
            return isnan(lua_tonumber(L, b));
        return lua_rawequal(L, a, b);
    case LUA_TTABLE:
        return keys_within(L, a, b, depth, 1) && keys_within(L, b, a, depth, 0);
    default:
        return lua_rawequal(L, a, b);
    }
}

static void check_same(lua_State *L, int mine, int want, const char *what, const char *s, size_t n)
{
    FZ_ASSERT(same_value(L, mine, want, 0), "%s: decoders disagree on %.*s", what, (int)(n > 200 ? 200 : n),
              s);
}

/* max_response_values: under a cap the decoder gives the same value or says
 * "too many" (never "not JSON" for JSON, never a value for what is not), and
 * pushes nothing when it refuses. */
static void check_cap(lua_State *L, int mine, const char *s, size_t n)
{
    int top = lua_gettop(L), rc;
    size_t cap = n / 8 + 1;
    rc = dbw_json_decode_max(L, s, n, cap);
    FZ_ASSERT(lua_gettop(L) == top + (rc == DBW_JSON_OK), "capped decode left %d values",
              lua_gettop(L) - top);
    if (!mine) {
        FZ_ASSERT(rc != DBW_JSON_OK, "decoded under a cap what it refuses without: %.*s",
                  (int)(n > 200 ? 200 : n), s);
    } else if (rc == DBW_JSON_OK) {
        check_same(L, top, top + 1, "capped", s, n);
    } else {
        FZ_ASSERT(rc == DBW_JSON_TOO_MANY, "called JSON not JSON under a cap of %zu: %.*s", cap,
                  (int)(n > 200 ? 200 : n), s);
    }
    lua_settop(L, top);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lua_State *L = fz_lua();
    const char *s = (const char *)data;
    int top = lua_gettop(L), mine, theirs;

    mine = dbw_json_decode(L, s, size);
    FZ_ASSERT(lua_gettop(L) == top + mine, "decode left %d values", lua_gettop(L) - top);
    check_cap(L, mine, s, size);
    if (mine)
        fz_shape_feature(L, -1);
    theirs = fz_cjson_decode(L, s, size);
    /* cjson stops reading at a NUL byte; raw ones inside strings pass here */
    FZ_ASSERT(!mine || theirs || memchr(s, 0, size), "decoded text cjson refuses: %.*s",
              (int)(size > 200 ? 200 : size), s);
    if (theirs) {
        int raw = lua_gettop(L), ref;
        if (!normalised_copy(L, raw))
            lua_pushnil(L);
        ref = lua_gettop(L);
        if (mine)
            check_same(L, top + 1, ref, "input", s, size);
        /* cjson refuses to encode NaN and infinities, and very deep tables */
        fz_push_cjson(L, "encode");
        lua_pushvalue(L, raw);
        lua_call(L, 1, 1);
        if (lua_type(L, -1) == LUA_TSTRING) {
            size_t en;
            const char *e = lua_tolstring(L, -1, &en);
            int again = lua_gettop(L);
            FZ_ASSERT(dbw_json_decode(L, e, en), "refused what cjson.encode wrote: %.*s",
                      (int)(en > 200 ? 200 : en), e);
            /* cjson writes 14 significant digits: compare with what it reads back */
            FZ_ASSERT(fz_cjson_decode(L, e, en), "cjson refused its own output");
            if (!normalised_copy(L, lua_gettop(L)))
                lua_pushnil(L);
            check_same(L, again + 1, lua_gettop(L), "re-encoded", e, en);
        }
    }
    lua_settop(L, top);
    fz_done(L, top);
    return 0;
}
