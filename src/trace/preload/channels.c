/* The shim's channels (SPEC §4.9): the fd creators (pipes, socket pairs, sockets...),
 * socket I/O, fdopen, and the per-process first read / first write of every channel.
 *
 * Data flows between the job's processes through channels, so fdstate must know which
 * process read each one: every process's first read (and write) through a channel is
 * an event, not just the first of the fd table it was copied from at fork. Two things
 * stand in the way, and are handled here:
 * - fork copies the per-fd SEEN bits (shim.c's table): a child would inherit "already
 *   read". The child clears them for every fd marked ROAR_FD_CHANNEL.
 * - glibc's stdio reads through its internal read(), which no wrapper sees: `sort`
 *   reading a pipe on stdin with fread would read unseen. So a readable channel that
 *   stdio may read (an inherited one, a FILE made by fdopen or fopen, stdin made by
 *   dup2) is reported as read as soon as the process holds it (a READ with ret 0, and
 *   ROAR_FD_UNSEEN_READS on the fd, so that a fork child reports it too). That is
 *   early, never late: the process's writes that follow depend on it. */
#include "trace/preload/shim.h"

#include <stdio.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>

/* Highest channel fd + 1 ever marked in this image: the fork child's walk stops there. */
static int channel_hi;
/* The process whose fork-child pass is done (the atfork handler and the fork wrapper
 * both run it; the second must not report twice). */
static pid_t after_fork_done;

