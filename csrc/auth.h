/*
 * auth.h - the Authorization header as a token source behind one interface:
 * "give me a header" (dbw_auth_ready + c->auth_header), "when does it expire"
 * (c->token_state.expiry) and "refresh it" (dbw_auth_next_request /
 * dbw_auth_on_response, one request at a time, driven by the exchange). The
 * exchange does not know which kind it talks to; each kind lives in its own
 * file (auth_none.c, auth_pat.c, auth_basic.c, auth_oauth.c, auth_azure.c,
 * auth_metadata.c, auth_callback.c).
 */
#ifndef DBW_AUTH_H
#define DBW_AUTH_H

#include "auth_settings.h"
#include "client.h"
#include "transport.h"

/* One kind of token source. A static source (pat, basic) has no next. */
typedef struct dbw_auth_source {
    const char *name; /* the auth_type */
    /* checks the settings; returns NULL or "why" (the name of what is missing) */
    const char *(*check)(const dbw_client *c);
    /* a static header, or nothing (0 on success) */
    int (*init)(dbw_client *c);
    /* the next request of a refresh into rq (NULL), or the token obtained in
     * place with rq->url left NULL (NULL), or an error code with c->msg set */
    const char *(*next)(lua_State *L, dbw_client *c, dbw_request *rq);
    /* consumes the answer to that request: NULL, or an error code with c->msg */
    const char *(*on_response)(lua_State *L, dbw_client *c, const dbw_response *rs, double now);
} dbw_auth_source;

extern const dbw_auth_source dbw_auth_pat, dbw_auth_basic, dbw_auth_oauth_m2m, dbw_auth_env_oidc,
    dbw_auth_file_oidc, dbw_auth_github_oidc, dbw_auth_azure_client_secret, dbw_auth_metadata_service,
    dbw_auth_callback, dbw_auth_none;

/* Reads auth_type and the sources' settings from the table at idx into c.
 * Returns NULL, or a message ("<field>: <why>") for an invalid setting. */
const char *dbw_auth_configure(lua_State *L, dbw_client *c, int idx, char *why, size_t size);

/* Wipes and frees the sources' settings. */
void dbw_auth_release(lua_State *L, dbw_client *c);

/* Sets up the header of a static source (others start with none). */
int dbw_auth_init(dbw_client *c);

/* 1 when the client has a header it may use now. */
int dbw_auth_ready(const dbw_client *c, double now);

/* Forget a refreshable token (after a 401). Static sources: no effect, 0. */
int dbw_auth_invalidate(dbw_client *c);

/* 1 while another exchange's refresh request is outstanding: the caller
 * waits for its token instead of asking for one more (single flight). */
int dbw_auth_refreshing(const dbw_client *c, double now);

/* Forgets a refresh whose answer will never be read (its call or Stepper
 * ended early), so the next exchange asks again at once instead of waiting
 * for it. No effect when none is outstanding. */
void dbw_auth_abandon(dbw_client *c);

/* The next request of a refresh (see dbw_auth_source.next). */
const char *dbw_auth_next_request(lua_State *L, dbw_client *c, dbw_request *rq);

/* Consumes the answer to a refresh request. NULL, or an error code with a
 * message in c->msg that never holds a secret. */
const char *dbw_auth_on_response(lua_State *L, dbw_client *c, const dbw_response *rs, double now);

/* ---- shared by the sources' files ---- */

/* "Authorization: <type> <token>" valid for ttl seconds from now (refreshed
 * up to 40 s early). Returns NULL, or DBW_E_BAD_RESPONSE with c->msg set when
 * the token or its type could split the header line. */
const char *dbw_auth_set_token(dbw_client *c, const char *type, size_t type_len, const char *tok,
                               size_t tok_len, double ttl, double now, const char *who);

/* Reads {access_token, token_type, expires_in | expires_on} from a JSON body
 * and sets the token. expires_in may be a number or a string of digits
 * (Entra ID v1); expires_on is seconds since the epoch. */
const char *dbw_auth_take_json(lua_State *L, dbw_client *c, const dbw_response *rs, double now,
                               const char *who);

/* The failure of a token request: network error, or the HTTP status with the
 * OAuth {error, error_description} or Databricks {error_code, message}. */
const char *dbw_auth_failure(lua_State *L, dbw_client *c, const dbw_response *rs, const char *who);

/* "scheme://host:port" comparison of two URLs (default ports spelt out). */
int dbw_auth_same_origin(const char *a, const char *b);

/* Appends "key=<url-encoded value>" (with '&' unless first) to a form. */
void dbw_auth_form(dbw_buf *b, const char *key, const char *value);

/* "Authorization: Basic base64(user:pass)" into h; user and pass are
 * URL-encoded first when urlenc is set (the OAuth client_credentials form). */
int dbw_auth_basic_header(dbw_buf *h, const char *user, const char *pass, int urlenc);

#endif
