/* Where the objects of a notes write go. A few objects are written loose. A big batch
 * (10,000 notes) would cost a file per object, seconds on slow disks: it is written to
 * memory (libgit2's mempack) in front of the repository's objects, then packed into one
 * packfile before the ref moves. */
#include <string.h>

#include <git2/sys/mempack.h>
#include <git2/sys/odb_backend.h>

#include "gitstore/notes_internal.h"
#include "util/err.h"

int roar_notes__objstore_open(objstore *s, roar_repo *repo, bool bulk)
{
    git_odb *odb = NULL;
    roar_buf objects = ROAR_BUF_INIT;
    int error = 0;

    memset(s, 0, sizeof(*s));
    s->git = roar_repo_git(repo);
    if (!bulk)
        return 0;
    if ((error = roar_buf_printf(&objects, "%s/objects", roar_repo_commondir(repo))) < 0)
        goto cleanup;
    if (git_odb_new(&odb) < 0 || git_mempack_new(&s->mempack) < 0) {
        error = roar_notes__git_fail(ROAR_ERROR, "cannot set up the object store");
        goto cleanup;
    }
    if (git_odb_add_backend(odb, s->mempack, 1000) < 0) {
        s->mempack->free(s->mempack);
        s->mempack = NULL;
        error = roar_notes__git_fail(ROAR_ERROR, "cannot set up the object store");
        goto cleanup;
    }
    if (git_odb_add_disk_alternate(odb, objects.ptr) < 0 ||
        git_repository_wrap_odb(&s->wrapped, odb) < 0) {
        error = roar_notes__git_fail(ROAR_ERROR, "cannot set up the object store");
        goto cleanup;
    }
    s->git = s->wrapped;

cleanup:
    git_odb_free(odb); /* the wrapped repository holds its own reference */
    roar_buf_dispose(&objects);
    return error;
}

int roar_notes__objstore_track(objstore *s, const git_oid *id)
{
    return s->wrapped ? roar_notes__oid_vec_push(&s->created, id) : 0;
}

int roar_notes__objstore_flush(objstore *s, roar_repo *repo)
{
    git_packbuilder *pb = NULL;
    git_buf pack = {0};
    git_odb *odb = NULL;
    git_odb_writepack *wp = NULL;
    git_indexer_progress progress;
    size_t i;
    int error = 0;

    if (!s->wrapped || !s->created.count)
        return 0;
    memset(&progress, 0, sizeof(progress));
    if (git_packbuilder_new(&pb, s->wrapped) < 0)
        goto fail;
    git_packbuilder_set_threads(pb, 1);
    for (i = 0; i < s->created.count; i++)
        if (git_packbuilder_insert(pb, &s->created.items[i], NULL) < 0)
            goto fail;
    if (git_packbuilder_write_buf(&pack, pb) < 0 ||
        git_repository_odb(&odb, roar_repo_git(repo)) < 0 ||
        git_odb_write_pack(&wp, odb, NULL, NULL) < 0 ||
        wp->append(wp, pack.ptr, pack.size, &progress) < 0 || wp->commit(wp, &progress) < 0)
        goto fail;
    s->created.count = 0;
    goto cleanup;
fail:
    error = roar_notes__git_fail(ROAR_ERROR, "cannot write the notes pack");
cleanup:
    if (wp)
        wp->free(wp);
    git_odb_free(odb);
    git_buf_dispose(&pack);
    git_packbuilder_free(pb);
    return error;
}

void roar_notes__objstore_close(objstore *s)
{
    git_repository_free(s->wrapped);
    roar_notes__oid_vec_dispose(&s->created);
    memset(s, 0, sizeof(*s));
}
