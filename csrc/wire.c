#include "wire.h"

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

/* ---- the connection ------------------------------------------------------- */

static const char *const proxy_vars[] = {"http_proxy", "https_proxy", "HTTPS_PROXY",
                                         "ALL_PROXY",  "all_proxy",   NULL};

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
        dbw_buf_puts(b, "Content-Length: ");
        dbw_buf_append_size(b, rq->body_len);
        dbw_buf_append(b, "\r\n\r\n", 4);
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
