/* fetch/push of the notes ref through the git executable, merging what comes in with the
 * notes merge; also the small helper that runs git and captures what it says. */
#include "gitstore/remote.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gitstore/reflock.h"
#include "util/err.h"
#include "util/privdrop.h"

#define HEXSZ ROAR_OID_HEXSZ

/* ---- running git ------------------------------------------------------------------ */

void roar_git_result_init(roar_git_result *r)
{
    r->status = -1;
    roar_buf_init(&r->out);
    roar_buf_init(&r->err);
}

void roar_git_result_dispose(roar_git_result *r)
{
    roar_buf_dispose(&r->out);
    roar_buf_dispose(&r->err);
}

static int slurp_fd(roar_buf *out, int fd)
{
    char chunk[8192];
    ssize_t n;
    int error;

    if (lseek(fd, 0, SEEK_SET) < 0)
        return roar_error_set_errno(ROAR_ERROR, "cannot read git's output");
    for (;;) {
        n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return roar_error_set_errno(ROAR_ERROR, "cannot read git's output");
        if (n == 0)
            return 0;
        if ((error = roar_buf_put(out, chunk, (size_t)n)) < 0)
            return error;
    }
}

int roar_remote_run_git(roar_git_result *out, const char *const *args, unsigned flags)
{
    const char **argv = NULL;
    int fds[2] = {-1, -1}, status, error = 0;
    size_t n = 0, i;
    pid_t pid;

    roar_git_result_init(out);
    while (args[n])
        n++;
    if (!(argv = calloc(n + 2, sizeof(*argv))))
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    argv[0] = "git";
    for (i = 0; i < n; i++)
        argv[i + 1] = args[i];
    /* Output goes to memory files, not pipes: git's output can be large and we wait
     * for it to exit without a poll loop. */
    if (((flags & ROAR_GIT_CAPTURE_OUT) && (fds[0] = memfd_create("git-out", MFD_CLOEXEC)) < 0) ||
        ((flags & ROAR_GIT_CAPTURE_ERR) && (fds[1] = memfd_create("git-err", MFD_CLOEXEC)) < 0)) {
        error = roar_error_set_errno(ROAR_ERROR, "cannot capture git's output");
        goto cleanup;
    }
    fflush(stdout);
    fflush(stderr);
    if ((pid = fork()) < 0) {
        error = roar_error_set_errno(ROAR_ERROR, "cannot run git");
        goto cleanup;
    }
    if (pid == 0) {
        int null = open("/dev/null", O_RDONLY);
        if (null < 0 || dup2(null, 0) < 0 || (fds[0] >= 0 && dup2(fds[0], 1) < 0) ||
            (fds[1] >= 0 && dup2(fds[1], 2) < 0) || roar_privdrop_child() != 0)
            _exit(126); /* roar_privdrop_child: git as the sudo user only (SPEC §8) */
        signal(SIGPIPE, SIG_DFL);
        execvp("git", (char *const *)argv);
        _exit(errno == ENOENT ? 127 : 126);
    }
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) {
            error = roar_error_set_errno(ROAR_ERROR, "cannot wait for git");
            goto cleanup;
        }
    out->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (out->status == 127) {
        error = roar_error_set(ROAR_ERROR, "cannot run git: not found in PATH");
        goto cleanup;
    }
    if ((fds[0] >= 0 && (error = slurp_fd(&out->out, fds[0])) < 0) ||
        (fds[1] >= 0 && (error = slurp_fd(&out->err, fds[1])) < 0))
        goto cleanup;

cleanup:
    for (i = 0; i < 2; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    free(argv);
    return error;
}

/* git's own words for a failure: the last non-empty lines of what it printed. */
static const char *git_said(roar_buf *text)
{
    while (text->size && (text->ptr[text->size - 1] == '\n' || text->ptr[text->size - 1] == ' '))
        roar_buf_truncate(text, text->size - 1);
    return text->size ? text->ptr : "no message";
}

/* ---- config ------------------------------------------------------------------------ */

