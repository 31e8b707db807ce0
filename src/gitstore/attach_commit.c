/* `git roar run --commit` (attach.h): commit the job's committable outputs with git,
 * then attach exactly that job; with nothing to commit, attach it to HEAD. */
#include "gitstore/attach.h"

#include <stdlib.h>
#include <string.h>

#include "gitstore/remote.h"
#include "util/err.h"
#include "util/quote.h"

/* ---- run --commit ---------------------------------------------------------------- */

typedef struct {
    const char **items;
    size_t count, alloc;
} str_vec;

static int str_vec_push(str_vec *v, const char *s)
{
    if (ROAR_ALLOC_GROW(v->items, v->count + 1, v->alloc) < 0)
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    v->items[v->count++] = s;
    return 0;
}

/* The job's outputs and deletions git can commit: inside the work tree (relative), and
 * tracked or not ignored. `added` gets the untracked outputs (to add -N first). */
static int commit_paths(str_vec *paths, str_vec *added, roar_repo *repo, const roar_job *job)
{
    git_index *index = NULL;
    size_t i;
    int ignored, error = 0;

    if (git_repository_index(&index, roar_repo_git(repo)) < 0)
        return roar_error_set(ROAR_ERROR, "cannot read the index: %s",
                              git_error_last() ? git_error_last()->message : "libgit2 error");
    for (i = 0; i < job->edge_count; i++) {
        const roar_edge *e = &job->edges[i];
        bool tracked;
        if (e->role == ROAR_ROLE_IN || e->path[0] == '/')
            continue;
        tracked = git_index_get_bypath(index, e->path, 0) != NULL;
        if (e->role == ROAR_ROLE_DEL) {
            if (tracked && (error = str_vec_push(paths, e->path)) < 0)
                break;
            continue;
        }
        if (tracked) {
            /* Rewritten with the same bytes: nothing for git to commit there. */
            unsigned int flags = 0;
            if (git_status_file(&flags, roar_repo_git(repo), e->path) == 0 && flags == 0)
                continue;
            git_error_clear();
        } else {
            if (git_ignore_path_is_ignored(&ignored, roar_repo_git(repo), e->path) < 0) {
                error =
                    roar_error_set(ROAR_ERROR, "cannot read the ignore rules: %s",
                                   git_error_last() ? git_error_last()->message : "libgit2 error");
                break;
            }
            if (ignored)
                continue;
            if ((error = str_vec_push(added, e->path)) < 0)
                break;
        }
        if ((error = str_vec_push(paths, e->path)) < 0)
            break;
    }
    git_index_free(index);
    return error;
}

/* Runs `git -C <top> --literal-pathspecs <args> -- <paths>`: paths are file names, never
 * pathspec patterns. */
static int git_at_top(int *status, roar_repo *repo, const char *const *args, const str_vec *paths)
{
    const char **argv;
    roar_git_result res;
    size_t n = 0, i;
    int error;

    if (!(argv = calloc(paths->count + 16, sizeof(*argv))))
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    argv[n++] = "-C";
    argv[n++] = roar_repo_worktree(repo);
    argv[n++] = "--literal-pathspecs";
    while (*args)
        argv[n++] = *args++;
    argv[n++] = "--";
    for (i = 0; i < paths->count; i++)
        argv[n++] = paths->items[i];
    argv[n] = NULL;
    error = roar_remote_run_git(&res, argv, 0);
    *status = res.status;
    roar_git_result_dispose(&res);
    free(argv);
    return error;
}

int roar_attach_commit_job(roar_commit_result *out, roar_repo *repo, const roar_job *job,
                           const char *message, roar_notes_problem_cb cb, void *payload)
{
    static const char *const add_args[] = {"add", "--intent-to-add", NULL};
    roar_attach_opts opts = ROAR_ATTACH_OPTS_INIT;
    roar_commit_result res;
    str_vec paths = {0}, added = {0};
    roar_buf msg = ROAR_BUF_INIT;
    const char *commit_args[6];
    const char *ids[1];
    int status = 0, error;

    memset(&res, 0, sizeof(res));
    if ((error = roar_repo_require_worktree(repo)) < 0 ||
        (error = commit_paths(&paths, &added, repo, job)) < 0)
        goto cleanup;
    if (!paths.count) {
        /* Every output ignored (DVC-style data) or unchanged: there is no commit to
         * make, and the lineage is shared by attaching the job to HEAD (SPEC §5.3). */
        ids[0] = job->id;
        opts.rev = "HEAD";
        opts.jobs = ids;
        opts.job_count = 1;
        if ((error = roar_attach_pending(&res.attach, repo, &opts, cb, payload)) < 0)
            goto cleanup;
        memcpy(res.commit, res.attach.commit, sizeof(res.commit));
        res.paths = 0;
        if (out)
            *out = res;
        goto cleanup;
    }
    if (message)
        error = roar_buf_puts(&msg, message);
    else if ((error = roar_buf_puts(&msg, "roar: ")) == 0)
        error = roar_quote_argv(&msg, (const char *const *)job->argv, job->argc);
    if (error < 0)
        goto cleanup;
    if (added.count && ((error = git_at_top(&status, repo, add_args, &added)) < 0 || status)) {
        if (!error)
            error = roar_error_set(ROAR_ERROR, "git add failed (exit %d); job %.7s stays pending",
                                   status, job->id);
        goto cleanup;
    }
    commit_args[0] = "commit";
    commit_args[1] = "--only";
    commit_args[2] = "-m";
    commit_args[3] = msg.ptr;
    commit_args[4] = NULL;
    /* The post-commit hook must not attach other pending jobs to this commit. */
    setenv(ROAR_ATTACH_SKIP_ENV, job->id, 1);
    error = git_at_top(&status, repo, commit_args, &paths);
    unsetenv(ROAR_ATTACH_SKIP_ENV);
    if (error < 0)
        goto cleanup;
    if (status) {
        error = roar_error_set(ROAR_ERROR, "git commit failed (exit %d); job %.7s stays pending",
                               status, job->id);
        goto cleanup;
    }
    if ((error = roar_repo_head(res.commit, repo)) < 0)
        goto cleanup;
    res.paths = paths.count;
    ids[0] = job->id;
    opts.rev = res.commit;
    opts.jobs = ids;
    opts.job_count = 1;
    if ((error = roar_attach_pending(&res.attach, repo, &opts, cb, payload)) < 0)
        goto cleanup;
    if (out)
        *out = res;

cleanup:
    free(paths.items);
    free(added.items);
    roar_buf_dispose(&msg);
    return error;
}
