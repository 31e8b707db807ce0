/* The thread-local error message behind roar_error_set(); see err.h.
 * A fixed buffer: reporting an error must never itself need memory. */
#include "util/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char error_message[4096];
static _Thread_local int error_code;

/* Appends s to the NUL-terminated dst of capacity cap, truncating. */
static void append(char *dst, size_t cap, const char *s)
{
    size_t n = strlen(dst), m = strlen(s);
    if (n + 1 >= cap)
        return;
    if (m > cap - n - 1)
        m = cap - n - 1;
    memcpy(dst + n, s, m);
    dst[n + m] = '\0';
}

/* Formats aside, then copies: an argument may point into error_message itself, as in
 * roar_error_set(code, "line %d: %s", n, roar_error_last()). */
static void set_message(int errnum, const char *fmt, va_list ap)
{
    char msg[sizeof(error_message)];
    if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
        msg[0] = '\0';
    if (errnum) {
        append(msg, sizeof(msg), ": ");
        append(msg, sizeof(msg), strerror(errnum));
    }
    memcpy(error_message, msg, sizeof(msg));
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
    char msg[sizeof(error_message)];
    va_list ap;

    va_start(ap, fmt);
    if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
        msg[0] = '\0';
    va_end(ap);
    append(msg, sizeof(msg), ": ");
    append(msg, sizeof(msg), error_message[0] ? error_message : "unknown error");
    memcpy(error_message, msg, sizeof(msg));
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

static roar_notice_fn notice_handler;

void roar_notice_set_handler(roar_notice_fn fn)
{
    notice_handler = fn;
}

void roar_notice(const char *fmt, ...)
{
    char msg[sizeof(error_message)];
    va_list ap;

    if (!notice_handler)
        return;
    va_start(ap, fmt);
    if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
        msg[0] = '\0';
    va_end(ap);
    notice_handler(msg);
}
