/* The reachable set of one tip (cache_reach.h): a table of commit ids and its tip in
 * meta, read through a kept statement. */
#include "graph/cache_reach.h"
#include "graph/cache_internal.h"
#include "graph/oid.h"
#include "util/err.h"

#include <string.h>

#define META_REACH_TIP "reach-tip"

int roar_cache_reach_tip(char out[ROAR_OID_HEXSZ + 1], roar_cache *cache)
{
    roar_buf tip = ROAR_BUF_INIT;
    int error = roar_cache_meta_get(&tip, cache, META_REACH_TIP);

    if (error == 0 && (error = roar_cache__check_id(tip.ptr, "reach tip")) == 0)
        memcpy(out, tip.ptr, ROAR_OID_HEXSZ + 1);
    else if (error == ROAR_EINVALID) /* a damaged value: rebuilt like a missing one */
        error = ROAR_ENOTFOUND;
    roar_buf_dispose(&tip);
    return error;
}

int roar_cache_reach_reset(roar_cache *cache)
{
    int error;
    if ((error = roar_cache__tx_begin(cache)) < 0)
        return error;
    if ((error = roar_cache_meta_set(cache, META_REACH_TIP, NULL)) == 0)
        error = roar_cache__exec(cache, "DELETE FROM reach");
    return roar_cache__tx_end(cache, error);
}

int roar_cache_reach_add(roar_cache *cache, const char *commit)
{
    sqlite3_stmt *stmt = NULL;
    int error;

    if ((error = roar_cache__check_id(commit, "commit")) < 0)
        return error;
    if ((error = roar_cache__prepare(&stmt, cache, CACHE_STMT_REACH_ADD,
                                     "INSERT OR IGNORE INTO reach (commit_id) VALUES (?1)")) < 0)
        return error;
    sqlite3_bind_text(stmt, 1, commit, ROAR_OID_HEXSZ, SQLITE_STATIC);
    error = roar_cache__step_done(cache, stmt, "storing a reachable commit");
    roar_cache__release(cache, stmt);
    return error;
}

int roar_cache_reach_set_tip(roar_cache *cache, const char *tip)
{
    int error;
    if ((error = roar_cache__check_id(tip, "commit")) < 0)
        return error;
    return roar_cache_meta_set(cache, META_REACH_TIP, tip);
}

int roar_cache_reach_has(bool *out, roar_cache *cache, const char *commit)
{
    sqlite3_stmt *stmt = NULL;
    int error, rc;

    *out = false;
    if (!roar_oid_is_hex(commit))
        return 0;
    if ((error = roar_cache__prepare(&stmt, cache, CACHE_STMT_REACH_HAS,
                                     "SELECT 1 FROM reach WHERE commit_id = ?1")) < 0)
        return error;
    sqlite3_bind_text(stmt, 1, commit, ROAR_OID_HEXSZ, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        *out = true;
    else if (rc != SQLITE_DONE)
        error = roar_cache__error(cache, rc, "looking up a reachable commit");
    roar_cache__release(cache, stmt);
    return error;
}

int roar_cache_reach_has_at(bool *out, roar_cache *cache, const char *tip, const char *commit)
{
    sqlite3_stmt *stmt = NULL;
    int error, rc;

    *out = false;
    if (!roar_oid_is_hex(commit))
        return 0;
    /* One statement reads both, so both come from the same state of the file: another
     * worktree may re-point the set at its own HEAD between two of our lookups. */
    if ((error = roar_cache__prepare(
             &stmt, cache, CACHE_STMT_REACH_HAS_AT,
             "SELECT (SELECT value FROM meta WHERE key = '" META_REACH_TIP "') = ?1, "
             "EXISTS (SELECT 1 FROM reach WHERE commit_id = ?2)")) < 0)
        return error;
    /* meta values are BLOBs, and a BLOB never equals a TEXT */
    sqlite3_bind_blob(stmt, 1, tip, ROAR_OID_HEXSZ, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, commit, ROAR_OID_HEXSZ, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    if (rc != SQLITE_ROW)
        error = roar_cache__error(cache, rc, "looking up a reachable commit");
    else if (sqlite3_column_int(stmt, 0) != 1)
        error = ROAR_ENOTFOUND;
    else
        *out = sqlite3_column_int(stmt, 1) != 0;
    roar_cache__release(cache, stmt);
    return error;
}

int roar_cache_reach_load(roar_cache *cache, const char *tip,
                          int (*visit)(const char *commit, void *payload), void *payload)
{
    char kept[ROAR_OID_HEXSZ + 1];
    sqlite3_stmt *stmt = NULL;
    bool snapshot = cache->tx_depth == 0;
    int error, rc = SQLITE_DONE;

    if (snapshot && (error = roar_cache_read_begin(cache)) < 0)
        return error;
    if ((error = roar_cache_reach_tip(kept, cache)) < 0)
        goto done;
    if (strcmp(kept, tip)) {
        error = ROAR_ENOTFOUND;
        goto done;
    }
    if ((error = roar_cache__prepare(&stmt, cache, -1, "SELECT commit_id FROM reach")) < 0)
        goto done;
    while (!error && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *commit = (const char *)sqlite3_column_text(stmt, 0);
        if (commit && sqlite3_column_bytes(stmt, 0) == ROAR_OID_HEXSZ)
            error = visit(commit, payload);
    }
    if (!error && rc != SQLITE_DONE)
        error = roar_cache__error(cache, rc, "reading the reachable commits");
done:
    sqlite3_finalize(stmt);
    if (snapshot)
        roar_cache_read_end(cache);
    return error;
}
