/*
 * curl_cli.c - the `curl` command once per call, as shell automation does it:
 *
 *   id=$(curl -sS --fail -X POST -H 'Accept: ...' -H 'Authorization: ...' \
 *        -H 'Content-Type: application/json' --data-binary '{...}' URL)
 *
 * One fork+exec of curl per call with the spec file's URL, headers and body;
 * its stdout is read through a pipe (as $(...) does). CPU is the children's
 * getrusage(RUSAGE_CHILDREN) user+sys over the timed calls (this loop's own
 * few microseconds are not counted), peak RSS the largest child's ru_maxrss.
 *
 *   curl_cli SPEC OP N WARMUP IDS_IN|- IDS_OUT|- [CURL]
 */
#include <errno.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "benchlib.h"

#define MAX_ARGS 40

/* Runs argv, collecting its stdout into out. Returns the exit status (or -1). */
static int run(char **argv, bl_buf *out)
{
    int fd[2], status = 0;
    char chunk[16384];
    ssize_t got;
    pid_t pid;
    if (pipe(fd) != 0)
        bl_die("pipe: %s", strerror(errno));
    pid = fork();
    if (pid < 0)
        bl_die("fork: %s", strerror(errno));
    if (pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        close(fd[1]);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(fd[1]);
    out->len = 0;
    while ((got = read(fd[0], chunk, sizeof chunk)) > 0 || (got < 0 && errno == EINTR))
        if (got > 0)
            bl_buf_append(out, chunk, (size_t)got);
    close(fd[0]);
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int main(int argc, char **argv)
{
    bl_spec spec;
    const bl_op *op;
    bl_buf url = {0}, body = {0}, out = {0};
    struct rusage r0, r1;
    char **ids, **out_ids = NULL, *args[MAX_ARGS];
    int n, warmup, nids, i, j, total, errors = 0, url_at;
    double t0 = 0;

    if (argc != 7 && argc != 8)
        bl_die("usage: curl_cli SPEC OP N WARMUP IDS_IN|- IDS_OUT|- [CURL]");
    bl_spec_read(&spec, argv[1]);
    op = bl_spec_op(&spec, argv[2]);
    n = atoi(argv[3]);
    warmup = atoi(argv[4]);
    nids = bl_ids_read(argv[5], &ids);
    total = n + warmup;
    if (strcmp(argv[6], "-") != 0 && (out_ids = calloc((size_t)total, sizeof *out_ids)) == NULL)
        bl_die("out of memory");

    j = 0;
    args[j++] = argc == 8 ? argv[7] : "curl";
    args[j++] = "-sS";
    args[j++] = "--fail";
    if (strcmp(op->method, "GET") != 0) {
        args[j++] = "-X";
        args[j++] = op->method;
    }
    for (i = 0; i < spec.nheaders; i++) {
        args[j++] = "-H";
        args[j++] = spec.headers[i];
    }
    if (op->body) {
        for (i = 0; i < spec.nbodyheaders; i++) {
            args[j++] = "-H";
            args[j++] = spec.bodyheaders[i];
        }
        args[j++] = "--data-binary";
        args[j++] = NULL; /* filled per call */
    }
    url_at = j;
    args[j++] = NULL; /* the URL, per call */
    args[j] = NULL;

    for (i = 0; i < total; i++) {
        const char *id = nids ? ids[i % nids] : BL_FIXED_ID;
        int rc;
        if (i == warmup) {
            getrusage(RUSAGE_CHILDREN, &r0);
            t0 = bl_now();
        }
        bl_subst(&url, spec.url, op->target, id);
        args[url_at] = url.data;
        if (op->body) {
            bl_subst(&body, NULL, op->body, id);
            args[url_at - 1] = body.data;
        }
        rc = run(args, &out);
        if (rc != 0) {
            if (errors++ < 3)
                fprintf(stderr, "curl_cli: %s: curl exited %d: %.200s\n", op->name, rc, out.data ? out.data : "");
        } else if (out_ids) {
            out_ids[i] = bl_extract_id(out.data);
        }
    }
    {
        double wall = bl_now() - t0;
        getrusage(RUSAGE_CHILDREN, &r1);
        bl_result("curl", op->name, n, wall, &r0, &r1, r1.ru_maxrss, errors);
    }
    if (out_ids)
        bl_ids_write(argv[6], out_ids, total);
    return errors ? 1 : 0;
}
