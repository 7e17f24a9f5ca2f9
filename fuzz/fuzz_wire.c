/*
 * fuzz_wire - the fast path's HTTP/1.1 response parser (csrc/wire.c): a
 * server's bytes, as they come off the connection.
 *
 * Input: one byte of options (bit 0: the request was HEAD; bit 1: a 64-byte
 * body limit instead of 16 MB; the rest seeds how the bytes are split), then
 * the response.
 *
 * Invariants: parsing the bytes in one piece and in random pieces (the
 * unconsumed tail kept and more appended, as wire.c's reader does) gives the
 * same answer, status, body and consumed length; the body never exceeds the
 * limit; a complete answer has a final (>= 200) status and consumed no more
 * than it was given; an error always says why.
 */
#include <stdlib.h>
#include <string.h>

#include "fz.h"

#include "../csrc/buf.h"
#include "../csrc/wire.h"

typedef struct outcome {
    int r;
    long status;
    size_t consumed;
    dbw_buf body;
    int close;
} outcome;

static void check(const dbw_wire_rx *p, int r, size_t max_body)
{
    FZ_ASSERT(p->body->len <= max_body, "body of %zu bytes over the %zu limit", p->body->len, max_body);
    if (r == DBW_WIRE_DONE)
        FZ_ASSERT(p->status >= 200 && p->status <= 999, "complete with status %ld", p->status);
    if (r == DBW_WIRE_ERROR || r == DBW_WIRE_TOO_LARGE)
        FZ_ASSERT(p->err != NULL && *p->err, "an error without a reason");
}

/* Feeds data in pieces whose sizes come from seed (0: one piece). */
static void parse(const char *data, size_t len, unsigned seed, int head_only, size_t max_body, outcome *o)
{
    dbw_wire_rx rx;
    dbw_buf pend = {0};
    size_t off = 0, used = 0;
    int r = DBW_WIRE_MORE;

    memset(o, 0, sizeof *o);
    dbw_wire_rx_init(&rx, &o->body, max_body, head_only);
    while (off < len && r == DBW_WIRE_MORE) {
        size_t piece = len - off;
        if (seed) {
            seed = seed * 1103515245u + 12345u;
            piece = 1 + (seed >> 16) % 37;
            if (piece > len - off)
                piece = len - off;
        }
        if (dbw_buf_append(&pend, data + off, piece) != 0)
            fz_fail("out of memory");
        off += piece;
        r = dbw_wire_rx_feed(&rx, pend.data, pend.len, &used);
        FZ_ASSERT(used <= pend.len, "consumed %zu of %zu bytes", used, pend.len);
        check(&rx, r, max_body);
        o->consumed += used;
        memmove(pend.data, pend.data + used, pend.len - used);
        pend.len -= used;
    }
    if (r == DBW_WIRE_MORE) {
        r = dbw_wire_rx_eof(&rx);
        check(&rx, r, max_body);
        if (r == DBW_WIRE_DONE)
            o->consumed = len; /* read to the end */
    }
    o->r = r;
    o->status = rx.status;
    o->close = rx.close;
    dbw_buf_free(&pend);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    outcome whole, split;
    int head_only;
    size_t max_body;
    unsigned seed;

    if (size < 1)
        return 0;
    head_only = data[0] & 1;
    max_body = (data[0] & 2) ? 64 : 16u * 1024 * 1024;
    seed = (unsigned)(data[0] >> 2) + 1;
    data++, size--;

    parse((const char *)data, size, 0, head_only, max_body, &whole);
    parse((const char *)data, size, seed, head_only, max_body, &split);

    FZ_ASSERT(whole.r == split.r, "one piece gave %d, pieces gave %d", whole.r, split.r);
    if (whole.r == DBW_WIRE_DONE) {
        FZ_ASSERT(whole.status == split.status, "status %ld vs %ld", whole.status, split.status);
        FZ_ASSERT(whole.consumed == split.consumed, "consumed %zu vs %zu", whole.consumed, split.consumed);
        FZ_ASSERT(whole.close == split.close, "close %d vs %d", whole.close, split.close);
        FZ_ASSERT(whole.body.len == split.body.len &&
                      (whole.body.len == 0 || memcmp(whole.body.data, split.body.data, whole.body.len) == 0),
                  "the bodies differ (%zu vs %zu bytes)", whole.body.len, split.body.len);
    }
    dbw_buf_free(&whole.body);
    dbw_buf_free(&split.body);
    return 0;
}
