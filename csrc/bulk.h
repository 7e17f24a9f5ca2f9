/*
 * bulk.h - client:bulk(op, requests, opts): many calls of one operation run
 * side by side over a libcurl multi handle, each with the same validation,
 * retry policy and result shaping as a single call (exchange.c, result.c).
 *
 *   local results = client:bulk("delete", { {id = "a"}, "b", ... }, { parallel = 8 })
 *   -- results[i] = { ok = <what client:delete would return> } or { err = <error object> }
 *
 * One failure never stops the others; results keep the input order.
 */
#ifndef DBW_BULK_H
#define DBW_BULK_H

#include "client.h"

/* client:bulk's transfers in flight: by default, and at most (the Lua
 * driver of webhooks.lua takes both from core.BULK_PARALLEL / _MAX_PARALLEL) */
#define DBW_BULK_PARALLEL 8
#define DBW_BULK_MAX_PARALLEL 64

/* Arguments at 2 (op name), 3 (array of requests), 4 (opts or nil). */
int dbw_bulk(lua_State *L, dbw_client *c);

#endif
