/* The collector's listing, once the job is over, of what the job's renames moved: a
 * directory renamed by the job renames every path beneath it (SPEC §4.5), and fdstate
 * knows only the names events showed. Only at the end is no event of the job pending:
 * a listing at the rename (the former design) saw files the job made or removed after
 * it as moved or missing (issue 17). */
#include "trace/collector_internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/err.h"

/* Directories nested deeper than this beneath a renamed name are not listed. */
#define MOVED_DEPTH_MAX 64

typedef struct {
    char **v;
    size_t n, alloc;
} name_list;

static int collect(const char *path, void *payload)
{
    name_list *l = payload;
    if (ROAR_ALLOC_GROW(l->v, l->n + 1, l->alloc) < 0)
        return ROAR_ENOMEM;
    if (!(l->v[l->n] = strdup(path)))
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    l->n++;
    return 0;
}

static roar_ident ident_of(const struct stat *st)
{
    roar_ident id = {true,
                     (uint64_t)st->st_dev,
                     (uint64_t)st->st_ino,
                     (uint64_t)st->st_size,
                     (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec,
                     (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec,
                     (uint32_t)st->st_mode};
    return id;
}

/* Every regular file at or beneath `path` (whose lstat is `st`) to fdstate. */
static void add_tree(roar_fdstate *fs, roar_buf *path, const struct stat *st, int depth,
                     uint64_t *bad)
{
    size_t len = path->size;
    struct dirent *e;
    DIR *d;

    if (S_ISREG(st->st_mode)) {
        roar_ident id = ident_of(st);
        if (roar_fdstate_add_moved(fs, path->ptr, &id) < 0) {
            roar_error_clear();
            (*bad)++;
        }
        return;
    }
    if (!S_ISDIR(st->st_mode) || depth > MOVED_DEPTH_MAX || !(d = opendir(path->ptr)))
        return;
    while ((e = readdir(d))) {
        struct stat sub;
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        roar_buf_truncate(path, len);
        if (roar_buf_putc(path, '/') < 0 || roar_buf_puts(path, e->d_name) < 0) {
            roar_error_clear();
            (*bad)++;
            break;
        }
        if (fstatat(dirfd(d), e->d_name, &sub, AT_SYMLINK_NOFOLLOW) == 0)
            add_tree(fs, path, &sub, depth + 1, bad);
    }
    roar_buf_truncate(path, len);
    closedir(d);
}

void roar_collector__add_moved(roar_fdstate *fs, uint64_t *bad)
{
    name_list names = {0};
    roar_buf path = ROAR_BUF_INIT;
    size_t i;

    if (roar_fdstate_renamed_names(fs, collect, &names) != 0) {
        roar_error_clear();
        (*bad)++; /* out of memory: what was collected is still listed */
    }
    for (i = 0; i < names.n; i++) {
        struct stat st;
        roar_buf_clear(&path);
        if (roar_buf_puts(&path, names.v[i]) < 0) {
            roar_error_clear();
            (*bad)++;
        } else if (lstat(path.ptr, &st) == 0) {
            add_tree(fs, &path, &st, 0, bad);
        }
        free(names.v[i]);
    }
    free(names.v);
    roar_buf_dispose(&path);
}
