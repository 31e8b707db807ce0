/* The collector's process plumbing: the command's environment, PATH search and exec
 * without the shim's wrappers, the static/setuid/foreign check, fds and descendants. */
#include "trace/collector_internal.h"
#include "trace/execcheck.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/err.h"

#define PRELOAD_BASENAME "libroar-preload.so"

/* ---- environment ---------------------------------------------------------------- */

static size_t name_len(const char *entry)
{
    const char *eq = strchr(entry, '=');
    return eq ? (size_t)(eq - entry) : strlen(entry);
}

const char *roar_collector__env_get(char *const *envp, const char *name)
{
    size_t n = strlen(name), i;
    for (i = 0; envp && envp[i]; i++)
        if (strncmp(envp[i], name, n) == 0 && envp[i][n] == '=')
            return envp[i] + n + 1;
    return NULL;
}

/* Whether an LD_PRELOAD token names a copy of our library. */
static bool is_preload_token(const char *tok, size_t n)
{
    size_t bl = sizeof(PRELOAD_BASENAME) - 1;
    return n >= bl && memcmp(tok + n - bl, PRELOAD_BASENAME, bl) == 0 &&
           (n == bl || tok[n - bl - 1] == '/');
}

void roar_collector__env_free(char **envp)
{
    size_t i;
    if (!envp)
        return;
    for (i = 0; envp[i]; i++)
        free(envp[i]);
    free(envp);
}

int roar_collector__env_build(char ***out, char *const *base, const char *const *vars,
                              const char *token)
{
    size_t nbase = 0, nvars = 0, k = 0, i, j;
    roar_buf ld = ROAR_BUF_INIT;
    const char *user_ld;
    char **env;
    int error = 0;

    *out = NULL;
    while (base && base[nbase])
        nbase++;
    while (vars && vars[nvars])
        nvars++;
    if (!(env = calloc(nbase + nvars + 2, sizeof(*env))))
        return roar_error_set(ROAR_ENOMEM, "out of memory");

    /* LD_PRELOAD splits on spaces and colons, as ld.so reads it. */
    user_ld = roar_collector__env_get(base, "LD_PRELOAD");
    if ((error = roar_buf_puts(&ld, "LD_PRELOAD=")) < 0)
        goto fail;
    while (user_ld && *user_ld) {
        size_t n = strcspn(user_ld, " :");
        if (n && !is_preload_token(user_ld, n)) {
            if ((ld.size > sizeof("LD_PRELOAD=") - 1 && (error = roar_buf_putc(&ld, ':')) < 0) ||
                (error = roar_buf_put(&ld, user_ld, n)) < 0)
                goto fail;
        }
        user_ld += n;
        user_ld += strspn(user_ld, " :");
    }
    if (token) {
        if ((ld.size > sizeof("LD_PRELOAD=") - 1 && (error = roar_buf_putc(&ld, ':')) < 0) ||
            (error = roar_buf_puts(&ld, token)) < 0)
            goto fail;
    }

    for (i = 0; i < nbase; i++) {
        size_t n = name_len(base[i]);
        bool replaced = n == sizeof("LD_PRELOAD") - 1 && !strncmp(base[i], "LD_PRELOAD", n);
        for (j = 0; j < nvars && !replaced; j++)
            replaced = name_len(vars[j]) == n && !strncmp(vars[j], base[i], n);
        if (replaced)
            continue;
        if (!(env[k++] = strdup(base[i])))
            goto nomem;
    }
    for (j = 0; j < nvars; j++)
        if (!(env[k++] = strdup(vars[j])))
            goto nomem;
    if (ld.size > sizeof("LD_PRELOAD=") - 1 && !(env[k++] = roar_buf_detach(&ld)))
        goto nomem;
    roar_buf_dispose(&ld);
    *out = env;
    return 0;

nomem:
    error = roar_error_set(ROAR_ENOMEM, "out of memory");
fail:
    roar_buf_dispose(&ld);
    roar_collector__env_free(env);
    return error;
}

/* ---- PATH search and exec --------------------------------------------------------- */

