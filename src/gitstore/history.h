/* One commit's view of git for the scope rule (SPEC §5.5): the set of commits it
 * reaches, walked once, and the blob ids its tree holds, looked up by path. */
#ifndef ROAR_GITSTORE_HISTORY_H
#define ROAR_GITSTORE_HISTORY_H

#include <stdbool.h>

#include "gitstore/repo.h"
#include "graph/cache.h"

typedef struct roar_history roar_history;

/* A view of `commit_hex` (40 hex digits) in `repo` (borrowed; must outlive the view).
 * Nothing is read until asked. ROAR_EINVALID for a malformed id; ROAR_ENOTFOUND when
 * the commit is not in the object database. Free with roar_history_free. */
int roar_history_open(roar_history **out, roar_repo *repo, const char *commit_hex);
void roar_history_free(roar_history *h);

/* Keeps the view's reachable set in `cache` (borrowed; must outlive the view) between
 * commands instead of walking the whole history each time: when the set kept there is
 * of an ancestor of this commit (HEAD moved forward), only the new commits are walked;
 * otherwise it is rebuilt once. For HEAD's view: one tip is kept. A shallow clone, or a
 * cache that cannot be written, falls back to the in-memory walk. */
void roar_history_keep_in(roar_history *h, roar_cache *cache);

/* The commit the view is of (borrowed). */
const char *roar_history_commit(const roar_history *h);

/* *out = whether `commit_hex` is the view's commit or one of its ancestors. The first
 * call walks the whole history once (breadth-first; shallow roots and commits whose
 * parents are missing count as roots), so each later answer is a hash lookup: queries
 * ask about many commits, and one walk per question would be quadratic. A malformed id
 * or a commit this clone lacks is simply not reachable (false). */
int roar_history_reaches(bool *out, roar_history *h, const char *commit_hex);

/* The blob id at `path` (relative to the top, `/`-separated) in the view's tree, in
 * `out`. ROAR_ENOTFOUND when the tree has no blob there (no entry, a directory, a
 * submodule) or for a path outside the work tree (absolute). */
int roar_history_tree_blob(char out[ROAR_OID_HEXSZ + 1], roar_history *h, const char *path);

#endif
