/* The shim's file-side wrappers: opens (and stdio opens, temp files), reads and writes
 * (first per fd), mmap, close/dup/fcntl. fd creators are in channels.c. */
#include "trace/preload/shim.h"

#include <linux/falloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/uio.h>
#include <unistd.h>

/* Fortified and internal entry points glibc's headers do not declare for us. */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);
ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen);
ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off, size_t buflen);
ssize_t __pread64_chk(int fd, void *buf, size_t n, off64_t off, size_t buflen);
int fcntl64(int fd, int cmd, ...);

/* ---- opens ------------------------------------------------------------------------------ */

struct open_ctx {
    char abs[ROAR_SHIM_PATH];
    size_t abs_len;
    int have_abs;
    int existed;
};

static int write_capable(int flags)
{
    return (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC);
}

/* Before the open: the absolute path, whether the file existed (for `created`, SPEC
 * §4.3: only O_CREAT opens pay the fstatat), and the hash-before-destroy round trip for
 * a write-capable open of an existing regular file (SPEC §4.6). */
static void open_before(struct open_ctx *c, int dirfd, const char *path, int flags)
{
    struct stat st;

    c->have_abs = roar_shim_abspath_len(c->abs, dirfd, path, &c->abs_len) == 0;
    c->existed = 1;
    if (flags & O_PATH)
        return;
    if ((flags & O_TMPFILE) == O_TMPFILE || (flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL)) {
        c->existed = 0;
        return;
    }
    if (!(flags & O_CREAT) && !write_capable(flags))
        return;
    if (fstatat(dirfd, path, &st, (flags & O_NOFOLLOW) ? AT_SYMLINK_NOFOLLOW : 0) < 0) {
        c->existed = errno != ENOENT;
        return;
    }
    if (write_capable(flags) && S_ISREG(st.st_mode) && c->have_abs)
        roar_shim_destroy_wait(ROAR_EV_OPEN, (uint64_t)(unsigned)flags, c->abs, -1, &st);
}

static void fdnew(int fd, int fd2)
{
    roar_shim_fd_reset(fd);
    roar_shim_fd_reset(fd2);
    roar_shim_emit_small(ROAR_EV_FDNEW, fd, fd2, fd, 0);
}

/* After a successful open: published before the open returns, so a read-capable open
 * is in the ring before the program can read (SPEC §4.6), with fstat identity. */
static void open_after(struct open_ctx *c, int fd, int flags, mode_t mode, int stdio)
{
    struct roar_event_hdr h;
    struct stat st;

    if (!c->have_abs) {
        fdnew(fd, -1); /* unknown name: at least the fd no longer names the old file */
        return;
    }
    /* The open decides whether the file is an input (SPEC §4.4), so a read through this
     * fd would tell the collector nothing: mark it read already; only the first write
     * is news. */
    roar_shim_fd_set(fd, ROAR_FD_SEEN_READ);
    roar_shim_hdr(&h, ROAR_EV_OPEN);
    h.ret = fd;
    h.fd = fd;
    h.flags = (unsigned)flags;
    h.arg = mode;
    if (roar_shim_fstat(fd, &st) == 0)
        roar_shim_ident(&h, &st);
    h.created = ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) && !c->existed;
    roar_shim_emit_len(&h, c->abs, c->abs_len);
    /* A FIFO or a device is no input: reads through it are news once per process
     * (SPEC §4.9). After the OPEN, so that a read it reports follows it. */
    if (h.has_ident && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) && !(flags & O_PATH))
        roar_shim_channel_opened(fd, flags, &st, stdio);
}

#define OPEN_BODY(dirfd, path, flags, mode, CALL)                                         \
    do {                                                                                  \
        struct open_ctx c;                                                                \
        int saved, fd;                                                                    \
        if (!roar_shim_enter(&saved))                                                     \
            return CALL;                                                                  \
        open_before(&c, dirfd, path, flags);                                              \
        errno = saved;                                                                    \
        fd = CALL;                                                                        \
        saved = errno;                                                                    \
        if (fd >= 0)                                                                      \
            open_after(&c, fd, flags, mode, 0);                                           \
        roar_shim_leave(saved);                                                           \
        return fd;                                                                        \
    } while (0)