static bool is_exec_file(const char *path)
{
    struct stat st;
    return access(path, X_OK) == 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int roar_collector__resolve(roar_buf *out, const char *file, const char *path_env)
{
    const char *p = path_env ? path_env : "/bin:/usr/bin";

    roar_buf_clear(out);
    if (!*file)
        return roar_error_set(ROAR_ENOTFOUND, "empty command name");
    if (strchr(file, '/'))
        return roar_buf_puts(out, file);
    for (;;) {
        size_t n = strcspn(p, ":");
        int error;
        roar_buf_clear(out);
        if ((error = n ? roar_buf_put(out, p, n) : roar_buf_putc(out, '.')) < 0 ||
            (error = roar_buf_putc(out, '/')) < 0 || (error = roar_buf_puts(out, file)) < 0)
            return error;
        if (is_exec_file(out->ptr))
            return 0;
        if (!p[n])
            break;
        p += n + 1;
    }
    roar_buf_clear(out);
    return roar_error_set(ROAR_ENOTFOUND, "%s: command not found", file);
}

static unsigned check_path(const char *path, int depth);

static unsigned check_fd(int fd, int depth)
{
    unsigned char head[ROAR_EXECCHECK_HEAD];
    const char *interp = NULL;
    int r = roar_execcheck_fd(fd, head, &interp);
    if (r == ROAR_EXECCHECK_SCRIPT)
        return (*interp == '/' && depth < 4) ? check_path(interp, depth + 1) : 0;
    return (unsigned)r;
}

static unsigned check_path(const char *path, int depth)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    unsigned r;
    if (fd < 0)
        return 0;
    r = check_fd(fd, depth);
    close(fd);
    return r;
}

unsigned roar_collector__exec_check(const char *path)
{
    return check_path(path, 0);
}

static int raw_execve(const char *path, char *const argv[], char *const envp[])
{
    syscall(SYS_execve, path, argv, envp);
    return errno;
}

/* As execvp: a file the kernel cannot exec (ENOEXEC) is run by /bin/sh. */
static int exec_one(const char *path, char *const argv[], char *const envp[])
{
    int err = raw_execve(path, argv, envp);
    if (err == ENOEXEC) {
        size_t argc = 0;
        while (argv[argc])
            argc++;
        {
            const char *shargv[argc + 2];
            size_t i;
            shargv[0] = "/bin/sh";
            shargv[1] = path;
            for (i = 1; i <= argc; i++)
                shargv[i + 1] = argv[i];
            raw_execve("/bin/sh", (char *const *)shargv, envp);
        }
        return ENOEXEC;
    }
    return err;
}

int roar_collector__child_exec(char *const argv[], char *const envp[])
{
    const char *file = argv[0], *p = roar_collector__env_get(envp, "PATH");
    char buf[PATH_MAX];
    bool eacces = false;
    int err = ENOENT;

    if (!file || !*file)
        return ENOENT;
    if (strchr(file, '/'))
        return exec_one(file, argv, envp);
    if (!p)
        p = "/bin:/usr/bin";
    for (;;) {
        size_t n = strcspn(p, ":"), flen = strlen(file);
        if (n + flen + 3 <= sizeof(buf)) {
            if (n) {
                memcpy(buf, p, n);
            } else {
                buf[0] = '.';
                n = 1;
            }
            buf[n] = '/';
            memcpy(buf + n + 1, file, flen + 1);
            err = exec_one(buf, argv, envp);
            switch (err) {
            case EACCES:
                eacces = true;
                break;
            case ENOENT:
            case ENOTDIR:
            case ESTALE:
            case ENODEV:
            case ETIMEDOUT:
                break;
            default:
                return err;
            }
        }
        if (!p[n])
            break;
        p += n + 1;
    }
    return eacces ? EACCES : err;
}

/* ---- /proc --------------------------------------------------------------------------- */

typedef struct {
    pid_t pid, ppid;
} pid_pair;

