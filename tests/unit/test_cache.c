/* Unit tests of the SQLite cache (src/graph/cache*.c), each in a fresh temp directory:
 * open/migrate/refuse, the hash cache, meta, jobs and every query, and concurrency. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "graph/cache.h"
#include "graph/job.h"
#include "graph/oid.h"
#include "util/buf.h"
#include "util/err.h"

typedef struct {
    char dir[64];
    char path[128];
    roar_cache *cache;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    strcpy(f->dir, "/tmp/roar-test-cache-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof(f->path), "%s/cache.db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[128];
    roar_cache_free(f->cache);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

static void open_cache(fixture *f)
{
    int error = roar_cache_open(&f->cache, f->path);
    if (error < 0)
        fail_msg("open: %s", roar_error_last());
}

/* ---- open, schema, refusals --------------------------------------------------- */

static void test_open_creates_wal_db_with_schema_version(void **state)
{
    fixture *f = *state;
    sqlite3 *db;
    sqlite3_stmt *stmt;

    open_cache(f);
    roar_cache_free(f->cache);
    f->cache = NULL;

    /* Look at the file with plain SQLite, not through the code under test. */
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(stmt, 0), "wal");
    sqlite3_finalize(stmt);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(stmt, 0), roar_cache_schema_version());
    assert_true(roar_cache_schema_version() >= 1);
    sqlite3_finalize(stmt);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT count(*) FROM sqlite_master WHERE type='table' "
                                        "AND name IN ('jobs','artifacts','edges','attachments',"
                                        "'pending','hash_cache','meta')",
                                        -1, &stmt, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(stmt, 0), 7);
    sqlite3_finalize(stmt);
    sqlite3_close(db);

    /* Reopening an up-to-date database works and changes nothing. */
    open_cache(f);
}

static void test_open_refuses_newer_schema(void **state)
{
    fixture *f = *state;
    sqlite3 *db;
    char sql[64];

    open_cache(f);
    roar_cache_free(f->cache);
    f->cache = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", roar_cache_schema_version() + 1);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    assert_int_equal(roar_cache_open(&f->cache, f->path), ROAR_EUNSUPPORTED);
    assert_null(f->cache);
    assert_non_null(strstr(roar_error_last(), f->path));
    assert_non_null(strstr(roar_error_last(), "schema version"));
}

static void write_file(const char *path, const char *data, size_t len)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

static void test_open_refuses_garbage_file(void **state)
{
    fixture *f = *state;
    char junk[8192];

    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (char)("not a database\n"[i % 15]);
    write_file(f->path, junk, sizeof(junk));
    assert_int_equal(roar_cache_open(&f->cache, f->path), ROAR_EINVALID);
    assert_null(f->cache);
    assert_non_null(strstr(roar_error_last(), f->path));
    assert_non_null(strstr(roar_error_last(), "corrupt"));
    assert_non_null(strstr(roar_error_last(), "reindex --full"));

    /* A short non-database file too. */
    write_file(f->path, "hello\n", 6);
    assert_int_equal(roar_cache_open(&f->cache, f->path), ROAR_EINVALID);
    assert_non_null(strstr(roar_error_last(), "corrupt"));
}

static void test_open_missing_directory_fails(void **state)
{
    fixture *f = *state;
    char path[200];

    snprintf(path, sizeof(path), "%s/no/such/dir/cache.db", f->dir);
    assert_true(roar_cache_open(&f->cache, path) < 0);
    assert_null(f->cache);
    assert_non_null(strstr(roar_error_last(), path));
}

/* ---- hash cache ------------------------------------------------------------------- */

static const char ID_EMPTY[] = "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391";
static const char ID_HELLO[] = "ce013625030ba8dba906f756967f9e9ca394464a";

static void test_hash_cache_roundtrip(void **state)
{
    fixture *f = *state;
    roar_stat_key key = {UINT64_MAX - 1, (uint64_t)1 << 63, 6, 1700000000123456789,
                         1700000000223456789};
    roar_stat_key other = key;
    char id[ROAR_OID_HEXSZ + 1];
    int64_t at = 0;

    open_cache(f);
    assert_int_equal(roar_cache_hash_get(f->cache, &key, id, &at), ROAR_ENOTFOUND);
    assert_int_equal(roar_cache_hash_put(f->cache, &key, ID_HELLO, 1700000001000000000), 0);
    assert_int_equal(roar_cache_hash_get(f->cache, &key, id, &at), 0);
    assert_string_equal(id, ID_HELLO);
    assert_int_equal(at, 1700000001000000000);

    /* Any other field of the identity differing means no answer. */
    other.size = 7;
    assert_int_equal(roar_cache_hash_get(f->cache, &other, id, &at), ROAR_ENOTFOUND);
    other = key;
    other.mtime_ns++;
    assert_int_equal(roar_cache_hash_get(f->cache, &other, id, &at), ROAR_ENOTFOUND);
    other = key;
    other.ctime_ns++;
    assert_int_equal(roar_cache_hash_get(f->cache, &other, id, &at), ROAR_ENOTFOUND);
    other = key;
    other.ino++;
    assert_int_equal(roar_cache_hash_get(f->cache, &other, id, &at), ROAR_ENOTFOUND);

    /* A put for the same (dev, ino) replaces the row: one identity per file. */
    other = key;
    other.size = 0;
    other.mtime_ns += 5;
    assert_int_equal(roar_cache_hash_put(f->cache, &other, ID_EMPTY, 42), 0);
    assert_int_equal(roar_cache_hash_get(f->cache, &key, id, &at), ROAR_ENOTFOUND);
    assert_int_equal(roar_cache_hash_get(f->cache, &other, id, &at), 0);
    assert_string_equal(id, ID_EMPTY);
    assert_int_equal(at, 42);

    assert_int_equal(roar_cache_hash_put(f->cache, &key, "not-an-id", 1), ROAR_EINVALID);
}