#define GET_MODE(flags, mode)                                                             \
    do {                                                                                  \
        if (__OPEN_NEEDS_MODE(flags)) {                                                   \
            va_list ap;                                                                   \
            va_start(ap, flags);                                                          \
            mode = (mode_t)va_arg(ap, int);                                               \
            va_end(ap);                                                                   \
        }                                                                                 \
    } while (0)

ROAR_EXPORT int open(const char *path, int flags, ...)
{
    mode_t mode = 0;
    ROAR_REAL(open);
    GET_MODE(flags, mode);
    OPEN_BODY(AT_FDCWD, path, flags, mode, real_open(path, flags, mode));
}

ROAR_EXPORT int open64(const char *path, int flags, ...)
{
    mode_t mode = 0;
    ROAR_REAL(open64);
    GET_MODE(flags, mode);
    OPEN_BODY(AT_FDCWD, path, flags, mode, real_open64(path, flags, mode));
}

ROAR_EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
    mode_t mode = 0;
    ROAR_REAL(openat);
    GET_MODE(flags, mode);
    OPEN_BODY(dirfd, path, flags, mode, real_openat(dirfd, path, flags, mode));
}

ROAR_EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
    mode_t mode = 0;
    ROAR_REAL(openat64);
    GET_MODE(flags, mode);
    OPEN_BODY(dirfd, path, flags, mode, real_openat64(dirfd, path, flags, mode));
}

ROAR_EXPORT int __open_2(const char *path, int flags)
{
    ROAR_REAL(__open_2);
    OPEN_BODY(AT_FDCWD, path, flags, 0, real___open_2(path, flags));
}

ROAR_EXPORT int __open64_2(const char *path, int flags)
{
    ROAR_REAL(__open64_2);
    OPEN_BODY(AT_FDCWD, path, flags, 0, real___open64_2(path, flags));
}

ROAR_EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
    ROAR_REAL(__openat_2);
    OPEN_BODY(dirfd, path, flags, 0, real___openat_2(dirfd, path, flags));
}

ROAR_EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
    ROAR_REAL(__openat64_2);
    OPEN_BODY(dirfd, path, flags, 0, real___openat64_2(dirfd, path, flags));
}

ROAR_EXPORT int creat(const char *path, mode_t mode)
{
    ROAR_REAL(creat);
    OPEN_BODY(AT_FDCWD, path, O_WRONLY | O_CREAT | O_TRUNC, mode, real_creat(path, mode));
}

ROAR_EXPORT int creat64(const char *path, mode_t mode)
{
    ROAR_REAL(creat64);
    OPEN_BODY(AT_FDCWD, path, O_WRONLY | O_CREAT | O_TRUNC, mode, real_creat64(path, mode));
}

/* stdio opens: glibc opens through its internal __open, so we see only fopen itself. */
static int fmode_flags(const char *m)
{
    int f;
    if (!m)
        return -1;
    switch (*m++) {
    case 'r': f = O_RDONLY; break;
    case 'w': f = O_WRONLY | O_CREAT | O_TRUNC; break;
    case 'a': f = O_WRONLY | O_CREAT | O_APPEND; break;
    default: return -1;
    }
    for (; *m && *m != ','; m++) {
        if (*m == '+')
            f = (f & ~O_ACCMODE) | O_RDWR;
        else if (*m == 'x')
            f |= O_EXCL;
        else if (*m == 'e')
            f |= O_CLOEXEC;
    }
    return f;
}

static void close_event(int lo, int hi, unsigned flags)
{
    if (!(flags & ROAR_CLOSE_F_CLOEXEC) && lo == hi)
        roar_shim_fd_reset(lo); /* close(): no loop */
    else if (!(flags & ROAR_CLOSE_F_CLOEXEC))
        roar_shim_fd_reset_range(lo, hi);
    roar_shim_emit_small(ROAR_EV_CLOSE, lo, hi, 0, flags);
}

