/* Stale ref locks (issue 16 item 8): a `<ref>.lock` left by a writer killed with -9
 * would block every later update of the notes ref; this finds and removes such a lock. */
#ifndef ROAR_GITSTORE_REFLOCK_H
#define ROAR_GITSTORE_REFLOCK_H

#include "gitstore/repo.h"
#include "util/buf.h"

/* A ref lock older than this is stale unless a live process holds it open. git and
 * libgit2 hold a ref lock for milliseconds (write one line, rename); ten seconds is
 * far beyond any live writer on a loaded machine, and short enough that the first
 * command after a crash waits at most that long. */
#define ROAR_REFLOCK_STALE_SECS 10

typedef enum {
    ROAR_REFLOCK_NONE,    /* no lock file: the ref is free (or was freed meanwhile) */
    ROAR_REFLOCK_YOUNG,   /* a lock younger than the bound: a live writer, wait */
    ROAR_REFLOCK_REMOVED, /* a stale lock was removed (and a notice given) */
} roar_reflock_state;

/* Replaces out's contents with the lock file of `ref` (`<common dir>/<ref>.lock`). */
int roar_reflock_path(roar_buf *out, roar_repo *repo, const char *ref);

/* Looks at `ref`'s lock file. When it is older than ROAR_REFLOCK_STALE_SECS and no
 * process we can see has it open, removes it (atomically: it is renamed aside and
 * removed only if it is still the file that was judged stale) and gives a notice naming
 * it. An old lock that a live process holds, or one we cannot remove, is an error whose
 * message names the file. */
int roar_reflock_check(roar_reflock_state *out, roar_repo *repo, const char *ref);

/* Waits until `ref` has no lock file: a young one is waited for until it goes or turns
 * stale (then roar_reflock_check removes it with a notice), so at most about
 * ROAR_REFLOCK_STALE_SECS after a writer was killed. For the updates that, unlike the
 * notes ref's compare-and-swap, have no retry loop of their own: a tracking ref that
 * git fetch or libgit2 is about to write. An error names the lock file when it is still
 * there after twice the bound (a writer that keeps taking it), or is held. */
int roar_reflock_wait(roar_repo *repo, const char *ref);

#endif
