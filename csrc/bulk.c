#include "bulk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "exchange.h"
#include "http.h"
#include "ops.h"
#include "request.h"
#include "retry.h"

typedef enum { ITEM_READY, ITEM_ACTIVE, ITEM_SLEEPING, ITEM_DONE } item_state;

typedef struct item {
    dbw_exchange ex;
    dbw_req *req; /* in the call's array of requests (request.h) */
    item_state state;
    double wake;             /* monotonic time a SLEEPING item may go again */
    const char *last_method; /* of the request in flight (an API or a token request), */
    const char *last_path;   /* for its debug line */
} item;

static const dbw_op *op_by_name(const dbw_client *c, const char *name)
{
    const dbw_op *op = dbw_op_find(c->family, name);
    return op != NULL && op->in_bulk ? op : NULL;
}

/* Grows the client's pool of handles (copies of its own, same options). */
static int ensure_pool(dbw_client *c, int n)
{
    dbw_conn **p;
    if (dbw_http_multi(c) != 0)
        return -1;
    if (c->npool >= n)
        return 0;
    p = realloc(c->pool, (size_t)n * sizeof *p);
    if (p == NULL)
        return -1;
    c->pool = p;
    while (c->npool < n) {
        dbw_conn *k = malloc(sizeof *k);
        if (k == NULL)
            return -1;
        if (dbw_conn_init(k, &c->conn, &c->counters, c->conn.max_response) != 0) {
            free(k);
            return -1;
        }
        c->pool[c->npool++] = k;
    }
    return 0;
}

/* Pushes request i of the array at 3 as a table: a bare id becomes { id = ... }. */
static void push_request(lua_State *L, const dbw_op *op, size_t i)
{
    lua_rawgeti(L, 3, (int)i + 1);
    if ((lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER) && op->id_positional) {
        lua_createtable(L, 0, 1);
        lua_insert(L, -2);
        lua_setfield(L, -2, "id");
    }
}

/* Stores the outcome (pushed by dbw_call_finish or validation) as results[i]. */
static void store_result(lua_State *L, int results, int i, int nret)
{
    lua_createtable(L, 0, 1);
    if (nret == 1) {
        lua_pushvalue(L, -2);
        lua_setfield(L, -2, "ok");
    } else {
        lua_pushvalue(L, -2);
        lua_setfield(L, -2, "err");
    }
    lua_rawseti(L, results, i + 1);
    lua_pop(L, nret);
}

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
    if (rs->net != DBW_NET_OK)
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

/* Takes the next step of item i given its last response (or NULL), starting
 * a transfer on `slot` when the exchange wants to send. */
static void advance(lua_State *L, dbw_client *c, item *it, int i, const dbw_response *rs, int slot,
                    int results, int *done)
{
    dbw_request rq;
    double delay;
    dbw_ex_action act = dbw_exchange_step(L, c, &it->ex, rs, &rq, &delay);
    if (act == DBW_EX_SEND) {
        dbw_conn *k = c->pool[slot];
        if (dbw_http_start(k, &rq) == 0 && curl_multi_add_handle(c->multi, k->curl) == CURLM_OK) {
            it->state = ITEM_ACTIVE;
            it->last_method = rq.method;
            it->last_path = rq.path;
            return;
        }
        luaL_error(L, "databricks.webhooks: bulk: cannot start a transfer (out of memory)");
    }
    if (act == DBW_EX_SLEEP) {
        it->state = ITEM_SLEEPING;
        it->wake = dbw_now() + delay;
        return;
    }
    store_result(L, results, i, dbw_call_finish(L, c, &it->ex, rs, it->req));
    dbw_req_free(it->req); /* its body wiped as soon as it is done */
    it->state = ITEM_DONE;
    (*done)++;
}

