/*
 * benchlib.h - what floor.c and curl_cli.c share: the spec file written by
 * bench/workload.lua, id files, "@ID@" substitution, clocks and the result
 * line the orchestrator (bench/bench.lua) parses.
 *
 * Header-only (static inline) so each program stays one translation unit.
 */
#ifndef BENCHLIB_H
#define BENCHLIB_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define BL_MAX_HEADERS 8
#define BL_MAX_OPS 16
#define BL_FIXED_ID "0123456789abcdef0123456789abcdef" /* canned server: any id will do */

typedef struct {
    char *name, *method, *target, *body; /* body NULL: none */
} bl_op;

typedef struct {
    char *url;
    char *cainfo; /* NULL: the system's CAs */
    char *http;   /* the protocol the server speaks there: "1.1" or "2" */
    char *headers[BL_MAX_HEADERS];
    int nheaders;
    char *bodyheaders[BL_MAX_HEADERS];
    int nbodyheaders;
    bl_op ops[BL_MAX_OPS];
    int nops;
} bl_spec;

/* A growable byte buffer, reused across calls. */
typedef struct {
    char *data;
    size_t len, cap;
} bl_buf;

static inline void bl_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

static inline char *bl_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p == NULL)
        bl_die("out of memory");
    memcpy(p, s, n);
    return p;
}

static inline void bl_buf_append(bl_buf *b, const char *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->data = realloc(b->data, cap);
        if (b->data == NULL)
            bl_die("out of memory");
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

/* out = prefix + tmpl with every "@ID@" replaced by id. */
static inline void bl_subst(bl_buf *out, const char *prefix, const char *tmpl, const char *id)
{
    const char *p = tmpl, *at;
    out->len = 0;
    if (prefix)
        bl_buf_append(out, prefix, strlen(prefix));
    while ((at = strstr(p, "@ID@")) != NULL) {
        bl_buf_append(out, p, (size_t)(at - p));
        bl_buf_append(out, id, strlen(id));
        p = at + 4;
    }
    bl_buf_append(out, p, strlen(p));
}

static inline void bl_spec_read(bl_spec *s, const char *path)
{
    char line[8192];
    FILE *f = fopen(path, "r");
    memset(s, 0, sizeof *s);
    if (f == NULL)
        bl_die("cannot open spec %s", path);
    while (fgets(line, sizeof line, f)) {
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (strncmp(line, "url ", 4) == 0) {
            s->url = bl_strdup(line + 4);
        } else if (strncmp(line, "cainfo ", 7) == 0) {
            s->cainfo = bl_strdup(line + 7);
        } else if (strncmp(line, "http ", 5) == 0) {
            s->http = bl_strdup(line + 5);
        } else if (strncmp(line, "header ", 7) == 0 && s->nheaders < BL_MAX_HEADERS) {
            s->headers[s->nheaders++] = bl_strdup(line + 7);
        } else if (strncmp(line, "bodyheader ", 11) == 0 && s->nbodyheaders < BL_MAX_HEADERS) {
            s->bodyheaders[s->nbodyheaders++] = bl_strdup(line + 11);
        } else if (strncmp(line, "op ", 3) == 0 && s->nops < BL_MAX_OPS) {
            /* op NAME METHOD TARGET [BODY] */
            bl_op *o = &s->ops[s->nops++];
            char *p = bl_strdup(line + 3), *sp;
            o->name = p;
            if ((sp = strchr(p, ' ')) == NULL)
                bl_die("bad spec line: %s", line);
            *sp = '\0';
            o->method = sp + 1;
            if ((sp = strchr(o->method, ' ')) == NULL)
                bl_die("bad spec line: %s", line);
            *sp = '\0';
            o->target = sp + 1;
            if ((sp = strchr(o->target, ' ')) != NULL) {
                *sp = '\0';
                o->body = sp + 1;
            }
        }
    }
    fclose(f);
    if (s->url == NULL)
        bl_die("spec %s has no url line", path);
}

static inline const bl_op *bl_spec_op(const bl_spec *s, const char *name)
{
    int i;
    for (i = 0; i < s->nops; i++)
        if (strcmp(s->ops[i].name, name) == 0)
            return &s->ops[i];
    bl_die("spec has no op %s", name);
    return NULL;
}

/* Reads one id per line; returns the count (0 when path is NULL or "-"). */
static inline int bl_ids_read(const char *path, char ***ids)
{
    char line[256];
    int n = 0, cap = 0;
    FILE *f;
    *ids = NULL;
    if (path == NULL || strcmp(path, "-") == 0)
        return 0;
    if ((f = fopen(path, "r")) == NULL)
        bl_die("cannot open ids file %s", path);
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '\0')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            *ids = realloc(*ids, (size_t)cap * sizeof **ids);
            if (*ids == NULL)
                bl_die("out of memory");
        }
        (*ids)[n++] = bl_strdup(line);
    }
    fclose(f);
    return n;
}