static void test_hash_cache_survives_reopen(void **state)
{
    fixture *f = *state;
    roar_stat_key key = {1, 2, 3, 4, 5};
    char id[ROAR_OID_HEXSZ + 1];

    open_cache(f);
    assert_int_equal(roar_cache_hash_put(f->cache, &key, ID_HELLO, 9), 0);
    roar_cache_free(f->cache);
    f->cache = NULL;
    open_cache(f);
    assert_int_equal(roar_cache_hash_get(f->cache, &key, id, NULL), 0);
    assert_string_equal(id, ID_HELLO);
}

/* ---- meta ------------------------------------------------------------------------ */

static void test_meta_get_set_delete(void **state)
{
    fixture *f = *state;
    roar_buf buf = ROAR_BUF_INIT;

    open_cache(f);
    assert_int_equal(roar_cache_meta_get(&buf, f->cache, "notes-indexed:refs/notes/roar"),
                     ROAR_ENOTFOUND);
    assert_int_equal(roar_cache_meta_set(f->cache, "notes-indexed:refs/notes/roar", ID_HELLO), 0);
    assert_int_equal(roar_cache_meta_get(&buf, f->cache, "notes-indexed:refs/notes/roar"), 0);
    assert_string_equal(buf.ptr, ID_HELLO);
    assert_int_equal(roar_cache_meta_set(f->cache, "notes-indexed:refs/notes/roar", ID_EMPTY), 0);
    assert_int_equal(roar_cache_meta_get(&buf, f->cache, "notes-indexed:refs/notes/roar"), 0);
    assert_string_equal(buf.ptr, ID_EMPTY);
    assert_int_equal(roar_cache_meta_set(f->cache, "notes-indexed:refs/notes/roar", NULL), 0);
    assert_int_equal(roar_cache_meta_get(&buf, f->cache, "notes-indexed:refs/notes/roar"),
                     ROAR_ENOTFOUND);
    roar_buf_dispose(&buf);
}

/* ---- jobs ------------------------------------------------------------------------ */

/* A distinct, valid 40-hex id derived from a name. */
static void id_of(char out[ROAR_OID_HEXSZ + 1], const char *name)
{
    assert_int_equal(roar_blob_id_of_buffer(out, name, strlen(name)), 0);
}

/* A job with the given times and exit code, its id derived from `name`. */
static void make_job(roar_job *job, const char *name, int64_t start_ms, int64_t end_ms,
                     int exit_code)
{
    const char *argv[] = {"python3", name};

    roar_job_init(job);
    id_of(job->id, name);
    assert_int_equal(roar_job_set_argv(job, argv, 2), 0);
    job->cwd = strdup(".");
    job->tracer = strdup("preload");
    job->start_ms = start_ms;
    job->end_ms = end_ms;
    job->end_kind = ROAR_END_EXIT;
    job->end_code = exit_code;
}

static void put(fixture *f, const roar_job *job)
{
    char record[128];
    snprintf(record, sizeof(record), "job %s\ncommand python3 ...\n", job->id);
    if (roar_cache_job_put(f->cache, job) < 0)
        fail_msg("put: %s", roar_error_last());
}

static void test_job_put_get_roundtrip(void **state)
{
    fixture *f = *state;
    const char *argv[] = {"sh", "-c", "echo 'a b'\n\tx", "\xff\xfe not utf-8", ""};
    roar_job job, got;
    char base[ROAR_OID_HEXSZ + 1];

    open_cache(f);
    roar_job_init(&job);
    roar_job_init(&got);
    id_of(job.id, "roundtrip");
    id_of(base, "some commit");
    assert_int_equal(roar_job_set_argv(&job, argv, 5), 0);
    job.cwd = strdup("sub dir/x");
    job.has_base = true;
    memcpy(job.base, base, sizeof(base));
    job.dirty = 1;
    job.tracer = strdup("ebpf");
    job.host = strdup("builder-7");
    job.user = NULL;
    job.start_ms = 1795780800123;
    job.end_ms = 1795780812468;
    job.end_kind = ROAR_END_SIGNAL;
    job.end_code = 15;
    assert_int_equal(roar_job_add_env(&job, "PYTHONHASHSEED", "0"), 0);
    assert_int_equal(roar_job_add_env(&job, "EMPTY", ""), 0);
    assert_int_equal(roar_job_add_extra(&job, "future-key", "some value"), 0);
    assert_int_equal(roar_job_add_edge(&job, ROAR_ROLE_IN, "data/train.csv", ID_HELLO, 6), 0);
    assert_int_equal(roar_job_add_edge(&job, ROAR_ROLE_IN, "weird\npath \"q\"", NULL, 77), 0);
    assert_int_equal(roar_job_add_edge(&job, ROAR_ROLE_OUT, "models/final model.pt", ID_EMPTY, 0),
                     0);
    assert_int_equal(roar_job_add_edge(&job, ROAR_ROLE_DEL, "scratch/old.tmp", NULL, 0), 0);
    assert_int_equal(roar_job_add_incomplete(&job, "events-lost", true, 12, NULL), 0);
    assert_int_equal(roar_job_add_incomplete(&job, "hash-unknown", false, 0, "big.bin"), 0);

    assert_int_equal(roar_cache_job_put(f->cache, &job), 0);
    assert_int_equal(roar_cache_job_get(&got, f->cache, job.id), 0);
    assert_true(roar_job_equal(&job, &got));
    assert_string_equal(got.argv[3], "\xff\xfe not utf-8");
    assert_string_equal(got.edges[1].path, "weird\npath \"q\"");
    assert_false(got.edges[1].id_known);
    assert_int_equal(got.edges[1].size, 77);
    assert_null(got.user);

    /* Reading into a used job replaces its contents. */
    assert_int_equal(roar_cache_job_get(&got, f->cache, job.id), 0);
    assert_true(roar_job_equal(&job, &got));

    roar_job_dispose(&job);
    roar_job_dispose(&got);
}

