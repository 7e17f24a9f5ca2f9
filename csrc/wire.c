#include "wire.h"

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client.h"
#include "http.h"
#include "retry.h"
#include "transport.h"

/* ---- the response parser --------------------------------------------------- */

enum { S_STATUS, S_HEADER, S_BODY_LEN, S_BODY_EOF, S_CHUNK_SIZE, S_CHUNK_DATA, S_CHUNK_CRLF, S_TRAILER, S_DONE, S_ERR };

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

/* Copies a header's value (trimmed, bounded) when its name matches. */
static int header_value(const char *line, size_t len, const char *name, size_t nl, char *out, size_t outsz)
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

#define NAME(s) s, sizeof s - 1

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
        if (header_value(l, n, NAME("content-length"), v, sizeof v)) {
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
        } else if (header_value(l, n, NAME("connection"), NULL, 0)) {
            const char *q = memchr(l, ':', n) + 1;
            vl = n - (size_t)(q - l);
            if (has_token(q, vl, "close"))
                p->close = 1;
            if (has_token(q, vl, "keep-alive"))
                p->keep_alive = 1;
        }
        break;
    case 't':
        if (header_value(l, n, NAME("transfer-encoding"), NULL, 0)) {
            const char *q = memchr(l, ':', n) + 1;
            vl = n - (size_t)(q - l);
            if (!has_token(q, vl, "chunked"))
                return fail(p, "unsupported Transfer-Encoding");
            p->chunked = 1;
        }
        break;
    case 'r':
        header_value(l, n, NAME("retry-after"), p->retry_after, sizeof p->retry_after);
        break;
    case 'x':
        header_value(l, n, NAME("x-request-id"), p->request_id, sizeof p->request_id);
        break;
    case 'l':
        header_value(l, n, NAME("location"), p->location, sizeof p->location);
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

/* ---- the connection ------------------------------------------------------- */

static const char *const proxy_vars[] = {"http_proxy", "https_proxy", "HTTPS_PROXY", "ALL_PROXY", "all_proxy", NULL};

int dbw_wire_setup(dbw_client *c, const char *proxy)
{
    dbw_wire *w = &c->wire;
    const char *host = c->host, *auth, *end, *at;
    int i;

    w->enabled = 0;
    w->fd = CURL_SOCKET_BAD;
    if (proxy && *proxy)
        return 0;
    for (i = 0; proxy_vars[i]; i++) {
        const char *v = getenv(proxy_vars[i]);
        if (v && *v)
            return 0;
    }
    if (strncasecmp(host, "https://", 8) == 0)
        auth = host + 8;
    else if (strncasecmp(host, "http://", 7) == 0)
        auth = host + 7;
    else
        return 0; /* libcurl's path reports what is wrong with it */
    end = auth + strcspn(auth, "/?#");
    at = memchr(auth, '@', (size_t)(end - auth));
    if (at)
        return 0; /* credentials in the URL: leave them to libcurl */
    if (end == auth)
        return 0;
    free(w->origin);
    w->origin_len = (size_t)(end - host);
    w->origin = malloc(w->origin_len + 1);
    if (w->origin == NULL)
        return -1;
    memcpy(w->origin, host, w->origin_len);
    w->origin[w->origin_len] = '\0';
    dbw_buf_reset(&w->fixed);
    if (dbw_buf_puts(&w->fixed, " HTTP/1.1\r\nHost: ") != 0 ||
        dbw_buf_append(&w->fixed, auth, (size_t)(end - auth)) != 0 ||
        dbw_buf_printf(&w->fixed, "\r\nUser-Agent: %s\r\n", c->user_agent) != 0)
        return -1;
    w->enabled = 1;
    return 0;
}

static void disconnect(dbw_wire *w)
{
    if (w->curl)
        curl_easy_cleanup(w->curl);
    w->curl = NULL;
    w->fd = CURL_SOCKET_BAD;
    w->used = 0;
}

void dbw_wire_free(dbw_wire *w)
{
    disconnect(w);
    free(w->origin);
    w->origin = NULL;
    w->enabled = 0;
    dbw_buf_free(&w->fixed);
    dbw_buf_free(&w->out);
    dbw_buf_free(&w->in);
}

