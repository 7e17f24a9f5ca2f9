/*
 * retry.h - which failures are retried, and how long to wait.
 *
 * Policy (see README "Network"): 429 and 503 are retried on every operation,
 * honouring Retry-After; failures before any byte was sent are retried on
 * every operation; a timeout or a drop after the request may have reached the
 * server is retried only for operations that are safe to replay (list), so a
 * create is never duplicated. Everything happens within retry_timeout.
 */
#ifndef DBW_RETRY_H
#define DBW_RETRY_H

#include <stdint.h>

#include "transport.h"

/* Seconds to wait from a Retry-After value (delta-seconds or HTTP-date), or -1. */
double dbw_retry_after_parse(const char *value, double now_epoch);

/* Whether this outcome may be retried at all. */
int dbw_retry_allowed(const dbw_response *rs, int replay_safe);

/* Exponential backoff with jitter for attempt n (1-based), in seconds. */
double dbw_backoff(int attempt, uint64_t *rng);

#endif