static void test_job_get_missing_and_invalid(void **state)
{
    fixture *f = *state;
    roar_job got;
    char id[ROAR_OID_HEXSZ + 1];

    open_cache(f);
    roar_job_init(&got);
    id_of(id, "never stored");
    assert_int_equal(roar_cache_job_get(&got, f->cache, id), ROAR_ENOTFOUND);
    assert_non_null(strstr(roar_error_last(), id));
    assert_int_equal(roar_cache_job_get(&got, f->cache, "abc"), ROAR_EINVALID);
    assert_int_equal(roar_cache_job_delete(f->cache, id), ROAR_ENOTFOUND);
    roar_job_dispose(&got);
}

static void test_job_put_is_idempotent(void **state)
{
    fixture *f = *state;
    roar_job job;
    roar_cache_jobinfo_list list = ROAR_CACHE_JOBINFO_LIST_INIT;
    roar_cache_edge_list edges = ROAR_CACHE_EDGE_LIST_INIT;

    open_cache(f);
    make_job(&job, "twice", 1000, 2000, 0);
    assert_int_equal(roar_job_add_edge(&job, ROAR_ROLE_OUT, "out.txt", ID_HELLO, 6), 0);
    put(f, &job);
    put(f, &job);
    assert_int_equal(roar_cache_job_list(&list, f->cache, NULL), 0);
    assert_int_equal(list.count, 1);
    assert_string_equal(list.items[0].id, job.id);
    assert_int_equal(roar_cache_path_edges(&edges, f->cache, "out.txt"), 0);
    assert_int_equal(edges.count, 1);
    assert_int_equal(roar_cache_producers(&edges, f->cache, ID_HELLO), 0);
    assert_int_equal(edges.count, 1);
    roar_cache_edge_list_dispose(&edges);
    roar_cache_jobinfo_list_dispose(&list);
    roar_job_dispose(&job);
}

static void test_job_put_rejects_bad_ids(void **state)
{
    fixture *f = *state;
    roar_job job;
    roar_cache_jobinfo_list list = ROAR_CACHE_JOBINFO_LIST_INIT;

    open_cache(f);
    make_job(&job, "bad", 1, 2, 0);
    job.id[0] = 'X';
    assert_int_equal(roar_cache_job_put(f->cache, &job), ROAR_EINVALID);
    id_of(job.id, "bad");
    assert_int_equal(roar_job_add_edge(&job, ROAR_ROLE_IN, "a", ID_HELLO, 6), 0);
    /* A bad blob id on a later edge rolls back the whole job, not just that edge. */
    assert_int_equal(roar_job_add_edge(&job, ROAR_ROLE_IN, "b", NULL, 6), 0);
    strcpy(job.edges[1].id, "zz"); /* the setter refuses it; a caller's bug could not */
    job.edges[1].id_known = true;
    assert_int_equal(roar_cache_job_put(f->cache, &job), ROAR_EINVALID);
    assert_int_equal(roar_cache_job_list(&list, f->cache, NULL), 0);
    assert_int_equal(list.count, 0);
    roar_cache_jobinfo_list_dispose(&list);
    roar_job_dispose(&job);
}

static void put_with_id(fixture *f, const char *id, int64_t end_ms)
{
    roar_job job;
    make_job(&job, "x", 0, end_ms, 0);
    memcpy(job.id, id, ROAR_OID_HEXSZ + 1);
    put(f, &job);
    roar_job_dispose(&job);
}

static void test_job_resolve_prefix(void **state)
{
    fixture *f = *state;
    const char *a = "abcd012345678901234567890123456789012345";
    const char *b = "abcd0f2345678901234567890123456789012345";
    const char *c = "abce000000000000000000000000000000000000";
    char out[ROAR_OID_HEXSZ + 1];

    open_cache(f);
    put_with_id(f, a, 1);
    put_with_id(f, b, 2);
    put_with_id(f, c, 3);

    assert_int_equal(roar_cache_job_resolve(out, f->cache, "abcd01"), 0);
    assert_string_equal(out, a);
    assert_int_equal(roar_cache_job_resolve(out, f->cache, "ABCD0F"), 0);
    assert_string_equal(out, b);
    assert_int_equal(roar_cache_job_resolve(out, f->cache, "abce"), 0);
    assert_string_equal(out, c);
    assert_int_equal(roar_cache_job_resolve(out, f->cache, a), 0);
    assert_string_equal(out, a);

    assert_int_equal(roar_cache_job_resolve(out, f->cache, "abcd"), ROAR_EAMBIGUOUS);
    assert_non_null(strstr(roar_error_last(), a));
    assert_non_null(strstr(roar_error_last(), b));
    assert_null(strstr(roar_error_last(), c));

    assert_int_equal(roar_cache_job_resolve(out, f->cache, "abcf"), ROAR_ENOTFOUND);
    assert_int_equal(roar_cache_job_resolve(out, f->cache, "abc"), ROAR_EINVALID);
    assert_int_equal(roar_cache_job_resolve(out, f->cache, "abcg"), ROAR_EINVALID);
    assert_int_equal(roar_cache_job_resolve(out, f->cache, "abcd%"), ROAR_EINVALID);
}