#define FOPEN_BODY(path, mode, CALL)                                                      \
    do {                                                                                  \
        struct open_ctx c;                                                                \
        int saved, flags = fmode_flags(mode);                                             \
        FILE *f;                                                                          \
        if (flags < 0 || !roar_shim_enter(&saved))                                        \
            return CALL;                                                                  \
        open_before(&c, AT_FDCWD, path, flags);                                           \
        errno = saved;                                                                    \
        f = CALL;                                                                         \
        saved = errno;                                                                    \
        if (f && fileno(f) >= 0)                                                          \
            open_after(&c, fileno(f), flags, 0666, 1);                                    \
        roar_shim_leave(saved);                                                           \
        return f;                                                                         \
    } while (0)

ROAR_EXPORT FILE *fopen(const char *path, const char *mode)
{
    ROAR_REAL(fopen);
    FOPEN_BODY(path, mode, real_fopen(path, mode));
}

ROAR_EXPORT FILE *fopen64(const char *path, const char *mode)
{
    ROAR_REAL(fopen64);
    FOPEN_BODY(path, mode, real_fopen64(path, mode));
}

#define FREOPEN_BODY(path, mode, stream, CALL)                                            \
    do {                                                                                  \
        struct open_ctx c;                                                                \
        int saved, flags = fmode_flags(mode), old;                                        \
        FILE *f;                                                                          \
        if (!path || flags < 0 || !roar_shim_enter(&saved))                               \
            return CALL;                                                                  \
        old = stream ? fileno(stream) : -1;                                               \
        open_before(&c, AT_FDCWD, path, flags);                                           \
        errno = saved;                                                                    \
        f = CALL;                                                                         \
        saved = errno;                                                                    \
        /* freopen closes the old fd internally, whatever happens to the new open */      \
        if (old >= 0 && (!f || fileno(f) != old))                                         \
            close_event(old, old, 0);                                                     \
        if (f && fileno(f) >= 0)                                                          \
            open_after(&c, fileno(f), flags, 0666, 1);                                    \
        roar_shim_leave(saved);                                                           \
        return f;                                                                         \
    } while (0)

ROAR_EXPORT FILE *freopen(const char *path, const char *mode, FILE *stream)
{
    ROAR_REAL(freopen);
    FREOPEN_BODY(path, mode, stream, real_freopen(path, mode, stream));
}

ROAR_EXPORT FILE *freopen64(const char *path, const char *mode, FILE *stream)
{
    ROAR_REAL(freopen64);
    FREOPEN_BODY(path, mode, stream, real_freopen64(path, mode, stream));
}

ROAR_EXPORT int fclose(FILE *f)
{
    int saved, fd, rc;
    ROAR_REAL(fclose);
    if (!f || !roar_shim_enter(&saved))
        return real_fclose(f);
    fd = fileno(f);
    errno = saved;
    rc = real_fclose(f);
    saved = errno;
    /* the fd is gone even when fclose reports a write-back error */
    if (fd >= 0)
        close_event(fd, fd, 0);
    roar_shim_leave(saved);
    return rc;
}

/* mkstemp & co. open internally: report the open with the name they chose. */
static void temp_opened(int fd, const char *tmpl, int extra)
{
    struct open_ctx c;
    c.have_abs = roar_shim_abspath_len(c.abs, AT_FDCWD, tmpl, &c.abs_len) == 0;
    c.existed = 0;
    open_after(&c, fd, O_RDWR | O_CREAT | O_EXCL | extra, 0600, 0);
}

#define TEMP_BODY(tmpl, extra, CALL)                                                      \
    do {                                                                                  \
        int saved, fd;                                                                    \
        if (!roar_shim_enter(&saved))                                                     \
            return CALL;                                                                  \
        errno = saved;                                                                    \
        fd = CALL;                                                                        \
        saved = errno;                                                                    \
        if (fd >= 0)                                                                      \
            temp_opened(fd, tmpl, extra);                                                 \
        roar_shim_leave(saved);                                                           \
        return fd;                                                                        \
    } while (0)

