/* fdstate's placement: which file record a path (and identity, when known) names when
 * an event mentions it, by identity, by name, or through the job's rename history.
 *
 * A rename whose moved files fdstate cannot name at the call is kept in that history,
 * in event order, instead of being resolved by listing the new name when the event
 * comes in: under eBPF that listing runs after the job has already gone on changing the
 * directory (issue 17: a file created after `mv d1 d2` recorded as moved from d1). A
 * later event naming an unknown path walks the history back to the path's pre-job
 * name; the untouched rest is listed once the job is over, when no event is pending.
 * The rename events themselves are fdstate_rename.c's. */
#include "trace/fdstate_internal.h"
#include "util/buf.h"
#include "util/keymap.h"
#include "util/err.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The file that path (with identity id, if known) names now, creating its record.
 * Identity wins over the path: two names of one inode are one file (§4.2). */
int fdstate_place(roar_fsfile **out, roar_fdstate *st, const char *path, const roar_ident *id,
                  bool created)
{
    roar_fsfile *fi = fdstate_by_ident(st, id), *fp = roar_keymap_gets(&st->by_path, path), *f;
    int error;

    *out = NULL;
    if (created) {
        if (fi)
            fi->has_key = false; /* a reused inode number: the old file is gone */
        if ((error = fdstate_file_new(&f, st)) < 0)
            return error;
        f->created = f->changed = true;
        if ((error = fdstate_bind_path(st, f, path, false)) < 0 ||
            (error = fdstate_mark_path(&st->madepaths, path)) < 0 ||
            (error = fdstate_set_key(st, f, id)) < 0)
            return error;
        *out = f;
        return 0;
    }
    if (fi) {
        if (fp != fi) {
            if ((error = fdstate_bind_path(st, fi, path, false)) < 0)
                return error;
            if (fi->preexisting && !roar_keymap_gets(&st->madepaths, path) &&
                (error = fdstate_mark_path(&st->prepaths, path)) < 0)
                return error;
        }
        *out = fi;
        return 0;
    }
    if (fp && !(id && id->known && fp->has_key)) {
        if ((error = fdstate_set_key(st, fp, id)) < 0)
            return error;
        *out = fp;
        return 0;
    }
    /* A path the job's renames may have brought here from another name. */
    if (!fp && st->history_count)
        return fdstate_place_moved(out, st, path, id);
    /* Unknown path, or it names another inode than we thought: replaced behind our
     * back (by something untraced); what is there now predates our knowledge. */
    return fdstate_discover(out, st, path, id);
}

/* The history entries that mention one name, in increasing order. */
typedef struct {
    size_t *idx;
    size_t count, alloc;
    bool is_target; /* some entry moved a name here (a `to`) */
} history_refs;

/* ---- the history -------------------------------------------------------- */

static int refs_add(roar_fdstate *st, const char *name, size_t i, bool is_target)
{
    history_refs *r = roar_keymap_gets(&st->history_names, name);
    int error;
    if (!r) {
        if (!(r = calloc(1, sizeof(*r))))
            return roar_error_set(ROAR_ENOMEM, "out of memory");
        if ((error = roar_keymap_puts(&st->history_names, name, r)) < 0) {
            free(r);
            return error;
        }
    }
    if (ROAR_ALLOC_GROW(r->idx, r->count + 1, r->alloc) < 0)
        return ROAR_ENOMEM;
    r->idx[r->count++] = i;
    r->is_target |= is_target;
    return 0;
}

/* Appends "from moved to `to`", or with to NULL "from was removed". */
int fdstate_history_add(roar_fdstate *st, const char *from, const char *to)
{
    fs_history *h;
    size_t i = st->history_count;
    int error;
    if (ROAR_ALLOC_GROW(st->history, i + 1, st->history_alloc) < 0)
        return ROAR_ENOMEM;
    h = &st->history[i];
    h->from = strdup(from);
    h->to = to ? strdup(to) : NULL;
    if (!h->from || (to && !h->to)) {
        free(h->from);
        free(h->to);
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    }
    st->history_count++;
    if ((error = refs_add(st, from, i, false)) < 0 ||
        (to && (error = refs_add(st, to, i, true)) < 0))
        return error;
    return 0;
}

