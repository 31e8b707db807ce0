/* The note text codec (SPEC §5.1, §5.2): a roar_job <-> its record text, the job id,
 * and notes (several records) parsed, deduplicated, sorted and re-emitted byte-exact. */
#ifndef ROAR_GRAPH_RECORD_H
#define ROAR_GRAPH_RECORD_H

#include <stddef.h>

#include "graph/job.h"
#include "util/buf.h"

/* Limits a reader enforces (SPEC §5.1); writers refuse to exceed them too, so that
 * nothing we write is unreadable. A line's limit counts its bytes without the LF. */
#define ROAR_RECORD_MAX_LINE ((size_t)64 * 1024)
#define ROAR_RECORD_MAX_RECORD ((size_t)64 * 1024 * 1024)
#define ROAR_NOTE_MAX ((size_t)256 * 1024 * 1024)

/* ---- one record --------------------------------------------------------- */

/* Appends the record text of `job` to out, in SPEC §5.1 order: job command cwd base
 * dirty tracer host user start end exit|signal env... <unknown keys, in order> in...
 * out... del... incomplete.... Sorts job->edges (roar_job_sort), computes the job id
 * (the blob id of everything after the `job` line) and stores it in job->id. Absent
 * optional fields (has_base false, NULL tracer/host/user) are omitted.
 * ROAR_EINVALID when the job cannot be written faithfully (no argv, NULL cwd, dirty
 * not 0/1, a negative exit code or signal, a time outside years 0000..9999, a bad env
 * name, an unknown key that is empty, known, or holds a space/LF, an empty edge path, a
 * bad incomplete reason); ROAR_ELIMIT when a line or the record would exceed the
 * limits. On failure out is left as it was (job->id may have been cleared). */
int roar_record_serialize(roar_buf *out, roar_job *job);

/* How the marker element roar_record_fit puts after a cut command line begins. */
#define ROAR_RECORD_CUT_MARKER "[git-roar: command line cut here"

/* What roar_record_fit changed. */
typedef struct {
    size_t command_cut;   /* argv elements cut or left out of the command line */
    size_t env_dropped;   /* env lines left out (a value over the line limit) */
    size_t edges_dropped; /* in/out/del lines left out (the record limit) */
} roar_record_fit_result;

/* Makes `job` fit the limits a reader enforces, so that a job whose command already ran
 * is recorded rather than lost (docs/record-format.md "Limits at write"): a command
 * line over ROAR_RECORD_MAX_LINE keeps its leading arguments (the last one possibly
 * cut) and ends in a marker element, with `incomplete command-truncated N` (N
 * elements cut or left out); an env value too long for a line is left out (`incomplete
 * env-truncated N`); a record still over ROAR_RECORD_MAX_RECORD keeps the outputs and
 * deletions, then the inputs, in path order, that fit, and says `incomplete
 * record-truncated N` (N edges left out). Nothing changes for a job within the limits.
 * `out` may be NULL. ROAR_ELIMIT only when no such cut can make it fit. */
int roar_record_fit(roar_record_fit_result *out, roar_job *job);

/* Parses one record (`text` holds exactly the record, every line ending in LF) into
 * *out, which this function initialises; the caller disposes it. Lines may come in any
 * order; the id is then the blob id of the record without its `job` line. Edges are
 * sorted (roar_job_sort); env, unknown keys and incomplete lines keep their order.
 * Errors: ROAR_ELIMIT over a limit, ROAR_EINVALID for anything malformed, with a
 * message "line N: what is wrong", including a job id that does not match the body.
 * On failure *out is left initialised and empty. */
int roar_record_parse(roar_job *out, const char *text, size_t len);

/* ---- notes -------------------------------------------------------------- */

/* One record of a note: the job and the exact text it was read from (or serialised
 * to), kept so that rewriting a note never changes a record and its id. */
typedef struct {
    roar_job job; /* owned */
    char *text;   /* owned, NUL-terminated; the whole record, ending in LF */
    size_t len;
} roar_note_record;

/* A set of records, unique by job id. Plain data for reading (`records`, `count`);
 * change it only through the functions below, which keep the id index up to date. */
typedef struct {
    roar_note_record *records; /* owned */
    size_t count, alloc;
    size_t *index; /* private: open-addressing table of record position + 1 */
    size_t index_cap;
} roar_note;

void roar_note_init(roar_note *note);

/* Frees every record and leaves the note as after roar_note_init. NULL-safe. */
void roar_note_dispose(roar_note *note);

/* Adds a parsed job with its record text (copied; it must end in LF). The job is
 * moved into the note: *job is left initialised and empty either way. Returns 0 when
 * added, 1 when a record with this id was already present (the new one is dropped),
 * ROAR_EINVALID when job->id is not a job id or the text does not end in LF. */
int roar_note_add(roar_note *note, roar_job *job, const char *text, size_t len);

/* Serialises job (roar_record_serialize, which sets its id) and adds it as above. */
int roar_note_add_job(roar_note *note, roar_job *job);

/* The record with this job id (40 hex digits), or NULL. Borrowed from the note. */
const roar_note_record *roar_note_find(const roar_note *note, const char *id);

/* Removes the record with this id. ROAR_ENOTFOUND when there is none. */
int roar_note_remove(roar_note *note, const char *id);

/* Orders records by start time, then job id (SPEC §5.2). */
void roar_note_sort(roar_note *note);

/* Appends the records' texts, in their current order, separated by one empty line.
 * ROAR_ELIMIT when the note would exceed ROAR_NOTE_MAX. */
int roar_note_serialize(roar_buf *out, const roar_note *note);

/* A record of a note that could not be read. */
typedef struct {
    size_t record_line; /* 1-based line of the note where the record starts */
    size_t line;        /* 1-based line of the note where the problem is */
    int code;           /* ROAR_EINVALID or ROAR_ELIMIT */
    const char *message; /* borrowed for the call: "line N: what is wrong" (N = line) */
} roar_note_problem;

/* Called for each record that is skipped. Return 0 to go on; anything else stops the
 * parse, and roar_note_parse returns it. */
typedef int (*roar_note_problem_cb)(const roar_note_problem *problem, void *payload);

/* Parses a note (records separated by one or more empty lines; a missing final LF is
 * tolerated) and adds its records to `note` (so parsing two notes into one merges
 * them: duplicates by id are kept once). A record that does not parse is reported to
 * cb (may be NULL: skipped silently) and skipped; the others load. Returns 0, the
 * callback's non-zero value, ROAR_ELIMIT when the whole note exceeds ROAR_NOTE_MAX
 * (nothing is read), or ROAR_ENOMEM. */
int roar_note_parse(roar_note *note, const char *text, size_t len, roar_note_problem_cb cb,
                    void *payload);

#endif