static void test_job_delete_removes_edges_and_attachments(void **state)
{
    fixture *f = *state;
    roar_job job;
    roar_cache_edge_list edges = ROAR_CACHE_EDGE_LIST_INIT;
    roar_cache_id_list ids = ROAR_CACHE_ID_LIST_INIT;
    char commit[ROAR_OID_HEXSZ + 1];

    open_cache(f);
    id_of(commit, "c1");
    make_job(&job, "doomed", 1, 2, 0);
    assert_int_equal(roar_job_add_edge(&job, ROAR_ROLE_OUT, "o", ID_HELLO, 6), 0);
    put(f, &job);
    assert_int_equal(roar_cache_attach(f->cache, job.id, commit), 0);
    assert_int_equal(roar_cache_pending_mark(f->cache, job.id, "/repo/.git"), 0);

    assert_int_equal(roar_cache_job_delete(f->cache, job.id), 0);
    assert_int_equal(roar_cache_producers(&edges, f->cache, ID_HELLO), 0);
    assert_int_equal(edges.count, 0);
    assert_int_equal(roar_cache_commit_jobs(&ids, f->cache, commit), 0);
    assert_int_equal(ids.count, 0);
    assert_int_equal(roar_cache_job_delete(f->cache, job.id), ROAR_ENOTFOUND);
    /* Put again after delete: a fresh row. */
    put(f, &job);
    assert_int_equal(roar_cache_producers(&edges, f->cache, ID_HELLO), 0);
    assert_int_equal(edges.count, 1);
    roar_cache_id_list_dispose(&ids);
    roar_cache_edge_list_dispose(&edges);
    roar_job_dispose(&job);
}

/* ---- attachments and pending -------------------------------------------------- */

static void test_attachments(void **state)
{
    fixture *f = *state;
    roar_job j1, j2;
    roar_cache_id_list ids = ROAR_CACHE_ID_LIST_INIT;
    char c1[ROAR_OID_HEXSZ + 1], c2[ROAR_OID_HEXSZ + 1], unknown[ROAR_OID_HEXSZ + 1];
    const char *lo, *hi;

    open_cache(f);
    id_of(c1, "commit one");
    id_of(c2, "commit two");
    id_of(unknown, "unknown job");
    lo = strcmp(c1, c2) < 0 ? c1 : c2;
    hi = lo == c1 ? c2 : c1;
    make_job(&j1, "j1", 10, 20, 0);
    make_job(&j2, "j2", 30, 40, 0);
    put(f, &j1);
    put(f, &j2);

    /* A job on two commits (amend, cherry-pick); attaching twice is harmless. */
    assert_int_equal(roar_cache_attach(f->cache, j1.id, c1), 0);
    assert_int_equal(roar_cache_attach(f->cache, j1.id, c2), 0);
    assert_int_equal(roar_cache_attach(f->cache, j1.id, c2), 0);
    assert_int_equal(roar_cache_attach(f->cache, j2.id, c2), 0);
    assert_int_equal(roar_cache_attachments(&ids, f->cache, j1.id), 0);
    assert_int_equal(ids.count, 2);
    assert_string_equal(ids.items[0], lo);
    assert_string_equal(ids.items[1], hi);

    assert_int_equal(roar_cache_commit_jobs(&ids, f->cache, c2), 0);
    assert_int_equal(ids.count, 2);
    assert_string_equal(ids.items[0], j2.id); /* newest first */
    assert_string_equal(ids.items[1], j1.id);
    assert_int_equal(roar_cache_commit_jobs(&ids, f->cache, c1), 0);
    assert_int_equal(ids.count, 1);
    assert_string_equal(ids.items[0], j1.id);

    assert_int_equal(roar_cache_detach(f->cache, j1.id, c2), 0);
    assert_int_equal(roar_cache_attachments(&ids, f->cache, j1.id), 0);
    assert_int_equal(ids.count, 1);
    assert_string_equal(ids.items[0], c1);
    assert_int_equal(roar_cache_detach(f->cache, j1.id, c2), ROAR_ENOTFOUND);

    assert_int_equal(roar_cache_attach(f->cache, unknown, c1), ROAR_ENOTFOUND);
    assert_int_equal(roar_cache_attach(f->cache, j1.id, "HEAD"), ROAR_EINVALID);
    assert_int_equal(roar_cache_attachments(&ids, f->cache, unknown), ROAR_ENOTFOUND);
    assert_int_equal(ids.count, 0);

    roar_cache_id_list_dispose(&ids);
    roar_job_dispose(&j1);
    roar_job_dispose(&j2);
}

