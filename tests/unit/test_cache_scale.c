/* Unit tests of the cache's team-scale pieces (issue 15): the kept reachable set
 * (cache_reach.c), the bulk load (indexes dropped and rebuilt, a rollback restoring
 * them), the read snapshot that refuses writes, and listings read in pages. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "graph/cache.h"
#include "graph/cache_reach.h"
#include "graph/oid.h"
#include "testutil.h"
#include "util/err.h"

typedef struct {
    char root[PATH_MAX];
    char path[PATH_MAX + 16];
    roar_cache *cache;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    if (!f || roar_test_git_sandbox(f->root, "cache-scale") < 0)
        return -1;
    roar_test_fmt_path(f->path, sizeof(f->path), "%s/cache.db", f->root);
    if (roar_cache_open(&f->cache, f->path) < 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    roar_cache_free(f->cache);
    roar_test_sh("rm -rf '%s'", f->root);
    free(f);
    return 0;
}

static void id_of(char out[ROAR_OID_HEXSZ + 1], const char *fmt, int n)
{
    char name[64];
    snprintf(name, sizeof(name), fmt, n);
    assert_int_equal(roar_blob_id_of_buffer(out, name, strlen(name)), 0);
}

/* Job `n`: ends at n seconds (two jobs share each end, so pages split ties), writes
 * out/<n>. */
static void put_job(roar_cache *cache, int n)
{
    const char *argv[] = {"true"};
    char blob[ROAR_OID_HEXSZ + 1], path[32];
    roar_job job;

    roar_job_init(&job);
    id_of(job.id, "job %d", n);
    assert_int_equal(roar_job_set_argv(&job, argv, 1), 0);
    job.cwd = strdup(".");
    job.start_ms = 1000LL * n;
    job.end_ms = 1000LL * (n / 2) + 500000;
    id_of(blob, "content %d", n);
    snprintf(path, sizeof(path), "out/%d", n);
    assert_int_equal(roar_job_add_edge(&job, ROAR_ROLE_OUT, path, blob, 3), 0);
    assert_int_equal(roar_cache_job_put(cache, &job), 0);
    roar_job_dispose(&job);
}

static int index_count(const char *path)
{
    sqlite3 *db;
    sqlite3_stmt *stmt;
    int n = -1;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT count(*) FROM sqlite_schema WHERE type = 'index' "
                                        "AND sql IS NOT NULL",
                                        -1, &stmt, NULL),
                     SQLITE_OK);
    if (sqlite3_step(stmt) == SQLITE_ROW)
        n = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return n;
}

static void test_reach_set_keeps_its_tip(void **state)
{
    fixture *f = *state;
    char a[ROAR_OID_HEXSZ + 1], b[ROAR_OID_HEXSZ + 1], tip[ROAR_OID_HEXSZ + 1];
    bool has;

    id_of(a, "commit %d", 1);
    id_of(b, "commit %d", 2);
    assert_int_equal(roar_cache_reach_tip(tip, f->cache), ROAR_ENOTFOUND);
    assert_int_equal(roar_cache_begin(f->cache), 0);
    assert_int_equal(roar_cache_reach_add(f->cache, a), 0);
    assert_int_equal(roar_cache_reach_add(f->cache, a), 0); /* twice: not an error */
    assert_int_equal(roar_cache_reach_set_tip(f->cache, a), 0);
    assert_int_equal(roar_cache_commit(f->cache), 0);
    assert_int_equal(roar_cache_reach_tip(tip, f->cache), 0);
    assert_string_equal(tip, a);
    assert_int_equal(roar_cache_reach_has(&has, f->cache, a), 0);
    assert_true(has);
    assert_int_equal(roar_cache_reach_has(&has, f->cache, b), 0);
    assert_false(has);
    assert_int_equal(roar_cache_reach_has(&has, f->cache, "not an id"), 0);
    assert_false(has);
    /* A rebuild that fails half-way leaves the old set and tip. */
    assert_int_equal(roar_cache_begin(f->cache), 0);
    assert_int_equal(roar_cache_reach_reset(f->cache), 0);
    assert_int_equal(roar_cache_reach_add(f->cache, b), 0);
    roar_cache_rollback(f->cache);
    assert_int_equal(roar_cache_reach_tip(tip, f->cache), 0);
    assert_string_equal(tip, a);
    assert_int_equal(roar_cache_reach_has(&has, f->cache, b), 0);
    assert_false(has);
    assert_int_equal(roar_cache_reach_set_tip(f->cache, "zz"), ROAR_EINVALID);
    /* Asked with its tip, the set answers; asked for another tip's set, it says it is
     * not that set (ROAR_ENOTFOUND), whatever the commit. */
    assert_int_equal(roar_cache_reach_has_at(&has, f->cache, a, a), 0);
    assert_true(has);
    assert_int_equal(roar_cache_reach_has_at(&has, f->cache, a, b), 0);
    assert_false(has);
    assert_int_equal(roar_cache_reach_has_at(&has, f->cache, b, a), ROAR_ENOTFOUND);
    assert_false(has);
    roar_error_clear();
    assert_int_equal(roar_cache_reach_reset(f->cache), 0);
    assert_int_equal(roar_cache_reach_has_at(&has, f->cache, a, a), ROAR_ENOTFOUND);
    roar_error_clear();
}

