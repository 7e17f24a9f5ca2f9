#include "exchange.h"

#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "clock.h"
#include "request.h"
#include "retry.h"

void dbw_exchange_begin(dbw_exchange *ex, dbw_client *c, const dbw_req *r)
{
    memset(ex, 0, sizeof *ex);
    ex->method = r->method;
    ex->path = r->path;
    ex->url = r->url.data;
    ex->body = r->has_body ? (r->body.data ? r->body.data : "") : NULL;
    ex->body_len = r->body.len;
    ex->replay_safe = r->replay_safe;
    ex->started = dbw_now();
    ex->budget = c->retry_timeout;
    ex->deadline = ex->started + c->retry_timeout;
}

static void api_request(dbw_client *c, dbw_exchange *ex, dbw_request *rq)
{
    memset(rq, 0, sizeof *rq);
    rq->method = ex->method;
    rq->url = ex->url;
    rq->path = ex->path;
    rq->body = ex->body;
    rq->body_len = ex->body_len;
    rq->headers[rq->nheaders++] = "Accept: application/json";
    if (ex->body)
        rq->headers[rq->nheaders++] = "Content-Type: application/json";
    if (c->auth_header.len > 0) /* a server without authentication (auth_type "none") */
        rq->headers[rq->nheaders++] = c->auth_header.data;
    /* Only when configured, as the SDKs do (unified hosts). */
    if (c->workspace_header)
        rq->headers[rq->nheaders++] = c->workspace_header;
    /* libcurl would add "Expect: 100-continue" to large bodies: a wasted round trip. */
    rq->headers[rq->nheaders++] = "Expect:";
}

static dbw_ex_action done_with(dbw_exchange *ex, const char *code, long status)
{
    ex->err_code = code;
    ex->err_status = status;
    return DBW_EX_DONE;
}

/* How long an exchange waits before it looks again at a token that another
 * exchange of the client (client:bulk) is fetching. */
#define TOKEN_WAIT 0.005

/* The client's pace (pace.h) before every API send: one sleep for a
 * Retry-After pause, then one for the rate limit's token, taken at once. */
static dbw_ex_action wait_for_pace(dbw_client *c, dbw_exchange *ex, double *delay)
{
    /* A pause is slept through once: asking again after the sleep would spin
     * when a transport's sleep returns early (or does not sleep at all). */
    double now = dbw_now(), wait = c->pace.hold > ex->pause_served ? dbw_pace_held(&c->pace, now) : 0;
    if (wait > 0) {
        ex->pause_served = c->pace.hold;
    } else {
        wait = dbw_pace_take(&c->pace, now);
        ex->paced = 1;
    }
    if (wait <= 0)
        return DBW_EX_SEND;
    *delay = wait;
    ex->sent = DBW_SENT_NOTHING;
    return DBW_EX_SLEEP;
}

static dbw_ex_action next_send(lua_State *L, dbw_client *c, dbw_exchange *ex, dbw_request *rq, double *delay)
{
    double now = dbw_now();
    if (!dbw_auth_ready(c, now)) {
        const char *code;
        if (dbw_auth_refreshing(c, now)) {
            *delay = TOKEN_WAIT;
            ex->sent = DBW_SENT_NOTHING;
            return DBW_EX_SLEEP;
        }
        code = dbw_auth_next_request(L, c, rq);
        if (code)
            return done_with(ex, code, 0);
        if (rq->url) {
            ex->sent = DBW_SENT_TOKEN;
            return DBW_EX_SEND;
        }
    }
    if (!ex->paced && wait_for_pace(c, ex, delay) == DBW_EX_SLEEP)
        return DBW_EX_SLEEP;
    ex->paced = 0;
    api_request(c, ex, rq);
    ex->sent = DBW_SENT_API;
    ex->attempts++;
    return DBW_EX_SEND;
}

/* One debug line per retry: what failed, when the next attempt goes and how
 * much of the budget is gone (the per-attempt lines of call.c say how each
 * attempt ended). */
static void log_retry(lua_State *L, dbw_client *c, const dbw_exchange *ex, const dbw_response *last,
                      double wait, double now)
{
    char line[512], what[300];
    if (!c->debug_stderr && c->debug_ref == LUA_NOREF)
        return;
    if (last->net == DBW_NET_OK)
        snprintf(what, sizeof what, "answered HTTP %ld", last->status);
    else
        snprintf(what, sizeof what, "failed (%s)", last->net_msg ? last->net_msg : "network error");
    snprintf(line, sizeof line,
             "databricks.webhooks: retry: %s %s %s; attempt %d of at most %d in %.2f s (%.2f s elapsed, "
             "retry_timeout %g s)",
             ex->method, ex->path, what, ex->attempts + 1, DBW_MAX_ATTEMPTS, wait, now - ex->started,
             ex->budget);
    dbw_client_debug(L, c, line);
}

