/* Arrays of owned C strings (strlist.h). */
#include "util/strlist.h"

#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/err.h"

int roar_strlist_push(char ***v, size_t *count, size_t *alloc, const char *s)
{
    char *copy = strdup(s);
    if (!copy || ROAR_ALLOC_GROW(*v, *count + 1, *alloc) < 0) {
        free(copy);
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    }
    (*v)[(*count)++] = copy;
    return 0;
}

void roar_strlist_free(char **v, size_t count)
{
    for (size_t i = 0; v && i < count; i++)
        free(v[i]);
    free(v);
}

int roar_strlist_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}
