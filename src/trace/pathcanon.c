/* SPEC §4.2 for the collector: lexical normalisation first (it costs no syscall and
 * decides most paths), realpath of the directory part, cached, only when it must. */
#include "trace/pathcanon.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/keymap.h"
#include "util/pathlex.h"
#include "util/err.h"

struct roar_pathcanon {
    char *top; /* realpath of the work tree top, no trailing slash except for "/" */
    char **gitdirs;
    size_t ngitdirs;
    size_t toplen, *gitdirlens; /* their strlen: classify runs for every event's path */
    roar_keymap dirs;             /* directory as asked -> malloc'd realpath (values owned here) */
    roar_buf norm, dir, resolved; /* scratch, kept to avoid an allocation per call */
};

static bool has_dotgit_component(const char *rel)
{
    const char *p = rel;
    while (*p) {
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == 4 && !memcmp(p, ".git", 4))
            return true;
        if (!end)
            break;
        p = end + 1;
    }
    return false;
}

/* Step 2 of roar_pathcanon_map: true when it decided (out and kind set). `path` is a
 * roar_buf's, `len` its size. */
static int classify(bool *decided, roar_buf *out, roar_path_kind *kind, roar_pathcanon *pc,
                    const char *path, size_t len)
{
    const char *rel;
    size_t i;

    *decided = true;
    for (i = 0; i < pc->ngitdirs; i++) {
        if (roar_pathlex_below_n(path, pc->gitdirs[i], pc->gitdirlens[i])) {
            *kind = ROAR_PATH_GITDIR;
            roar_buf_clear(out);
            return roar_buf_put(out, path, len);
        }
    }
    if ((rel = roar_pathlex_below_n(path, pc->top, pc->toplen)) != NULL) {
        roar_buf_clear(out);
        if (has_dotgit_component(rel)) {
            *kind = ROAR_PATH_GITDIR;
            return roar_buf_put(out, path, len);
        }
        *kind = ROAR_PATH_WORKTREE;
        return *rel ? roar_buf_put(out, rel, len - (size_t)(rel - path)) : roar_buf_puts(out, ".");
    }
    *decided = false;
    return 0;
}

/* Appends the realpath of directory dir[0..len) (normalised, absolute) to out. A directory
 * that cannot be resolved is resolved through its nearest ancestor that can, with the
 * remaining components appended as they are. Only realpath successes are cached: a
 * missing directory may appear later in the job. */
static int resolve_dir(roar_buf *out, roar_pathcanon *pc, const char *dir, size_t len)
{
    size_t cut = len;
    const char *real = NULL;
    int error;

    for (;;) {
        char *rp;
        real = roar_keymap_get(&pc->dirs, dir, cut);
        if (real)
            break;
        if (cut == 1) {
            real = "/";
            break;
        }
        roar_buf_clear(&pc->dir);
        if ((error = roar_buf_put(&pc->dir, dir, cut)) < 0)
            return error;
        if ((rp = realpath(pc->dir.ptr, NULL)) != NULL) {
            if ((error = roar_keymap_put(&pc->dirs, dir, cut, rp)) < 0) {
                free(rp);
                return error;
            }
            real = rp;
            break;
        }
        /* Not resolvable (gone, not a directory, no permission): try the parent. */
        while (cut > 1 && dir[cut - 1] != '/')
            cut--;
        if (cut > 1)
            cut--; /* drop the slash too, unless the parent is "/" */
    }
    if ((error = roar_buf_puts(out, real)) < 0)
        return error;
    if (cut < len) {
        const char *rest = dir + cut;
        if (*rest == '/')
            rest++;
        if (out->size > 1 && (error = roar_buf_putc(out, '/')) < 0)
            return error;
        if ((error = roar_buf_put(out, rest, (size_t)(dir + len - rest))) < 0)
            return error;
    }
    return 0;
}

