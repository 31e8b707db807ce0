/* fdstate's inputs: when a file the job met becomes an input (SPEC §4.4) or changes,
 * and the queue of hash requests for pre-job content that those moments make, which
 * the collector serves (roar_fdstate_next_hash, roar_fdstate_set_preimage). */
#include "trace/fdstate_internal.h"
#include "util/buf.h"
#include "util/err.h"

#include <stdlib.h>
#include <string.h>

/* ---- hash requests ------------------------------------------------------ */

int fdstate_request_hash(roar_fdstate *st, roar_fsfile *f, roar_hash_reason reason,
                         const roar_ident *id, const char *path, uint32_t tgid, int fd)
{
    fs_hashreq *r;
    const char *name;
    if (f->hash_requested || f->changed || !f->preexisting)
        return 0;
    if (!(name = fdstate_stored_name(f, path)))
        return 0;
    if (st->req_head > 0 && st->req_head == st->req_count)
        st->req_head = st->req_count = 0;
    if (ROAR_ALLOC_GROW(st->reqs, st->req_count + 1, st->req_alloc) < 0)
        return ROAR_ENOMEM;
    r = &st->reqs[st->req_count];
    if (!(r->path = strdup(name)))
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    r->file = f;
    r->reason = reason;
    r->tgid = tgid;
    r->fd = fd;
    if (id)
        r->ident = *id;
    else
        memset(&r->ident, 0, sizeof(r->ident));
    st->req_count++;
    f->hash_requested = true;
    return 0;
}

bool roar_fdstate_next_hash(roar_fdstate *st, roar_fdstate_hashreq *out)
{
    fs_hashreq *r;
    free(st->popped_path);
    st->popped_path = NULL;
    memset(out, 0, sizeof(*out));
    if (st->req_head >= st->req_count)
        return false;
    r = &st->reqs[st->req_head++];
    st->popped_path = r->path;
    out->reason = r->reason;
    out->file = r->file;
    out->path = r->path;
    out->ident = r->ident;
    out->tgid = r->tgid;
    out->fd = r->fd;
    return true;
}

void roar_fdstate_set_prefix(roar_fdstate *st, roar_fsfile *file, const char *id, uint64_t size)
{
    (void)st;
    file->prefix_known = true;
    memcpy(file->prefix, id, ROAR_FDSTATE_OIDSZ);
    file->prefix[ROAR_FDSTATE_OIDSZ] = '\0';
    file->prefix_size = size;
}

void roar_fdstate_set_preimage(roar_fdstate *st, roar_fsfile *file, const char *id, uint64_t size)
{
    (void)st;
    file->preimage_known = id != NULL;
    if (id) {
        memcpy(file->preimage, id, ROAR_FDSTATE_OIDSZ);
        file->preimage[ROAR_FDSTATE_OIDSZ] = '\0';
    }
    file->preimage_size = size;
}

/* ---- becoming an input (§4.4) ------------------------------------------- */

/* §4.4: the file is an input if the job has not yet changed it. Recorded under its name
 * at this moment (a later rename does not move an input). */
int fdstate_make_input(roar_fdstate *st, roar_fsfile *f, const roar_ident *id, const char *path,
                       bool hash_now, uint32_t tgid, int fd)
{
    if (f->changed || !f->preexisting || f->name_count == 0)
        return 0;
    if (!f->input) {
        if (!(f->input_name = strdup(f->names[0].path)))
            return roar_error_set(ROAR_ENOMEM, "out of memory");
        f->input = true;
        if (id)
            f->input_ident = *id;
    } else if (!f->input_ident.known && id && id->known) {
        /* An input before any event showed its content (a file moved with its
         * directory, fdstate_rename.c): the first event that does, the job not having
         * changed it, gives its identity, and may ask for its hash. */
        f->input_ident = *id;
    }
    return hash_now ? fdstate_request_hash(st, f, ROAR_HASH_INPUT, id, path, tgid, fd) : 0;
}

static bool pending_was_empty(const roar_fsfile *f)
{
    return f->pending_ident.known && f->pending_ident.size == 0;
}

int fdstate_mark_change(roar_fdstate *st, roar_fsfile *f, change_kind kind)
{
    int error = 0;
    fdstate_written_bump(f); /* even a truncate by name, which needs no fd */
    if (f->changed)
        return 0;
    /* An in-place edit or append after a write-capable open derives the new content
     * from the old; a first change that empties the file does not (§4.4), and neither
     * does one to a file that was empty at that open: nothing can be derived from no
     * bytes (`git roar run cmd > out`: the shell truncated out before the job). */
    if (kind != CHANGE_TRUNC_ZERO && f->write_pending && !pending_was_empty(f))
        error = fdstate_make_input(st, f, &f->pending_ident, NULL, false, 0, -1);
    f->changed = true;
    return error;
}

void roar_fdstate_resolve_check(roar_fdstate *st, roar_fsfile *file)
{
    (void)st;
    if (file->changed || !file->write_pending)
        return;
    /* §4.4: a write-capable open followed by a change is an input (the id at open). */
    if (!file->input && file->preexisting && file->name_count && !pending_was_empty(file) &&
        (file->input_name = strdup(file->names[0].path)) != NULL) {
        file->input = true;
        file->input_ident = file->pending_ident;
    }
    file->changed = true;
    file->check_resolved = true;
}
