/* The queries behind log/show/lineage/status over stored jobs: attachments, pending
 * marks, newest-first listings, producers/consumers of a blob, and edges on a path. */
#include "graph/cache.h"
#include "graph/cache_internal.h"
#include "util/buf.h"
#include "util/err.h"

#include <stdlib.h>
#include <string.h>

/* ---- attachments and pending ------------------------------------------------ */

void roar_cache_id_list_dispose(roar_cache_id_list *list)
{
    if (!list)
        return;
    free(list->items);
    list->items = NULL;
    list->count = list->alloc = 0;
}

bool roar_cache_id_list_has(const roar_cache_id_list *list, const char *id)
{
    for (size_t i = 0; i < list->count; i++)
        if (!strcmp(list->items[i], id))
            return true;
    return false;
}

int roar_cache_id_list_add(roar_cache_id_list *list, const char *id, bool unique)
{
    if (unique && roar_cache_id_list_has(list, id))
        return 0;
    if (ROAR_ALLOC_GROW(list->items, list->count + 1, list->alloc) < 0)
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    memcpy(list->items[list->count++], id, ROAR_OID_HEXSZ + 1);
    return 0;
}

/* Replaces the list's contents with column 0 of every row of a bound statement. */
static int collect_ids(roar_cache_id_list *out, roar_cache *cache, sqlite3_stmt *stmt)
{
    int error = 0, rc;

    out->count = 0;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if ((error = ROAR_ALLOC_GROW(out->items, out->count + 1, out->alloc)) < 0)
            return roar_error_set(ROAR_ENOMEM, "out of memory");
        if ((error = roar_cache__col_id(out->items[out->count], cache, stmt, 0)) < 0)
            return error;
        out->count++;
    }
    return rc == SQLITE_DONE ? 0 : roar_cache__error(cache, rc, "reading ids");
}

int roar_cache_attach(roar_cache *cache, const char *job_id, const char *commit_id)
{
    sqlite3_stmt *stmt = NULL;
    sqlite3_int64 pk;
    int error;

    if ((error = roar_cache__check_id(commit_id, "commit")) < 0)
        return error;
    if ((error = roar_cache__unit_begin(cache)) < 0)
        return error;
    if ((error = roar_cache__job_pk(&pk, cache, job_id)) < 0 ||
        (error = roar_cache__prepare(&stmt, cache, CACHE_STMT_ATTACH_INSERT,
                                     "INSERT OR IGNORE INTO attachments (job, commit_id) "
                                     "VALUES (?1, ?2)")) < 0)
        goto done;
    sqlite3_bind_int64(stmt, 1, pk);
    sqlite3_bind_text(stmt, 2, commit_id, ROAR_OID_HEXSZ, SQLITE_STATIC);
    error = roar_cache__step_done(cache, stmt, "attaching a job");
done:
    roar_cache__release(cache, stmt);
    return roar_cache__unit_end(cache, error);
}

int roar_cache_detach(roar_cache *cache, const char *job_id, const char *commit_id)
{
    sqlite3_stmt *stmt = NULL;
    int error;

    if ((error = roar_cache__check_id(job_id, "job")) < 0 ||
        (error = roar_cache__check_id(commit_id, "commit")) < 0)
        return error;
    if ((error = roar_cache__tx_begin(cache)) < 0)
        return error;
    if ((error = roar_cache__prepare(&stmt, cache, -1,
                                     "DELETE FROM attachments WHERE commit_id = ?2 AND "
                                     "job = (SELECT pk FROM jobs WHERE id = ?1)")) < 0)
        goto done;
    sqlite3_bind_text(stmt, 1, job_id, ROAR_OID_HEXSZ, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, commit_id, ROAR_OID_HEXSZ, SQLITE_STATIC);
    if ((error = roar_cache__step_done(cache, stmt, "detaching a job")) < 0)
        goto done;
    if (sqlite3_changes(cache->db) == 0)
        error = roar_error_set(ROAR_ENOTFOUND, "job %s is not attached to %s", job_id, commit_id);
done:
    sqlite3_finalize(stmt);
    return roar_cache__tx_end(cache, error);
}