/* Shortens `len` to the length of path's parent (absolute paths); false past the root. */
static bool parent_len(const char *path, size_t *len)
{
    size_t n = *len;
    while (n > 0 && path[n - 1] != '/')
        n--;
    if (n <= 1)
        return false;
    *len = n - 1;
    return true;
}

/* The latest entry before index `before` that mentions path or one of its ancestors,
 * or SIZE_MAX; *name_len is the length of the name it mentions (a prefix of path). */
static size_t history_latest(const roar_fdstate *st, const char *path, size_t before,
                             size_t *name_len)
{
    size_t len = strlen(path), best = SIZE_MAX, j;
    do {
        const history_refs *r = roar_keymap_get(&st->history_names, path, len);
        for (j = r ? r->count : 0; j-- > 0;)
            if (r->idx[j] < before) {
                if (best == SIZE_MAX || r->idx[j] > best) {
                    best = r->idx[j];
                    *name_len = len;
                }
                break;
            }
    } while (parent_len(path, &len));
    return best;
}

/* Whether path or an ancestor is the target of a move in the history. */
static bool beneath_a_target(const roar_fdstate *st, const char *path)
{
    size_t len = strlen(path);
    do {
        const history_refs *r = roar_keymap_get(&st->history_names, path, len);
        if (r && r->is_target)
            return true;
    } while (parent_len(path, &len));
    return false;
}

/* The name `path` had before the job's recorded renames brought it here, into `out`;
 * *steps is how many of them did. The walk goes back from the end of the history and
 * stops at an entry that moved the name (or an ancestor) away or removed it: a path
 * there afterwards was made later, not moved. Each name the walk leaves behind was a
 * rename target, so it goes into `made` when that is not NULL. */
static int origin_of(roar_buf *out, size_t *steps, const roar_fdstate *st, const char *path,
                     roar_keymap *made)
{
    roar_buf next = ROAR_BUF_INIT;
    size_t before = st->history_count, klen = 0, i;
    int error;

    *steps = 0;
    roar_buf_clear(out);
    if ((error = roar_buf_puts(out, path)) < 0)
        return error;
    while ((i = history_latest(st, out->ptr, before, &klen)) != SIZE_MAX) {
        const fs_history *h = &st->history[i];
        roar_buf tmp;
        if (!h->to || strlen(h->to) != klen || memcmp(h->to, out->ptr, klen) != 0)
            break; /* moved away or removed, not moved here */
        if (made && (error = fdstate_mark_path(made, out->ptr)) < 0)
            goto cleanup;
        roar_buf_clear(&next);
        if ((error = roar_buf_puts(&next, h->from)) < 0 ||
            (error = roar_buf_put(&next, out->ptr + klen, out->size - klen)) < 0)
            goto cleanup;
        tmp = *out;
        *out = next;
        next = tmp;
        before = i;
        (*steps)++;
    }
    error = 0;
cleanup:
    roar_buf_dispose(&next);
    return error;
}

/* The pre-job file `origin` that the job's renames brought to `path`: an input under
 * origin (the source of a move, SPEC §4.4), an output under path (a rename target,
 * §4.5), and origin a del candidate unless the job made that name. Its identity as an
 * input and its hash are left to the caller, which knows whether the content is still
 * the pre-job one (make_input). */
static int moved_file(roar_fsfile **out, roar_fdstate *st, const char *origin, const char *path,
                      const roar_ident *id)
{
    roar_fsfile *f;
    int error;
    if ((error = fdstate_file_new(&f, st)) < 0)
        return error;
    f->preexisting = true;
    if (!(f->input_name = strdup(origin)))
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    f->input = true;
    if ((error = fdstate_bind_path(st, f, path, true)) < 0 ||
        (error = fdstate_mark_path(&st->madepaths, path)) < 0 ||
        (error = fdstate_set_key(st, f, id)) < 0)
        return error;
    if (!roar_keymap_gets(&st->madepaths, origin) &&
        (error = fdstate_mark_path(&st->prepaths, origin)) < 0)
        return error;
    *out = f;
    return 0;
}

