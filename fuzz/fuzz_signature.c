/*
 * fuzz_signature - a webhook delivery as a receiver gets it: the secret, the
 * raw body and the X-Databricks-Signature header, through the module's own
 * C functions (core.verify_signature, core.sign, core.parse_delivery) and the
 * constant-time comparison dbw_hex_equal_ct.
 *
 * Invariants: nothing raises for string arguments; verify returns true only
 * when the header (blanks trimmed) is the body's HMAC in hex, any case, and
 * always returns true for the signature sign() made; a false comes with a
 * reason; dbw_hex_equal_ct agrees with a plain case-insensitive comparison;
 * parse_delivery gives a plain table with an event name or nil + an
 * INVALID_PARAMETER_VALUE error.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "fz.h"

#include "../csrc/hmac.h"

/* Calls core.<fn>(a, b[, c]) and leaves its results; returns how many. */
static int call(lua_State *L, const char *fn, const char *a, size_t an, const char *b, size_t bn,
                const char *c, size_t cn, int with_c)
{
    int top = lua_gettop(L), rc;
    fz_push_core(L);
    lua_getfield(L, -1, fn);
    lua_remove(L, -2);
    lua_pushlstring(L, a, an);
    lua_pushlstring(L, b, bn);
    if (with_c)
        lua_pushlstring(L, c, cn);
    rc = lua_pcall(L, with_c ? 3 : 2, LUA_MULTRET, 0);
    FZ_ASSERT(rc == LUA_OK, "core.%s raised: %s", fn, lua_tostring(L, -1));
    return lua_gettop(L) - top;
}

static int verify(lua_State *L, const char *k, size_t kn, const char *body, size_t bn, const char *h,
                  size_t hn)
{
    int n = call(L, "verify_signature", k, kn, body, bn, h, hn, 1), ok;
    FZ_ASSERT(n >= 1 && lua_type(L, -n) == LUA_TBOOLEAN, "verify_signature returned no boolean");
    ok = lua_toboolean(L, -n);
    if (!ok)
        FZ_ASSERT(n == 2 && lua_type(L, -1) == LUA_TSTRING, "verify_signature: false without a reason");
    lua_pop(L, n);
    return ok;
}

static void check_hex_equal(const char *a, const char *b)
{
    int want = strncasecmp(a, b, DBW_SIG_HEX_LEN) == 0 && strnlen(a, DBW_SIG_HEX_LEN) == DBW_SIG_HEX_LEN &&
               strnlen(b, DBW_SIG_HEX_LEN) == DBW_SIG_HEX_LEN;
    int got = dbw_hex_equal_ct(a, b);
    /* Only hex digits are ever compared (verify checks them first); for them
     * the two must agree exactly. */
    if (strspn(a, "0123456789abcdefABCDEF") >= DBW_SIG_HEX_LEN &&
        strspn(b, "0123456789abcdefABCDEF") >= DBW_SIG_HEX_LEN)
        FZ_ASSERT(got == want, "dbw_hex_equal_ct disagrees (%d, want %d)", got, want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lua_State *L = fz_lua();
    fz_in in = {data, size};
    size_t kn, hn, bn;
    const char *k = fz_bytes(&in, 255, &kn), *h = fz_bytes(&in, 255, &hn), *body = fz_rest(&in, &bn);
    char sig[DBW_SIG_HEX_LEN + 1], tweaked[DBW_SIG_HEX_LEN + 3];
    int top = lua_gettop(L), ok, n, i;

    /* the fuzzer's header */
    ok = verify(L, k, kn, body, bn, h, hn);
    if (ok) {
        size_t s = 0, e = hn;
        char mac[DBW_SIG_HEX_LEN + 1];
        while (s < e && (h[s] == ' ' || h[s] == '\t'))
            s++;
        while (e > s && (h[e - 1] == ' ' || h[e - 1] == '\t'))
            e--;
        FZ_ASSERT(kn > 0 && e - s == DBW_SIG_HEX_LEN, "verified a header that is not 64 digits");
        FZ_ASSERT(dbw_hmac_sha256_hex(k, kn, body, bn, mac) == 0, "HMAC failed");
        FZ_ASSERT(strncasecmp(mac, h + s, DBW_SIG_HEX_LEN) == 0, "verified a wrong signature");
    }

    /* the real signature, as sent, in upper case, padded: all verify */
    n = call(L, "sign", k, kn, body, bn, NULL, 0, 0);
    FZ_ASSERT(n == 1 && lua_type(L, -1) == LUA_TSTRING && lua_rawlen(L, -1) == DBW_SIG_HEX_LEN,
              "sign: bad result");
    memcpy(sig, lua_tostring(L, -1), DBW_SIG_HEX_LEN + 1);
    lua_pop(L, 1);
    FZ_ASSERT(strspn(sig, "0123456789abcdef") == DBW_SIG_HEX_LEN, "sign: not lowercase hex");
    FZ_ASSERT(verify(L, k, kn, body, bn, sig, DBW_SIG_HEX_LEN) == (kn > 0), "own signature not verified");
    tweaked[0] = ' ';
    for (i = 0; i < DBW_SIG_HEX_LEN; i++)
        tweaked[i + 1] = (char)toupper((unsigned char)sig[i]);
    tweaked[DBW_SIG_HEX_LEN + 1] = '\t';
    FZ_ASSERT(verify(L, k, kn, body, bn, tweaked, DBW_SIG_HEX_LEN + 2) == (kn > 0),
              "padded upper case refused");
    /* one digit off never verifies */
    if (kn > 0) {
        unsigned pos = (unsigned)(bn ? (unsigned char)body[0] : 0) % DBW_SIG_HEX_LEN;
        memcpy(tweaked, sig, DBW_SIG_HEX_LEN);
        tweaked[pos] = tweaked[pos] == '0' ? '1' : '0';
        FZ_ASSERT(!verify(L, k, kn, body, bn, tweaked, DBW_SIG_HEX_LEN), "a wrong digit verified");
    }

    /* the comparison itself, on 64-byte windows of the input */
    if (hn >= DBW_SIG_HEX_LEN) {
        char a[DBW_SIG_HEX_LEN + 1], b[DBW_SIG_HEX_LEN + 1];
        memcpy(a, h, DBW_SIG_HEX_LEN);
        a[DBW_SIG_HEX_LEN] = '\0';
        memcpy(b, sig, sizeof b);
        check_hex_equal(a, b);
        check_hex_equal(a, a);
    }

    /* the delivery body */
    n = call(L, "parse_delivery", body, bn, NULL, 0, NULL, 0, 0);
    /* parse_delivery takes one argument; the extra one is ignored */
    if (lua_type(L, -n) == LUA_TTABLE) {
        FZ_ASSERT(n == 1, "parse_delivery: extra values with a result");
        fz_check_plain(L, -1, "parse_delivery", 1);
        lua_getfield(L, -1, "event");
        FZ_ASSERT(lua_type(L, -1) == LUA_TSTRING, "parse_delivery: no event name");
    } else {
        FZ_ASSERT(n == 2 && lua_isnil(L, -2), "parse_delivery: neither a table nor nil, err");
        fz_check_error(L, -1, "parse_delivery");
        lua_getfield(L, -1, "error_code");
        FZ_ASSERT(strcmp(lua_tostring(L, -1), "INVALID_PARAMETER_VALUE") == 0, "parse_delivery: wrong code");
    }
    lua_settop(L, top);
    fz_done(L, top);
    return 0;
}
