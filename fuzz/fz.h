/*
 * fz.h - what every harness in fuzz/ shares: one embedded Lua 5.4 state with
 * the C core loaded exactly as `require` loads it (cjson.safe included), a
 * reader that carves typed values out of the fuzzer's bytes, and the checks
 * that turn a broken promise of the module into a crash libFuzzer reports.
 *
 * The state lives for the whole run: what a harness leaves in it is reachable
 * (not a leak); every harness restores the stack top after each input.
 */
#ifndef DBW_FZ_H
#define DBW_FZ_H

#include <stddef.h>
#include <stdint.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

/* The state, created on first use: package.path points at the repo's lua/,
 * the core module is in package.loaded and its table at registry FZ_CORE. */
lua_State *fz_lua(void);
#define FZ_CORE "fuzz.core"

/* Ends an input: restores the stack top and runs a full collection, so that
 * what the input allocated is freed now. Otherwise the Lua heap's debt makes
 * mallocs outnumber frees and libFuzzer runs a (slow) leak check every time. */
void fz_done(lua_State *L, int top);

/* Pushes the core module table. */
void fz_push_core(lua_State *L);

/* Pushes cjson.safe.<fn> (the reference the harnesses compare with). */
void fz_push_cjson(lua_State *L, const char *fn);

/* cjson.safe.decode(s), nulls kept as cjson.null: pushes the value and
 * returns 1, or pushes nothing and returns 0. */
int fz_cjson_decode(lua_State *L, const char *s, size_t n);

/* Aborts with a message: libFuzzer saves the input as a crash. */
void fz_fail(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2), noreturn))
#endif
    ;

#define FZ_ASSERT(cond, ...)                                                                                 \
    do {                                                                                                     \
        if (!(cond))                                                                                         \
            fz_fail(__VA_ARGS__);                                                                            \
    } while (0)

/* Lua code is invisible to libFuzzer's coverage: while on, a line hook feeds
 * the edges between executed Lua lines to libFuzzer as extra counters, so
 * inputs that reach new lines of config.lua are kept. */
void fz_lua_coverage(lua_State *L, int on);

/* cjson is not instrumented either, so decoded JSON of any shape looks the
 * same to libFuzzer. This feeds it the shape of the value at idx instead
 * (types, array-ness and the API's field names, a few levels deep), so that
 * an input with a new shape is kept. */
void fz_shape_feature(lua_State *L, int idx);

/* ---- carving the input ---------------------------------------------------- */

typedef struct fz_in {
    const uint8_t *p;
    size_t n;
} fz_in;

unsigned fz_u8(fz_in *in); /* 0 when exhausted */
unsigned fz_u16(fz_in *in);
/* A length-prefixed slice (one length byte, at most max). */
const char *fz_bytes(fz_in *in, size_t max, size_t *len);
/* Everything that is left. */
const char *fz_rest(fz_in *in, size_t *len);

/* ---- checks on what the module returns ------------------------------------ */

/* The value at idx holds no cjson.null and, with numbers set (5.3+), no
 * float with an integral value that normalisation should have turned into an
 * integer. (The five operations' results convert only their known integer
 * fields, the timestamps and status_code; client:request's converts all.) */
void fz_check_plain(lua_State *L, int idx, const char *what, int numbers);

/* The number at t[key], if any, is an integer when it is integral (5.3+). */
void fz_check_integer_field(lua_State *L, int t, const char *key, const char *what);

/* 1 when the table at idx has exactly the keys 1..#t. */
int fz_is_array(lua_State *L, int idx);

/* The value at idx is an error object: the Error metatable, a non-empty
 * error_code string, a message string; tostring works and is one line. */
void fz_check_error(lua_State *L, int idx, const char *what);

#endif