int roar_cache_attachments(roar_cache_id_list *out, roar_cache *cache, const char *job_id)
{
    sqlite3_stmt *stmt = NULL;
    sqlite3_int64 pk;
    int error;

    out->count = 0;
    if ((error = roar_cache__job_pk(&pk, cache, job_id)) < 0)
        return error;
    if ((error = roar_cache__prepare(&stmt, cache, CACHE_STMT_ATTACHMENTS,
                                     "SELECT commit_id FROM attachments WHERE job = ?1 "
                                     "ORDER BY commit_id")) < 0)
        return error;
    sqlite3_bind_int64(stmt, 1, pk);
    error = collect_ids(out, cache, stmt);
    roar_cache__release(cache, stmt);
    return error;
}

int roar_cache_commit_jobs(roar_cache_id_list *out, roar_cache *cache, const char *commit_id)
{
    sqlite3_stmt *stmt = NULL;
    int error;

    out->count = 0;
    if ((error = roar_cache__check_id(commit_id, "commit")) < 0)
        return error;
    if ((error = roar_cache__prepare(&stmt, cache, -1,
                                     "SELECT j.id FROM attachments a JOIN jobs j ON j.pk = a.job "
                                     "WHERE a.commit_id = ?1 "
                                     "ORDER BY j.end_ms DESC, j.start_ms DESC, j.id DESC")) < 0)
        return error;
    sqlite3_bind_text(stmt, 1, commit_id, ROAR_OID_HEXSZ, SQLITE_STATIC);
    error = collect_ids(out, cache, stmt);
    sqlite3_finalize(stmt);
    return error;
}

int roar_cache_pending_mark(roar_cache *cache, const char *job_id, const char *worktree)
{
    sqlite3_stmt *stmt = NULL;
    sqlite3_int64 pk;
    int error;

    if (!worktree)
        return roar_error_set(ROAR_EINVALID, "pending job %s needs a worktree", job_id);
    if ((error = roar_cache__tx_begin(cache)) < 0)
        return error;
    if ((error = roar_cache__job_pk(&pk, cache, job_id)) < 0 ||
        (error = roar_cache__prepare(&stmt, cache, -1,
                                     "INSERT OR REPLACE INTO pending (job, worktree) "
                                     "VALUES (?1, ?2)")) < 0)
        goto done;
    sqlite3_bind_int64(stmt, 1, pk);
    roar_cache__bind_str(stmt, 2, worktree);
    error = roar_cache__step_done(cache, stmt, "marking a job pending");
done:
    sqlite3_finalize(stmt);
    return roar_cache__tx_end(cache, error);
}

int roar_cache_pending_unmark(roar_cache *cache, const char *job_id)
{
    sqlite3_stmt *stmt = NULL;
    int error;

    if ((error = roar_cache__check_id(job_id, "job")) < 0)
        return error;
    if ((error = roar_cache__tx_begin(cache)) < 0)
        return error;
    if ((error = roar_cache__prepare(&stmt, cache, -1,
                                     "DELETE FROM pending WHERE "
                                     "job = (SELECT pk FROM jobs WHERE id = ?1)")) < 0)
        goto done;
    sqlite3_bind_text(stmt, 1, job_id, ROAR_OID_HEXSZ, SQLITE_STATIC);
    if ((error = roar_cache__step_done(cache, stmt, "unmarking a pending job")) < 0)
        goto done;
    if (sqlite3_changes(cache->db) == 0)
        error = roar_error_set(ROAR_ENOTFOUND, "job %s is not pending", job_id);
done:
    sqlite3_finalize(stmt);
    return roar_cache__tx_end(cache, error);
}

/* ---- listing --------------------------------------------------------------- */

void roar_cache_jobinfo_list_dispose(roar_cache_jobinfo_list *list)
{
    if (!list)
        return;
    for (size_t i = 0; i < list->count; i++)
        free(list->items[i].pending_worktree);
    free(list->items);
    list->items = NULL;
    list->count = list->alloc = 0;
}

/* A path filter term: the path itself or anything below it. Paths are compared as
 * blobs (memcmp), so "below p" is the range [p "/", p "0"): '0' follows '/'. */
typedef struct {
    roar_buf exact, lo, hi;
} path_range;