static void test_pending_mark_list_unmark(void **state)
{
    fixture *f = *state;
    roar_job j1, j2, j3;
    roar_cache_jobinfo_list list = ROAR_CACHE_JOBINFO_LIST_INIT;
    roar_cache_list_opts opts = ROAR_CACHE_LIST_OPTS_INIT;

    open_cache(f);
    make_job(&j1, "p1", 10, 20, 0);
    make_job(&j2, "p2", 30, 40, 0);
    make_job(&j3, "p3", 50, 60, 0);
    put(f, &j1);
    put(f, &j2);
    put(f, &j3);
    assert_int_equal(roar_cache_pending_mark(f->cache, j1.id, "/repo/.git"), 0);
    assert_int_equal(roar_cache_pending_mark(f->cache, j2.id, "/repo/.git/worktrees/wt"), 0);

    opts.pending_only = true;
    assert_int_equal(roar_cache_job_list(&list, f->cache, &opts), 0);
    assert_int_equal(list.count, 2);
    assert_string_equal(list.items[0].id, j2.id);
    assert_string_equal(list.items[0].pending_worktree, "/repo/.git/worktrees/wt");
    assert_string_equal(list.items[1].id, j1.id);
    assert_string_equal(list.items[1].pending_worktree, "/repo/.git");

    opts.worktree = "/repo/.git";
    assert_int_equal(roar_cache_job_list(&list, f->cache, &opts), 0);
    assert_int_equal(list.count, 1);
    assert_string_equal(list.items[0].id, j1.id);

    /* Without the filter every job shows, with its pending state. */
    assert_int_equal(roar_cache_job_list(&list, f->cache, NULL), 0);
    assert_int_equal(list.count, 3);
    assert_string_equal(list.items[0].id, j3.id);
    assert_null(list.items[0].pending_worktree);
    assert_non_null(list.items[2].pending_worktree);

    assert_int_equal(roar_cache_pending_unmark(f->cache, j1.id), 0);
    assert_int_equal(roar_cache_pending_unmark(f->cache, j1.id), ROAR_ENOTFOUND);
    opts.worktree = NULL;
    assert_int_equal(roar_cache_job_list(&list, f->cache, &opts), 0);
    assert_int_equal(list.count, 1);
    assert_string_equal(list.items[0].id, j2.id);

    roar_cache_jobinfo_list_dispose(&list);
    roar_job_dispose(&j1);
    roar_job_dispose(&j2);
    roar_job_dispose(&j3);
}

/* ---- listing and lineage queries --------------------------------------------- */

static void test_job_list_order_limit_and_paths(void **state)
{
    fixture *f = *state;
    roar_job a, b, c, d;
    roar_cache_jobinfo_list list = ROAR_CACHE_JOBINFO_LIST_INIT;
    roar_cache_list_opts opts = ROAR_CACHE_LIST_OPTS_INIT;
    const char *data_dir[] = {"data/"};
    const char *two[] = {"data.csv", "model.pt"};

    open_cache(f);
    make_job(&a, "a", 100, 500, 0); /* ends last: newest */
    make_job(&b, "b", 200, 300, 0);
    make_job(&c, "c", 250, 300, 1); /* same end as b, started later: newer than b */
    make_job(&d, "d", 0, 50, 0);
    assert_int_equal(roar_job_add_edge(&a, ROAR_ROLE_IN, "data/raw/x.csv", ID_HELLO, 6), 0);
    assert_int_equal(roar_job_add_edge(&b, ROAR_ROLE_OUT, "data.csv", ID_EMPTY, 0), 0);
    assert_int_equal(roar_job_add_edge(&c, ROAR_ROLE_DEL, "data", NULL, 0), 0);
    assert_int_equal(roar_job_add_edge(&d, ROAR_ROLE_OUT, "data2/y", ID_HELLO, 6), 0);
    assert_int_equal(roar_job_add_edge(&d, ROAR_ROLE_OUT, "model.pt", ID_EMPTY, 0), 0);
    assert_int_equal(roar_job_add_incomplete(&c, "events-lost", true, 3, NULL), 0);
    put(f, &d);
    put(f, &c);
    put(f, &a);
    put(f, &b);

    assert_int_equal(roar_cache_job_list(&list, f->cache, NULL), 0);
    assert_int_equal(list.count, 4);
    assert_string_equal(list.items[0].id, a.id);
    assert_string_equal(list.items[1].id, c.id);
    assert_string_equal(list.items[2].id, b.id);
    assert_string_equal(list.items[3].id, d.id);
    assert_int_equal(list.items[0].start_ms, 100);
    assert_int_equal(list.items[0].end_ms, 500);
    assert_int_equal(list.items[1].end_code, 1);
    assert_int_equal(list.items[1].incomplete_count, 1);
    assert_int_equal(list.items[0].incomplete_count, 0);

    opts.limit = 2;
    assert_int_equal(roar_cache_job_list(&list, f->cache, &opts), 0);
    assert_int_equal(list.count, 2);
    assert_string_equal(list.items[0].id, a.id);
    assert_string_equal(list.items[1].id, c.id);

    /* A directory matches itself and what is below it, not data.csv or data2/. */
    opts.limit = 0;
    opts.paths = data_dir;
    opts.path_count = 1;
    assert_int_equal(roar_cache_job_list(&list, f->cache, &opts), 0);
    assert_int_equal(list.count, 2);
    assert_string_equal(list.items[0].id, a.id);
    assert_string_equal(list.items[1].id, c.id);

    /* The top of the work tree holds everything. */
    const char *top[] = {"model.pt", "."};
    opts.paths = top;
    opts.path_count = 2;
    assert_int_equal(roar_cache_job_list(&list, f->cache, &opts), 0);
    assert_int_equal(list.count, 4);

    opts.paths = two;
    opts.path_count = 2;
    assert_int_equal(roar_cache_job_list(&list, f->cache, &opts), 0);
    assert_int_equal(list.count, 2);
    assert_string_equal(list.items[0].id, b.id);
    assert_string_equal(list.items[1].id, d.id);

    roar_cache_jobinfo_list_dispose(&list);
    roar_job_dispose(&a);
    roar_job_dispose(&b);
    roar_job_dispose(&c);
    roar_job_dispose(&d);
}

