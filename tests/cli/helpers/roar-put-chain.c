/* Test helper for the deep-lineage tests: a chain of N real jobs in the cache, as a file
 * that every run updates builds it (job i reads f_i and writes f_{i+1}), fast enough for
 * a million jobs: one transaction, records through the record codec as roar-put-job.
 *
 * usage: roar-put-chain [--in-place | --ends-only] N COMMIT [DIR]
 * Writes DIR/f_0 .. DIR/f_N (default DIR: chain; content "<i>\n") in the work tree,
 * stores jobs 0..N-1 (`step i`, one second apart from 2026-01-01T00:00:00Z, exit 0,
 * `in <id> <size> DIR/f_i`, `out <id> <size> DIR/f_{i+1}`) in <roar dir>/cache.db,
 * attaches each to COMMIT (40 hex), and prints the last job's id.
 * --in-place: one file DIR/f that every job updates (job i reads content i and writes
 * content i+1 at DIR/f), as a log or a counter that each run appends to; only DIR/f is
 * written, holding the last content.
 * --ends-only: writes only DIR/f_0 and DIR/f_N (creating 10^5 files can take longer
 * than everything the test then asks). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <git2.h>

#include "gitstore/repo.h"
#include "graph/cache.h"
#include "graph/cache_internal.h" /* roar_cache__exec: a bigger page cache, see below */
#include "graph/oid.h"
#include "graph/record.h"
#include "util/err.h"
#include "util/timefmt.h"

#define START_MS INT64_C(1767225600000) /* 2026-01-01T00:00:00.000Z */

static int fail(const char *what)
{
    fprintf(stderr, "roar-put-chain: %s: %s\n", what, roar_error_last());
    return 1;
}

/* The content of f_i, and its blob id. */
static int content(roar_buf *data, char id[ROAR_OID_HEXSZ + 1], unsigned long i)
{
    roar_buf_clear(data);
    if (roar_buf_printf(data, "%lu\n", i) < 0)
        return -1;
    return roar_blob_id_of_buffer(id, data->ptr, data->size);
}

static int write_file(const char *path, const roar_buf *data)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data->ptr, 1, data->size, f) != data->size || fclose(f) != 0)
        return roar_error_set(ROAR_ERROR, "cannot write '%s': %s", path, strerror(errno));
    return 0;
}

