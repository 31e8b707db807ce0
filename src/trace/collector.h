/* The collector: runs one command under a tracer, feeds the tracer's events to fdstate,
 * hashes inputs while the command runs, and hands back the job's files as recorded. */
#ifndef ROAR_TRACE_COLLECTOR_H
#define ROAR_TRACE_COLLECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "trace/event.h"
#include "trace/fdstate.h"
#include "trace/pathcanon.h"
#include "trace/pathfilter.h"

/* ---- event sources -------------------------------------------------------------
 * Where raw event records (event.h wire bytes) come from: the preload shim's shared
 * ring now, an eBPF ring buffer later. The collector owns the loop; a source only
 * prepares the command's environment, starts, hands out records and counts losses.
 * Every callback gets `self` back; optional ones may be NULL. */
typedef struct roar_trace_source {
    const char *name; /* the record's `tracer` line: "preload", "ebpf" */
    void *self;
    /* Every write of the job reaches the collector as an event (eBPF: every system
     * call is seen; the shim misses libc's internal writes behind stdio). Then a
     * write-capable open that saw no write changed nothing, whatever the file's mtime
     * says (SPEC §4.5: `touch` is no change): the end-of-job check is skipped, unless
     * events were lost, the job had I/O no tracer sees, or a shared mapping could have
     * been made writable later (roar_fdstate_entry.unseen_writes). */
    bool sees_every_write;
    /* The tracer reports what data flow needs (SPEC §4.9, event.h): the ends of pipes and
     * socket pairs and opaque ends (ROAR_FDNEW_F_*), each process's reads through a
     * channel, shared anonymous memory and ptrace (ROAR_EV_FLOW). Only then do jobs get
     * steps: without, a pipe would look like no channel at all. */
    bool reports_flow;

    /* Optional. "NAME=value" strings the command's environment needs, NULL-terminated,
     * borrowed from the source (valid until free). */
    const char *const *(*child_env)(void *self);
    /* Optional. A token to append to the command's LD_PRELOAD (no space or colon),
     * borrowed; NULL for none. */
    const char *(*preload_token)(void *self);
    /* The command was forked as `root` and waits on its gate: get ready to see its
     * first event (eBPF: add it to the traced set). */
    int (*start)(void *self, pid_t root);
    /* Copies the next record into buf[0..cap) and sets *out_len (0: none right now;
     * wait up to wait_ms for one that is being written). cap >= ROAR_RING_RECORD_MAX.
     * An error means one record was unusable (counted by the source as lost); the
     * caller goes on reading. */
    int (*read)(void *self, void *buf, size_t cap, size_t *out_len, int wait_ms);
    /* Optional. Sleeps up to timeout_ms between reads, returning sooner when a record
     * should be read at once (eBPF: an open whose input may be rewritten in place
     * before the next tick). Without it, and without a control_fd, the collector
     * sleeps the whole tick. */
    void (*wait)(void *self, int timeout_ms);
    /* Events the tracer dropped so far. */
    uint64_t (*lost)(void *self);
    /* Optional. A listening socket for the preload round trip (SPEC §4.6: struct
     * roar_ctl_req/_rep of ring_layout.h), or -1. The collector accepts and answers. */
    int (*control_fd)(void *self);
    /* Optional. An fd of the source's, close-on-exec, that the command inherits when it
     * starts as root (the flag is cleared in the child only), or -1: the preload ring,
     * for processes of the job that switch to another user (ROAR_ENV_RING_FD). */
    int (*child_fd)(void *self);
    /* Optional. Tracing is over (the job ended or was abandoned). */
    void (*stop)(void *self);
    /* Releases everything the source holds (files, maps, directories). NULL-safe self. */
    void (*free)(void *self);
} roar_trace_source;

/* The preload tracer's source: a private directory (ring.h) holding the ring `ring`,
 * the control socket `ctl`, and, when `library` has a space or a colon (LD_PRELOAD
 * splits on both), a symlink to it. `library` is the absolute path of
 * libroar-preload.so; `hash_wait_ms` goes to the shim (ROAR_HASH_WAIT_MS). Every fd it
 * keeps is close-on-exec. The caller releases it with out->free(out->self). */
int roar_preload_source_new(roar_trace_source *out, const char *library, unsigned hash_wait_ms);

/* ---- the collector ------------------------------------------------------------- */

/* Blob id of the file at `path` (absolute), accepted only when the file's identity
 * equals `expected` (when expected->known) before and after reading (SPEC §4.6). On
 * success fills out (40 hex digits + NUL) and *out_size. Errors: ROAR_ENOTFOUND (no
 * such file), ROAR_ECHANGED (another identity), others (unreadable, not regular). */
typedef int (*roar_collector_hash_fn)(char out[ROAR_FDSTATE_OIDSZ + 1], uint64_t *out_size,
                                      const char *path, const roar_ident *expected, void *payload);

