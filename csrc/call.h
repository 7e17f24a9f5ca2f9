/*
 * call.h - one method call from request table to returned value: prepare
 * the request (request.h), drive the exchange (exchange.c) over libcurl, log
 * each attempt, shape the answer (result.c).
 *
 * The same build, log and finish steps serve the step-by-step Stepper of
 * stepper.c, which runs the exchange from Lua over a Lua transport; only the
 * driving loop differs, so the wire format and the error shapes exist once.
 */
#ifndef DBW_CALL_H
#define DBW_CALL_H

#include "client.h"
#include "exchange.h"
#include "ops.h"
#include "request.h"
#include "transport.h"

/* The debug line for one attempt (no-op unless the client has debug on).
 * May call the user's debug function: only call it where a Lua error cannot
 * unwind through libcurl. */
void dbw_call_log(lua_State *L, dbw_client *c, const char *method, const char *path, const dbw_response *rs,
                  int attempt);

/* Pushes what the method returns once the exchange of request r is DONE:
 * the shaped result (returns 1) or nil, err (returns 2). rs is the last
 * response (unused when ex->err_code is set). */
int dbw_call_finish(lua_State *L, dbw_client *c, const dbw_exchange *ex, const dbw_response *rs, dbw_req *r);

/* Runs op with the request table at reqidx over libcurl; pushes result or nil, err. */
int dbw_call_op(lua_State *L, dbw_client *c, const dbw_op *op, int reqidx);

/* client:request(method, path, body, query) at stack indexes 2..5, over libcurl. */
int dbw_call_raw(lua_State *L, dbw_client *c);

#endif