ROAR_EXPORT int mkstemp(char *tmpl)
{
    ROAR_REAL(mkstemp);
    TEMP_BODY(tmpl, 0, real_mkstemp(tmpl));
}
ROAR_EXPORT int mkstemp64(char *tmpl)
{
    ROAR_REAL(mkstemp64);
    TEMP_BODY(tmpl, 0, real_mkstemp64(tmpl));
}
ROAR_EXPORT int mkostemp(char *tmpl, int flags)
{
    ROAR_REAL(mkostemp);
    TEMP_BODY(tmpl, flags, real_mkostemp(tmpl, flags));
}
ROAR_EXPORT int mkostemp64(char *tmpl, int flags)
{
    ROAR_REAL(mkostemp64);
    TEMP_BODY(tmpl, flags, real_mkostemp64(tmpl, flags));
}
ROAR_EXPORT int mkstemps(char *tmpl, int suffixlen)
{
    ROAR_REAL(mkstemps);
    TEMP_BODY(tmpl, 0, real_mkstemps(tmpl, suffixlen));
}
ROAR_EXPORT int mkstemps64(char *tmpl, int suffixlen)
{
    ROAR_REAL(mkstemps64);
    TEMP_BODY(tmpl, 0, real_mkstemps64(tmpl, suffixlen));
}
ROAR_EXPORT int mkostemps(char *tmpl, int suffixlen, int flags)
{
    ROAR_REAL(mkostemps);
    TEMP_BODY(tmpl, flags, real_mkostemps(tmpl, suffixlen, flags));
}
ROAR_EXPORT int mkostemps64(char *tmpl, int suffixlen, int flags)
{
    ROAR_REAL(mkostemps64);
    TEMP_BODY(tmpl, flags, real_mkostemps64(tmpl, suffixlen, flags));
}

/* tmpfile: an unnamed file (O_TMPFILE in P_tmpdir, or created and unlinked at once). */
#define TMPFILE_BODY(CALL)                                                                \
    do {                                                                                  \
        int saved;                                                                        \
        FILE *f;                                                                          \
        if (!roar_shim_enter(&saved))                                                     \
            return CALL;                                                                  \
        errno = saved;                                                                    \
        f = CALL;                                                                         \
        saved = errno;                                                                    \
        if (f && fileno(f) >= 0) {                                                        \
            struct open_ctx c;                                                            \
            strcpy(c.abs, P_tmpdir);                                                      \
            c.abs_len = strlen(P_tmpdir);                                                 \
            c.have_abs = 1;                                                               \
            c.existed = 0;                                                                \
            open_after(&c, fileno(f), O_RDWR | O_TMPFILE, 0600, 0);                       \
        }                                                                                 \
        roar_shim_leave(saved);                                                           \
        return f;                                                                         \
    } while (0)

ROAR_EXPORT FILE *tmpfile(void)
{
    ROAR_REAL(tmpfile);
    TMPFILE_BODY(real_tmpfile());
}
ROAR_EXPORT FILE *tmpfile64(void)
{
    ROAR_REAL(tmpfile64);
    TMPFILE_BODY(real_tmpfile64());
}

/* ---- reads and writes: only the first per fd is an event ------------------------------ */

static void note_read(int fd, ssize_t n)
{
    int saved;
    if (n < 0 || !roar_shim_fd_first(fd, ROAR_FD_SEEN_READ) || !roar_shim_enter(&saved))
        return;
    roar_shim_emit_small(ROAR_EV_READ, fd, -1, n, 0);
    roar_shim_leave(saved);
}

/* The first write carries the fd's identity, so that a reuse of the fd number that we
 * missed cannot charge the write to the file the number used to name. */
