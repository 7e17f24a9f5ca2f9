/*
 * auth.h - the Authorization header: a personal access token, or an OAuth
 * machine-to-machine token fetched from the workspace's token endpoint,
 * cached in the client and refreshed shortly before it expires or after a 401.
 * Token traffic goes through the same exchange (and transport) as API calls.
 */
#ifndef DBW_AUTH_H
#define DBW_AUTH_H

#include "client.h"
#include "transport.h"

/* Sets up the header for a PAT client (OAuth clients start with none). */
int dbw_auth_init(dbw_client *c);

/* 1 when the client has a header it may use now. */
int dbw_auth_ready(const dbw_client *c, double now);

/* Forget the OAuth token (after a 401). PAT clients: no effect, returns 0. */
int dbw_auth_invalidate(dbw_client *c);

/* The next token-related request to send: discovery first, then the token. */
void dbw_auth_next_request(dbw_client *c, dbw_request *rq, int *is_discovery);

/* Consumes a discovery response. Returns NULL when it named a token endpoint
 * on the workspace's own origin, else the error code, with a message naming
 * the refused URL in c->msg (nothing is guessed: the secret stays home). */
const char *dbw_auth_on_discovery(lua_State *L, dbw_client *c, const dbw_response *rs);

/* Consumes a token response. Returns NULL on success, else the error code,
 * with a message (never containing a secret) in c->msg. */
const char *dbw_auth_on_token(lua_State *L, dbw_client *c, const dbw_response *rs, double now);

#endif
