/* fdstate's rename events: a file's name moved (SPEC §4.4: the source is an input; §4.5:
 * the target an output), and a directory's, which moves every path beneath it. What
 * cannot be resolved at the call goes into the rename history (fdstate_place.c). */
#include "trace/fdstate_internal.h"
#include "util/buf.h"
#include "util/err.h"

#include <stdint.h>
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

/* ---- rename events ------------------------------------------------------ */

/* A rename fdstate cannot resolve now: a directory, or a name no event has shown whose
 * identity at the call nobody took (eBPF: the kernel side cannot look the name up, and
 * an identity read afterwards may already be the job's next write's, issue 17). What
 * it knows beneath `from` moves now; the rest is resolved through the history. */
static int move_unresolved(roar_fdstate *st, const char *from, const char *to)
{
    int error;
    if ((error = rename_dir(st, from, to)) < 0)
        return error;
    fdstate_unbind_path(st, to); /* a file renamed over: that content is gone */
    return fdstate_history_add(st, from, to);
}

/* One step of an exchange: a name we know is a file and moves at once. */
static int move_either(roar_fdstate *st, const char *from, const char *to)
{
    if (roar_keymap_gets(&st->by_path, from))
        return rename_one(st, from, to, NULL);
    return move_unresolved(st, from, to);
}

int fdstate_ev_rename(roar_fdstate *st, const roar_event *ev)
{
    roar_ident id;
    bool is_dir;
    int error;

    roar_event_ident(&id, ev);
    if (ev->h.flags & RENAME_EXCHANGE) {
        /* Both names are sources and targets; a swap through a temporary name keeps
         * one code path. The temporary cannot collide: it contains a NUL-free marker
         * no absolute path from the tracers holds (a newline and a 0x01 byte). */
        static const char tmp[] = "/\n\001roar-exchange";
        if ((error = move_either(st, ev->path, tmp)) < 0 ||
            (error = move_either(st, ev->path2, ev->path)) < 0 ||
            (error = move_either(st, tmp, ev->path2)) < 0)
            return error;
        roar_keymap_removes(&st->madepaths, tmp);
        return 0;
    }
    is_dir = (ev->h.flags & ROAR_RENAME_F_DIR) || (id.known && id.mode && S_ISDIR(id.mode));
    /* A file: one we know, or one whose identity the tracer took at the call (preload
     * stats it before), is resolved now and hashed at its new name at once. */
    if (!is_dir && (roar_keymap_gets(&st->by_path, ev->path) || id.known)) {
        if ((error = rename_one(st, ev->path, ev->path2, &id)) < 0)
            return error;
        return fdstate_note_gone(st, ev->path);
    }
    return move_unresolved(st, ev->path, ev->path2);
}
