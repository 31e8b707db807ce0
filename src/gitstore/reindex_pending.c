/* The pending records on disk as reindex sees them (reindex_internal.h): pending/ and
 * the claim dirs of attaches in progress, and a signature that tells whether the
 * listing changed since the cache's marks were last made to match it. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gitstore/reindex_internal.h"
#include "graph/oid.h"
#include "util/err.h"
#include "util/strlist.h"

void roar_reindex__pending_files_dispose(pending_files *p)
{
    roar_pending_list_dispose(&p->list);
    roar_pending_list_dispose(&p->claims);
    roar_strlist_free(p->dirs, p->ndirs);
    free(p->claim_dirs);
    memset(p, 0, sizeof(*p));
}

int roar_reindex__pending_files_read(pending_files *out, roar_repo *repo)
{
    roar_buf dir = ROAR_BUF_INIT, sub = ROAR_BUF_INIT;
    roar_pending_list part = ROAR_PENDING_LIST_INIT;
    DIR *d = NULL;
    struct dirent *e;
    size_t i;
    int error;

    memset(out, 0, sizeof(*out));
    /* Records stranded in temp files by a killed `run` are finished first, so that
     * the next command, whichever it is, lists them. */
    if ((error = roar_pending_dir(&dir, repo)) < 0 ||
        (error = roar_pending_recover(NULL, dir.ptr, NULL, NULL)) < 0 ||
        (error = roar_pending_list_read(&out->list, dir.ptr, NULL)) < 0)
        goto cleanup;
    if (!(d = opendir(dir.ptr)))
        goto cleanup; /* no pending dir: nothing pending */
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, ".claim-", 7))
            continue;
        roar_buf_clear(&sub);
        if ((error = roar_buf_printf(&sub, "%s/%s", dir.ptr, e->d_name)) < 0 ||
            (error = roar_pending_list_read(&part, sub.ptr, NULL)) < 0)
            goto cleanup;
        if (!part.count)
            continue;
        if ((error = roar_strlist_push(&out->dirs, &out->ndirs, &out->dirs_alloc, sub.ptr)) < 0)
            goto cleanup;
        for (i = 0; i < part.count; i++) {
            if ((error = ROAR_ALLOC_GROW(out->claims.items, out->claims.count + 1,
                                         out->claims.alloc)) < 0 ||
                (error =
                     ROAR_ALLOC_GROW(out->claim_dirs, out->claims.count + 1, out->claim_alloc)) < 0)
                goto cleanup;
            out->claims.items[out->claims.count] = part.items[i];
            out->claim_dirs[out->claims.count++] = out->dirs[out->ndirs - 1];
        }
        free(part.items); /* the entries moved into claims */
        memset(&part, 0, sizeof(part));
    }

cleanup:
    if (d)
        closedir(d);
    roar_pending_list_dispose(&part);
    roar_buf_dispose(&dir);
    roar_buf_dispose(&sub);
    return error;
}

bool roar_reindex__pending_has(const pending_files *p, const char *id)
{
    size_t i;
    for (i = 0; i < p->list.count; i++)
        if (!strcmp(p->list.items[i].id, id))
            return true;
    for (i = 0; i < p->claims.count; i++)
        if (!strcmp(p->claims.items[i].id, id))
            return true;
    return false;
}

/* A signature of the pending records on disk: the SHA-1 of the common dir (marks hold
 * worktree git dirs derived from it) and every listed name, claimed ones with their
 * claim dir. Record files are written once under their job id and never change, so
 * equal names mean equal records. */
int roar_reindex__pending_signature(char out[ROAR_OID_HEXSZ + 1], roar_repo *repo,
                                    const pending_files *p)
{
    roar_buf text = ROAR_BUF_INIT;
    char **claimed = NULL;
    git_oid oid;
    size_t i;
    int error;

    if ((error = roar_buf_printf(&text, "%s\n", roar_repo_commondir(repo))) < 0)
        goto cleanup;
    for (i = 0; i < p->list.count && !error; i++)
        error = roar_buf_printf(&text, "%s\n", p->list.items[i].name);
    if (error < 0)
        goto cleanup;
    /* Claim dirs come in readdir order: sort them for a stable signature. */
    if (p->claims.count && !(claimed = calloc(p->claims.count, sizeof(*claimed)))) {
        error = roar_error_set(ROAR_ENOMEM, "out of memory");
        goto cleanup;
    }
    for (i = 0; i < p->claims.count; i++) {
        const char *slash = strrchr(p->claim_dirs[i], '/');
        roar_buf line = ROAR_BUF_INIT;
        if ((error = roar_buf_printf(&line, "%s/%s", slash ? slash + 1 : p->claim_dirs[i],
                                     p->claims.items[i].name)) < 0)
            goto cleanup;
        claimed[i] = roar_buf_detach(&line);
        if (!claimed[i]) {
            error = roar_error_set(ROAR_ENOMEM, "out of memory");
            goto cleanup;
        }
    }
    if (p->claims.count > 1)
        qsort(claimed, p->claims.count, sizeof(*claimed), roar_strlist_cmp);
    for (i = 0; i < p->claims.count && !error; i++)
        error = roar_buf_printf(&text, "%s\n", claimed[i]);
    if (error < 0)
        goto cleanup;
    if (git_odb_hash(&oid, text.ptr, text.size, GIT_OBJECT_BLOB) < 0) {
        error = roar_error_set(ROAR_ERROR, "cannot hash the pending listing: %s",
                               git_error_last() ? git_error_last()->message : "libgit2 error");
        goto cleanup;
    }
    git_oid_tostr(out, ROAR_OID_HEXSZ + 1, &oid);

cleanup:
    roar_strlist_free(claimed, p->claims.count);
    roar_buf_dispose(&text);
    return error;
}
