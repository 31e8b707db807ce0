/* The SQLite cache (.git/roar/cache.db, SPEC §6.1): jobs, artifacts, edges,
 * attachments, the stat -> blob-id hash cache, and indexing bookmarks. Derived data. */
#ifndef ROAR_GRAPH_CACHE_H
#define ROAR_GRAPH_CACHE_H

#include <stdint.h>

#include "graph/job.h"
#include "util/buf.h"

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
 * busy timeout. The caller frees *out with roar_cache_free. The directory must exist.
 * Errors: ROAR_EUNSUPPORTED for a database written by a newer schema version;
 * ROAR_EINVALID when the file is not an SQLite database or is corrupt (the message
 * names the path and says to run 'git roar reindex --full'); ROAR_ERROR otherwise.
 * A roar_cache is one SQLite connection: use it from one thread at a time. Any number
 * of processes may open the same path at once. */
int roar_cache_open(roar_cache **out, const char *path);
/* NULL-safe. Rolls back a transaction left open with roar_cache_begin. */
void roar_cache_free(roar_cache *cache);

/* The schema version this build writes (PRAGMA user_version). */
int roar_cache_schema_version(void);

/* Groups many writes into one transaction (reindex, a status run's hash cache rows).
 * Every write below takes its own transaction otherwise; inside an open one it uses
 * a savepoint, so a failed write is undone alone and the batch can go on. Calls nest. */
int roar_cache_begin(roar_cache *cache);
int roar_cache_commit(roar_cache *cache);
void roar_cache_rollback(roar_cache *cache);

/* Hash cache rows: identity -> blob id, with the wall-clock time (ns since the epoch)
 * at which the content was hashed, so the caller can apply the racy-timestamp rule.
 * _get returns ROAR_ENOTFOUND when there is no row for exactly this identity. */
int roar_cache_hash_get(roar_cache *cache, const roar_stat_key *key,
                        char out_id[ROAR_OID_HEXSZ + 1], int64_t *out_hashed_at_ns);
/* Inserts or replaces the row for key->(dev, ino); a file has one current identity. */
int roar_cache_hash_put(roar_cache *cache, const roar_stat_key *key, const char *id,
                        int64_t hashed_at_ns);

/* Meta: small named values, e.g. "notes-indexed:<ref>" -> the last indexed notes commit.
 * _get replaces the contents of `out` (the caller's buffer) or returns ROAR_ENOTFOUND.
 * _set with value NULL deletes the key. */
int roar_cache_meta_get(roar_buf *out, roar_cache *cache, const char *key);
int roar_cache_meta_set(roar_cache *cache, const char *key, const char *value_or_null);

/* (The job, edge, attachment and pending API follows below.) */

#endif
