/*
 * call.h - one method call from validated request to returned value: build
 * the request (ops.c), drive the exchange (exchange.c) over libcurl, log each
 * attempt, shape the answer (response.c).
 *
 * The same build, log and finish steps serve the step-by-step Exchange of
 * stepper.c, which runs the exchange from Lua over a Lua transport; only the
 * driving loop differs, so the wire format and the error shapes exist once.
 */
#ifndef DBW_CALL_H
#define DBW_CALL_H

#include "client.h"
#include "exchange.h"
#include "ops.h"
#include "transport.h"

/* A validated, built request. method and path are static strings or Lua
 * strings on the caller's stack; url points into c->url; body (or NULL) is a
 * Lua string on the stack. All of it is valid until the calling C function
 * returns to Lua, and must be copied by anything that lives longer. */
typedef struct dbw_prepared {
    const char *method;
    const char *path;
    const char *url;
    size_t url_len;
    const char *body;
    size_t body_len;
    int replay_safe;
    dbw_shape shape;
} dbw_prepared;

/* Validates the request table at reqidx against op's schema and builds it.
 * Returns 0 and fills p, or pushes nil, err (nothing is sent) and returns 2. */
int dbw_call_prepare_op(lua_State *L, dbw_client *c, const dbw_op *op, int reqidx, dbw_prepared *p);

/* Same for client:request(method, path, body, query) at stack indexes 2..5. */
int dbw_call_prepare_raw(lua_State *L, dbw_client *c, dbw_prepared *p);

/* The debug line for one attempt (no-op unless the client has debug on).
 * May call the user's debug function: only call it where a Lua error cannot
 * unwind through libcurl. */
void dbw_call_log(lua_State *L, dbw_client *c, const char *method, const char *path, const dbw_response *rs,
                  int attempt);

/* Pushes what the method returns once the exchange is DONE: the shaped
 * result (returns 1) or nil, err (returns 2). rs is the last response
 * (unused when ex->err_code is set); reqidx as for dbw_response_push. */
int dbw_call_finish(lua_State *L, dbw_client *c, const dbw_exchange *ex, const dbw_response *rs,
                    dbw_shape shape, int reqidx);

/* Runs op with the request table at reqidx over libcurl; pushes result or nil, err. */
int dbw_call_op(lua_State *L, dbw_client *c, const dbw_op *op, int reqidx);

/* client:request(method, path, body, query) at stack indexes 2..5, over libcurl. */
int dbw_call_raw(lua_State *L, dbw_client *c);

#endif
