/* Pending records on disk: the durable copy of a job until it is attached. Written as
 * temp file + fsync + rename + fsync of the directory, so a reader sees all or nothing. */
#include "gitstore/pending.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "graph/oid.h"
#include "graph/record.h"
#include "util/err.h"

int roar_pending_worktree_key(roar_buf *out, const roar_repo *repo)
{
    const char *gitdir = roar_repo_gitdir(repo), *common = roar_repo_commondir(repo);
    const char *slash;

    roar_buf_clear(out);
    if (!gitdir || !common || strcmp(gitdir, common) == 0)
        return roar_buf_puts(out, ROAR_PENDING_MAIN);
    slash = strrchr(gitdir, '/');
    return roar_buf_puts(out, slash ? slash + 1 : gitdir);
}

int roar_pending_dir(roar_buf *out, const roar_repo *repo)
{
    roar_buf_clear(out);
    return roar_buf_printf(out, "%s/pending", roar_repo_roar_dir(repo));
}

#define TMP_PREFIX ".tmp-"

/* A key becomes part of a file name: no '/', no NUL, not empty, not a dotfile. */
static bool key_ok(const char *key)
{
    return key && *key && key[0] != '.' && !strchr(key, '/');
}

/* write(2) until done; EINTR is retried. */
static int write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;
    if (fd < 0)
        return -1;
    rc = fsync(fd);
    /* Some file systems refuse fsync on directories; the rename is then as durable as
     * they make it, which is all we can ask. */
    if (rc < 0 && (errno == EINVAL || errno == ENOTSUP))
        rc = 0;
    close(fd);
    return rc;
}

int roar_pending_write(roar_buf *out_path, const char *dir, const char *job_id, const char *key,
                       const char *text, size_t len)
{
    roar_buf tmp = ROAR_BUF_INIT, final = ROAR_BUF_INIT;
    int fd = -1, error = 0;

    if (!roar_oid_is_hex(job_id))
        return roar_error_set(ROAR_EINVALID, "not a job id: '%s'", job_id);
    if (!key_ok(key))
        return roar_error_set(ROAR_EINVALID, "bad worktree key '%s'", key ? key : "");
    /* The temp name says who writes it and what it becomes, so that a record stranded
     * by a writer killed between fsync and rename can be finished by the next command
     * (roar_pending_recover). */
    if ((error = roar_buf_printf(&tmp, "%s/" TMP_PREFIX "%ld-%s@%s.XXXXXX", dir, (long)getpid(),
                                 job_id, key)) < 0 ||
        (error = roar_buf_printf(&final, "%s/%s@%s", dir, job_id, key)) < 0)
        goto cleanup;

    if ((fd = mkostemp(tmp.ptr, O_CLOEXEC)) < 0) {
        error = roar_error_set_errno(ROAR_ERROR, "cannot create a pending record in '%s'", dir);
        goto cleanup;
    }
    /* mkostemp makes the file 0600; a record is as readable as the rest of .git. */
    {
        mode_t mask = umask(0);
        umask(mask);
        if (fchmod(fd, 0666 & ~mask) < 0) {
            error = roar_error_set_errno(ROAR_ERROR, "cannot set the mode of '%s'", tmp.ptr);
            goto cleanup;
        }
    }
    if (write_all(fd, text, len) < 0) {
        error = roar_error_set_errno(ROAR_ERROR, "cannot write pending record '%s'", tmp.ptr);
        goto cleanup;
    }
    if (fsync(fd) < 0) {
        error = roar_error_set_errno(ROAR_ERROR, "cannot sync pending record '%s'", tmp.ptr);
        goto cleanup;
    }
    if (close(fd) < 0) {
        fd = -1;
        error = roar_error_set_errno(ROAR_ERROR, "cannot write pending record '%s'", tmp.ptr);
        goto cleanup;
    }
    fd = -1;
    if (rename(tmp.ptr, final.ptr) < 0) {
        /* A recovery may have finished it for us (it takes only a writer that is gone,
         * but pids are reused). */
        if (errno == ENOENT && access(final.ptr, F_OK) == 0)
            goto synced;
        error = roar_error_set_errno(ROAR_ERROR, "cannot rename '%s' to '%s'", tmp.ptr, final.ptr);
        goto cleanup;
    }
synced:
    if (fsync_dir(dir) < 0) {
        /* The record is complete under its final name; only its durability is in
         * doubt. Say so rather than pretend, but do not remove a good record. */
        error = roar_error_set_errno(ROAR_ERROR, "cannot sync directory '%s'", dir);
        goto cleanup;
    }
    if (out_path) {
        roar_buf_clear(out_path);
        error = roar_buf_put(out_path, final.ptr, final.size);
    }

cleanup:
    if (fd >= 0)
        close(fd);
    if (error < 0 && tmp.size && access(tmp.ptr, F_OK) == 0)
        unlink(tmp.ptr);
    roar_buf_dispose(&tmp);
    roar_buf_dispose(&final);
    return error;
}