int roar_remote_exists(bool *out, roar_repo *repo, const char *name)
{
    static const char *const keys[] = {"url", "pushurl"};
    git_config *cfg = NULL;
    git_config_entry *entry = NULL;
    roar_buf key = ROAR_BUF_INIT;
    size_t i;
    int error = 0;

    /* Looked up by key: git_remote_lookup leaks in libgit2 1.5 (its url.*.insteadOf
     * scan goes through a regex matcher that does not free its match data). */
    *out = false;
    if (git_repository_config_snapshot(&cfg, roar_repo_git(repo)) < 0)
        return roar_error_set(ROAR_ERROR, "cannot read the git config: %s",
                              git_error_last() ? git_error_last()->message : "libgit2 error");
    for (i = 0; i < 2 && !*out && !error; i++) {
        roar_buf_clear(&key);
        if ((error = roar_buf_printf(&key, "remote.%s.%s", name, keys[i])) < 0)
            break;
        if (git_config_get_entry(&entry, cfg, key.ptr) == 0)
            *out = true;
        git_config_entry_free(entry);
        entry = NULL;
    }
    git_error_clear();
    roar_buf_dispose(&key);
    git_config_free(cfg);
    return error;
}

int roar_remote_tracking_ref(roar_buf *out, const char *name)
{
    int valid = 0, error;
    roar_buf_clear(out);
    if ((error = roar_buf_printf(out, "refs/notes/remotes/%s/roar", name)) < 0)
        return error;
    if (git_reference_name_is_valid(&valid, out->ptr) < 0 || !valid)
        return roar_error_set(ROAR_EINVALID, "'%s' cannot name a notes tracking ref", name);
    return 0;
}

/* Runs `git --git-dir=<ours> args...`, so that git works on exactly our repository
 * whatever the current directory. */
static int run_git_here(roar_git_result *out, roar_repo *repo, const char *const *args,
                        unsigned flags)
{
    const char *argv[16];
    roar_buf gitdir = ROAR_BUF_INIT;
    size_t n = 0;
    int error;

    if ((error = roar_buf_printf(&gitdir, "--git-dir=%s", roar_repo_gitdir(repo))) < 0)
        return error;
    argv[n++] = gitdir.ptr;
    while (*args && n < sizeof(argv) / sizeof(*argv) - 1)
        argv[n++] = *args++;
    argv[n] = NULL;
    error = roar_remote_run_git(out, argv, flags);
    roar_buf_dispose(&gitdir);
    return error;
}

int roar_remote_config_add(roar_repo *repo, const char *key, const char *value)
{
    const char *args[] = {"config", "--add", key, value, NULL};
    roar_git_result res;
    int error;

    roar_git_result_init(&res);
    if ((error = run_git_here(&res, repo, args, ROAR_GIT_CAPTURE_OUT | ROAR_GIT_CAPTURE_ERR)) ==
            0 &&
        res.status != 0)
        error = roar_error_set(ROAR_ERROR, "cannot add %s: %s", key, git_said(&res.err));
    roar_git_result_dispose(&res);
    return error;
}

int roar_remote_add_fetch_refspec(bool *added, roar_repo *repo, const char *name,
                                  const char *notes_ref)
{
    git_config *cfg = NULL;
    git_config_iterator *it = NULL;
    git_config_entry *entry;
    roar_buf key = ROAR_BUF_INIT, spec = ROAR_BUF_INIT, tracking = ROAR_BUF_INIT;
    int rc, error;

    *added = false;
    if ((error = roar_remote_tracking_ref(&tracking, name)) < 0 ||
        (error = roar_buf_printf(&key, "remote.%s.fetch", name)) < 0 ||
        (error = roar_buf_printf(&spec, "+%s:%s", notes_ref, tracking.ptr)) < 0)
        goto cleanup;
    if (git_repository_config_snapshot(&cfg, roar_repo_git(repo)) < 0 ||
        git_config_multivar_iterator_new(&it, cfg, key.ptr, NULL) < 0) {
        error = roar_error_set(ROAR_ERROR, "cannot read %s: %s", key.ptr,
                               git_error_last() ? git_error_last()->message : "libgit2 error");
        goto cleanup;
    }
    while ((rc = git_config_next(&entry, it)) == 0)
        if (!strcmp(entry->value, spec.ptr) || !strcmp(entry->value, spec.ptr + 1))
            goto cleanup; /* already there */
    if ((error = roar_remote_config_add(repo, key.ptr, spec.ptr)) < 0)
        goto cleanup;
    *added = true;

cleanup:
    git_config_iterator_free(it);
    git_config_free(cfg);
    roar_buf_dispose(&key);
    roar_buf_dispose(&spec);
    roar_buf_dispose(&tracking);
    return error;
}

