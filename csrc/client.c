#include "client.h"

#include "auth.h"
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

static void free_secret(char **p)
{
    if (*p) {
        OPENSSL_cleanse(*p, strlen(*p));
        free(*p);
        *p = NULL;
    }
}

dbw_client *dbw_client_new(lua_State *L)
{
    dbw_client *c = lua_newuserdata(L, sizeof *c);
    /* Zeroed and tagged before anything is acquired, so __gc is always safe. */
    memset(c, 0, sizeof *c);
    c->closed = 1;
    c->debug_ref = LUA_NOREF;
    c->auth_fn_ref = LUA_NOREF;
    luaL_getmetatable(L, DBW_CLIENT_MT);
    lua_setmetatable(L, -2);
    lua_newtable(L); /* its box: see dbw_set_box */
    dbw_set_box(L, -2);
    return c;
}

dbw_client *dbw_client_check(lua_State *L, int idx)
{
    dbw_client *c = luaL_checkudata(L, idx, DBW_CLIENT_MT);
    if (c->closed || c->close_pending)
        luaL_error(L, "databricks.webhooks: client is closed");
    return c;
}

void dbw_client_release(lua_State *L, dbw_client *c)
{
    int i;
    for (i = 0; i < c->npool; i++) {
        dbw_conn_free(c->pool[i]);
        free(c->pool[i]);
    }
    free(c->pool);
    c->pool = NULL;
    c->npool = 0;
    if (c->multi)
        curl_multi_cleanup(c->multi);
    c->multi = NULL;
    dbw_conn_free(&c->conn);
    if (L)
        luaL_unref(L, LUA_REGISTRYINDEX, c->debug_ref);
    c->debug_ref = LUA_NOREF;
    free(c->host);
    free(c->user_agent);
    free(c->workspace_header);
    free(c->client_id);
    free(c->token_state.token_endpoint);
    c->host = c->user_agent = c->workspace_header = c->client_id = c->token_state.token_endpoint = NULL;
    free_secret(&c->token);
    free_secret(&c->client_secret);
    free_secret(&c->token_state.id_token);
    dbw_auth_release(L, c);
    dbw_buf_free(&c->auth_header);
    dbw_buf_free(&c->aux_header);
    dbw_buf_free(&c->aux_url);
    dbw_buf_free(&c->msg);
    c->closed = 1;
    c->close_pending = 0;
}

void dbw_client_end_call(lua_State *L, dbw_client *c, int aborted)
{
    if (aborted && !c->closed) {
        dbw_http_abandon(c);
        dbw_auth_abandon(c);
    }
    c->busy = 0;
    if (c->close_pending)
        dbw_client_release(L, c);
}

void dbw_client_debug(lua_State *L, const dbw_client *c, const char *line)
{
    if (c->debug_stderr) {
        fprintf(stderr, "%s\n", line);
        return;
    }
    if (c->debug_ref == LUA_NOREF)
        return;
    lua_rawgeti(L, LUA_REGISTRYINDEX, c->debug_ref);
    lua_pushstring(L, line);
    lua_call(L, 1, 0);
}
