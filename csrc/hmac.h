/*
 * hmac.h - webhook delivery signatures: lowercase hex HMAC-SHA256 of the raw
 * body keyed with the shared secret (databricks-api.md §4), and a comparison
 * whose time does not depend on where the strings differ; the body digest
 * that identifies a delivery.
 */
#ifndef DBW_HMAC_H
#define DBW_HMAC_H

#include <stddef.h>

#define DBW_SIG_HEX_LEN 64

/* Bytes that are one part of a message. */
typedef struct {
    const void *p;
    size_t n;
} dbw_bytes;

/* out receives 64 hex digits and a NUL. Returns 0, or -1 if libcrypto fails. */
int dbw_hmac_sha256_hex(const char *key, size_t klen, const char *msg, size_t mlen,
                        char out[DBW_SIG_HEX_LEN + 1]);

/* out receives the 64 lowercase hex digits of SHA-256(msg) and a NUL: the
 * identity of a delivery (its retries are the same bytes). Returns 0 or -1. */
int dbw_sha256_hex(const char *msg, size_t mlen, char out[DBW_SIG_HEX_LEN + 1]);

/* Case-insensitive comparison of two 64-digit hex strings in constant time. */
int dbw_hex_equal_ct(const char *a, const char *b);

/* MLflow's form: standard base64, with padding, of the 32-byte HMAC-SHA256. */
#define DBW_SIG_B64_LEN 44

/* out receives 44 base64 characters and a NUL, of the HMAC over the n parts
 * one after the other (MLflow's id "." timestamp "." body, never joined).
 * Returns 0, or -1 if libcrypto fails. */
int dbw_hmac_sha256_b64(const char *key, size_t klen, const dbw_bytes *parts, size_t n,
                        char out[DBW_SIG_B64_LEN + 1]);

/* Byte-exact comparison of n bytes whose time does not depend on where they differ. */
int dbw_equal_ct(const char *a, const char *b, size_t n);

#endif