/* Blob id of the first `len` bytes of the regular file open as `fd`; ROAR_ECHANGED when
 * it is shorter (roar_hash_fd_prefix). */
typedef int (*roar_collector_prefix_fn)(char out[ROAR_FDSTATE_OIDSZ + 1], int fd, uint64_t len);

/* Blob id of the regular file open as `fd` (borrowed), read through it, accepted only
 * when its identity equals `expected` before and after reading (SPEC §4.6): else
 * ROAR_ECHANGED. Called on the hashing threads, several at once: it must be
 * thread-safe (no cache). */
typedef int (*roar_collector_fdhash_fn)(char out[ROAR_FDSTATE_OIDSZ + 1], int fd,
                                        const roar_ident *expected);

typedef struct {
    const char *worktree;         /* realpath of the work tree's top level, no trailing slash */
    roar_pathcanon *canon;        /* borrowed: SPEC §4.2 mapping */
    roar_pathfilter *filter;      /* borrowed: SPEC §4.8; executed programs are added to it */
    unsigned wait_descendants_ms; /* roar.waitDescendants */
    unsigned hash_wait_ms;        /* roar.hashWait */
    roar_collector_hash_fn hash;
    void *hash_payload;
    roar_collector_prefix_fn hash_prefix; /* NULL: an append's old content stays `-` */
    /* Outputs hashed while the job runs (issue 19, collector_early.c): as soon as the
     * job's writers are done with a file, on `hash_threads` threads (roar.hashThreads);
     * at the end such an id stands only if the file's identity is still the one hashed
     * and no write of the job can have come since. NULL or 0: all at the end. */
    roar_collector_fdhash_fn hash_fd;
    unsigned hash_threads;
    /* Environment for the command, NULL-terminated "NAME=value" (borrowed); the source's
     * variables and LD_PRELOAD are added to a copy of it. NULL: environ. */
    char *const *envp;
} roar_collector_opts;

/* One in/out/del line, in recorded form. */
typedef struct {
    char *path;  /* owned: relative to the top inside the work tree, else absolute */
    bool inside; /* in the work tree */
    bool id_known;
    char id[ROAR_FDSTATE_OIDSZ + 1];
    uint64_t size; /* with the id; size at open when the id is unknown; 0 for del */
    size_t src;    /* the collector's own: which fdstate entry it came from */
} roar_collector_file;

/* What one output depends on (SPEC §4.9): positions in the result's inputs, sorted and
 * unique, or `all`. */
typedef struct {
    size_t *ins; /* owned */
    size_t count;
    bool all;
} roar_collector_deps;

/* One `incomplete` line. */
typedef struct {
    char *reason; /* owned, a SPEC §4.7 word */
    bool has_count;
    uint64_t count;
    char *path; /* owned or NULL, recorded form */
} roar_collector_gap;

typedef struct {
    roar_collector_file *inputs, *outputs, *deletions; /* sorted by path (memcmp) */
    size_t input_count, output_count, deletion_count;
    roar_collector_gap *gaps;
    size_t gap_count, gap_alloc;
    /* output_count of them, or NULL: the job has no steps (the flow was not followed
     * whole: a gap of any kind), every output depends on every input */
    roar_collector_deps *deps;

    int64_t start_ms, end_ms; /* wall clock, ms since the epoch */
    int wait_status;          /* the command's status, as waitpid gives it */
    int exec_errno;           /* 0, or why the command could not be exec'd */
    uint64_t events;          /* records applied (for tests and benchmarks) */
    /* Outputs (and end-of-job checks) whose id was hashed during the job, and those
     * hashed at the end; ms from the end of tracing to the result (tests, benchmarks). */
    uint64_t hashed_early, hashed_end;
    int64_t finish_ms;
} roar_collector_result;

void roar_collector_result_dispose(roar_collector_result *res);

/* Runs argv (argv[0] searched in PATH as execvp does, exec'd directly, never through
 * a shell; stdin/stdout/stderr and every other inherited fd untouched) under `source`
 * and fills *out, which the caller disposes. The calling process becomes a child
 * subreaper for the duration and must not have other children it waits for. While
 * the command runs, SIGINT and SIGQUIT are ignored and SIGTERM/SIGHUP are forwarded
 * to it; dispositions are restored before returning. The command's exit status,
 * signal or exec failure (exit 127 not found, 126 not executable, as sh does) is in
 * out, not an error: the job is recorded whatever the command did.
 *
 * When the calling process itself runs inside a traced job (ROAR_RING is set), every
 * record is also forwarded to that job's ring, so that the outer job sees the inner
 * one's accesses (SPEC §4.1).
 *
 * Errors (nothing was run, or tracing could not be set up): ROAR_ERROR and friends. */
int roar_collector_run(roar_collector_result *out, const roar_collector_opts *opts,
                       roar_trace_source *source, char *const argv[]);

#endif
