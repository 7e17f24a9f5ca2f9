/*
 * http.h - HTTP exchanges over reused libcurl easy handles (dbw_conn).
 * A handle keeps its connection between calls (keep-alive); fixed options
 * are set once in dbw_http_setup, per-request ones in dbw_http_start.
 * dbw_http_perform runs one exchange to the end; client:bulk() instead
 * starts several with dbw_http_start, drives them with a curl multi handle
 * and collects each with dbw_http_finish.
 */
#ifndef DBW_HTTP_H
#define DBW_HTTP_H

#include "client.h"
#include "transport.h"

/* A fresh handle (from_template == NULL) or a copy of one already set up;
 * either way wired to this conn's buffers. Returns 0 or -1. */
int dbw_conn_init(dbw_conn *k, const dbw_conn *from_template, long *connections, size_t max_response);
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

/* Start, perform and finish one exchange on the client's own handle, or over
 * the fast path (wire.h) when the client has one and the request is for its host. */
void dbw_http_perform(dbw_client *c, const dbw_request *rq, dbw_response *rs);

#endif
