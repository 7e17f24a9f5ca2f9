/*
 * http.h - HTTP exchanges over reused libcurl easy handles (dbw_conn).
 * A handle keeps its connection between calls (keep-alive); fixed options
 * are set once in dbw_http_setup, per-request ones in dbw_http_start; the
 * driver (driver.h) starts transfers with dbw_http_start on the client's
 * multi handle and collects each with dbw_http_finish. libcurl speaks every byte of HTTP (1.1 and 2), TLS
 * and proxies; nothing here frames or parses HTTP itself.
 */
#ifndef DBW_HTTP_H
#define DBW_HTTP_H

#include "client.h"
#include "transport.h"

/* A fresh handle (from_template == NULL) or a copy of one already set up;
 * either way wired to this conn's buffers. Returns 0 or -1. */
int dbw_conn_init(dbw_conn *k, const dbw_conn *from_template, dbw_counters *counters, size_t max_response);
void dbw_conn_free(dbw_conn *k);

/* Applies the client's fixed options (timeouts, TLS, proxy).
 * Returns NULL or a message naming the option libcurl refused. */
const char *dbw_http_setup(dbw_client *c, int verify_tls, const char *ca_file, const char *proxy);

/* Sets rq on k's handle. Returns 0, or -1 (out of memory). */
int dbw_http_start(dbw_conn *k, const dbw_request *rq);

/* Fills rs from the finished transfer; rs->body points into k->resp. */
void dbw_http_finish(dbw_conn *k, CURLcode rc, dbw_response *rs);

/* What a libcurl result code means for the exchange; sent: bytes of the request sent. */
dbw_net dbw_http_classify(CURLcode rc, int too_large, long sent);

/* The client's multi handle, created on first use. Single calls and
 * client:bulk() both run their transfers on it, so they share its cache of
 * connections (one HTTP/2 connection carries them all). Returns 0 or -1. */
int dbw_http_multi(dbw_client *c);

/* Detaches every transfer of the client (its own handle and client:bulk()'s)
 * from the multi handle and drops what they were sending: for a call that
 * ended early (client.h dbw_client_end_call). A transfer cut off this way
 * never completes later, and its connection is not reused. */
void dbw_http_abandon(dbw_client *c);

#endif
