/* The queries behind lineage and status (cache_lineage.h): they ride on the indexes of
 * schema v1 (edges' primary key (job, seq), edges_by_blob, attachments_by_commit). */
#include "graph/cache_lineage.h"
#include "graph/cache_internal.h"
#include "graph/oid.h"
#include "util/err.h"

#include <string.h>

int roar_cache_job_edges(roar_cache_edge_list *out, roar_cache *cache, const char *job_id)
{
    sqlite3_stmt *stmt = NULL;
    sqlite3_int64 pk;
    int error;

    /* The pk first: an unknown job is ROAR_ENOTFOUND, not an empty list. */
    if ((error = roar_cache__job_pk(&pk, cache, job_id)) < 0)
        return error;
    if ((error = roar_cache__prepare(&stmt, cache, CACHE_STMT_LINEAGE_JOB_EDGES,
                                     "SELECT " EDGE_COLUMNS EDGE_FROM
                                     "WHERE e.job = ?1 ORDER BY e.seq")) < 0)
        return error;
    sqlite3_bind_int64(stmt, 1, pk);
    error = roar_cache__collect_edges(out, cache, stmt);
    roar_cache__release(cache, stmt);
    return error;
}

int roar_cache_job_host(char **out, roar_cache *cache, const char *job_id)
{
    sqlite3_stmt *stmt = NULL;
    int error = 0, rc;

    *out = NULL;
    if ((error = roar_cache__check_id(job_id, "job")) < 0)
        return error;
    if ((error = roar_cache__prepare(&stmt, cache, CACHE_STMT_JOB_HOST,
                                     "SELECT host FROM jobs WHERE id = ?1")) < 0)
        return error;
    sqlite3_bind_text(stmt, 1, job_id, ROAR_OID_HEXSZ, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        *out = roar_cache__col_strdup(stmt, 0, &error);
    else if (rc == SQLITE_DONE)
        error = roar_error_set(ROAR_ENOTFOUND, "no job %s in the cache", job_id);
    else
        error = roar_cache__error(cache, rc, "reading a job's host");
    roar_cache__release(cache, stmt);
    return error;
}

int roar_cache_has_steps(bool *out, roar_cache *cache)
{
    roar_buf v = ROAR_BUF_INIT;
    int error = roar_cache_meta_get(&v, cache, ROAR_CACHE_META_STEPS);
    roar_buf_dispose(&v);
    *out = error == 0;
    if (error == ROAR_ENOTFOUND) {
        roar_error_clear();
        return 0;
    }
    return error;
}

int roar_cache_job_steps(roar_steps *out, roar_cache *cache, const char *job_id)
{
    sqlite3_stmt *stmt = NULL;
    int error = 0, rc;

    memset(out, 0, sizeof(*out));
    if ((error = roar_cache__check_id(job_id, "job")) < 0)
        return error;
    if ((error = roar_cache__prepare(&stmt, cache, CACHE_STMT_JOB_STEPS,
                                     "SELECT job_kv.value FROM jobs JOIN job_kv "
                                     "ON job_kv.job = jobs.pk AND job_kv.kind = 2 "
                                     "WHERE jobs.id = ?1 ORDER BY job_kv.seq")) < 0)
        return error;
    sqlite3_bind_text(stmt, 1, job_id, ROAR_OID_HEXSZ, SQLITE_STATIC);
    while (!error && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_blob(stmt, 0);
        int n = sqlite3_column_bytes(stmt, 0);
        error = roar_steps_parse_value(out, v ? v : "", (size_t)n);
    }
    if (!error && rc != SQLITE_DONE)
        error = roar_cache__error(cache, rc, "reading a job's steps");
    if (!error)
        error = roar_steps_index(out);
    roar_cache__release(cache, stmt);
    if (error)
        roar_steps_dispose(out);
    return error;
}

int roar_cache_job_scope_facts(int64_t *start_ms, int64_t *end_ms, roar_cache_id_list *attached,
                               roar_cache *cache, const char *job_id)
{
    sqlite3_stmt *stmt = NULL;
    bool found = false;
    int error = 0, rc;

    attached->count = 0;
    if ((error = roar_cache__check_id(job_id, "job")) < 0)
        return error;
    /* One row per attachment, or one row with a NULL commit for a job attached nowhere
     * (a pending one): the LEFT JOIN answers both questions in one lookup. */
    if ((error = roar_cache__prepare(&stmt, cache, CACHE_STMT_SCOPE_FACTS,
                                     "SELECT j.start_ms, j.end_ms, a.commit_id FROM jobs j "
                                     "LEFT JOIN attachments a ON a.job = j.pk "
                                     "WHERE j.id = ?1 ORDER BY a.commit_id")) < 0)
        return error;
    sqlite3_bind_text(stmt, 1, job_id, ROAR_OID_HEXSZ, SQLITE_STATIC);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        found = true;
        *start_ms = sqlite3_column_int64(stmt, 0);
        *end_ms = sqlite3_column_int64(stmt, 1);
        if (sqlite3_column_type(stmt, 2) == SQLITE_NULL)
            continue;
        if (ROAR_ALLOC_GROW(attached->items, attached->count + 1, attached->alloc) < 0) {
            error = roar_error_set(ROAR_ENOMEM, "out of memory");
            break;
        }
        if ((error = roar_cache__col_id(attached->items[attached->count], cache, stmt, 2)) < 0)
            break;
        attached->count++;
    }
    if (!error && rc != SQLITE_DONE)
        error = roar_cache__error(cache, rc, "reading a job's attachments");
    else if (!error && !found)
        error = roar_error_set(ROAR_ENOTFOUND, "no job %s in the cache", job_id);
    roar_cache__release(cache, stmt);
    return error;
}

