/* Which files a commit changed and whether a recorded job produced each new content,
 * compared as work-tree bytes (SPEC §4.6); shared by `show COMMIT` and `review`. */
#ifndef ROAR_CLI_EXPLAIN_H
#define ROAR_CLI_EXPLAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "gitstore/repo.h"
#include "graph/cache.h"
#include "graph/job.h"

/* One file the commit changed against its first parent (the empty tree for a root). */
typedef struct {
    char *path;  /* owned; the new path (the old one for a deletion), `/`-separated */
    char status; /* 'A' added, 'M' modified, 'D' deleted, 'R' renamed, 'T' type change */
    char blob[ROAR_OID_HEXSZ + 1];          /* the committed blob id; "" when deleted */
    char worktree_blob[ROAR_OID_HEXSZ + 1]; /* its work-tree form (smudged); == blob
                                               when no filter applies */
    uint64_t size;                          /* committed size */
    /* Jobs that exited 0 and wrote this content (either id) at this path, newest
     * first, each once; the producer matched by ROAR_ROLE_OUT edges of the cache. The
     * caller applies the scope. */
    roar_cache_id_list producers;
} roar_explain_file;

typedef struct {
    roar_explain_file *items;
    size_t count, alloc;
} roar_explain_list;
#define ROAR_EXPLAIN_LIST_INIT                                                                     \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }
void roar_explain_list_dispose(roar_explain_list *list);

/* Fills `out` (replacing its contents) with the files `commit_hex` changed, sorted by
 * path. `cache` may be NULL (no producers then). Submodules and symlinks are listed
 * with no producer lookup beyond their ids. Borrowed arguments. */
int roar_explain_commit(roar_explain_list *out, roar_repo *repo, roar_cache *cache,
                        const char *commit_hex);

/* The files that differ between the trees of `base_hex` (NULL or "": the empty tree)
 * and `tip_hex`, as roar_explain_commit lists a commit's, sorted by path; work-tree
 * forms as of the tip. */
int roar_explain_range(roar_explain_list *out, roar_repo *repo, roar_cache *cache,
                       const char *base_hex, const char *tip_hex);

/* The successful producers of either id (id2 may be NULL or equal to id1) that wrote it
 * at `path` (NULL: at any path), newest first, each job once, appended to `out`. */
int roar_explain_producers(roar_cache_id_list *out, roar_cache *cache, const char *path,
                           const char *id1, const char *id2);

#endif