static int path_range_init(path_range *r, const char *path)
{
    size_t len = strlen(path);
    int error;

    r->exact = (roar_buf)ROAR_BUF_INIT;
    r->lo = (roar_buf)ROAR_BUF_INIT;
    r->hi = (roar_buf)ROAR_BUF_INIT;
    while (len > 1 && path[len - 1] == '/')
        len--;
    if ((error = roar_buf_put(&r->exact, path, len)) < 0 ||
        (error = roar_buf_put(&r->lo, path, len)) < 0 || (error = roar_buf_putc(&r->lo, '/')) < 0 ||
        (error = roar_buf_put(&r->hi, path, len)) < 0 || (error = roar_buf_putc(&r->hi, '0')) < 0)
        return error;
    return 0;
}

static void path_range_dispose(path_range *r)
{
    roar_buf_dispose(&r->exact);
    roar_buf_dispose(&r->lo);
    roar_buf_dispose(&r->hi);
}

int roar_cache_job_list(roar_cache_jobinfo_list *out, roar_cache *cache,
                        const roar_cache_list_opts *opts)
{
    static const roar_cache_list_opts no_opts = ROAR_CACHE_LIST_OPTS_INIT;
    roar_buf sql = ROAR_BUF_INIT;
    path_range *ranges = NULL;
    sqlite3_stmt *stmt = NULL;
    size_t path_count, after_param;
    int error = 0;

    if (!opts)
        opts = &no_opts;
    /* The top of the work tree ("." or "") holds every path: no filter at all. */
    path_count = opts->path_count;
    for (size_t i = 0; i < opts->path_count; i++)
        if (!strcmp(opts->paths[i], ".") || !strcmp(opts->paths[i], ""))
            path_count = 0;
    for (size_t i = 0; i < out->count; i++)
        free(out->items[i].pending_worktree);
    out->count = 0;

    if (path_count) {
        ranges = calloc(path_count, sizeof(*ranges));
        if (!ranges)
            return roar_error_set(ROAR_ENOMEM, "out of memory");
        for (size_t i = 0; i < path_count && !error; i++)
            error = path_range_init(&ranges[i], opts->paths[i]);
        if (error)
            goto cleanup;
    }

    if ((error = roar_buf_puts(&sql, "SELECT " JOBINFO_COLUMNS "FROM jobs j ")) < 0 ||
        (error = roar_buf_puts(&sql, opts->pending_only ? "JOIN" : "LEFT JOIN")) < 0 ||
        (error = roar_buf_puts(&sql, " pending p ON p.job = j.pk WHERE 1")) < 0)
        goto cleanup;
    if (opts->pending_only && opts->worktree &&
        (error = roar_buf_puts(&sql, " AND p.worktree = ?1")) < 0)
        goto cleanup;
    if (path_count) {
        /* One index range per term: edges_by_path is (role, path). */
        if ((error = roar_buf_puts(&sql, " AND j.pk IN (SELECT job FROM edges WHERE 0")) < 0)
            goto cleanup;
        for (size_t i = 0; i < path_count && !error; i++)
            error = roar_buf_printf(&sql,
                                    " UNION ALL SELECT job FROM edges WHERE role IN (0, 1, 2) "
                                    "AND path = ?%zu UNION ALL SELECT job FROM edges WHERE "
                                    "role IN (0, 1, 2) AND path >= ?%zu AND path < ?%zu",
                                    2 + 3 * i, 3 + 3 * i, 4 + 3 * i);
        if (error || (error = roar_buf_puts(&sql, ")")) < 0)
            goto cleanup;
    }
    /* After the path parameters: ?2.. hold three per path. */
    after_param = 2 + 3 * path_count;
    if (opts->after && (error = roar_buf_printf(&sql,
                                                " AND (j.end_ms, j.start_ms, j.id) < "
                                                "(?%zu, ?%zu, ?%zu)",
                                                after_param, after_param + 1, after_param + 2)) < 0)
        goto cleanup;
    if ((error = roar_buf_puts(&sql, " ORDER BY j.end_ms DESC, j.start_ms DESC, j.id DESC")) < 0 ||
        (opts->limit && (error = roar_buf_printf(&sql, " LIMIT %zu", opts->limit)) < 0))
        goto cleanup;

    if ((error = roar_cache__prepare(&stmt, cache, -1, sql.ptr)) < 0)
        goto cleanup;
    if (opts->pending_only && opts->worktree)
        roar_cache__bind_str(stmt, 1, opts->worktree);
    if (opts->after) {
        sqlite3_bind_int64(stmt, (int)after_param, opts->after->end_ms);
        sqlite3_bind_int64(stmt, (int)after_param + 1, opts->after->start_ms);
        sqlite3_bind_text(stmt, (int)after_param + 2, opts->after->id, ROAR_OID_HEXSZ,
                          SQLITE_TRANSIENT);
    }
    for (size_t i = 0; i < path_count; i++) {
        sqlite3_bind_blob(stmt, (int)(2 + 3 * i), ranges[i].exact.ptr, (int)ranges[i].exact.size,
                          SQLITE_STATIC);
        sqlite3_bind_blob(stmt, (int)(3 + 3 * i), ranges[i].lo.ptr, (int)ranges[i].lo.size,
                          SQLITE_STATIC);
        sqlite3_bind_blob(stmt, (int)(4 + 3 * i), ranges[i].hi.ptr, (int)ranges[i].hi.size,
                          SQLITE_STATIC);
    }
    error = roar_cache__collect_jobinfos(out, cache, stmt, "listing jobs");

cleanup:
    sqlite3_finalize(stmt);
    for (size_t i = 0; ranges && i < path_count; i++)
        path_range_dispose(&ranges[i]);
    free(ranges);
    roar_buf_dispose(&sql);
    return error;
}

