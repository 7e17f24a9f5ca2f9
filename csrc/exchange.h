/*
 * exchange.h - everything between "this request is valid" and "this is the
 * final response": getting an OAuth token when needed, attaching headers,
 * deciding after each attempt whether to retry, refresh the token, or stop.
 *
 * It is a step function, not a loop, so that the same policy drives both the
 * libcurl path (a C loop in call.c) and a Lua transport that must yield
 * between steps (OpenResty cosockets cannot be resumed through a C call).
 */
#ifndef DBW_EXCHANGE_H
#define DBW_EXCHANGE_H

#include "client.h"
#include "transport.h"

/* API attempts per call at most, whatever retry_timeout leaves. */
#define DBW_MAX_ATTEMPTS 10

typedef enum { DBW_EX_SEND, DBW_EX_SLEEP, DBW_EX_DONE } dbw_ex_action;

typedef enum { DBW_SENT_NOTHING, DBW_SENT_DISCOVERY, DBW_SENT_TOKEN, DBW_SENT_API } dbw_sent;

typedef struct dbw_exchange {
    /* the API request (request.h), owned by the driver, outliving the exchange */
    const char *method;
    const char *path; /* without query: for logs and errors */
    const char *url;
    const char *body; /* NULL: no body */
    size_t body_len;
    int replay_safe;

    dbw_sent sent;
    int attempts;        /* API attempts so far */
    int reauthed;        /* a 401 already caused one token refresh */
    int paced;           /* the next API send's token is taken (pace.h): it waited for it */
    double pause_served; /* the client pause (pace.h) this exchange already slept through */
    double started, deadline;

    /* set when DONE: either the last response is final, or a local error */
    const char *err_code; /* NULL: the last response is the result */
    long err_status;
} dbw_exchange;

struct dbw_req;

void dbw_exchange_begin(dbw_exchange *ex, dbw_client *c, const struct dbw_req *r);

/* Feeds the response to what was sent last (NULL on the first step) and says
 * what to do next: SEND rq, SLEEP *delay seconds, or DONE. On DONE with
 * ex->err_code set, c->msg holds the message. */
dbw_ex_action dbw_exchange_step(lua_State *L, dbw_client *c, dbw_exchange *ex, const dbw_response *last,
                                dbw_request *rq, double *delay);

#endif
