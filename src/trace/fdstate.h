/* fdstate: the one implementation of SPEC §4 for both tracers. It follows fd tables
 * through fork/threads/exec/dup/close and sums up, per file, what the job did to it. */
#ifndef ROAR_TRACE_FDSTATE_H
#define ROAR_TRACE_FDSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trace/event.h"

#define ROAR_FDSTATE_OIDSZ 40

/* The whole state of one job. Opaque; single-threaded (the collector feeds it from one
 * thread, in each process's event order). */
typedef struct roar_fdstate roar_fdstate;

/* One file the job touched: (dev, ino) when known, else the name it was reached by.
 * Opaque handle, owned by the state, valid until roar_fdstate_free. */
typedef struct roar_fsfile roar_fsfile;

/* Creates an empty state. The caller frees it with roar_fdstate_free. */
int roar_fdstate_new(roar_fdstate **out);
void roar_fdstate_free(roar_fdstate *st);

/* Why the collector should hash a file right now (see roar_fdstate_next_hash). */
typedef enum {
    ROAR_HASH_NONE = 0,
    ROAR_HASH_INPUT = 1,    /* the file just became an input: its content is pre-job */
    ROAR_HASH_PREIMAGE = 2, /* not (yet) an input, but a write-capable open may change it
                             * in place: its pre-job id decides later whether the job
                             * changed it, and is its input id if it becomes one */
} roar_hash_reason;

/* "Hash this file now": read `path`, accept the id only under `ident` when ident.known
 * (SPEC §4.6), then report it with roar_fdstate_set_preimage. Asked at most once per
 * file, and only while the job has not changed the file. */
typedef struct {
    roar_hash_reason reason;
    roar_fsfile *file;
    const char *path; /* borrowed: valid until the next roar_fdstate_* call; copy it */
    roar_ident ident;
    /* The open that made the request: process `tgid` has the file as `fd` (-1: no such
     * fd, e.g. a rename, an exec). The fd may be closed or reused by the time the
     * request is served: the collector hashes through /proc/<tgid>/fd/<fd> only while
     * its identity still matches `ident` (SPEC §4.6, the eBPF tracer). */
    uint32_t tgid;
    int fd;
} roar_fdstate_hashreq;

/* Applies one decoded event (roar_event_decode has validated it). Failed calls
 * (ret < 0) change nothing. An event about an fd or process the state does not know is
 * not an error: it is ignored unless it carries enough (identity, path) to be placed.
 * *out_wait (may be NULL) matters for ROAR_EV_ABOUT_TO_DESTROY: true means the file's
 * pre-job content is still needed and its id is not known yet, so the shim must not
 * proceed before that hash is done (or timed out); false means answer at once.
 * After each call, take the hash requests with roar_fdstate_next_hash.
 * Errors: ROAR_ENOMEM (the state stays consistent but may have lost this event). */
int roar_fdstate_apply(roar_fdstate *st, const roar_event *ev, bool *out_wait);

/* Pops the next hash request; false when there is none. One event can queue several
 * (a directory rename moves many untouched files at once). */
bool roar_fdstate_next_hash(roar_fdstate *st, roar_fdstate_hashreq *out);

/* The collector's answer to a hash request: the pre-job blob id of `file` (40 hex
 * digits) and its size. Pass id NULL when hashing failed or timed out: the input is
 * then recorded with id `-`. */
void roar_fdstate_set_preimage(roar_fdstate *st, roar_fsfile *file, const char *id,
                               uint64_t size);

/* The collector could not hash `file` before it changed, but its identity (dev, ino)
 * is the one at open and it has grown: `id` is the blob id of its first `size` bytes,
 * `size` as in the identity of the request. It stands as the pre-job id only if, at the
 * end, every write-capable open of the file in the job had O_APPEND and nothing else of
 * the job could change bytes before its end (no O_TRUNC, truncate, fallocate, shared
 * writable mmap, copy into it, fd that dropped O_APPEND, open we missed): the eBPF
 * tracer's `>>` (docs/ebpf.md). */
void roar_fdstate_set_prefix(roar_fdstate *st, roar_fsfile *file, const char *id,
                             uint64_t size);

/* "The job's writers are done with this file, hash it now if you like" (issue 19): the
 * last open file description of the job that could write `file` went away (close,
 * close-on-exec, exit, or, for the eBPF tracer which sends no closes, the fd's number
 * taken by another open), and the job opened it write-capable. Not asked for a file
 * mapped shared through a write-capable fd (writes through the mapping outlive every
 * close). An early hash of `path` stands at the end only if the file's identity then is
 * the one hashed, its (dev, ino) are these, and roar_fdstate_unwritten_since(file,
 * write_gen) still holds once every event is in. */
typedef struct {
    roar_fsfile *file;
    const char *path; /* borrowed: valid until the next roar_fdstate_* call; copy it */
    uint64_t dev, ino;
    uint64_t write_gen;
} roar_fdstate_written;

/* Pops the next such file; false when there is none. A file comes again each time its
 * writers are done again; the last one is the one that counts. */
bool roar_fdstate_next_written(roar_fdstate *st, roar_fdstate_written *out);

/* True when, since the request that carried write_gen, no write-capable description of
 * `file` was made, no change or shared mapping was seen, and none can write it now. */