int fdstate_place_moved(roar_fsfile **out, roar_fdstate *st, const char *path, const roar_ident *id)
{
    roar_buf origin = ROAR_BUF_INIT;
    size_t steps;
    int error;
    if ((error = origin_of(&origin, &steps, st, path, &st->madepaths)) >= 0)
        error =
            steps ? moved_file(out, st, origin.ptr, path, id) : fdstate_discover(out, st, path, id);
    roar_buf_dispose(&origin);
    return error;
}

int fdstate_note_gone(roar_fdstate *st, const char *path)
{
    /* Only beneath a rename target can a later name be mistaken for a moved one. */
    if (!st->history_count || !beneath_a_target(st, path))
        return 0;
    return fdstate_history_add(st, path, NULL);
}

void fdstate_history_free(roar_fdstate *st)
{
    size_t i;
    for (i = 0; i < st->history_count; i++) {
        free(st->history[i].from);
        free(st->history[i].to);
    }
    free(st->history);
    for (i = 0; i < st->history_names.cap; i++)
        if (st->history_names.slots[i].key) {
            history_refs *r = st->history_names.slots[i].value;
            free(r->idx);
            free(r);
        }
    roar_keymap_dispose(&st->history_names);
}

/* ---- the listing at the end --------------------------------------------- */

static bool beneath_any(const roar_keymap *names, const char *path, bool strictly)
{
    size_t len = strlen(path);
    if (strictly && !parent_len(path, &len))
        return false;
    do
        if (roar_keymap_get(names, path, len))
            return true;
    while (parent_len(path, &len));
    return false;
}

int roar_fdstate_renamed_names(const roar_fdstate *st, int (*cb)(const char *path, void *payload),
                               void *payload)
{
    roar_keymap later = ROAR_KEYMAP_INIT, live = ROAR_KEYMAP_INIT;
    size_t i;
    int error = 0;

    /* From the end back: a target is still where it went unless a later entry moved
     * it (or an ancestor) away, removed it, or moved something over it. */
    for (i = st->history_count; i-- > 0;) {
        const fs_history *h = &st->history[i];
        if (h->to && !beneath_any(&later, h->to, false) &&
            (error = fdstate_mark_path(&live, h->to)) < 0)
            goto cleanup;
        if ((error = fdstate_mark_path(&later, h->from)) < 0 ||
            (h->to && (error = fdstate_mark_path(&later, h->to)) < 0))
            goto cleanup;
    }
    for (i = 0; i < live.cap; i++) {
        const roar_keymap_slot *s = &live.slots[i];
        if (s->key && !beneath_any(&live, s->key, true) && (error = cb(s->key, payload)) != 0)
            goto cleanup;
    }
cleanup:
    roar_keymap_dispose(&later);
    roar_keymap_dispose(&live);
    return error;
}

int roar_fdstate_add_moved(roar_fdstate *st, const char *path, const roar_ident *ident)
{
    roar_buf origin = ROAR_BUF_INIT;
    roar_fsfile *f;
    size_t steps;
    int error;

    /* Known by name or identity: an event of the job said what became of it. */
    if (fdstate_by_ident(st, ident) || roar_keymap_gets(&st->by_path, path))
        return 0;
    if ((error = origin_of(&origin, &steps, st, path, NULL)) < 0 || !steps)
        goto cleanup; /* not brought here by the job: nothing of it to record */
    if ((error = origin_of(&origin, &steps, st, path, &st->madepaths)) < 0 ||
        (error = moved_file(&f, st, origin.ptr, path, ident)) < 0)
        goto cleanup;
    /* Untouched since the job's rename moved it: the identity now is the pre-job one. */
    error = fdstate_make_input(st, f, ident, path, true, 0, -1);
cleanup:
    roar_buf_dispose(&origin);
    return error;
}
