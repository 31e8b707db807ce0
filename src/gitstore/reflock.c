/* Recovery of stale ref locks: a lock file old enough and held by no live process is
 * left over from a writer that was killed, and is removed with a notice. */
#include "gitstore/reflock.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/err.h"

int roar_reflock_path(roar_buf *out, roar_repo *repo, const char *ref)
{
    roar_buf_clear(out);
    return roar_buf_printf(out, "%s/%s.lock", roar_repo_commondir(repo), ref);
}

/* The pid of a process (among those we may look at: ours) with `st`'s file open, or 0.
 * libgit2 keeps its lock file open until it commits; git closes it after writing, so a
 * live git is not seen here, which the age bound covers. */
static long holder_of(const struct stat *st)
{
    DIR *proc = opendir("/proc"), *fds;
    struct dirent *p, *f;
    char path[2 * NAME_MAX + 32];
    struct stat fst;
    long pid = 0;

    if (!proc)
        return 0;
    while (!pid && (p = readdir(proc))) {
        if (p->d_name[0] < '1' || p->d_name[0] > '9')
            continue;
        snprintf(path, sizeof(path), "/proc/%s/fd", p->d_name);
        if (!(fds = opendir(path)))
            continue;
        while ((f = readdir(fds))) {
            if (f->d_name[0] == '.')
                continue;
            snprintf(path, sizeof(path), "/proc/%s/fd/%s", p->d_name, f->d_name);
            if (stat(path, &fst) == 0 && fst.st_dev == st->st_dev && fst.st_ino == st->st_ino) {
                pid = strtol(p->d_name, NULL, 10);
                break;
            }
        }
        closedir(fds);
    }
    closedir(proc);
    return pid;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

int roar_reflock_check(roar_reflock_state *out, roar_repo *repo, const char *ref)
{
    roar_buf lock = ROAR_BUF_INIT, aside = ROAR_BUF_INIT;
    struct stat st, st2;
    time_t now = time(NULL);
    long age, pid;
    int error;

    *out = ROAR_REFLOCK_NONE;
    if ((error = roar_reflock_path(&lock, repo, ref)) < 0)
        goto cleanup;
    if (lstat(lock.ptr, &st) < 0) {
        if (errno != ENOENT)
            error = roar_error_set_errno(ROAR_ERROR, "cannot look at '%s'", lock.ptr);
        goto cleanup;
    }
    age = (long)(now - st.st_mtim.tv_sec);
    if (age < ROAR_REFLOCK_STALE_SECS) {
        *out = ROAR_REFLOCK_YOUNG;
        goto cleanup;
    }
    if ((pid = holder_of(&st)) != 0) {
        error = roar_error_set(ROAR_ERROR,
                               "cannot update %s: '%s' is held by process %ld for %ld s; if that "
                               "process is stuck, end it and remove the file",
                               ref, lock.ptr, pid, age);
        goto cleanup;
    }
    /* Renamed aside first, then checked: if another process removed the stale lock and
     * a live writer took a fresh one in between, that fresh lock is put back. */
    if ((error = roar_buf_printf(&aside, "%s.stale-%ld", lock.ptr, (long)getpid())) < 0)
        goto cleanup;
    if (rename(lock.ptr, aside.ptr) < 0) {
        if (errno == ENOENT)
            goto cleanup; /* someone else removed it */
        error = roar_error_set_errno(ROAR_ERROR, "cannot remove the stale lock '%s'", lock.ptr);
        goto cleanup;
    }
    if (lstat(aside.ptr, &st2) == 0 && !same_file(&st, &st2)) {
        if (link(aside.ptr, lock.ptr) < 0 && errno != EEXIST) {
            error = roar_error_set_errno(ROAR_ERROR, "cannot put back the lock '%s'", lock.ptr);
            goto cleanup;
        }
        unlink(aside.ptr);
        *out = ROAR_REFLOCK_YOUNG;
        goto cleanup;
    }
    unlink(aside.ptr);
    *out = ROAR_REFLOCK_REMOVED;
    roar_notice("removed the stale lock '%s' (%ld s old, no process holds it): a git or git "
                "roar process was killed while updating %s",
                lock.ptr, age, ref);

cleanup:
    roar_buf_dispose(&lock);
    roar_buf_dispose(&aside);
    return error;
}

int roar_reflock_wait(roar_repo *repo, const char *ref)
{
    /* Polled every 50 ms: a live writer holds a ref lock for milliseconds. */
    const struct timespec pause = {0, 50 * 1000000L};
    const unsigned polls = 2 * ROAR_REFLOCK_STALE_SECS * 20;
    roar_reflock_state lock = ROAR_REFLOCK_NONE;
    roar_buf path = ROAR_BUF_INIT;
    int error = 0;

    for (unsigned i = 0; i < polls; i++) {
        if ((error = roar_reflock_check(&lock, repo, ref)) < 0 || lock != ROAR_REFLOCK_YOUNG)
            return error;
        nanosleep(&pause, NULL);
    }
    if ((error = roar_reflock_path(&path, repo, ref)) == 0)
        error = roar_error_set(ROAR_ERROR,
                               "cannot update %s: '%s' exists; another git process seems to be "
                               "running (remove the file if none is)",
                               ref, path.ptr);
    roar_buf_dispose(&path);
    return error;
}
