/*
 * call.h - one method call from validated request to returned value: build
 * the request (ops.c), drive the exchange (exchange.c) over libcurl or the
 * client's Lua transport, log each attempt, shape the answer (response.c).
 */
#ifndef DBW_CALL_H
#define DBW_CALL_H

#include "client.h"
#include "ops.h"

/* Runs op with the request table at reqidx; pushes result or nil, err. */
int dbw_call_op(lua_State *L, dbw_client *c, const dbw_op *op, int reqidx);

/* client:request(method, path, body, query) at stack indexes 2..5. */
int dbw_call_raw(lua_State *L, dbw_client *c);

#endif