static void note_write(int fd, ssize_t n)
{
    struct roar_event_hdr h;
    struct stat st;
    int saved;
    if (n <= 0 || !roar_shim_fd_first(fd, ROAR_FD_SEEN_WRITE) || !roar_shim_enter(&saved))
        return;
    if (roar_shim_fstat(fd, &st) < 0) {
        roar_shim_emit_small(ROAR_EV_WRITE, fd, -1, n, 0);
        roar_shim_leave(saved);
        return;
    }
    roar_shim_hdr(&h, ROAR_EV_WRITE);
    h.fd = fd;
    h.ret = n;
    roar_shim_ident(&h, &st);
    roar_shim_emit(&h, NULL, NULL);
    roar_shim_leave(saved);
}

/* For the socket wrappers (channels.c). */
void roar_shim_note_read(int fd, ssize_t n)
{
    note_read(fd, n);
}
void roar_shim_note_write(int fd, ssize_t n)
{
    note_write(fd, n);
}

ROAR_EXPORT ssize_t read(int fd, void *buf, size_t n)
{
    ROAR_REAL(read);
    ROAR_SHIM_IO_BODY(note_read, ROAR_FD_SEEN_READ, fd, real_read(fd, buf, n));
}
ROAR_EXPORT ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
    ROAR_REAL(__read_chk);
    ROAR_SHIM_IO_BODY(note_read, ROAR_FD_SEEN_READ, fd, real___read_chk(fd, buf, n, buflen));
}
ROAR_EXPORT ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
    ROAR_REAL(pread);
    ROAR_SHIM_IO_BODY(note_read, ROAR_FD_SEEN_READ, fd, real_pread(fd, buf, n, off));
}
ROAR_EXPORT ssize_t pread64(int fd, void *buf, size_t n, off64_t off)
{
    ROAR_REAL(pread64);
    ROAR_SHIM_IO_BODY(note_read, ROAR_FD_SEEN_READ, fd, real_pread64(fd, buf, n, off));
}
ROAR_EXPORT ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off, size_t buflen)
{
    ROAR_REAL(__pread_chk);
    ROAR_SHIM_IO_BODY(note_read, ROAR_FD_SEEN_READ, fd, real___pread_chk(fd, buf, n, off, buflen));
}
ROAR_EXPORT ssize_t __pread64_chk(int fd, void *buf, size_t n, off64_t off, size_t buflen)
{
    ROAR_REAL(__pread64_chk);
    ROAR_SHIM_IO_BODY(note_read, ROAR_FD_SEEN_READ, fd, real___pread64_chk(fd, buf, n, off, buflen));
}
ROAR_EXPORT ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
    ROAR_REAL(readv);
    ROAR_SHIM_IO_BODY(note_read, ROAR_FD_SEEN_READ, fd, real_readv(fd, iov, cnt));
}
ROAR_EXPORT ssize_t preadv(int fd, const struct iovec *iov, int cnt, off_t off)
{
    ROAR_REAL(preadv);
    ROAR_SHIM_IO_BODY(note_read, ROAR_FD_SEEN_READ, fd, real_preadv(fd, iov, cnt, off));
}
ROAR_EXPORT ssize_t preadv64(int fd, const struct iovec *iov, int cnt, off64_t off)
{
    ROAR_REAL(preadv64);
    ROAR_SHIM_IO_BODY(note_read, ROAR_FD_SEEN_READ, fd, real_preadv64(fd, iov, cnt, off));
}
ROAR_EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
    ROAR_REAL(write);
    ROAR_SHIM_IO_BODY(note_write, ROAR_FD_SEEN_WRITE, fd, real_write(fd, buf, n));
}
ROAR_EXPORT ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    ROAR_REAL(pwrite);
    ROAR_SHIM_IO_BODY(note_write, ROAR_FD_SEEN_WRITE, fd, real_pwrite(fd, buf, n, off));
}
ROAR_EXPORT ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
    ROAR_REAL(pwrite64);
    ROAR_SHIM_IO_BODY(note_write, ROAR_FD_SEEN_WRITE, fd, real_pwrite64(fd, buf, n, off));
}
ROAR_EXPORT ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
    ROAR_REAL(writev);
    ROAR_SHIM_IO_BODY(note_write, ROAR_FD_SEEN_WRITE, fd, real_writev(fd, iov, cnt));
}
ROAR_EXPORT ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
    ROAR_REAL(pwritev);
    ROAR_SHIM_IO_BODY(note_write, ROAR_FD_SEEN_WRITE, fd, real_pwritev(fd, iov, cnt, off));
}
ROAR_EXPORT ssize_t pwritev64(int fd, const struct iovec *iov, int cnt, off64_t off)
{
    ROAR_REAL(pwritev64);
    ROAR_SHIM_IO_BODY(note_write, ROAR_FD_SEEN_WRITE, fd, real_pwritev64(fd, iov, cnt, off));
}

