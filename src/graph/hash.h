/* Blob ids of files (SPEC §4.6): streaming, identity-verified hashing of a file's
 * work-tree bytes, and the stat cache policy (git's racy-timestamp rule) on top of it. */
#ifndef ROAR_GRAPH_HASH_H
#define ROAR_GRAPH_HASH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "graph/cache.h" /* roar_stat_key, roar_cache */
#include "graph/job.h"   /* ROAR_OID_HEXSZ */

/* ---- identities --------------------------------------------------------------- */

/* Fills *out with (dev, ino, size, mtime_ns, ctime_ns) of st. */
void roar_stat_key_from_stat(roar_stat_key *out, const struct stat *st);

/* fstat(fd) into *out. Fails (ROAR_EINVALID) when fd is not a regular file. */
int roar_stat_key_of_fd(roar_stat_key *out, int fd);

/* stat(path) (following symlinks: the content read through the path) into *out.
 * ROAR_ENOTFOUND when the path does not exist, ROAR_EINVALID when not a regular file. */
int roar_stat_key_of_path(roar_stat_key *out, const char *path);

bool roar_stat_key_equal(const roar_stat_key *a, const roar_stat_key *b);

/* ---- hashing ------------------------------------------------------------------- */

/* Blob id of the regular file open as `fd`, i.e. what `git hash-object --no-filters`
 * prints for its bytes. Memory use is constant (one buffer of at most 128 KiB); holes of
 * sparse files are fed from a shared zero page instead of being read.
 *
 * The identity is taken with fstat before and after reading. If the two differ, or
 * `expected` is non-NULL and differs from the first one (the identity the tracer
 * captured at open, SPEC §4.3), the call fails with ROAR_ECHANGED and `out` is "":
 * an id is never returned for content other than the one `expected` names.
 *
 * `fd` is borrowed, must be readable, and its file offset is left where it was (reads
 * use pread; the SEEK_DATA walk of a sparse file is undone).
 * `out_key` (may be NULL) receives the verified identity. `expected` is borrowed. */
int roar_hash_fd(char out[ROAR_OID_HEXSZ + 1], roar_stat_key *out_key, int fd,
                 const roar_stat_key *expected);

/* Blob id of the first `len` bytes of the regular file open as `fd` (pread: the offset
 * stays). ROAR_ECHANGED when the file is shorter than len, before or after reading.
 * Identity checks are the caller's: this is for an append-only file whose old content
 * is its first `len` bytes (docs/ebpf.md). */
int roar_hash_fd_prefix(char out[ROAR_OID_HEXSZ + 1], int fd, uint64_t len);

/* As roar_hash_fd, opening `path` read-only (following symlinks) for the duration.
 * ROAR_ENOTFOUND when the path does not exist. */
int roar_hash_path(char out[ROAR_OID_HEXSZ + 1], roar_stat_key *out_key, const char *path,
                   const roar_stat_key *expected);

/* Bytes fed to SHA-1 by roar_hash_fd/_path in this process so far (holes included),
 * for tests and benchmarks. Atomic: safe from any thread. */
uint64_t roar_hash_bytes_hashed(void);

/* ---- the stat cache -------------------------------------------------------------
 *
 * A row maps an identity (dev, ino, size, mtime_ns, ctime_ns) to the blob id hashed
 * from the file while it had that identity, with the wall-clock time at which that
 * hashing started (`hashed_at`). A row is trusted only when the content could not have
 * changed without changing the identity:
 *
 *     mtime_ns < hashed_at - ROAR_HASH_RACY_MARGIN_NS  and
 *     ctime_ns < hashed_at - ROAR_HASH_RACY_MARGIN_NS
 *
 * This is git's racy-timestamp rule ("racy-git") with a safety margin. Why a margin: the
 * kernel stamps files from its coarse clock, which lags the wall clock by up to a tick
 * (a few ms), and some file systems store whole seconds; so a write just after hashing
 * may leave mtime/ctime equal to, or even below, the hashing time while the bytes
 * differ. One second covers both (the largest common timestamp granularity) with room
 * to spare. A racy row is ignored: the file is hashed again and the row re-stored with
 * the new hashing time, which makes it trusted once the file has been quiet for the
 * margin. A file whose identity differs from every row (changed since) is hashed. */
#define ROAR_HASH_RACY_MARGIN_NS 1000000000LL

/* True when a row for `key` hashed at `hashed_at_ns` must not be trusted (see above). */
bool roar_hash_is_racy(const roar_stat_key *key, int64_t hashed_at_ns);

/* git's racy rule itself, for an id known as of a file-system stamp `stamp_ns` (the mtime
 * of git's index file): true unless mtime_ns and ctime_ns are both older than it. No
 * margin: the stamp comes from the kernel's file clock, like the file's own, at the same
 * granularity, so a write after the stamp gives the file an mtime at or after it. (ctime
 * is held to the same bound; for a file whose stat matches git's entry it differs from
 * git's mtime-only test only within the tick of the index write.) A row known this way
 * is stored with hashed_at = stamp_ns + ROAR_HASH_RACY_MARGIN_NS
 * (roar_hash_stamp_row_time), which the lookup's rule above turns back into this one. */
bool roar_hash_is_racy_at_stamp(const roar_stat_key *key, int64_t stamp_ns);
int64_t roar_hash_stamp_row_time(int64_t stamp_ns);

/* Wall-clock now in ns since the epoch (CLOCK_REALTIME): the `hashed_at` of rows. */
int64_t roar_hash_now_ns(void);

/* Looks `key` up in the cache without touching the file. 0 and the id in `out` for a
 * trusted row; ROAR_ENOTFOUND when there is no row for exactly this identity or the row
 * is racy. `cache` may be NULL (always ROAR_ENOTFOUND). Both pointers are borrowed. */
int roar_hash_cache_lookup(char out[ROAR_OID_HEXSZ + 1], roar_cache *cache,
                           const roar_stat_key *key);

/* Blob id of the file at `path` through the stat cache: stat(path); if `expected` is
 * given and differs, ROAR_ECHANGED; a trusted row for that identity answers without
 * opening the file; otherwise the file is hashed (roar_hash_path, verified against the
 * identity just taken) and the row stored. `cache` may be NULL: then always hash.
 * `out_key` (may be NULL) receives the identity the id belongs to. A failure to store
 * the row is not an error: the id is still correct, the cache is only derived data. */
int roar_hash_file(char out[ROAR_OID_HEXSZ + 1], roar_stat_key *out_key, roar_cache *cache,
                   const char *path, const roar_stat_key *expected);

/* As roar_hash_file for an open fd (borrowed; offset preserved): fstat, then cache or
 * roar_hash_fd. For tracers that hash through the traced process's own fd. */
int roar_hash_file_fd(char out[ROAR_OID_HEXSZ + 1], roar_stat_key *out_key, roar_cache *cache,
                      int fd, const roar_stat_key *expected);

#endif
