/*
 * urlenc.h - percent-encoding of query values and building query strings.
 * Every byte outside RFC 3986's unreserved set is escaped (space as %20),
 * so model names with spaces, '&', '/', '+' or UTF-8 arrive intact.
 */
#ifndef DBW_URLENC_H
#define DBW_URLENC_H

#include <stddef.h>

#include "buf.h"
#include "compat.h"

int dbw_urlenc_append(dbw_buf *b, const char *s, size_t n);

/* Appends "key=value" pairs for the value at idx: a string, number or
 * boolean gives one pair, an array one pair per element (repeated key).
 * *first tracks whether a '?' or '&' comes before the pair. */
int dbw_query_append(lua_State *L, dbw_buf *b, const char *key, int idx, int *first);

#endif
