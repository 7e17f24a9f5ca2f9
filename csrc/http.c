#include "http.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "retry.h"

#include <openssl/crypto.h>
#include <openssl/ssl.h>

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    dbw_conn *k = ud;
    size_t len = size * n;
    if (k->resp.len + len > k->max_response) {
        k->too_large = 1;
        return 0; /* makes libcurl stop with CURLE_WRITE_ERROR */
    }
    return dbw_buf_append(&k->resp, p, len) == 0 ? len : 0;
}

/* If the header line (as libcurl hands it over, CRLF included; HTTP/2 names
 * arrive in lower case) is `name: value`, copies the trimmed value into out,
 * cut to outsz - 1 bytes, and returns 1. */
static int header_value(const char *line, size_t len, const char *name, char *out, size_t outsz)
{
    size_t nl = strlen(name), vl;
    const char *v;
    if (len <= nl || line[nl] != ':' || strncasecmp(line, name, nl) != 0)
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
    dbw_conn *k = ud;
    size_t len = size * n;
    /* A new status line (after a 100 Continue, say) starts a new header set. */
    if (len > 5 && memcmp(p, "HTTP/", 5) == 0)
        k->retry_after[0] = k->request_id[0] = k->location[0] = '\0';
    else if (!header_value(p, len, "retry-after", k->retry_after, sizeof k->retry_after) &&
             !header_value(p, len, "x-request-id", k->request_id, sizeof k->request_id))
        header_value(p, len, "location", k->location, sizeof k->location);
    return len;
}

static int on_socket_open(void *ud, curl_socket_t fd, curlsocktype purpose)
{
    dbw_conn *k = ud;
    (void)fd;
    if (purpose == CURLSOCKTYPE_IPCXN && k->counters)
        k->counters->connections++;
    return CURL_SOCKOPT_OK;
}

#if LIBCURL_VERSION_NUM >= 0x075000 /* 7.80: CURLOPT_PREREQFUNCTION */
/* Whether the connection the transfer is about to use negotiated HTTP/2. */
static int on_h2(CURL *h)
{
    struct curl_tlssessioninfo *ti = NULL;
    const unsigned char *alpn = NULL;
    unsigned int len = 0;
    if (curl_easy_getinfo(h, CURLINFO_TLS_SSL_PTR, &ti) != CURLE_OK || ti == NULL ||
        ti->backend != CURLSSLBACKEND_OPENSSL || ti->internals == NULL)
        return 0;
    SSL_get0_alpn_selected((SSL *)ti->internals, &alpn, &len);
    return len == 2 && memcmp(alpn, "h2", 2) == 0;
}

/* libcurl sends a request again on a fresh connection in two cases: an
 * HTTP/1.1 connection it reused closed before any byte of the answer (a
 * stale keep-alive: the first copy may have reached the server), and an
 * HTTP/2 stream the server refused (REFUSED_STREAM, or a GOAWAY whose
 * last-stream-id is below the stream: the server declares it unprocessed).
 * Only the second is safe for anything but a GET. libcurl 7.88 tells the
 * two apart only internally; from outside, a refused stream is a resend
 * after an HTTP/2 send with no error recorded, whereas a reset HTTP/2
 * connection records "Failed receiving HTTP2 data". So a resend goes
 * ahead for a GET, or when the previous send was HTTP/2 and nothing
 * failed; anything else fails instead, and exchange.c's policy (which
 * never replays a create) decides. Called before every request a transfer
 * sends (after any proxy CONNECT). Limit: libcurl 7.88 ends the session
 * before resending the last stream left on a connection a GOAWAY refused
 * (a lone one included), so that call fails with CONNECTION_ERROR (README,
 * "How requests travel"; spec/57-h2_goaway_spec.lua). */
