#include "pace.h"

/* Waits shorter than this are rounding, not waits. */
#define PACE_EPSILON 1e-6

void dbw_pace_init(dbw_pace *p, double rate, double now)
{
    p->rate = rate > 0 ? rate : 0;
    p->tokens = 1;
    p->last = now;
    p->hold = 0;
}

static double refilled(const dbw_pace *p, double now)
{
    double t = p->tokens;
    if (now > p->last)
        t += (now - p->last) * p->rate;
    return t > 1 ? 1 : t;
}

double dbw_pace_held(const dbw_pace *p, double now)
{
    return p->hold > now ? p->hold - now : 0;
}

double dbw_pace_take(dbw_pace *p, double now)
{
    if (p->rate <= 0)
        return 0;
    p->tokens = refilled(p, now) - 1;
    if (now > p->last)
        p->last = now;
    return p->tokens < -PACE_EPSILON ? -p->tokens / p->rate : 0;
}

double dbw_pace_delay(const dbw_pace *p, double now)
{
    double held = dbw_pace_held(p, now), t;
    if (held > 0 || p->rate <= 0)
        return held;
    t = refilled(p, now);
    return t < 1 - PACE_EPSILON ? (1 - t) / p->rate : 0;
}

void dbw_pace_hold(dbw_pace *p, double until)
{
    if (until > p->hold)
        p->hold = until;
}
