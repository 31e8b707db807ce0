/* The shim's process wrappers: fork/vfork/_Fork, every exec variant and posix_spawn.
 * Exec wrappers keep the tracer in the environment, or take it out where it cannot work. */
#include "trace/preload/shim.h"
#include "trace/execcheck.h"

#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

/* ---- fork ------------------------------------------------------------------------------ */

ROAR_EXPORT pid_t fork(void)
{
    ROAR_REAL(fork);
    return roar_shim_fork(real_fork);
}

/* vfork cannot be wrapped safely (the child would return into our frame, shared with
 * the parent): it becomes fork, which every correct vfork user tolerates. */
ROAR_EXPORT pid_t vfork(void)
{
    ROAR_REAL(fork);
    return roar_shim_fork(real_fork);
}

ROAR_EXPORT pid_t _Fork(void)
{
    ROAR_REAL(_Fork);
    return roar_shim_fork(real__Fork);
}

/* ---- what is about to be exec'd ------------------------------------------------------- */

static int check_path(int dirfd, const char *path, int depth);

/* 0 when our library can load into the program behind fd, else the ROAR_INC_* reason;
 * a script is judged by its interpreter (see trace/execcheck.h). */
static int check_fd(int fd, int depth)
{
    unsigned char head[ROAR_EXECCHECK_HEAD];
    const char *interp = NULL;
    int r = roar_execcheck_fd(fd, head, &interp);
    if (r == ROAR_EXECCHECK_SCRIPT)
        return (*interp == '/' && depth < 4) ? check_path(AT_FDCWD, interp, depth + 1) : 0;
    return r;
}

static int check_path(int dirfd, const char *path, int depth)
{
    int fd = (int)syscall(SYS_openat, dirfd, path, O_RDONLY | O_CLOEXEC), r;
    if (fd < 0)
        return 0;
    r = check_fd(fd, depth);
    syscall(SYS_close, fd);
    return r;
}

/* The file execvp would run, into out; 0 when found. */
static int search_path(char *out, const char *file)
{
    const char *p = getenv("PATH");
    struct stat st;

    if (strchr(file, '/'))
        return snprintf(out, ROAR_SHIM_PATH, "%s", file) < ROAR_SHIM_PATH ? 0 : -1;
    if (!p)
        p = "/bin:/usr/bin";
    while (1) {
        size_t n = strcspn(p, ":");
        if (snprintf(out, ROAR_SHIM_PATH, "%.*s%s%s", (int)n, p, n ? "/" : "", file) <
                ROAR_SHIM_PATH &&
            access(out, X_OK) == 0 && stat(out, &st) == 0 && S_ISREG(st.st_mode))
            return 0;
        if (!p[n])
            return -1;
        p += n + 1;
    }
}

/* ---- the environment of the next image ------------------------------------------------ */

struct envbuf {
    char **envp;
    void *map;
    size_t len;
};

static int has_prefix(const char *s, const char *name)
{
    size_t n = strlen(name);
    return !strncmp(s, name, n) && s[n] == '=';
}

static int is_ours(const char *tok, size_t n)
{
    static const char base[] = "libroar-preload.so";
    size_t bl = sizeof(base) - 1;
    if (roar_shim_preload[0] && strlen(roar_shim_preload) == n &&
        !memcmp(tok, roar_shim_preload, n))
        return 1;
    return n >= bl && !memcmp(tok + n - bl, base, bl) && (n == bl || tok[n - bl - 1] == '/');
}

/* Builds the next image's environment in an anonymous mapping (no malloc: we may be in
 * a forked child of a threaded program): the program's variables minus ours, then ours
 * re-inserted; LD_PRELOAD keeps the user's entries and gets ours appended, or loses
 * ours when `strip`. Returns -1 (and the caller passes envp unchanged) on failure. */
