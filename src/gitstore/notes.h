/* Lineage in git notes (SPEC §5.2-5.4): reading the note on a commit, writing many notes
 * as one notes commit with git's 2/38 fanout, diffing and union-merging notes trees. */
#ifndef ROAR_GITSTORE_NOTES_H
#define ROAR_GITSTORE_NOTES_H

#include <stdbool.h>
#include <stddef.h>

#include <git2.h>

#include "gitstore/repo.h"
#include "graph/record.h"
#include "util/buf.h"

#define ROAR_NOTES_DEFAULT_REF "refs/notes/roar"

/* A level of the notes tree holds at most this many notes before it is split into
 * 2-hex subtrees (SPEC §5.3: fanout "once it holds more than 256 notes"). */
#define ROAR_NOTES_FANOUT_THRESHOLD 256

/* Replaces out's contents with the notes ref: git config `roar.notesRef`, expanded as
 * git expands `core.notesRef` ("x" -> "refs/notes/x", "notes/x" -> "refs/notes/x"),
 * else refs/notes/roar. ROAR_EINVALID when the configured name is not a valid ref. */
int roar_notes_ref(roar_buf *out, roar_repo *repo);

/* Adds `ref` to the multi-valued git config notes.rewriteRef (repository config) unless
 * a value already covers it (equal, or a glob matching it), so that `git commit --amend`
 * and `git rebase` carry the notes over (SPEC §3 init). *added says whether it was. */
int roar_notes_add_rewrite_ref(bool *added, roar_repo *repo, const char *ref);

/* *out = the commit `ref` points at. ROAR_ENOTFOUND when the ref does not exist (no
 * notes yet); ROAR_EINVALID when it does not point at a commit. */
int roar_notes_tip(git_oid *out, roar_repo *repo, const char *ref);

/* Replaces out's contents with the names of the remotes whose tracking notes ref
 * (refs/notes/remotes/<remote>/roar) holds notes that `ref` lacks (it is not an
 * ancestor of the local tip, or there is no local tip), space-separated; empty when
 * none. Reads local refs only. */
int roar_notes_remotes_ahead(roar_buf *out, roar_repo *repo, const char *ref);

/* ---- reading ------------------------------------------------------------------ */

/* A record of a note that could not be read, with the annotated object. */
typedef struct {
    const char *object;  /* 40-hex id of the commit the note is on */
    size_t record_line;  /* 1-based line of the note blob where the record starts */
    size_t line;         /* 1-based line of the problem */
    int code;            /* ROAR_EINVALID or ROAR_ELIMIT */
    const char *message; /* "line N: what is wrong"; borrowed for the call */
} roar_notes_problem;

/* Return 0 to go on; anything else stops the operation, which returns that value. */
typedef int (*roar_notes_problem_cb)(const roar_notes_problem *problem, void *payload);

/* Adds the records of the note on `object_hex` in the notes commit `notes_commit` to
 * `out` (initialised by the caller; records already there stay, duplicates by id are
 * kept once). The note is found whatever the fanout (flat, 2/38, 2/2/36 ...), and
 * several entries for one object (a tree in transition) are all read. Bad records are
 * reported to cb (may be NULL) and skipped. ROAR_ENOTFOUND when the object has no note
 * (out unchanged); ROAR_EINVALID for a malformed object id. */
int roar_notes_read(roar_note *out, roar_repo *repo, const git_oid *notes_commit,
                    const char *object_hex, roar_notes_problem_cb cb, void *payload);

/* Adds the records of the blobs `blobs[0..count)` (the note entries of one object, as
 * roar_notes_diff reports them) to `out`, as roar_notes_read does. */
int roar_notes_load(roar_note *out, roar_repo *repo, const git_oid *blobs, size_t count,
                    const char *object_hex, roar_notes_problem_cb cb, void *payload);

/* ---- diffing --------------------------------------------------------------------- */

/* The note entries of one object that differ between two notes trees. An object
 * normally has one entry; a tree being converted between fanouts may hold two. */
typedef struct {
    char object[ROAR_OID_HEXSZ + 1];
    const git_oid *old_blobs; /* the note's blobs in the old tree; old_count 0: no note */
    size_t old_count;
    const git_oid *new_blobs; /* ... in the new tree; new_count 0: the note is gone */
    size_t new_count;
} roar_notes_change;

typedef int (*roar_notes_diff_cb)(const roar_notes_change *change, void *payload);

