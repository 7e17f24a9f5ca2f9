/*
 * json.h - JSON for the module: encoding through lua-cjson (cjson.safe), and
 * decoding by our own parser (json_decode.c) that hands back plain Lua values.
 *
 * cjson.safe is required once in luaopen and its encode function, like the
 * decoder's table of common strings, is kept in the registry of that
 * lua_State (never in C statics: one process may run several independent
 * states, one client per thread).
 */
#ifndef DBW_JSON_H
#define DBW_JSON_H

#include <stddef.h>

#include "buf.h"
#include "compat.h"

/* Loads cjson.safe and sets up the decoder; raises a Lua error when cjson is
 * not installed. interned: NULL-terminated lists of strings (field names,
 * enum values) the decoder pushes from a table instead of hashing them
 * again; the whole array ends with NULL. */
void dbw_json_init(lua_State *L, const char *const *const *interned);

/* The decoder's part of dbw_json_init (json_decode.c). */
void dbw_json_decode_init(lua_State *L, const char *const *const *interned);

/* Decodes n bytes of JSON. Pushes the value and returns 1, or pushes nothing
 * and returns 0. The value is plain: nulls are left out (object members are
 * absent, arrays close up, a top-level null is nil) and, from Lua 5.3 on,
 * integral numbers within 2^53 are integers. */
int dbw_json_decode(lua_State *L, const char *s, size_t n);

/* The default cap on decoded values (every value and object key counts). */
#define DBW_JSON_MAX_VALUES 1000000u

enum { DBW_JSON_OOM = -2, DBW_JSON_TOO_MANY = -1, DBW_JSON_BAD = 0, DBW_JSON_OK = 1 };

/* Like dbw_json_decode, with at most max_values values: returns DBW_JSON_OK
 * (value pushed), DBW_JSON_BAD (not JSON) or DBW_JSON_TOO_MANY; nothing is
 * pushed on failure and what was built is left to the collector. Plain
 * dbw_json_decode caps at DBW_JSON_MAX_VALUES. */
int dbw_json_decode_max(lua_State *L, const char *s, size_t n, size_t max_values);

/* Encodes the value at idx and appends the JSON to out: DBW_JSON_OK;
 * DBW_JSON_BAD with the reason pushed (the only case that pushes); or
 * DBW_JSON_OOM when out could not grow. */
int dbw_json_encode_into(lua_State *L, int idx, dbw_buf *out);

/* For a table the decoder made: 1 when it came from a JSON array. Objects get
 * string keys only, so a non-empty array part (or no keys at all) tells the
 * two apart without a walk. */
int dbw_json_is_array(lua_State *L, int idx);

#endif
