/*
 * request.h - one prepared API request, owning everything it is made of:
 * method and path (the operation table's static strings, or copies for
 * client:request), the full URL, the JSON body (wiped when freed: it may
 * carry a webhook secret or a job access token), what shaping the answer
 * needs later (the shape, the id an update names) and a message buffer for
 * why preparing failed or why the call did. Every driver (a single call,
 * client:bulk, the step-by-step Stepper) takes one; none borrows the
 * client's memory.
 *
 * A dbw_req lives in a Lua userdata (dbw_req_push, dbw_req_push_array) whose
 * __gc frees it, so a Lua error raised between preparing and finishing leaks
 * nothing; drivers also call dbw_req_free as soon as a call is over, so the
 * body is wiped then and not at some later collection.
 */
#ifndef DBW_REQUEST_H
#define DBW_REQUEST_H

#include "buf.h"
#include "client.h"
#include "ops.h"

typedef struct dbw_req {
    const char *method;
    const char *path; /* no host, no query: for logs and error objects */
    char *owned;      /* client:request's method and path, one allocation */
    dbw_buf url;
    dbw_buf body;
    int has_body;
    int replay_safe;
    dbw_shape shape;
    char *update_id; /* update: the id, for a workspace that echoes no webhook */
    dbw_buf msg;
} dbw_req;

/* Pushes a userdata holding one zeroed request (n of them for the array)
 * and returns it; __gc frees them. */
dbw_req *dbw_req_push(lua_State *L);
dbw_req *dbw_req_push_array(lua_State *L, size_t n);

/* Validates the request table at reqidx against op's schema and builds r.
 * Returns 0, or -1 with the reason in r->msg (nothing is to be sent). */
int dbw_req_prepare_op(lua_State *L, const dbw_client *c, const dbw_op *op, int reqidx, dbw_req *r);

/* The same for client:request(method, path, body, query) at stack indexes
 * first .. first + 3; misuse (wrong argument types) raises. */
int dbw_req_prepare_raw(lua_State *L, const dbw_client *c, int first, dbw_req *r);

/* Pushes nil and the INVALID_PARAMETER_VALUE error of a failed prepare; returns 2. */
int dbw_req_push_invalid(lua_State *L, const dbw_req *r);

/* Frees what r owns (the body wiped first) and zeroes it. Idempotent. */
void dbw_req_free(dbw_req *r);

#endif
