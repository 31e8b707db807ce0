/* Storing a job (one transaction per job, idempotent by id), reading it back whole,
 * resolving id prefixes and deleting. Listing and lineage queries are in cache_query.c. */
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

/* ---- put ------------------------------------------------------------------------- */

static int put_edges(roar_cache *cache, sqlite3_int64 pk, const roar_job *job)
{
    sqlite3_stmt *art = NULL, *edge = NULL;
    int error;

    if ((error = roar_cache__prepare(&art, cache, CACHE_STMT_ARTIFACT_INSERT,
                                     "INSERT OR IGNORE INTO artifacts (id, size) "
                                     "VALUES (?1, ?2)")) < 0 ||
        (error = roar_cache__prepare(&edge, cache, CACHE_STMT_EDGE_INSERT,
                                     "INSERT INTO edges (job, seq, role, path, blob, size) "
                                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6)")) < 0)
        goto cleanup;
    for (size_t i = 0; i < job->edge_count; i++) {
        const roar_edge *e = &job->edges[i];
        bool known = e->id_known && e->role != ROAR_ROLE_DEL;

        int stored = 0;

        if (known && ((error = roar_cache__check_id(e->id, "blob")) < 0 ||
                      (error = stored = roar_cache__bulk_artifact_stored(cache, e->id)) < 0))
            goto cleanup;
        if (known && !stored) {
            sqlite3_reset(art);
            sqlite3_bind_text(art, 1, e->id, ROAR_OID_HEXSZ, SQLITE_STATIC);
            sqlite3_bind_int64(art, 2, (sqlite3_int64)e->size);
            if ((error = roar_cache__step_done(cache, art, "storing an artifact")) < 0)
                goto cleanup;
        }
        sqlite3_reset(edge);
        sqlite3_bind_int64(edge, 1, pk);
        sqlite3_bind_int64(edge, 2, (sqlite3_int64)i);
        sqlite3_bind_int(edge, 3, (int)e->role);
        roar_cache__bind_str(edge, 4, e->path);
        if (known)
            sqlite3_bind_text(edge, 5, e->id, ROAR_OID_HEXSZ, SQLITE_STATIC);
        else
            sqlite3_bind_null(edge, 5);
        sqlite3_bind_int64(edge, 6, (sqlite3_int64)e->size);
        if ((error = roar_cache__step_done(cache, edge, "storing an edge")) < 0)
            goto cleanup;
    }
cleanup:
    roar_cache__release(cache, art);
    roar_cache__release(cache, edge);
    return error;
}

static int put_kvs(roar_cache *cache, sqlite3_int64 pk, const roar_job *job)
{
    sqlite3_stmt *stmt = NULL;
    int error;

    if ((error = roar_cache__prepare(&stmt, cache, CACHE_STMT_KV_INSERT,
                                     "INSERT INTO job_kv (job, kind, seq, key, value) "
                                     "VALUES (?1, ?2, ?3, ?4, ?5)")) < 0)
        return error;
    for (int kind = 0; kind < 2 && !error; kind++) { /* kind 2, steps: put_steps */
        const roar_kv *kv = kind == 0 ? job->env : job->extra;
        size_t n = kind == 0 ? job->env_count : job->extra_count;

        for (size_t i = 0; i < n && !error; i++) {
            sqlite3_reset(stmt);
            sqlite3_bind_int64(stmt, 1, pk);
            sqlite3_bind_int(stmt, 2, kind);
            sqlite3_bind_int64(stmt, 3, (sqlite3_int64)i);
            roar_cache__bind_str(stmt, 4, kv[i].key ? kv[i].key : "");
            roar_cache__bind_str(stmt, 5, kv[i].value ? kv[i].value : "");
            error = roar_cache__step_done(cache, stmt, "storing an env line");
        }
    }
    roar_cache__release(cache, stmt);
    return error;
}

/* The step lines (SPEC §4.9) as job_kv rows of kind 2, one per line in order, key
 * "step"; and the meta key that tells readers some job has them, so that a history
 * without any costs no lookups. */
static int put_steps(roar_cache *cache, sqlite3_int64 pk, const roar_job *job)
{
    sqlite3_stmt *stmt = NULL;
    roar_buf value = ROAR_BUF_INIT;
    int error;

    if (!job->steps.count)
        return 0;
    if ((error = roar_cache__prepare(&stmt, cache, CACHE_STMT_KV_INSERT,
                                     "INSERT INTO job_kv (job, kind, seq, key, value) "
                                     "VALUES (?1, ?2, ?3, ?4, ?5)")) < 0)
        return error;
    for (size_t i = 0; i < job->steps.count && !error; i++) {
        roar_buf_clear(&value);
        if ((error = roar_steps_format_value(&value, &job->steps.v[i])) < 0)
            break;
        sqlite3_reset(stmt);
        sqlite3_bind_int64(stmt, 1, pk);
        sqlite3_bind_int(stmt, 2, ROAR_CACHE_KV_STEP);
        sqlite3_bind_int64(stmt, 3, (sqlite3_int64)i);
        roar_cache__bind_str(stmt, 4, "step");
        roar_cache__bind_str(stmt, 5, value.ptr);
        error = roar_cache__step_done(cache, stmt, "storing a step line");
    }
    roar_cache__release(cache, stmt);
    roar_buf_dispose(&value);
    if (!error)
        error = roar_cache_meta_set(cache, ROAR_CACHE_META_STEPS, "1");
    return error;
}

static int put_incomplete(roar_cache *cache, sqlite3_int64 pk, const roar_job *job)
{
    sqlite3_stmt *stmt = NULL;
    int error;

    if ((error = roar_cache__prepare(&stmt, cache, CACHE_STMT_INCOMPLETE_INSERT,
                                     "INSERT INTO job_incomplete (job, seq, reason, count, path) "
                                     "VALUES (?1, ?2, ?3, ?4, ?5)")) < 0)
        return error;
    for (size_t i = 0; i < job->incomplete_count && !error; i++) {
        const roar_incomplete *inc = &job->incomplete[i];
        sqlite3_reset(stmt);
        sqlite3_bind_int64(stmt, 1, pk);
        sqlite3_bind_int64(stmt, 2, (sqlite3_int64)i);
        roar_cache__bind_str(stmt, 3, inc->reason ? inc->reason : "");
        if (inc->has_count)
            sqlite3_bind_int64(stmt, 4, (sqlite3_int64)inc->count);
        else
            sqlite3_bind_null(stmt, 4);
        roar_cache__bind_str(stmt, 5, inc->path);
        error = roar_cache__step_done(cache, stmt, "storing an incomplete line");
    }
    roar_cache__release(cache, stmt);
    return error;
}

int roar_cache_job_put(roar_cache *cache, const roar_job *job)
{
    sqlite3_stmt *stmt = NULL;
    roar_buf argv = ROAR_BUF_INIT;
    sqlite3_int64 pk;
    int error;

    if ((error = roar_cache__check_id(job->id, "job")) < 0)
        return error;
    for (size_t i = 0; i < job->argc; i++)
        if ((error = roar_buf_put(&argv, job->argv[i], strlen(job->argv[i]) + 1)) < 0)
            goto out;
    if (job->has_base && (error = roar_cache__check_id(job->base, "base commit")) < 0)
        goto out;

    if ((error = roar_cache__unit_begin(cache)) < 0)
        goto out;
    if ((error = roar_cache__prepare(
             &stmt, cache, CACHE_STMT_JOB_INSERT,
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
    roar_cache__bind_str(stmt, 8, job->cwd ? job->cwd : ".");
    if (job->has_base)
        sqlite3_bind_text(stmt, 9, job->base, ROAR_OID_HEXSZ, SQLITE_STATIC);
    else
        sqlite3_bind_null(stmt, 9);
    sqlite3_bind_int(stmt, 10, job->dirty);
    roar_cache__bind_str(stmt, 11, job->tracer);
    roar_cache__bind_str(stmt, 12, job->host);
    roar_cache__bind_str(stmt, 13, job->user);
    sqlite3_bind_int64(stmt, 14, (sqlite3_int64)job->incomplete_count);
    sqlite3_bind_zeroblob(stmt, 15, 0); /* not kept: see roar_cache_job_put */
    if ((error = roar_cache__step_done(cache, stmt, "storing a job")) < 0)
        goto done;
    /* Already there: same id, same record, nothing to add. */
    if (sqlite3_changes(cache->db) == 0)
        goto done;
    pk = sqlite3_last_insert_rowid(cache->db);
    if ((error = put_edges(cache, pk, job)) < 0 || (error = put_kvs(cache, pk, job)) < 0 ||
        (error = put_steps(cache, pk, job)) < 0 || (error = put_incomplete(cache, pk, job)) < 0)
        goto done;
done:
    roar_cache__release(cache, stmt);
    error = roar_cache__unit_end(cache, error);
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

    if ((error = roar_cache__prepare(&stmt, cache, CACHE_STMT_JOB_GET_EDGES,
                                     "SELECT role, path, blob, size FROM edges "
                                     "WHERE job = ?1 ORDER BY seq")) < 0)
        return error;
    sqlite3_bind_int64(stmt, 1, pk);
    while (!error && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        char *path = roar_cache__col_strdup(stmt, 1, &error);
        const char *blob = (const char *)sqlite3_column_text(stmt, 2);
        if (!error)
            error = roar_job_add_edge(out, (roar_role)sqlite3_column_int(stmt, 0), path ? path : "",
                                      blob, (uint64_t)sqlite3_column_int64(stmt, 3));
        free(path);
    }
    if (!error && rc != SQLITE_DONE)
        error = roar_cache__error(cache, rc, "reading edges");
    roar_cache__release(cache, stmt);
    return error;
}

static int get_kvs(roar_job *out, roar_cache *cache, sqlite3_int64 pk)
{
    sqlite3_stmt *stmt = NULL;
    int error, rc;

    if ((error = roar_cache__prepare(&stmt, cache, CACHE_STMT_JOB_GET_KVS,
                                     "SELECT kind, key, value FROM job_kv "
                                     "WHERE job = ?1 ORDER BY kind, seq")) < 0)
        return error;
    sqlite3_bind_int64(stmt, 1, pk);
    while (!error && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        char *key = roar_cache__col_strdup(stmt, 1, &error);
        char *value = error ? NULL : roar_cache__col_strdup(stmt, 2, &error);
        int kind = sqlite3_column_int(stmt, 0);
        if (!error && kind == ROAR_CACHE_KV_STEP)
            error = roar_steps_parse_value(&out->steps, value, strlen(value));
        else if (!error)
            error =
                kind == 0 ? roar_job_add_env(out, key, value) : roar_job_add_extra(out, key, value);
        free(key);
        free(value);
    }
    if (!error && rc != SQLITE_DONE)
        error = roar_cache__error(cache, rc, "reading env lines");
    if (!error)
        error = roar_steps_index(&out->steps);
    roar_cache__release(cache, stmt);
    return error;
}

static int get_incomplete(roar_job *out, roar_cache *cache, sqlite3_int64 pk)
{
    sqlite3_stmt *stmt = NULL;
    int error, rc;

    if ((error = roar_cache__prepare(&stmt, cache, CACHE_STMT_JOB_GET_INCOMPLETE,
                                     "SELECT reason, count, path FROM job_incomplete "
                                     "WHERE job = ?1 ORDER BY seq")) < 0)
        return error;
    sqlite3_bind_int64(stmt, 1, pk);
    while (!error && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        char *reason = roar_cache__col_strdup(stmt, 0, &error);
        char *path = error ? NULL : roar_cache__col_strdup(stmt, 2, &error);
        bool has_count = sqlite3_column_type(stmt, 1) != SQLITE_NULL;
        if (!error)
            error = roar_job_add_incomplete(out, reason ? reason : "", has_count,
                                            (uint64_t)sqlite3_column_int64(stmt, 1), path);
        free(reason);
        free(path);
    }
    if (!error && rc != SQLITE_DONE)
        error = roar_cache__error(cache, rc, "reading incomplete lines");
    roar_cache__release(cache, stmt);
    return error;
}

static int get_job(roar_job *out, roar_cache *cache, const char *id, bool whole)
{
    sqlite3_stmt *stmt = NULL;
    sqlite3_int64 pk;
    int error, rc;
    bool in_tx = false;

    roar_job_dispose(out);
    if ((error = roar_cache__check_id(id, "job")) < 0)
        return error;
    /* One read snapshot for the row and its children, so a concurrent delete cannot
     * leave us a job without its edges. */
    in_tx = cache->tx_depth == 0;
    if (in_tx && (error = roar_cache__exec(cache, "BEGIN")) < 0)
        return error;
    if ((error = roar_cache__prepare(&stmt, cache, CACHE_STMT_JOB_GET,
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
    out->cwd = roar_cache__col_strdup(stmt, 7, &error);
    if (sqlite3_column_type(stmt, 8) != SQLITE_NULL) {
        if ((error = roar_cache__col_id(out->base, cache, stmt, 8)) < 0)
            goto cleanup;
        out->has_base = true;
    }
    out->dirty = sqlite3_column_int(stmt, 9);
    if (!error)
        out->tracer = roar_cache__col_strdup(stmt, 10, &error);
    if (!error)
        out->host = roar_cache__col_strdup(stmt, 11, &error);
    if (!error)
        out->user = roar_cache__col_strdup(stmt, 12, &error);
    if (error || (whole && (error = get_edges(out, cache, pk)) < 0) ||
        (whole && (error = get_kvs(out, cache, pk)) < 0) ||
        (error = get_incomplete(out, cache, pk)) < 0)
        goto cleanup;

cleanup:
    roar_cache__release(cache, stmt);
    if (in_tx)
        sqlite3_exec(cache->db, "COMMIT", NULL, NULL, NULL);
    if (error < 0)
        roar_job_dispose(out);
    return error;
}

int roar_cache_job_get(roar_job *out, roar_cache *cache, const char *id)
{
    return get_job(out, cache, id, true);
}

int roar_cache_job_get_summary(roar_job *out, roar_cache *cache, const char *id)
{
    return get_job(out, cache, id, false);
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
        if (n == 0 && (error = roar_cache__col_id(out, cache, stmt, 0)) < 0)
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
    /* Each table by hand, not through ON DELETE CASCADE: a bulk load runs with foreign
     * keys off (roar_cache_begin_bulk), and a deletion there must not leave rows. */
    static const char *const children[] = {
        "DELETE FROM edges WHERE job = ?1",          "DELETE FROM job_kv WHERE job = ?1",
        "DELETE FROM job_incomplete WHERE job = ?1", "DELETE FROM attachments WHERE job = ?1",
        "DELETE FROM pending WHERE job = ?1",        "DELETE FROM jobs WHERE pk = ?1",
    };
    sqlite3_stmt *stmt = NULL;
    sqlite3_int64 pk;
    int error;

    if ((error = roar_cache__tx_begin(cache)) < 0)
        return error;
    if ((error = roar_cache__job_pk(&pk, cache, id)) < 0)
        goto done;
    for (size_t i = 0; !error && i < sizeof(children) / sizeof(children[0]); i++) {
        if ((error = roar_cache__prepare(&stmt, cache, -1, children[i])) < 0)
            break;
        sqlite3_bind_int64(stmt, 1, pk);
        error = roar_cache__step_done(cache, stmt, "deleting a job");
        sqlite3_finalize(stmt);
        stmt = NULL;
    }
done:
    return roar_cache__tx_end(cache, error);
}
