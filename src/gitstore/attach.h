/* Attaching pending jobs to a commit as notes (SPEC §5.3), and dropping jobs: claims
 * pending records so that concurrent attaches lose nothing and attach nothing twice. */
#ifndef ROAR_GITSTORE_ATTACH_H
#define ROAR_GITSTORE_ATTACH_H

#include <stdbool.h>
#include <stddef.h>

#include "gitstore/notes.h"
#include "gitstore/repo.h"
#include "graph/cache.h"

/* The commit message of the notes commits attach writes. */
#define ROAR_ATTACH_MESSAGE "Notes added by 'git roar attach'"

/* *out = the multi-commit operation in progress in this worktree, as a static string
 * ("rebase", "cherry-pick", "revert"), or NULL when there is none: `rebase-merge/`,
 * `rebase-apply/`, `sequencer/`, CHERRY_PICK_HEAD or REVERT_HEAD in the per-worktree
 * git dir. */
int roar_attach_sequencer_state(const char **out, roar_repo *repo);

typedef struct {
    /* The commit to attach to (any revision git understands). NULL: HEAD, and then
     * nothing is done while roar_attach_sequencer_state reports an operation, so the
     * post-commit hook leaves the commits a rebase replays alone. */
    const char *rev;
    /* Attach exactly these pending jobs (full ids) of this worktree, whatever their
     * base (`run --commit`); NULL: every pending job of this worktree whose base is
     * the commit's first parent or an ancestor of it, or that has no base, and, when
     * the commit was named (rev or explicit_head), whose base is the commit itself. */
    const char *const *jobs;
    size_t job_count;
    /* `git roar attach` without REV: as with an explicit rev, jobs whose base is HEAD
     * itself are taken too (after a post-commit hook's commit no job can have the new
     * commit as its base, so the hook may set it as well). The sequencer check of
     * rev NULL still applies. */
    bool explicit_head;
} roar_attach_opts;
#define ROAR_ATTACH_OPTS_INIT                                                                      \
    {                                                                                              \
        NULL, NULL, 0, false                                                                       \
    }

typedef struct {
    const char *busy;                /* non-NULL: nothing was done (the operation) */
    char commit[ROAR_OID_HEXSZ + 1]; /* the commit attached to */
    size_t attached;                 /* jobs written into its note */
    size_t left_pending;             /* this worktree's jobs out of scope, still pending */
    size_t unreadable;               /* this worktree's records that do not parse (left) */
    size_t restored;                 /* records of crashed attaches put back first */
    roar_notes_update update;        /* what happened to the notes ref */
} roar_attach_result;

/* Attaches pending jobs of this worktree (see roar_attach_opts) to one commit, merged
 * with the note already there, as ONE notes commit. Each record is claimed first by
 * renaming it into a private `pending/.claim-<pid>-<random>/` dir: a record another
 * attach claimed is skipped; the claim dir also names the target commit (`.target`).
 * The claimed files are removed once the notes ref was updated (compare-and-swap,
 * roar_notes_write); on failure they are moved back. Claim dirs left by attaches that
 * died are dealt with first (roar_attach_recover). The cache is not updated here: call
 * roar_reindex_refresh afterwards. Problems with existing notes go to cb (may be NULL).
 * Errors: ROAR_ENOTFOUND when rev names no commit (or HEAD is unborn). `out` is filled
 * on success. */
int roar_attach_pending(roar_attach_result *out, roar_repo *repo, const roar_attach_opts *opts,
                        roar_notes_problem_cb cb, void *payload);

/* Claim dirs of attaches whose process is gone: a record already in the local note of
 * the claim's target commit is removed (that attach got as far as the ref update),
 * any other is moved back into pending/. *restored (may be NULL) = records put back. */
int roar_attach_recover(size_t *restored, roar_repo *repo);

/* After an amend or a rebase: `list` is what git's post-rewrite hook reads on stdin,
 * one `<old> <new> [<extra>]` line per rewritten commit. Each pending job of this
 * worktree whose base is an old commit is attached to its new commit (one attach per
 * new commit, as roar_attach_pending with exactly those jobs). *attached = how many.
 * Lines that are not two commit ids are skipped. */
int roar_attach_rewritten(size_t *attached, roar_repo *repo, const char *list,
                          roar_notes_problem_cb cb, void *payload);

/* ---- run --commit ---------------------------------------------------------------- */

/* Set (to the job id) in the environment of the `git commit` that run --commit starts:
 * the post-commit hook's `git roar attach` then leaves the attaching to run --commit,
 * which attaches exactly its own job (SPEC §3 run). */
#define ROAR_ATTACH_SKIP_ENV "GIT_ROAR_RUN_COMMIT"

typedef struct {
    char commit[ROAR_OID_HEXSZ + 1]; /* the new commit */
    size_t paths;                    /* outputs and deletions committed */
    roar_attach_result attach;       /* the job attached to it */
} roar_commit_result;

/* `git roar run --commit [-m MSG]`: runs `git commit --only -m MSG -- PATHS` at the top of
 * the work tree (the user's hooks run; git prints as usual), where PATHS are the job's
 * outputs and deletions inside the work tree that are tracked or not ignored (new
 * outputs are added with --intent-to-add first, so nothing else already staged is
 * committed), then attaches exactly this job (pending in this worktree) to that commit.
 * When the job changed no such path (every output ignored, or rewritten with the same
 * bytes), nothing is committed and the job is attached to HEAD: out->paths is 0.
 * `message` NULL: "roar: <command>". Errors: ROAR_ENOTFOUND when HEAD is unborn and
 * there is nothing to commit; ROAR_ERROR when git commit fails (the message says so;
 * the job stays pending). */
int roar_attach_commit_job(roar_commit_result *out, roar_repo *repo, const roar_job *job,
                           const char *message, roar_notes_problem_cb cb, void *payload);

/* ---- drop ---------------------------------------------------------------------- */

typedef struct {
    char id[ROAR_OID_HEXSZ + 1];
    bool was_pending;     /* its pending record(s) were removed */
    size_t notes_removed; /* commits of the local notes ref it was removed from */
} roar_drop_item;

typedef struct {
    roar_drop_item *items; /* one per job asked for, in order */
    size_t count, alloc;
} roar_drop_result;
#define ROAR_DROP_RESULT_INIT                                                                      \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }
void roar_drop_result_dispose(roar_drop_result *r);

/* Discards jobs named by id prefixes (4 to 40 hex digits), resolved among the pending
 * records of every worktree and the jobs `cache` knows (bring it up to date first with
 * roar_reindex_refresh). A pending job's record is removed. A job attached to commits
 * is removed from the local notes ref (one notes commit for all) only with
 * `from_notes`; without it, a job that is only attached is an error and nothing is
 * done. Every name is resolved before anything changes. Errors: ROAR_EINVALID (bad
 * prefix), ROAR_ENOTFOUND, ROAR_EAMBIGUOUS (the message lists the candidates), and
 * ROAR_EEXISTS for an attached job without from_notes. Refresh the cache afterwards. */
int roar_attach_drop(roar_drop_result *out, roar_repo *repo, roar_cache *cache,
                     const char *const *jobs, size_t count, bool from_notes,
                     roar_notes_problem_cb cb, void *payload);

#endif
