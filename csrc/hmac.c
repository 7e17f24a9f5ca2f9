#include "hmac.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

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

int dbw_hmac_sha256_hex(const char *key, size_t klen, const char *msg, size_t mlen,
                        char out[DBW_SIG_HEX_LEN + 1])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, mlen, mac, &n) == NULL || n != 32)
        return -1;
    to_hex(mac, n, out);
    return 0;
}

int dbw_sha256_hex(const char *msg, size_t mlen, char out[DBW_SIG_HEX_LEN + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_Digest(msg, mlen, md, &n, EVP_sha256(), NULL) != 1 || n != 32)
        return -1;
    to_hex(md, n, out);
    return 0;
}

int dbw_hex_equal_ct(const char *a, const char *b)
{
    unsigned diff = 0;
    int i;
    for (i = 0; i < DBW_SIG_HEX_LEN; i++)
        diff |= (unsigned)((unsigned char)a[i] | 0x20) ^ (unsigned)((unsigned char)b[i] | 0x20);
    return diff == 0;
}

int dbw_hmac_sha256_b64(const char *key, size_t klen, const char *msg, size_t mlen,
                        char out[DBW_SIG_B64_LEN + 1])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, mlen, mac, &n) == NULL || n != 32)
        return -1;
    /* 32 bytes -> 44 characters with one '=' of padding, NUL-terminated */
    if (EVP_EncodeBlock((unsigned char *)out, mac, (int)n) != DBW_SIG_B64_LEN)
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