int roar_pathcanon_map(roar_buf *out, roar_path_kind *out_kind, roar_pathcanon *pc,
                       const char *abs_path)
{
    const char *slash;
    bool decided;
    int error;

    roar_buf_clear(&pc->norm);
    if ((error = roar_pathlex_normalise(&pc->norm, abs_path)) < 0)
        return error;
    if ((error = classify(&decided, out, out_kind, pc, pc->norm.ptr, pc->norm.size)) < 0 || decided)
        return error;

    roar_buf_clear(&pc->resolved);
    slash = strrchr(pc->norm.ptr, '/');
    if (slash == pc->norm.ptr) {
        /* A name directly under "/" (or "/" itself): the root needs no resolving. */
        if ((error = roar_buf_puts(&pc->resolved, pc->norm.ptr)) < 0)
            return error;
    } else {
        /* resolve_dir writes only pc->dir and pc->resolved: pc->norm stays valid. */
        if ((error = resolve_dir(&pc->resolved, pc, pc->norm.ptr, (size_t)(slash - pc->norm.ptr))) <
            0)
            return error;
        if (pc->resolved.size > 1 && (error = roar_buf_putc(&pc->resolved, '/')) < 0)
            return error;
        if ((error = roar_buf_puts(&pc->resolved, slash + 1)) < 0)
            return error;
    }
    if ((error = classify(&decided, out, out_kind, pc, pc->resolved.ptr, pc->resolved.size)) < 0 || decided)
        return error;
    *out_kind = ROAR_PATH_OUTSIDE;
    roar_buf_clear(out);
    return roar_buf_puts(out, pc->resolved.ptr);
}

static int copy_dir(char **out, const char *dir)
{
    roar_buf b = ROAR_BUF_INIT;
    int error;
    if (!dir || dir[0] != '/')
        return roar_error_set(ROAR_EINVALID, "directory is not absolute: '%s'",
                              dir ? dir : "(null)");
    if ((error = roar_pathlex_normalise(&b, dir)) < 0) {
        roar_buf_dispose(&b);
        return error;
    }
    if (!(*out = roar_buf_detach(&b)))
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    return 0;
}

int roar_pathcanon_new(roar_pathcanon **out, const char *worktree_real, const char *const *gitdirs,
                       size_t ngitdirs)
{
    roar_pathcanon *pc;
    size_t i;
    int error;

    *out = NULL;
    if (!(pc = calloc(1, sizeof(*pc))))
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    roar_buf_init(&pc->norm);
    roar_buf_init(&pc->dir);
    roar_buf_init(&pc->resolved);
    if ((error = copy_dir(&pc->top, worktree_real)) < 0)
        goto cleanup;
    pc->toplen = strlen(pc->top);
    if (ngitdirs && (!(pc->gitdirs = calloc(ngitdirs, sizeof(*pc->gitdirs))) ||
                     !(pc->gitdirlens = calloc(ngitdirs, sizeof(*pc->gitdirlens))))) {
        error = roar_error_set(ROAR_ENOMEM, "out of memory");
        goto cleanup;
    }
    for (i = 0; i < ngitdirs; i++) {
        if ((error = copy_dir(&pc->gitdirs[i], gitdirs[i])) < 0)
            goto cleanup;
        pc->gitdirlens[i] = strlen(pc->gitdirs[i]);
        pc->ngitdirs++;
    }
    *out = pc;
    return 0;

cleanup:
    roar_pathcanon_free(pc);
    return error;
}

void roar_pathcanon_free(roar_pathcanon *pc)
{
    size_t i;
    if (!pc)
        return;
    for (i = 0; i < pc->dirs.cap; i++)
        if (pc->dirs.slots[i].key)
            free(pc->dirs.slots[i].value);
    roar_keymap_dispose(&pc->dirs);
    for (i = 0; i < pc->ngitdirs; i++)
        free(pc->gitdirs[i]);
    free(pc->gitdirs);
    free(pc->gitdirlens);
    free(pc->top);
    roar_buf_dispose(&pc->norm);
    roar_buf_dispose(&pc->dir);
    roar_buf_dispose(&pc->resolved);
    free(pc);
}