int main(int argc, char **argv)
{
    roar_buf body = ROAR_BUF_INIT, record = ROAR_BUF_INIT, text = ROAR_BUF_INIT, db = ROAR_BUF_INIT,
             data = ROAR_BUF_INIT, path = ROAR_BUF_INIT, prev = ROAR_BUF_INIT;
    char id[ROAR_OID_HEXSZ + 1], in_id[ROAR_OID_HEXSZ + 1], out_id[ROAR_OID_HEXSZ + 1];
    char last[ROAR_OID_HEXSZ + 1] = "";
    bool in_place = argc > 1 && !strcmp(argv[1], "--in-place");
    bool ends_only = argc > 1 && !strcmp(argv[1], "--ends-only");
    const char *dir, *commit;
    roar_repo *repo = NULL;
    roar_cache *cache = NULL;
    unsigned long n, i;
    size_t in_size;
    int status = 1;

    argv += in_place || ends_only;
    argc -= in_place || ends_only;
    dir = argc > 3 ? argv[3] : "chain";
    commit = argc > 2 ? argv[2] : "";
    if (argc < 3 || argc > 4 || !(n = strtoul(argv[1], NULL, 10)) || strlen(commit) != 40) {
        fprintf(stderr, "usage: roar-put-chain [--in-place | --ends-only] N COMMIT [DIR]\n");
        return 1;
    }
    git_libgit2_init();
    if (mkdir(dir, 0777) < 0 && errno != EEXIST) {
        fprintf(stderr, "roar-put-chain: cannot create '%s': %s\n", dir, strerror(errno));
        goto out;
    }
    if (roar_repo_open(&repo, NULL) < 0 || roar_repo_ensure_roar_dir(repo) < 0 ||
        roar_buf_printf(&db, "%s/cache.db", roar_repo_roar_dir(repo)) < 0 ||
        roar_cache_open(&cache, db.ptr) < 0 ||
        /* One transaction this big spills SQLite's 2 MB page cache to the WAL page by
         * page (half of the run's time at 10^5 jobs): hold it in memory instead. */
        roar_cache__exec(cache, "PRAGMA cache_size = -1000000") < 0 ||
        roar_cache__exec(cache, "PRAGMA temp_store = MEMORY") < 0 || roar_cache_begin(cache) < 0) {
        status = fail("opening the cache");
        goto out;
    }
    if (content(&data, in_id, 0) < 0 ||
        roar_buf_printf(&path, in_place ? "%s/f" : "%s/f_0", dir) < 0 ||
        (!in_place && write_file(path.ptr, &data) < 0)) {
        status = fail("writing f_0");
        goto rollback;
    }
    if (roar_buf_put(&prev, path.ptr, path.size) < 0) {
        status = fail("out of memory");
        goto rollback;
    }
    for (i = 0; i < n; i++) {
        roar_job job;
        int error;

        in_size = data.size;
        roar_buf_clear(&path);
        if (content(&data, out_id, i + 1) < 0 ||
            (in_place ? roar_buf_printf(&path, "%s/f", dir)
                      : roar_buf_printf(&path, "%s/f_%lu", dir, i + 1)) < 0 ||
            ((!(in_place || ends_only) || i + 1 == n) && write_file(path.ptr, &data) < 0)) {
            status = fail("writing a file");
            goto rollback;
        }
        roar_buf_clear(&body);
        roar_buf_clear(&record);
        roar_buf_clear(&text);
        error =
            roar_buf_printf(&body, "command step %lu\ncwd .\ndirty 0\ntracer preload\nstart ", i);
        if (!error)
            error = roar_time_format(&body, START_MS + (int64_t)i * 1000);
        if (!error)
            error = roar_buf_puts(&body, "\nend ");
        if (!error)
            error = roar_time_format(&body, START_MS + (int64_t)i * 1000 + 500);
        if (!error)
            error = roar_buf_printf(&body, "\nexit 0\nin %s %zu %s\nout %s %zu %s\n", in_id,
                                    in_size, prev.ptr, out_id, data.size, path.ptr);
        if (!error)
            error = roar_blob_id_of_buffer(id, body.ptr, body.size);
        if (!error)
            error = roar_buf_printf(&record, "job %s\n", id);
        if (!error)
            error = roar_buf_put(&record, body.ptr, body.size);
        roar_job_init(&job);
        if (!error)
            error = roar_record_parse(&job, record.ptr, record.size);
        if (!error)
            error = roar_record_serialize(&text, &job);
        if (!error)
            error = roar_cache_job_put(cache, &job);
        if (!error)
            error = roar_cache_attach(cache, job.id, commit);
        memcpy(last, job.id, sizeof(last));
        roar_job_dispose(&job);
        if (error < 0) {
            status = fail("storing a job");
            goto rollback;
        }
        memcpy(in_id, out_id, sizeof(in_id));
        roar_buf_clear(&prev);
        if (roar_buf_put(&prev, path.ptr, path.size) < 0) {
            status = fail("out of memory");
            goto rollback;
        }
    }
    if (roar_cache_commit(cache) < 0) {
        status = fail("committing");
        goto out;
    }
    printf("%s\n", last);
    status = 0;
    goto out;

rollback:
    roar_cache_rollback(cache);
out:
    roar_cache_free(cache);
    roar_repo_free(repo);
    roar_buf_dispose(&body);
    roar_buf_dispose(&record);
    roar_buf_dispose(&text);
    roar_buf_dispose(&db);
    roar_buf_dispose(&data);
    roar_buf_dispose(&path);
    roar_buf_dispose(&prev);
    git_libgit2_shutdown();
    return status;
}