int roar_remote_default(roar_buf *out, roar_repo *repo)
{
    git_reference *head = NULL;
    git_config *cfg = NULL;
    git_buf val = {0};
    roar_buf key = ROAR_BUF_INIT;
    int error = 0;

    roar_buf_clear(out);
    if (git_reference_lookup(&head, roar_repo_git(repo), "HEAD") == 0 &&
        git_reference_type(head) == GIT_REFERENCE_SYMBOLIC &&
        !strncmp(git_reference_symbolic_target(head), "refs/heads/", 11) &&
        roar_buf_printf(&key, "branch.%s.remote", git_reference_symbolic_target(head) + 11) == 0 &&
        git_repository_config_snapshot(&cfg, roar_repo_git(repo)) == 0 &&
        git_config_get_string_buf(&val, cfg, key.ptr) == 0 && val.ptr[0] && strcmp(val.ptr, "."))
        error = roar_buf_puts(out, val.ptr);
    else
        error = roar_buf_puts(out, "origin");
    git_error_clear();
    git_buf_dispose(&val);
    git_config_free(cfg);
    git_reference_free(head);
    roar_buf_dispose(&key);
    return error;
}

/* ---- fetch ------------------------------------------------------------------------- */

/* Whether the remote has `ref` at all (after a failed fetch: a missing ref is not an
 * error, the remote simply has no notes yet). */
static int remote_has_ref(bool *out, roar_repo *repo, const char *remote, const char *ref)
{
    const char *args[] = {"ls-remote", "--exit-code", remote, ref, NULL};
    roar_git_result res;
    int error;

    roar_git_result_init(&res);
    error = run_git_here(&res, repo, args, ROAR_GIT_CAPTURE_OUT | ROAR_GIT_CAPTURE_ERR);

    if (error == 0) {
        *out = res.status == 0;
        if (res.status != 0 && res.status != 2)
            error = roar_error_set(ROAR_ERROR, "cannot reach '%s': %s", remote, git_said(&res.err));
    }
    roar_git_result_dispose(&res);
    return error;
}

/* Puts a tracking ref back at `old` (a notes commit), or removes it when it had none
 * (or none worth keeping). */
static int tracking_restore(roar_repo *repo, const char *tracking, const git_oid *old)
{
    git_reference *t = NULL;
    int rc;

    if (old)
        rc = git_reference_create(&t, roar_repo_git(repo), tracking, old, 1,
                                  "roar: refused a notes ref that is not a commit");
    else if ((rc = git_reference_lookup(&t, roar_repo_git(repo), tracking)) == 0)
        rc = git_reference_delete(t);
    git_reference_free(t);
    if (rc < 0 && rc != GIT_ENOTFOUND)
        return roar_error_set(ROAR_ERROR, "cannot restore %s: %s", tracking,
                              git_error_last() ? git_error_last()->message : "libgit2 error");
    git_error_clear();
    return 0;
}

