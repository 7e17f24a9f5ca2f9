/*
 * transport.h - the boundary between deciding what to send (exchange.c) and
 * sending it (http.c over libcurl, or a user-supplied Lua transport).
 * Nothing here owns memory: a request points into buffers of the client or
 * strings anchored on the Lua stack for the duration of one call.
 */
#ifndef DBW_TRANSPORT_H
#define DBW_TRANSPORT_H

#include <stddef.h>

#define DBW_MAX_HEADERS 8

typedef struct dbw_request {
    const char *method;
    const char *url;
    const char *path; /* for logs and error objects: no host, no query */
    const char *body; /* NULL: no body */
    size_t body_len;
    const char *headers[DBW_MAX_HEADERS]; /* "Name: value" */
    int nheaders;
} dbw_request;

/* What went wrong below HTTP, if anything. */
typedef enum {
    DBW_NET_OK = 0,     /* an HTTP response arrived (any status) */
    DBW_NET_CONNECT,    /* failed before any byte of the request was sent */
    DBW_NET_CONNECTION, /* dropped or reset after the request may have been sent */
    DBW_NET_TIMEOUT,
    DBW_NET_TLS,
    DBW_NET_TOO_LARGE, /* response body over the client's limit */
    DBW_NET_ABORTED,   /* a Lua callback raised; the driver re-raises it */
    DBW_NET_LOCAL      /* libcurl refused the request itself (malformed URL,
                          unsupported scheme): nothing sent, never retried */
} dbw_net;

typedef struct dbw_response {
    dbw_net net;
    const char *net_msg; /* human text for net != OK */
    long status;
    const char *body;
    size_t body_len;
    double retry_after; /* seconds from Retry-After, < 0 when absent */
    const char *request_id;
    const char *location; /* Location header of a redirect, or NULL */
    double elapsed_ms;
    int http_version; /* 10, 11 or 20; 0 when unknown (a Lua transport) */
} dbw_response;

#endif