void roar_shim_channel_mark(int fd, unsigned extra)
{
    int hi;
    if (fd < 0 || fd >= ROAR_FD_TABLE)
        return;
    roar_shim_fd_set(fd, ROAR_FD_CHANNEL | extra);
    hi = __atomic_load_n(&channel_hi, __ATOMIC_RELAXED);
    while (fd >= hi && !__atomic_compare_exchange_n(&channel_hi, &hi, fd + 1, 0,
                                                    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
}

/* The process may read fd from now on without a wrapper seeing it: report the read
 * now, and keep the mark for fork children. */
static void may_read_unseen(int fd)
{
    if (fd >= 0 && fd < ROAR_FD_TABLE)
        __atomic_fetch_or(&roar_shim_fd_bits[fd],
                          (unsigned char)(ROAR_FD_CHANNEL | ROAR_FD_UNSEEN_READS |
                                          ROAR_FD_SEEN_READ),
                          __ATOMIC_RELAXED);
    roar_shim_emit_small(ROAR_EV_READ, fd, -1, 0, 0);
}

static int readable(int fd)
{
    int fl = (int)syscall(SYS_fcntl, fd, F_GETFL);
    return fl >= 0 && (fl & O_ACCMODE) != O_WRONLY;
}

/* Pipes, FIFOs and sockets carry data between processes; a device or a tty is a
 * channel for the per-process bits, but nothing of the job flows through it. */
static int carries_data(mode_t mode)
{
    return S_ISFIFO(mode) || S_ISSOCK(mode);
}

void roar_shim_channel_new(int fd, int fd2, unsigned flags, const struct stat *st)
{
    struct roar_event_hdr h;

    roar_shim_channel_mark(fd, 0);
    roar_shim_channel_mark(fd2, 0);
    if (!st) {
        roar_shim_emit_small(ROAR_EV_FDNEW, fd, fd2, fd, flags);
        return;
    }
    roar_shim_hdr(&h, ROAR_EV_FDNEW);
    h.fd = fd;
    h.fd2 = fd2;
    h.ret = fd;
    h.flags = flags;
    roar_shim_ident(&h, st);
    roar_shim_emit(&h, NULL, NULL);
}

void roar_shim_channel_opened(int fd, int flags, const struct stat *st, int stdio)
{
    roar_shim_channel_mark(fd, 0);
    if (stdio && carries_data(st->st_mode) && (flags & O_ACCMODE) != O_WRONLY)
        may_read_unseen(fd);
}

void roar_shim_channel_dup(int oldfd, int newfd)
{
    unsigned b = roar_shim_fd_bits_of(oldfd);

    if (!(b & ROAR_FD_CHANNEL)) {
        roar_shim_fd_reset(newfd);
        return;
    }
    roar_shim_channel_mark(newfd, b & ROAR_FD_UNSEEN_READS);
    /* A channel made stdin: stdio may read it from now on (a fork child that goes on
     * without exec, or reads before it execs). */
    if (newfd == 0 && !(b & ROAR_FD_UNSEEN_READS) && readable(newfd)) {
        struct stat st;
        if (roar_shim_fstat(newfd, &st) == 0 && carries_data(st.st_mode))
            may_read_unseen(newfd);
    }
}

void roar_shim_channels_after_fork(void)
{
    int fd, hi = __atomic_load_n(&channel_hi, __ATOMIC_RELAXED);

    if (after_fork_done == roar_shim_pid)
        return;
    after_fork_done = roar_shim_pid;
    for (fd = 0; fd < hi && fd < ROAR_FD_TABLE; fd++) {
        unsigned b = roar_shim_fd_bits[fd];
        if (!(b & ROAR_FD_CHANNEL))
            continue;
        roar_shim_fd_bits[fd] = (unsigned char)(b & ~(ROAR_FD_SEEN_READ | ROAR_FD_SEEN_WRITE));
        if (b & ROAR_FD_UNSEEN_READS)
            may_read_unseen(fd);
    }
}

/* An fd this image found open at start: a channel is marked, and a readable one that
 * carries data is reported read (stdio may read it unseen: `sort` on a pipe). */
static void classify_inherited(int fd)
{
    struct stat st;
    if (roar_shim_fstat(fd, &st) < 0 || S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))
        return;
    roar_shim_channel_mark(fd, 0);
    if (carries_data(st.st_mode) && readable(fd))
        may_read_unseen(fd);
}

struct dirent64_raw {
    uint64_t ino;
    int64_t off;
    unsigned short reclen;
    unsigned char type;
    char name[];
};

/* The inherited fds, from /proc/self/fd (raw system calls: no wrapper, no malloc);
 * without /proc (a chroot), the first 256 numbers. A few system calls per exec. */
void roar_shim_channels_at_start(void)
{
    char buf[2048];
    long n;
    int dir = (int)syscall(SYS_openat, AT_FDCWD, "/proc/self/fd",
                           O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (dir < 0) {
        int fd;
        for (fd = 0; fd < 256; fd++)
            classify_inherited(fd);
        return;
    }
    while ((n = syscall(SYS_getdents64, dir, buf, sizeof(buf))) > 0) {
        long at = 0;
        while (at < n) {
            const struct dirent64_raw *d = (const struct dirent64_raw *)(buf + at);
            const char *p = d->name;
            long fd = 0;
            at += d->reclen;
            if (*p < '0' || *p > '9')
                continue;
            while (*p >= '0' && *p <= '9' && fd < INT_MAX / 10)
                fd = fd * 10 + (*p++ - '0');
            if (!*p && fd != dir)
                classify_inherited((int)fd);
        }
    }
    syscall(SYS_close, dir);
}

/* ---- fd creators ---------------------------------------------------------------------- */

/* No data between processes (epoll, timerfd, signalfd, inotify): the numbers just no
 * longer name the files they did. */
static void fdnew_plain(int fd)
{
    roar_shim_fd_reset(fd);
    roar_shim_emit_small(ROAR_EV_FDNEW, fd, -1, fd, 0);
}

static void fdnew_opaque(int fd)
{
    roar_shim_channel_new(fd, -1, ROAR_FDNEW_F_OPAQUE, NULL);
}

/* Reads through both ends are seen: read() and recv() are wrapped, and stdio's are
 * reported when a FILE can reach the fd (above). */
static void fdnew_pipe(const int fds[2])
{
    struct stat st;
    roar_shim_channel_new(fds[0], fds[1], ROAR_FDNEW_F_PAIR | ROAR_FDNEW_F_READS_SEEN,
                          roar_shim_fstat(fds[0], &st) == 0 ? &st : NULL);
}

static void fdnew_socketpair(const int sv[2])
{
    /* The two ends are two inodes: no one identity names the pair. */
    roar_shim_channel_new(sv[0], sv[1], ROAR_FDNEW_F_PAIR | ROAR_FDNEW_F_READS_SEEN, NULL);
}

#define FDNEW_BODY(CALL, NOTE)                                                            \
    do {                                                                                  \
        int saved, rc;                                                                    \
        if (!roar_shim_enter(&saved))                                                     \
            return CALL;                                                                  \
        errno = saved;                                                                    \
        rc = CALL;                                                                        \
        saved = errno;                                                                    \
        if (rc >= 0)                                                                      \
            NOTE;                                                                         \
        roar_shim_leave(saved);                                                           \
        return rc;                                                                        \
    } while (0)

ROAR_EXPORT int pipe(int fds[2])
{
    ROAR_REAL(pipe);
    FDNEW_BODY(real_pipe(fds), fdnew_pipe(fds));
}
ROAR_EXPORT int pipe2(int fds[2], int flags)
{
    ROAR_REAL(pipe2);
    FDNEW_BODY(real_pipe2(fds, flags), fdnew_pipe(fds));
}
ROAR_EXPORT int socketpair(int domain, int type, int protocol, int sv[2])
{
    ROAR_REAL(socketpair);
    FDNEW_BODY(real_socketpair(domain, type, protocol, sv), fdnew_socketpair(sv));
}
ROAR_EXPORT int socket(int domain, int type, int protocol)
{
    ROAR_REAL(socket);
    FDNEW_BODY(real_socket(domain, type, protocol), fdnew_opaque(rc));
}
ROAR_EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
    ROAR_REAL(accept);
    FDNEW_BODY(real_accept(fd, addr, len), fdnew_opaque(rc));
}
ROAR_EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
    ROAR_REAL(accept4);
    FDNEW_BODY(real_accept4(fd, addr, len, flags), fdnew_opaque(rc));
}
ROAR_EXPORT int eventfd(unsigned initval, int flags)
{
    ROAR_REAL(eventfd);
    FDNEW_BODY(real_eventfd(initval, flags), fdnew_opaque(rc));
}
ROAR_EXPORT int memfd_create(const char *name, unsigned flags)
{
    ROAR_REAL(memfd_create);
    FDNEW_BODY(real_memfd_create(name, flags), fdnew_opaque(rc));
}
ROAR_EXPORT int epoll_create(int size)
{
    ROAR_REAL(epoll_create);
    FDNEW_BODY(real_epoll_create(size), fdnew_plain(rc));
}
ROAR_EXPORT int epoll_create1(int flags)
{
    ROAR_REAL(epoll_create1);
    FDNEW_BODY(real_epoll_create1(flags), fdnew_plain(rc));
}
ROAR_EXPORT int timerfd_create(int clockid, int flags)
{
    ROAR_REAL(timerfd_create);
    FDNEW_BODY(real_timerfd_create(clockid, flags), fdnew_plain(rc));
}
ROAR_EXPORT int signalfd(int fd, const sigset_t *mask, int flags)
{
    ROAR_REAL(signalfd);
    if (fd != -1)
        return real_signalfd(fd, mask, flags); /* updates an existing signalfd */
    FDNEW_BODY(real_signalfd(fd, mask, flags), fdnew_plain(rc));
}
ROAR_EXPORT int inotify_init(void)
{
    ROAR_REAL(inotify_init);
    FDNEW_BODY(real_inotify_init(), fdnew_plain(rc));
}
ROAR_EXPORT int inotify_init1(int flags)
{
    ROAR_REAL(inotify_init1);
    FDNEW_BODY(real_inotify_init1(flags), fdnew_plain(rc));
}