static void test_bulk_load_rebuilds_or_restores_indexes(void **state)
{
    fixture *f = *state;
    roar_cache_jobinfo_list list = ROAR_CACHE_JOBINFO_LIST_INIT;
    roar_cache_edge_list edges = ROAR_CACHE_EDGE_LIST_INIT;
    char blob[ROAR_OID_HEXSZ + 1];
    int indexes = index_count(f->path);
    bool has;

    assert_true(indexes >= 4);
    put_job(f->cache, 1);
    /* A rollback brings back the jobs it cleared and the indexes it dropped. */
    assert_int_equal(roar_cache_begin_bulk(f->cache, true), 0);
    assert_int_equal(roar_cache_has_jobs(&has, f->cache), 0);
    assert_false(has);
    assert_int_equal(roar_cache_begin_bulk(f->cache, false), ROAR_ERROR); /* no nesting */
    roar_cache_rollback(f->cache);
    assert_int_equal(index_count(f->path), indexes);
    assert_int_equal(roar_cache_has_jobs(&has, f->cache), 0);
    assert_true(has);
    /* A commit rebuilds them, and queries that ride on them answer. */
    assert_int_equal(roar_cache_begin_bulk(f->cache, true), 0);
    for (int n = 2; n <= 40; n++)
        put_job(f->cache, n);
    assert_int_equal(roar_cache_commit(f->cache), 0);
    assert_int_equal(index_count(f->path), indexes);
    assert_int_equal(roar_cache_job_list(&list, f->cache, NULL), 0);
    assert_int_equal(list.count, 39);
    id_of(blob, "content %d", 7);
    assert_int_equal(roar_cache_producers(&edges, f->cache, blob), 0);
    assert_int_equal(edges.count, 1);
    assert_string_equal(edges.items[0].path, "out/7");
    /* Foreign keys are back on: a job deleted outside a bulk load takes its rows. */
    assert_int_equal(roar_cache_job_delete(f->cache, list.items[0].id), 0);
    assert_int_equal(roar_cache_job_list(&list, f->cache, NULL), 0);
    assert_int_equal(list.count, 38);
    roar_cache_jobinfo_list_dispose(&list);
    roar_cache_edge_list_dispose(&edges);
}

/* A bulk load stores each blob's artifact row once, however many edges name it; a unit
 * of it that fails (an attachment to a job it does not have) fails the whole load, and
 * the rollback leaves the cache as it was. */