static int env_build(struct envbuf *eb, char *const *envp, int strip)
{
    const char *old_ld = NULL;
    size_t n = 0, i, k = 0, strbytes;
    char *s, *ld;

    memset(eb, 0, sizeof(*eb));
    for (i = 0; envp && envp[i]; i++) {
        n++;
        if (has_prefix(envp[i], "LD_PRELOAD"))
            old_ld = envp[i] + sizeof("LD_PRELOAD");
    }
    strbytes = (old_ld ? strlen(old_ld) : 0) + ROAR_SHIM_ENV_MAX + 64 +
               ROAR_SHIM_ENV_MAX + 32;
    eb->len = (n + 8) * sizeof(char *) + strbytes;
    eb->map = (void *)syscall(SYS_mmap, NULL, eb->len, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, (off_t)0);
    if (eb->map == MAP_FAILED)
        return -1;
    eb->envp = eb->map;
    s = (char *)eb->map + (n + 8) * sizeof(char *);

    for (i = 0; i < n; i++) {
        const char *e = envp[i];
        if (has_prefix(e, "LD_PRELOAD") || has_prefix(e, ROAR_ENV_RING) ||
            has_prefix(e, ROAR_ENV_SOCK) || has_prefix(e, ROAR_ENV_HASH_WAIT) ||
            has_prefix(e, ROAR_ENV_PRELOAD) || has_prefix(e, ROAR_ENV_RING_FD))
            continue;
        eb->envp[k++] = (char *)e;
    }
    eb->envp[k++] = roar_shim_env_ring;
    if (roar_shim_env_ring_fd[0])
        eb->envp[k++] = roar_shim_env_ring_fd;
    if (roar_shim_env_sock[0])
        eb->envp[k++] = roar_shim_env_sock;
    eb->envp[k++] = roar_shim_env_wait;
    if (roar_shim_preload[0]) {
        eb->envp[k++] = s;
        s += sprintf(s, "%s=%s", ROAR_ENV_PRELOAD, roar_shim_preload) + 1;
    }

    ld = s;
    s += sprintf(s, "LD_PRELOAD=");
    {
        const char *p = old_ld ? old_ld : "";
        int any = 0;
        while (*p) {
            size_t t = strcspn(p, " :");
            if (t && !is_ours(p, t)) {
                s += sprintf(s, "%s%.*s", any ? ":" : "", (int)t, p);
                any = 1;
            } else if (t && !roar_shim_preload[0] && !strip) {
                /* we do not know our own name: keep the token that loaded us */
                s += sprintf(s, "%s%.*s", any ? ":" : "", (int)t, p);
                any = 1;
            }
            p += t;
            if (*p)
                p++;
        }
        if (!strip && roar_shim_preload[0]) {
            s += sprintf(s, "%s%s", any ? ":" : "", roar_shim_preload);
            any = 1;
        }
        if (any)
            eb->envp[k++] = ld;
    }
    eb->envp[k] = NULL;
    return 0;
}

static void env_free(struct envbuf *eb)
{
    if (eb->map && eb->map != MAP_FAILED)
        syscall(SYS_munmap, eb->map, eb->len);
}

/* Judges the program (path relative to dirfd, or fd >= 0), reports why it cannot be
 * traced, and builds its environment. Returns the envp to pass. */
static char *const *exec_prepare(struct envbuf *eb, int dirfd, const char *path, int fd,
                                 char *const *envp)
{
    int reason = fd >= 0 ? check_fd(fd, 0) : path ? check_path(dirfd, path, 0) : 0;

    /* A program that will reach the ring neither by its path nor by the inherited fd
     * (a user switch: runuser, su, setpriv; a pid namespace with its own /proc, a
     * chroot) would run untraced, silently. Say so, as for a setuid program; the shim
     * stays in the environment for a descendant that can reach the ring again. */
    int unreachable = reason ? 0 : roar_shim_next_image_unreachable();
    if (unreachable) {
        char a[ROAR_SHIM_PATH];
        if (fd >= 0 || !path || roar_shim_abspath(a, dirfd, path) < 0)
            snprintf(a, sizeof(a), "/proc/%d/fd/%d", (int)roar_shim_pid, fd);
        roar_shim_incomplete((unsigned)unreachable, a);
    }

    if (reason) {
        char a[ROAR_SHIM_PATH];
        if (fd >= 0 || roar_shim_abspath(a, dirfd, path) < 0)
            snprintf(a, sizeof(a), "/proc/%d/fd/%d", (int)roar_shim_pid, fd);
        roar_shim_incomplete((unsigned)reason, a);
    }
    if (env_build(eb, envp, reason != 0) < 0)
        return envp;
    return eb->envp;
}

#define EXEC_BODY(DIRFD, PATH, FD, ENVP, CALL_WITH)                                       \
    do {                                                                                  \
        struct envbuf eb;                                                                 \
        char *const *ne;                                                                  \
        int saved, rc;                                                                    \
        if (!roar_shim_enter(&saved)) {                                                   \
            ne = (ENVP);                                                                  \
            return CALL_WITH;                                                             \
        }                                                                                 \
        ne = exec_prepare(&eb, DIRFD, PATH, FD, ENVP);                                    \
        errno = saved;                                                                    \
        rc = CALL_WITH;                                                                   \
        saved = errno;                                                                    \
        env_free(&eb);                                                                    \
        roar_shim_leave(saved);                                                           \
        return rc;                                                                        \
    } while (0)

/* NULL-safe, for arguments glibc declares nonnull that programs may still get wrong. */
static int is_empty(const char *p)
{
    return !p || !*p;
}