/* ---- mmap ----------------------------------------------------------------------------- */

static int is_shared(int flags)
{
    return (flags & MAP_TYPE) == MAP_SHARED || (flags & MAP_TYPE) == MAP_SHARED_VALIDATE;
}

static void *do_mmap(void *addr, size_t len, int prot, int flags, int fd, off64_t off,
                     void *(*real)(void *, size_t, int, int, int, off64_t))
{
    struct roar_event_hdr h;
    struct stat st;
    int saved, have;
    void *p;

    if (flags & MAP_ANONYMOUS) {
        /* Shared anonymous memory: the processes this one forks from now on share it
         * (SPEC §4.9). A private mapping (malloc's) costs one test. */
        p = real(addr, len, prot, flags, fd, off);
        if (is_shared(flags) && p != MAP_FAILED && roar_shim_on && !roar_shim_guard) {
            saved = errno;
            roar_shim_flow_shared_anon();
            errno = saved;
        }
        return p;
    }
    if (fd < 0 || !roar_shim_enter(&saved))
        return real(addr, len, prot, flags, fd, off);
    have = roar_shim_fstat(fd, &st) == 0;
    if (have && S_ISREG(st.st_mode) && (prot & PROT_WRITE) && (flags & MAP_SHARED))
        roar_shim_destroy_wait(ROAR_EV_MMAP, (uint64_t)prot, NULL, fd, &st);
    errno = saved;
    p = real(addr, len, prot, flags, fd, off);
    saved = errno;
    if (p != MAP_FAILED) {
        roar_shim_hdr(&h, ROAR_EV_MMAP);
        h.fd = fd;
        h.flags = (unsigned)flags;
        h.arg = (unsigned)prot;
        if (have)
            roar_shim_ident(&h, &st);
        roar_shim_emit(&h, NULL, NULL);
        /* /dev/zero mapped shared is shared anonymous memory by another name */
        if (have && S_ISCHR(st.st_mode) && is_shared(flags))
            roar_shim_flow_shared_anon();
    }
    roar_shim_leave(saved);
    return p;
}

ROAR_EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    ROAR_REAL(mmap64);
    return do_mmap(addr, len, prot, flags, fd, off, real_mmap64);
}
ROAR_EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off64_t off)
{
    ROAR_REAL(mmap64);
    return do_mmap(addr, len, prot, flags, fd, off, real_mmap64);
}

/* ---- close, dup, fcntl ---------------------------------------------------------------- */

ROAR_EXPORT int close(int fd)
{
    int saved, rc;
    ROAR_REAL(close);
    if (!roar_shim_enter(&saved))
        return real_close(fd);
    roar_shim_conn_protect(fd, fd);
    errno = saved;
    rc = real_close(fd);
    saved = errno;
    /* Linux releases the fd even when close reports EINTR */
    if (rc == 0 || saved == EINTR)
        close_event(fd, fd, 0);
    roar_shim_leave(saved);
    return rc;
}

ROAR_EXPORT int close_range(unsigned first, unsigned last, int flags)
{
    int saved, rc, hi = last > INT_MAX ? INT_MAX : (int)last;
    ROAR_REAL(close_range);
    if (first > INT_MAX || !roar_shim_enter(&saved))
        return real_close_range(first, last, flags);
    if (!(flags & CLOSE_RANGE_CLOEXEC))
        roar_shim_conn_protect((int)first, hi);
    errno = saved;
    rc = real_close_range(first, last, flags);
    saved = errno;
    if (rc == 0)
        close_event((int)first, hi, (flags & CLOSE_RANGE_CLOEXEC) ? ROAR_CLOSE_F_CLOEXEC : 0);
    roar_shim_leave(saved);
    return rc;
}

