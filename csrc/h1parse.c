/*
 * h1parse.c - the HTTP/1.1 response parser of the fast path (see h1parse.h).
 * Pure: bytes in, state and body out; no I/O, so it is fuzzed on its own.
 */
#include "h1parse.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- the response parser --------------------------------------------------- */

enum {
    S_STATUS,
    S_HEADER,
    S_BODY_LEN,
    S_BODY_EOF,
    S_CHUNK_SIZE,
    S_CHUNK_DATA,
    S_CHUNK_CRLF,
    S_TRAILER,
    S_DONE,
    S_ERR
};

#define MAX_HEAD (256u * 1024u) /* status line and headers (or trailers) of one response */
#define MAX_CHUNK_LINE 1024u

void dbw_wire_rx_init(dbw_wire_rx *p, dbw_buf *body, size_t max_body, int head_only)
{
    memset(p, 0, sizeof *p);
    p->state = S_STATUS;
    p->head_only = head_only;
    p->body = body;
    p->max_body = max_body;
    dbw_buf_reset(body);
}

int dbw_wire_rx_untouched(const dbw_wire_rx *p)
{
    return p->state == S_STATUS && p->head_bytes == 0 && p->status == 0;
}

static int fail(dbw_wire_rx *p, const char *why)
{
    p->state = S_ERR;
    p->err = why;
    return DBW_WIRE_ERROR;
}

static int too_large(dbw_wire_rx *p)
{
    p->state = S_ERR;
    p->too_large = 1;
    p->err = "response body exceeds the client's size limit";
    return DBW_WIRE_TOO_LARGE;
}

int dbw_h1_header_value(const char *line, size_t len, const char *name, size_t nl, char *out, size_t outsz)
{
    const char *v;
    size_t vl;
    if (len <= nl || line[nl] != ':' || strncasecmp(line, name, nl) != 0)
        return 0;
    v = line + nl + 1;
    vl = len - nl - 1;
    while (vl && (*v == ' ' || *v == '\t'))
        v++, vl--;
    while (vl && isspace((unsigned char)v[vl - 1]))
        vl--;
    if (out) {
        if (vl >= outsz)
            vl = outsz - 1;
        memcpy(out, v, vl);
        out[vl] = '\0';
    }
    return 1;
}

/* Whether the comma-separated list v (length n) holds token tok. */
static int has_token(const char *v, size_t n, const char *tok)
{
    size_t tl = strlen(tok), i = 0, s, e;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        s = i;
        while (i < n && v[i] != ',')
            i++;
        e = i;
        while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
            e--;
        if (e - s == tl && strncasecmp(v + s, tok, tl) == 0)
            return 1;
    }
    return 0;
}

#define NAME(s) (s), (sizeof(s) - 1)

static int on_status_line(dbw_wire_rx *p, const char *l, size_t n)
{
    int i;
    long st = 0;
    if (n < 12 || memcmp(l, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)l[7]) || l[8] != ' ')
        return fail(p, "not an HTTP/1.x response");
    for (i = 9; i < 12; i++) {
        if (!isdigit((unsigned char)l[i]))
            return fail(p, "malformed HTTP status line");
        st = st * 10 + (l[i] - '0');
    }
    if (n > 12 && l[12] != ' ')
        return fail(p, "malformed HTTP status line");
    if (st < 100)
        return fail(p, "malformed HTTP status line");
    p->status = st;
    p->minor = l[7] - '0';
    p->chunked = p->has_length = p->keep_alive = 0;
    p->close = 0;
    p->remaining = 0;
    /* A new status line (after a 100 Continue, say) starts a new header set. */
    p->retry_after[0] = p->request_id[0] = p->location[0] = '\0';
    p->state = S_HEADER;
    return DBW_WIRE_MORE;
}

