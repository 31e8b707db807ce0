/* Pending records on disk: the durable copy of a job until it is attached. Written as
 * temp file + fsync + rename + fsync of the directory, so a reader sees all or nothing. */
#include "gitstore/pending.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
    if ((error = roar_buf_printf(&tmp, "%s/.tmp-%s-XXXXXX", dir, job_id)) < 0 ||
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
        error = roar_error_set_errno(ROAR_ERROR, "cannot rename '%s' to '%s'", tmp.ptr, final.ptr);
        goto cleanup;
    }
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
