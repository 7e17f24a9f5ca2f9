/*
 * curl_cli.c - the `curl` command once per call, as shell automation does it:
 *
 *   id=$(curl -sS --fail --compressed --http2 --cacert ca.pem -X POST \
 *        -H 'Accept: ...' -H 'Authorization: ...' \
 *        -H 'Content-Type: application/json' --data-binary '{...}' URL)
 *
 * --http2 or --http1.1 as the spec's protocol says, --cacert when it names a
 * CA file, --compressed as the module asks for compressed answers too.
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

typedef struct cli_ctx {
    char *args[MAX_ARGS];
    int url_at; /* args[url_at] is the URL, args[url_at - 1] the body when there is one */
} cli_ctx;

static int perform(void *ud, const bl_op *op, const char *url, const bl_buf *body, bl_buf *resp, char *why,
                   size_t whylen)
{
    cli_ctx *c = ud;
    int rc;
    (void)op;
    c->args[c->url_at] = (char *)url;
    if (body)
        c->args[c->url_at - 1] = body->data;
    rc = run(c->args, resp);
    if (rc == 0)
        return 0;
    snprintf(why, whylen, "curl exited %d", rc);
    return -1;
}

int main(int argc, char **argv)
{
    bl_spec spec;
    const bl_op *op;
    cli_ctx c;
    int i, j = 0;

    if (argc != 7 && argc != 8)
        bl_die("usage: curl_cli SPEC OP N WARMUP IDS_IN|- IDS_OUT|- [CURL]");
    bl_spec_read(&spec, argv[1]);
    op = bl_spec_op(&spec, argv[2]);
    c.args[j++] = argc == 8 ? argv[7] : "curl";
    c.args[j++] = "-sS";
    c.args[j++] = "--fail";
    c.args[j++] = "--compressed";
    c.args[j++] = spec.http && strcmp(spec.http, "2") == 0 ? "--http2" : "--http1.1";
    if (spec.cainfo) {
        c.args[j++] = "--cacert";
        c.args[j++] = spec.cainfo;
    }
    if (strcmp(op->method, "GET") != 0) {
        c.args[j++] = "-X";
        c.args[j++] = (char *)op->method;
    }
    for (i = 0; i < spec.nheaders; i++) {
        c.args[j++] = "-H";
        c.args[j++] = spec.headers[i];
    }
    if (op->body) {
        for (i = 0; i < spec.nbodyheaders; i++) {
            c.args[j++] = "-H";
            c.args[j++] = spec.bodyheaders[i];
        }
        c.args[j++] = "--data-binary";
        c.args[j++] = NULL; /* filled per call */
    }
    c.url_at = j;
    c.args[j++] = NULL; /* the URL, per call */
    c.args[j] = NULL;
    return bl_measure("curl", RUSAGE_CHILDREN, &spec, argv, perform, NULL, &c) ? 1 : 0;
}
