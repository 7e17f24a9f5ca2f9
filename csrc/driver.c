#include "driver.h"

#include <stdio.h>
#include <string.h>

#include "call.h"
#include "clock.h"
#include "http.h"
#include "pace.h"

/* How many transfers may be in flight: `parallel` at first, halved (at least
 * 1) by a 429, grown again by one per window's worth of successes. One cut
 * per round trip: 429s to transfers started before the last cut say nothing
 * new. */
typedef struct window {
    double size;
    double cut_at; /* monotonic time of the last cut */
    int max;       /* parallel */
} window;

static void adapt(lua_State *L, dbw_client *c, window *w, const dbw_response *rs, double started)
{
    char line[160];
    int before = (int)w->size;
    if (rs->net != DBW_NET_OK || w->max == 1)
        return;
    if (rs->status >= 200 && rs->status < 300) {
        w->size += 1.0 / w->size;
        if (w->size > w->max)
            w->size = w->max;
        if ((int)w->size == before)
            return;
        snprintf(line, sizeof line, "databricks.webhooks: bulk: at most %d in flight now", (int)w->size);
    } else if (rs->status == 429 && started >= w->cut_at) {
        w->size = w->size / 2 < 1 ? 1 : w->size / 2;
        w->cut_at = dbw_now();
        if ((int)w->size == before)
            return; /* one at a time already: nothing to say */
        snprintf(line, sizeof line, "databricks.webhooks: bulk: answered 429; at most %d in flight now",
                 (int)w->size);
    } else {
        return;
    }
    dbw_client_debug(L, c, line);
}

/* Whether another transfer may start now: the window and the client's pace. */
static int may_start(dbw_client *c, const window *w, int active)
{
    return active < (int)w->size && dbw_pace_delay(&c->pace, dbw_now()) <= 0;
}

/* A transfer libcurl could not start (out of memory): nothing was sent, and
 * the exchange takes it as a failed connection attempt. */
static void failed_start(dbw_conn *k, dbw_response *rs)
{
    dbw_http_finish(k, CURLE_OUT_OF_MEMORY, rs);
    rs->net = DBW_NET_CONNECT;
    rs->net_msg = "out of memory";
}

/* Takes the next step of item i given its last response (or NULL), starting
 * a transfer on k when the exchange wants to send. */
static void advance(lua_State *L, dbw_client *c, dbw_item *it, size_t i, const dbw_response *rs, dbw_conn *k,
                    dbw_item_done done, void *ud, size_t *ndone)
{
    for (;;) {
        dbw_request rq;
        dbw_response fail;
        double delay;
        dbw_ex_action act = dbw_exchange_step(L, c, &it->ex, rs, &rq, &delay);
        if (act == DBW_EX_SEND) {
            if (dbw_http_start(k, &rq) == 0 && curl_multi_add_handle(c->multi, k->curl) == CURLM_OK) {
                it->state = DBW_ITEM_ACTIVE;
                it->last_method = rq.method;
                it->last_path = rq.path;
                return;
            }
            failed_start(k, &fail);
            rs = &fail;
            continue;
        }
        if (act == DBW_EX_SLEEP) {
            it->state = DBW_ITEM_SLEEPING;
            it->wake = dbw_now() + delay;
            return;
        }
        it->state = DBW_ITEM_DONE;
        (*ndone)++;
        {
            int nret = dbw_call_finish(L, c, &it->ex, rs, it->req);
            dbw_req_free(it->req); /* its body wiped as soon as it is done */
            done(L, ud, i, nret);
        }
        return;
    }
}

