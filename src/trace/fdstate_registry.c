/* fdstate's file registry: one record per file the job touched, the names that bind
 * to it (by_path) and its identity (dev, ino; by_ident). Which record a path or an
 * identity names; fdstate_place.c decides which one an event means. */
#include "trace/fdstate_internal.h"
#include "util/keymap.h"
#include "util/buf.h"
#include "util/err.h"

#include <stdlib.h>
#include <string.h>

static void *const PRESENT = (void *)&PRESENT;

int fdstate_file_new(roar_fsfile **out, roar_fdstate *st)
{
    roar_fsfile *f;
    *out = NULL;
    if (ROAR_ALLOC_GROW(st->files, st->file_count + 1, st->file_alloc) < 0)
        return ROAR_ENOMEM;
    f = calloc(1, sizeof(*f));
    if (!f)
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    st->files[st->file_count++] = f;
    *out = f;
    return 0;
}

void fdstate_file_free(roar_fsfile *f)
{
    size_t i;
    for (i = 0; i < f->name_count; i++)
        free(f->names[i].path);
    free(f->names);
    free(f->input_name);
    free(f);
}

int fdstate_name_index(const roar_fsfile *f, const char *path)
{
    size_t i;
    for (i = 0; i < f->name_count; i++)
        if (strcmp(f->names[i].path, path) == 0)
            return (int)i;
    return -1;
}

/* Drops names[idx]. When the recorded name goes and others remain, a name the job made
 * (link target) takes its place first: temp + link final + unlink temp -> final. */
static void name_remove(roar_fsfile *f, size_t idx)
{
    size_t j, pick = 1;
    free(f->names[idx].path);
    if (idx == 0 && f->name_count > 1) {
        for (j = 1; j < f->name_count; j++)
            if (f->names[j].target) {
                pick = j;
                break;
            }
        f->names[0] = f->names[pick];
        idx = pick;
    }
    memmove(&f->names[idx], &f->names[idx + 1], (f->name_count - idx - 1) * sizeof(fs_name));
    f->name_count--;
}

/* Forgets that path names anything. */
void fdstate_unbind_path(roar_fdstate *st, const char *path)
{
    roar_fsfile *g = roar_keymap_removes(&st->by_path, path);
    int idx;
    if (g && (idx = fdstate_name_index(g, path)) >= 0)
        name_remove(g, (size_t)idx);
}

/* Binds path to f (taking it from whatever it named before). */
int fdstate_bind_path(roar_fdstate *st, roar_fsfile *f, const char *path, bool target)
{
    char *copy;
    int idx, error;
    roar_fsfile *g = roar_keymap_gets(&st->by_path, path);

    if (g == f && (idx = fdstate_name_index(f, path)) >= 0) {
        f->names[idx].target |= target;
        return 0;
    }
    if (g)
        fdstate_unbind_path(st, path);
    if (ROAR_ALLOC_GROW(f->names, f->name_count + 1, f->name_alloc) < 0)
        return ROAR_ENOMEM;
    if (!(copy = strdup(path)))
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    if ((error = roar_keymap_puts(&st->by_path, path, f)) < 0) {
        free(copy);
        return error;
    }
    f->names[f->name_count].path = copy;
    f->names[f->name_count].target = target;
    f->name_count++;
    return 0;
}

int fdstate_mark_path(roar_keymap *m, const char *path)
{
    return roar_keymap_puts(m, path, PRESENT);
}

const char *fdstate_stored_name(const roar_fsfile *f, const char *path)
{
    int idx = path ? fdstate_name_index(f, path) : -1;
    if (idx >= 0)
        return f->names[idx].path;
    return f->name_count ? f->names[0].path : NULL;
}

int fdstate_set_key(roar_fdstate *st, roar_fsfile *f, const roar_ident *id)
{
    uint64_t key[2];
    if (!id || !id->known || (f->has_key && f->dev == id->dev && f->ino == id->ino))
        return 0;
    if (f->has_key) {
        key[0] = f->dev;
        key[1] = f->ino;
        if (roar_keymap_get(&st->by_ident, key, sizeof(key)) == f)
            roar_keymap_remove(&st->by_ident, key, sizeof(key));
    }
    f->has_key = true;
    f->dev = id->dev;
    f->ino = id->ino;
    key[0] = id->dev;
    key[1] = id->ino;
    return roar_keymap_put(&st->by_ident, key, sizeof(key), f);
}

roar_fsfile *fdstate_by_ident(const roar_fdstate *st, const roar_ident *id)
{
    uint64_t key[2];
    if (!id || !id->known)
        return NULL;
    key[0] = id->dev;
    key[1] = id->ino;
    return roar_keymap_get(&st->by_ident, key, sizeof(key));
}

/* A pre-existing file found under path: a del candidate unless the job made that name. */
int fdstate_discover(roar_fsfile **out, roar_fdstate *st, const char *path, const roar_ident *id)
{
    roar_fsfile *f;
    int error;
    if ((error = fdstate_file_new(&f, st)) < 0)
        return error;
    f->preexisting = true;
    if ((error = fdstate_bind_path(st, f, path, false)) < 0 ||
        (error = fdstate_set_key(st, f, id)) < 0)
        return error;
    if (!roar_keymap_gets(&st->madepaths, path) &&
        (error = fdstate_mark_path(&st->prepaths, path)) < 0)
        return error;
    *out = f;
    return 0;
}

/* ---- introspection (fdstate.h) ------------------------------------------ */

roar_fsfile *roar_fdstate_lookup_path(const roar_fdstate *st, const char *path)
{
    return roar_keymap_gets(&st->by_path, path);
}

const char *roar_fdstate_file_name(const roar_fsfile *file)
{
    return file->name_count ? file->names[0].path : NULL;
}
