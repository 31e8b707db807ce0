/* Jobs in the SQLite cache: storing one job per transaction, reading it back, and the
 * queries behind log/show/lineage/status (producers, consumers, paths, attachments). */
#include "graph/cache.h"
#include "graph/cache_internal.h"
#include "graph/oid.h"
#include "util/buf.h"
#include "util/err.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* Ambiguity messages list at most this many candidates, then "...". */
#define RESOLVE_MAX_LISTED 10

static int check_id(const char *id, const char *what)
{
    if (!id || !roar_oid_is_hex(id))
        return roar_error_set(ROAR_EINVALID, "not a %s id: '%s'", what, id ? id : "(null)");
    return 0;
}

static int bind_str(sqlite3_stmt *stmt, int i, const char *s)
{
    /* Blobs, not text: paths and argv are raw bytes that need not be UTF-8. */
    if (!s)
        return sqlite3_bind_null(stmt, i);
    return sqlite3_bind_blob(stmt, i, s, (int)strlen(s), SQLITE_STATIC);
}

/* A malloc'd NUL-terminated copy of column i (NULL for SQL NULL). Sets *error on OOM. */
static char *col_strdup(sqlite3_stmt *stmt, int i, int *error)
{
    const void *data;
    int len;
    char *copy;

    if (sqlite3_column_type(stmt, i) == SQLITE_NULL)
        return NULL;
    data = sqlite3_column_blob(stmt, i);
    len = sqlite3_column_bytes(stmt, i);
    copy = malloc((size_t)len + 1);
    if (!copy) {
        *error = roar_error_set(ROAR_ENOMEM, "out of memory");
        return NULL;
    }
    if (len)
        memcpy(copy, data, (size_t)len);
    copy[len] = '\0';
    return copy;
}

/* Copies a 40-hex column into out; anything else there means a damaged file. */
static int col_id(char out[ROAR_OID_HEXSZ + 1], roar_cache *cache, sqlite3_stmt *stmt, int i)
{
    const char *s = (const char *)sqlite3_column_text(stmt, i);
    if (!s || !roar_oid_is_hex(s))
        return roar_error_set(ROAR_EINVALID,
                              "cache '%s' is corrupt (bad id); run 'git roar reindex --full'",
                              cache->path);
    memcpy(out, s, ROAR_OID_HEXSZ + 1);
    return 0;
}

/* Runs a prepared write statement to completion. */
static int step_done(roar_cache *cache, sqlite3_stmt *stmt, const char *what)
{
    int rc = sqlite3_step(stmt);
    return rc == SQLITE_DONE ? 0 : roar_cache__error(cache, rc, what);
}