static void test_producers_and_consumers(void **state)
{
    fixture *f = *state;
    roar_job prep, train, eval;
    roar_cache_edge_list edges = ROAR_CACHE_EDGE_LIST_INIT;
    char model[ROAR_OID_HEXSZ + 1], other[ROAR_OID_HEXSZ + 1];

    open_cache(f);
    id_of(model, "model bytes");
    id_of(other, "other bytes");
    make_job(&prep, "prepare", 0, 10, 0);
    make_job(&train, "train", 20, 30, 0);
    make_job(&eval, "evaluate", 40, 50, 0);
    assert_int_equal(roar_job_add_edge(&prep, ROAR_ROLE_OUT, "data/clean.csv", ID_HELLO, 6), 0);
    assert_int_equal(roar_job_add_edge(&train, ROAR_ROLE_IN, "data/clean.csv", ID_HELLO, 6), 0);
    assert_int_equal(roar_job_add_edge(&train, ROAR_ROLE_OUT, "model.pt", model, 1234), 0);
    assert_int_equal(roar_job_add_edge(&eval, ROAR_ROLE_IN, "model.pt", model, 1234), 0);
    /* The same content under another name is the same artifact. */
    assert_int_equal(roar_job_add_edge(&eval, ROAR_ROLE_IN, "copy.csv", ID_HELLO, 6), 0);
    put(f, &prep);
    put(f, &train);
    put(f, &eval);

    assert_int_equal(roar_cache_producers(&edges, f->cache, ID_HELLO), 0);
    assert_int_equal(edges.count, 1);
    assert_string_equal(edges.items[0].job_id, prep.id);
    assert_string_equal(edges.items[0].path, "data/clean.csv");
    assert_int_equal(edges.items[0].role, ROAR_ROLE_OUT);
    assert_true(edges.items[0].id_known);
    assert_string_equal(edges.items[0].id, ID_HELLO);
    assert_int_equal(edges.items[0].size, 6);
    assert_int_equal(edges.items[0].end_ms, 10);

    assert_int_equal(roar_cache_consumers(&edges, f->cache, ID_HELLO), 0);
    assert_int_equal(edges.count, 2);
    assert_string_equal(edges.items[0].job_id, eval.id);
    assert_string_equal(edges.items[0].path, "copy.csv");
    assert_string_equal(edges.items[1].job_id, train.id);
    assert_string_equal(edges.items[1].path, "data/clean.csv");

    assert_int_equal(roar_cache_producers(&edges, f->cache, model), 0);
    assert_int_equal(edges.count, 1);
    assert_string_equal(edges.items[0].job_id, train.id);
    assert_int_equal(edges.items[0].size, 1234);
    assert_int_equal(roar_cache_consumers(&edges, f->cache, model), 0);
    assert_int_equal(edges.count, 1);
    assert_string_equal(edges.items[0].job_id, eval.id);

    assert_int_equal(roar_cache_producers(&edges, f->cache, other), 0);
    assert_int_equal(edges.count, 0);
    assert_int_equal(roar_cache_consumers(&edges, f->cache, "nope"), ROAR_EINVALID);

    roar_cache_edge_list_dispose(&edges);
    roar_job_dispose(&prep);
    roar_job_dispose(&train);
    roar_job_dispose(&eval);
}

static void test_path_edges_and_latest_writer(void **state)
{
    fixture *f = *state;
    roar_job w1, w2, failed, reader, deleter;
    roar_cache_edge_list edges = ROAR_CACHE_EDGE_LIST_INIT;
    roar_cache_edge latest;

    open_cache(f);
    make_job(&w1, "w1", 0, 10, 0);
    make_job(&w2, "w2", 20, 30, 0);
    make_job(&reader, "reader", 40, 50, 0);
    make_job(&failed, "failed", 60, 70, 2);
    make_job(&deleter, "deleter", 80, 90, 0);
    assert_int_equal(roar_job_add_edge(&w1, ROAR_ROLE_OUT, "out.bin", ID_EMPTY, 0), 0);
    assert_int_equal(roar_job_add_edge(&w2, ROAR_ROLE_OUT, "out.bin", ID_HELLO, 6), 0);
    assert_int_equal(roar_job_add_edge(&reader, ROAR_ROLE_IN, "out.bin", ID_HELLO, 6), 0);
    assert_int_equal(roar_job_add_edge(&failed, ROAR_ROLE_OUT, "out.bin", NULL, 3), 0);
    assert_int_equal(roar_job_add_edge(&deleter, ROAR_ROLE_DEL, "out.bin", NULL, 0), 0);
    assert_int_equal(roar_job_add_edge(&deleter, ROAR_ROLE_OUT, "out.bin.bak", ID_HELLO, 6), 0);
    put(f, &w1);
    put(f, &w2);
    put(f, &reader);
    put(f, &failed);
    put(f, &deleter);

    assert_int_equal(roar_cache_path_edges(&edges, f->cache, "out.bin"), 0);
    assert_int_equal(edges.count, 5);
    assert_string_equal(edges.items[0].job_id, deleter.id);
    assert_int_equal(edges.items[0].role, ROAR_ROLE_DEL);
    assert_false(edges.items[0].id_known);
    assert_string_equal(edges.items[1].job_id, failed.id);
    assert_int_equal(edges.items[1].role, ROAR_ROLE_OUT);
    assert_false(edges.items[1].id_known);
    assert_int_equal(edges.items[1].size, 3);
    assert_int_equal(edges.items[1].end_code, 2);
    assert_string_equal(edges.items[2].job_id, reader.id);
    assert_int_equal(edges.items[2].role, ROAR_ROLE_IN);
    assert_string_equal(edges.items[3].job_id, w2.id);
    assert_string_equal(edges.items[4].job_id, w1.id);

    assert_int_equal(roar_cache_path_latest_writer(&latest, f->cache, "out.bin", false), 0);
    assert_string_equal(latest.job_id, failed.id);
    assert_string_equal(latest.path, "out.bin");
    roar_cache_edge_dispose(&latest);
    assert_int_equal(roar_cache_path_latest_writer(&latest, f->cache, "out.bin", true), 0);
    assert_string_equal(latest.job_id, w2.id);
    assert_string_equal(latest.id, ID_HELLO);
    roar_cache_edge_dispose(&latest);
    assert_int_equal(roar_cache_path_latest_writer(&latest, f->cache, "never.txt", false),
                     ROAR_ENOTFOUND);
    assert_null(latest.path);

    roar_cache_edge_list_dispose(&edges);
    roar_job_dispose(&w1);
    roar_job_dispose(&w2);
    roar_job_dispose(&reader);
    roar_job_dispose(&failed);
    roar_job_dispose(&deleter);
}