int dbw_bulk(lua_State *L, dbw_client *c)
{
    const dbw_op *op = op_by_name(c, luaL_checkstring(L, 2));
    size_t n, i;
    lua_Integer parallel = 8;
    int results, done = 0, active, slot, sleeping = 0, *slot_item;
    window win;
    size_t cursor = 0;
    item *items;
    dbw_req *reqs;

    luaL_argcheck(L, op != NULL, 2, "one of \"create\", \"update\", \"delete\", \"test\" expected");
    luaL_checktype(L, 3, LUA_TTABLE);
    if (!lua_isnoneornil(L, 4)) {
        luaL_checktype(L, 4, LUA_TTABLE);
        lua_getfield(L, 4, "parallel");
        if (!lua_isnil(L, -1))
            parallel = luaL_checkinteger(L, -1);
        lua_pop(L, 1);
        luaL_argcheck(L, parallel >= 1 && parallel <= DBW_BULK_MAX_PARALLEL, 4, "parallel must be 1..64");
    }
    lua_settop(L, 4);
    n = dbw_rawlen(L, 3);
    lua_createtable(L, (int)n, 0);
    results = lua_gettop(L);
    items = lua_newuserdata(L, (n ? n : 1) * sizeof *items); /* freed by the GC, even on error */
    memset(items, 0, (n ? n : 1) * sizeof *items);
    reqs = dbw_req_push_array(L, n); /* each request owns its memory; __gc frees what is left */

    /* Misuse raises before anything is sent. */
    for (i = 0; i < n; i++) {
        push_request(L, op, i);
        if (lua_type(L, -1) != LUA_TTABLE)
            return luaL_error(L, "bad request #%d to 'bulk' (table expected, got %s)", (int)i + 1,
                              luaL_typename(L, -1));
        lua_pop(L, 1);
    }

    /* Validate and build each; invalid ones are answered at once. */
    for (i = 0; i < n; i++) {
        int top = lua_gettop(L);
        items[i].req = &reqs[i];
        push_request(L, op, i);
        if (dbw_req_prepare_op(L, c, op, top + 1, &reqs[i]) != 0) {
            int nret = dbw_req_push_invalid(L, &reqs[i]);
            lua_remove(L, top + 1);
            store_result(L, results, (int)i, nret);
            dbw_req_free(&reqs[i]);
            items[i].state = ITEM_DONE;
            done++;
            continue;
        }
        dbw_exchange_begin(&items[i].ex, c, &reqs[i]);
        lua_settop(L, top);
    }

    if ((size_t)parallel > n)
        parallel = n ? (lua_Integer)n : 1;
    if (ensure_pool(c, (int)parallel) != 0)
        return luaL_error(L, "databricks.webhooks: bulk: cannot create connections");
    /* slot_item[s]: the item running on slot s, or -1 */
    slot_item = lua_newuserdata(L, (size_t)parallel * sizeof *slot_item);
    for (slot = 0; slot < parallel; slot++)
        slot_item[slot] = -1;

    win.size = (double)parallel;
    win.max = (int)parallel;
    win.cut_at = 0;
    while ((size_t)done < n) {
        CURLMsg *msg;
        int running, left, finished = 0;
        double now = dbw_now(), next_wake = now + 1.0, pace;

        /* Fill free slots: first items whose wait is over, then new ones. */
        for (active = 0, slot = 0; slot < parallel; slot++)
            active += slot_item[slot] >= 0;
        for (slot = 0; slot < parallel; slot++) {
            while (slot_item[slot] < 0 && may_start(c, &win, active)) {
                size_t j = n;
                if (sleeping > 0) {
                    for (j = 0; j < n; j++)
                        if (items[j].state == ITEM_SLEEPING && items[j].wake <= now)
                            break;
                    if (j < n)
                        sleeping--;
                }
                if (j == n) {
                    while (cursor < n && items[cursor].state != ITEM_READY)
                        cursor++;
                    if (cursor == n)
                        break;
                    j = cursor++;
                }
                advance(L, c, &items[j], (int)j, NULL, slot, results, &done);
                if (items[j].state == ITEM_ACTIVE) {
                    slot_item[slot] = (int)j;
                    active++;
                } else if (items[j].state == ITEM_SLEEPING)
                    sleeping++;
            }
        }
        if ((size_t)done >= n)
            break;

        curl_multi_perform(c->multi, &running);
        while ((msg = curl_multi_info_read(c->multi, &left)) != NULL) {
            dbw_response rs;
            item *it;
            if (msg->msg != CURLMSG_DONE)
                continue;
            for (slot = 0; slot < parallel && c->pool[slot]->curl != msg->easy_handle; slot++)
                ;
            if (slot == parallel || slot_item[slot] < 0)
                continue;
            it = &items[slot_item[slot]];
            curl_multi_remove_handle(c->multi, msg->easy_handle);
            finished++;
            dbw_http_finish(c->pool[slot], msg->data.result, &rs);
            dbw_call_log(L, c, it->last_method, it->last_path, &rs,
                         it->ex.sent == DBW_SENT_API ? it->ex.attempts : 1);
            if (it->ex.sent == DBW_SENT_API)
                adapt(L, c, &win, &rs, c->pool[slot]->started);
            advance(L, c, it, slot_item[slot], &rs, slot, results, &done);
            if (it->state != ITEM_ACTIVE) {
                if (it->state == ITEM_SLEEPING)
                    sleeping++;
                slot_item[slot] = -1;
            }
        }
        if (finished > 0)
            continue; /* refill the freed slots before waiting on the others */
        for (i = 0; sleeping > 0 && i < n; i++)
            if (items[i].state == ITEM_SLEEPING && items[i].wake < next_wake)
                next_wake = items[i].wake;
        pace = dbw_pace_delay(&c->pace, now);
        if (pace > 0 && now + pace < next_wake)
            next_wake = now + pace;
        for (active = 0, slot = 0; slot < parallel; slot++)
            active += slot_item[slot] >= 0;
        if (active > 0) {
            int ms = (int)((next_wake - dbw_now()) * 1000) + 1; /* never 0: no spin */
            curl_multi_poll(c->multi, NULL, 0, ms < 1 ? 1 : ms, NULL);
        } else if ((size_t)done < n) {
            dbw_sleep(next_wake - dbw_now());
        }
    }
    lua_pushvalue(L, results);
    return 1;
}
