/*
 * driver.h - the libcurl driver: runs exchanges (request.h + exchange.h) to
 * their end on the client's multi handle, up to `parallel` transfers at a
 * time. A single call is a drive of one on the client's own handle;
 * client:bulk() is a drive of many over its pool of handles. Both share the
 * window that halves on a 429 and grows back with successes, the client's
 * pace, the sleeps of retries, and the debug lines.
 *
 * Lua errors (from the debug callback) may unwind out of dbw_drive: the
 * transfers it had started stay attached, and dbw_client_end_call(aborted)
 * detaches them (client.h); the requests are owned by userdata.
 */
#ifndef DBW_DRIVER_H
#define DBW_DRIVER_H

#include "client.h"
#include "exchange.h"
#include "request.h"

typedef enum { DBW_ITEM_READY, DBW_ITEM_ACTIVE, DBW_ITEM_SLEEPING, DBW_ITEM_DONE } dbw_item_state;

/* One exchange of a drive. */
typedef struct dbw_item {
    dbw_exchange ex;
    dbw_req *req; /* owned by a userdata of the caller's */
    dbw_item_state state;
    double wake;             /* monotonic time a SLEEPING item may go again */
    const char *last_method; /* of the request in flight (an API or a token request), */
    const char *last_path;   /* for its debug line */
} dbw_item;

/* Called when item i is done, with what the method returns pushed (nret
 * values: the result, or nil and the error). It pops them, except for the
 * last item of a drive, whose values may stay: the drive returns at once. */
typedef void (*dbw_item_done)(lua_State *L, void *ud, size_t i, int nret);

/* Runs items[0..n) (READY or already DONE) to their end over conns[0 ..
 * parallel), each request freed (its body wiped) as soon as it is done. */
void dbw_drive(lua_State *L, dbw_client *c, dbw_item *items, size_t n, dbw_conn **conns, int parallel,
               dbw_item_done done, void *ud);

#endif
