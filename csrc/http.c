#include "http.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "retry.h"

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    dbw_client *c = ud;
    size_t len = size * n;
    if (c->resp.len + len > c->max_response) {
        c->too_large = 1;
        return 0; /* makes libcurl stop with CURLE_WRITE_ERROR */
    }
    return dbw_buf_append(&c->resp, p, len) == 0 ? len : 0;
}

/* Copies a header's value (trimmed, bounded) when its name matches. */
static int header_value(const char *line, size_t len, const char *name, char *out, size_t outsz)
{
    size_t nl = strlen(name), vl;
    const char *v;
    if (len <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
        return 0;
    v = line + nl + 1;
    vl = len - nl - 1;
    while (vl && (*v == ' ' || *v == '\t'))
        v++, vl--;
    while (vl && isspace((unsigned char)v[vl - 1]))
        vl--;
    if (vl >= outsz)
        vl = outsz - 1;
    memcpy(out, v, vl);
    out[vl] = '\0';
    return 1;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    dbw_client *c = ud;
    size_t len = size * n;
    /* A new status line (after a 100 Continue, say) starts a new header set. */
    if (len > 5 && memcmp(p, "HTTP/", 5) == 0) {
        c->retry_after[0] = c->request_id[0] = c->location[0] = '\0';
        return len;
    }
    if (header_value(p, len, "retry-after", c->retry_after, sizeof c->retry_after) ||
        header_value(p, len, "x-request-id", c->request_id, sizeof c->request_id) ||
        header_value(p, len, "location", c->location, sizeof c->location))
        return len;
    return len;
}

static int on_socket_open(void *ud, curl_socket_t fd, curlsocktype purpose)
{
    dbw_client *c = ud;
    (void)fd;
    if (purpose == CURLSOCKTYPE_IPCXN)
        c->connections++;
    return CURL_SOCKOPT_OK;
}

#define SET(opt, val)                                                                                        \
    do {                                                                                                     \
        if (curl_easy_setopt(c->curl, opt, val) != CURLE_OK)                                                 \
            return #opt;                                                                                     \
    } while (0)

const char *dbw_http_setup(dbw_client *c, int verify_tls, const char *ca_file, const char *proxy)
{
    SET(CURLOPT_NOSIGNAL, 1L); /* no SIGALRM: safe in threads and nginx workers */
    SET(CURLOPT_TIMEOUT_MS, (long)(c->timeout * 1000 + 0.5));
    SET(CURLOPT_CONNECTTIMEOUT_MS, (long)(c->connect_timeout * 1000 + 0.5));
    SET(CURLOPT_FOLLOWLOCATION, 0L); /* never: Authorization must not reach another host */
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_SSL_VERIFYPEER, verify_tls ? 1L : 0L);
    SET(CURLOPT_SSL_VERIFYHOST, verify_tls ? 2L : 0L);
    if (ca_file)
        SET(CURLOPT_CAINFO, ca_file);
    if (proxy)
        SET(CURLOPT_PROXY, proxy);
    SET(CURLOPT_USERAGENT, c->user_agent);
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, c);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, c);
    SET(CURLOPT_SOCKOPTFUNCTION, on_socket_open);
    SET(CURLOPT_SOCKOPTDATA, c);
    SET(CURLOPT_ERRORBUFFER, c->errbuf);
    return NULL;
}

static dbw_net classify(CURLcode rc, int too_large, long sent)
{
    switch (rc) {
    case CURLE_OK:
        return DBW_NET_OK;
    case CURLE_OPERATION_TIMEDOUT:
        return DBW_NET_TIMEOUT;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
        return DBW_NET_CONNECT;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_USE_SSL_FAILED:
        return DBW_NET_TLS;
    case CURLE_WRITE_ERROR:
        if (too_large)
            return DBW_NET_TOO_LARGE;
        /* fall through */
    default:
        return sent > 0 ? DBW_NET_CONNECTION : DBW_NET_CONNECT;
    }
}

void dbw_http_perform(dbw_client *c, const dbw_request *rq, dbw_response *rs)
{
    struct curl_slist *hdrs = NULL, *tmp;
    CURLcode rc;
    long status = 0, sent = 0;
    double t0 = dbw_now();
    int i;

    memset(rs, 0, sizeof *rs);
    rs->retry_after = -1;
    dbw_buf_reset(&c->resp);
    c->too_large = 0;
    c->errbuf[0] = c->retry_after[0] = c->request_id[0] = c->location[0] = '\0';

    for (i = 0; i < rq->nheaders; i++) {
        tmp = curl_slist_append(hdrs, rq->headers[i]);
        if (tmp == NULL) {
            curl_slist_free_all(hdrs);
            rs->net = DBW_NET_CONNECT;
            rs->net_msg = "out of memory";
            return;
        }
        hdrs = tmp;
    }

    curl_easy_setopt(c->curl, CURLOPT_URL, rq->url);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hdrs);
    if (rq->body) {
        curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, rq->body);
        curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
        curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, strcmp(rq->method, "POST") ? rq->method : NULL);
    } else {
        curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, strcmp(rq->method, "GET") ? rq->method : NULL);
    }

    rc = curl_easy_perform(c->curl);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(hdrs);

    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(c->curl, CURLINFO_REQUEST_SIZE, &sent);
    rs->elapsed_ms = (dbw_now() - t0) * 1000.0;
    rs->net = classify(rc, c->too_large, sent);
    if (rs->net != DBW_NET_OK) {
        rs->net_msg = c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc);
        if (rs->net == DBW_NET_TOO_LARGE)
            rs->net_msg = "response body exceeds the client's size limit";
        return;
    }
    rs->status = status;
    rs->body = c->resp.data ? c->resp.data : "";
    rs->body_len = c->resp.len;
    rs->retry_after = dbw_retry_after_parse(c->retry_after[0] ? c->retry_after : NULL, dbw_epoch_now());
    rs->request_id = c->request_id[0] ? c->request_id : NULL;
    rs->location = c->location[0] ? c->location : NULL;
}
