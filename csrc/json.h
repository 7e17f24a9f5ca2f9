/*
 * json.h - the bridge to lua-cjson (cjson.safe) and response normalisation.
 *
 * cjson.safe is required once in luaopen and its encode/decode functions are
 * kept in the registry of that lua_State (never in C statics: one process may
 * run several independent states, one client per thread).
 */
#ifndef DBW_JSON_H
#define DBW_JSON_H

#include <stddef.h>

#include "compat.h"

/* Loads cjson.safe; raises a Lua error when it is not installed. */
void dbw_json_init(lua_State *L);

/* Decodes n bytes. Pushes the value and returns 1, or pushes nothing and returns 0. */
int dbw_json_decode(lua_State *L, const char *s, size_t n);

/* Encodes the value at idx. Pushes the JSON string and returns 1, or pushes an
 * error message and returns 0. */
int dbw_json_encode(lua_State *L, int idx);

/* In place, recursively: cjson.null becomes nil (arrays are closed up, so they
 * stay arrays), integral numbers become Lua integers (5.3+; cjson 2.1 decodes
 * every number as a float). */
void dbw_json_normalize(lua_State *L, int idx);

/* The same for nulls only: responses of a known shape convert just their
 * integer fields (dbw_json_integer_field), which is much cheaper on big pages. */
void dbw_json_drop_nulls(lua_State *L, int idx);

/* t[key] becomes a Lua integer when it is an integral float (5.3+; no-op before). */
void dbw_json_integer_field(lua_State *L, int t, const char *key);

/* For a table cjson made: 1 when it came from a JSON array. cjson gives JSON
 * objects string keys only, so a non-empty array part (or no keys at all)
 * tells the two apart without a walk. */
int dbw_json_is_array(lua_State *L, int idx);

#endif