/* Waits until fd is ready for events or the deadline passes: 1, 0 (timeout), -1. */
static int wait_fd(curl_socket_t fd, short events, double deadline)
{
    struct pollfd pf;
    int r;
    for (;;) {
        double left = deadline - dbw_now();
        int ms;
        if (left <= 0)
            return 0;
        ms = (int)(left * 1000.0) + 1;
        pf.fd = fd;
        pf.events = events;
        pf.revents = 0;
        r = poll(&pf, 1, ms);
        if (r > 0)
            return 1;
        if (r == 0)
            continue; /* re-check the clock: poll may wake a little early */
        if (errno != EINTR)
            return -1;
    }
}

/* A kept-alive connection the server has closed (or sent something
 * unasked on) reads as ready before a request: it is not to be used. */
static int idle_alive(const dbw_wire *w)
{
    struct pollfd pf;
    pf.fd = w->fd;
    pf.events = POLLIN;
    pf.revents = 0;
    return poll(&pf, 1, 0) == 0;
}

static CURLcode wire_connect(dbw_client *c, double deadline)
{
    dbw_wire *w = &c->wire;
    CURLcode rc;
    curl_socket_t fd = CURL_SOCKET_BAD;
    double left = deadline - dbw_now();
    long ms = left > 0 ? (long)(left * 1000.0 + 0.5) : 1;

    w->errbuf[0] = '\0';
    w->curl = curl_easy_duphandle(c->conn.curl);
    if (w->curl == NULL)
        return CURLE_OUT_OF_MEMORY;
    if ((rc = curl_easy_setopt(w->curl, CURLOPT_ERRORBUFFER, w->errbuf)) != CURLE_OK ||
        (rc = curl_easy_setopt(w->curl, CURLOPT_URL, w->origin)) != CURLE_OK ||
        (rc = curl_easy_setopt(w->curl, CURLOPT_CONNECT_ONLY, 1L)) != CURLE_OK ||
        (rc = curl_easy_setopt(w->curl, CURLOPT_TIMEOUT_MS, ms > 0 ? ms : 1L)) != CURLE_OK ||
        (rc = curl_easy_setopt(w->curl, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL)) != CURLE_OK
#if LIBCURL_VERSION_NUM >= 0x075000
        || (rc = curl_easy_setopt(w->curl, CURLOPT_PREREQFUNCTION, (curl_prereq_callback)NULL)) != CURLE_OK
#endif
    ) {
        disconnect(w);
        return rc;
    }
    rc = curl_easy_perform(w->curl);
    if (rc == CURLE_OK)
        rc = curl_easy_getinfo(w->curl, CURLINFO_ACTIVESOCKET, &fd);
    if (rc == CURLE_OK && fd == CURL_SOCKET_BAD)
        rc = CURLE_COULDNT_CONNECT;
    if (rc != CURLE_OK) {
        /* keep the message: disconnect does not touch errbuf */
        disconnect(w);
        return rc;
    }
    w->fd = fd;
    w->used = 0;
    return CURLE_OK;
}

static int build_request(dbw_wire *w, const dbw_request *rq, const char *target)
{
    dbw_buf *b = &w->out;
    int i, has_ct = 0;
    dbw_buf_reset(b);
    if (dbw_buf_reserve(b, 512 + rq->body_len) != 0)
        return -1;
    dbw_buf_puts(b, rq->method);
    dbw_buf_puts(b, " ");
    dbw_buf_puts(b, target);
    dbw_buf_append(b, w->fixed.data, w->fixed.len);
    for (i = 0; i < rq->nheaders; i++) {
        const char *h = rq->headers[i];
        size_t hl = strlen(h);
        if (hl == 0 || h[hl - 1] == ':')
            continue; /* "Name:" removes a header libcurl would add: we add none */
        if (strncasecmp(h, "content-type:", 13) == 0)
            has_ct = 1;
        dbw_buf_append(b, h, hl);
        dbw_buf_append(b, "\r\n", 2);
    }
    if (rq->body) {
        if (!has_ct)
            dbw_buf_puts(b, "Content-Type: application/x-www-form-urlencoded\r\n");
        dbw_buf_printf(b, "Content-Length: %zu\r\n\r\n", rq->body_len);
        dbw_buf_append(b, rq->body, rq->body_len);
    } else {
        dbw_buf_append(b, "\r\n", 2);
    }
    return b->data ? 0 : -1;
}

