/*
 * result.h - turning the final response of an exchange into what a method
 * returns: a plain table (nulls left out, integer numbers on 5.3+,
 * events always an array), or nil plus the structured error.
 */
#ifndef DBW_RESULT_H
#define DBW_RESULT_H

#include "client.h"
#include "exchange.h"
#include "ops.h"
#include "request.h"
#include "transport.h"

/* Pushes the result of request r (returns 1) or nil, err (returns 2); error
 * messages are built in r->msg. */
int dbw_result_push(lua_State *L, const dbw_client *c, dbw_req *r, const dbw_exchange *ex,
                    const dbw_response *rs);

/* Pushes nil, err for a failure below HTTP (returns 2). */
int dbw_result_push_net_error(lua_State *L, const dbw_exchange *ex, const dbw_response *rs);

#endif
