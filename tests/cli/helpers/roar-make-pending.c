/* Test helper for the notes tests: writes one pending record, as `git roar run` leaves it,
 * with exactly the fields the test wants (a chosen base, none at all, an odd command).
 *
 * usage: roar-make-pending [--worktree KEY] < BODY
 * BODY is a record (SPEC §5.1) without its `job` line; it is parsed and serialised by the
 * record codec (which computes the job id) and written with roar_pending_write into
 * <roar dir>/pending as <id>@<KEY> (default: this worktree's key). Prints the job id. The
 * cache is left alone: reindex must find the record by itself. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "gitstore/pending.h"
#include "gitstore/repo.h"
#include "graph/oid.h"
#include "graph/record.h"
#include "util/err.h"

int main(int argc, char **argv)
{
    roar_buf body = ROAR_BUF_INIT, record = ROAR_BUF_INIT, text = ROAR_BUF_INIT;
    roar_buf key = ROAR_BUF_INIT, dir = ROAR_BUF_INIT;
    char id[ROAR_OID_HEXSZ + 1], chunk[65536];
    const char *want_key = NULL;
    roar_repo *repo = NULL;
    roar_job job;
    size_t n;
    int status = 1;

    roar_job_init(&job);
    git_libgit2_init();
    if (argc == 3 && !strcmp(argv[1], "--worktree")) {
        want_key = argv[2];
    } else if (argc != 1) {
        fprintf(stderr, "usage: roar-make-pending [--worktree KEY] < BODY\n");
        goto out;
    }
    while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
        if (roar_buf_put(&body, chunk, n) < 0)
            goto fail;
    if (roar_blob_id_of_buffer(id, body.ptr, body.size) < 0 ||
        roar_buf_printf(&record, "job %s\n", id) < 0 ||
        roar_buf_put(&record, body.ptr, body.size) < 0 ||
        roar_record_parse(&job, record.ptr, record.size) < 0 ||
        roar_record_serialize(&text, &job) < 0)
        goto fail;
    if (roar_repo_open(&repo, NULL) < 0 || roar_repo_ensure_roar_dir(repo) < 0 ||
        roar_pending_dir(&dir, repo) < 0 ||
        (want_key ? roar_buf_puts(&key, want_key) : roar_pending_worktree_key(&key, repo)) < 0 ||
        roar_pending_write(NULL, dir.ptr, job.id, key.ptr, text.ptr, text.size) < 0)
        goto fail;
    printf("%s\n", job.id);
    status = 0;
    goto out;

fail:
    fprintf(stderr, "roar-make-pending: %s\n", roar_error_last());
out:
    roar_repo_free(repo);
    roar_job_dispose(&job);
    roar_buf_dispose(&body);
    roar_buf_dispose(&record);
    roar_buf_dispose(&text);
    roar_buf_dispose(&key);
    roar_buf_dispose(&dir);
    git_libgit2_shutdown();
    return status;
}