static int on_header_line(dbw_wire_rx *p, const char *l, size_t n)
{
    char v[128];
    size_t vl;
    if (l[0] == ' ' || l[0] == '\t')
        return DBW_WIRE_MORE; /* obsolete line folding: nothing we read continues */
    switch (l[0] | 0x20) {
    case 'c':
        if (dbw_h1_header_value(l, n, NAME("content-length"), v, sizeof v)) {
            uint64_t x = 0;
            const char *q = v;
            if (*q == '\0')
                return fail(p, "invalid Content-Length");
            for (; *q; q++) {
                if (!isdigit((unsigned char)*q) || x > (UINT64_MAX - 9) / 10)
                    return fail(p, "invalid Content-Length");
                x = x * 10 + (uint64_t)(*q - '0');
            }
            if (p->has_length && x != p->remaining)
                return fail(p, "conflicting Content-Length headers");
            p->has_length = 1;
            p->remaining = x;
        } else if (dbw_h1_header_value(l, n, NAME("connection"), NULL, 0)) {
            const char *q = (const char *)memchr(l, ':', n) + 1;
            vl = n - (size_t)(q - l);
            if (has_token(q, vl, "close"))
                p->close = 1;
            if (has_token(q, vl, "keep-alive"))
                p->keep_alive = 1;
        }
        break;
    case 't':
        if (dbw_h1_header_value(l, n, NAME("transfer-encoding"), NULL, 0)) {
            const char *q = (const char *)memchr(l, ':', n) + 1;
            vl = n - (size_t)(q - l);
            if (!has_token(q, vl, "chunked"))
                return fail(p, "unsupported Transfer-Encoding");
            p->chunked = 1;
        }
        break;
    case 'r':
        dbw_h1_header_value(l, n, NAME("retry-after"), p->retry_after, sizeof p->retry_after);
        break;
    case 'x':
        dbw_h1_header_value(l, n, NAME("x-request-id"), p->request_id, sizeof p->request_id);
        break;
    case 'l':
        dbw_h1_header_value(l, n, NAME("location"), p->location, sizeof p->location);
        break;
    default:
        break;
    }
    return DBW_WIRE_MORE;
}

static int on_head_end(dbw_wire_rx *p)
{
    if (p->status < 200) {
        if (p->status == 101)
            return fail(p, "unexpected protocol switch");
        p->state = S_STATUS; /* 100 Continue, 103 Early Hints: the real answer follows */
        p->head_bytes = 0;
        return DBW_WIRE_MORE;
    }
    if (p->minor == 0 && !p->keep_alive)
        p->close = 1;
    if (p->head_only || p->status == 204 || p->status == 304) {
        p->state = S_DONE;
        return DBW_WIRE_DONE;
    }
    if (p->chunked) {
        p->has_length = 0;
        p->close |= 0;
        p->state = S_CHUNK_SIZE;
        return DBW_WIRE_MORE;
    }
    if (p->has_length) {
        if (p->remaining > p->max_body)
            return too_large(p);
        if (p->remaining == 0) {
            p->state = S_DONE;
            return DBW_WIRE_DONE;
        }
        p->state = S_BODY_LEN;
        return DBW_WIRE_MORE;
    }
    p->close = 1; /* the body ends when the connection does */
    p->state = S_BODY_EOF;
    return DBW_WIRE_MORE;
}

static int on_chunk_size(dbw_wire_rx *p, const char *l, size_t n)
{
    uint64_t x = 0;
    size_t i = 0;
    int d;
    for (; i < n; i++) {
        char ch = l[i];
        if (ch >= '0' && ch <= '9')
            d = ch - '0';
        else if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f')
            d = (ch | 0x20) - 'a' + 10;
        else
            break;
        if (x >> 59)
            return fail(p, "invalid chunk size");
        x = x * 16 + (uint64_t)d;
    }
    if (i == 0 || (i < n && l[i] != ';' && l[i] != ' ' && l[i] != '\t'))
        return fail(p, "invalid chunk size");
    if (x == 0) {
        p->state = S_TRAILER;
        p->head_bytes = 0;
        return DBW_WIRE_MORE;
    }
    if (x > p->max_body - p->body->len)
        return too_large(p);
    p->remaining = x;
    p->state = S_CHUNK_DATA;
    return DBW_WIRE_MORE;
}

