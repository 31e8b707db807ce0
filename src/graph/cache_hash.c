/* The stat cache's table (SPEC §4.6; cache.h: roar_cache_hash_*): rows keyed by
 * (dev, ino). Puts made inside a read snapshot are kept and written when it ends. */
#include "graph/cache.h"
#include "graph/cache_internal.h"
#include "graph/oid.h"
#include "util/buf.h"
#include "util/err.h"

#include <string.h>

int roar_cache_hash_known(bool *out, roar_cache *cache, uint64_t dev, uint64_t ino)
{
    sqlite3_stmt *stmt = NULL;
    int error, rc;

    *out = false;
    if ((error = roar_cache__prepare(&stmt, cache, -1,
                                     "SELECT 1 FROM hash_cache WHERE dev = ?1 AND ino = ?2")) < 0)
        return error;
    sqlite3_bind_int64(stmt, 1, (sqlite3_int64)dev);
    sqlite3_bind_int64(stmt, 2, (sqlite3_int64)ino);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        *out = true;
    else if (rc != SQLITE_DONE)
        error = roar_cache__error(cache, rc, "reading the hash cache");
    sqlite3_finalize(stmt);
    return error;
}

int roar_cache_hash_get(roar_cache *cache, const roar_stat_key *key,
                        char out_id[ROAR_OID_HEXSZ + 1], int64_t *out_hashed_at_ns)
{
    sqlite3_stmt *stmt = NULL;
    const unsigned char *id;
    int error, rc;

    if ((error = roar_cache__prepare(&stmt, cache, CACHE_STMT_HASH_GET,
                                     "SELECT size, mtime_ns, ctime_ns, blob, hashed_at_ns "
                                     "FROM hash_cache WHERE dev = ?1 AND ino = ?2")) < 0)
        return error;
    /* dev and ino are full 64-bit values; SQLite keeps the bit pattern of an int64. */
    sqlite3_bind_int64(stmt, 1, (sqlite3_int64)key->dev);
    sqlite3_bind_int64(stmt, 2, (sqlite3_int64)key->ino);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) {
        error = ROAR_ENOTFOUND;
    } else if (rc != SQLITE_ROW) {
        error = roar_cache__error(cache, rc, "reading the hash cache");
    } else if ((uint64_t)sqlite3_column_int64(stmt, 0) != key->size ||
               sqlite3_column_int64(stmt, 1) != key->mtime_ns ||
               sqlite3_column_int64(stmt, 2) != key->ctime_ns) {
        /* Same file, other content identity: the row is stale, not an answer. */
        error = ROAR_ENOTFOUND;
    } else {
        id = sqlite3_column_text(stmt, 3);
        if (!id || !roar_oid_is_hex((const char *)id)) {
            error = roar_error_set(ROAR_EINVALID,
                                   "cache '%s' is corrupt (bad blob id in the hash cache); "
                                   "run 'git roar reindex --full'",
                                   cache->path);
        } else {
            memcpy(out_id, id, ROAR_OID_HEXSZ + 1);
            if (out_hashed_at_ns)
                *out_hashed_at_ns = sqlite3_column_int64(stmt, 4);
        }
    }
    if (error == ROAR_ENOTFOUND)
        roar_error_set(ROAR_ENOTFOUND, "no hash cache entry");
    roar_cache__release(cache, stmt);
    return error;
}

/* One row, inside the caller's transaction (or its own). */
static int put_row(roar_cache *cache, const roar_stat_key *key, const char *id,
                   int64_t hashed_at_ns)
{
    sqlite3_stmt *stmt = NULL;
    int error, rc;

    if ((error = roar_cache__tx_begin(cache)) < 0)
        return error;
    if ((error = roar_cache__prepare(&stmt, cache, CACHE_STMT_HASH_PUT,
                                     "INSERT OR REPLACE INTO hash_cache (dev, ino, size, "
                                     "mtime_ns, ctime_ns, blob, hashed_at_ns) "
                                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")) < 0)
        goto done;
    sqlite3_bind_int64(stmt, 1, (sqlite3_int64)key->dev);
    sqlite3_bind_int64(stmt, 2, (sqlite3_int64)key->ino);
    sqlite3_bind_int64(stmt, 3, (sqlite3_int64)key->size);
    sqlite3_bind_int64(stmt, 4, key->mtime_ns);
    sqlite3_bind_int64(stmt, 5, key->ctime_ns);
    sqlite3_bind_text(stmt, 6, id, ROAR_OID_HEXSZ, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 7, hashed_at_ns);
    rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE)
        error = roar_cache__error(cache, rc, "writing the hash cache");
    roar_cache__release(cache, stmt);
done:
    return roar_cache__tx_end(cache, error);
}

/* Rows deferred at most: beyond, a put inside a snapshot is dropped (a rehash later). */
#define DEFERRED_MAX 65536

int roar_cache_hash_put(roar_cache *cache, const roar_stat_key *key, const char *id,
                        int64_t hashed_at_ns)
{
    cache_deferred_hash *d;

    if (!roar_oid_is_hex(id))
        return roar_error_set(ROAR_EINVALID, "not a blob id: '%s'", id);
    if (!cache->read_tx)
        return put_row(cache, key, id, hashed_at_ns);
    /* A listing reads in a snapshot, which cannot write: without this, a file hashed
     * to decide scope (an ignored output) was hashed again by every later command. */
    if (cache->ndeferred >= DEFERRED_MAX)
        return 0;
    if (ROAR_ALLOC_GROW(cache->deferred, cache->ndeferred + 1, cache->deferred_alloc) < 0)
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    d = &cache->deferred[cache->ndeferred++];
    d->key = *key;
    memcpy(d->id, id, ROAR_OID_HEXSZ + 1);
    d->hashed_at_ns = hashed_at_ns;
    return 0;
}

void roar_cache__hash_flush(roar_cache *cache)
{
    size_t i;

    /* Not while an error is pending: the caller may still be on its way to report it,
     * and a failed row would overwrite its message. */
    if (!cache->ndeferred || cache->tx_depth != 0 || roar_error_last_code() != 0)
        return;
    /* No wait: a reading command must not stall behind another process's write for
     * rows that only save a rehash. Busy: they stay for the next try. */
    sqlite3_busy_timeout(cache->db, 0);
    if (sqlite3_exec(cache->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK) {
        cache->tx_depth = 1;
        for (i = 0; i < cache->ndeferred; i++)
            put_row(cache, &cache->deferred[i].key, cache->deferred[i].id,
                    cache->deferred[i].hashed_at_ns);
        cache->tx_depth = 0;
        if (sqlite3_exec(cache->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
            sqlite3_exec(cache->db, "ROLLBACK", NULL, NULL, NULL);
        cache->ndeferred = 0;
    }
    sqlite3_busy_timeout(cache->db, CACHE_BUSY_TIMEOUT_MS);
    roar_error_clear();
}
