/* The SQLite cache (.git/roar/cache.db, SPEC §6.1): jobs, artifacts, edges,
 * attachments, the stat -> blob-id hash cache, and indexing bookmarks. Derived data. */
#ifndef ROAR_GRAPH_CACHE_H
#define ROAR_GRAPH_CACHE_H

#include <stdint.h>

#include "graph/job.h"

typedef struct roar_cache roar_cache;

/* The identity of a file's content as stat(2) sees it (SPEC §4.3). */
typedef struct {
    uint64_t dev;
    uint64_t ino;
    uint64_t size;
    int64_t mtime_ns;
    int64_t ctime_ns;
} roar_stat_key;

/* Opens (creating and migrating as needed) the cache database at `path`; WAL mode,
 * busy timeout. The caller frees *out with roar_cache_free. */
int roar_cache_open(roar_cache **out, const char *path);
void roar_cache_free(roar_cache *cache);

/* Hash cache rows: identity -> blob id, with the wall-clock time (ns since the epoch)
 * at which the content was hashed, so the caller can apply the racy-timestamp rule.
 * _get returns ROAR_ENOTFOUND when there is no row for exactly this identity. */
int roar_cache_hash_get(roar_cache *cache, const roar_stat_key *key,
                        char out_id[ROAR_OID_HEXSZ + 1], int64_t *out_hashed_at_ns);
/* Inserts or replaces the row for key->(dev, ino); a file has one current identity. */
int roar_cache_hash_put(roar_cache *cache, const roar_stat_key *key, const char *id,
                        int64_t hashed_at_ns);

/* (The job, edge, attachment and meta API follows below.) */

#endif
