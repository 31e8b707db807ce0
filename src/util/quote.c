/* Path C-quoting and shell argv quoting for the record format; see quote.h.
 * Parsers are strict on purpose: notes come from other people (SPEC §8). */
#include "util/quote.h"
#include "util/err.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

size_t roar_utf8_seq_len(const unsigned char *s, size_t len)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xbf;
    size_t n;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4;
    else
        return 0;
    if (len < n)
        return 0;
    /* The second byte's range is what excludes overlongs, surrogates and > U+10FFFF. */
    if (c == 0xe0)
        lo = 0xa0;
    else if (c == 0xed)
        hi = 0x9f;
    else if (c == 0xf0)
        lo = 0x90;
    else if (c == 0xf4)
        hi = 0x8f;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return n;
}

static bool is_control(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

static int put_octal(roar_buf *out, unsigned char c)
{
    char esc[4] = {'\\', (char)('0' + (c >> 6)), (char)('0' + ((c >> 3) & 7)),
                   (char)('0' + (c & 7))};
    return roar_buf_put(out, esc, 4);
}

/* Printable description of a byte for error messages. */
static const char *describe_byte(char tmp[16], unsigned char c)
{
    if (c > 0x20 && c < 0x7f) {
        tmp[0] = '\'';
        tmp[1] = (char)c;
        tmp[2] = '\'';
        tmp[3] = '\0';
    } else {
        static const char hex[] = "0123456789abcdef";
        memcpy(tmp, "byte 0x", 7);
        tmp[7] = hex[c >> 4];
        tmp[8] = hex[c & 15];
        tmp[9] = '\0';
    }
    return tmp;
}

/* ---- paths -------------------------------------------------------------- */

bool roar_quote_path_needed(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;

    if (len == 0 || u[0] == ' ' || u[len - 1] == ' ')
        return true;
    for (size_t i = 0; i < len;) {
        size_t n;
        if (is_control(u[i]) || u[i] == '"' || u[i] == '\\')
            return true;
        if (!(n = roar_utf8_seq_len(u + i, len - i)))
            return true;
        i += n;
    }
    return false;
}

int roar_quote_path(roar_buf *out, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t orig = out->size;
    int error = 0;

    if (!roar_quote_path_needed(s, len))
        return roar_buf_put(out, s, len);
    if ((error = roar_buf_putc(out, '"')) < 0)
        goto cleanup;
    for (size_t i = 0; i < len && !error;) {
        unsigned char c = u[i];
        size_t n;
        if (c == '\t')
            error = roar_buf_put(out, "\\t", 2);
        else if (c == '\n')
            error = roar_buf_put(out, "\\n", 2);
        else if (c == '"')
            error = roar_buf_put(out, "\\\"", 2);
        else if (c == '\\')
            error = roar_buf_put(out, "\\\\", 2);
        else if (is_control(c))
            error = put_octal(out, c);
        else if ((n = roar_utf8_seq_len(u + i, len - i)) > 0) {
            error = roar_buf_put(out, s + i, n);
            i += n;
            continue;
        } else
            error = put_octal(out, c);
        i++;
    }
    if (!error)
        error = roar_buf_putc(out, '"');
cleanup:
    if (error)
        roar_buf_truncate(out, orig);
    return error;
}

static int parse_quoted_path(roar_buf *out, const unsigned char *u, size_t len)
{
    char tmp[16];

    for (size_t i = 1; i < len;) {
        unsigned char c = u[i];
        size_t n;
        int error;

        if (c == '"') {
            if (i != len - 1)
                return roar_error_set(ROAR_EINVALID, "text after the closing quote");
            return 0;
        }
        if (c == '\\') {
            static const char simple_in[] = "abtnvfr\"\\", simple_out[] = "\a\b\t\n\v\f\r\"\\";
            const char *p;
            if (i + 1 >= len)
                return roar_error_set(ROAR_EINVALID, "missing closing quote");
            c = u[i + 1];
            if (c && (p = strchr(simple_in, c)) != NULL) {
                error = roar_buf_putc(out, simple_out[p - simple_in]);
                i += 2;
            } else if (c >= '0' && c <= '3' && i + 3 < len && u[i + 2] >= '0' && u[i + 2] <= '7' &&
                       u[i + 3] >= '0' && u[i + 3] <= '7') {
                unsigned v = (unsigned)(c - '0') * 64 + (unsigned)(u[i + 2] - '0') * 8 +
                             (unsigned)(u[i + 3] - '0');
                if (v == 0)
                    return roar_error_set(ROAR_EINVALID, "escaped NUL byte");
                error = roar_buf_putc(out, (char)v);
                i += 4;
            } else {
                return roar_error_set(ROAR_EINVALID, "invalid escape: \\ followed by %s",
                                      describe_byte(tmp, c));
            }
            if (error < 0)
                return error;
            continue;
        }
        if (is_control(c))
            return roar_error_set(ROAR_EINVALID, "unescaped control %s in quoted path",
                                  describe_byte(tmp, c));
        if (!(n = roar_utf8_seq_len(u + i, len - i)))
            return roar_error_set(ROAR_EINVALID, "invalid UTF-8 in quoted path");
        if ((error = roar_buf_put(out, u + i, n)) < 0)
            return error;
        i += n;
    }
    return roar_error_set(ROAR_EINVALID, "missing closing quote");
}

int roar_quote_path_parse(roar_buf *out, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t orig = out->size;
    char tmp[16];
    int error;

    if (len == 0)
        return roar_error_set(ROAR_EINVALID, "empty path");
    if (u[0] == '"') {
        if ((error = parse_quoted_path(out, u, len)) < 0)
            roar_buf_truncate(out, orig);
        return error;
    }
    if (u[0] == ' ' || u[len - 1] == ' ')
        return roar_error_set(ROAR_EINVALID, "unquoted path begins or ends with a space");
    for (size_t i = 0; i < len;) {
        size_t n;
        if (is_control(u[i]) || u[i] == '"' || u[i] == '\\')
            return roar_error_set(ROAR_EINVALID, "%s in unquoted path",
                                  describe_byte(tmp, u[i]));
        if (!(n = roar_utf8_seq_len(u + i, len - i)))
            return roar_error_set(ROAR_EINVALID, "invalid UTF-8 in unquoted path");
        i += n;
    }
    return roar_buf_put(out, s, len);
}

/* ---- argv elements ------------------------------------------------------ */

static bool is_bare(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           (c && strchr("_@%+=:,./-", c) != NULL);
}

static bool all_bare(const char *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!is_bare((unsigned char)s[i]))
            return false;
    return true;
}