/* ---- edge queries ---------------------------------------------------------- */

void roar_cache_edge_dispose(roar_cache_edge *edge)
{
    if (!edge)
        return;
    free(edge->path);
    edge->path = NULL;
}

void roar_cache_edge_list_dispose(roar_cache_edge_list *list)
{
    if (!list)
        return;
    for (size_t i = 0; i < list->count; i++)
        free(list->items[i].path);
    free(list->items);
    list->items = NULL;
    list->count = list->alloc = 0;
}

#define NEWEST_FIRST " ORDER BY j.end_ms DESC, j.start_ms DESC, j.id DESC, e.seq"

static int read_edge(roar_cache_edge *out, roar_cache *cache, sqlite3_stmt *stmt)
{
    int error = 0;

    memset(out, 0, sizeof(*out));
    if ((error = roar_cache__col_id(out->job_id, cache, stmt, 0)) < 0)
        return error;
    out->end_ms = sqlite3_column_int64(stmt, 1);
    out->end_kind = (roar_end_kind)sqlite3_column_int(stmt, 2);
    out->end_code = sqlite3_column_int(stmt, 3);
    out->role = (roar_role)sqlite3_column_int(stmt, 4);
    if (sqlite3_column_type(stmt, 6) != SQLITE_NULL) {
        if ((error = roar_cache__col_id(out->id, cache, stmt, 6)) < 0)
            return error;
        out->id_known = true;
    }
    out->size = (uint64_t)sqlite3_column_int64(stmt, 7);
    out->start_ms = sqlite3_column_int64(stmt, 8);
    out->path = roar_cache__col_strdup(stmt, 5, &error);
    return error;
}

/* Runs a bound edge query and replaces the list's contents with its rows. */
static int collect_edges(roar_cache_edge_list *out, roar_cache *cache, sqlite3_stmt *stmt)
{
    int error, rc;

    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (ROAR_ALLOC_GROW(out->items, out->count + 1, out->alloc) < 0)
            return roar_error_set(ROAR_ENOMEM, "out of memory");
        error = read_edge(&out->items[out->count], cache, stmt);
        if (error < 0) {
            free(out->items[out->count].path);
            return error;
        }
        out->count++;
    }
    return rc == SQLITE_DONE ? 0 : roar_cache__error(cache, rc, "reading edges");
}

static void edge_list_clear(roar_cache_edge_list *list)
{
    for (size_t i = 0; i < list->count; i++)
        free(list->items[i].path);
    list->count = 0;
}

int roar_cache__collect_edges(roar_cache_edge_list *out, roar_cache *cache, sqlite3_stmt *stmt)
{
    edge_list_clear(out);
    return collect_edges(out, cache, stmt);
}

