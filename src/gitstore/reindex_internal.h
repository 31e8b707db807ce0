/* Private to src/gitstore/reindex*.c: what the cache update (reindex.c) and the check
 * that reads the same sources without the cache (reindex_check.c, fsck) share. */
#ifndef ROAR_GITSTORE_REINDEX_INTERNAL_H
#define ROAR_GITSTORE_REINDEX_INTERNAL_H

#include <stdbool.h>

#include "gitstore/notes.h"
#include "gitstore/pending.h"
#include "gitstore/reindex.h"
#include "util/pool.h"

/* The pending records on disk: pending/<id>@<key> and those inside claim dirs
 * (pending/.claim-*), which an attach in progress still holds as pending. */
typedef struct {
    roar_pending_list list;   /* pending/ itself */
    roar_pending_list claims; /* every claim dir's entries, concatenated */
    char **claim_dirs;        /* the directory of each entry of `claims` (borrowed) */
    char **dirs;              /* owned claim dir paths */
    size_t ndirs, dirs_alloc, claim_alloc;
} pending_files;

int roar_reindex__pending_files_read(pending_files *out, roar_repo *repo);
void roar_reindex__pending_files_dispose(pending_files *p);
/* Whether job `id` has a pending record (in pending/ or a claim dir). */
bool roar_reindex__pending_has(const pending_files *p, const char *id);
/* A signature of the listing: the SHA-1 of the common dir and every listed name (record
 * files are written once under their job id, so equal names mean equal records). */
int roar_reindex__pending_signature(char out[ROAR_OID_HEXSZ + 1], roar_repo *repo,
                                    const pending_files *p);

/* The tip of a notes ref to read. A ref that does not point at a commit (a remote's
 * notes ref pointing at a blob, a tree or a tag, brought in by a plain `git fetch`) is
 * reported through cb, every time, and counted in *problems; ROAR_ENOTFOUND for an
 * absent or skipped ref. */
int roar_reindex__usable_tip(git_oid *out, roar_repo *repo, const char *ref, size_t *problems,
                             roar_reindex_problem_cb cb, void *payload);

/* The line number at the start of a codec message, "line N: ...", or 0. */
size_t roar_reindex__message_line(const char *msg);

/* Reports a problem of the pending record dir/name through cb (NULL: nothing). */
int roar_reindex__report_pending(roar_reindex_problem_cb cb, void *payload, const char *dir,
                                 const char *name, size_t line, const char *message);

/* Progress of one update (reindex_progress.c): counted and reported only while a
 * callback is registered (roar_reindex_set_progress). */
typedef struct {
    roar_reindex_progress now;
    bool reported; /* something was reported: the end must be too */
} reindex_progress;

/* Adds the notes of the notes commit `tip` to the notes to read. */
void roar_reindex__progress_count(reindex_progress *p, roar_repo *repo, const git_oid *tip);
/* One note read, holding `jobs` records. */
void roar_reindex__progress_note(reindex_progress *p, size_t jobs);
/* The next phase (BUILDING or DONE); DONE is reported only after anything else was. */
void roar_reindex__progress_phase(reindex_progress *p, roar_reindex_phase phase);

/* State an update keeps in cache meta (reindex_meta.c): each ref's last indexed tip,
 * and the problems found in its notes, reported again on every call until fixed. */
typedef struct {
    char *ref;
    git_oid tip;
    bool has_tip; /* current refs: the ref exists */
} ref_state;

typedef struct {
    ref_state *items;
    size_t count, alloc;
} ref_list;

typedef struct {
    char *ref;
    char object[ROAR_OID_HEXSZ + 1];
    size_t line;
    char *message;
} stored_problem;

typedef struct {
    stored_problem *items;
    size_t count, alloc;
} problem_list;

void roar_reindex__ref_list_dispose(ref_list *l);
ref_state *roar_reindex__ref_list_find(ref_list *l, const char *ref);
int roar_reindex__ref_list_add(ref_list *l, const char *ref, const git_oid *tip);
void roar_reindex__problem_list_dispose(problem_list *l);
/* Drops the problems of `ref` on `object` (NULL: on every object). */
void roar_reindex__problem_list_forget(problem_list *l, const char *ref, const char *object);
int roar_reindex__problem_list_add(problem_list *l, const char *ref, const char *object,
                                   size_t line, const char *message);
/* In the order problems are reported: by ref, object, line. */
void roar_reindex__problem_list_sort(problem_list *l);
/* Reads / writes the refs' tips and the problems (meta keys in reindex.h). */
int roar_reindex__load_meta(ref_list *indexed, problem_list *problems, roar_cache *cache);
int roar_reindex__save_meta(roar_cache *cache, const ref_list *indexed,
                            const problem_list *problems);

/* ---- notes read ahead on a worker thread (reindex_loader.c) ----------------------- */

typedef struct reindex_loader reindex_loader;

typedef struct {
    size_t line;
    char *message;
} reindex_loaded_problem;

/* One note submitted to the loader; once taken, its note or its error, and the
 * problems the reader reported (to be recorded by the storing thread). */
typedef struct {
    roar_pool_task task; /* first: the pool hands it back as this struct */
    reindex_loader *loader;
    char object[ROAR_OID_HEXSZ + 1];
    git_oid *blobs;
    size_t blob_count;
    roar_note note;
    reindex_loaded_problem *problems;
    size_t problem_count, problems_alloc;
    int error;           /* roar_notes_load's return */
    char *error_message; /* its message, taken on the worker's thread */
} reindex_loaded;

/* A loader with one worker thread, reading with its own handles on repo's git dir. */
int roar_reindex__loader_new(reindex_loader **out, roar_repo *repo);
/* Queues the read of change c's new note (c is copied). ROAR_ERROR when the window is
 * full: take one first. */
int roar_reindex__loader_submit(reindex_loader *l, const roar_notes_change *c);
/* The oldest submitted note, in submission order, once read: when the window is full,
 * or (wait) whenever one is queued; NULL otherwise. The caller frees it. */
reindex_loaded *roar_reindex__loader_take(reindex_loader *l, bool wait);
void roar_reindex__loaded_free(reindex_loaded *item);
/* Drops what is still queued and frees the loader. NULL-safe. */
void roar_reindex__loader_free(reindex_loader *l);

#endif
