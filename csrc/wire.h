/*
 * wire.h - HTTP/1.1 framing over a connection libcurl opened.
 *
 * libcurl still does what it is good at: resolving, connecting, TLS with
 * verification (a handle duplicated from the client's, with
 * CURLOPT_CONNECT_ONLY). The request is then written with curl_easy_send and
 * the answer read with curl_easy_recv and parsed here, which saves what
 * curl_easy_perform costs per request on a kept-alive connection (URL parse,
 * request formatting, several polls). Used when no proxy is configured.
 *
 * The response parser (dbw_wire_rx) is separate from the I/O so that it can
 * be fuzzed on its own (fuzz/fuzz_wire.c).
 */
#ifndef DBW_WIRE_H
#define DBW_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "buf.h"
#include "h1parse.h"

/* ---- the connection ------------------------------------------------------- */

typedef struct dbw_wire {
    int enabled; /* decided at client creation: no proxy configured */
    CURL *curl;  /* the CONNECT_ONLY handle; NULL: not connected */
    curl_socket_t fd;
    int used;      /* requests completed on this connection */
    long requests; /* answers received over the fast path (client:stats()) */
    char *origin;  /* "scheme://authority": what the connection is to */
    size_t origin_len;
    dbw_buf fixed; /* " HTTP/1.1\r\nHost: ...\r\nUser-Agent: ...\r\n" */
    dbw_buf out;   /* the request being sent */
    dbw_buf in;    /* bytes received but not yet parsed */
    char errbuf[CURL_ERROR_SIZE];
    char msg[CURL_ERROR_SIZE + 96];
} dbw_wire;

struct dbw_client;
struct dbw_request;
struct dbw_response;

/* Prepares the fast path for the client (after dbw_http_setup): enabled
 * unless a proxy is configured or one of the proxy variables is set.
 * Returns 0, or -1 (out of memory). */
int dbw_wire_setup(struct dbw_client *c, const char *proxy);
void dbw_wire_free(dbw_wire *w);

/* Runs one exchange over the fast path. Returns 0 when rs is filled, -1 when
 * the request is not for the fast path (another host): use libcurl's. */
int dbw_wire_perform(struct dbw_client *c, const struct dbw_request *rq, struct dbw_response *rs);

#endif