size_t roar_collector__count_descendants(pid_t self)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    pid_pair *v = NULL;
    size_t n = 0, alloc = 0, count = 0, i;
    bool *mark = NULL, grew = true;

    if (!d)
        return 0;
    while ((e = readdir(d))) {
        char path[64], buf[512], *close_paren;
        pid_t pid = (pid_t)strtol(e->d_name, NULL, 10);
        ssize_t r;
        int fd;
        if (pid <= 0)
            continue;
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
            continue;
        r = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (r <= 0)
            continue;
        buf[r] = '\0';
        /* "pid (comm) state ppid ...": comm may hold spaces and parentheses. */
        if (!(close_paren = strrchr(buf, ')')) || close_paren[1] != ' ' || !close_paren[2])
            continue;
        if (ROAR_ALLOC_GROW(v, n + 1, alloc) < 0)
            break;
        v[n].pid = pid;
        v[n].ppid = (pid_t)strtol(close_paren + 4, NULL, 10);
        n++;
    }
    closedir(d);
    if (n && (mark = calloc(n, sizeof(*mark)))) {
        /* Fixed point: a process is ours when its parent is us or ours. */
        while (grew) {
            grew = false;
            for (i = 0; i < n; i++) {
                size_t j;
                if (mark[i])
                    continue;
                if (v[i].ppid == self) {
                    mark[i] = grew = true;
                    continue;
                }
                for (j = 0; j < n; j++)
                    if (mark[j] && v[j].pid == v[i].ppid) {
                        mark[i] = grew = true;
                        break;
                    }
            }
        }
        for (i = 0; i < n; i++)
            count += mark[i];
    }
    free(mark);
    free(v);
    return count;
}

void roar_collector__inherited_free(roar_collector__inherited *list, size_t count)
{
    size_t i;
    for (i = 0; list && i < count; i++)
        free(list[i].path);
    free(list);
}

int roar_collector__inherited_list(roar_collector__inherited **out, size_t *count)
{
    roar_collector__inherited *v = NULL;
    size_t n = 0, alloc = 0;
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int dfd, error = 0;

    *out = NULL;
    *count = 0;
    if (!d)
        return roar_error_set_errno(ROAR_ERROR, "cannot list /proc/self/fd");
    dfd = dirfd(d);
    while ((e = readdir(d))) {
        char link[64], target[PATH_MAX];
        struct stat st;
        ssize_t r;
        int fd, fdfl, fl;
        char *end;
        long lfd = strtol(e->d_name, &end, 10);

        if (*end || end == e->d_name || lfd < 0 || lfd > INT_MAX || (int)lfd == dfd)
            continue;
        fd = (int)lfd;
        if ((fdfl = fcntl(fd, F_GETFD)) < 0 || (fdfl & FD_CLOEXEC))
            continue;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink == 0)
            continue;
        if ((fl = fcntl(fd, F_GETFL)) < 0 || (fl & O_PATH))
            continue;
        snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
        if ((r = readlink(link, target, sizeof(target) - 1)) <= 0 || target[0] != '/')
            continue;
        target[r] = '\0';
        if ((error = ROAR_ALLOC_GROW(v, n + 1, alloc)) < 0)
            goto fail;
        memset(&v[n], 0, sizeof(v[n]));
        v[n].fd = fd;
        v[n].flags = (unsigned)fl & (O_ACCMODE | O_APPEND);
        v[n].ident.known = true;
        v[n].ident.dev = (uint64_t)st.st_dev;
        v[n].ident.ino = (uint64_t)st.st_ino;
        v[n].ident.size = (uint64_t)st.st_size;
        v[n].ident.mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
        v[n].ident.ctime_ns = (int64_t)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;
        v[n].ident.mode = (uint32_t)st.st_mode;
        if (!(v[n].path = strdup(target))) {
            error = roar_error_set(ROAR_ENOMEM, "out of memory");
            goto fail;
        }
        n++;
    }
    closedir(d);
    *out = v;
    *count = n;
    return 0;

fail:
    closedir(d);
    roar_collector__inherited_free(v, n);
    return error;
}
