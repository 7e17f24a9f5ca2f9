/*
 * buf.h - a growable byte buffer.
 *
 * Buffers live inside the client and are reused from call to call, so a hot
 * path allocates nothing once warmed up, and a Lua error that unwinds through
 * a call leaks nothing (the client still owns the memory and frees it on close).
 */
#ifndef DBW_BUF_H
#define DBW_BUF_H

#include <stddef.h>

typedef struct dbw_buf {
    char *data; /* always NUL-terminated when non-NULL */
    size_t len;
    size_t cap;
} dbw_buf;

int dbw_buf_reserve(dbw_buf *b, size_t extra);
int dbw_buf_append(dbw_buf *b, const void *p, size_t n);
int dbw_buf_puts(dbw_buf *b, const char *s);
int dbw_buf_printf(dbw_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void dbw_buf_reset(dbw_buf *b);
/* Like reset, but overwrites the old contents first (credentials). */
void dbw_buf_wipe(dbw_buf *b);
/* Frees the storage after wiping it: buffers may have held credentials. */
void dbw_buf_free(dbw_buf *b);

#endif
