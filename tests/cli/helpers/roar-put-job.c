/* Test helper for the query tests: puts one real job into the repository's cache, as
 * `git roar run` does once it has the job, so log/show can be tested on exact data.
 *
 * usage: roar-put-job [--pending] [--attach COMMIT]... < BODY
 * BODY is a record (SPEC §5.1) without its `job` line; the helper parses it with the
 * record codec, serialises it again (which computes the job id), stores it in
 * <roar dir>/cache.db, marks it pending for this worktree (writing its pending record
 * too, as run does) and/or attaches it to each COMMIT (40 hex), and prints the job id. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "gitstore/pending.h"
#include "gitstore/repo.h"
#include "graph/cache.h"
#include "graph/oid.h"
#include "graph/record.h"
#include "util/err.h"

static int fail(const char *what)
{
    fprintf(stderr, "roar-put-job: %s: %s\n", what, roar_error_last());
    return 1;
}

int main(int argc, char **argv)
{
    roar_buf body = ROAR_BUF_INIT, record = ROAR_BUF_INIT, text = ROAR_BUF_INIT, db = ROAR_BUF_INIT,
             key = ROAR_BUF_INIT, dir = ROAR_BUF_INIT;
    char id[ROAR_OID_HEXSZ + 1], chunk[65536];
    roar_repo *repo = NULL;
    roar_cache *cache = NULL;
    roar_job job;
    bool pending = false;
    size_t n;
    int i, status = 1;

    roar_job_init(&job);
    git_libgit2_init();
    while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
        if (roar_buf_put(&body, chunk, n) < 0)
            goto out;

    if (roar_blob_id_of_buffer(id, body.ptr, body.size) < 0 ||
        roar_buf_printf(&record, "job %s\n", id) < 0 ||
        roar_buf_put(&record, body.ptr, body.size) < 0) {
        status = fail("building the record");
        goto out;
    }
    if (roar_record_parse(&job, record.ptr, record.size) < 0) {
        status = fail("parsing the record");
        goto out;
    }
    if (roar_record_serialize(&text, &job) < 0) {
        status = fail("serialising the job");
        goto out;
    }
    if (roar_repo_open(&repo, NULL) < 0 || roar_repo_ensure_roar_dir(repo) < 0 ||
        roar_buf_printf(&db, "%s/cache.db", roar_repo_roar_dir(repo)) < 0 ||
        roar_cache_open(&cache, db.ptr) < 0 || roar_cache_job_put(cache, &job) < 0) {
        status = fail("storing the job");
        goto out;
    }
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--pending")) {
            pending = true;
        } else if (!strcmp(argv[i], "--attach") && i + 1 < argc) {
            if (roar_cache_attach(cache, job.id, argv[++i]) < 0) {
                status = fail("attaching");
                goto out;
            }
        } else {
            fprintf(stderr, "usage: roar-put-job [--pending] [--attach COMMIT]... < BODY\n");
            goto out;
        }
    }
    /* As `git roar run` does: the pending record file is the durable copy, and the
     * cache (which follows pending/ on every query) only marks it. */
    if (pending && (roar_pending_worktree_key(&key, repo) < 0 || roar_pending_dir(&dir, repo) < 0 ||
                    roar_pending_write(NULL, dir.ptr, job.id, key.ptr, text.ptr, text.size) < 0)) {
        status = fail("writing the pending record");
        goto out;
    }
    if (pending && roar_cache_pending_mark(cache, job.id, roar_repo_gitdir(repo)) < 0) {
        status = fail("marking pending");
        goto out;
    }
    printf("%s\n", job.id);
    status = 0;

out:
    roar_cache_free(cache);
    roar_repo_free(repo);
    roar_job_dispose(&job);
    roar_buf_dispose(&body);
    roar_buf_dispose(&record);
    roar_buf_dispose(&text);
    roar_buf_dispose(&db);
    roar_buf_dispose(&key);
    roar_buf_dispose(&dir);
    git_libgit2_shutdown();
    return status;
}