/* ---- socket I/O: reads through a socket pair must be seen (READS_SEEN) ------------------ */

ROAR_EXPORT ssize_t recv(int fd, void *buf, size_t n, int flags)
{
    ROAR_REAL(recv);
    ROAR_SHIM_IO_BODY(roar_shim_note_read, ROAR_FD_SEEN_READ, fd, real_recv(fd, buf, n, flags));
}
ROAR_EXPORT ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *addr,
                             socklen_t *len)
{
    ROAR_REAL(recvfrom);
    ROAR_SHIM_IO_BODY(roar_shim_note_read, ROAR_FD_SEEN_READ, fd,
                 real_recvfrom(fd, buf, n, flags, addr, len));
}
ROAR_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
    ROAR_REAL(recvmsg);
    ROAR_SHIM_IO_BODY(roar_shim_note_read, ROAR_FD_SEEN_READ, fd, real_recvmsg(fd, msg, flags));
}
ROAR_EXPORT int recvmmsg(int fd, struct mmsghdr *vec, unsigned vlen, int flags,
                         struct timespec *timeout)
{
    ROAR_REAL(recvmmsg);
    ROAR_SHIM_IO_BODY(roar_shim_note_read, ROAR_FD_SEEN_READ, fd,
                 real_recvmmsg(fd, vec, vlen, flags, timeout));
}
ROAR_EXPORT ssize_t send(int fd, const void *buf, size_t n, int flags)
{
    ROAR_REAL(send);
    ROAR_SHIM_IO_BODY(roar_shim_note_write, ROAR_FD_SEEN_WRITE, fd, real_send(fd, buf, n, flags));
}
ROAR_EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags,
                           const struct sockaddr *addr, socklen_t len)
{
    ROAR_REAL(sendto);
    ROAR_SHIM_IO_BODY(roar_shim_note_write, ROAR_FD_SEEN_WRITE, fd,
                 real_sendto(fd, buf, n, flags, addr, len));
}
ROAR_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
    ROAR_REAL(sendmsg);
    ROAR_SHIM_IO_BODY(roar_shim_note_write, ROAR_FD_SEEN_WRITE, fd, real_sendmsg(fd, msg, flags));
}
ROAR_EXPORT int sendmmsg(int fd, struct mmsghdr *vec, unsigned vlen, int flags)
{
    ROAR_REAL(sendmmsg);
    ROAR_SHIM_IO_BODY(roar_shim_note_write, ROAR_FD_SEEN_WRITE, fd,
                 real_sendmmsg(fd, vec, vlen, flags));
}

