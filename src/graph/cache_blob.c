/* Lookups that start from the small side of the cache: a blob-id prefix (a range of the
 * artifacts key) and the pending marks, so they cost what they return, not the jobs. */
#include "graph/cache.h"
#include "graph/cache_internal.h"
#include "util/err.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

int roar_cache_blob_resolve(roar_cache_blob *out, size_t *count, size_t max, roar_cache *cache,
                            const char *prefix)
{
    sqlite3_stmt *stmt = NULL;
    char lo[ROAR_OID_HEXSZ + 1], hi[ROAR_OID_HEXSZ + 2];
    size_t len = prefix ? strlen(prefix) : 0;
    int error, rc;

    *count = 0;
    if (len < 4 || len > ROAR_OID_HEXSZ)
        return roar_error_set(ROAR_EINVALID, "not a blob id prefix (4 to 40 hex digits): '%s'",
                              prefix ? prefix : "");
    for (size_t i = 0; i < len; i++) {
        if (!isxdigit((unsigned char)prefix[i]))
            return roar_error_set(ROAR_EINVALID, "not a blob id prefix: '%s'", prefix);
        lo[i] = (char)tolower((unsigned char)prefix[i]);
    }
    lo[len] = '\0';
    if (max == 0)
        return 0;
    /* Ids are lower-case hex, all below 'g': [prefix, prefix "g") is exactly the ids
     * that start with prefix, one seek into the artifacts key. An artifact row outlives
     * the jobs that named it (cache.h), so it counts only while some edge still names
     * it: one probe of edges_by_blob per candidate. */
    memcpy(hi, lo, len);
    hi[len] = 'g';
    hi[len + 1] = '\0';
    if ((error = roar_cache__prepare(&stmt, cache, -1,
                                     "SELECT a.id, a.size FROM artifacts a "
                                     "WHERE a.id >= ?1 AND a.id < ?2 AND EXISTS "
                                     "(SELECT 1 FROM edges e WHERE e.blob = a.id) "
                                     "ORDER BY a.id LIMIT ?3")) < 0)
        return error;
    sqlite3_bind_text(stmt, 1, lo, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, hi, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, (sqlite3_int64)max);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if ((error = roar_cache__col_id(out[*count].id, cache, stmt, 0)) < 0)
            goto cleanup;
        out[*count].size = (uint64_t)sqlite3_column_int64(stmt, 1);
        (*count)++;
    }
    if (rc != SQLITE_DONE)
        error = roar_cache__error(cache, rc, "resolving a blob id");

cleanup:
    if (error < 0)
        *count = 0;
    sqlite3_finalize(stmt);
    return error;
}

int roar_cache_pending_list(roar_cache_jobinfo_list *out, roar_cache *cache, const char *worktree)
{
    sqlite3_stmt *stmt = NULL;
    int error;

    for (size_t i = 0; i < out->count; i++)
        free(out->items[i].pending_worktree);
    out->count = 0;
    /* CROSS JOIN keeps pending as the outer loop. With a plain JOIN and this ORDER BY,
     * SQLite walks jobs_by_end through every job and probes pending for each (~35 ms
     * at 100,000 jobs); a handful of pending rows sorted in a temp b-tree costs ~0. */
    if ((error = roar_cache__prepare(
             &stmt, cache, -1,
             worktree
                 ? "SELECT " JOBINFO_COLUMNS "FROM pending p CROSS JOIN jobs j ON j.pk = p.job "
                   "WHERE p.worktree = ?1 "
                   "ORDER BY j.end_ms DESC, j.start_ms DESC, j.id DESC"
                 : "SELECT " JOBINFO_COLUMNS "FROM pending p CROSS JOIN jobs j ON j.pk = p.job "
                   "ORDER BY j.end_ms DESC, j.start_ms DESC, j.id DESC")) < 0)
        return error;
    if (worktree)
        roar_cache__bind_str(stmt, 1, worktree);
    error = roar_cache__collect_jobinfos(out, cache, stmt, "listing pending jobs");
    sqlite3_finalize(stmt);
    return error;
}
