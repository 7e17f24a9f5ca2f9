/*
 * floor.c - the floor: libcurl driven directly from C with one reused easy
 * handle (one kept-alive connection), sending the requests of the spec file
 * (same URLs, headers and JSON bodies as the module). It does only what any
 * client must: set the request, perform it, keep the response body in a
 * reused buffer, check the status (and pick the id out of a create answer).
 * It builds no data structure from the JSON: that is the price the Lua
 * clients pay on top, and what the tables show. Like the module it offers
 * HTTP/2 over TLS (the server's ALPN answer decides), asks for compressed
 * answers and trusts the spec's CA file.
 *
 *   floor SPEC OP N WARMUP IDS_IN|- IDS_OUT|-
 *
 * Runs WARMUP untimed calls, then N timed ones; call i uses id i of IDS_IN
 * (cycling), or a fixed id. Prints one RESULT line (see benchlib.h): CPU is
 * getrusage(RUSAGE_SELF) user+sys over the timed calls, RSS is ru_maxrss,
 * proto the HTTP version libcurl reports for the last call.
 */
#include <curl/curl.h>

#include "benchlib.h"

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    bl_buf_append(ud, p, size * n);
    return size * n;
}

static struct curl_slist *headers(const bl_spec *s, int with_body)
{
    struct curl_slist *l = NULL;
    int i;
    for (i = 0; i < s->nheaders; i++)
        if (strncmp(s->headers[i], "User-Agent:", 11) != 0) /* sent as CURLOPT_USERAGENT, like the module */
            l = curl_slist_append(l, s->headers[i]);
    for (i = 0; with_body && i < s->nbodyheaders; i++)
        l = curl_slist_append(l, s->bodyheaders[i]);
    l = curl_slist_append(l, "Expect:"); /* the module suppresses 100-continue too */
    if (l == NULL)
        bl_die("out of memory");
    return l;
}

typedef struct floor_ctx {
    CURL *h;
    struct curl_slist *plain, *json;
} floor_ctx;

static int perform(void *ud, const bl_op *op, const char *url, const bl_buf *body, bl_buf *resp, char *why,
                   size_t whylen)
{
    floor_ctx *f = ud;
    long status = 0;
    CURLcode rc;
    curl_easy_setopt(f->h, CURLOPT_URL, url);
    curl_easy_setopt(f->h, CURLOPT_WRITEDATA, resp);
    if (body) {
        curl_easy_setopt(f->h, CURLOPT_HTTPHEADER, f->json);
        curl_easy_setopt(f->h, CURLOPT_POSTFIELDS, body->data);
        curl_easy_setopt(f->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body->len);
        curl_easy_setopt(f->h, CURLOPT_CUSTOMREQUEST, strcmp(op->method, "POST") ? op->method : NULL);
    } else {
        curl_easy_setopt(f->h, CURLOPT_HTTPHEADER, f->plain);
        curl_easy_setopt(f->h, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(f->h, CURLOPT_CUSTOMREQUEST, strcmp(op->method, "GET") ? op->method : NULL);
    }
    rc = curl_easy_perform(f->h);
    curl_easy_getinfo(f->h, CURLINFO_RESPONSE_CODE, &status);
    if (rc == CURLE_OK && status == 200)
        return 0;
    snprintf(why, whylen, "%s, HTTP %ld", curl_easy_strerror(rc), status);
    return -1;
}

static const char *proto(void *ud)
{
    floor_ctx *f = ud;
    long v = 0;
    curl_easy_getinfo(f->h, CURLINFO_HTTP_VERSION, &v);
    switch (v) {
    case CURL_HTTP_VERSION_1_0:
        return "1.0";
    case CURL_HTTP_VERSION_1_1:
        return "1.1";
    case CURL_HTTP_VERSION_2_0:
        return "2";
    default:
        return "?";
    }
}

int main(int argc, char **argv)
{
    bl_spec spec;
    floor_ctx f;
    const char *ua = "";
    int i, errors;

    if (argc != 7)
        bl_die("usage: floor SPEC OP N WARMUP IDS_IN|- IDS_OUT|-");
    bl_spec_read(&spec, argv[1]);
    for (i = 0; i < spec.nheaders; i++)
        if (strncmp(spec.headers[i], "User-Agent: ", 12) == 0)
            ua = spec.headers[i] + 12;

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || (f.h = curl_easy_init()) == NULL)
        bl_die("libcurl init failed");
    f.plain = headers(&spec, 0);
    f.json = headers(&spec, 1);
    /* The options the module sets once per client. */
    curl_easy_setopt(f.h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(f.h, CURLOPT_TIMEOUT_MS, 60000L);
    curl_easy_setopt(f.h, CURLOPT_CONNECTTIMEOUT_MS, 30000L);
    curl_easy_setopt(f.h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(f.h, CURLOPT_USERAGENT, ua);
    curl_easy_setopt(f.h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(f.h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(f.h, CURLOPT_ACCEPT_ENCODING, "");
    if (spec.cainfo)
        curl_easy_setopt(f.h, CURLOPT_CAINFO, spec.cainfo);

    errors = bl_measure("floor", RUSAGE_SELF, &spec, argv, perform, proto, &f);

    curl_slist_free_all(f.plain);
    curl_slist_free_all(f.json);
    curl_easy_cleanup(f.h);
    curl_global_cleanup();
    return errors ? 1 : 0;
}