void dbw_drive(lua_State *L, dbw_client *c, dbw_item *items, size_t n, dbw_conn **conns, int parallel,
               dbw_item_done done, void *ud)
{
    /* slot_item[s]: the item running on conns[s], or -1 */
    int slot_small[8] = {-1, -1, -1, -1, -1, -1, -1, -1}, *slot_item = slot_small, slot, active = 0,
        sleeping = 0;
    size_t ndone = 0, cursor = 0, i;
    window win;

    for (i = 0; i < n; i++)
        ndone += items[i].state == DBW_ITEM_DONE;
    if (ndone == n)
        return;
    if (parallel > (int)(sizeof slot_small / sizeof slot_small[0]))
        slot_item = lua_newuserdata(L, (size_t)parallel * sizeof *slot_item); /* collected, even on error */
    for (slot = 0; slot < parallel; slot++)
        slot_item[slot] = -1;
    if (dbw_http_multi(c) != 0)
        luaL_error(L, "databricks.webhooks: cannot create the libcurl multi handle");

    win.size = (double)parallel;
    win.max = parallel;
    win.cut_at = 0;
    while (ndone < n) {
        CURLMsg *msg;
        int running, left, finished = 0;
        double now = dbw_now(), next_wake = now + 1.0, pace;

        /* Fill free slots: first items whose wait is over, then new ones. */
        for (slot = 0; slot < parallel; slot++) {
            while (slot_item[slot] < 0 && may_start(c, &win, active)) {
                size_t j = n;
                if (sleeping > 0) {
                    for (j = 0; j < n; j++)
                        if (items[j].state == DBW_ITEM_SLEEPING && items[j].wake <= now)
                            break;
                    if (j < n)
                        sleeping--;
                }
                if (j == n) {
                    while (cursor < n && items[cursor].state != DBW_ITEM_READY)
                        cursor++;
                    if (cursor == n)
                        break;
                    j = cursor++;
                }
                advance(L, c, &items[j], j, NULL, conns[slot], done, ud, &ndone);
                if (ndone >= n)
                    return; /* the last item's values may be on the stack: touch nothing */
                if (items[j].state == DBW_ITEM_ACTIVE) {
                    slot_item[slot] = (int)j;
                    active++;
                } else if (items[j].state == DBW_ITEM_SLEEPING)
                    sleeping++;
            }
        }
        curl_multi_perform(c->multi, &running);
        while ((msg = curl_multi_info_read(c->multi, &left)) != NULL) {
            dbw_response rs;
            dbw_item *it;
            if (msg->msg != CURLMSG_DONE)
                continue;
            for (slot = 0; slot < parallel && conns[slot]->curl != msg->easy_handle; slot++)
                ;
            if (slot == parallel || slot_item[slot] < 0)
                continue;
            it = &items[slot_item[slot]];
            curl_multi_remove_handle(c->multi, msg->easy_handle);
            finished++;
            dbw_http_finish(conns[slot], msg->data.result, &rs);
            dbw_call_log(L, c, it->last_method, it->last_path, &rs,
                         it->ex.sent == DBW_SENT_API ? it->ex.attempts : 1);
            if (it->ex.sent == DBW_SENT_API)
                adapt(L, c, &win, &rs, conns[slot]->started);
            advance(L, c, it, (size_t)slot_item[slot], &rs, conns[slot], done, ud, &ndone);
            if (it->state != DBW_ITEM_ACTIVE) {
                if (it->state == DBW_ITEM_SLEEPING)
                    sleeping++;
                slot_item[slot] = -1;
                active--;
            }
            if (ndone >= n)
                return; /* the last item's values may be on the stack: touch nothing */
        }
        if (finished > 0)
            continue; /* refill the freed slots before waiting on the others */
        for (i = 0; sleeping > 0 && i < n; i++)
            if (items[i].state == DBW_ITEM_SLEEPING && items[i].wake < next_wake)
                next_wake = items[i].wake;
        pace = dbw_pace_delay(&c->pace, now);
        if (pace > 0 && now + pace < next_wake)
            next_wake = now + pace;
        if (active > 0) {
            int ms = (int)((next_wake - dbw_now()) * 1000) + 1; /* never 0: no spin */
            curl_multi_poll(c->multi, NULL, 0, ms < 1 ? 1 : ms, NULL);
        } else {
            dbw_sleep(next_wake - dbw_now());
        }
    }
}
