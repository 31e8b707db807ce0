/* The eBPF tracer's userspace side: loads roar.bpf.c, traces one gated process tree, and
 * turns the kernel's records into event.h wire records for the collector. */
#ifndef ROAR_TRACE_EBPF_LOADER_H
#define ROAR_TRACE_EBPF_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "trace/collector.h"

/* ROAR_HAVE_EBPF is defined (by CMake, for roar_trace and everything linking it) when
 * the tracer was built: clang, bpftool, llvm-strip, libbpf and the build machine's
 * kernel BTF were all there. Without it these functions still exist and fail with
 * ROAR_EUNSUPPORTED ("not built"), so callers need no #ifdef. */

/* True when this build includes the eBPF tracer (it may still fail to load here). */
bool roar_ebpf_built(void);

/* One loaded tracer. Opaque; used from one thread. */
typedef struct roar_ebpf roar_ebpf;

/* Loader options. Zero means the default. The last four are test and bench knobs. */
typedef struct {
    size_t ring_bytes;    /* kernel ring buffer: a power of two >= 4096; default 16 MiB */
    unsigned drain_ms;    /* how often the ring is read while waiting; default 2 ms */
    uint32_t walk_budget; /* bytes for one walked path's names; default 16 KiB (a
                           * smaller one forces `incomplete path-too-long`) */
    bool probe_reads;     /* read files' identity with probe reads, as on a kernel whose
                           * BTF id of struct file is unknown (docs/ebpf.md) */
    bool empty_syscalls;  /* bench only: the system call program returns at once, so a
                           * benchmark sees what the tracepoint alone costs (no file
                           * events at all: never for a job) */
    bool verifier_refusal; /* test only: a program the verifier refuses, to see the
                            * refusal reported as ROAR_ERROR */
} roar_ebpf_opts;

/* Loads and attaches the programs (four tracepoints; nothing is traced until
 * roar_ebpf_start). The caller frees *out with roar_ebpf_free. opts may be NULL.
 * Errors, each with a message the CLI can print as is, naming the fix:
 * ROAR_EUNSUPPORTED where this machine cannot run the tracer: not built, no privileges
 * (needs root: CAP_BPF and CAP_PERFMON), kernel without BTF, or a kernel policy that
 * forbids loading; ROAR_ERROR where the kernel's verifier refused the programs (a bug
 * of ours: the message gives the verifier's reason). Never fails on RLIMIT_MEMLOCK. */
int roar_ebpf_open(roar_ebpf **out, const roar_ebpf_opts *opts);

/* Detaches and frees. NULL-safe. */
void roar_ebpf_free(roar_ebpf *t);

/* Traces `root` (a tgid) and every process it forks from now on. The root is silent
 * until its first successful exec: it is meant to be a forked child waiting on a gate,
 * whose own set-up (closing fds, exec attempts along PATH) is not the job's. */
int roar_ebpf_start(roar_ebpf *t, pid_t root);

/* Takes every record the kernel has written so far and hands each one, converted to
 * event.h wire bytes, to cb (rec is valid only during the call). A negative return
 * from cb stops and is returned. Returns the number of records delivered. */
typedef int (*roar_ebpf_record_cb)(const void *rec, size_t len, void *payload);
int roar_ebpf_consume(roar_ebpf *t, roar_ebpf_record_cb cb, void *payload);

/* Pull form of roar_ebpf_consume (the collector's source interface): copies the next
 * record into buf[0..cap) and sets *out_len; 0 when there is none, after waiting up to
 * wait_ms (the ring is read every drain interval). cap >= ROAR_RING_RECORD_MAX.
 * Records taken from the kernel but not yet read are queued in memory. */
int roar_ebpf_read(roar_ebpf *t, void *buf, size_t cap, size_t *out_len, int wait_ms);

/* Sleeps up to timeout_ms, or until the kernel side wakes the reader: an open of a
 * file whose pre-job content an in-place editor may destroy within microseconds
 * (roar.bpf.c, open_wakes). Records are then read with roar_ebpf_read as usual. */
void roar_ebpf_wait(roar_ebpf *t, int timeout_ms);

/* Records the kernel side could not deliver so far: ring full (or a record larger than
 * the ring), processes of the job that did not fit in the traced map, and records the
 * loader could not read or name. */
uint64_t roar_ebpf_lost(roar_ebpf *t);

/* The drain interval in use, ms. */
unsigned roar_ebpf_drain_ms(const roar_ebpf *t);

/* Wall-clock cost of roar_ebpf_open, split (µs): opening the object and resolving it
 * against the kernel's BTF, loading (verifier), attaching. For benchmarks. */
typedef struct {
    uint64_t open_us, load_us, attach_us;
} roar_ebpf_timing;
void roar_ebpf_timing_get(roar_ebpf_timing *out, const roar_ebpf *t);

/* The collector's event source for `git roar run -t ebpf` (collector.h): start adds the
 * root, read is roar_ebpf_read, lost roar_ebpf_lost. Loads the tracer now (errors as
 * roar_ebpf_open). The caller releases it with out->free(out->self). */
int roar_ebpf_source_new(roar_trace_source *out, const roar_ebpf_opts *opts);

/* ---- record conversion (exposed for tests; needs no BPF) -----------------------------
 * Turns one kernel record (roar_bpf.h: a header and path pieces) into event.h records:
 * pieces joined and normalised lexically into absolute paths (a name relative to the
 * cwd is joined with the process's cwd, which the conversion follows through exec,
 * chdir, fork and exit records), /proc/self/fd/N link sources into their fd, and a
 * path that could not be had in full reported as `incomplete path-too-long` (an open
 * whose name is lost still replaces its fd number, as FDNEW). Records are numbered
 * (seq) in the order converted; feed them all, in the ring's order. */
typedef struct roar_ebpf_conv roar_ebpf_conv;
int roar_ebpf_conv_new(roar_ebpf_conv **out);
void roar_ebpf_conv_free(roar_ebpf_conv *c);

/* Converts rec[0..len) and calls cb for each resulting record (0, 1 or 2). A record
 * that cannot be right (lengths that disagree, an unterminated piece) is
 * ROAR_EINVALID. Returns what cb returned if it was negative, else 0. */
int roar_ebpf_conv_record(roar_ebpf_conv *c, const void *rec, size_t len, roar_ebpf_record_cb cb,
                          void *payload);

/* Records dropped because a name they need could not be had (a relative name in a
 * process whose cwd is unknown); roar_ebpf_lost counts them. */
uint64_t roar_ebpf_conv_unnamed(const roar_ebpf_conv *c);

#endif
