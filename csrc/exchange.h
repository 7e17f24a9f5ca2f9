/*
 * exchange.h - everything between "this request is valid" and "this is the
 * final response": getting an OAuth token when needed, attaching headers,
 * deciding after each attempt whether to retry, refresh the token, or stop.
 *
 * It is a step function, not a loop, so that the same policy drives both the
 * libcurl path (the C loop of driver.c) and a Lua transport that must yield
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

/* Why the exchange stopped retrying: the error says it (dbw_exchange_summary). */
typedef enum {
    DBW_STOP_FINAL,    /* the last outcome is not retried (or is the result) */
    DBW_STOP_ATTEMPTS, /* DBW_MAX_ATTEMPTS were made */
    DBW_STOP_BUDGET    /* the next retry would start past retry_timeout */
} dbw_stop;

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
    double budget; /* the client's retry_timeout when the exchange began */
    dbw_stop stop;

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

/* What an exchange that made API attempts says about them at its end, e.g.
 * "6 attempts in 4.90 s; the next retry would start past retry_timeout 5 s",
 * into out (always terminated). last is the final response. The error of
 * every driver (driver.c, the Lua one) gets its words from here. */
void dbw_exchange_summary(const dbw_exchange *ex, const dbw_response *last, double now, char *out,
                          size_t size);

#endif