int roar_remote_fetch(roar_fetch_result *out, roar_repo *repo, const char *remote,
                      roar_notes_problem_cb cb, void *payload)
{
    roar_buf ref = ROAR_BUF_INIT, tracking = ROAR_BUF_INIT, spec = ROAR_BUF_INIT;
    roar_buf msg = ROAR_BUF_INIT;
    roar_git_result res;
    roar_fetch_result r;
    const char *args[10];
    size_t n = 0;
    bool named, temp = false, had_old;
    git_oid theirs, old_tip;
    int error;

    memset(&r, 0, sizeof(r));
    roar_git_result_init(&res);
    if ((error = roar_notes_ref(&ref, repo)) < 0 ||
        (error = roar_remote_exists(&named, repo, remote)) < 0)
        goto cleanup;
    if (named)
        error = roar_remote_tracking_ref(&tracking, remote);
    else /* a URL: fetched into a ref of our own, removed once merged */
        error = roar_buf_printf(&tracking, "refs/roar/fetch-%ld", (long)getpid());
    if (error < 0 || (error = roar_buf_printf(&spec, "+%s:%s", ref.ptr, tracking.ptr)) < 0)
        goto cleanup;
    temp = !named;
    /* A tracking ref lock left by a killed fetch or push would make git fetch fail: it
     * is waited for until it goes or turns stale, then removed with a notice. */
    if (named && (error = roar_reflock_wait(repo, tracking.ptr)) < 0)
        goto cleanup;
    had_old = roar_notes_tip(&old_tip, repo, tracking.ptr) == 0;
    roar_error_clear();

    args[n++] = "fetch";
    args[n++] = "--no-tags";
    args[n++] = "--no-write-fetch-head";
    args[n++] = "--no-recurse-submodules";
    args[n++] = remote;
    args[n++] = spec.ptr;
    args[n] = NULL;
    if ((error = run_git_here(&res, repo, args, ROAR_GIT_CAPTURE_OUT | ROAR_GIT_CAPTURE_ERR)) < 0)
        goto cleanup;
    if (res.status != 0) {
        bool has = true;
        roar_buf said = ROAR_BUF_INIT;
        if ((error = roar_buf_put(&said, res.err.ptr, res.err.size)) < 0 ||
            (error = remote_has_ref(&has, repo, remote, ref.ptr)) < 0) {
            roar_buf_dispose(&said);
            goto cleanup;
        }
        if (!has) {
            roar_buf_dispose(&said);
            goto done; /* the remote has no notes yet */
        }
        error =
            roar_error_set(ROAR_ERROR, "cannot fetch notes from '%s': %s", remote, git_said(&said));
        roar_buf_dispose(&said);
        goto cleanup;
    }
    r.remote_has_notes = true;
    if ((error = roar_notes_tip(&theirs, repo, tracking.ptr)) == ROAR_EINVALID) {
        /* Their notes ref is a blob, a tree or a tag: refused, and the tracking ref put
         * back to the notes commit it held, so that no query meets it (issue 16 item 9). */
        roar_buf said = ROAR_BUF_INIT;
        if ((error = roar_buf_puts(&said, roar_error_last())) == 0 &&
            (error = tracking_restore(repo, tracking.ptr, had_old ? &old_tip : NULL)) == 0)
            error = roar_error_set(ROAR_EINVALID, "cannot fetch notes from '%s': %s there%s",
                                   remote, ref.ptr,
                                   strstr(said.ptr, " points at") ? strstr(said.ptr, " points at")
                                                                 : ": not a notes commit");
        roar_buf_dispose(&said);
        goto cleanup;
    }
    if (error < 0 ||
        (error = roar_buf_printf(&msg, "Notes merged by 'git roar fetch' from %s", remote)) < 0 ||
        (error = roar_notes_merge(&r.merge, repo, ref.ptr, &theirs, msg.ptr, cb, payload)) < 0)
        goto cleanup;

done:
    if (out)
        *out = r;
cleanup:
    if (temp) {
        git_reference *t = NULL;
        if (git_reference_lookup(&t, roar_repo_git(repo), tracking.ptr) == 0)
            git_reference_delete(t);
        git_reference_free(t);
        git_error_clear();
    }
    roar_git_result_dispose(&res);
    roar_buf_dispose(&ref);
    roar_buf_dispose(&tracking);
    roar_buf_dispose(&spec);
    roar_buf_dispose(&msg);
    return error;
}

