#include "bulk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "driver.h"
#include "exchange.h"
#include "http.h"
#include "ops.h"
#include "request.h"

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

/* Stores what item i's call returned as results[i] (see driver.h). */
static void store_done(lua_State *L, void *ud, size_t i, int nret)
{
    store_result(L, *(int *)ud, (int)i, nret);
}

int dbw_bulk(lua_State *L, dbw_client *c)
{
    const dbw_op *op = op_by_name(c, luaL_checkstring(L, 2));
    size_t n, i;
    lua_Integer parallel = DBW_BULK_PARALLEL;
    int results;
    dbw_item *items;
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
            items[i].state = DBW_ITEM_DONE;
            continue;
        }
        dbw_exchange_begin(&items[i].ex, c, &reqs[i]);
        lua_settop(L, top);
    }

    if ((size_t)parallel > n)
        parallel = n ? (lua_Integer)n : 1;
    if (ensure_pool(c, (int)parallel) != 0)
        return luaL_error(L, "databricks.webhooks: bulk: cannot create connections");
    dbw_drive(L, c, items, n, c->pool, (int)parallel, store_done, &results);
    lua_pushvalue(L, results);
    return 1;
}
