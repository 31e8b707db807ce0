/* roar_buf implementation and the array-growth helper; see buf.h.
 * Growth is geometric (x1.5) and every size computation is overflow-checked. */
#include "util/buf.h"
#include "util/err.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char roar_buf__initbuf[1];

void roar_buf_init(roar_buf *buf)
{
    buf->ptr = roar_buf__initbuf;
    buf->size = 0;
    buf->asize = 0;
}

void roar_buf_dispose(roar_buf *buf)
{
    if (!buf)
        return;
    if (buf->asize)
        free(buf->ptr);
    roar_buf_init(buf);
}

int roar_buf_grow(roar_buf *buf, size_t extra)
{
    size_t want, alloc;
    char *p;

    if (extra > SIZE_MAX - buf->size - 1)
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    want = buf->size + extra + 1;
    if (want <= buf->asize)
        return 0;
    alloc = buf->asize ? buf->asize : 64;
    while (alloc < want)
        alloc = alloc > SIZE_MAX / 3 * 2 ? want : alloc + alloc / 2;
    p = realloc(buf->asize ? buf->ptr : NULL, alloc);
    if (!p)
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    if (!buf->asize)
        p[0] = '\0';
    buf->ptr = p;
    buf->asize = alloc;
    return 0;
}

int roar_buf_put(roar_buf *buf, const void *data, size_t len)
{
    int error;
    if (len == 0)
        return 0;
    if ((error = roar_buf_grow(buf, len)) < 0)
        return error;
    memmove(buf->ptr + buf->size, data, len);
    buf->size += len;
    buf->ptr[buf->size] = '\0';
    return 0;
}

int roar_buf_puts(roar_buf *buf, const char *str)
{
    return roar_buf_put(buf, str, strlen(str));
}

int roar_buf_putc(roar_buf *buf, char c)
{
    return roar_buf_put(buf, &c, 1);
}

int roar_buf_vprintf(roar_buf *buf, const char *fmt, va_list ap)
{
    va_list copy;
    int n, error;

    va_copy(copy, ap);
    n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0)
        return roar_error_set(ROAR_ERROR, "invalid format string");
    if ((error = roar_buf_grow(buf, (size_t)n)) < 0)
        return error;
    vsnprintf(buf->ptr + buf->size, (size_t)n + 1, fmt, ap);
    buf->size += (size_t)n;
    return 0;
}

int roar_buf_printf(roar_buf *buf, const char *fmt, ...)
{
    va_list ap;
    int error;
    va_start(ap, fmt);
    error = roar_buf_vprintf(buf, fmt, ap);
    va_end(ap);
    return error;
}

void roar_buf_clear(roar_buf *buf)
{
    roar_buf_truncate(buf, 0);
}

void roar_buf_truncate(roar_buf *buf, size_t len)
{
    if (len >= buf->size)
        return;
    buf->size = len;
    if (buf->asize)
        buf->ptr[len] = '\0';
}

char *roar_buf_detach(roar_buf *buf)
{
    char *out;
    if (!buf->asize)
        return strdup("");
    out = buf->ptr;
    roar_buf_init(buf);
    return out;
}

int roar__alloc_grow(void **ptr, size_t elem_size, size_t nr, size_t *alloc)
{
    size_t n;
    void *p;

    if (nr <= *alloc)
        return 0;
    n = *alloc ? *alloc : 8;
    while (n < nr)
        n = n > SIZE_MAX / 3 ? nr : n + n / 2 + 1;
    if (elem_size && n > SIZE_MAX / elem_size)
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    p = realloc(*ptr, n * elem_size);
    if (!p)
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    *ptr = p;
    *alloc = n;
    return 0;
}
