/*
 * pace.h - when the client may send its next API request: the rate_limit
 * option (a token bucket) and the pause a 429's Retry-After asks for.
 *
 * One per client, asked by exchange.c before every API send, so single
 * calls, client:bulk() and Lua transports share it. A send that finds the
 * bucket empty takes its token on credit and is told how long to wait for
 * it; the next one waits behind it. Waiters thus queue in order, sleeping,
 * and nobody polls.
 */
#ifndef DBW_PACE_H
#define DBW_PACE_H

typedef struct dbw_pace {
    double rate;   /* tokens per second; 0: no limit */
    double tokens; /* below 0: tokens promised to sends still waiting */
    double last;   /* monotonic time of the last refill */
    double hold;   /* monotonic time before which nothing is sent (Retry-After) */
} dbw_pace;

/* rate: requests per second, 0 for none. The bucket holds one request, as
 * the Go SDK's limiter does: sends are spread evenly, never bunched. */
void dbw_pace_init(dbw_pace *p, double rate, double now);

/* Seconds to wait for the pause asked by a Retry-After to end (0: none). */
double dbw_pace_held(const dbw_pace *p, double now);

/* Takes a token; returns the seconds until it is due (0: send now). */
double dbw_pace_take(dbw_pace *p, double now);

/* Seconds until a send could go, taking nothing: a pause, or an empty bucket. */
double dbw_pace_delay(const dbw_pace *p, double now);

/* A 429 said "not before `until`": every send of the client waits for it. */
void dbw_pace_hold(dbw_pace *p, double until);

#endif
