/* The thread-local error message behind roar_error_set(); see err.h.
 * A fixed buffer: reporting an error must never itself need memory. */
#include "util/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char error_message[4096];
static _Thread_local int error_code;

static void set_message(int errnum, const char *fmt, va_list ap)
{
    int n = vsnprintf(error_message, sizeof(error_message), fmt, ap);
    if (errnum && n >= 0 && (size_t)n < sizeof(error_message))
        snprintf(error_message + n, sizeof(error_message) - (size_t)n, ": %s", strerror(errnum));
}

int roar_error_set(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_message(0, fmt, ap);
    va_end(ap);
    error_code = code;
    return code;
}

int roar_error_set_errno(int code, const char *fmt, ...)
{
    int errnum = errno;
    va_list ap;
    va_start(ap, fmt);
    set_message(errnum, fmt, ap);
    va_end(ap);
    error_code = code;
    return code;
}

void roar_error_prefix(const char *fmt, ...)
{
    char old[sizeof(error_message)];
    va_list ap;
    int n;

    memcpy(old, error_message, sizeof(old));
    va_start(ap, fmt);
    n = vsnprintf(error_message, sizeof(error_message), fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof(error_message))
        snprintf(error_message + n, sizeof(error_message) - (size_t)n, ": %s",
                 old[0] ? old : "unknown error");
}

const char *roar_error_last(void)
{
    return error_message[0] ? error_message : "unknown error";
}

int roar_error_last_code(void)
{
    return error_code;
}

void roar_error_clear(void)
{
    error_message[0] = '\0';
    error_code = ROAR_OK;
}
