/* Lexical path helpers: normal form and containment of absolute paths, by their bytes
 * alone (no system call). */
#include "util/pathlex.h"

#include <string.h>

#include "util/err.h"

int roar_pathlex_normalise(roar_buf *out, const char *abs_path)
{
    const char *p = abs_path;
    size_t base = out->size;
    int error;

    if (abs_path[0] != '/')
        return roar_error_set(ROAR_EINVALID, "path is not absolute: '%s'", abs_path);
    if ((error = roar_buf_putc(out, '/')) < 0)
        return error;
    while (*p) {
        const char *comp;
        size_t len;
        while (*p == '/')
            p++;
        comp = p;
        while (*p && *p != '/')
            p++;
        len = (size_t)(p - comp);
        if (len == 0 || (len == 1 && comp[0] == '.'))
            continue;
        if (len == 2 && comp[0] == '.' && comp[1] == '.') {
            /* Drop the last component; `/..` stays `/`. */
            size_t s = out->size;
            while (s > base + 1 && out->ptr[s - 1] != '/')
                s--;
            roar_buf_truncate(out, s > base + 1 ? s - 1 : base + 1);
            continue;
        }
        if (out->size > base + 1 && (error = roar_buf_putc(out, '/')) < 0)
            return error;
        if ((error = roar_buf_put(out, comp, len)) < 0)
            return error;
    }
    return 0;
}

const char *roar_pathlex_below_n(const char *path, const char *dir, size_t len)
{
    if (len == 1 && dir[0] == '/')
        return path + 1;
    if (strncmp(path, dir, len) != 0)
        return NULL;
    if (path[len] == '\0')
        return path + len;
    if (path[len] == '/')
        return path + len + 1;
    return NULL;
}

const char *roar_pathlex_below(const char *path, const char *dir)
{
    return roar_pathlex_below_n(path, dir, strlen(dir));
}
