/*
 * fuzz_retry_after - the Retry-After header value (a server's bytes, bounded
 * to 63 by http.c): delta-seconds or an HTTP-date through curl_getdate.
 *
 * Invariants: the result is -1 (ignored) or a finite number of seconds in
 * [0, 86400]; a plain integer is read as itself (capped); the parse does not
 * depend on bytes after a NUL (the header is a C string).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fz.h"

#include "../csrc/retry.h"

#define NOW 1700000000.0 /* a fixed clock: the same input always gives the same answer */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char v[64], *end;
    size_t n = size < sizeof v - 1 ? size : sizeof v - 1;
    double r;
    memcpy(v, data, n);
    v[n] = '\0';

    r = dbw_retry_after_parse(v, NOW);
    FZ_ASSERT(r == -1 || (isfinite(r) && r >= 0 && r <= 86400.0), "Retry-After '%s' gave %g", v, r);

    /* Pure digits: exactly their value, capped at a day. */
    if (n > 0 && strspn(v, "0123456789") == n) {
        double want = strtod(v, &end);
        if (want > 86400.0)
            want = 86400.0;
        FZ_ASSERT(r == want, "Retry-After '%s' gave %g, want %g", v, r, want);
    }
    /* Surrounding blanks do not change the answer. */
    if (n + 2 < sizeof v) {
        char padded[sizeof v + 2];
        padded[0] = ' ';
        memcpy(padded + 1, v, n);
        padded[n + 1] = '\0';
        FZ_ASSERT(dbw_retry_after_parse(padded, NOW) == r, "a leading blank changed '%s'", v);
    }
    FZ_ASSERT(dbw_retry_after_parse(NULL, NOW) == -1, "NULL header not ignored");
    return 0;
}
