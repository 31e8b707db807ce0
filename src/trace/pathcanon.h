/* Path canonicalisation (SPEC §4.2): a path as a tracer saw it -> the form a record
 * holds (relative inside the work tree, canonical absolute outside, git dirs apart). */
#ifndef ROAR_TRACE_PATHCANON_H
#define ROAR_TRACE_PATHCANON_H

#include <stddef.h>

#include "util/buf.h"
#include "util/pathlex.h"

typedef struct roar_pathcanon roar_pathcanon;

typedef enum {
    ROAR_PATH_WORKTREE = 0, /* inside the work tree: recorded relative to the top */
    ROAR_PATH_OUTSIDE = 1,  /* outside: recorded as a canonical absolute path */
    ROAR_PATH_GITDIR = 2,   /* inside a git dir: never recorded */
} roar_path_kind;

/* Creates a canonicaliser. `worktree_real` is the realpath of the work tree top;
 * `gitdirs` the realpaths of the per-worktree and the common git dir (duplicates are
 * fine). All strings are copied. The caller frees *out with roar_pathcanon_free.
 * ROAR_EINVALID when a directory is not absolute. One canonicaliser caches directory
 * resolutions for its lifetime (one job): it is not thread-safe. */
int roar_pathcanon_new(roar_pathcanon **out, const char *worktree_real, const char *const *gitdirs,
                       size_t ngitdirs);

/* NULL-safe. */
void roar_pathcanon_free(roar_pathcanon *pc);

/* Maps an absolute path as a tracer saw it (cwd- or dirfd-joined, not normalised) to
 * its recorded form. Steps:
 *   1. normalise lexically (roar_pathlex_normalise);
 *   2. if that is inside a git dir, or inside the work tree with a `.git` component
 *      (`<top>/.git` itself, a linked worktree's `.git` file, a nested repository),
 *      kind GITDIR; else if inside the work tree, kind WORKTREE and `out` = the path
 *      relative to the top ("." for the top itself), whatever the file itself is (a
 *      symlink to another disk stays inside);
 *   3. otherwise the directory part is resolved with realpath(3) through a
 *      per-directory cache (a directory that no longer exists resolves through its
 *      nearest existing ancestor, the rest kept lexically), the name is appended
 *      unresolved, and step 2 is applied to that: a path reached through a symlink
 *      to the work tree is inside it. What is still outside is kind OUTSIDE, `out` =
 *      that resolved absolute path.
 * For GITDIR, `out` holds the absolute path (for diagnostics only).
 * `out`'s contents are replaced. ROAR_EINVALID when abs_path is not absolute;
 * ROAR_ENOMEM. The file need not exist. */
int roar_pathcanon_map(roar_buf *out, roar_path_kind *out_kind, roar_pathcanon *pc,
                       const char *abs_path);

#endif
