/* Error reporting for the whole code base (libgit2 style): functions return an int,
 * 0 on success or a negative ROAR_E* code, and set one message that the CLI prints. */
#ifndef ROAR_UTIL_ERR_H
#define ROAR_UTIL_ERR_H

enum {
    ROAR_OK = 0,
    ROAR_ERROR = -1,      /* generic failure; the message says what */
    ROAR_ENOTFOUND = -3,  /* the thing asked for does not exist */
    ROAR_EEXISTS = -4,    /* the thing to create already exists */
    ROAR_EAMBIGUOUS = -5, /* a name matches more than one thing */
    ROAR_EINVALID = -6,   /* malformed input (a note, a record, an argument) */
    ROAR_ELIMIT = -7,     /* input over a documented size limit */
    ROAR_ENOMEM = -8,     /* allocation failed */
    ROAR_EUNSUPPORTED = -9, /* a repository or platform feature we cannot handle */
    ROAR_ECHANGED = -10,  /* a file changed while it was being read */
};

/* Sets the thread's error message (printf-style) and returns `code`, so that
 * `return roar_error_set(ROAR_EINVALID, "...")` reads naturally. */
int roar_error_set(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* As roar_error_set, with ": <strerror(errno)>" appended (errno read on entry). */
int roar_error_set_errno(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prefixes the current message with "<prefix>: " (printf-style), keeping the rest. */
void roar_error_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The last message set on this thread, or "unknown error". Borrowed: valid until
 * the next roar_error_* call on this thread. */
const char *roar_error_last(void);

/* The code passed with the last message (ROAR_OK when none). */
int roar_error_last_code(void);

void roar_error_clear(void);

/* Notices: something the library repaired on its own that the user should hear about
 * (a stale lock removed, a stranded record recovered). Only the CLI prints, so the
 * library hands the message to the handler the CLI installs; without one (unit tests,
 * helpers) it is dropped. The message is borrowed for the call. */
typedef void (*roar_notice_fn)(const char *message);
void roar_notice_set_handler(roar_notice_fn fn);
void roar_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