/* ---- transactions --------------------------------------------------------------- */

static void test_batch_transaction_keeps_good_jobs(void **state)
{
    fixture *f = *state;
    roar_job good, bad, later;
    roar_cache *other = NULL;
    roar_cache_jobinfo_list list = ROAR_CACHE_JOBINFO_LIST_INIT;

    open_cache(f);
    make_job(&good, "good", 0, 1, 0);
    make_job(&bad, "bad", 0, 2, 0);
    make_job(&later, "later", 0, 3, 0);
    assert_int_equal(roar_job_add_edge(&bad, ROAR_ROLE_IN, "b", NULL, 1), 0);
    strcpy(bad.edges[0].id, "not hex");
    bad.edges[0].id_known = true;

    assert_int_equal(roar_cache_begin(f->cache), 0);
    put(f, &good);
    assert_int_equal(roar_cache_job_put(f->cache, &bad), ROAR_EINVALID);
    assert_int_equal(roar_cache_commit(f->cache), 0);
    assert_int_equal(roar_cache_job_list(&list, f->cache, NULL), 0);
    assert_int_equal(list.count, 1);
    assert_string_equal(list.items[0].id, good.id);

    /* A rolled-back batch leaves nothing behind. */
    assert_int_equal(roar_cache_begin(f->cache), 0);
    put(f, &later);
    roar_cache_rollback(f->cache);
    assert_int_equal(roar_cache_job_list(&list, f->cache, NULL), 0);
    assert_int_equal(list.count, 1);

    /* Batches nest: only the outer commit makes the rows visible to others. */
    assert_int_equal(roar_cache_open(&other, f->path), 0);
    assert_int_equal(roar_cache_begin(f->cache), 0);
    assert_int_equal(roar_cache_begin(f->cache), 0);
    put(f, &later);
    assert_int_equal(roar_cache_commit(f->cache), 0);
    assert_int_equal(roar_cache_job_list(&list, other, NULL), 0);
    assert_int_equal(list.count, 1);
    assert_int_equal(roar_cache_commit(f->cache), 0);
    assert_int_equal(roar_cache_job_list(&list, other, NULL), 0);
    assert_int_equal(list.count, 2);
    roar_cache_free(other);
    assert_int_equal(roar_cache_commit(f->cache), ROAR_ERROR);

    roar_cache_jobinfo_list_dispose(&list);
    roar_job_dispose(&good);
    roar_job_dispose(&bad);
    roar_job_dispose(&later);
}

/* Damaged pages behind a valid header: the calls fail with the corrupt message naming
 * the path, and nothing crashes. */
static void test_corrupt_pages_give_clear_error(void **state)
{
    fixture *f = *state;
    roar_cache_jobinfo_list list = ROAR_CACHE_JOBINFO_LIST_INIT;
    roar_cache_edge_list edges = ROAR_CACHE_EDGE_LIST_INIT;
    struct stat st;
    char junk[4096];
    int fd, error;

    open_cache(f);
    assert_int_equal(roar_cache_begin(f->cache), 0);
    for (int i = 0; i < 200; i++) {
        roar_job job;
        char name[32];
        snprintf(name, sizeof(name), "job %d", i);
        make_job(&job, name, i, i + 1, 0);
        assert_int_equal(roar_job_add_edge(&job, ROAR_ROLE_OUT, name, ID_HELLO, 6), 0);
        put(f, &job);
        roar_job_dispose(&job);
    }
    assert_int_equal(roar_cache_commit(f->cache), 0);
    roar_cache_free(f->cache);
    f->cache = NULL;
    { /* a plain connection's last close checkpoints the WAL into the file */
        sqlite3 *db;
        assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL),
                         SQLITE_OK);
        assert_int_equal(sqlite3_close(db), SQLITE_OK);
    }

    /* Keep page 1 (header and schema), scribble over every page after it. */
    assert_int_equal(stat(f->path, &st), 0);
    assert_true(st.st_size > 8 * 4096);
    memset(junk, 0xa5, sizeof(junk));
    fd = open(f->path, O_WRONLY);
    assert_true(fd >= 0);
    for (off_t off = 4096; off < st.st_size; off += (off_t)sizeof(junk))
        assert_int_equal(pwrite(fd, junk, sizeof(junk), off), (ssize_t)sizeof(junk));
    assert_int_equal(close(fd), 0);

    error = roar_cache_open(&f->cache, f->path);
    if (error == 0) {
        error = roar_cache_job_list(&list, f->cache, NULL);
        if (error == 0)
            error = roar_cache_producers(&edges, f->cache, ID_HELLO);
    }
    assert_int_equal(error, ROAR_EINVALID);
    assert_non_null(strstr(roar_error_last(), f->path));
    assert_non_null(strstr(roar_error_last(), "corrupt"));
    roar_cache_jobinfo_list_dispose(&list);
    roar_cache_edge_list_dispose(&edges);
}

