/* The shim's name-only and content-changing calls: rename, link, unlink, truncate,
 * fallocate, the fd-to-fd copies, chdir. Each destroying one asks first (SPEC §4.6). */
#include "trace/preload/shim.h"

#include <fts.h>
#include <ftw.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/sendfile.h>
#include <unistd.h>

int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath,
              unsigned int flags);

/* Asks before the call when `path` (relative to dirfd) is an existing regular file. */
static void destroy_if_regular(unsigned call, uint64_t arg, int dirfd, const char *path,
                               const char *abs)
{
    struct stat st;
    if (fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
        roar_shim_destroy_wait(call, arg, abs, -1, &st);
}

static int do_rename(int odir, const char *oldp, int ndir, const char *newp, unsigned flags,
                     int (*call)(int, const char *, int, const char *, unsigned))
{
    char a[ROAR_SHIM_PATH], b[ROAR_SHIM_PATH];
    struct roar_event_hdr h;
    struct stat st;
    int saved, rc, ok, have;

    if (!roar_shim_enter(&saved))
        return call(odir, oldp, ndir, newp, flags);
    ok = roar_shim_abspath(a, odir, oldp) == 0 && roar_shim_abspath(b, ndir, newp) == 0;
    have = fstatat(odir, oldp, &st, AT_SYMLINK_NOFOLLOW) == 0;
    if (ok && !(flags & RENAME_NOREPLACE))
        destroy_if_regular(ROAR_EV_RENAME, 0, ndir, newp, b);
    /* A directory rename moves the names of every file beneath it: an input read there
     * moments ago whose open the collector has not hashed yet would be gone from its
     * name. The round trip makes the collector catch up (and hash) first. */
    if (ok && have && S_ISDIR(st.st_mode))
        roar_shim_destroy_wait(ROAR_EV_RENAME, 0, a, -1, &st);
    errno = saved;
    rc = call(odir, oldp, ndir, newp, flags);
    saved = errno;
    if (rc == 0 && ok) {
        roar_shim_hdr(&h, ROAR_EV_RENAME);
        h.flags = flags;
        if (have) {
            roar_shim_ident(&h, &st);
            h.flags |= S_ISDIR(st.st_mode) ? ROAR_RENAME_F_DIR : ROAR_RENAME_F_FILE;
        }
        roar_shim_emit(&h, a, b);
    }
    roar_shim_leave(saved);
    return rc;
}

static int call_rename(int o, const char *op, int n, const char *np, unsigned f)
{
    ROAR_REAL(rename);
    (void)o, (void)n, (void)f;
    return real_rename(op, np);
}
static int call_renameat(int o, const char *op, int n, const char *np, unsigned f)
{
    ROAR_REAL(renameat);
    (void)f;
    return real_renameat(o, op, n, np);
}
static int call_renameat2(int o, const char *op, int n, const char *np, unsigned f)
{
    ROAR_REAL(renameat2);
    return real_renameat2(o, op, n, np, f);
}

/* A rename may move a directory above some traced process's cwd: every cached cwd
 * becomes suspect (roar_shim_names_changed), traced call or not. */
ROAR_EXPORT int rename(const char *oldp, const char *newp)
{
    int rc = do_rename(AT_FDCWD, oldp, AT_FDCWD, newp, 0, call_rename);
    if (rc == 0)
        roar_shim_names_changed();
    return rc;
}
ROAR_EXPORT int renameat(int odir, const char *oldp, int ndir, const char *newp)
{
    int rc = do_rename(odir, oldp, ndir, newp, 0, call_renameat);
    if (rc == 0)
        roar_shim_names_changed();
    return rc;
}
ROAR_EXPORT int renameat2(int odir, const char *oldp, int ndir, const char *newp,
                          unsigned flags)
{
    int rc = do_rename(odir, oldp, ndir, newp, flags, call_renameat2);
    if (rc == 0)
        roar_shim_names_changed();
    return rc;
}

static int do_link(int odir, const char *oldp, int ndir, const char *newp, int flags,
                   int is_linkat)
{
    char a[ROAR_SHIM_PATH], b[ROAR_SHIM_PATH];
    struct roar_event_hdr h;
    struct stat st;
    int saved, rc, by_fd = (flags & AT_EMPTY_PATH) && oldp && !*oldp, ok, have;
    ROAR_REAL(link);
    ROAR_REAL(linkat);

#define LINK_CALL                                                                         \
    (is_linkat ? real_linkat(odir, oldp, ndir, newp, flags) : real_link(oldp, newp))
    if (!roar_shim_enter(&saved))
        return LINK_CALL;
    ok = (by_fd || roar_shim_abspath(a, odir, oldp) == 0) &&
         roar_shim_abspath(b, ndir, newp) == 0;
    have = fstatat(odir, oldp ? oldp : "", &st,
                   by_fd ? AT_EMPTY_PATH
                         : ((flags & AT_SYMLINK_FOLLOW) ? 0 : AT_SYMLINK_NOFOLLOW)) == 0;
    errno = saved;
    rc = LINK_CALL;
    saved = errno;
    if (rc == 0 && ok) {
        roar_shim_hdr(&h, ROAR_EV_LINK);
        if (by_fd)
            h.fd = odir;
        if (have)
            roar_shim_ident(&h, &st);
        roar_shim_emit(&h, by_fd ? NULL : a, b);
    }
    roar_shim_leave(saved);
    return rc;
#undef LINK_CALL
}

ROAR_EXPORT int link(const char *oldp, const char *newp)
{
    return do_link(AT_FDCWD, oldp, AT_FDCWD, newp, 0, 0);
}
ROAR_EXPORT int linkat(int odir, const char *oldp, int ndir, const char *newp, int flags)
{
    return do_link(odir, oldp, ndir, newp, flags, 1);
}

/* kind: 0 unlink, 1 unlinkat, 2 rmdir, 3 remove */
static int do_unlink(int dirfd, const char *path, int flags, int kind)
{
    char a[ROAR_SHIM_PATH];
    struct roar_event_hdr h;
    struct stat st;
    int saved, rc, ok, isdir = 0;
    ROAR_REAL(unlink);
    ROAR_REAL(unlinkat);
    ROAR_REAL(rmdir);
    ROAR_REAL(remove);

#define UNLINK_CALL                                                                       \
    (kind == 0   ? real_unlink(path)                                                      \
     : kind == 1 ? real_unlinkat(dirfd, path, flags)                                      \
     : kind == 2 ? real_rmdir(path)                                                       \
                 : real_remove(path))
    if (!roar_shim_enter(&saved))
        return UNLINK_CALL;
    ok = roar_shim_abspath(a, dirfd, path) == 0;
    if (fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        isdir = S_ISDIR(st.st_mode);
        if (S_ISREG(st.st_mode) && ok)
            roar_shim_destroy_wait(ROAR_EV_UNLINK, 0, a, -1, &st);
    }
    errno = saved;
    rc = UNLINK_CALL;
    saved = errno;
    if (rc == 0 && ok) {
        roar_shim_hdr(&h, ROAR_EV_UNLINK);
        h.flags = (kind == 2 || (kind == 1 && (flags & AT_REMOVEDIR)) || (kind == 3 && isdir))
                      ? AT_REMOVEDIR
                      : 0;
        roar_shim_emit(&h, a, NULL);
    }
    roar_shim_leave(saved);
    return rc;
#undef UNLINK_CALL
}

ROAR_EXPORT int unlink(const char *path)
{
    return do_unlink(AT_FDCWD, path, 0, 0);
}
ROAR_EXPORT int unlinkat(int dirfd, const char *path, int flags)
{
    return do_unlink(dirfd, path, flags, 1);
}
ROAR_EXPORT int rmdir(const char *path)
{
    return do_unlink(AT_FDCWD, path, 0, 2);
}
ROAR_EXPORT int remove(const char *path)
{
    return do_unlink(AT_FDCWD, path, 0, 3);
}

/* ---- truncate, fallocate ----------------------------------------------------------- */

static void trunc_event(const char *abs, int fd, uint64_t len)
{
    struct roar_event_hdr h;
    roar_shim_hdr(&h, ROAR_EV_TRUNCATE);
    h.fd = fd;
    h.arg = len;
    roar_shim_emit(&h, abs, NULL);
}

#define TRUNCATE_BODY(CALL)                                                               \
    do {                                                                                  \
        char a[ROAR_SHIM_PATH];                                                           \
        int saved, rc, ok;                                                                \
        if (!roar_shim_enter(&saved))                                                     \
            return CALL;                                                                  \
        ok = roar_shim_abspath(a, AT_FDCWD, path) == 0;                                   \
        if (ok) {                                                                         \
            struct stat st;                                                               \
            if (stat(path, &st) == 0 && S_ISREG(st.st_mode))                              \
                roar_shim_destroy_wait(ROAR_EV_TRUNCATE, (uint64_t)len, a, -1, &st);      \
        }                                                                                 \
        errno = saved;                                                                    \
        rc = CALL;                                                                        \
        saved = errno;                                                                    \
        if (rc == 0 && ok)                                                                \
            trunc_event(a, -1, (uint64_t)len);                                            \
        roar_shim_leave(saved);                                                           \
        return rc;                                                                        \
    } while (0)

ROAR_EXPORT int truncate(const char *path, off_t len)
{
    ROAR_REAL(truncate);
    TRUNCATE_BODY(real_truncate(path, len));
}
ROAR_EXPORT int truncate64(const char *path, off64_t len)
{
    ROAR_REAL(truncate64);
    TRUNCATE_BODY(real_truncate64(path, len));
}

/* Asks before the first destroying call through fd, when fd is a regular file. */
static void destroy_fd(unsigned call, uint64_t arg, int fd)
{
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
        roar_shim_destroy_wait(call, arg, NULL, fd, &st);
}

#define FTRUNCATE_BODY(CALL)                                                              \
    do {                                                                                  \
        int saved, rc;                                                                    \
        if (!roar_shim_enter(&saved))                                                     \
            return CALL;                                                                  \
        destroy_fd(ROAR_EV_TRUNCATE, (uint64_t)len, fd);                                  \
        errno = saved;                                                                    \
        rc = CALL;                                                                        \
        saved = errno;                                                                    \
        if (rc == 0)                                                                      \
            trunc_event(NULL, fd, (uint64_t)len);                                         \
        roar_shim_leave(saved);                                                           \
        return rc;                                                                        \
    } while (0)

ROAR_EXPORT int ftruncate(int fd, off_t len)
{
    ROAR_REAL(ftruncate);
    FTRUNCATE_BODY(real_ftruncate(fd, len));
}
ROAR_EXPORT int ftruncate64(int fd, off64_t len)
{
    ROAR_REAL(ftruncate64);
    FTRUNCATE_BODY(real_ftruncate64(fd, len));
}

/* mode 0 only allocates; these modes lose or move existing bytes. */
#define FALLOC_DESTROYS                                                                   \
    (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE | FALLOC_FL_COLLAPSE_RANGE |             \
     FALLOC_FL_INSERT_RANGE)

static void falloc_event(int fd, int mode)
{
    roar_shim_emit_small(ROAR_EV_FALLOCATE, fd, -1, 0, (uint32_t)mode);
}

#define FALLOC_BODY(CALL, OK)                                                             \
    do {                                                                                  \
        int saved, rc;                                                                    \
        if (!roar_shim_enter(&saved))                                                     \
            return CALL;                                                                  \
        if (mode & FALLOC_DESTROYS)                                                       \
            destroy_fd(ROAR_EV_FALLOCATE, (uint64_t)mode, fd);                            \
        errno = saved;                                                                    \
        rc = CALL;                                                                        \
        saved = errno;                                                                    \
        if (OK)                                                                           \
            falloc_event(fd, mode);                                                       \
        roar_shim_leave(saved);                                                           \
        return rc;                                                                        \
    } while (0)

ROAR_EXPORT int fallocate(int fd, int mode, off_t off, off_t len)
{
    ROAR_REAL(fallocate);
    FALLOC_BODY(real_fallocate(fd, mode, off, len), rc == 0);
}
ROAR_EXPORT int fallocate64(int fd, int mode, off64_t off, off64_t len)
{
    ROAR_REAL(fallocate64);
    FALLOC_BODY(real_fallocate64(fd, mode, off, len), rc == 0);
}
/* posix_fallocate returns the error number instead of setting errno. */
ROAR_EXPORT int posix_fallocate(int fd, off_t off, off_t len)
{
    const int mode = 0;
    ROAR_REAL(posix_fallocate);
    FALLOC_BODY(real_posix_fallocate(fd, off, len), rc == 0);
}
ROAR_EXPORT int posix_fallocate64(int fd, off64_t off, off64_t len)
{
    const int mode = 0;
    ROAR_REAL(posix_fallocate64);
    FALLOC_BODY(real_posix_fallocate64(fd, off, len), rc == 0);
}

/* ---- copies between fds ------------------------------------------------------------ */

int roar_shim_fd_first(int fd, unsigned bit);

#define COPY_BODY(in, out, CALL)                                                          \
    do {                                                                                  \
        int saved;                                                                        \
        ssize_t n;                                                                        \
        if (!roar_shim_enter(&saved))                                                     \
            return CALL;                                                                  \
        if (roar_shim_fd_first(out, ROAR_FD_SEEN_WRITE))                                  \
            destroy_fd(ROAR_EV_COPY, 0, out);                                             \
        errno = saved;                                                                    \
        n = CALL;                                                                         \
        saved = errno;                                                                    \
        if (n > 0)                                                                        \
            roar_shim_emit_small(ROAR_EV_COPY, in, out, n, 0);                            \
        roar_shim_leave(saved);                                                           \
        return n;                                                                         \
    } while (0)

ROAR_EXPORT ssize_t sendfile(int out, int in, off_t *off, size_t count)
{
    ROAR_REAL(sendfile);
    COPY_BODY(in, out, real_sendfile(out, in, off, count));
}
ROAR_EXPORT ssize_t sendfile64(int out, int in, off64_t *off, size_t count)
{
    ROAR_REAL(sendfile64);
    COPY_BODY(in, out, real_sendfile64(out, in, off, count));
}
ROAR_EXPORT ssize_t copy_file_range(int in, off64_t *offin, int out, off64_t *offout,
                                    size_t len, unsigned flags)
{
    ROAR_REAL(copy_file_range);
    COPY_BODY(in, out, real_copy_file_range(in, offin, out, offout, len, flags));
}
ROAR_EXPORT ssize_t splice(int in, off64_t *offin, int out, off64_t *offout, size_t len,
                           unsigned flags)
{
    ROAR_REAL(splice);
    COPY_BODY(in, out, real_splice(in, offin, out, offout, len, flags));
}

/* ---- chdir ------------------------------------------------------------------------- */

static void chdir_event(int fd)
{
    char a[ROAR_SHIM_PATH];
    struct roar_event_hdr h;
    if (roar_shim_abspath(a, AT_FDCWD, ".") < 0)
        return;
    roar_shim_hdr(&h, ROAR_EV_CHDIR);
    h.fd = fd;
    roar_shim_emit(&h, a, NULL);
}

/* The cwd cache's generation moves on every successful change, traced or not (a
 * signal handler's chdir inside one of our wrappers is a change too). */
ROAR_EXPORT int chdir(const char *path)
{
    int saved, rc;
    ROAR_REAL(chdir);
    if (!roar_shim_enter(&saved)) {
        rc = real_chdir(path);
        if (rc == 0)
            roar_shim_cwd_changed();
        return rc;
    }
    errno = saved;
    rc = real_chdir(path);
    saved = errno;
    if (rc == 0) {
        roar_shim_cwd_changed();
        chdir_event(-1);
    }
    roar_shim_leave(saved);
    return rc;
}

ROAR_EXPORT int fchdir(int fd)
{
    int saved, rc;
    ROAR_REAL(fchdir);
    if (!roar_shim_enter(&saved)) {
        rc = real_fchdir(fd);
        if (rc == 0)
            roar_shim_cwd_changed();
        return rc;
    }
    errno = saved;
    rc = real_fchdir(fd);
    saved = errno;
    if (rc == 0) {
        roar_shim_cwd_changed();
        chdir_event(fd);
    }
    roar_shim_leave(saved);
    return rc;
}

/* chroot changes what getcwd() says without changing the cwd. */
ROAR_EXPORT int chroot(const char *path)
{
    int rc;
    ROAR_REAL(chroot);
    rc = real_chroot(path);
    if (rc == 0)
        roar_shim_cwd_changed();
    return rc;
}

/* glibc's nftw (with FTW_CHDIR) and fts change directory through internal calls we
 * never see: no cached cwd while nftw runs (its callback opens relative names), and a
 * new generation after each fts call (fts changes directory only inside them). */
#define NFTW_BODY(name, functype)                                                         \
    ROAR_EXPORT int name(const char *dir, functype fn, int nfd, int flags)                \
    {                                                                                     \
        int rc, e;                                                                        \
        ROAR_REAL(name);                                                                  \
        if (!(flags & FTW_CHDIR))                                                         \
            return real_##name(dir, fn, nfd, flags);                                      \
        roar_shim_cwd_nocache(1);                                                         \
        rc = real_##name(dir, fn, nfd, flags);                                            \
        e = errno;                                                                        \
        roar_shim_cwd_nocache(-1);                                                        \
        errno = e;                                                                        \
        return rc;                                                                        \
    }
NFTW_BODY(nftw, __nftw_func_t)
NFTW_BODY(nftw64, __nftw64_func_t)

#define FTS_BODY(ret, name, params, args)                                                 \
    ROAR_EXPORT ret name params                                                           \
    {                                                                                     \
        ret rc;                                                                           \
        ROAR_REAL(name);                                                                  \
        rc = real_##name args;                                                            \
        roar_shim_cwd_changed();                                                          \
        return rc;                                                                        \
    }
FTS_BODY(FTSENT *, fts_read, (FTS * f), (f))
FTS_BODY(FTSENT *, fts_children, (FTS * f, int opts), (f, opts))
FTS_BODY(int, fts_close, (FTS * f), (f))
FTS_BODY(FTSENT64 *, fts64_read, (FTS64 * f), (f))
FTS_BODY(FTSENT64 *, fts64_children, (FTS64 * f, int opts), (f, opts))
FTS_BODY(int, fts64_close, (FTS64 * f), (f))
