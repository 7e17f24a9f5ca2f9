/*
 * h1parse.h - an HTTP/1.1 response parser for the fast path (wire.c):
 * status line, headers the core uses, 1xx, Content-Length, chunked bodies
 * with extensions and trailers, bodies ended by close, and hard limits on
 * header and body sizes. Fed bytes as they arrive; fuzzed by fuzz/fuzz_wire.c.
 */
#ifndef DBW_H1PARSE_H
#define DBW_H1PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum { DBW_WIRE_MORE = 0, DBW_WIRE_DONE = 1, DBW_WIRE_ERROR = -1, DBW_WIRE_TOO_LARGE = -2 };

typedef struct dbw_wire_rx {
    int state;
    int head_only; /* the request was HEAD: no body follows any status */
    long status;   /* of the final (non-1xx) response once its status line is read */
    int minor;     /* HTTP/1.<minor> */
    int close;     /* the connection cannot carry another request */
    int chunked;
    int has_length;
    int keep_alive;     /* "Connection: keep-alive" (matters for HTTP/1.0) */
    uint64_t remaining; /* bytes left of the body or of the current chunk */
    size_t head_bytes;  /* header bytes of the current response so far */
    size_t max_body;
    dbw_buf *body;   /* the de-chunked body is appended here */
    const char *err; /* what was wrong, on DBW_WIRE_ERROR or TOO_LARGE */
    int too_large;
    char retry_after[64];
    char request_id[96];
    char location[256];
} dbw_wire_rx;

/* Starts a response: the body goes to body (reset here), at most max_body bytes. */
void dbw_wire_rx_init(dbw_wire_rx *p, dbw_buf *body, size_t max_body, int head_only);

/* Consumes bytes of the answer. Returns DBW_WIRE_MORE (all of *used consumed
 * that can be: a partial header line is left for the next call, with more
 * bytes appended), DONE (the response is complete; bytes after it are not
 * consumed), ERROR (p->err says why) or TOO_LARGE. */
int dbw_wire_rx_feed(dbw_wire_rx *p, const char *data, size_t len, size_t *used);

/* The peer closed the connection: DONE when that ends the body (no length
 * given), else ERROR. */
int dbw_wire_rx_eof(dbw_wire_rx *p);

/* Nothing at all of the response was consumed yet. */
int dbw_wire_rx_untouched(const dbw_wire_rx *p);

/* When the header line is `name: value` (name matched case-insensitively,
 * nl = strlen(name)): copies the value, trimmed of blanks and CR/LF and cut to
 * outsz - 1 bytes, into out (when out is not NULL) and returns 1; else 0.
 * Shared with http.c's libcurl header callback. */
int dbw_h1_header_value(const char *line, size_t len, const char *name, size_t nl, char *out, size_t outsz);

#endif
