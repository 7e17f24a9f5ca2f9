#define _POSIX_C_SOURCE 200809L
#include "retry.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

/* Retry-After longer than this is treated as "not within any budget". */
#define RETRY_AFTER_MAX 86400.0

double dbw_retry_after_parse(const char *v, double now_epoch)
{
    char *end;
    double secs;
    time_t when;
    if (v == NULL)
        return -1;
    while (*v == ' ' || *v == '\t')
        v++;
    if (*v == '\0')
        return -1;
    if (isdigit((unsigned char)*v)) {
        errno = 0;
        secs = strtod(v, &end);
        while (*end == ' ' || *end == '\t')
            end++;
        if (errno == 0 && *end == '\0' && secs >= 0)
            return secs > RETRY_AFTER_MAX ? RETRY_AFTER_MAX : secs;
        return -1;
    }
    /* An HTTP-date (RFC 9110 allows it); curl_getdate parses all three forms. */
    when = curl_getdate(v, NULL);
    if (when == (time_t)-1)
        return -1;
    secs = (double)when - now_epoch;
    if (secs < 0)
        secs = 0;
    return secs > RETRY_AFTER_MAX ? RETRY_AFTER_MAX : secs;
}

int dbw_retry_allowed(const dbw_response *rs, int replay_safe)
{
    switch (rs->net) {
    case DBW_NET_OK:
        return rs->status == 429 || rs->status == 503;
    case DBW_NET_CONNECT:
        return 1;
    case DBW_NET_CONNECTION:
        return replay_safe;
    default:
        /* Timeouts are not retried: the user's timeout is a promise about how
         * long a call may block, and a stalled server would stall every retry. */
        return 0;
    }
}

static uint64_t next_random(uint64_t *s)
{
    /* xorshift64*: per-client state, so threads never share it. */
    uint64_t x = *s ? *s : 0x9E3779B97F4A7C15ull;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

double dbw_backoff(int attempt, uint64_t *rng)
{
    double base = 0.25, cap = 10.0, d;
    int i;
    for (i = 1; i < attempt && base < cap; i++)
        base *= 2;
    if (base > cap)
        base = cap;
    /* "Equal jitter": half fixed, half random, so waits grow but never sync up. */
    d = (double)(next_random(rng) >> 11) / 9007199254740992.0;
    return base / 2 + d * base / 2;
}