static inline void bl_ids_write(const char *path, char **ids, int n)
{
    int i;
    FILE *f;
    if (path == NULL || strcmp(path, "-") == 0)
        return;
    if ((f = fopen(path, "w")) == NULL)
        bl_die("cannot write ids file %s", path);
    for (i = 0; i < n; i++)
        fprintf(f, "%s\n", ids[i] ? ids[i] : "");
    fclose(f);
}

/* The webhook id in a {"webhook":{"id":"..."}} answer (the first "id" key), or NULL. */
static inline char *bl_extract_id(const char *body)
{
    const char *p = body ? strstr(body, "\"id\":\"") : NULL, *e;
    char *id;
    if (p == NULL)
        return NULL;
    p += 6;
    if ((e = strchr(p, '"')) == NULL)
        return NULL;
    id = malloc((size_t)(e - p) + 1);
    if (id == NULL)
        bl_die("out of memory");
    memcpy(id, p, (size_t)(e - p));
    id[e - p] = '\0';
    return id;
}

static inline double bl_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline double bl_tv(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static inline void bl_result(const char *client, const char *op, int n, double wall, const struct rusage *a,
                             const struct rusage *b, long rss_kb, int errors, const char *proto)
{
    double user = bl_tv(b->ru_utime) - bl_tv(a->ru_utime), sys = bl_tv(b->ru_stime) - bl_tv(a->ru_stime);
    printf("RESULT client=%s op=%s n=%d wall_s=%.6f cpu_s=%.6f user_s=%.6f sys_s=%.6f rss_kb=%ld errors=%d "
           "proto=%s\n",
           client, op, n, wall, user + sys, user, sys, rss_kb, errors, proto ? proto : "-");
    fflush(stdout);
}

/* One call of a C client: send op's request to url (body: NULL when the
 * operation has none), keep the answer in *resp. Returns 0 on success, or
 * writes a one-line reason into why. */
typedef int (*bl_call_fn)(void *ctx, const bl_op *op, const char *url, const bl_buf *body, bl_buf *resp,
                          char *why, size_t whylen);

/* The HTTP version the last call used ("1.1", "2"), or NULL when unknown. */
typedef const char *(*bl_proto_fn)(void *ctx);

/* The measurement both C clients share: argv is SPEC OP N WARMUP IDS_IN|-
 * IDS_OUT|- (from argv[1]; spec is SPEC, read by the caller to set itself
 * up); WARMUP untimed calls, then N timed ones, call i
 * using id i of IDS_IN (cycling) or a fixed id; rusage_who picks whose CPU
 * counts (RUSAGE_SELF, or RUSAGE_CHILDREN for a process per call). Prints the
 * RESULT line (with proto's answer, when given), writes the ids a create got,
 * returns the number of failed calls. */
static inline int bl_measure(const char *client, int rusage_who, const bl_spec *spec, char **argv,
                             bl_call_fn call, bl_proto_fn proto, void *ctx)
{
    const bl_op *op;
    bl_buf url = {0}, body = {0}, resp = {0};
    struct rusage r0, r1;
    char **ids, **out_ids = NULL, why[256];
    int n, warmup, nids, i, total, errors = 0;
    double t0 = 0;

    op = bl_spec_op(spec, argv[2]);
    n = atoi(argv[3]);
    warmup = atoi(argv[4]);
    nids = bl_ids_read(argv[5], &ids);
    total = n + warmup;
    if (strcmp(argv[6], "-") != 0 && (out_ids = calloc((size_t)total, sizeof *out_ids)) == NULL)
        bl_die("out of memory");
    for (i = 0; i < total; i++) {
        const char *id = nids ? ids[i % nids] : BL_FIXED_ID;
        if (i == warmup) {
            getrusage(rusage_who, &r0);
            t0 = bl_now();
        }
        bl_subst(&url, spec->url, op->target, id);
        if (op->body)
            bl_subst(&body, NULL, op->body, id);
        resp.len = 0;
        if (call(ctx, op, url.data, op->body ? &body : NULL, &resp, why, sizeof why) != 0) {
            if (errors++ < 3)
                fprintf(stderr, "%s: %s: %s: %.200s\n", client, op->name, why, resp.data ? resp.data : "");
        } else if (out_ids) {
            out_ids[i] = bl_extract_id(resp.data);
        }
    }
    {
        double wall = bl_now() - t0;
        getrusage(rusage_who, &r1);
        bl_result(client, op->name, n, wall, &r0, &r1, r1.ru_maxrss, errors, proto ? proto(ctx) : NULL);
    }
    if (out_ids)
        bl_ids_write(argv[6], out_ids, total);
    return errors;
}

#endif
