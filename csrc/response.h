/*
 * response.h - turning the final response of an exchange into what a method
 * returns: a plain table (nulls left out, integer numbers on 5.3+,
 * events always an array), or nil plus the structured error.
 */
#ifndef DBW_RESPONSE_H
#define DBW_RESPONSE_H

#include "client.h"
#include "exchange.h"
#include "ops.h"
#include "transport.h"

/* Pushes the result (returns 1) or nil, err (returns 2). reqidx is the
 * request table (for the id an update echoes back), or 0. */
int dbw_response_push(lua_State *L, dbw_client *c, dbw_shape shape, const dbw_exchange *ex,
                      const dbw_response *rs, int reqidx);

/* Pushes nil, err for a failure below HTTP (returns 2). */
int dbw_response_push_net_error(lua_State *L, const dbw_exchange *ex, const dbw_response *rs);

#endif
