/* Seeds the stat cache (SPEC §4.6) from git's index: tracked files whose stat still
 * matches their index entry get the entry's blob id without being read. */
#ifndef ROAR_GITSTORE_INDEX_SEED_H
#define ROAR_GITSTORE_INDEX_SEED_H

#include <stddef.h>

#include <git2.h>

#include "graph/cache.h"

/* Stores a hash cache row for each index entry whose id is provably the blob id of the
 * file's current work-tree bytes. An entry is used only when all of these hold:
 *  - stage 0 (not conflicted), not assume-unchanged, skip-worktree or intent-to-add;
 *  - mode 100644 or 100755 and lstat shows a regular file (no symlinks, gitlinks);
 *  - lstat matches the entry as git stores it: mtime and ctime (seconds and ns), size,
 *    inode and device, compared on the 32 bits the index keeps of each;
 *  - not racy under git's own rule: mtime and ctime older than the index file's own
 *    mtime (roar_hash_is_racy_at_stamp, hash.h; an entry whose mtime is >= the index
 *    mtime may have changed unseen after git hashed it). A racy entry is read again, as
 *    git's refresh does, under a stamp of the file clock taken before the read (a file
 *    created in the git dir), if the entry is not racy against that stamp: at most 256
 *    files and 64 MiB a seed;
 *  - none of the attributes filter, text (set or auto), eol, ident,
 *    working-tree-encoding is set or has a value for the path: git hashed the cleaned
 *    bytes, not the work-tree bytes. (libgit2 reads the rules of the work tree's and
 *    of the index's .gitattributes both, where git prefers the work tree's: a rule in
 *    either keeps the path out, which errs on the safe side.)
 * Nothing is seeded when core.autocrlf is true or input (or not a valid boolean), for
 * the same reason. Rows carry the full identity from lstat and, as their hashing time, the
 * index file's mtime (or the stamp) plus the margin (roar_hash_stamp_row_time); identities that already have a trusted row are left alone.
 *
 * `repo` and `cache` are borrowed; `workdir` is the work tree root (with or without a
 * trailing slash). The index is re-read from disk if it changed. All rows are written
 * in one cache transaction. `out_seeded` (may be NULL) receives the number of rows
 * written. Errors: ROAR_EINVALID without a work tree, ROAR_ERROR with libgit2's or
 * the cache's message otherwise. */
int roar_index_seed_cache(size_t *out_seeded, roar_cache *cache, git_repository *repo,
                          const char *workdir);

#endif