bool roar_fdstate_unwritten_since(const roar_fsfile *file, uint64_t write_gen);

/* Renames whose targets fdstate could not list: directories the job renamed (every
 * file beneath moves with them, SPEC §4.5) and, from the eBPF tracer, names no event
 * had shown before the rename. Once the job is over, the collector lists each name
 * `cb` gets (its name at the end: later renames followed; names moved away or removed
 * since are left out, and so are names beneath another one reported) and passes every
 * regular file at or beneath it to roar_fdstate_add_moved. Listing at the end, not at
 * the rename, is what keeps the job's later changes out: by then every event is in.
 * A non-zero return from cb stops and is returned. */
int roar_fdstate_renamed_names(const roar_fdstate *st, int (*cb)(const char *path, void *payload),
                               void *payload);

/* A regular file found at the end at `path`, with its identity now (see
 * roar_fdstate_renamed_names). When the job's renames brought it there from another
 * name and no event of the job touched it, it is a move: input under its pre-job name,
 * output under `path`, the pre-job name deleted if nothing names it now (as `mv` of an
 * untouched file), and a ROAR_HASH_INPUT request for it. Anything else is left alone. */
int roar_fdstate_add_moved(roar_fdstate *st, const char *path, const roar_ident *ident);

/* One line of the result. Strings are borrowed from the state. */
typedef struct {
    const char *path;
    roar_fsfile *file;
    roar_ident ident;  /* in: identity at the open that made it an input (size for `-`);
                        * check: identity at its write-capable open */
    bool id_known;     /* in/check: the pre-job id is known (set_preimage) */
    char id[ROAR_FDSTATE_OIDSZ + 1];
    uint64_t id_size;  /* size that went with id */
    /* check: the file was mapped shared through a write-capable fd without PROT_WRITE,
     * which an mprotect no tracer reports can add: writes through it are unseen even
     * by a tracer that sees every write system call */
    bool unseen_writes;
    /* outputs, when the result's steps_known: the inputs whose data could have reached
     * this output (SPEC §4.9), as sorted indices into the result's inputs, owned by the
     * result; deps_all: every input (the flow could not be narrowed for it) */
    size_t *deps;
    size_t dep_count;
    bool deps_all;
} roar_fdstate_entry;

typedef struct {
    const char *reason; /* SPEC §4.7 word, static string */
    uint64_t count;     /* events-lost: total; others: 0 */
    const char *path;   /* borrowed, or NULL */
} roar_fdstate_incomplete;

/* The job as fdstate sees it at the end. Arrays owned by the result (free with
 * roar_fdstate_result_dispose), sorted by path (memcmp), each path at most once.
 * - inputs: content the job consumed; id = pre-job id when known.
 * - outputs: paths that exist (as far as the events tell) and that the job changed;
 *   the collector hashes them now (and drops any that turn out missing).
 * - deletions: paths that named a pre-existing file and name nothing at the end.
 * - checks: files the job opened write-capable without a visible change (stdio writes
 *   are invisible to the shim). The collector compares the file's current content with
 *   entry.id (or size/mtime against entry.ident when the id is unknown), and for each
 *   that differs calls roar_fdstate_resolve_check before asking for the result again.
 * - incomplete: gaps reported by the tracers, one per (reason, path); events-lost summed. */
typedef struct {
    roar_fdstate_entry *inputs;
    size_t input_count;
    roar_fdstate_entry *outputs;
    size_t output_count;
    roar_fdstate_entry *deletions;
    size_t deletion_count;
    roar_fdstate_entry *checks;
    size_t check_count;
    roar_fdstate_incomplete *incomplete;
    size_t incomplete_count;
    /* Each output's deps are known (SPEC §4.9). False when the flow could not be
     * followed (lost events, any gap, ptrace, a bound): every output depends on every
     * input. */
    bool steps_known;
} roar_fdstate_result;

/* Computes the result from the current state (normally after the last process
 * exited). The state is not changed; *out must be disposed. ROAR_ENOMEM. */
int roar_fdstate_result_get(roar_fdstate_result *out, const roar_fdstate *st);
void roar_fdstate_result_dispose(roar_fdstate_result *res);

/* The end-of-job check found that `file` (from result.checks) changed: it becomes an
 * output, and an input with its open-time id (SPEC §4.4: opened write-capable without
 * O_TRUNC, then changed). */
void roar_fdstate_resolve_check(roar_fdstate *st, roar_fsfile *file);

/* Introspection, for the collector's lookups and for tests. */

/* The file the path currently names as far as the job knows, or NULL. */
roar_fsfile *roar_fdstate_lookup_path(const roar_fdstate *st, const char *path);

/* The file behind fd in process tgid, or NULL (unknown fd, or not a regular file). */
roar_fsfile *roar_fdstate_lookup_fd(const roar_fdstate *st, uint32_t tgid, int fd);

/* Whether tgid has fd open at all (a pipe or socket counts). */
bool roar_fdstate_fd_is_open(const roar_fdstate *st, uint32_t tgid, int fd);

/* The name the file is recorded under: the first name the job used, following renames
 * (SPEC §4.2). NULL for a file with no name (O_TMPFILE, or every name removed). */
const char *roar_fdstate_file_name(const roar_fsfile *file);

#endif