/* ---- push -------------------------------------------------------------------------- */

/* PUSH_LOCKED: the remote could not take the ref's lock or found it moved under the
 * lock ("cannot lock ref 'refs/notes/roar': is at X but expected Y", "reference already
 * exists"): another clone was pushing notes at that moment. Like PUSH_BEHIND, that is a
 * lost race, not a failure; both are retried after a merge (issue 16 item 7). */
typedef enum { PUSH_OK, PUSH_UP_TO_DATE, PUSH_BEHIND, PUSH_LOCKED, PUSH_FAILED } push_outcome;

/* Whether git's words for a rejected ref say it lost a race for the remote's ref lock.
 * git prints the reason on stderr ("remote: error: cannot lock ref ..."); the porcelain
 * summary only says "failed to update ref" or, for a first push, "reference already
 * exists". */
static bool lost_lock_race(const roar_git_result *res, const char *summary, size_t slen)
{
    return memmem(res->err.ptr, res->err.size, "cannot lock ref", 15) ||
           memmem(summary, slen, "cannot lock ref", 15) ||
           memmem(summary, slen, "reference already exists", 24) ||
           memmem(summary, slen, "failed to lock", 14) ||
           memmem(summary, slen, "incorrect old value", 19);
}

/* Reads `git push --porcelain`: "<flag> TAB <src>:<dst> TAB <summary>" per ref. */
static push_outcome push_outcome_of(const roar_git_result *res, const char *ref)
{
    const char *line = res->out.ptr, *end, *dst, *summary;
    size_t reflen = strlen(ref);

    for (; *line; line = *end ? end + 1 : end) {
        end = strchr(line, '\n');
        if (!end)
            end = line + strlen(line);
        if (end - line < 3 || line[1] != '\t')
            continue;
        dst = memchr(line + 2, ':', (size_t)(end - line - 2));
        if (!dst || (size_t)(end - dst - 1) < reflen || memcmp(dst + 1, ref, reflen) ||
            dst[1 + reflen] != '\t')
            continue;
        summary = dst + 1 + reflen + 1;
        if (line[0] == '=')
            return PUSH_UP_TO_DATE;
        if (line[0] == '!') {
            size_t slen = (size_t)(end - summary);
            if ((memmem(summary, slen, "fetch first", 11) ||
                 memmem(summary, slen, "non-fast-forward", 16)) &&
                !memmem(summary, slen, "remote rejected", 15))
                return PUSH_BEHIND;
            if (memmem(summary, slen, "remote rejected", 15) && lost_lock_race(res, summary, slen))
                return PUSH_LOCKED;
            return PUSH_FAILED;
        }
        return res->status == 0 ? PUSH_OK : PUSH_FAILED;
    }
    return res->status == 0 ? PUSH_OK : PUSH_FAILED;
}

/* Rounds of push-merge-push before giving up. Eight clones pushing at once each lose
 * at most seven races in a row when nobody backs off; with the jittered backoff below
 * they spread out, and 16 rounds (a few seconds at most) leave a wide margin. */
#define PUSH_ROUNDS 16

/* Sleeps a random 1..cap ms, cap doubling from 20 ms per lost round up to 640 ms, so
 * that clones which lost the same race do not all come back at the same moment. */