int roar_cache_job_known_outputs(roar_cache_edge_list *out, roar_cache *cache,
                                 const char *job_id)
{
    sqlite3_stmt *stmt = NULL;
    sqlite3_int64 pk;
    int error;

    if ((error = roar_cache__job_pk(&pk, cache, job_id)) < 0)
        return error;
    if ((error = roar_cache__prepare(&stmt, cache, CACHE_STMT_SCOPE_OUTPUTS,
                                     "SELECT " EDGE_COLUMNS EDGE_FROM
                                     "WHERE e.job = ?1 AND e.role = 1 AND e.blob IS NOT NULL "
                                     "ORDER BY e.seq")) < 0)
        return error;
    sqlite3_bind_int64(stmt, 1, pk);
    error = roar_cache__collect_edges(out, cache, stmt);
    roar_cache__release(cache, stmt);
    return error;
}

int roar_cache_blob_edges(roar_cache_edge_list *out, roar_cache *cache, const char *blob_id,
                          roar_role role)
{
    sqlite3_stmt *stmt = NULL;
    int error;

    if ((error = roar_cache__check_id(blob_id, "blob")) < 0)
        return error;
    /* Kept prepared: a walk asks once per node, and preparing this join costs more
     * than running it on the edges_by_blob index. */
    if ((error = roar_cache__prepare(&stmt, cache, CACHE_STMT_LINEAGE_BY_BLOB,
                                     "SELECT " EDGE_COLUMNS EDGE_FROM
                                     "WHERE e.blob = ?1 AND e.role = ?2 ORDER BY j.end_ms DESC, "
                                     "j.start_ms DESC, j.id DESC, e.seq")) < 0)
        return error;
    sqlite3_bind_text(stmt, 1, blob_id, ROAR_OID_HEXSZ, SQLITE_STATIC);
    sqlite3_bind_int(stmt, 2, (int)role);
    error = roar_cache__collect_edges(out, cache, stmt);
    roar_cache__release(cache, stmt);
    return error;
}

int roar_cache_role_edges(roar_cache_edge_list *out, roar_cache *cache, roar_role role,
                          bool successful_only)
{
    sqlite3_stmt *stmt = NULL;
    int error;

    if ((error = roar_cache__prepare(
             &stmt, cache, -1,
             successful_only
                 ? "SELECT " EDGE_COLUMNS EDGE_FROM "WHERE e.role = ?1 AND j.end_kind = 0 AND "
                   "j.end_code = 0 ORDER BY e.path, j.end_ms DESC, j.start_ms DESC, j.id DESC"
                 : "SELECT " EDGE_COLUMNS EDGE_FROM
                   "WHERE e.role = ?1 ORDER BY e.path, j.end_ms DESC, j.start_ms DESC, j.id DESC")) <
        0)
        return error;
    sqlite3_bind_int(stmt, 1, (int)role);
    error = roar_cache__collect_edges(out, cache, stmt);
    sqlite3_finalize(stmt);
    return error;
}

int roar_cache_attached_commits(roar_cache_id_list *out, roar_cache *cache)
{
    sqlite3_stmt *stmt = NULL;
    int error, rc;

    out->count = 0;
    if ((error = roar_cache__prepare(&stmt, cache, -1,
                                     "SELECT DISTINCT commit_id FROM attachments "
                                     "ORDER BY commit_id")) < 0)
        return error;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (ROAR_ALLOC_GROW(out->items, out->count + 1, out->alloc) < 0) {
            error = roar_error_set(ROAR_ENOMEM, "out of memory");
            break;
        }
        if ((error = roar_cache__col_id(out->items[out->count], cache, stmt, 0)) < 0)
            break;
        out->count++;
    }
    if (!error && rc != SQLITE_DONE)
        error = roar_cache__error(cache, rc, "reading attachments");
    sqlite3_finalize(stmt);
    return error;
}

