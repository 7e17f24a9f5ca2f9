/*
 * client.h - one client: its settings, its libcurl handle, its buffers.
 *
 * Ownership: the client owns every byte it hands to libcurl (strings are
 * copied in at creation, buffers are reused per call) and frees all of it in
 * dbw_client_release, which close(), __gc and __close share. After release
 * the struct is inert (closed = 1, pointers NULL), so a closed or collected
 * client can be touched again without crashing.
 */
#ifndef DBW_CLIENT_H
#define DBW_CLIENT_H

#include <stdint.h>

#include <curl/curl.h>

#include "auth_settings.h"
#include "buf.h"
#include "compat.h"
#include "pace.h"

#define DBW_CLIENT_MT "databricks.webhooks.Client"

/* A refreshable token's state, whatever its kind: where it comes from, when it
 * expires, the refresh in flight. */
typedef struct dbw_token_state {
    char *token_endpoint; /* discovered or fallback; NULL until known */
    int discovery_done;
    int step;       /* the request of a refresh in flight (auth_oauth.c) */
    char *id_token; /* github-oidc: the identity token of the exchange in flight */
    double expiry;  /* monotonic seconds; 0 = no token */
    /* a refresh request is outstanding until its answer, or until this
     * monotonic time at most (its exchange may have been abandoned); 0 = none */
    double refreshing_until;
} dbw_token_state;

/* What client:stats() reports; every handle of a client counts into one. */
typedef struct dbw_counters {
    long connections;  /* connections libcurl opened (keep-alive, multiplexing) */
    long requests;     /* transfers that got an HTTP response */
    long http_version; /* of the last response: 10, 11, 20 (0: none yet) */
    long resends;      /* requests libcurl sent again: GETs, or declared unprocessed */
} dbw_counters;

/* One libcurl easy handle and what a transfer on it fills in. The client has
 * one; client:bulk() borrows more for the transfers it runs side by side. */
typedef struct dbw_conn {
    CURL *curl;
    struct curl_slist *headers; /* of the transfer in flight; freed when it ends */
    dbw_buf resp;
    size_t max_response;
    int too_large;
    int sends;              /* requests sent by the transfer in flight (http.c on_prereq) */
    int sent_h2;            /* the last of them went over HTTP/2 */
    dbw_counters *counters; /* the client's */
    double started;
    char errbuf[CURL_ERROR_SIZE];
    char retry_after[64];
    char request_id[96];
    char location[256];
} dbw_conn;

struct dbw_client;
typedef int (*dbw_call_fn)(lua_State *L, struct dbw_client *c);

typedef struct dbw_client {
    dbw_conn conn;
    /* the multi handle every transfer runs on (http.h), and client:bulk()'s
     * extra easy handles, kept for reuse */
    CURLM *multi;
    dbw_conn **pool; /* each conn allocated once: libcurl callbacks hold its address */
    int npool;
    int closed;
    int busy;                        /* a call is running: guards against re-entry from a callback */
    int close_pending;               /* closed from inside its own call: released when that call unwinds */
    dbw_call_fn running;             /* what that call runs (core.c's protected call) */
    const struct dbw_op *running_op; /* and for which operation, if any */
    const struct dbw_family *family; /* the API family (ops.h), chosen at new */

    /* settings, owned copies */
    char *host;             /* normalised base URL, no trailing '/' */
    int host_assumed_https; /* host was given without a scheme (TLS errors say so) */
    char *user_agent;
    char *token; /* PAT */
    char *client_id;
    char *client_secret;
    char *workspace_header;                 /* "X-Databricks-Workspace-Id: <id>", when configured */
    const struct dbw_auth_source *auth_src; /* auth.h */
    char auth_name[32];                     /* its auth_type, for messages */
    char cred_source[160];                  /* "token from DATABRICKS_TOKEN": named on a 401/403 */
    char *auth_set[DBW_AS_COUNT];           /* the sources' settings (auth_settings.h) */
    int auth_fn_ref;                        /* LUA_NOREF, or a Lua token source */
    double timeout, connect_timeout, retry_timeout;
    size_t max_values; /* decoded JSON values per response (max_response_values) */

    int debug_ref; /* LUA_NOREF, or registry ref of a function(line) */
    int debug_stderr;

    dbw_token_state token_state;
    dbw_buf auth_header; /* "Authorization: <type> <credential>" */

    /* token traffic (auth*.c): its request's URL, header and body, and why
     * getting a token failed (the message of the exchange's error then). API
     * requests own their memory (request.h). */
    dbw_buf aux_url, aux_header, aux_body, msg;
    uint64_t rng;
    dbw_counters counters;
    dbw_pace pace; /* rate_limit and Retry-After pauses: when the next API request may go */
} dbw_client;

/* Registers the metatable methods; expects the method table on the stack top. */
dbw_client *dbw_client_check(lua_State *L, int idx); /* raises on wrong type or closed */
dbw_client *dbw_client_new(lua_State *L);            /* pushes a zeroed userdata with metatable */
void dbw_client_release(lua_State *L, dbw_client *c);

/* Every exit of a call ends here (return, a Lua error from any callback, out
 * of memory): the client is left as it was before the call. `aborted` says
 * the call did not run to its end, so its transfers are detached from the
 * multi handle (libcurl then no longer reads request memory the collector
 * may free) and a token refresh it had outstanding is forgotten (later calls
 * would wait for an answer that never comes). Then clears busy and carries
 * out a close() made from inside the call. */
void dbw_client_end_call(lua_State *L, dbw_client *c, int aborted);

/* Hands one debug line to stderr or the client's debug function (a no-op
 * without `debug`). Lines never hold a secret: callers build them from
 * methods, paths, statuses and URLs of token endpoints only. May call the
 * user's function: only call it inside a protected call (core.c's run,
 * stepper.c's step), where a Lua error unwinds no libcurl frame. */
void dbw_client_debug(lua_State *L, const dbw_client *c, const char *line);

#endif