/* NAME=... or NAME+=...: what a shell takes for an assignment in command position. */
static bool looks_like_assignment(const char *s, size_t len)
{
    size_t i = 0;
    if (len == 0 || !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
        return false;
    while (i < len && ((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
                       (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
        i++;
    if (i < len && s[i] == '+')
        i++;
    return i < len && s[i] == '=';
}

static bool needs_ansi(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        size_t n;
        if (is_control(u[i]) || !(n = roar_utf8_seq_len(u + i, len - i)))
            return true;
        i += n;
    }
    return false;
}

static int put_single_quoted(roar_buf *out, const char *s, size_t len)
{
    int error = roar_buf_putc(out, '\'');
    for (size_t i = 0; i < len && !error; i++)
        error = s[i] == '\'' ? roar_buf_put(out, "'\\''", 4) : roar_buf_putc(out, s[i]);
    return error ? error : roar_buf_putc(out, '\'');
}

static int put_ansi_quoted(roar_buf *out, const char *s, size_t len)
{
    static const char ctl_in[] = "\a\b\t\n\v\f\r", ctl_out[] = "abtnvfr";
    const unsigned char *u = (const unsigned char *)s;
    int error = roar_buf_put(out, "$'", 2);

    for (size_t i = 0; i < len && !error;) {
        unsigned char c = u[i];
        const char *p;
        size_t n;
        if (c == '\\' || c == '\'') {
            char esc[2] = {'\\', (char)c};
            error = roar_buf_put(out, esc, 2);
        } else if (c && (p = memchr(ctl_in, c, sizeof(ctl_in) - 1)) != NULL) {
            char esc[2] = {'\\', ctl_out[p - ctl_in]};
            error = roar_buf_put(out, esc, 2);
        } else if (is_control(c)) {
            error = put_octal(out, c);
        } else if ((n = roar_utf8_seq_len(u + i, len - i)) > 0) {
            error = roar_buf_put(out, s + i, n);
            i += n;
            continue;
        } else {
            error = put_octal(out, c);
        }
        i++;
    }
    return error ? error : roar_buf_putc(out, '\'');
}

static int quote_arg(roar_buf *out, const char *s, size_t len, bool command_position)
{
    size_t orig = out->size;
    int error;

    if (all_bare(s, len) && !(command_position && looks_like_assignment(s, len)))
        return roar_buf_put(out, s, len);
    if (needs_ansi(s, len))
        error = put_ansi_quoted(out, s, len);
    else
        error = put_single_quoted(out, s, len);
    if (error)
        roar_buf_truncate(out, orig);
    return error;
}

int roar_quote_arg(roar_buf *out, const char *s, size_t len)
{
    return quote_arg(out, s, len, false);
}

int roar_quote_argv(roar_buf *out, const char *const *argv, size_t argc)
{
    size_t orig = out->size;
    int error = 0;

    for (size_t i = 0; i < argc && !error; i++) {
        if (i)
            error = roar_buf_putc(out, ' ');
        if (!error)
            error = quote_arg(out, argv[i], strlen(argv[i]), i == 0);
    }
    if (error)
        roar_buf_truncate(out, orig);
    return error;
}

/* ---- splitting command lines -------------------------------------------- */

/* Checks that quoted text is NUL-free, control-free UTF-8, as the writer makes it. */
static int check_quoted_text(const unsigned char *u, size_t len, const char *what)
{
    char tmp[16];
    for (size_t i = 0; i < len;) {
        size_t n;
        if (is_control(u[i]))
            return roar_error_set(ROAR_EINVALID, "unescaped control %s inside %s",
                                  describe_byte(tmp, u[i]), what);
        if (!(n = roar_utf8_seq_len(u + i, len - i)))
            return roar_error_set(ROAR_EINVALID, "invalid UTF-8 inside %s", what);
        i += n;
    }
    return 0;
}

/* Parses the body of $'...' starting at s[*pos] (just after $'), up to and including
 * the closing quote. */
static int parse_ansi(roar_buf *out, const unsigned char *u, size_t len, size_t *pos)
{
    size_t i = *pos;
    int error = 0;

    while (i < len && !error) {
        unsigned char c = u[i];
        size_t n;
        if (c == '\'') {
            *pos = i + 1;
            return 0;
        }
        if (c == '\\') {
            static const char in[] = "\\'\"?abeEfnrtv", outc[] = "\\'\"?\a\b\033\033\f\n\r\t\v";
            const char *p;
            if (i + 1 >= len)
                break;
            c = u[i + 1];
            if (c && (p = strchr(in, c)) != NULL) {
                error = roar_buf_putc(out, outc[p - in]);
                i += 2;
            } else if (c >= '0' && c <= '7') {
                unsigned v = 0;
                size_t j = i + 1;
                while (j < len && j < i + 4 && u[j] >= '0' && u[j] <= '7')
                    v = v * 8 + (unsigned)(u[j++] - '0');
                if (v == 0)
                    return roar_error_set(ROAR_EINVALID, "escaped NUL byte in $'...'");
                if (v > 0377)
                    return roar_error_set(ROAR_EINVALID, "octal escape out of range in $'...'");
                error = roar_buf_putc(out, (char)v);
                i = j;
            } else {
                char tmp[16];
                return roar_error_set(ROAR_EINVALID, "unsupported escape \\ followed by %s in $'...'",
                                      describe_byte(tmp, c));
            }
            continue;
        }
        n = 0;
        while (i + n < len && u[i + n] != '\'' && u[i + n] != '\\')
            n++;
        if ((error = check_quoted_text(u + i, n, "$'...'")) < 0)
            return error;
        error = roar_buf_put(out, u + i, n);
        i += n;
    }
    return error ? error : roar_error_set(ROAR_EINVALID, "unterminated $'...' quote");
}

/* Parses one word starting at u[*pos] (not a space) into out; stops at a space or the
 * end. */
static int parse_word(roar_buf *out, const unsigned char *u, size_t len, size_t *pos)
{
    size_t i = *pos;
    int error = 0;
    char tmp[16];

    while (i < len && u[i] != ' ' && !error) {
        unsigned char c = u[i];
        if (c == '\'') {
            const unsigned char *close = memchr(u + i + 1, '\'', len - i - 1);
            size_t n;
            if (!close)
                return roar_error_set(ROAR_EINVALID, "unterminated single quote");
            n = (size_t)(close - (u + i + 1));
            if ((error = check_quoted_text(u + i + 1, n, "'...'")) < 0)
                return error;
            error = roar_buf_put(out, u + i + 1, n);
            i += n + 2;
        } else if (c == '$' && i + 1 < len && u[i + 1] == '\'') {
            i += 2;
            error = parse_ansi(out, u, len, &i);
        } else if (c == '\\') {
            /* The '\'' in 'a'\''b'; a shell takes any backslashed character literally. */
            if (i + 1 >= len)
                return roar_error_set(ROAR_EINVALID, "backslash at the end of the line");
            if (u[i + 1] < 0x20 || u[i + 1] > 0x7e)
                return roar_error_set(ROAR_EINVALID, "backslash followed by %s",
                                      describe_byte(tmp, u[i + 1]));
            error = roar_buf_putc(out, (char)u[i + 1]);
            i += 2;
        } else if (is_bare(c)) {
            size_t n = 0;
            while (i + n < len && is_bare(u[i + n]))
                n++;
            error = roar_buf_put(out, u + i, n);
            i += n;
        } else {
            return roar_error_set(ROAR_EINVALID, "unexpected %s outside quotes at column %zu",
                                  describe_byte(tmp, c), i + 1);
        }
    }
    *pos = i;
    return error;
}

void roar_quote_argv_free(char **argv, size_t argc)
{
    if (!argv)
        return;
    for (size_t i = 0; i < argc; i++)
        free(argv[i]);
    free(argv);
}

int roar_quote_argv_parse(char ***out, size_t *out_argc, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    roar_buf word = ROAR_BUF_INIT;
    char **argv = NULL;
    size_t argc = 0, alloc = 0, i = 0;
    int error = 0;

    *out = NULL;
    *out_argc = 0;
    for (;;) {
        while (i < len && u[i] == ' ')
            i++;
        if (i >= len)
            break;
        roar_buf_clear(&word);
        if ((error = parse_word(&word, u, len, &i)) < 0)
            goto cleanup;
        if (memchr(word.ptr, '\0', word.size)) {
            error = roar_error_set(ROAR_EINVALID, "NUL byte in argument %zu", argc + 1);
            goto cleanup;
        }
        /* +2: room for this word and the NULL terminator. */
        if ((error = ROAR_ALLOC_GROW(argv, argc + 2, alloc)) < 0)
            goto cleanup;
        if (!(argv[argc] = roar_buf_detach(&word))) {
            error = roar_error_set(ROAR_ENOMEM, "out of memory");
            goto cleanup;
        }
        argv[++argc] = NULL;
    }
    if (!argv && !(argv = calloc(1, sizeof(*argv)))) {
        error = roar_error_set(ROAR_ENOMEM, "out of memory");
        goto cleanup;
    }
    *out = argv;
    *out_argc = argc;
    argv = NULL;
cleanup:
    roar_quote_argv_free(argv, argc);
    roar_buf_dispose(&word);
    return error;
}

int roar_quote_arg_parse(roar_buf *out, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t orig = out->size, i = 0;
    int error;

    if (len == 0)
        return roar_error_set(ROAR_EINVALID, "empty value (an empty string is written '')");
    if (u[0] == ' ')
        return roar_error_set(ROAR_EINVALID, "value begins with a space");
    if ((error = parse_word(out, u, len, &i)) < 0)
        goto cleanup;
    if (i != len) {
        error = roar_error_set(ROAR_EINVALID, "more than one word");
        goto cleanup;
    }
    if (memchr(out->ptr + orig, '\0', out->size - orig))
        error = roar_error_set(ROAR_EINVALID, "NUL byte in value");
cleanup:
    if (error)
        roar_buf_truncate(out, orig);
    return error;
}
