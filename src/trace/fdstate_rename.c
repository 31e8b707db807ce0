/* fdstate's renames: a file's name moved (SPEC §4.4: the source is an input; §4.5: the
 * target an output), and a directory's, which moves every path beneath it. */
#include "trace/fdstate_internal.h"
#include "util/buf.h"
#include "util/err.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

/* Moves one file name: old -> new. The source of a move is an input if unchanged
 * (§4.4), the target an output (§4.5), the old name deleted if it was pre-existing. */
static int rename_one(roar_fdstate *st, const char *oldp, const char *newp, const roar_ident *id)
{
    roar_fsfile *f = roar_keymap_gets(&st->by_path, oldp);
    int idx, error;
    char *copy;

    if (!f && (error = fdstate_place(&f, st, oldp, id, false)) < 0)
        return error;
    if (roar_keymap_gets(&st->by_path, newp) == f)
        return 0; /* two links of one file: rename(2) does nothing */
    if ((error = fdstate_make_input(st, f, id, oldp, false, 0, -1)) < 0)
        return error;
    fdstate_unbind_path(st, newp);
    idx = fdstate_name_index(f, oldp);
    if (idx < 0)
        return 0;
    if (!(copy = strdup(newp)))
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    roar_keymap_removes(&st->by_path, oldp);
    if ((error = roar_keymap_puts(&st->by_path, newp, f)) < 0) {
        free(copy);
        return error;
    }
    free(f->names[idx].path);
    f->names[idx].path = copy;
    f->names[idx].target = true;
    if ((error = fdstate_mark_path(&st->madepaths, newp)) < 0)
        return error;
    /* The content did not change: hash it at its new name, if it became an input. */
    if (f->input && !f->hash_requested)
        return fdstate_request_hash(st, f, ROAR_HASH_INPUT, id, newp, 0, -1);
    return 0;
}

static bool has_prefix_dir(const char *path, const char *dir, size_t dlen)
{
    return strncmp(path, dir, dlen) == 0 && path[dlen] == '/';
}

static int rename_dir(roar_fdstate *st, const char *oldp, const char *newp)
{
    size_t dlen = strlen(oldp), i, n = 0, alloc = 0;
    char **moved = NULL;
    roar_buf target = ROAR_BUF_INIT;
    int error = 0;

    /* Collect first: rename_one rebinds paths and so reshuffles the map. */
    for (i = 0; i < st->by_path.cap; i++) {
        const roar_keymap_slot *s = &st->by_path.slots[i];
        if (!s->key || !has_prefix_dir(s->key, oldp, dlen))
            continue;
        if ((error = ROAR_ALLOC_GROW(moved, n + 1, alloc)) < 0)
            goto cleanup;
        if (!(moved[n] = strndup(s->key, s->klen))) {
            error = roar_error_set(ROAR_ENOMEM, "out of memory");
            goto cleanup;
        }
        n++;
    }
    for (i = 0; i < n; i++) {
        roar_buf_clear(&target);
        if ((error = roar_buf_puts(&target, newp)) < 0 ||
            (error = roar_buf_puts(&target, moved[i] + dlen)) < 0 ||
            (error = rename_one(st, moved[i], target.ptr, NULL)) < 0)
            goto cleanup;
    }
cleanup:
    for (i = 0; i < n; i++)
        free(moved[i]);
    free(moved);
    roar_buf_dispose(&target);
    return error;
}

int fdstate_ev_rename(roar_fdstate *st, const roar_event *ev)
{
    roar_ident id;
    bool is_dir = false;
    size_t i;

    roar_event_ident(&id, ev);
    if (ev->h.flags & RENAME_EXCHANGE) {
        /* Both names are sources and targets; a swap through a temporary name keeps
         * one code path. The temporary cannot collide: it contains a NUL-free marker
         * no absolute path from the tracers holds (a newline and a 0x01 byte). */
        static const char tmp[] = "/\n\001roar-exchange";
        int error;
        if ((error = rename_one(st, ev->path, tmp, NULL)) < 0 ||
            (error = rename_one(st, ev->path2, ev->path, NULL)) < 0 ||
            (error = rename_one(st, tmp, ev->path2, NULL)) < 0)
            return error;
        roar_keymap_removes(&st->madepaths, tmp);
        return 0;
    }
    if (ev->h.flags & ROAR_RENAME_F_DIR)
        is_dir = true;
    else if (id.known && id.mode)
        is_dir = S_ISDIR(id.mode);
    else if (!(ev->h.flags & ROAR_RENAME_F_FILE) && !roar_keymap_gets(&st->by_path, ev->path)) {
        /* Not told: a name we know nothing of, with known paths beneath it, is a
         * directory; one with nothing beneath is taken for a file. */
        size_t dlen = strlen(ev->path);
        for (i = 0; i < st->by_path.cap && !is_dir; i++) {
            const roar_keymap_slot *s = &st->by_path.slots[i];
            is_dir = s->key && has_prefix_dir(s->key, ev->path, dlen);
        }
    }
    if (is_dir)
        return rename_dir(st, ev->path, ev->path2);
    return rename_one(st, ev->path, ev->path2, &id);
}

int roar_fdstate_add_moved(roar_fdstate *st, const char *old_path, const char *new_path,
                           const roar_ident *ident)
{
    if (fdstate_by_ident(st, ident) || roar_keymap_gets(&st->by_path, new_path))
        return 0;
    return rename_one(st, old_path, new_path, ident);
}
