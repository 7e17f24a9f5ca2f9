#include "hmac.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static void to_hex(const unsigned char *d, unsigned int n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    unsigned int i;
    for (i = 0; i < n; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[2 * n] = '\0';
}

int dbw_hex_equal_ct(const char *a, const char *b)
{
    unsigned diff = 0;
    int i;
    for (i = 0; i < DBW_SIG_HEX_LEN; i++)
        diff |= (unsigned)((unsigned char)a[i] | 0x20) ^ (unsigned)((unsigned char)b[i] | 0x20);
    return diff == 0;
}

/* SHA-256 fetched once: OpenSSL 3 looks a digest up by name on every HMAC()
 * or EVP_sha256() use, which costs more than hashing a delivery does. */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

/* Run when core.so is unloaded (glibc runs a library's atexit handlers at its
 * dlclose) or at exit, before OpenSSL's own handler, registered earlier. */
static void free_sha256(void)
{
    EVP_MD_free(sha256_md);
    sha256_md = NULL;
}

static void fetch_sha256(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (sha256_md != NULL && atexit(free_sha256) != 0) {
        EVP_MD_free(sha256_md); /* never left without a way to free it */
        sha256_md = NULL;
    }
}

static int digest2(EVP_MD_CTX *c, const void *a, size_t al, const void *b, size_t bl, unsigned char *out)
{
    return EVP_DigestInit_ex(c, sha256_md, NULL) == 1 && EVP_DigestUpdate(c, a, al) == 1 &&
           EVP_DigestUpdate(c, b, bl) == 1 && EVP_DigestFinal_ex(c, out, NULL) == 1;
}

/* HMAC (RFC 2104) over the fetched digest: H(K^opad || H(K^ipad || msg)),
 * msg being the n parts one after the other (never joined in memory). */
static int hmac_sha256_parts(const char *key, size_t klen, const dbw_bytes *parts, size_t n,
                             unsigned char mac[32])
{
    unsigned char k[64] = {0}, pad[64];
    size_t i;
    int ok;
    EVP_MD_CTX *c;
    if (pthread_once(&sha256_once, fetch_sha256) != 0 || sha256_md == NULL || (c = EVP_MD_CTX_new()) == NULL)
        return -1;
    ok = 1;
    if (klen > sizeof k)
        ok = digest2(c, key, klen, "", 0, k);
    else if (klen > 0)
        memcpy(k, key, klen);
    for (i = 0; i < sizeof pad; i++)
        pad[i] = (unsigned char)(k[i] ^ 0x36);
    ok = ok && EVP_DigestInit_ex(c, sha256_md, NULL) == 1 && EVP_DigestUpdate(c, pad, sizeof pad) == 1;
    for (i = 0; ok && i < n; i++)
        ok = EVP_DigestUpdate(c, parts[i].p, parts[i].n) == 1;
    ok = ok && EVP_DigestFinal_ex(c, mac, NULL) == 1;
    for (i = 0; i < sizeof pad; i++)
        pad[i] = (unsigned char)(k[i] ^ 0x5c);
    ok = ok && digest2(c, pad, sizeof pad, mac, 32, mac);
    EVP_MD_CTX_free(c);
    OPENSSL_cleanse(k, sizeof k);
    OPENSSL_cleanse(pad, sizeof pad);
    return ok ? 0 : -1;
}

int dbw_hmac_sha256_hex(const char *key, size_t klen, const char *msg, size_t mlen,
                        char out[DBW_SIG_HEX_LEN + 1])
{
    unsigned char mac[32];
    dbw_bytes part;
    part.p = msg, part.n = mlen;
    if (hmac_sha256_parts(key, klen, &part, 1, mac) != 0)
        return -1;
    to_hex(mac, sizeof mac, out);
    return 0;
}

int dbw_sha256_hex(const char *msg, size_t mlen, char out[DBW_SIG_HEX_LEN + 1])
{
    unsigned char md[32];
    EVP_MD_CTX *c;
    int ok;
    if (pthread_once(&sha256_once, fetch_sha256) != 0 || sha256_md == NULL || (c = EVP_MD_CTX_new()) == NULL)
        return -1;
    ok = digest2(c, msg, mlen, "", 0, md);
    EVP_MD_CTX_free(c);
    if (!ok)
        return -1;
    to_hex(md, sizeof md, out);
    return 0;
}

int dbw_hmac_sha256_b64(const char *key, size_t klen, const dbw_bytes *parts, size_t n,
                        char out[DBW_SIG_B64_LEN + 1])
{
    unsigned char mac[32];
    if (hmac_sha256_parts(key, klen, parts, n, mac) != 0)
        return -1;
    /* 32 bytes -> 44 characters with one '=' of padding, NUL-terminated */
    if (EVP_EncodeBlock((unsigned char *)out, mac, (int)sizeof mac) != DBW_SIG_B64_LEN)
        return -1;
    return 0;
}

int dbw_equal_ct(const char *a, const char *b, size_t n)
{
    unsigned diff = 0;
    size_t i;
    for (i = 0; i < n; i++)
        diff |= (unsigned)((unsigned char)a[i] ^ (unsigned char)b[i]);
    return diff == 0;
}
