/* A file's bytes read on a second thread while the caller's thread consumes them.
 *
 * Hashing a warm file is SHA-1 plus the copy out of the page cache (pread), and the
 * copy is ~15-20% of the time on one core. With another core free, a reader thread makes
 * the copy while the caller hashes the previous buffers, so the wall time falls to
 * SHA-1's own (bench/README.md, "Hashing"; the CPU time grows by ~15%). Mapping the file
 * instead (mmap) was measured and is slower here, not faster. */
#ifndef ROAR_UTIL_READAHEAD_H
#define ROAR_UTIL_READAHEAD_H

#include <stddef.h>
#include <stdint.h>

/* Called on the caller's thread with the next bytes of the range, in order; a negative
 * return (a ROAR_E* code, message set) stops the reading. */
typedef int (*roar_readahead_sink)(void *arg, const void *data, size_t len);

typedef enum {
    ROAR_READAHEAD_AUTO,   /* a second thread when a CPU looks idle (below) */
    ROAR_READAHEAD_THREAD, /* a second thread whenever one can be started */
    ROAR_READAHEAD_INLINE, /* the caller's thread only */
} roar_readahead_mode;

/* Hands [off, end) of fd to sink, read with pread (the fd's offset is not moved).
 * Returns 0 once sink has had every byte; sink's error as soon as it returns one;
 * ROAR_ECHANGED when the file ends before `end` (truncated meanwhile); ROAR_ERROR when a
 * read fails; ROAR_ENOMEM. With ROAR_READAHEAD_AUTO the read is on a second thread
 * when a CPU the process may run on looks idle (/proc/loadavg) and a thread can be
 * started, else on the caller's own; the bytes handed over are the same either way.
 * The second thread blocks every signal. */
int roar_readahead(int fd, uint64_t off, uint64_t end, roar_readahead_mode mode,
                   roar_readahead_sink sink, void *arg);

#endif