/* Sends w->out. Returns CURLE_OK, CURLE_OPERATION_TIMEDOUT or an error; *sent: bytes written. */
static CURLcode send_all(dbw_wire *w, double deadline, size_t *sent)
{
    size_t off = 0, n;
    CURLcode rc;
    *sent = 0;
    while (off < w->out.len) {
        n = 0;
        rc = curl_easy_send(w->curl, w->out.data + off, w->out.len - off, &n);
        if (rc == CURLE_AGAIN) {
            int r = wait_fd(w->fd, POLLOUT, deadline);
            if (r == 0)
                return CURLE_OPERATION_TIMEDOUT;
            if (r < 0)
                return CURLE_SEND_ERROR;
            continue;
        }
        if (rc != CURLE_OK)
            return rc;
        off += n;
        *sent = off;
    }
    return CURLE_OK;
}

enum { RX_OK, RX_STALE, RX_FAILED };

/* Reads and parses the answer. RX_STALE: the connection ended before any
 * byte of it. RX_FAILED: rs is filled with the error. */
static int receive(dbw_wire *w, dbw_wire_rx *rx, double deadline, double started, dbw_response *rs)
{
    size_t used, got = 0, n;
    int first = 1, r;
    CURLcode rc;

    dbw_buf_reset(&w->in);
    for (;;) {
        if (first) {
            first = 0;
            r = wait_fd(w->fd, POLLIN, deadline);
            if (r == 0)
                goto timeout;
        }
        if (dbw_buf_reserve(&w->in, 16384) != 0) {
            rs->net = DBW_NET_CONNECTION;
            rs->net_msg = "out of memory";
            return RX_FAILED;
        }
        n = 0;
        rc = curl_easy_recv(w->curl, w->in.data + w->in.len, w->in.cap - w->in.len - 1, &n);
        if (rc == CURLE_AGAIN) {
            r = wait_fd(w->fd, POLLIN, deadline);
            if (r == 0)
                goto timeout;
            continue;
        }
        if (rc != CURLE_OK || n == 0) {
            if (got == 0)
                return RX_STALE;
            r = rc == CURLE_OK ? dbw_wire_rx_eof(rx) : DBW_WIRE_ERROR;
            if (r == DBW_WIRE_DONE)
                return RX_OK;
            rs->net = DBW_NET_CONNECTION;
            if (rc != CURLE_OK) {
                snprintf(w->msg, sizeof w->msg, "%s", w->errbuf[0] ? w->errbuf : curl_easy_strerror(rc));
                rs->net_msg = w->msg;
            } else {
                rs->net_msg = rx->err;
            }
            return RX_FAILED;
        }
        got += n;
        w->in.len += n;
        w->in.data[w->in.len] = '\0';
        r = dbw_wire_rx_feed(rx, w->in.data, w->in.len, &used);
        if (used < w->in.len)
            memmove(w->in.data, w->in.data + used, w->in.len - used);
        w->in.len -= used;
        if (r == DBW_WIRE_DONE)
            return RX_OK;
        if (r == DBW_WIRE_TOO_LARGE) {
            rs->net = DBW_NET_TOO_LARGE;
            rs->net_msg = "response body exceeds the client's size limit";
            return RX_FAILED;
        }
        if (r == DBW_WIRE_ERROR) {
            rs->net = DBW_NET_CONNECTION;
            rs->net_msg = rx->err;
            return RX_FAILED;
        }
    }
timeout:
    snprintf(w->msg, sizeof w->msg, "Operation timed out after %.0f milliseconds with %zu bytes received",
             (dbw_now() - started) * 1000.0, got);
    rs->net = DBW_NET_TIMEOUT;
    rs->net_msg = w->msg;
    return RX_FAILED;
}

