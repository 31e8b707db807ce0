/* Internals shared by the preload shim's source files: the ring producer, the
 * reentrancy guard, path building, the hash-before-destroy round trip, fd bookkeeping. */
#ifndef ROAR_PRELOAD_SHIM_H
#define ROAR_PRELOAD_SHIM_H

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include "trace/event.h"
#include "trace/ring_layout.h"

/* Everything internal is hidden (-fvisibility=hidden); only the interposed libc names
 * are exported, with ROAR_EXPORT. */
#define ROAR_EXPORT __attribute__((visibility("default")))

/* Lazily resolved next definition of a libc function. The race between two threads
 * resolving at once is benign: both store the same pointer. */
#define ROAR_REAL(name)                                                                   \
    static __typeof__(name) *real_##name;                                                 \
    if (!__atomic_load_n(&real_##name, __ATOMIC_RELAXED))                                 \
        __atomic_store_n(&real_##name, (__typeof__(name) *)dlsym(RTLD_NEXT, #name),       \
                         __ATOMIC_RELAXED)

/* Paths the shim builds (cwd or dirfd joined with the program's path). Longer ones are
 * reported as ROAR_INC_PATH_TOO_LONG instead. Kept to one page: wrappers may run on a
 * small signal stack. */
#define ROAR_SHIM_PATH 4096

extern struct roar_ringp roar_shim_ring;
extern int roar_shim_on;   /* the ring is mapped: tracing is on in this process */
extern pid_t roar_shim_pid; /* cached getpid(), refreshed in every child */
extern __thread int roar_shim_guard __attribute__((tls_model("initial-exec")));
extern __thread pid_t roar_shim_tid __attribute__((tls_model("initial-exec")));
/* > 0 while this thread is where a signal handler's round trip would wait behind it: a
 * ring slot reserved and not yet published, the control connection in use or moved. */
extern __thread int roar_shim_critical __attribute__((tls_model("initial-exec")));
/* A program's signal handler that interrupted such a part is running: it publishes
 * but does not wait (signals.c). */
extern __thread int roar_shim_in_handler __attribute__((tls_model("initial-exec")));

#define ROAR_SHIM_ENV_MAX (ROAR_SHIM_PATH + 32)

/* Values captured at start-up, re-inserted by exec wrappers ("NAME=value"). */
extern char roar_shim_env_ring[];
extern char roar_shim_env_ring_fd[]; /* empty when not given */
extern char roar_shim_env_sock[];
extern char roar_shim_env_wait[];
extern char roar_shim_preload[]; /* the LD_PRELOAD token that loads this library */

/* 0 when a program exec'd now, with this process's ids, root and /proc, will find the
 * ring: by its path (ROAR_RING, usually /proc/<collector>/fd/<n>), or through the fd of
 * ROAR_ENV_RING_FD if this process has it open without FD_CLOEXEC. Else the reason the
 * job must give for what then runs untraced: ROAR_INC_SETUID when this process
 * switched to another user (a job that did not start as root has no fd, and programs
 * close it), ROAR_INC_UNTRACED when it did not (a /proc of another pid namespace, a
 * chroot without /proc or without the ring). */
int roar_shim_next_image_unreachable(void);

/* Enter/leave bookkeeping: returns 0 when the caller must just call through (tracing
 * off, or we are already inside the shim on this thread). Saves errno. */
static inline int roar_shim_enter(int *saved_errno)
{
    if (!roar_shim_on || roar_shim_guard)
        return 0;
    roar_shim_guard++;
    *saved_errno = errno;
    return 1;
}
static inline void roar_shim_leave(int saved_errno)
{
    roar_shim_guard--;
    errno = saved_errno;
}

/* fstat without glibc's detour: glibc 2.36 implements fstat as
 * newfstatat(fd, "", AT_EMPTY_PATH), ~0.1 us slower a call than the fstat system call
 * on this kernel, and the shim pays one per open. x86_64's kernel struct stat is glibc's. */
#if defined(__x86_64__) && defined(SYS_fstat)
#define roar_shim_fstat(fd, st) ((int)syscall(SYS_fstat, (fd), (st)))
#else
#define roar_shim_fstat(fd, st) fstat((fd), (st))
#endif

pid_t roar_shim_tid_slow(void);

/* A header for this thread with fd/fd2 = -1. Inline: every event starts here, and the
 * compiler zeroes the header with a few stores instead of a memset call. */
static inline void roar_shim_hdr(struct roar_event_hdr *h, unsigned type)
{
    pid_t tid = roar_shim_tid;
    *h = (struct roar_event_hdr){.type = (uint16_t)type, .fd = -1, .fd2 = -1};
    h->tgid = (uint32_t)roar_shim_pid;
    h->tid = (uint32_t)(tid ? tid : roar_shim_tid_slow());
}
void roar_shim_ident(struct roar_event_hdr *h, const struct stat *st);
/* Publishes (drops and counts on a full ring); never fails visibly. */
void roar_shim_emit(struct roar_event_hdr *h, const char *path, const char *path2);
/* The same with one path whose strlen the caller knows. */
void roar_shim_emit_len(struct roar_event_hdr *h, const char *path, size_t len);
/* The same for an event with no path, identity or arg, as a compact ring record (type
 * in ROAR_RING_SMALL_TYPES): a quarter of the bytes, no 120-byte header to build. */
void roar_shim_emit_small(unsigned type, int fd, int fd2, int64_t ret, uint32_t flags);
void roar_shim_incomplete(unsigned reason, const char *path);

/* Makes path absolute against dirfd (AT_FDCWD = cwd) and normalises it lexically into
 * out[ROAR_SHIM_PATH], its strlen into *len. Returns 0, -1 if too long (already
 * reported), -2 if unknown. */
int roar_shim_abspath_len(char *out, int dirfd, const char *path, size_t *len);
static inline int roar_shim_abspath(char *out, int dirfd, const char *path)
{
    size_t len;
    return roar_shim_abspath_len(out, dirfd, path, &len);
}

/* The cwd cache behind roar_shim_abspath (shim.c): call roar_shim_cwd_changed after
 * every cwd change, roar_shim_cwd_nocache(+1/-1) around a call that may change it
 * internally, roar_shim_names_changed after a rename (any traced process's cwd may have
 * been renamed). */
void roar_shim_cwd_changed(void);
void roar_shim_cwd_nocache(int delta);
void roar_shim_names_changed(void);

/* SPEC §4.6: publish ROAR_EV_ABOUT_TO_DESTROY for the call `call` and wait for the
 * collector's answer (bounded by ROAR_HASH_WAIT_MS). path or fd names the file. */
void roar_shim_destroy_wait(unsigned call, uint64_t arg, const char *path, int fd,
                            const struct stat *st);

/* Per-fd first-read / first-write bits (process-wide, like the fd table). Inline, as
 * every open and close sets one. */
#define ROAR_FD_SEEN_READ 1u
#define ROAR_FD_SEEN_WRITE 2u
/* The fd is a channel (pipe, socket, FIFO, any file that is not regular): its first
 * read and first write are news once per process (SPEC §4.9), so a fork child clears
 * its SEEN bits (channels.c). Regular files keep process-wide bits. */
#define ROAR_FD_CHANNEL 4u
/* A readable channel end whose reads may bypass the wrappers: glibc's stdio (fread,
 * fgets...) reads through its internal read, which we cannot interpose. A process
 * holding one is reported as reading it when it gets it (channels.c). */
#define ROAR_FD_UNSEEN_READS 8u
#define ROAR_FD_TABLE 4096
extern unsigned char roar_shim_fd_bits[ROAR_FD_TABLE];
/* Replaces fd's bits with `bits` (a new open file whose reads are no news). */
static inline void roar_shim_fd_set(int fd, unsigned bits)
{
    if (fd >= 0 && fd < ROAR_FD_TABLE)
        __atomic_store_n(&roar_shim_fd_bits[fd], (unsigned char)bits, __ATOMIC_RELAXED);
}
static inline void roar_shim_fd_reset(int fd)
{
    roar_shim_fd_set(fd, 0);
}
void roar_shim_fd_reset_range(int lo, int hi);
/* 1 if `bit` is already set on fd: a read or write after the first one, answered
 * inline so that the common call costs a load and no function call. */
static inline int roar_shim_fd_seen(int fd, unsigned bit)
{
    return fd >= 0 && fd < ROAR_FD_TABLE &&
           (__atomic_load_n(&roar_shim_fd_bits[fd], __ATOMIC_RELAXED) & bit);
}
/* 1 the first time `bit` is set on fd since its last reset (always 1 past the table). */
int roar_shim_fd_first(int fd, unsigned bit);
static inline unsigned roar_shim_fd_bits_of(int fd)
{
    return fd >= 0 && fd < ROAR_FD_TABLE ? __atomic_load_n(&roar_shim_fd_bits[fd], __ATOMIC_RELAXED)
                                         : 0;
}

/* The first read / write through fd (io.c): publishes it unless already seen. */
void roar_shim_note_read(int fd, ssize_t n);
void roar_shim_note_write(int fd, ssize_t n);

/* ---- channels (channels.c, SPEC §4.9) ---- */
/* Marks fd a channel with `extra` bits (the SEEN bits are reset). */
void roar_shim_channel_mark(int fd, unsigned extra);
/* A new channel: marks fd and fd2 (-1: none) and publishes ROAR_EV_FDNEW with
 * ROAR_FDNEW_F_* `flags`, and the identity of fd when st is given. */
void roar_shim_channel_new(int fd, int fd2, unsigned flags, const struct stat *st);
/* An open (by path: a FIFO, a device) of a file that is not regular: fd is a channel;
 * `stdio` when the program will read it through a FILE (fopen), whose reads we miss. */
void roar_shim_channel_opened(int fd, int flags, const struct stat *st, int stdio);
/* dup/dup2/dup3/F_DUPFD: newfd inherits what oldfd is. */
void roar_shim_channel_dup(int oldfd, int newfd);
/* The fork child's side: clears the SEEN bits of every channel and reports the reads
 * we cannot see (ROAR_FD_UNSEEN_READS). Idempotent per process. */
void roar_shim_channels_after_fork(void);
/* A new image's side, after its EXEC: classifies the inherited fds. */
void roar_shim_channels_at_start(void);

/* ---- flows the tracer cannot follow (flow.c, SPEC §4.9) ---- */
/* This process mapped shared anonymous memory (sent once per process). */
void roar_shim_flow_shared_anon(void);

/* Protects the control connection from close/dup2/dup3/close_range over it: moves it
 * when its fd is in [lo, hi]. The check is inline (most processes never connect). */
extern int roar_shim_conn_fd;
void roar_shim_conn_move(int lo, int hi);
static inline void roar_shim_conn_protect(int lo, int hi)
{
    int fd = __atomic_load_n(&roar_shim_conn_fd, __ATOMIC_ACQUIRE);
    if (fd >= 0 && fd >= lo && fd <= hi)
        roar_shim_conn_move(lo, hi);
}

/* Child side of fork: refresh pid/tid, drop the parent's connection. */
void roar_shim_after_fork_child(void);

/* fork, with the ROAR_EV_FORK slot reserved before the call so that every event of
 * either process after the fork lands behind it in ring order. */
pid_t roar_shim_fork(pid_t (*real_fork)(void));

/* Reserve a ROAR_EV_FORK slot before a process-creating call; finish it after with
 * the child pid (or -errno). ok = 0 when the ring had no room. */
struct roar_shim_forkslot {
    struct roar_ringp_slot slot;
    int ok;
};
void roar_shim_fork_begin(struct roar_shim_forkslot *fs);
void roar_shim_fork_end(struct roar_shim_forkslot *fs, pid_t child, int err);

/* The body of a read or write wrapper (read, write, recv, send...): the call, then, the
 * first time this process does `bit` through fd, note(fd, result), errno kept as the
 * call left it. Only a flag test on the path after the first. */
#define ROAR_SHIM_IO_BODY(note, bit, fd, CALL)                                        \
    do {                                                                              \
        ssize_t rv_ = CALL;                                                           \
        if (roar_shim_on && !roar_shim_guard &&                                       \
            !roar_shim_fd_seen(fd, bit)) {                                            \
            int e_ = errno;                                                           \
            note(fd, rv_);                                                            \
            errno = e_;                                                               \
        }                                                                             \
        return rv_;                                                                   \
    } while (0)

#endif
