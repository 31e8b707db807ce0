/* Blob-id hashing on top of OpenSSL EVP; see oid.h. */
#include "graph/oid.h"
#include "util/err.h"

#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct roar_blob_hasher {
    EVP_MD_CTX *ctx;
    uint64_t expected, seen;
};

int roar_blob_hasher_new(roar_blob_hasher **out, uint64_t size)
{
    char header[32];
    int n = snprintf(header, sizeof(header), "blob %" PRIu64, size);
    roar_blob_hasher *h = calloc(1, sizeof(*h));

    *out = NULL;
    if (!h)
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    h->expected = size;
    if (!(h->ctx = EVP_MD_CTX_new()) || EVP_DigestInit_ex(h->ctx, EVP_sha1(), NULL) != 1 ||
        EVP_DigestUpdate(h->ctx, header, (size_t)n + 1) != 1) { /* + 1: the NUL */
        roar_blob_hasher_free(h);
        return roar_error_set(ROAR_ERROR, "cannot initialise SHA-1");
    }
    *out = h;
    return 0;
}

int roar_blob_hasher_update(roar_blob_hasher *h, const void *data, size_t len)
{
    if (len && EVP_DigestUpdate(h->ctx, data, len) != 1)
        return roar_error_set(ROAR_ERROR, "SHA-1 update failed");
    h->seen += len;
    return 0;
}

int roar_blob_hasher_final(char out[ROAR_OID_HEXSZ + 1], roar_blob_hasher *h)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    out[0] = '\0';
    if (h->seen != h->expected)
        return roar_error_set(ROAR_ECHANGED, "content is %" PRIu64 " bytes, expected %" PRIu64,
                              h->seen, h->expected);
    if (EVP_DigestFinal_ex(h->ctx, md, &mdlen) != 1 || mdlen != 20)
        return roar_error_set(ROAR_ERROR, "SHA-1 final failed");
    for (unsigned int i = 0; i < 20; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[ROAR_OID_HEXSZ] = '\0';
    return 0;
}

void roar_blob_hasher_free(roar_blob_hasher *h)
{
    if (!h)
        return;
    EVP_MD_CTX_free(h->ctx);
    free(h);
}

int roar_blob_id_of_buffer(char out[ROAR_OID_HEXSZ + 1], const void *data, size_t len)
{
    roar_blob_hasher *h = NULL;
    int error;

    if ((error = roar_blob_hasher_new(&h, len)) == 0 &&
        (error = roar_blob_hasher_update(h, data, len)) == 0)
        error = roar_blob_hasher_final(out, h);
    roar_blob_hasher_free(h);
    return error;
}

bool roar_oid_is_hex(const char *s)
{
    /* Asked for every id of every edge a walk reads (millions in a status): one table
     * lookup a digit. A NUL is not a digit, so a short string stops at its end. */
    static const bool digit[256] = {
        ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1,
        ['7'] = 1, ['8'] = 1, ['9'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1,
        ['e'] = 1, ['f'] = 1,
    };
    const unsigned char *p = (const unsigned char *)s;
    size_t i;

    for (i = 0; i < ROAR_OID_HEXSZ; i++)
        if (!digit[p[i]])
            return false;
    return p[i] == '\0';
}