int roar_cache_scan_jobs(roar_cache *cache,
                         int (*visit)(int64_t pk, const char *id, int64_t end_ms, void *payload),
                         void *payload)
{
    sqlite3_stmt *stmt = NULL;
    char id[ROAR_OID_HEXSZ + 1];
    int error, rc = SQLITE_DONE;

    if ((error = roar_cache__prepare(&stmt, cache, -1,
                                     "SELECT pk, id, end_ms FROM jobs ORDER BY pk")) < 0)
        return error;
    while (!error && (rc = sqlite3_step(stmt)) == SQLITE_ROW &&
           (error = roar_cache__col_id(id, cache, stmt, 1)) == 0)
        error = visit(sqlite3_column_int64(stmt, 0), id, sqlite3_column_int64(stmt, 2), payload);
    if (!error && rc != SQLITE_ROW && rc != SQLITE_DONE)
        error = roar_cache__error(cache, rc, "reading the jobs");
    sqlite3_finalize(stmt);
    return error;
}

int roar_cache_scan_edges(roar_cache *cache,
                          int (*visit)(const roar_cache_edge_row *row, void *payload),
                          void *payload)
{
    sqlite3_stmt *stmt = NULL;
    roar_cache_edge_row row;
    int error, rc = SQLITE_DONE;

    /* The primary key's order (job, seq): a walk of the table, no sort. */
    if ((error = roar_cache__prepare(&stmt, cache, -1,
                                     "SELECT job, role, path, blob FROM edges "
                                     "ORDER BY job, seq")) < 0)
        return error;
    while (!error && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *blob = (const char *)sqlite3_column_text(stmt, 3);
        row.job_pk = sqlite3_column_int64(stmt, 0);
        row.role = (roar_role)sqlite3_column_int(stmt, 1);
        row.path = (const char *)sqlite3_column_blob(stmt, 2);
        row.path_len = (size_t)sqlite3_column_bytes(stmt, 2);
        /* No record holds an empty path or a NUL in one. */
        if (!row.path || !row.path_len || memchr(row.path, '\0', row.path_len)) {
            error = roar_error_set(ROAR_EINVALID, "cache holds an edge with a bad path; run "
                                                  "'git roar reindex --full'");
            break;
        }
        if (blob && (sqlite3_column_bytes(stmt, 3) != ROAR_OID_HEXSZ || !roar_oid_is_hex(blob))) {
            error = roar_error_set(ROAR_EINVALID, "cache holds an edge with a bad blob id; run "
                                                  "'git roar reindex --full'");
            break;
        }
        row.blob = blob;
        error = visit(&row, payload);
    }
    if (!error && rc != SQLITE_ROW && rc != SQLITE_DONE)
        error = roar_cache__error(cache, rc, "reading the edges");
    sqlite3_finalize(stmt);
    return error;
}

int roar_cache_scan_scope_facts(roar_cache *cache,
                                int (*visit)(const char *job_id, int64_t start_ms,
                                             int64_t end_ms, const roar_cache_id_list *attached,
                                             void *payload),
                                void *payload)
{
    sqlite3_stmt *stmt = NULL;
    roar_cache_id_list attached = ROAR_CACHE_ID_LIST_INIT;
    char id[ROAR_OID_HEXSZ + 1] = "";
    sqlite3_int64 pk = 0;
    int64_t start_ms = 0, end_ms = 0;
    bool have = false;
    int error, rc = SQLITE_DONE;

    if ((error = roar_cache__prepare(&stmt, cache, -1,
                                     "SELECT j.pk, j.id, j.start_ms, j.end_ms, a.commit_id "
                                     "FROM jobs j LEFT JOIN attachments a ON a.job = j.pk "
                                     "ORDER BY j.pk, a.commit_id")) < 0)
        return error;
    while (!error && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        sqlite3_int64 row_pk = sqlite3_column_int64(stmt, 0);
        if (!have || row_pk != pk) {
            if (have && (error = visit(id, start_ms, end_ms, &attached, payload)) != 0)
                break;
            if ((error = roar_cache__col_id(id, cache, stmt, 1)) < 0)
                break;
            pk = row_pk;
            have = true;
            start_ms = sqlite3_column_int64(stmt, 2);
            end_ms = sqlite3_column_int64(stmt, 3);
            attached.count = 0;
        }
        if (sqlite3_column_type(stmt, 4) == SQLITE_NULL)
            continue;
        if (ROAR_ALLOC_GROW(attached.items, attached.count + 1, attached.alloc) < 0) {
            error = roar_error_set(ROAR_ENOMEM, "out of memory");
            break;
        }
        if ((error = roar_cache__col_id(attached.items[attached.count], cache, stmt, 4)) < 0)
            break;
        attached.count++;
    }
    if (!error && rc != SQLITE_ROW && rc != SQLITE_DONE)
        error = roar_cache__error(cache, rc, "reading the jobs' attachments");
    else if (!error && have)
        error = visit(id, start_ms, end_ms, &attached, payload);
    sqlite3_finalize(stmt);
    roar_cache_id_list_dispose(&attached);
    return error;
}
