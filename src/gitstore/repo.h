/* The repository git roar works in: discovery (as git does it, GIT_DIR included), its
 * directories, HEAD, shallow roots, ancestry and the `dirty` test of SPEC §5.1. */
#ifndef ROAR_GITSTORE_REPO_H
#define ROAR_GITSTORE_REPO_H

#include <stdbool.h>
#include <stddef.h>

#include <git2.h>

#include "graph/job.h" /* ROAR_OID_HEXSZ */

typedef struct roar_repo roar_repo;

/* Discovers and opens the repository containing `start_dir` (NULL: the current
 * directory), honouring GIT_DIR, GIT_WORK_TREE, GIT_CEILING_DIRECTORIES and friends as
 * git does. The caller must have called git_libgit2_init(). Errors:
 *   ROAR_ENOTFOUND    not a git repository (git's wording);
 *   ROAR_EUNSUPPORTED a SHA-256 repository (libgit2 1.5 cannot read it);
 *   ROAR_ERROR        anything else, with libgit2's message.
 * The caller frees *out with roar_repo_free. */
int roar_repo_open(roar_repo **out, const char *start_dir);

/* NULL-safe. */
void roar_repo_free(roar_repo *repo);

/* ROAR_EUNSUPPORTED with git's "this operation must be run in a work tree" when the
 * repository is bare; 0 otherwise. For commands that need a work tree. */
int roar_repo_require_worktree(const roar_repo *repo);

/* Directories, each a realpath without a trailing slash, borrowed from repo (valid
 * until roar_repo_free).
 * _worktree: the top level of the work tree, or NULL for a bare repository.
 * _gitdir:   the per-worktree git dir (`.git`, or `.git/worktrees/<name>`).
 * _commondir: the git dir shared by all linked worktrees (== _gitdir without them).
 * _roar_dir: `<commondir>/roar`, whether it exists or not. */
const char *roar_repo_worktree(const roar_repo *repo);
const char *roar_repo_gitdir(const roar_repo *repo);
const char *roar_repo_commondir(const roar_repo *repo);
const char *roar_repo_roar_dir(const roar_repo *repo);

/* Creates `<commondir>/roar` and `<commondir>/roar/pending` when missing, with mode
 * 0777 & ~umask. Existing directories are fine. */
int roar_repo_ensure_roar_dir(const roar_repo *repo);

/* The commit HEAD points at, as 40 hex digits. ROAR_ENOTFOUND on an unborn branch;
 * ROAR_EINVALID when HEAD names an object that is not a commit here (missing, or a
 * blob/tree/tag); ROAR_ERROR when HEAD cannot be read at all. */
int roar_repo_head(char out[ROAR_OID_HEXSZ + 1], roar_repo *repo);

/* Whether the repository is a shallow clone (`<commondir>/shallow` lists commits). */
int roar_repo_is_shallow(bool *out, roar_repo *repo);

/* The shallow roots (the commits listed in `<commondir>/shallow`, whose parents are
 * absent), sorted, as 40-hex strings. libgit2 1.5 has no shallow support, so the file is
 * read here, once per repo handle. *out and its strings are borrowed from repo; *count
 * is 0 (and *out may be NULL) for a complete clone. */
int roar_repo_shallow_roots(const char *const **out, size_t *count, roar_repo *repo);

/* *out = whether `ancestor_hex` is reachable from `descendant_hex` through parent
 * links (a commit is its own ancestor, as with `git merge-base --is-ancestor`). The
 * walk is done here: shallow roots and commits whose parents are missing from the
 * object database count as roots, so this works in `--depth 1` clones, where the
 * answer is "not reachable in the history we have". ROAR_EINVALID for ids that are not
 * 40 hex digits; ROAR_ENOTFOUND when `descendant_hex` is not a commit we have. */
int roar_repo_is_ancestor(bool *out, roar_repo *repo, const char *ancestor_hex,
                          const char *descendant_hex);

/* How two commits a and b are related through parent links, with roots as in
 * roar_repo_is_ancestor. Both are walked at once, a commit from each in turn, so the
 * cost follows how far apart they are when one holds the other (a fast-forward of a
 * long history by a few commits reads those few, twice), and the two histories down to
 * their roots when neither does. ROAR_ENOTFOUND when either is not a commit we have. */
typedef enum {
    ROAR_ANCESTRY_SAME,
    ROAR_ANCESTRY_A_IN_B, /* a is an ancestor of b */
    ROAR_ANCESTRY_B_IN_A, /* b is an ancestor of a */
    ROAR_ANCESTRY_UNRELATED
} roar_ancestry;
int roar_repo_ancestry(roar_ancestry *out, roar_repo *repo, const git_oid *a, const git_oid *b);

/* Calls visit(commit, payload) for `start_hex` and each of its ancestors, each once,
 * breadth-first, with the roots handled as roar_repo_is_ancestor says. A non-zero
 * return from visit stops the walk: negative is an error passed on, ROAR_WALK_PRUNE
 * skips that commit's parents (they are reached only through other commits), any
 * other positive value a plain stop (then 0 is returned). ROAR_EINVALID /
 * ROAR_ENOTFOUND for start_hex as above. */
#define ROAR_WALK_STOP 1
#define ROAR_WALK_PRUNE 2
int roar_repo_walk_ancestors(roar_repo *repo, const char *start_hex,
                             int (*visit)(const git_oid *commit, void *payload), void *payload);

/* The `dirty` test of SPEC §5.1 for one input: *out = true when the content the job
 * read (`blob_hex`) is not what HEAD holds at `relpath` (relative to the work-tree top,
 * `/`-separated). Precisely:
 *   - HEAD has relpath: dirty when HEAD's blob id differs from blob_hex;
 *   - otherwise (absent from HEAD, or no HEAD yet): not dirty only when the path is
 *     untracked (not in the index) and ignored — git-ignored data files are expected
 *     to be outside HEAD; a tracked-but-uncommitted or untracked, unignored file is.
 * `blob_hex` NULL means the id is unknown (`-`): it is then dirty unless untracked and
 * ignored, since nothing shows it equals HEAD's. Needs a work tree. */
int roar_repo_path_is_dirty(bool *out, roar_repo *repo, const char *relpath, const char *blob_hex);

/* The underlying libgit2 repository, borrowed: do not free it; valid until
 * roar_repo_free. For modules (notes, index lookups) that call libgit2 directly. */
git_repository *roar_repo_git(roar_repo *repo);

#endif
