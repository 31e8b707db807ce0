/* Notes commits (committer identity, messages) and moving the notes ref with
 * compare-and-swap and jittered backoff, shared by the writer and the merger. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gitstore/notes_internal.h"
#include "gitstore/reflock.h"
#include "util/err.h"

/* The committer of notes commits: git's environment, then the config, then a fixed
 * identity, so that attach works in a repository where user.name is unset (CI). */
static int committer(git_signature **out, git_repository *git)
{
    git_config *cfg = NULL;
    git_buf name = {0}, email = {0};
    const char *n = getenv("GIT_COMMITTER_NAME"), *m = getenv("GIT_COMMITTER_EMAIL");
    int error = 0;

    if (git_repository_config_snapshot(&cfg, git) == 0) {
        if ((!n || !*n) && git_config_get_string_buf(&name, cfg, "user.name") == 0)
            n = name.ptr;
        if ((!m || !*m) && git_config_get_string_buf(&email, cfg, "user.email") == 0)
            m = email.ptr;
    }
    if (!m || !*m)
        m = getenv("EMAIL");
    if (!n || !*n)
        n = "git roar";
    if (!m || !*m)
        m = "git-roar@localhost";
    if (git_signature_now(out, n, m) < 0 &&
        git_signature_now(out, "git roar", "git-roar@localhost") < 0)
        error = roar_notes__git_fail(ROAR_ERROR, "cannot make a committer identity");
    git_buf_dispose(&name);
    git_buf_dispose(&email);
    git_config_free(cfg);
    return error;
}

int roar_notes__make_commit(git_oid *out, objstore *store, roar_repo *repo, const git_oid *tree_id,
                            const git_oid *parent_ids, size_t parent_count, const char *message)
{
    git_repository *git = store->git;
    git_signature *sig = NULL;
    git_tree *tree = NULL;
    git_commit *parents[2] = {NULL, NULL};
    size_t i;
    int error = 0;

    if (parent_count > 2)
        return roar_error_set(ROAR_EINVALID, "a notes commit has at most two parents");
    if ((error = committer(&sig, roar_repo_git(repo))) < 0)
        goto cleanup;
    if (git_tree_lookup(&tree, git, tree_id) < 0) {
        error = roar_notes__git_fail(ROAR_ERROR, "cannot read notes tree");
        goto cleanup;
    }
    for (i = 0; i < parent_count; i++)
        if (git_commit_lookup(&parents[i], git, &parent_ids[i]) < 0) {
            error = roar_notes__git_fail(ROAR_ERROR, "cannot read notes commit");
            goto cleanup;
        }
    if (git_commit_create(out, git, NULL, sig, sig, NULL, message, tree, parent_count,
                          (const git_commit **)parents) < 0)
        error = roar_notes__git_fail(ROAR_ERROR, "cannot write notes commit");
    else
        error = roar_notes__objstore_track(store, out);

cleanup:
    for (i = 0; i < 2; i++)
        git_commit_free(parents[i]);
    git_tree_free(tree);
    git_signature_free(sig);
    return error;
}

int roar_notes_ref_swap(roar_repo *repo, const char *ref, const git_oid *expected,
                        const git_oid *target, const char *reflog_message)
{
    git_reference *r = NULL;
    git_oid absent;
    int rc;

    /* Creating the ref is a compare-and-swap too, against the zero id ("must not exist"),
     * checked under the ref's lock: libgit2's non-forced git_reference_create checks
     * existence before taking the lock, so two first writers could both "create" it and
     * the second would silently replace the first one's notes. */
    if (!expected) {
        memset(&absent, 0, sizeof(absent));
        expected = &absent;
    }
    rc = git_reference_create_matching(&r, roar_repo_git(repo), ref, target, 1, expected,
                                       reflog_message);
    git_reference_free(r);
    if (rc == GIT_EMODIFIED || rc == GIT_EEXISTS || rc == GIT_ELOCKED)
        return roar_error_set(ROAR_ECHANGED, "%s was updated by another process", ref);
    if (rc < 0)
        return roar_notes__git_fail(ROAR_ERROR, "cannot update the notes ref");
    return 0;
}

bool roar_notes_backoff(unsigned attempt)
{
    static unsigned seed;
    struct timespec ts;
    unsigned max_ms, ms;

    /* ~1000 tries of up to 50 ms: about 30 s before giving up. */
    if (attempt >= 1000)
        return false;
    if (!seed)
        seed = (unsigned)getpid() ^ (unsigned)time(NULL);
    max_ms = attempt < 16 ? 2 + 3 * attempt : 50;
    ms = 1 + (unsigned)rand_r(&seed) % max_ms;
    ts.tv_sec = 0;
    ts.tv_nsec = (long)ms * 1000000L;
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
    return true;
}

int roar_notes__reflog_message(roar_buf *out, const char *message)
{
    size_t len = strcspn(message, "\n");
    roar_buf_clear(out);
    return roar_buf_printf(out, "notes: %.*s", (int)len, message);
}

int roar_notes__commit_message(roar_buf *out, const char *message)
{
    int error;
    roar_buf_clear(out);
    if ((error = roar_buf_puts(out, message)) < 0)
        return error;
    if (!out->size || out->ptr[out->size - 1] != '\n')
        error = roar_buf_putc(out, '\n');
    return error;
}

bool roar_notes__retry(int *error, unsigned attempt, roar_repo *repo, const char *ref)
{
    roar_reflock_state lock;
    roar_buf path = ROAR_BUF_INIT;
    int e;

    if (*error != ROAR_ECHANGED)
        return false;
    /* The ref was moved, or its lock file was there. A lock left by a writer killed
     * with -9 stays for good: once it is old enough (and nobody holds it) it is removed
     * with a notice, instead of retrying into the budget and saying nothing useful. */
    if ((e = roar_reflock_check(&lock, repo, ref)) < 0) {
        *error = e;
        return false;
    }
    if (lock == ROAR_REFLOCK_REMOVED)
        return true;
    if (roar_notes_backoff(attempt))
        return true;
    if (lock == ROAR_REFLOCK_YOUNG && roar_reflock_path(&path, repo, ref) == 0)
        *error = roar_error_set(ROAR_ECHANGED,
                                "cannot update %s: '%s' exists; another git process seems to be "
                                "running (remove the file if none is)",
                                ref, path.ptr);
    else
        *error = roar_error_set(ROAR_ECHANGED, "%s kept changing; gave up", ref);
    roar_buf_dispose(&path);
    return false;
}