/* Why a failure was not retried, when one attempt is all there was. */
static const char *not_retried(const dbw_response *last)
{
    switch (last->net) {
    case DBW_NET_TIMEOUT:
        return "a timeout is not retried";
    case DBW_NET_CONNECTION:
        return "a request that may have reached the server is not sent again";
    case DBW_NET_TLS:
        return "a TLS failure is not retried";
    case DBW_NET_TOO_LARGE:
        return "an answer over the size limit is not retried";
    case DBW_NET_LOCAL:
        return "refused before sending, so not retried";
    default:
        return "not retried";
    }
}

void dbw_exchange_summary(const dbw_exchange *ex, const dbw_response *last, double now, char *out,
                          size_t size)
{
    char head[64];
    snprintf(head, sizeof head, "%d attempt%s in %.2f s", ex->attempts, ex->attempts == 1 ? "" : "s",
             now - ex->started);
    switch (ex->stop) {
    case DBW_STOP_ATTEMPTS:
        snprintf(out, size, "%s, the most a call makes; retry_timeout %g s", head, ex->budget);
        break;
    case DBW_STOP_BUDGET:
        if (ex->budget <= 0)
            snprintf(out, size, "%s; retry_timeout 0: no retries", head);
        else
            snprintf(out, size, "%s; the next retry would start past retry_timeout %g s", head, ex->budget);
        break;
    default:
        if (ex->attempts == 1 && last != NULL)
            snprintf(out, size, "%s; %s; retry_timeout %g s", head, not_retried(last), ex->budget);
        else
            snprintf(out, size, "%s; retry_timeout %g s", head, ex->budget);
        break;
    }
}

dbw_ex_action dbw_exchange_step(lua_State *L, dbw_client *c, dbw_exchange *ex, const dbw_response *last,
                                dbw_request *rq, double *delay)
{
    double now, wait;
    const char *code;

    *delay = 0;
    if (last == NULL)
        return next_send(L, c, ex, rq, delay);

    switch (ex->sent) {
    case DBW_SENT_DISCOVERY:
    case DBW_SENT_TOKEN:
        code = dbw_auth_on_response(L, c, last, dbw_now());
        if (code)
            return done_with(ex, code, last->net == DBW_NET_OK ? last->status : 0);
        return next_send(L, c, ex, rq, delay);
    case DBW_SENT_API:
        break;
    case DBW_SENT_NOTHING:
        return next_send(L, c, ex, rq, delay);
    }

    /* A rejected OAuth token may have been revoked early: refresh it once. */
    if (last->net == DBW_NET_OK && last->status == 401 && !ex->reauthed && dbw_auth_invalidate(c)) {
        ex->reauthed = 1;
        return next_send(L, c, ex, rq, delay);
    }
    if (!dbw_retry_allowed(last, ex->replay_safe)) {
        ex->stop = DBW_STOP_FINAL;
        return DBW_EX_DONE;
    }
    if (ex->attempts >= DBW_MAX_ATTEMPTS) {
        ex->stop = DBW_STOP_ATTEMPTS;
        return DBW_EX_DONE;
    }
    now = dbw_now();
    /* Retry-After may lengthen a wait, never shorten it below the backoff:
     * "Retry-After: 0" (or a date in the past) must not make a hot loop. */
    wait = dbw_backoff(ex->attempts, &c->rng);
    if (last->retry_after > wait)
        wait = last->retry_after;
    /* Out of budget: the last real error is the answer, not a generic timeout. */
    if (now + wait > ex->deadline) {
        ex->stop = DBW_STOP_BUDGET;
        return DBW_EX_DONE;
    }
    /* The workspace's "not before" holds for every request of this client
     * (only when this one waits for it too: past its budget it is an answer). */
    if (last->net == DBW_NET_OK && last->status == 429 && last->retry_after > 0) {
        dbw_pace_hold(&c->pace, now + last->retry_after);
        ex->pause_served = c->pace.hold; /* this exchange sleeps at least that long now */
    }
    log_retry(L, c, ex, last, wait, now);
    *delay = wait;
    ex->sent = DBW_SENT_NOTHING;
    return DBW_EX_SLEEP;
}
