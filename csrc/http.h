/*
 * http.h - one HTTP exchange over the client's reused libcurl easy handle.
 * The handle keeps its connection between calls (keep-alive); per-call
 * options are set here, per-client options once in dbw_http_setup.
 */
#ifndef DBW_HTTP_H
#define DBW_HTTP_H

#include "client.h"
#include "transport.h"

/* Applies the client's fixed options (timeouts, TLS, proxy, callbacks).
 * Returns NULL or a message naming the option libcurl refused. */
const char *dbw_http_setup(dbw_client *c, int verify_tls, const char *ca_file, const char *proxy);

/* Performs rq and fills rs; rs->body points into c->resp until the next call. */
void dbw_http_perform(dbw_client *c, const dbw_request *rq, dbw_response *rs);

#endif