static int take_body(dbw_wire_rx *p, const char *d, size_t n)
{
    if (n > p->max_body - p->body->len)
        return too_large(p);
    if (dbw_buf_append(p->body, d, n) != 0)
        return fail(p, "out of memory");
    return DBW_WIRE_MORE;
}

int dbw_wire_rx_feed(dbw_wire_rx *p, const char *data, size_t len, size_t *used)
{
    size_t pos = 0;
    int r = DBW_WIRE_MORE;

    while (pos < len && r == DBW_WIRE_MORE) {
        const char *d = data + pos, *nl;
        size_t avail = len - pos, n, take;

        switch (p->state) {
        case S_BODY_LEN:
        case S_CHUNK_DATA:
            take = avail < p->remaining ? avail : (size_t)p->remaining;
            r = take_body(p, d, take);
            pos += take;
            p->remaining -= take;
            if (r == DBW_WIRE_MORE && p->remaining == 0) {
                if (p->state == S_BODY_LEN) {
                    p->state = S_DONE;
                    r = DBW_WIRE_DONE;
                } else {
                    p->state = S_CHUNK_CRLF;
                }
            }
            continue;
        case S_BODY_EOF:
            r = take_body(p, d, avail);
            pos += avail;
            continue;
        case S_DONE:
            r = DBW_WIRE_DONE;
            continue;
        case S_ERR:
            r = p->too_large ? DBW_WIRE_TOO_LARGE : DBW_WIRE_ERROR;
            continue;
        default:
            break;
        }

        /* The other states read whole lines. */
        nl = memchr(d, '\n', avail);
        if (nl == NULL) {
            /* Refused as soon as the line, once ended, would be: the same
             * answer however the bytes are split. */
            if (p->state == S_CHUNK_SIZE || p->state == S_CHUNK_CRLF) {
                if (avail + 1 > MAX_CHUNK_LINE)
                    r = fail(p, "malformed chunked encoding");
            } else if (p->head_bytes + avail + 1 > MAX_HEAD) {
                r = fail(p, "response headers too large");
            }
            break; /* wait for the rest of the line */
        }
        n = (size_t)(nl - d);
        pos += n + 1;
        if ((p->state == S_CHUNK_SIZE || p->state == S_CHUNK_CRLF) && n + 1 > MAX_CHUNK_LINE) {
            r = fail(p, "malformed chunked encoding");
            break;
        }
        if (p->state == S_STATUS || p->state == S_HEADER || p->state == S_TRAILER)
            p->head_bytes += n + 1;
        if (n && d[n - 1] == '\r')
            n--;
        switch (p->state) {
        case S_STATUS:
        case S_HEADER:
        case S_TRAILER:
            if (p->head_bytes > MAX_HEAD) {
                r = fail(p, "response headers too large");
                break;
            }
            if (p->state == S_STATUS) {
                r = on_status_line(p, d, n);
            } else if (n == 0) {
                if (p->state == S_TRAILER) {
                    p->state = S_DONE;
                    r = DBW_WIRE_DONE;
                } else {
                    r = on_head_end(p);
                }
            } else if (p->state == S_HEADER) {
                r = on_header_line(p, d, n);
            }
            break;
        case S_CHUNK_SIZE:
            r = on_chunk_size(p, d, n);
            break;
        case S_CHUNK_CRLF:
            if (n != 0)
                r = fail(p, "malformed chunked encoding");
            else
                p->state = S_CHUNK_SIZE;
            break;
        default:
            break;
        }
    }
    *used = pos;
    return r;
}

int dbw_wire_rx_eof(dbw_wire_rx *p)
{
    if (p->state == S_BODY_EOF) {
        p->state = S_DONE;
        return DBW_WIRE_DONE;
    }
    if (p->state == S_DONE)
        return DBW_WIRE_DONE;
    if (p->state == S_ERR)
        return DBW_WIRE_ERROR;
    return fail(p, p->state == S_STATUS && p->head_bytes == 0 && p->status == 0
                       ? "connection closed before any response"
                       : "connection closed before the response was complete");
}
