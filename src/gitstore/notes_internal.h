/* Private to src/gitstore/notes*.c: the helpers the reader, differ, writer and merger of
 * notes trees share (tree entry kinds, oid vectors, the object store, note blobs). */
#ifndef ROAR_GITSTORE_NOTES_INTERNAL_H
#define ROAR_GITSTORE_NOTES_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <git2.h>

#include "gitstore/notes.h"
#include "util/buf.h"

#define HEXSZ ROAR_OID_HEXSZ

/* Sets the message from libgit2's last error, prefixed with what we were doing. */
int roar_notes__git_fail(int code, const char *what);

/* Whether s[0..n) is lower-case hex and s[n] ends the string. */
bool roar_notes__is_lower_hex(const char *s, size_t n);

/* A tree entry that holds the note of an object at this depth: a blob whose name is the
 * rest of the object id. git writes lower-case hex; so do we, and we read only that. */
bool roar_notes__is_note_entry(const git_tree_entry *e, size_t depth);

/* A fanout subtree at this depth: a tree named by the next two hex digits. */
bool roar_notes__is_fanout_entry(const git_tree_entry *e, size_t depth);

/* The tree of a notes commit; *out NULL for a NULL commit (no notes). */
int roar_notes__tree(git_tree **out, git_repository *git, const git_oid *commit_id);

/* ---- oid vectors (notes.c) -------------------------------------------------------- */

typedef struct {
    git_oid *items;
    size_t count, alloc;
} oid_vec;

int roar_notes__oid_vec_push(oid_vec *v, const git_oid *id);
int roar_notes__oid_vec_push_unique(oid_vec *v, const git_oid *id);
void roar_notes__oid_vec_dispose(oid_vec *v);

/* ---- where new objects go (notes_objstore.c) --------------------------------------- */

/* From this many notes on, new objects go to memory and then one pack. */
#define NOTES_BULK_ITEMS 64

typedef struct {
    git_repository *git;      /* objects are written to and read from this one */
    git_repository *wrapped;  /* owned in bulk mode: an odb-only view of the repo */
    git_odb_backend *mempack; /* owned by the wrapped repo's odb */
    oid_vec created;          /* bulk mode: what to pack */
} objstore;

int roar_notes__objstore_open(objstore *s, roar_repo *repo, bool bulk);
/* Notes an object just written, for the pack (bulk mode only). */
int roar_notes__objstore_track(objstore *s, const git_oid *id);
/* Bulk mode: packs the objects written so far into the repository, so that the ref
 * never points at objects that exist only in memory. */
int roar_notes__objstore_flush(objstore *s, roar_repo *repo);
void roar_notes__objstore_close(objstore *s);

/* ---- note blobs (notes_read.c) ------------------------------------------------------ */

/* Unreadable records of notes being rewritten, kept verbatim and unique. */
typedef struct {
    roar_buf *items;
    size_t count, alloc;
} junk_list;

void roar_notes__junk_dispose(junk_list *j);

/* Parses one note blob into `out`. A note over the size limit is reported as a
 * problem (nothing of it is read) when `junk` is NULL, and is an error when rewriting,
 * since it could be neither kept nor read; with `junk`, unreadable records are kept
 * there. */
int roar_notes__load_blob(roar_note *out, git_repository *git, const git_oid *id,
                          const char *object, roar_notes_problem_cb cb, void *payload,
                          junk_list *junk);

/* ---- what a write does to each note (notes_write.c) --------------------------------- */

/* What to do to the note of one object: the caller's edits, and other note blobs to
 * union in (entries moved down a fanout level, or the other side of a merge). Several
 * items may name one object; the writer takes them together. */
typedef struct {
    char object[HEXSZ + 1];
    roar_notes_edit *edit; /* borrowed, or NULL */
    oid_vec blobs;
} witem;

typedef struct {
    witem *items;
    size_t count, alloc;
} witem_vec;

void roar_notes__witem_vec_dispose(witem_vec *v);
/* A new zeroed item for `object`; NULL (error set) when out of memory. */
witem *roar_notes__witem_vec_add(witem_vec *v, const char *object);

/* Builds a tree from the tip's tree and `items`, commits it with `extra_parent` (the
 * other side of a merge, or NULL) and swaps the ref; retried by the callers, who pass
 * `first` on the first attempt only (problems are reported once). ROAR_ECHANGED when
 * another writer moved the ref. */
int roar_notes__apply_items(roar_notes_update *up, size_t *changed, objstore *store,
                            roar_repo *repo, const char *ref, witem **items, size_t n,
                            const git_oid *extra_parent, const char *message,
                            roar_notes_problem_cb cb, void *payload, int first);

/* ---- notes commits (notes_commit.c) ------------------------------------------------ */

/* Writes a notes commit of `tree_id` with 0 to 2 parents to the store. */
int roar_notes__make_commit(git_oid *out, objstore *store, roar_repo *repo, const git_oid *tree_id,
                            const git_oid *parent_ids, size_t parent_count, const char *message);
/* After try number `attempt` (0-based) of a compare-and-swap ended in *error: true
 * (after a backoff) when another writer moved `ref` and the retry budget lasts; false
 * when *error is final, which it becomes once the budget is spent. A stale lock file
 * of `ref` (gitstore/reflock.h) is removed, with a notice, and retried at once. */
bool roar_notes__retry(int *error, unsigned attempt, roar_repo *repo, const char *ref);
/* "notes: <first line of message>", for the reflog. */
int roar_notes__reflog_message(roar_buf *out, const char *message);
/* The commit message ends in a newline, as git's notes commits do. */
int roar_notes__commit_message(roar_buf *out, const char *message);

#endif