static int do_execve(const char *path, char *const argv[], char *const envp[])
{
    ROAR_REAL(execve);
    EXEC_BODY(AT_FDCWD, path, -1, envp, real_execve(path, argv, ne));
}

static int do_execvpe(const char *file, char *const argv[], char *const envp[])
{
    char found[ROAR_SHIM_PATH];
    ROAR_REAL(execvpe);
    EXEC_BODY(AT_FDCWD, (file && search_path(found, file) == 0) ? found : NULL, -1, envp,
              real_execvpe(file, argv, ne));
}

ROAR_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
    return do_execve(path, argv, envp);
}
ROAR_EXPORT int execv(const char *path, char *const argv[])
{
    return do_execve(path, argv, environ);
}
ROAR_EXPORT int execvp(const char *file, char *const argv[])
{
    return do_execvpe(file, argv, environ);
}
ROAR_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
    return do_execvpe(file, argv, envp);
}

ROAR_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
    ROAR_REAL(fexecve);
    EXEC_BODY(AT_FDCWD, NULL, fd, envp, real_fexecve(fd, argv, ne));
}

ROAR_EXPORT int execveat(int dirfd, const char *path, char *const argv[], char *const envp[],
                         int flags)
{
    ROAR_REAL(execveat);
    int by_fd = (flags & AT_EMPTY_PATH) && is_empty(path);
    EXEC_BODY(dirfd, by_fd ? NULL : path, by_fd ? dirfd : -1, envp,
              real_execveat(dirfd, path, argv, ne, flags));
}

/* execl & co: collect the variadic list into an argv on the stack. */
#define COLLECT_ARGV(first, argv, after)                                                  \
    size_t argc_ = 1;                                                                     \
    va_list ap_;                                                                          \
    va_start(ap_, first);                                                                 \
    while (va_arg(ap_, char *))                                                           \
        argc_++;                                                                          \
    va_end(ap_);                                                                          \
    char *argv[argc_ + 1];                                                                \
    va_start(ap_, first);                                                                 \
    argv[0] = (char *)first;                                                              \
    for (size_t i_ = 1; i_ <= argc_; i_++)                                                \
        argv[i_] = va_arg(ap_, char *);                                                   \
    after;                                                                                \
    va_end(ap_)

ROAR_EXPORT int execl(const char *path, const char *arg, ...)
{
    COLLECT_ARGV(arg, argv, (void)0);
    return do_execve(path, argv, environ);
}
ROAR_EXPORT int execlp(const char *file, const char *arg, ...)
{
    COLLECT_ARGV(arg, argv, (void)0);
    return do_execvpe(file, argv, environ);
}
ROAR_EXPORT int execle(const char *path, const char *arg, ...)
{
    char *const *envp;
    COLLECT_ARGV(arg, argv, envp = va_arg(ap_, char *const *));
    return do_execve(path, argv, envp);
}

/* posix_spawn clones and execs inside glibc: we fix the environment, judge the
 * program, and reserve the fork record before the call, so that the child's events
 * (announced by its own constructor) come after it in the ring. */
#define SPAWN_BODY(PATH, CALL_WITH)                                                       \
    do {                                                                                  \
        struct envbuf eb;                                                                 \
        struct roar_shim_forkslot fs;                                                     \
        char *const *ne = envp;                                                           \
        pid_t local = 0, *pp = pid ? pid : &local;                                        \
        int saved, rc;                                                                    \
        if (!roar_shim_enter(&saved))                                                     \
            return CALL_WITH;                                                             \
        ne = exec_prepare(&eb, AT_FDCWD, PATH, -1, envp ? envp : environ);                \
        roar_shim_fork_begin(&fs);                                                        \
        errno = saved;                                                                    \
        rc = CALL_WITH;                                                                   \
        saved = errno;                                                                    \
        roar_shim_fork_end(&fs, rc == 0 ? *pp : -1, rc);                                  \
        env_free(&eb);                                                                    \
        roar_shim_leave(saved);                                                           \
        return rc;                                                                        \
    } while (0)

ROAR_EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                            const posix_spawnattr_t *attr, char *const argv[],
                            char *const envp[])
{
    ROAR_REAL(posix_spawn);
    SPAWN_BODY(path, real_posix_spawn(pp, path, fa, attr, argv, ne));
}

ROAR_EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
                             const posix_spawnattr_t *attr, char *const argv[],
                             char *const envp[])
{
    char found[ROAR_SHIM_PATH];
    ROAR_REAL(posix_spawnp);
    SPAWN_BODY((!is_empty(file) && search_path(found, file) == 0) ? found : NULL,
               real_posix_spawnp(pp, file, fa, attr, argv, ne));
}
