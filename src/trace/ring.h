/* ring: the collector's side of the shared-memory event ring (layout in ring_layout.h):
 * create the private directory and the ring, read records in order, count losses.
 *
 * Where the ring lives (docs/preload.md, "Transport"): a memfd, with no name in any file
 * system. The collector keeps its fd open for the whole run and hands the shim the path
 * /proc/<collector pid>/fd/<fd>, which the shim opens at every exec (the same check as
 * ptrace-read: the same ids, a dumpable collector). So a run killed with -9 leaves no
 * ring behind: the kernel frees it with the last fd and mapping. Where the command's
 * processes cannot open that path (git roar under sudo keeps root as its real and saved
 * uid), the ring is the file `ring` in the private directory, as it always was, and a
 * killed run leaves it until the next run reaps it. */
#ifndef ROAR_TRACE_RING_H
#define ROAR_TRACE_RING_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <stdbool.h>

#include "trace/ring_layout.h"

/* One mapped ring, consumer side. Opaque; single consumer thread. */
typedef struct roar_ring roar_ring;

/* The file of a ring directory that names its collector's pid (decimal, newline). */
#define ROAR_RING_PID_FILE "pid"

/* Creates a private directory (mode 0700, owned by the caller) for one job's control
 * socket (and its ring when that is a named file): under /dev/shm when it is usable,
 * else $TMPDIR or /tmp, with the pid file naming the caller. *out is a malloc'd
 * absolute path the caller frees (and removes with roar_ring_dir_remove). */
int roar_ring_dir_create(char **out);

/* Removes the ring directories (`roar-XXXXXX` under /dev/shm, $TMPDIR, /tmp) of runs
 * that were killed: ours, private, and whose collector pid (pid file, else the named
 * ring's header) is gone, or that name none and are over a minute old.
 * roar_ring_dir_create calls it first. What a killed run leaves there is a few bytes
 * (socket, pid file, symlink), except a named ring (16 MiB) under sudo. */
void roar_ring_reap_stale(void);

/* Removes the files this module and the collector put in dir ("pid", "ctl", "ring",
 * the preload symlink) and dir itself. Errors are ignored: it is cleanup. */
void roar_ring_dir_remove(const char *dir);

/* Creates the ring file at path (O_EXCL, mode 0600) with a data area of data_size
 * bytes (a power of two >= ROAR_RING_MIN_DATA; 0 = ROAR_RING_DEFAULT_DATA), maps it
 * and records the calling process as the collector. The caller frees *out. */
int roar_ring_create(roar_ring **out, const char *path, size_t data_size);

/* The same as an anonymous file (memfd_create, close-on-exec): nothing to unlink, and
 * its memory is freed once the last fd and mapping are gone, after a kill -9 too.
 * Others reach it through /proc/<our pid>/fd/<roar_ring_fd>. */
int roar_ring_create_anon(roar_ring **out, size_t data_size);

/* The ring's fd (close-on-exec), open until roar_ring_free. Borrowed. */
int roar_ring_fd(const roar_ring *ring);

/* Unmaps, closes and frees; a named ring's file stays (roar_ring_dir_remove deletes
 * it). NULL is fine. */
void roar_ring_free(roar_ring *ring);

/* Copies the next record (the roar_event wire bytes, without the slot word; a compact
 * record expanded to the full header it stands for) into buf[0..cap) and sets *out_len. When nothing is published yet, *out_len = 0: if a
 * producer has reserved a slot but not published it, this waits up to wait_ms for it.
 * A slot that stays unpublished for stall_ms in total (a producer killed between
 * reserve and publish) is skipped, counted as lost, once a later record is published.
 * cap must be >= ROAR_RING_RECORD_MAX. Returns 0, or ROAR_EINVALID for a slot header
 * that cannot be right (the ring is then resynchronised past it and the slot counted
 * as lost). The bytes come from traced programs: decode them defensively. */
int roar_ring_read(roar_ring *ring, void *buf, size_t cap, size_t *out_len, int wait_ms);

/* Bytes reserved by producers and not yet consumed. */
uint64_t roar_ring_pending(const roar_ring *ring);

/* Events producers dropped so far, plus slots the consumer had to skip. */
uint64_t roar_ring_lost(const roar_ring *ring);

/* Changes the pid producers check to decide that the collector is gone (tests). */
void roar_ring_set_collector(roar_ring *ring, pid_t pid);

/* How long an unpublished slot may stall the consumer before it is skipped (ms). */
void roar_ring_set_stall_ms(roar_ring *ring, unsigned ms);

/* The shared header, for producers in the same process (tests). Borrowed. */
struct roar_ring_hdr *roar_ring_header(roar_ring *ring);

#endif