/* The row key of a job; ROAR_ENOTFOUND (with a message) when it is not stored. */
static int job_pk(sqlite3_int64 *out, roar_cache *cache, const char *id)
{
    sqlite3_stmt *stmt = NULL;
    int error, rc;

    if ((error = check_id(id, "job")) < 0)
        return error;
    if ((error = roar_cache__prepare(&stmt, cache, CACHE_STMT_JOB_PK,
                                     "SELECT pk FROM jobs WHERE id = ?1")) < 0)
        return error;
    sqlite3_bind_text(stmt, 1, id, ROAR_OID_HEXSZ, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(stmt, 0);
    else if (rc == SQLITE_DONE)
        error = roar_error_set(ROAR_ENOTFOUND, "no job %s in the cache", id);
    else
        error = roar_cache__error(cache, rc, "looking up a job");
    roar_cache__release(cache, stmt);
    return error;
}

/* ---- put ------------------------------------------------------------------------- */

static int put_edges(roar_cache *cache, sqlite3_int64 pk, const roar_job *job)
{
    sqlite3_stmt *art = NULL, *edge = NULL;
    int error;

    if ((error = roar_cache__prepare(&art, cache, -1,
                                     "INSERT OR IGNORE INTO artifacts (id, size) "
                                     "VALUES (?1, ?2)")) < 0 ||
        (error = roar_cache__prepare(&edge, cache, -1,
                                     "INSERT INTO edges (job, seq, role, path, blob, size) "
                                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6)")) < 0)
        goto cleanup;
    for (size_t i = 0; i < job->edge_count; i++) {
        const roar_edge *e = &job->edges[i];
        bool known = e->id_known && e->role != ROAR_ROLE_DEL;

        if (known) {
            if ((error = check_id(e->id, "blob")) < 0)
                goto cleanup;
            sqlite3_reset(art);
            sqlite3_bind_text(art, 1, e->id, ROAR_OID_HEXSZ, SQLITE_STATIC);
            sqlite3_bind_int64(art, 2, (sqlite3_int64)e->size);
            if ((error = step_done(cache, art, "storing an artifact")) < 0)
                goto cleanup;
        }
        sqlite3_reset(edge);
        sqlite3_bind_int64(edge, 1, pk);
        sqlite3_bind_int64(edge, 2, (sqlite3_int64)i);
        sqlite3_bind_int(edge, 3, (int)e->role);
        bind_str(edge, 4, e->path);
        if (known)
            sqlite3_bind_text(edge, 5, e->id, ROAR_OID_HEXSZ, SQLITE_STATIC);
        else
            sqlite3_bind_null(edge, 5);
        sqlite3_bind_int64(edge, 6, (sqlite3_int64)e->size);
        if ((error = step_done(cache, edge, "storing an edge")) < 0)
            goto cleanup;
    }
cleanup:
    sqlite3_finalize(art);
    sqlite3_finalize(edge);
    return error;
}

static int put_kvs(roar_cache *cache, sqlite3_int64 pk, const roar_job *job)
{
    sqlite3_stmt *stmt = NULL;
    int error;

    if ((error = roar_cache__prepare(&stmt, cache, -1,
                                     "INSERT INTO job_kv (job, kind, seq, key, value) "
                                     "VALUES (?1, ?2, ?3, ?4, ?5)")) < 0)
        return error;
    for (int kind = 0; kind < 2 && !error; kind++) {
        const roar_kv *kv = kind == 0 ? job->env : job->extra;
        size_t n = kind == 0 ? job->env_count : job->extra_count;

        for (size_t i = 0; i < n && !error; i++) {
            sqlite3_reset(stmt);
            sqlite3_bind_int64(stmt, 1, pk);
            sqlite3_bind_int(stmt, 2, kind);
            sqlite3_bind_int64(stmt, 3, (sqlite3_int64)i);
            bind_str(stmt, 4, kv[i].key ? kv[i].key : "");
            bind_str(stmt, 5, kv[i].value ? kv[i].value : "");
            error = step_done(cache, stmt, "storing an env line");
        }
    }
    sqlite3_finalize(stmt);
    return error;
}

static int put_incomplete(roar_cache *cache, sqlite3_int64 pk, const roar_job *job)
{
    sqlite3_stmt *stmt = NULL;
    int error;

    if ((error = roar_cache__prepare(&stmt, cache, -1,
                                     "INSERT INTO job_incomplete (job, seq, reason, count, path) "
                                     "VALUES (?1, ?2, ?3, ?4, ?5)")) < 0)
        return error;
    for (size_t i = 0; i < job->incomplete_count && !error; i++) {
        const roar_incomplete *inc = &job->incomplete[i];
        sqlite3_reset(stmt);
        sqlite3_bind_int64(stmt, 1, pk);
        sqlite3_bind_int64(stmt, 2, (sqlite3_int64)i);
        bind_str(stmt, 3, inc->reason ? inc->reason : "");
        if (inc->has_count)
            sqlite3_bind_int64(stmt, 4, (sqlite3_int64)inc->count);
        else
            sqlite3_bind_null(stmt, 4);
        bind_str(stmt, 5, inc->path);
        error = step_done(cache, stmt, "storing an incomplete line");
    }
    sqlite3_finalize(stmt);
    return error;
}

int roar_cache_job_put(roar_cache *cache, const roar_job *job, const char *record)
{
    sqlite3_stmt *stmt = NULL;
    roar_buf argv = ROAR_BUF_INIT;
    sqlite3_int64 pk;
    int error;

    if ((error = check_id(job->id, "job")) < 0)
        return error;
    if (!record)
        return roar_error_set(ROAR_EINVALID, "job %s has no record text", job->id);
    for (size_t i = 0; i < job->argc; i++)
        if ((error = roar_buf_put(&argv, job->argv[i], strlen(job->argv[i]) + 1)) < 0)
            goto out;
    if (job->has_base && (error = check_id(job->base, "base commit")) < 0)
        goto out;

    if ((error = roar_cache__tx_begin(cache)) < 0)
        goto out;
    if ((error = roar_cache__prepare(
             &stmt, cache, -1,
             "INSERT OR IGNORE INTO jobs (id, start_ms, end_ms, end_kind, end_code, argv, "
             "argc, cwd, base, dirty, tracer, host, user, incomplete, record) "
             "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)")) < 0)
        goto done;
    sqlite3_bind_text(stmt, 1, job->id, ROAR_OID_HEXSZ, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, job->start_ms);
    sqlite3_bind_int64(stmt, 3, job->end_ms);
    sqlite3_bind_int(stmt, 4, (int)job->end_kind);
    sqlite3_bind_int(stmt, 5, job->end_code);
    sqlite3_bind_blob(stmt, 6, argv.ptr, (int)argv.size, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 7, (sqlite3_int64)job->argc);
    bind_str(stmt, 8, job->cwd ? job->cwd : ".");
    if (job->has_base)
        sqlite3_bind_text(stmt, 9, job->base, ROAR_OID_HEXSZ, SQLITE_STATIC);
    else
        sqlite3_bind_null(stmt, 9);
    sqlite3_bind_int(stmt, 10, job->dirty);
    bind_str(stmt, 11, job->tracer);
    bind_str(stmt, 12, job->host);
    bind_str(stmt, 13, job->user);
    sqlite3_bind_int64(stmt, 14, (sqlite3_int64)job->incomplete_count);
    bind_str(stmt, 15, record);
    if ((error = step_done(cache, stmt, "storing a job")) < 0)
        goto done;
    /* Already there: same id, same record, nothing to add. */
    if (sqlite3_changes(cache->db) == 0)
        goto done;
    pk = sqlite3_last_insert_rowid(cache->db);
    if ((error = put_edges(cache, pk, job)) < 0 || (error = put_kvs(cache, pk, job)) < 0 ||
        (error = put_incomplete(cache, pk, job)) < 0)
        goto done;
done:
    sqlite3_finalize(stmt);
    error = roar_cache__tx_end(cache, error);
out:
    roar_buf_dispose(&argv);
    return error;
}

/* ---- get ------------------------------------------------------------------------ */

static int get_argv(roar_job *out, sqlite3_stmt *stmt, int col, size_t argc)
{
    const char *p = sqlite3_column_blob(stmt, col);
    size_t len = (size_t)sqlite3_column_bytes(stmt, col);
    const char **vec = calloc(argc + 1, sizeof(*vec));
    size_t n = 0, off = 0;
    int error;

    if (!vec)
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    /* Each element ends with a NUL, so the pointers into the column are strings. */
    while (n < argc && off < len) {
        const char *end = memchr(p + off, '\0', len - off);
        if (!end)
            break;
        vec[n++] = p + off;
        off = (size_t)(end - p) + 1;
    }
    if (n != argc || off != len)
        error = roar_error_set(ROAR_EINVALID, "cache is corrupt (argv); run 'git roar "
                                              "reindex --full'");
    else
        error = roar_job_set_argv(out, vec, argc);
    free(vec);
    return error;
}

static int get_edges(roar_job *out, roar_cache *cache, sqlite3_int64 pk)
{
    sqlite3_stmt *stmt = NULL;
    int error, rc;

    if ((error = roar_cache__prepare(&stmt, cache, -1,
                                     "SELECT role, path, blob, size FROM edges "
                                     "WHERE job = ?1 ORDER BY seq")) < 0)
        return error;
    sqlite3_bind_int64(stmt, 1, pk);
    while (!error && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        char *path = col_strdup(stmt, 1, &error);
        const char *blob = (const char *)sqlite3_column_text(stmt, 2);
        if (!error)
            error = roar_job_add_edge(out, (roar_role)sqlite3_column_int(stmt, 0),
                                      path ? path : "", blob,
                                      (uint64_t)sqlite3_column_int64(stmt, 3));
        free(path);
    }
    if (!error && rc != SQLITE_DONE)
        error = roar_cache__error(cache, rc, "reading edges");
    sqlite3_finalize(stmt);
    return error;
}

static int get_kvs(roar_job *out, roar_cache *cache, sqlite3_int64 pk)
{
    sqlite3_stmt *stmt = NULL;
    int error, rc;

    if ((error = roar_cache__prepare(&stmt, cache, -1,
                                     "SELECT kind, key, value FROM job_kv "
                                     "WHERE job = ?1 ORDER BY kind, seq")) < 0)
        return error;
    sqlite3_bind_int64(stmt, 1, pk);
    while (!error && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        char *key = col_strdup(stmt, 1, &error);
        char *value = error ? NULL : col_strdup(stmt, 2, &error);
        if (!error)
            error = sqlite3_column_int(stmt, 0) == 0 ? roar_job_add_env(out, key, value)
                                                     : roar_job_add_extra(out, key, value);
        free(key);
        free(value);
    }
    if (!error && rc != SQLITE_DONE)
        error = roar_cache__error(cache, rc, "reading env lines");
    sqlite3_finalize(stmt);
    return error;
}

static int get_incomplete(roar_job *out, roar_cache *cache, sqlite3_int64 pk)
{
    sqlite3_stmt *stmt = NULL;
    int error, rc;

    if ((error = roar_cache__prepare(&stmt, cache, -1,
                                     "SELECT reason, count, path FROM job_incomplete "
                                     "WHERE job = ?1 ORDER BY seq")) < 0)
        return error;
    sqlite3_bind_int64(stmt, 1, pk);
    while (!error && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        char *reason = col_strdup(stmt, 0, &error);
        char *path = error ? NULL : col_strdup(stmt, 2, &error);
        bool has_count = sqlite3_column_type(stmt, 1) != SQLITE_NULL;
        if (!error)
            error = roar_job_add_incomplete(out, reason ? reason : "", has_count,
                                            (uint64_t)sqlite3_column_int64(stmt, 1), path);
        free(reason);
        free(path);
    }
    if (!error && rc != SQLITE_DONE)
        error = roar_cache__error(cache, rc, "reading incomplete lines");
    sqlite3_finalize(stmt);
    return error;
}

int roar_cache_job_get(roar_job *out, roar_cache *cache, const char *id)
{
    sqlite3_stmt *stmt = NULL;
    sqlite3_int64 pk;
    int error, rc;
    bool in_tx = false;

    roar_job_dispose(out);
    if ((error = check_id(id, "job")) < 0)
        return error;
    /* One read snapshot for the row and its children, so a concurrent delete cannot
     * leave us a job without its edges. */
    in_tx = cache->tx_depth == 0;
    if (in_tx && (error = roar_cache__exec(cache, "BEGIN")) < 0)
        return error;
    if ((error = roar_cache__prepare(&stmt, cache, -1,
                                     "SELECT pk, start_ms, end_ms, end_kind, end_code, argv, "
                                     "argc, cwd, base, dirty, tracer, host, user "
                                     "FROM jobs WHERE id = ?1")) < 0)
        goto cleanup;
    sqlite3_bind_text(stmt, 1, id, ROAR_OID_HEXSZ, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) {
        error = roar_error_set(ROAR_ENOTFOUND, "no job %s in the cache", id);
        goto cleanup;
    } else if (rc != SQLITE_ROW) {
        error = roar_cache__error(cache, rc, "reading a job");
        goto cleanup;
    }
    memcpy(out->id, id, ROAR_OID_HEXSZ + 1);
    pk = sqlite3_column_int64(stmt, 0);
    out->start_ms = sqlite3_column_int64(stmt, 1);
    out->end_ms = sqlite3_column_int64(stmt, 2);
    out->end_kind = (roar_end_kind)sqlite3_column_int(stmt, 3);
    out->end_code = sqlite3_column_int(stmt, 4);
    if ((error = get_argv(out, stmt, 5, (size_t)sqlite3_column_int64(stmt, 6))) < 0)
        goto cleanup;
    out->cwd = col_strdup(stmt, 7, &error);
    if (sqlite3_column_type(stmt, 8) != SQLITE_NULL) {
        if ((error = col_id(out->base, cache, stmt, 8)) < 0)
            goto cleanup;
        out->has_base = true;
    }
    out->dirty = sqlite3_column_int(stmt, 9);
    if (!error)
        out->tracer = col_strdup(stmt, 10, &error);
    if (!error)
        out->host = col_strdup(stmt, 11, &error);
    if (!error)
        out->user = col_strdup(stmt, 12, &error);
    if (error || (error = get_edges(out, cache, pk)) < 0 ||
        (error = get_kvs(out, cache, pk)) < 0 || (error = get_incomplete(out, cache, pk)) < 0)
        goto cleanup;

cleanup:
    sqlite3_finalize(stmt);
    if (in_tx)
        sqlite3_exec(cache->db, "COMMIT", NULL, NULL, NULL);
    if (error < 0)
        roar_job_dispose(out);
    return error;
}

int roar_cache_job_record(roar_buf *out, roar_cache *cache, const char *id)
{
    sqlite3_stmt *stmt = NULL;
    int error, rc;

    if ((error = check_id(id, "job")) < 0)
        return error;
    if ((error = roar_cache__prepare(&stmt, cache, -1,
                                     "SELECT record FROM jobs WHERE id = ?1")) < 0)
        return error;
    sqlite3_bind_text(stmt, 1, id, ROAR_OID_HEXSZ, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        roar_buf_clear(out);
        error = roar_buf_put(out, sqlite3_column_blob(stmt, 0),
                             (size_t)sqlite3_column_bytes(stmt, 0));
    } else if (rc == SQLITE_DONE) {
        error = roar_error_set(ROAR_ENOTFOUND, "no job %s in the cache", id);
    } else {
        error = roar_cache__error(cache, rc, "reading a record");
    }
    sqlite3_finalize(stmt);
    return error;
}

int roar_cache_job_resolve(char out[ROAR_OID_HEXSZ + 1], roar_cache *cache, const char *prefix)
{
    sqlite3_stmt *stmt = NULL;
    char lo[ROAR_OID_HEXSZ + 1], hi[ROAR_OID_HEXSZ + 2];
    roar_buf listed = ROAR_BUF_INIT;
    size_t len = prefix ? strlen(prefix) : 0;
    int error, rc, n = 0;

    if (len < 4 || len > ROAR_OID_HEXSZ)
        return roar_error_set(ROAR_EINVALID, "not a job id prefix (4 to 40 hex digits): '%s'",
                              prefix ? prefix : "");
    for (size_t i = 0; i < len; i++) {
        if (!isxdigit((unsigned char)prefix[i]))
            return roar_error_set(ROAR_EINVALID, "not a job id prefix: '%s'", prefix);
        lo[i] = (char)tolower((unsigned char)prefix[i]);
    }
    lo[len] = '\0';
    /* Ids are lower-case hex, all below 'g': [prefix, prefix "g") holds exactly the ids
     * that start with prefix, and the range scan uses the unique index. */
    memcpy(hi, lo, len);
    hi[len] = 'g';
    hi[len + 1] = '\0';
    if ((error = roar_cache__prepare(&stmt, cache, -1,
                                     "SELECT id FROM jobs WHERE id >= ?1 AND id < ?2 "
                                     "ORDER BY id LIMIT ?3")) < 0)
        return error;
    sqlite3_bind_text(stmt, 1, lo, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, hi, -1, SQLITE_STATIC);
    sqlite3_bind_int(stmt, 3, RESOLVE_MAX_LISTED + 1);
    while (!error && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(stmt, 0);
        if (n == 0 && (error = col_id(out, cache, stmt, 0)) < 0)
            break;
        if (n < RESOLVE_MAX_LISTED)
            error = roar_buf_printf(&listed, "\n  %s", id);
        else
            error = roar_buf_puts(&listed, "\n  ...");
        n++;
    }
    if (!error && rc != SQLITE_DONE)
        error = roar_cache__error(cache, rc, "resolving a job id");
    else if (!error && n == 0)
        error = roar_error_set(ROAR_ENOTFOUND, "no job matches '%s'", prefix);
    else if (!error && n > 1)
        error = roar_error_set(ROAR_EAMBIGUOUS, "job id prefix '%s' is ambiguous; candidates:%s",
                               prefix, listed.ptr);
    if (error < 0)
        out[0] = '\0';
    sqlite3_finalize(stmt);
    roar_buf_dispose(&listed);
    return error;
}

int roar_cache_job_delete(roar_cache *cache, const char *id)
{
    sqlite3_stmt *stmt = NULL;
    int error;

    if ((error = check_id(id, "job")) < 0)
        return error;
    if ((error = roar_cache__tx_begin(cache)) < 0)
        return error;
    if ((error = roar_cache__prepare(&stmt, cache, -1, "DELETE FROM jobs WHERE id = ?1")) < 0)
        goto done;
    sqlite3_bind_text(stmt, 1, id, ROAR_OID_HEXSZ, SQLITE_STATIC);
    if ((error = step_done(cache, stmt, "deleting a job")) < 0)
        goto done;
    if (sqlite3_changes(cache->db) == 0)
        error = roar_error_set(ROAR_ENOTFOUND, "no job %s in the cache", id);
done:
    sqlite3_finalize(stmt);
    return roar_cache__tx_end(cache, error);
}

/* ---- attachments and pending ------------------------------------------------ */

void roar_cache_id_list_dispose(roar_cache_id_list *list)
{
    if (!list)
        return;
    free(list->items);
    list->items = NULL;
    list->count = list->alloc = 0;
}

/* Replaces the list's contents with column 0 of every row of a bound statement. */
static int collect_ids(roar_cache_id_list *out, roar_cache *cache, sqlite3_stmt *stmt)
{
    int error = 0, rc;

    out->count = 0;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if ((error = ROAR_ALLOC_GROW(out->items, out->count + 1, out->alloc)) < 0)
            return roar_error_set(ROAR_ENOMEM, "out of memory");
        if ((error = col_id(out->items[out->count], cache, stmt, 0)) < 0)
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

    if ((error = check_id(commit_id, "commit")) < 0)
        return error;
    if ((error = roar_cache__tx_begin(cache)) < 0)
        return error;
    if ((error = job_pk(&pk, cache, job_id)) < 0 ||
        (error = roar_cache__prepare(&stmt, cache, -1,
                                     "INSERT OR IGNORE INTO attachments (job, commit_id) "
                                     "VALUES (?1, ?2)")) < 0)
        goto done;
    sqlite3_bind_int64(stmt, 1, pk);
    sqlite3_bind_text(stmt, 2, commit_id, ROAR_OID_HEXSZ, SQLITE_STATIC);
    error = step_done(cache, stmt, "attaching a job");
done:
    sqlite3_finalize(stmt);
    return roar_cache__tx_end(cache, error);
}

int roar_cache_detach(roar_cache *cache, const char *job_id, const char *commit_id)
{
    sqlite3_stmt *stmt = NULL;
    int error;

    if ((error = check_id(job_id, "job")) < 0 || (error = check_id(commit_id, "commit")) < 0)
        return error;
    if ((error = roar_cache__tx_begin(cache)) < 0)
        return error;
    if ((error = roar_cache__prepare(&stmt, cache, -1,
                                     "DELETE FROM attachments WHERE commit_id = ?2 AND "
                                     "job = (SELECT pk FROM jobs WHERE id = ?1)")) < 0)
        goto done;
    sqlite3_bind_text(stmt, 1, job_id, ROAR_OID_HEXSZ, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, commit_id, ROAR_OID_HEXSZ, SQLITE_STATIC);
    if ((error = step_done(cache, stmt, "detaching a job")) < 0)
        goto done;
    if (sqlite3_changes(cache->db) == 0)
        error = roar_error_set(ROAR_ENOTFOUND, "job %s is not attached to %s", job_id,
                               commit_id);
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
    if ((error = job_pk(&pk, cache, job_id)) < 0)
        return error;
    if ((error = roar_cache__prepare(&stmt, cache, -1,
                                     "SELECT commit_id FROM attachments WHERE job = ?1 "
                                     "ORDER BY commit_id")) < 0)
        return error;
    sqlite3_bind_int64(stmt, 1, pk);
    error = collect_ids(out, cache, stmt);
    sqlite3_finalize(stmt);
    return error;
}

int roar_cache_commit_jobs(roar_cache_id_list *out, roar_cache *cache, const char *commit_id)
{
    sqlite3_stmt *stmt = NULL;
    int error;

    out->count = 0;
    if ((error = check_id(commit_id, "commit")) < 0)
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
    if ((error = job_pk(&pk, cache, job_id)) < 0 ||
        (error = roar_cache__prepare(&stmt, cache, -1,
                                     "INSERT OR REPLACE INTO pending (job, worktree) "
                                     "VALUES (?1, ?2)")) < 0)
        goto done;
    sqlite3_bind_int64(stmt, 1, pk);
    bind_str(stmt, 2, worktree);
    error = step_done(cache, stmt, "marking a job pending");
done:
    sqlite3_finalize(stmt);
    return roar_cache__tx_end(cache, error);
}

int roar_cache_pending_unmark(roar_cache *cache, const char *job_id)
{
    sqlite3_stmt *stmt = NULL;
    int error;

    if ((error = check_id(job_id, "job")) < 0)
        return error;
    if ((error = roar_cache__tx_begin(cache)) < 0)
        return error;
    if ((error = roar_cache__prepare(&stmt, cache, -1,
                                     "DELETE FROM pending WHERE "
                                     "job = (SELECT pk FROM jobs WHERE id = ?1)")) < 0)
        goto done;
    sqlite3_bind_text(stmt, 1, job_id, ROAR_OID_HEXSZ, SQLITE_STATIC);
    if ((error = step_done(cache, stmt, "unmarking a pending job")) < 0)
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
    int error = 0, rc, param = 1;

    if (!opts)
        opts = &no_opts;
    for (size_t i = 0; i < out->count; i++)
        free(out->items[i].pending_worktree);
    out->count = 0;

    if (opts->path_count) {
        ranges = calloc(opts->path_count, sizeof(*ranges));
        if (!ranges)
            return roar_error_set(ROAR_ENOMEM, "out of memory");
        for (size_t i = 0; i < opts->path_count && !error; i++)
            error = path_range_init(&ranges[i], opts->paths[i]);
        if (error)
            goto cleanup;
    }

    if ((error = roar_buf_puts(&sql, "SELECT j.id, j.start_ms, j.end_ms, j.end_kind, "
                                     "j.end_code, j.incomplete, p.worktree FROM jobs j ")) < 0 ||
        (error = roar_buf_puts(&sql, opts->pending_only ? "JOIN" : "LEFT JOIN")) < 0 ||
        (error = roar_buf_puts(&sql, " pending p ON p.job = j.pk WHERE 1")) < 0)
        goto cleanup;
    if (opts->pending_only && opts->worktree &&
        (error = roar_buf_puts(&sql, " AND p.worktree = ?1")) < 0)
        goto cleanup;
    if (opts->path_count) {
        if ((error = roar_buf_puts(&sql, " AND j.pk IN (SELECT job FROM edges WHERE 0")) < 0)
            goto cleanup;
        for (size_t i = 0; i < opts->path_count && !error; i++)
            error = roar_buf_printf(&sql, " OR path = ?%zu OR (path >= ?%zu AND path < ?%zu)",
                                    2 + 3 * i, 3 + 3 * i, 4 + 3 * i);
        if (error || (error = roar_buf_puts(&sql, ")")) < 0)
            goto cleanup;
    }
    if ((error = roar_buf_puts(&sql, " ORDER BY j.end_ms DESC, j.start_ms DESC, j.id DESC")) <
            0 ||
        (opts->limit && (error = roar_buf_printf(&sql, " LIMIT %zu", opts->limit)) < 0))
        goto cleanup;

    if ((error = roar_cache__prepare(&stmt, cache, -1, sql.ptr)) < 0)
        goto cleanup;
    if (opts->pending_only && opts->worktree)
        bind_str(stmt, param, opts->worktree);
    for (size_t i = 0; i < opts->path_count; i++) {
        sqlite3_bind_blob(stmt, (int)(2 + 3 * i), ranges[i].exact.ptr, (int)ranges[i].exact.size,
                          SQLITE_STATIC);
        sqlite3_bind_blob(stmt, (int)(3 + 3 * i), ranges[i].lo.ptr, (int)ranges[i].lo.size,
                          SQLITE_STATIC);
        sqlite3_bind_blob(stmt, (int)(4 + 3 * i), ranges[i].hi.ptr, (int)ranges[i].hi.size,
                          SQLITE_STATIC);
    }
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        roar_cache_jobinfo *info;
        if ((error = ROAR_ALLOC_GROW(out->items, out->count + 1, out->alloc)) < 0) {
            error = roar_error_set(ROAR_ENOMEM, "out of memory");
            goto cleanup;
        }
        info = &out->items[out->count];
        memset(info, 0, sizeof(*info));
        if ((error = col_id(info->id, cache, stmt, 0)) < 0)
            goto cleanup;
        info->start_ms = sqlite3_column_int64(stmt, 1);
        info->end_ms = sqlite3_column_int64(stmt, 2);
        info->end_kind = (roar_end_kind)sqlite3_column_int(stmt, 3);
        info->end_code = sqlite3_column_int(stmt, 4);
        info->incomplete_count = (size_t)sqlite3_column_int64(stmt, 5);
        info->pending_worktree = col_strdup(stmt, 6, &error);
        if (error)
            goto cleanup;
        out->count++;
    }
    if (rc != SQLITE_DONE)
        error = roar_cache__error(cache, rc, "listing jobs");

cleanup:
    sqlite3_finalize(stmt);
    for (size_t i = 0; ranges && i < opts->path_count; i++)
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

#define EDGE_COLUMNS "j.id, j.end_ms, j.end_kind, j.end_code, e.role, e.path, e.blob, e.size "
#define EDGE_FROM "FROM edges e JOIN jobs j ON j.pk = e.job "
#define NEWEST_FIRST " ORDER BY j.end_ms DESC, j.start_ms DESC, j.id DESC, e.seq"

static int read_edge(roar_cache_edge *out, roar_cache *cache, sqlite3_stmt *stmt)
{
    int error = 0;

    memset(out, 0, sizeof(*out));
    if ((error = col_id(out->job_id, cache, stmt, 0)) < 0)
        return error;
    out->end_ms = sqlite3_column_int64(stmt, 1);
    out->end_kind = (roar_end_kind)sqlite3_column_int(stmt, 2);
    out->end_code = sqlite3_column_int(stmt, 3);
    out->role = (roar_role)sqlite3_column_int(stmt, 4);
    if (sqlite3_column_type(stmt, 6) != SQLITE_NULL) {
        if ((error = col_id(out->id, cache, stmt, 6)) < 0)
            return error;
        out->id_known = true;
    }
    out->size = (uint64_t)sqlite3_column_int64(stmt, 7);
    out->path = col_strdup(stmt, 5, &error);
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

static int edges_by_blob(roar_cache_edge_list *out, roar_cache *cache, const char *blob_id,
                         roar_role role)
{
    sqlite3_stmt *stmt = NULL;
    int error;

    edge_list_clear(out);
    if ((error = check_id(blob_id, "blob")) < 0)
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
                                     "WHERE e.path = ?1" NEWEST_FIRST)) < 0)
        return error;
    bind_str(stmt, 1, path);
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
    bind_str(stmt, 1, path);
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
