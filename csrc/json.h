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

/* In place, recursively: cjson.null becomes nil, integral numbers become Lua
 * integers (5.3+; cjson 2.1 decodes every number as a float). */
void dbw_json_normalize(lua_State *L, int idx);

#endif