ROAR_EXPORT void closefrom(int lowfd)
{
    int saved;
    ROAR_REAL(closefrom);
    if (lowfd < 0 || !roar_shim_enter(&saved)) {
        real_closefrom(lowfd);
        return;
    }
    roar_shim_conn_protect(lowfd, INT_MAX);
    errno = saved;
    real_closefrom(lowfd);
    saved = errno;
    close_event(lowfd, INT_MAX, 0);
    roar_shim_leave(saved);
}

static void dup_event(int oldfd, int newfd, int cloexec)
{
    roar_shim_emit_small(ROAR_EV_DUP, oldfd, newfd, newfd, cloexec ? O_CLOEXEC : 0);
    roar_shim_channel_dup(oldfd, newfd); /* after: a read it reports is through newfd */
}

ROAR_EXPORT int dup(int fd)
{
    int saved, rc;
    ROAR_REAL(dup);
    if (!roar_shim_enter(&saved))
        return real_dup(fd);
    errno = saved;
    rc = real_dup(fd);
    saved = errno;
    if (rc >= 0)
        dup_event(fd, rc, 0);
    roar_shim_leave(saved);
    return rc;
}

ROAR_EXPORT int dup2(int oldfd, int newfd)
{
    int saved, rc;
    ROAR_REAL(dup2);
    if (!roar_shim_enter(&saved))
        return real_dup2(oldfd, newfd);
    if (oldfd != newfd)
        roar_shim_conn_protect(newfd, newfd);
    errno = saved;
    rc = real_dup2(oldfd, newfd);
    saved = errno;
    if (rc >= 0 && oldfd != newfd)
        dup_event(oldfd, rc, 0);
    roar_shim_leave(saved);
    return rc;
}

ROAR_EXPORT int dup3(int oldfd, int newfd, int flags)
{
    int saved, rc;
    ROAR_REAL(dup3);
    if (!roar_shim_enter(&saved))
        return real_dup3(oldfd, newfd, flags);
    if (oldfd != newfd)
        roar_shim_conn_protect(newfd, newfd);
    errno = saved;
    rc = real_dup3(oldfd, newfd, flags);
    saved = errno;
    if (rc >= 0)
        dup_event(oldfd, rc, flags & O_CLOEXEC);
    roar_shim_leave(saved);
    return rc;
}

static int do_fcntl(int fd, int cmd, void *arg, int (*real)(int, int, ...))
{
    int saved, rc;

    if ((cmd != F_DUPFD && cmd != F_DUPFD_CLOEXEC && cmd != F_SETFD) ||
        !roar_shim_enter(&saved))
        return real(fd, cmd, arg);
    errno = saved;
    rc = real(fd, cmd, arg);
    saved = errno;
    if (rc >= 0 && cmd == F_SETFD)
        roar_shim_emit_small(ROAR_EV_SETFD, fd, -1, 0, (uint32_t)(uintptr_t)arg & FD_CLOEXEC);
    else if (rc >= 0)
        dup_event(fd, rc, cmd == F_DUPFD_CLOEXEC);
    roar_shim_leave(saved);
    return rc;
}

/* glibc itself reads the third argument as a void *, whatever the command. */
ROAR_EXPORT int fcntl(int fd, int cmd, ...)
{
    va_list ap;
    void *arg;
    ROAR_REAL(fcntl);
    va_start(ap, cmd);
    arg = va_arg(ap, void *);
    va_end(ap);
    return do_fcntl(fd, cmd, arg, real_fcntl);
}

ROAR_EXPORT int fcntl64(int fd, int cmd, ...)
{
    va_list ap;
    void *arg;
    ROAR_REAL(fcntl64);
    va_start(ap, cmd);
    arg = va_arg(ap, void *);
    va_end(ap);
    return do_fcntl(fd, cmd, arg, real_fcntl64);
}
