/* Git blob ids (SHA-1 of "blob <size>\0" + content) computed with OpenSSL's EVP SHA-1,
 * which is about 3x faster here than libgit2's collision-detecting SHA-1. */
#ifndef ROAR_GRAPH_OID_H
#define ROAR_GRAPH_OID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "graph/job.h" /* ROAR_OID_HEXSZ */

/* Streaming blob id: the size must be known up front (it is part of the header). */
typedef struct roar_blob_hasher roar_blob_hasher;

/* Starts a hasher for a blob of exactly `size` bytes. Caller frees with _free. */
int roar_blob_hasher_new(roar_blob_hasher **out, uint64_t size);
int roar_blob_hasher_update(roar_blob_hasher *h, const void *data, size_t len);
/* Writes the 40 hex digits and a NUL into out. Fails with ROAR_ECHANGED when the bytes
 * fed differ in number from the size announced to _new. */
int roar_blob_hasher_final(char out[ROAR_OID_HEXSZ + 1], roar_blob_hasher *h);
void roar_blob_hasher_free(roar_blob_hasher *h);

/* Blob id of an in-memory buffer (what `git hash-object --stdin` prints for it). */
int roar_blob_id_of_buffer(char out[ROAR_OID_HEXSZ + 1], const void *data, size_t len);

/* True when s is exactly 40 lower-case hex digits. */
bool roar_oid_is_hex(const char *s);

#endif
