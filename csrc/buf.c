#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

int dbw_buf_reserve(dbw_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1, cap;
    char *p;
    if (need < b->len)
        return -1;
    if (need <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 256;
    while (cap < need) {
        if (cap > ((size_t)-1) / 2)
            return -1;
        cap *= 2;
    }
    p = realloc(b->data, cap);
    if (p == NULL)
        return -1;
    b->data = p;
    b->cap = cap;
    return 0;
}

int dbw_buf_append(dbw_buf *b, const void *p, size_t n)
{
    if (dbw_buf_reserve(b, n) != 0)
        return -1;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int dbw_buf_puts(dbw_buf *b, const char *s)
{
    return dbw_buf_append(b, s, strlen(s));
}

int dbw_buf_printf(dbw_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || dbw_buf_reserve(b, (size_t)n) != 0)
        return -1;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

void dbw_buf_reset(dbw_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void dbw_buf_wipe(dbw_buf *b)
{
    if (b->data)
        OPENSSL_cleanse(b->data, b->cap);
    dbw_buf_reset(b);
}

void dbw_buf_free(dbw_buf *b)
{
    if (b->data) {
        OPENSSL_cleanse(b->data, b->cap);
        free(b->data);
    }
    b->data = NULL;
    b->len = b->cap = 0;
}
