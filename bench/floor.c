/*
 * floor.c - the floor: libcurl driven directly from C with one reused easy
 * handle (one kept-alive connection), sending the requests of the spec file
 * (same URLs, headers and JSON bodies as the module). It does only what any
 * client must: set the request, perform it, keep the response body in a
 * reused buffer, check the status (and pick the id out of a create answer).
 * It builds no data structure from the JSON: that is the price the Lua
 * clients pay on top, and what the tables show.
 *
 *   floor SPEC OP N WARMUP IDS_IN|- IDS_OUT|-
 *
 * Runs WARMUP untimed calls, then N timed ones; call i uses id i of IDS_IN
 * (cycling), or a fixed id. Prints one RESULT line (see benchlib.h): CPU is
 * getrusage(RUSAGE_SELF) user+sys over the timed calls, RSS is ru_maxrss.
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

int main(int argc, char **argv)
{
    bl_spec spec;
    const bl_op *op;
    bl_buf url = {0}, body = {0}, resp = {0};
    struct curl_slist *plain, *json;
    struct rusage r0, r1;
    char **ids, **out_ids = NULL;
    const char *ua = "";
    int n, warmup, nids, i, total, errors = 0;
    double t0 = 0;
    CURL *h = NULL;

    if (argc != 7)
        bl_die("usage: floor SPEC OP N WARMUP IDS_IN|- IDS_OUT|-");
    bl_spec_read(&spec, argv[1]);
    op = bl_spec_op(&spec, argv[2]);
    n = atoi(argv[3]);
    warmup = atoi(argv[4]);
    nids = bl_ids_read(argv[5], &ids);
    total = n + warmup;
    if (strcmp(argv[6], "-") != 0 && (out_ids = calloc((size_t)total, sizeof *out_ids)) == NULL)
        bl_die("out of memory");
    for (i = 0; i < spec.nheaders; i++)
        if (strncmp(spec.headers[i], "User-Agent: ", 12) == 0)
            ua = spec.headers[i] + 12;

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || (h = curl_easy_init()) == NULL)
        bl_die("libcurl init failed");
    plain = headers(&spec, 0);
    json = headers(&spec, 1);
    /* The options the module sets once per client. */
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 60000L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 30000L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, ua);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp);

    for (i = 0; i < total; i++) {
        const char *id = nids ? ids[i % nids] : BL_FIXED_ID;
        long status = 0;
        CURLcode rc;
        if (i == warmup) {
            getrusage(RUSAGE_SELF, &r0);
            t0 = bl_now();
        }
        bl_subst(&url, spec.url, op->target, id);
        curl_easy_setopt(h, CURLOPT_URL, url.data);
        if (op->body) {
            bl_subst(&body, NULL, op->body, id);
            curl_easy_setopt(h, CURLOPT_HTTPHEADER, json);
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data);
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body.len);
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, strcmp(op->method, "POST") ? op->method : NULL);
        } else {
            curl_easy_setopt(h, CURLOPT_HTTPHEADER, plain);
            curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, strcmp(op->method, "GET") ? op->method : NULL);
        }
        resp.len = 0;
        rc = curl_easy_perform(h);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        if (rc != CURLE_OK || status != 200) {
            if (errors++ < 3)
                fprintf(stderr, "floor: %s: %s, HTTP %ld: %.200s\n", op->name, curl_easy_strerror(rc), status,
                        resp.data ? resp.data : "");
        } else if (out_ids) {
            out_ids[i] = bl_extract_id(resp.data);
        }
    }
    {
        double wall = bl_now() - t0;
        getrusage(RUSAGE_SELF, &r1);
        bl_result("floor", op->name, n, wall, &r0, &r1, r1.ru_maxrss, errors);
    }
    if (out_ids)
        bl_ids_write(argv[6], out_ids, total);

    curl_slist_free_all(plain);
    curl_slist_free_all(json);
    curl_easy_cleanup(h);
    curl_global_cleanup();
    return errors ? 1 : 0;
}
