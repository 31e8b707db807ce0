/* roar_buf: the one growable byte string (git's strbuf, libgit2's git_buf).
 * `ptr` is never NULL and always NUL-terminated, so it can be used as a C string. */
#ifndef ROAR_UTIL_BUF_H
#define ROAR_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct {
    char *ptr;    /* data, NUL-terminated; points at a shared "" until first growth */
    size_t size;  /* bytes used, not counting the terminating NUL */
    size_t asize; /* bytes allocated; 0 while ptr is the shared "" */
} roar_buf;

extern char roar_buf__initbuf[];
#define ROAR_BUF_INIT {roar_buf__initbuf, 0, 0}

void roar_buf_init(roar_buf *buf);

/* Frees the buffer's memory and leaves it as ROAR_BUF_INIT. NULL-safe. */
void roar_buf_dispose(roar_buf *buf);

/* Ensures room for `extra` more bytes plus the NUL. ROAR_ENOMEM on failure. */
int roar_buf_grow(roar_buf *buf, size_t extra);

int roar_buf_put(roar_buf *buf, const void *data, size_t len);
int roar_buf_puts(roar_buf *buf, const char *str);
int roar_buf_putc(roar_buf *buf, char c);
int roar_buf_printf(roar_buf *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int roar_buf_vprintf(roar_buf *buf, const char *fmt, va_list ap);

/* Keeps the memory; size becomes 0 (or `len`, which must be <= size). */
void roar_buf_clear(roar_buf *buf);
void roar_buf_truncate(roar_buf *buf, size_t len);

/* Hands the string to the caller (who frees it with free()); buf is left empty.
 * Returns a malloc'd "" for an empty buffer, NULL only on allocation failure. */
char *roar_buf_detach(roar_buf *buf);

/* ROAR_ALLOC_GROW(ptr, nr, alloc): makes room for `nr` elements in the array `ptr`
 * whose capacity is `alloc`, growing by half again. Evaluates to 0 or ROAR_ENOMEM. */
int roar__alloc_grow(void **ptr, size_t elem_size, size_t nr, size_t *alloc);
#define ROAR_ALLOC_GROW(ptr, nr, alloc) \
    roar__alloc_grow((void **)&(ptr), sizeof(*(ptr)), (nr), &(alloc))

#endif