/* A close leaves a small WAL for the next process (no checkpoint, no fdatasync), and
 * checkpoints and removes one that has grown, so it never grows without bound. */
static void test_close_checkpoints_only_a_grown_wal(void **state)
{
    fixture *f = *state;
    char wal[4096];
    struct stat st;
    int n = 0;

    snprintf(wal, sizeof(wal), "%s-wal", f->path);
    open_cache(f);
    {
        roar_job job;
        make_job(&job, "small", 1, 2, 0);
        put(f, &job);
        roar_job_dispose(&job);
    }
    roar_cache_free(f->cache);
    f->cache = NULL;
    assert_int_equal(stat(wal, &st), 0);
    assert_true(st.st_size > 0 && st.st_size < 512 * 1024);

    /* One job per commit, reopening as `git roar run` does, until the WAL is large. */
    while (stat(wal, &st) == 0 && st.st_size < 512 * 1024) {
        roar_job job;
        char name[32];
        snprintf(name, sizeof(name), "job %d", n++);
        assert_true(n < 100000);
        open_cache(f);
        make_job(&job, name, n, n + 1, 0);
        put(f, &job);
        roar_job_dispose(&job);
        roar_cache_free(f->cache);
        f->cache = NULL;
    }
    assert_true(n > 1);
    assert_int_equal(stat(wal, &st), -1); /* the close that found it grown removed it */
    open_cache(f);
    {
        roar_cache_jobinfo_list list = ROAR_CACHE_JOBINFO_LIST_INIT;
        assert_int_equal(roar_cache_job_list(&list, f->cache, NULL), 0);
        assert_int_equal(list.count, n + 1);
        roar_cache_jobinfo_list_dispose(&list);
    }
}

/* ---- concurrency ------------------------------------------------------------------ */

#define WRITERS 8
#define JOBS_PER_WRITER 50

/* Runs in a forked child: no cmocka asserts here, only an exit status. */
static int writer_main(const char *path, int w)
{
    roar_cache *cache = NULL;
    char name[64], record[64];
    int status = 0;

    if (roar_cache_open(&cache, path) < 0) {
        fprintf(stderr, "writer %d: open: %s\n", w, roar_error_last());
        return 1;
    }
    for (int i = 0; i < JOBS_PER_WRITER && !status; i++) {
        roar_job job;
        const char *argv[] = {"worker", name};

        snprintf(name, sizeof(name), "writer %d job %d", w, i);
        roar_job_init(&job);
        roar_blob_id_of_buffer(job.id, name, strlen(name));
        roar_job_set_argv(&job, argv, 2);
        job.start_ms = i;
        job.end_ms = i + 1;
        roar_job_add_edge(&job, ROAR_ROLE_OUT, name, ID_HELLO, 6);
        snprintf(record, sizeof(record), "job %s\n", job.id);
        if (roar_cache_job_put(cache, &job) < 0) {
            fprintf(stderr, "writer %d: put %d: %s\n", w, i, roar_error_last());
            status = 1;
        }
        roar_job_dispose(&job);
    }
    roar_cache_free(cache);
    return status;
}

static void test_concurrent_writers_lose_nothing(void **state)
{
    fixture *f = *state;
    pid_t pids[WRITERS];
    roar_cache_jobinfo_list list = ROAR_CACHE_JOBINFO_LIST_INIT;
    roar_cache_edge_list edges = ROAR_CACHE_EDGE_LIST_INIT;

    /* The children also race to create the file and its schema. */
    for (int w = 0; w < WRITERS; w++) {
        pids[w] = fork();
        assert_true(pids[w] >= 0);
        if (pids[w] == 0)
            _exit(writer_main(f->path, w));
    }
    for (int w = 0; w < WRITERS; w++) {
        int status;
        assert_int_equal(waitpid(pids[w], &status, 0), pids[w]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }

    open_cache(f);
    assert_int_equal(roar_cache_job_list(&list, f->cache, NULL), 0);
    assert_int_equal(list.count, WRITERS * JOBS_PER_WRITER);
    assert_int_equal(roar_cache_producers(&edges, f->cache, ID_HELLO), 0);
    assert_int_equal(edges.count, WRITERS * JOBS_PER_WRITER);
    for (int w = 0; w < WRITERS; w++) {
        for (int i = 0; i < JOBS_PER_WRITER; i++) {
            char name[64], id[ROAR_OID_HEXSZ + 1];
            roar_job got;
            snprintf(name, sizeof(name), "writer %d job %d", w, i);
            id_of(id, name);
            roar_job_init(&got);
            assert_int_equal(roar_cache_job_get(&got, f->cache, id), 0);
            assert_string_equal(got.argv[1], name);
            roar_job_dispose(&got);
        }
    }
    roar_cache_edge_list_dispose(&edges);
    roar_cache_jobinfo_list_dispose(&list);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_creates_wal_db_with_schema_version, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_open_refuses_newer_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_refuses_garbage_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_missing_directory_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_pages_give_clear_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_checkpoints_only_a_grown_wal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hash_cache_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hash_cache_survives_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_meta_get_set_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_job_put_get_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_job_get_missing_and_invalid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_job_put_is_idempotent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_job_put_rejects_bad_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_job_resolve_prefix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_job_delete_removes_edges_and_attachments, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_attachments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pending_mark_list_unmark, setup, teardown),
        cmocka_unit_test_setup_teardown(test_job_list_order_limit_and_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_producers_and_consumers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_path_edges_and_latest_writer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_transaction_keeps_good_jobs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_writers_lose_nothing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