/* ---- fdopen: a FILE on a channel reads it unseen ----------------------------------------- */

/* popen makes its pipe inside glibc, where no wrapper sees it: the caller's end is an
 * opaque one (its child's end is a channel fdstate never saw made, which it counts as
 * opaque too). */
ROAR_EXPORT FILE *popen(const char *command, const char *type)
{
    FILE *f;
    int saved;
    ROAR_REAL(popen);
    if (!roar_shim_enter(&saved))
        return real_popen(command, type);
    errno = saved;
    f = real_popen(command, type);
    saved = errno;
    if (f && fileno(f) >= 0)
        fdnew_opaque(fileno(f));
    roar_shim_leave(saved);
    return f;
}

ROAR_EXPORT FILE *fdopen(int fd, const char *mode)
{
    int saved;
    FILE *f;
    ROAR_REAL(fdopen);
    if (!roar_shim_enter(&saved))
        return real_fdopen(fd, mode);
    errno = saved;
    f = real_fdopen(fd, mode);
    saved = errno;
    if (f && mode && (mode[0] == 'r' || strchr(mode, '+')) &&
        !(roar_shim_fd_bits_of(fd) & ROAR_FD_UNSEEN_READS)) {
        struct stat st;
        if (roar_shim_fstat(fd, &st) == 0 && carries_data(st.st_mode))
            may_read_unseen(fd);
    }
    roar_shim_leave(saved);
    return f;
}