void roar_pending_list_dispose(roar_pending_list *list)
{
    size_t i;
    if (!list)
        return;
    for (i = 0; i < list->count; i++) {
        free(list->items[i].worktree);
        free(list->items[i].name);
    }
    free(list->items);
    list->items = NULL;
    list->count = list->alloc = 0;
}

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const roar_pending_entry *)a)->name, ((const roar_pending_entry *)b)->name);
}

/* `<40 lower-case hex>@<key>`: fills id and returns the key, or NULL. */
static const char *parse_name(char id[ROAR_OID_HEXSZ + 1], const char *name)
{
    if (strlen(name) < ROAR_OID_HEXSZ + 2 || name[ROAR_OID_HEXSZ] != '@')
        return NULL;
    memcpy(id, name, ROAR_OID_HEXSZ);
    id[ROAR_OID_HEXSZ] = '\0';
    if (!roar_oid_is_hex(id) || !key_ok(name + ROAR_OID_HEXSZ + 1))
        return NULL;
    return name + ROAR_OID_HEXSZ + 1;
}

int roar_pending_list_read(roar_pending_list *out, const char *dir, const char *worktree_key)
{
    DIR *d;
    struct dirent *e;
    int error = 0;

    roar_pending_list_dispose(out);
    if (!(d = opendir(dir))) {
        if (errno == ENOENT)
            return 0;
        return roar_error_set_errno(ROAR_ERROR, "cannot read directory '%s'", dir);
    }
    while ((errno = 0, e = readdir(d))) {
        roar_pending_entry *ent;
        char id[ROAR_OID_HEXSZ + 1];
        const char *key;

        if (e->d_name[0] == '.' || !(key = parse_name(id, e->d_name)))
            continue;
        if (worktree_key && strcmp(key, worktree_key) != 0)
            continue;
        if (e->d_type != DT_REG && e->d_type != DT_UNKNOWN)
            continue;
        if (e->d_type == DT_UNKNOWN) {
            struct stat st;
            if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
                continue;
        }
        if ((error = ROAR_ALLOC_GROW(out->items, out->count + 1, out->alloc)) < 0)
            goto cleanup;
        ent = &out->items[out->count];
        memcpy(ent->id, id, sizeof(id));
        ent->worktree = strdup(key);
        ent->name = strdup(e->d_name);
        if (!ent->worktree || !ent->name) {
            free(ent->worktree);
            free(ent->name);
            error = roar_error_set(ROAR_ENOMEM, "out of memory");
            goto cleanup;
        }
        out->count++;
    }
    if (errno) {
        error = roar_error_set_errno(ROAR_ERROR, "cannot read directory '%s'", dir);
        goto cleanup;
    }
    if (out->count)
        qsort(out->items, out->count, sizeof(*out->items), entry_cmp);

cleanup:
    closedir(d);
    if (error < 0)
        roar_pending_list_dispose(out);
    return error;
}