/* Calls cb for every object whose note differs between the notes commits `old_commit`
 * and `new_commit` (either may be NULL: no notes), in object id order, whatever the
 * fanout of either side. Subtrees with the same id on both sides are skipped unread,
 * so the cost follows the size of the change. roar_notes_diff(NULL, c) lists every
 * note. A non-zero return from cb stops the walk and is returned. */
int roar_notes_diff(roar_repo *repo, const git_oid *old_commit, const git_oid *new_commit,
                    roar_notes_diff_cb cb, void *payload);

/* ---- writing ----------------------------------------------------------------------- */

/* One change to the note on one object: records to union in and job ids to remove.
 * Several edits may name the same object. */
typedef struct {
    char object[ROAR_OID_HEXSZ + 1]; /* 40 lower-case hex digits */
    roar_note *add;                  /* borrowed; sorted in place; NULL: nothing to add */
    const char *const *remove;       /* borrowed job ids (40 hex) to remove; may be NULL */
    size_t remove_count;
} roar_notes_edit;

/* What an update of the notes ref did. */
typedef struct {
    bool had_old;    /* the ref existed before */
    git_oid old_tip; /* its commit then (when had_old) */
    bool changed;    /* a notes commit was written and the ref moved to it */
    git_oid new_tip; /* the ref's commit afterwards (== old_tip when !changed) */
} roar_notes_update;

/* Applies `edits` to the notes at `ref` as ONE notes commit (parent: the old tip),
 * then moves the ref with compare-and-swap, rebuilding on the new tip and retrying when
 * another writer got there first (for up to about 30 s), so concurrent writers lose
 * nothing. Each touched note becomes the union, by job id, of what was there and the
 * records added, minus the ids removed, sorted (SPEC §5.2); an emptied note is removed.
 * Records of an existing note that do not parse are reported to cb (may be NULL) and
 * kept verbatim after the good ones: a rewrite never deletes what it cannot read.
 * Only the subtrees holding touched notes are rewritten; a level is split into 2-hex
 * subtrees when it would hold more than ROAR_NOTES_FANOUT_THRESHOLD notes. `message`
 * is the commit message (e.g. "Notes added by 'git roar attach'"). The committer is
 * GIT_COMMITTER_NAME/EMAIL, else user.name/user.email, else "git roar"
 * <git-roar@localhost>. When nothing changes, no commit is written (out->changed false).
 * `out` may be NULL. */
int roar_notes_write(roar_notes_update *out, roar_repo *repo, const char *ref,
                     roar_notes_edit *edits, size_t count, const char *message,
                     roar_notes_problem_cb cb, void *payload);

/* ---- merging ------------------------------------------------------------------------ */

typedef enum {
    ROAR_NOTES_UP_TO_DATE = 0, /* theirs was already contained in ours */
    ROAR_NOTES_FAST_FORWARD,   /* our ref moved to theirs (or was created at theirs) */
    ROAR_NOTES_MERGED,         /* a merge commit with parents (ours, theirs) */
} roar_notes_merge_kind;

typedef struct {
    roar_notes_merge_kind kind;
    size_t notes_changed; /* notes of ours that the merge changed or added */
    roar_notes_update update;
} roar_notes_merge_result;

/* Merges the notes commit `theirs` into `ref` (SPEC §5.4): nothing when theirs is an
 * ancestor of ours, a fast-forward when ours is an ancestor of theirs (or ref does not
 * exist), else a merge commit whose parents are our tip and theirs and whose notes are
 * unions by job id, note by note, whatever either side's fanout; so a following push
 * is a fast-forward and no local record is ever dropped. The ref moves with
 * compare-and-swap and retry as in roar_notes_write. `out` may be NULL. */
int roar_notes_merge(roar_notes_merge_result *out, roar_repo *repo, const char *ref,
                     const git_oid *theirs, const char *message, roar_notes_problem_cb cb,
                     void *payload);

/* ---- helpers shared by the gitstore modules ---------------------------------------- */

/* Moves `ref` from `expected` (NULL: the ref must not exist) to `target` with
 * compare-and-swap. ROAR_ECHANGED when the ref was not at `expected` or was locked by
 * another writer (the caller rereads and retries); other errors as usual. */
int roar_notes_ref_swap(roar_repo *repo, const char *ref, const git_oid *expected,
                        const git_oid *target, const char *reflog_message);

/* Sleeps a little before retry number `attempt` (0-based) of a compare-and-swap, with
 * jitter so that racing writers spread out. false when the retry budget (about 30 s)
 * is spent. */
bool roar_notes_backoff(unsigned attempt);

#endif
