/* Arrays of owned C strings (char **, a count and an allocation size), as listings of
 * refs and directories build them. */
#ifndef ROAR_UTIL_STRLIST_H
#define ROAR_UTIL_STRLIST_H

#include <stddef.h>

/* Appends a copy of `s` to *v (count and alloc as ROAR_ALLOC_GROW keeps them).
 * ROAR_ENOMEM, with nothing appended, when memory runs out. */
int roar_strlist_push(char ***v, size_t *count, size_t *alloc, const char *s);

/* Frees each of the `count` strings and the array. NULL-safe. */
void roar_strlist_free(char **v, size_t count);

/* A qsort comparator for an array of `char *` (strcmp order). */
int roar_strlist_cmp(const void *a, const void *b);

#endif