int roar_pending_read(roar_buf *out, const char *dir, const char *name)
{
    roar_buf path = ROAR_BUF_INIT;
    struct stat st;
    int fd = -1, error = 0;

    roar_buf_clear(out);
    if ((error = roar_buf_printf(&path, "%s/%s", dir, name)) < 0)
        goto cleanup;
    if ((fd = open(path.ptr, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
        error = errno == ENOENT
                    ? roar_error_set(ROAR_ENOTFOUND, "pending record '%s' is gone", path.ptr)
                    : roar_error_set_errno(ROAR_ERROR, "cannot open '%s'", path.ptr);
        goto cleanup;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        error = roar_error_set(ROAR_EINVALID, "'%s' is not a regular file", path.ptr);
        goto cleanup;
    }
    if ((uint64_t)st.st_size > ROAR_RECORD_MAX_RECORD) {
        error = roar_error_set(ROAR_ELIMIT, "pending record '%s' is over %zu bytes", path.ptr,
                               (size_t)ROAR_RECORD_MAX_RECORD);
        goto cleanup;
    }
    for (;;) {
        ssize_t n;
        if ((error = roar_buf_grow(out, 65536)) < 0)
            goto cleanup;
        n = read(fd, out->ptr + out->size, out->asize - out->size - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            error = roar_error_set_errno(ROAR_ERROR, "cannot read '%s'", path.ptr);
            goto cleanup;
        }
        if (n == 0)
            break;
        out->size += (size_t)n;
        out->ptr[out->size] = '\0';
        if (out->size > ROAR_RECORD_MAX_RECORD) {
            error = roar_error_set(ROAR_ELIMIT, "pending record '%s' is over %zu bytes", path.ptr,
                                   (size_t)ROAR_RECORD_MAX_RECORD);
            goto cleanup;
        }
    }

cleanup:
    if (fd >= 0)
        close(fd);
    if (error < 0)
        roar_buf_clear(out);
    roar_buf_dispose(&path);
    return error;
}

/* ---- records stranded in temp files ------------------------------------------------ */

/* `.tmp-<pid>-<40 hex>@<key>.XXXXXX`: fills pid, id and key (the final name's parts);
 * false for any other name (a legacy `.tmp-<id>-XXXXXX` among them). */
static bool parse_tmp_name(long *pid, char id[ROAR_OID_HEXSZ + 1], roar_buf *key,
                           const char *name)
{
    const char *p = name + strlen(TMP_PREFIX), *at;
    size_t len = strlen(name);
    char *end;

    if (strncmp(name, TMP_PREFIX, strlen(TMP_PREFIX)) || len < strlen(TMP_PREFIX) + 7)
        return false;
    *pid = strtol(p, &end, 10);
    if (end == p || *end != '-' || *pid <= 0)
        return false;
    p = end + 1;
    at = p + ROAR_OID_HEXSZ;
    if ((size_t)(name + len - p) < ROAR_OID_HEXSZ + 2 + 7 || *at != '@' ||
        name[len - 7] != '.')
        return false;
    memcpy(id, p, ROAR_OID_HEXSZ);
    id[ROAR_OID_HEXSZ] = '\0';
    roar_buf_clear(key);
    if (!roar_oid_is_hex(id) || roar_buf_put(key, at + 1, (size_t)(name + len - 7 - at - 1)) < 0)
        return false;
    return key_ok(key->ptr);
}

static bool pid_alive(long pid)
{
    if (pid == (long)getpid())
        return true;
    return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

/* Finishes one stranded temp file: its record must parse and be the job its name says.
 * *why is set (static text or the parse error, copied into why_buf) when it is left. */
static int recover_tmp(bool *done, const char *dir, const char *name, const char *id,
                       const char *key, roar_buf *why)
{
    roar_buf text = ROAR_BUF_INIT, tmp = ROAR_BUF_INIT, final = ROAR_BUF_INIT;
    roar_job job;
    int error;

    *done = false;
    roar_job_init(&job);
    error = roar_pending_read(&text, dir, name);
    if (error == ROAR_ENOTFOUND) {
        error = 0;
        goto cleanup;
    }
    if (error < 0 || roar_record_parse(&job, text.ptr, text.size) < 0) {
        error = roar_buf_puts(why, roar_error_last());
        goto cleanup;
    }
    if (strcmp(job.id, id)) {
        error = roar_buf_printf(why, "line 1: file name says job %s, the record is job %s", id,
                                job.id);
        goto cleanup;
    }
    if ((error = roar_buf_printf(&tmp, "%s/%s", dir, name)) < 0 ||
        (error = roar_buf_printf(&final, "%s/%s@%s", dir, id, key)) < 0)
        goto cleanup;
    /* link, not rename: a record already there under the final name (the same job) is
     * never replaced, and two recoveries cannot both "finish" it. */
    /* A recovery that cannot write (a read-only repository) leaves the file and says
     * why to fsck: it must never make the command that tried fail. */
    if (link(tmp.ptr, final.ptr) < 0 && errno != EEXIST) {
        if (errno != ENOENT) /* ENOENT: another recovery took it */
            error = roar_buf_printf(why, "cannot link it to '%s': %s", final.ptr,
                                    strerror(errno));
        goto cleanup;
    }
    if (unlink(tmp.ptr) < 0 && errno != ENOENT) {
        error = roar_buf_printf(why, "cannot remove it: %s", strerror(errno));
        goto cleanup;
    }
    fsync_dir(dir);
    *done = true;
    roar_notice("recovered the pending record '%s' from '%s' (its writer stopped before "
                "renaming it)",
                final.ptr, name);

cleanup:
    roar_job_dispose(&job);
    roar_buf_dispose(&text);
    roar_buf_dispose(&tmp);
    roar_buf_dispose(&final);
    return error;
}

int roar_pending_recover(size_t *recovered, const char *dir, roar_pending_left_cb cb,
                         void *payload)
{
    roar_buf key = ROAR_BUF_INIT, why = ROAR_BUF_INIT;
    DIR *d;
    struct dirent *e;
    struct stat st;
    char id[ROAR_OID_HEXSZ + 1];
    long pid;
    bool done;
    int error = 0;

    if (recovered)
        *recovered = 0;
    if (!(d = opendir(dir)))
        return errno == ENOENT ? 0 : roar_error_set_errno(ROAR_ERROR, "cannot read '%s'", dir);
    while (!error && (e = readdir(d))) {
        if (strncmp(e->d_name, TMP_PREFIX, strlen(TMP_PREFIX)))
            continue;
        roar_buf_clear(&why);
        if (!parse_tmp_name(&pid, id, &key, e->d_name)) {
            /* An older git roar's temp name does not say which worktree it is for. It is
             * left, and named, once nobody can still be writing it. */
            if (cb && fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                time(NULL) - st.st_mtime >= ROAR_PENDING_TMP_OLD_SECS)
                error = cb(dir, e->d_name, "an unfinished pending record whose name does not "
                                           "say its worktree; left in place", payload);
            continue;
        }
        if (pid_alive(pid))
            continue; /* being written */
        if ((error = recover_tmp(&done, dir, e->d_name, id, key.ptr, &why)) < 0)
            break;
        if (done && recovered)
            (*recovered)++;
        if (!done && why.size && cb)
            error = cb(dir, e->d_name, why.ptr, payload);
    }
    closedir(d);
    roar_buf_dispose(&key);
    roar_buf_dispose(&why);
    return error;
}