int dbw_wire_perform(dbw_client *c, const dbw_request *rq, dbw_response *rs)
{
    dbw_wire *w = &c->wire;
    dbw_conn *k = &c->conn;
    dbw_wire_rx rx;
    const unsigned char *t;
    double started, deadline;
    int attempt, reused, r;
    size_t sent;
    CURLcode rc;

    if (!w->enabled || strncmp(rq->url, w->origin, w->origin_len) != 0 || rq->url[w->origin_len] != '/')
        return -1;
    /* What libcurl would refuse or rewrite (control bytes, spaces, non-ASCII,
     * a fragment) goes its way, so the answer stays libcurl's. */
    for (t = (const unsigned char *)rq->url + w->origin_len; *t; t++)
        if (*t <= ' ' || *t >= 0x7f || *t == '#')
            return -1;
    started = dbw_now();
    deadline = started + c->timeout;
    memset(rs, 0, sizeof *rs);
    rs->retry_after = -1;
    if (build_request(w, rq, rq->url + w->origin_len) != 0) {
        rs->net = DBW_NET_CONNECT;
        rs->net_msg = "out of memory";
        return 0;
    }

    for (attempt = 0;; attempt++) {
        reused = w->curl != NULL;
        if (reused && !idle_alive(w)) {
            disconnect(w);
            reused = 0;
        }
        if (!reused) {
            rc = wire_connect(c, deadline);
            if (rc != CURLE_OK) {
                rs->net = dbw_http_classify(rc, 0, 0);
                snprintf(w->msg, sizeof w->msg, "%s", w->errbuf[0] ? w->errbuf : curl_easy_strerror(rc));
                rs->net_msg = w->msg;
                break;
            }
        }
        rc = send_all(w, deadline, &sent);
        if (rc != CURLE_OK) {
            disconnect(w);
            if (sent == 0 && reused && attempt == 0 && rc != CURLE_OPERATION_TIMEDOUT)
                continue; /* nothing of it left: any method may go again */
            rs->net = rc == CURLE_OPERATION_TIMEDOUT ? DBW_NET_TIMEOUT
                      : sent > 0                     ? DBW_NET_CONNECTION
                                                     : DBW_NET_CONNECT;
            snprintf(w->msg, sizeof w->msg, "%s", w->errbuf[0] ? w->errbuf : curl_easy_strerror(rc));
            rs->net_msg = w->msg;
            break;
        }
        dbw_wire_rx_init(&rx, &k->resp, k->max_response, strcmp(rq->method, "HEAD") == 0);
        r = receive(w, &rx, deadline, started, rs);
        if (r == RX_STALE) {
            disconnect(w);
            /* The request may have reached the server: only a GET goes again
             * (the rule of http.c's on_prereq). */
            if (reused && attempt == 0 && strcmp(rq->method, "GET") == 0)
                continue;
            rs->net = DBW_NET_CONNECTION;
            rs->net_msg = reused ? "connection closed before any response; the request may have reached the "
                                   "server, so it was not sent again"
                                 : "connection closed before any response";
            break;
        }
        if (r == RX_FAILED) {
            disconnect(w);
            break;
        }
        /* A complete answer. */
        w->requests++;
        if (rx.close || w->in.len > 0)
            disconnect(w);
        else
            w->used++;
        rs->net = DBW_NET_OK;
        rs->status = rx.status;
        rs->body = k->resp.data ? k->resp.data : "";
        rs->body_len = k->resp.len;
        memcpy(k->retry_after, rx.retry_after, sizeof k->retry_after);
        memcpy(k->request_id, rx.request_id, sizeof k->request_id);
        memcpy(k->location, rx.location, sizeof k->location);
        rs->retry_after = dbw_retry_after_parse(k->retry_after[0] ? k->retry_after : NULL, dbw_epoch_now());
        rs->request_id = k->request_id[0] ? k->request_id : NULL;
        rs->location = k->location[0] ? k->location : NULL;
        break;
    }
    if (rs->net != DBW_NET_OK) {
        rs->body = NULL;
        rs->body_len = 0;
    }
    rs->elapsed_ms = (dbw_now() - started) * 1000.0;
    return 0;
}