static int on_prereq(void *ud, char *primary_ip, char *local_ip, int primary_port, int local_port)
{
    dbw_conn *k = ud;
    char *method = NULL;
    int was_h2 = k->sent_h2, ok;
    (void)primary_ip, (void)local_ip, (void)primary_port, (void)local_port;
    k->sent_h2 = on_h2(k->curl);
    if (k->sends++ == 0)
        return CURL_PREREQFUNC_OK;
    curl_easy_getinfo(k->curl, CURLINFO_EFFECTIVE_METHOD, &method);
    ok = (method != NULL && strcmp(method, "GET") == 0) || (was_h2 && k->errbuf[0] == '\0');
    if (ok && k->counters)
        k->counters->resends++;
    return ok ? CURL_PREREQFUNC_OK : CURL_PREREQFUNC_ABORT;
}
#endif

int dbw_conn_init(dbw_conn *k, const dbw_conn *from, dbw_counters *counters, size_t max_response)
{
    memset(k, 0, sizeof *k);
    k->curl = from ? curl_easy_duphandle(from->curl) : curl_easy_init();
    if (k->curl == NULL)
        return -1;
    k->counters = counters;
    k->max_response = max_response;
    /* A duplicated handle would still write into the template's buffers. */
    if (curl_easy_setopt(k->curl, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
        curl_easy_setopt(k->curl, CURLOPT_WRITEDATA, k) != CURLE_OK ||
        curl_easy_setopt(k->curl, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK ||
        curl_easy_setopt(k->curl, CURLOPT_HEADERDATA, k) != CURLE_OK ||
        curl_easy_setopt(k->curl, CURLOPT_SOCKOPTFUNCTION, on_socket_open) != CURLE_OK ||
        curl_easy_setopt(k->curl, CURLOPT_SOCKOPTDATA, k) != CURLE_OK ||
        curl_easy_setopt(k->curl, CURLOPT_ERRORBUFFER, k->errbuf) != CURLE_OK
#if LIBCURL_VERSION_NUM >= 0x075000
        || curl_easy_setopt(k->curl, CURLOPT_PREREQFUNCTION, on_prereq) != CURLE_OK ||
        curl_easy_setopt(k->curl, CURLOPT_PREREQDATA, k) != CURLE_OK
#endif
    ) {
        dbw_conn_free(k);
        return -1;
    }
    return 0;
}

/* The list may hold the Authorization header: wiped before it is freed. */
static void free_headers(dbw_conn *k)
{
    struct curl_slist *h;
    for (h = k->headers; h != NULL; h = h->next)
        OPENSSL_cleanse(h->data, strlen(h->data));
    curl_slist_free_all(k->headers);
    k->headers = NULL;
}

/* 1 when the handle's header list already says what rq asks for: calls in a
 * row send the same headers, so the list is built once, not per call. */
static int same_headers(const dbw_conn *k, const dbw_request *rq)
{
    const struct curl_slist *h = k->headers;
    int i;
    for (i = 0; i < rq->nheaders; i++, h = h->next)
        if (h == NULL || strcmp(h->data, rq->headers[i]) != 0)
            return 0;
    return h == NULL && k->headers != NULL;
}

void dbw_conn_free(dbw_conn *k)
{
    if (k->curl)
        curl_easy_cleanup(k->curl);
    k->curl = NULL;
    free_headers(k);
    dbw_buf_free(&k->resp);
}

#define SET(opt, val)                                                                                        \
    do {                                                                                                     \
        if (curl_easy_setopt(k->curl, opt, val) != CURLE_OK)                                                 \
            return #opt;                                                                                     \
    } while (0)

const char *dbw_http_setup(dbw_client *c, int verify_tls, const char *ca_file, const char *proxy)
{
    dbw_conn *k = &c->conn;
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
    /* HTTP/2 when TLS negotiates it (libcurl's default, said explicitly);
     * transfers started side by side wait for that answer and then share
     * the one connection instead of opening one each. Over http:// no answer
     * can allow that, so there they do not wait: a bulk's first batch would
     * otherwise lose a round trip. */
    SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    SET(CURLOPT_PIPEWAIT, strncasecmp(c->host, "https://", 8) == 0 ? 1L : 0L);
    /* Every encoding this libcurl can decode; the size limit (on_body)
     * applies to the decoded bytes, so a compressed bomb stops there. */
    SET(CURLOPT_ACCEPT_ENCODING, "");
    return NULL;
}

dbw_net dbw_http_classify(CURLcode rc, int too_large, long sent)
{
    switch (rc) {
    case CURLE_OK:
        return DBW_NET_OK;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_BAD_FUNCTION_ARGUMENT:
        return DBW_NET_LOCAL; /* a retry would fail the same way */
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

int dbw_http_start(dbw_conn *k, const dbw_request *rq)
{
    struct curl_slist *tmp;
    int i;

    dbw_buf_reset(&k->resp);
    k->too_large = 0;
    k->sends = 0;
    k->sent_h2 = 0;
    k->errbuf[0] = k->retry_after[0] = k->request_id[0] = k->location[0] = '\0';
    k->started = dbw_now();
    if (!same_headers(k, rq)) {
        free_headers(k);
        for (i = 0; i < rq->nheaders; i++) {
            tmp = curl_slist_append(k->headers, rq->headers[i]);
            if (tmp == NULL) {
                free_headers(k);
                return -1;
            }
            k->headers = tmp;
        }
    }

    curl_easy_setopt(k->curl, CURLOPT_URL, rq->url);
    curl_easy_setopt(k->curl, CURLOPT_HTTPHEADER, k->headers);
    if (rq->body) {
        curl_easy_setopt(k->curl, CURLOPT_POSTFIELDS, rq->body);
        curl_easy_setopt(k->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
        curl_easy_setopt(k->curl, CURLOPT_CUSTOMREQUEST, strcmp(rq->method, "POST") ? rq->method : NULL);
    } else {
        curl_easy_setopt(k->curl, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(k->curl, CURLOPT_CUSTOMREQUEST, strcmp(rq->method, "GET") ? rq->method : NULL);
    }
    return 0;
}

void dbw_http_finish(dbw_conn *k, CURLcode rc, dbw_response *rs)
{
    long status = 0, sent = 0, version = 0;

    memset(rs, 0, sizeof *rs);
    rs->retry_after = -1;
    curl_easy_getinfo(k->curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(k->curl, CURLINFO_REQUEST_SIZE, &sent);
    rs->elapsed_ms = (dbw_now() - k->started) * 1000.0;
    rs->net = dbw_http_classify(rc, k->too_large, sent);
    if (rs->net != DBW_NET_OK) {
        rs->net_msg = k->errbuf[0] ? k->errbuf : curl_easy_strerror(rc);
        if (rs->net == DBW_NET_TOO_LARGE)
            rs->net_msg = "response body exceeds the client's size limit";
        else if (rc == CURLE_ABORTED_BY_CALLBACK) /* on_prereq */
            rs->net_msg = "connection closed before any response; the request may have reached the server, "
                          "so it was not sent again";
        return;
    }
    rs->status = status;
    curl_easy_getinfo(k->curl, CURLINFO_HTTP_VERSION, &version);
    rs->http_version = version == CURL_HTTP_VERSION_2_0 ? 20 : version == CURL_HTTP_VERSION_1_0 ? 10 : 11;
    if (k->counters) {
        k->counters->requests++;
        k->counters->http_version = rs->http_version;
    }
    rs->body = k->resp.data ? k->resp.data : "";
    rs->body_len = k->resp.len;
    rs->retry_after = dbw_retry_after_parse(k->retry_after[0] ? k->retry_after : NULL, dbw_epoch_now());
    rs->request_id = k->request_id[0] ? k->request_id : NULL;
    rs->location = k->location[0] ? k->location : NULL;
}

int dbw_http_multi(dbw_client *c)
{
    if (c->multi == NULL && (c->multi = curl_multi_init()) == NULL)
        return -1;
    return 0;
}

static void abandon_conn(CURLM *multi, dbw_conn *k)
{
    if (k->curl == NULL)
        return;
    if (multi)
        curl_multi_remove_handle(multi, k->curl); /* CURLM_OK when it was not added */
    curl_easy_setopt(k->curl, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL); /* a pointer, as varargs need */
    free_headers(k);
    dbw_buf_reset(&k->resp);
}

void dbw_http_abandon(dbw_client *c)
{
    int i;
    abandon_conn(c->multi, &c->conn);
    for (i = 0; i < c->npool; i++)
        abandon_conn(c->multi, c->pool[i]);
}
