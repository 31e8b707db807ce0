/* Which jobs answer for a commit and the work tree (SPEC §5.5): the one scope rule
 * that every query asks, so that no two commands disagree about what produced a file. */
#ifndef ROAR_GRAPH_SCOPE_H
#define ROAR_GRAPH_SCOPE_H

#include <stdbool.h>
#include <stdint.h>

#include "graph/cache.h"

/* The git side of a commit C, supplied by the caller: the graph layer knows no git. */
typedef struct {
    /* *out = whether `commit` (40 hex) is C or one of its ancestors; a commit this
     * clone lacks is false, not an error. */
    int (*reaches)(bool *out, const char *commit, void *payload);
    /* The blob id at `path` (relative to the top) in C's tree; ROAR_ENOTFOUND when the
     * tree has no blob there. */
    int (*tree_blob)(char out[ROAR_OID_HEXSZ + 1], const char *path, void *payload);
    void *payload;
} roar_scope_commit;

typedef struct {
    const roar_scope_commit *commit; /* C; NULL when there is none (an unborn branch) */
    const char *worktree;            /* top of the work tree: an output C's tree lacks
                                        (git-ignored or untracked) counts when the file
                                        there holds it now; NULL: no work-tree check */
    const char *pending_of;          /* git dir of the worktree whose pending jobs are in
                                        scope; NULL: none */
    int64_t now_ms;                  /* the clock, for the sanity check of `end` */
} roar_scope_opts;

/* Why a job is in scope, in the order the rule is tried. */
typedef enum {
    ROAR_SCOPE_OUT = 0,   /* not in scope */
    ROAR_SCOPE_PENDING,   /* a pending job of the worktree */
    ROAR_SCOPE_ATTACHED,  /* attached to C or an ancestor of C */
    ROAR_SCOPE_CONTENT,   /* an output it wrote (path and blob id) is in C's tree, or
                             in the work tree where C's tree lacks the path */
} roar_scope_reason;

/* An `end` further in the future than this is not believed: a note with a year-9999
 * end would otherwise be the producer of every path it names. */
#define ROAR_SCOPE_CLOCK_SKEW_MS (24LL * 3600 * 1000)

typedef struct roar_scope roar_scope;

/* A scope over `cache` (borrowed, as are the strings and callbacks of `opts`, which
 * must outlive the scope). Decisions are memoised per job. */
int roar_scope_new(roar_scope **out, roar_cache *cache, const roar_scope_opts *opts);
void roar_scope_free(roar_scope *s);

/* Whether the job is in scope, and why. A job whose `end` lies more than
 * ROAR_SCOPE_CLOCK_SKEW_MS past opts->now_ms, or before its `start`, is never in scope
 * (it is counted, see roar_scope_distrusted). ROAR_ENOTFOUND when the job is not
 * stored. */
int roar_scope_reason_of(roar_scope_reason *out, roar_scope *s, const char *job_id);
int roar_scope_has(bool *out, roar_scope *s, const char *job_id);

/* How many jobs were left out so far for times that cannot be true. */
size_t roar_scope_distrusted(const roar_scope *s);

/* A path's producer (SPEC §5.5, §6.2): among the in-scope jobs that exited 0 and wrote
 * the path, the one with the greatest end (then start, then id). Plain data. */
typedef struct {
    char *path; /* owned by the list */
    char job_id[ROAR_OID_HEXSZ + 1];
    int64_t end_ms;
    bool id_known;
    char id[ROAR_OID_HEXSZ + 1]; /* what it wrote, when id_known */
    uint64_t size;
} roar_scope_output;

typedef struct {
    roar_scope_output *items; /* sorted by path (memcmp) */
    size_t count, alloc;
} roar_scope_output_list;
#define ROAR_SCOPE_OUTPUT_LIST_INIT {NULL, 0, 0}
void roar_scope_output_list_dispose(roar_scope_output_list *list);

/* Whether a recorded path is `dir` or lies beneath it: NULL means everything, "." the
 * whole work tree (every relative path), anything else a path as records write it (a
 * trailing `/` is ignored). The one meaning of a directory argument (SPEC §3 OBJ). */
bool roar_scope_path_under(const char *path, const char *dir);

/* Every recorded output in scope with its producer, sorted by path; a path that a later
 * in-scope, successful job deleted is retired (not listed). Only the paths under
 * `prefix` (roar_scope_path_under). Replaces the list's contents. */
int roar_scope_outputs(roar_scope_output_list *out, roar_scope *s, const char *prefix);

#endif