int roar_cache__collect_jobinfos(roar_cache_jobinfo_list *out, roar_cache *cache,
                                 sqlite3_stmt *stmt, const char *what)
{
    int error = 0, rc;

    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        roar_cache_jobinfo *info;
        if (ROAR_ALLOC_GROW(out->items, out->count + 1, out->alloc) < 0)
            return roar_error_set(ROAR_ENOMEM, "out of memory");
        info = &out->items[out->count];
        memset(info, 0, sizeof(*info));
        if ((error = roar_cache__col_id(info->id, cache, stmt, 0)) < 0)
            return error;
        info->start_ms = sqlite3_column_int64(stmt, 1);
        info->end_ms = sqlite3_column_int64(stmt, 2);
        info->end_kind = (roar_end_kind)sqlite3_column_int(stmt, 3);
        info->end_code = sqlite3_column_int(stmt, 4);
        info->incomplete_count = (size_t)sqlite3_column_int64(stmt, 5);
        info->pending_worktree = roar_cache__col_strdup(stmt, 6, &error);
        if (error)
            return error;
        out->count++;
    }
    return rc == SQLITE_DONE ? 0 : roar_cache__error(cache, rc, what);
}

static int edges_by_blob(roar_cache_edge_list *out, roar_cache *cache, const char *blob_id,
                         roar_role role)
{
    sqlite3_stmt *stmt = NULL;
    int error;

    edge_list_clear(out);
    if ((error = roar_cache__check_id(blob_id, "blob")) < 0)
        return error;
    if ((error = roar_cache__prepare(&stmt, cache, -1,
                                     "SELECT " EDGE_COLUMNS EDGE_FROM
                                     "WHERE e.blob = ?1 AND e.role = ?2" NEWEST_FIRST)) < 0)
        return error;
    sqlite3_bind_text(stmt, 1, blob_id, ROAR_OID_HEXSZ, SQLITE_STATIC);
    sqlite3_bind_int(stmt, 2, (int)role);
    error = collect_edges(out, cache, stmt);
    sqlite3_finalize(stmt);
    return error;
}

int roar_cache_producers(roar_cache_edge_list *out, roar_cache *cache, const char *blob_id)
{
    return edges_by_blob(out, cache, blob_id, ROAR_ROLE_OUT);
}

int roar_cache_consumers(roar_cache_edge_list *out, roar_cache *cache, const char *blob_id)
{
    return edges_by_blob(out, cache, blob_id, ROAR_ROLE_IN);
}

int roar_cache_path_edges(roar_cache_edge_list *out, roar_cache *cache, const char *path)
{
    sqlite3_stmt *stmt = NULL;
    int error;

    edge_list_clear(out);
    if ((error = roar_cache__prepare(&stmt, cache, -1,
                                     "SELECT " EDGE_COLUMNS EDGE_FROM
                                     "WHERE e.role IN (0, 1, 2) AND e.path = ?1" NEWEST_FIRST)) < 0)
        return error;
    roar_cache__bind_str(stmt, 1, path);
    error = collect_edges(out, cache, stmt);
    sqlite3_finalize(stmt);
    return error;
}

int roar_cache_path_latest_writer(roar_cache_edge *out, roar_cache *cache, const char *path,
                                  bool successful_only)
{
    sqlite3_stmt *stmt = NULL;
    int error, rc;

    memset(out, 0, sizeof(*out));
    if ((error = roar_cache__prepare(
             &stmt, cache, -1,
             successful_only ? "SELECT " EDGE_COLUMNS EDGE_FROM
                               "WHERE e.path = ?1 AND e.role = 1 AND j.end_kind = 0 "
                               "AND j.end_code = 0" NEWEST_FIRST " LIMIT 1"
                             : "SELECT " EDGE_COLUMNS EDGE_FROM
                               "WHERE e.path = ?1 AND e.role = 1" NEWEST_FIRST " LIMIT 1")) < 0)
        return error;
    roar_cache__bind_str(stmt, 1, path);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        error = read_edge(out, cache, stmt);
    else if (rc == SQLITE_DONE)
        error = roar_error_set(ROAR_ENOTFOUND, "no recorded job wrote '%s'", path);
    else
        error = roar_cache__error(cache, rc, "finding the writer of a path");
    sqlite3_finalize(stmt);
    if (error < 0)
        roar_cache_edge_dispose(out);
    return error;
}
