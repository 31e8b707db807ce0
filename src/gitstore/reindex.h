/* Keeps the SQLite cache in step with its sources (SPEC §3 reindex, §6.1): the local notes
 * ref, every refs/notes/remotes/<remote>/roar, and the pending records. */
#ifndef ROAR_GITSTORE_REINDEX_H
#define ROAR_GITSTORE_REINDEX_H

#include <stdbool.h>
#include <stddef.h>

#include "gitstore/repo.h"
#include "graph/cache.h"

/* The tracking refs `git roar fetch` and the init refspec fill: refs/notes/remotes/<r>/roar. */
#define ROAR_REINDEX_REMOTE_PREFIX "refs/notes/remotes/"
#define ROAR_REINDEX_REMOTE_SUFFIX "/roar"

/* Cache meta keys (docs/notes.md): the last indexed notes commit of each ref, as lines
 * "<commit id> <ref>", and the unreadable records found in them, as lines
 * "<ref> TAB <commit> TAB <line> TAB <message>". */
#define ROAR_REINDEX_META_INDEXED "notes-indexed"
#define ROAR_REINDEX_META_PROBLEMS "notes-problems"
/* ... and a signature (40 hex) of the pending records listed when the cache's pending
 * marks were last made to match them; absent while a listed record is broken. */
#define ROAR_REINDEX_META_PENDING "pending-listed"

/* Something that could not be indexed: an unreadable record in a note, or a pending
 * record that does not parse. Every field is borrowed for the call. */
typedef struct {
    const char *ref;     /* the notes ref holding the note, or NULL */
    const char *object;  /* the commit the note is on (40 hex), or NULL */
    const char *path;    /* a pending record's file, or NULL */
    size_t line;         /* 1-based line in the note or the file; 0: not about a line */
    const char *message; /* what is wrong, e.g. "line 3: malformed size in 'in' line" */
} roar_reindex_problem;

/* Return 0 to go on; anything else stops the reindex, which returns that value. */
typedef int (*roar_reindex_problem_cb)(const roar_reindex_problem *problem, void *payload);

/* Replaces out's contents with the one-line text commands print for a problem (after
 * "warning: " or "error: "): "<ref>: note on <commit>: line N: <what>" or
 * "<path>: line N: <what>". */
int roar_reindex_problem_format(roar_buf *out, const roar_reindex_problem *problem);

typedef struct {
    size_t refs_indexed;     /* notes refs whose changes were read */
    size_t notes_read;       /* notes (one per commit) read */
    size_t jobs_indexed;     /* records put into the cache (already present ones included) */
    size_t detached;         /* (job, commit) attachments removed */
    size_t pending_marked;   /* pending records added to the cache */
    size_t pending_unmarked; /* cache marks of records no longer pending */
    size_t problems;         /* problems reported to the callback */
} roar_reindex_stats;

/* Opens `<roar dir>/cache.db`, creating the roar dir when missing. With `recreate`, a
 * cache that is corrupt or from a newer schema is removed (with its -wal and -shm
 * files) and created anew: it is derived data. The caller frees *out. */
int roar_reindex_open_cache(roar_cache **out, roar_repo *repo, bool recreate);

/* Brings the cache up to date, in one transaction:
 *  - for each notes ref (the local one, roar_notes_ref, and refs/notes/remotes/x/roar)
 *    whose tip moved since it was last indexed, the notes that changed (a notes tree
 *    diff: cost follows the change, not the number of notes): their records are put
 *    and attached to the commit; records gone from a note are detached unless another
 *    indexed ref still has them on that commit; a job left with no attachment that is
 *    not pending is removed. A ref that disappeared counts as emptied.
 *  - pending records (every worktree's, and those claimed by an attach in progress) not
 *    yet in the cache are put and marked; marks whose file is gone are removed.
 * `full`: empties the cache's jobs first and reads everything again.
 * Problems (unreadable records in notes, broken pending files) are remembered in the
 * cache and reported to cb (may be NULL) on EVERY call, so each reading command can
 * warn until they are fixed. `out` may be NULL.
 * Cheap when nothing moved (a few ref reads, one directory listing, three meta reads; no
 * job is read, nothing is written): reading commands (log, show, lineage, status,
 * review, export) call it first. Any change (a ref moved, a pending name came or
 * went, the stored signature is missing) does the work above in one transaction. */
int roar_reindex_update(roar_reindex_stats *out, roar_repo *repo, roar_cache *cache, bool full,
                        roar_reindex_problem_cb cb, void *payload);

/* *out = whether there is anything to index: a notes ref (local or remote tracking)
 * or a pending record. A reading command with no cache yet creates one only then. */
int roar_reindex_has_sources(bool *out, roar_repo *repo);

/* Progress of an update that has notes to read, for a terminal to show: the notes read
 * so far and the notes to read (0 when not known ahead: an incremental update), then
 * the indexes being built (a first or full index builds them once at the end), then
 * the end. Plain data, borrowed for the call. */
typedef enum {
    ROAR_REINDEX_READING,
    ROAR_REINDEX_BUILDING,
    ROAR_REINDEX_DONE,
} roar_reindex_phase;

typedef struct {
    roar_reindex_phase phase;
    size_t notes_done, notes_total, jobs;
} roar_reindex_progress;

typedef void (*roar_reindex_progress_cb)(const roar_reindex_progress *p, void *payload);

/* Registers the one progress callback (NULL: none) of this process: every later update
 * that reads notes calls it after each note, at each phase, and once at the end. The
 * CLI registers one when stderr is a terminal; the updates are too many call sites
 * deep (every reading command refreshes first) to thread it through each. Counting the
 * notes ahead costs a walk of the notes tree, done only while a callback is set. */
void roar_reindex_set_progress(roar_reindex_progress_cb cb, void *payload);

/* The refresh every reading command calls first: roar_reindex_update without `full`. */
int roar_reindex_refresh(roar_repo *repo, roar_cache *cache, roar_reindex_problem_cb cb,
                         void *payload);

typedef struct {
    size_t refs;     /* notes refs read */
    size_t notes;    /* notes read (one per commit and ref) */
    size_t records;  /* records that parsed */
    size_t pending;  /* pending records read (claimed ones included) */
    size_t problems; /* problems reported */
} roar_reindex_check_stats;

/* `git roar fsck`: reads every note of every notes ref (roar_reindex_refs) and every
 * pending record (claimed ones too), with no cache, and reports to cb each record that
 * does not parse or whose job id does not match its content (codec errors, with the
 * commit and the line), and each pending file whose name does not match its job.
 * Problems are reported, not returned: the return value is 0 unless reading failed. */
int roar_reindex_check(roar_reindex_check_stats *out, roar_repo *repo, roar_reindex_problem_cb cb,
                       void *payload);

/* Replaces out's contents with the git dir of the worktree whose pending key is `key`
 * (`main`: the common dir; else `<common dir>/worktrees/<key>`): what the cache's
 * pending marks hold (roar_cache_pending_mark). */
int roar_reindex_worktree_gitdir(roar_buf *out, roar_repo *repo, const char *key);

/* The notes refs to index, sorted: the local ref first, then the remote tracking refs.
 * `*out` is a malloc'd array of malloc'd strings; free with roar_reindex_refs_free. */
int roar_reindex_refs(char ***out, size_t *count, roar_repo *repo);
void roar_reindex_refs_free(char **refs, size_t count);

#endif