static void push_backoff(unsigned round)
{
    static unsigned seed;
    unsigned cap = 20u << (round < 5 ? round : 5);
    struct timespec ts;
    unsigned ms;

    if (!seed)
        seed = (unsigned)getpid() ^ (unsigned)time(NULL);
    ms = 1 + (unsigned)rand_r(&seed) % cap;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

int roar_remote_push(roar_push_result *out, roar_repo *repo, const char *remote,
                     roar_notes_problem_cb cb, void *payload)
{
    roar_buf ref = ROAR_BUF_INIT, spec = ROAR_BUF_INIT, tracking = ROAR_BUF_INIT;
    roar_git_result res;
    roar_push_result r;
    roar_fetch_result fetched;
    const char *args[8];
    char hex[HEXSZ + 1];
    push_outcome outcome;
    bool named;
    git_oid tip;
    size_t n;
    int error, round;

    memset(&r, 0, sizeof(r));
    roar_git_result_init(&res);
    if ((error = roar_notes_ref(&ref, repo)) < 0 ||
        (error = roar_remote_exists(&named, repo, remote)) < 0)
        goto cleanup;
    for (round = 0;; round++) {
        error = roar_notes_tip(&tip, repo, ref.ptr);
        if (error == ROAR_ENOTFOUND) {
            r.nothing_to_push = true;
            error = 0;
            goto done;
        }
        if (error < 0)
            goto cleanup;
        /* The commit itself, not the ref: an attach may move the ref meanwhile, and the
         * tracking ref below must say exactly what the remote got. */
        git_oid_tostr(hex, sizeof(hex), &tip);
        roar_buf_clear(&spec);
        if ((error = roar_buf_printf(&spec, "%s:%s", hex, ref.ptr)) < 0)
            goto cleanup;
        n = 0;
        args[n++] = "push";
        args[n++] = "--porcelain";
        args[n++] = "--no-verify";
        args[n++] = remote;
        args[n++] = spec.ptr;
        args[n] = NULL;
        roar_git_result_dispose(&res);
        if ((error = run_git_here(&res, repo, args, ROAR_GIT_CAPTURE_OUT | ROAR_GIT_CAPTURE_ERR)) <
            0)
            goto cleanup;
        outcome = push_outcome_of(&res, ref.ptr);
        if (outcome == PUSH_OK || outcome == PUSH_UP_TO_DATE) {
            r.up_to_date = outcome == PUSH_UP_TO_DATE;
            git_oid_cpy(&r.pushed, &tip);
            break;
        }
        if (outcome == PUSH_FAILED || round + 1 >= PUSH_ROUNDS) {
            error = roar_error_set(ROAR_ERROR, "cannot push notes to '%s': %s", remote,
                                   res.err.size ? git_said(&res.err) : git_said(&res.out));
            goto cleanup;
        }
        /* Someone pushed notes first (or was pushing them right then): take theirs
         * in, then try again. After a lock race, wait a little first: the winner's
         * update may not be visible yet. */
        if (outcome == PUSH_LOCKED || round > 0)
            push_backoff((unsigned)round);
        if ((error = roar_remote_fetch(&fetched, repo, remote, cb, payload)) < 0)
            goto cleanup;
        r.merges++;
    }
    if (named) {
        /* The remote has the notes: only the tracking ref is left. A lock on it that a
         * killed push or fetch left (kill points: t0410) is waited for, not fatal. */
        git_reference *t = NULL;
        roar_buf lock = ROAR_BUF_INIT;
        int rc;
        if ((error = roar_remote_tracking_ref(&tracking, remote)) < 0 ||
            (error = roar_reflock_wait(repo, tracking.ptr)) < 0)
            goto cleanup;
        rc = git_reference_create(&t, roar_repo_git(repo), tracking.ptr, &r.pushed, 1,
                                  "roar: pushed notes");
        if (rc == GIT_ELOCKED && roar_reflock_path(&lock, repo, tracking.ptr) == 0)
            error = roar_error_set(ROAR_ERROR,
                                   "pushed, but cannot update %s: '%s' exists; another git "
                                   "process seems to be running (the next fetch sets it)",
                                   tracking.ptr, lock.ptr);
        else if (rc < 0)
            error = roar_error_set(ROAR_ERROR, "pushed, but cannot update %s: %s", tracking.ptr,
                                   git_error_last() ? git_error_last()->message : "libgit2 error");
        git_error_clear();
        git_reference_free(t);
        roar_buf_dispose(&lock);
        if (error < 0)
            goto cleanup;
    }

done:
    if (out)
        *out = r;
cleanup:
    roar_git_result_dispose(&res);
    roar_buf_dispose(&ref);
    roar_buf_dispose(&spec);
    roar_buf_dispose(&tracking);
    return error;
}