static void test_bulk_load_shares_artifacts_and_fails_whole(void **state)
{
    fixture *f = *state;
    roar_cache_blob found[4];
    char blob[ROAR_OID_HEXSZ + 1], ghost[ROAR_OID_HEXSZ + 1], commit[ROAR_OID_HEXSZ + 1];
    size_t count;
    bool has;

    id_of(blob, "content %d", 5);
    id_of(ghost, "job %d", 99);
    id_of(commit, "commit %d", 1);
    assert_int_equal(roar_cache_begin_bulk(f->cache, true), 0);
    put_job(f->cache, 5);
    put_job(f->cache, 6);
    assert_int_equal(roar_cache_attach(f->cache, ghost, commit), ROAR_ENOTFOUND);
    roar_error_clear();
    put_job(f->cache, 7);
    assert_int_equal(roar_cache_commit(f->cache), ROAR_ERROR);
    assert_non_null(strstr(roar_error_last(), "bulk load failed"));
    roar_error_clear();
    roar_cache_rollback(f->cache);
    assert_int_equal(roar_cache_has_jobs(&has, f->cache), 0);
    assert_false(has);

    /* Again, whole: the blob that three edges name is one artifact row. */
    assert_int_equal(roar_cache_begin_bulk(f->cache, true), 0);
    for (int n = 1; n <= 3; n++) {
        const char *argv[] = {"cat"};
        char path[16];
        roar_job job;
        roar_job_init(&job);
        id_of(job.id, "reader %d", n);
        assert_int_equal(roar_job_set_argv(&job, argv, 1), 0);
        job.cwd = strdup(".");
        job.start_ms = job.end_ms = 1000LL * n;
        snprintf(path, sizeof(path), "in/%d", n);
        assert_int_equal(roar_job_add_edge(&job, ROAR_ROLE_IN, path, blob, 3), 0);
        assert_int_equal(roar_cache_job_put(f->cache, &job), 0);
        roar_job_dispose(&job);
    }
    put_job(f->cache, 5);
    assert_int_equal(roar_cache_commit(f->cache), 0);
    assert_int_equal(roar_cache_blob_resolve(found, &count, 4, f->cache, blob), 0);
    assert_int_equal(count, 1);
    assert_string_equal(found[0].id, blob);
    assert_int_equal(found[0].size, 3);
    /* The next bulk load starts from nothing it remembers: the cleared table gets the
     * row again. */
    assert_int_equal(roar_cache_begin_bulk(f->cache, true), 0);
    put_job(f->cache, 5);
    assert_int_equal(roar_cache_commit(f->cache), 0);
    assert_int_equal(roar_cache_blob_resolve(found, &count, 4, f->cache, blob), 0);
    assert_int_equal(count, 1);
}

static void test_read_snapshot_refuses_writes(void **state)
{
    fixture *f = *state;
    char a[ROAR_OID_HEXSZ + 1];

    id_of(a, "commit %d", 1);
    assert_int_equal(roar_cache_read_begin(f->cache), 0);
    assert_int_equal(roar_cache_reach_reset(f->cache), ROAR_ERROR);
    assert_non_null(strstr(roar_error_last(), "read snapshot"));
    roar_cache_read_end(f->cache);
    assert_int_equal(roar_cache_reach_reset(f->cache), 0);
    /* Inside a write transaction it opens nothing of its own, and ends nothing. */
    assert_int_equal(roar_cache_begin(f->cache), 0);
    assert_int_equal(roar_cache_read_begin(f->cache), 0);
    roar_cache_read_end(f->cache);
    assert_int_equal(roar_cache_reach_add(f->cache, a), 0);
    assert_int_equal(roar_cache_commit(f->cache), 0);
}

static void test_listing_in_pages_is_the_whole_listing(void **state)
{
    fixture *f = *state;
    roar_cache_jobinfo_list all = ROAR_CACHE_JOBINFO_LIST_INIT, page = ROAR_CACHE_JOBINFO_LIST_INIT;
    roar_cache_list_opts opts = ROAR_CACHE_LIST_OPTS_INIT;
    roar_cache_jobinfo last;
    size_t seen = 0;

    for (int n = 1; n <= 50; n++)
        put_job(f->cache, n);
    assert_int_equal(roar_cache_job_list(&all, f->cache, NULL), 0);
    assert_int_equal(all.count, 50);
    opts.limit = 7;
    for (;;) {
        assert_int_equal(roar_cache_job_list(&page, f->cache, &opts), 0);
        for (size_t i = 0; i < page.count; i++)
            assert_string_equal(page.items[i].id, all.items[seen + i].id);
        seen += page.count;
        if (page.count < opts.limit)
            break;
        last = page.items[page.count - 1];
        last.pending_worktree = NULL;
        opts.after = &last;
    }
    assert_int_equal(seen, 50);
    roar_cache_jobinfo_list_dispose(&all);
    roar_cache_jobinfo_list_dispose(&page);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reach_set_keeps_its_tip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bulk_load_rebuilds_or_restores_indexes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bulk_load_shares_artifacts_and_fails_whole, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_read_snapshot_refuses_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_listing_in_pages_is_the_whole_listing, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
