#include "hmac.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

int dbw_hmac_sha256_hex(const char *key, size_t klen, const char *msg, size_t mlen,
                        char out[DBW_SIG_HEX_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int n = 0, i;
    if (HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, mlen, mac, &n) == NULL || n != 32)
        return -1;
    for (i = 0; i < n; i++) {
        out[2 * i] = hex[mac[i] >> 4];
        out[2 * i + 1] = hex[mac[i] & 15];
    }
    out[2 * n] = '\0';
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
