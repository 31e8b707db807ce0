/* Printing untrusted strings for a terminal, dot, Mermaid and Markdown (escape.h): one
 * notion of "unsafe" and one visible form of it, `\ooo`, shared by every target. */
#include "util/escape.h"

#include <string.h>

#include "util/quote.h"

/* The length of the character at u[0] (1 for a byte that is not valid UTF-8), and in
 * *unsafe whether escape.h counts it as unsafe. */
static size_t next_char(const unsigned char *u, size_t len, bool *unsafe)
{
    size_t n = roar_utf8_seq_len(u, len);
    unsigned cp;

    if (n == 0) {
        *unsafe = true;
        return 1;
    }
    if (n == 1) {
        *unsafe = u[0] < 0x20 || u[0] == 0x7f;
        return 1;
    }
    if (n == 2) {
        cp = ((unsigned)(u[0] & 0x1f) << 6) | (u[1] & 0x3f);
        *unsafe = (cp >= 0x80 && cp <= 0x9f) || cp == 0x61c;
        return 2;
    }
    if (n == 3) {
        cp = ((unsigned)(u[0] & 0x0f) << 12) | ((unsigned)(u[1] & 0x3f) << 6) | (u[2] & 0x3f);
        *unsafe = cp == 0x200e || cp == 0x200f || (cp >= 0x2028 && cp <= 0x2029) ||
                  (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
        return 3;
    }
    *unsafe = false;
    return n;
}

static int put_octal(roar_buf *out, unsigned char c, bool double_backslash)
{
    char esc[5] = {'\\', '\\', (char)('0' + (c >> 6)), (char)('0' + ((c >> 3) & 7)),
                   (char)('0' + (c & 7))};
    return double_backslash ? roar_buf_put(out, esc, 5) : roar_buf_put(out, esc + 1, 4);
}

/* Each byte of the n-byte character at u as `\ooo` (or `\\ooo`). */
static int put_octals(roar_buf *out, const unsigned char *u, size_t n, bool double_backslash)
{
    int error = 0;
    for (size_t i = 0; i < n && !error; i++)
        error = put_octal(out, u[i], double_backslash);
    return error;
}

size_t roar_escape_next(const char *s, size_t len, bool *unsafe)
{
    return next_char((const unsigned char *)s, len, unsafe);
}

bool roar_escape_unsafe(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    bool unsafe;
    for (size_t i = 0; i < len;) {
        i += next_char(u + i, len - i, &unsafe);
        if (unsafe)
            return true;
    }
    return false;
}

/* ---- terminal ------------------------------------------------------------------- */

/* Double-quoted: `\t \n \" \\`, `\ooo` for every other unsafe byte (roar_quote_path's
 * escapes, extended to the unsafe UTF-8 characters). */
static int put_c_quoted(roar_buf *out, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    int error = roar_buf_putc(out, '"');

    for (size_t i = 0; i < len && !error;) {
        bool unsafe;
        size_t n = next_char(u + i, len - i, &unsafe);
        if (u[i] == '\t')
            error = roar_buf_put(out, "\\t", 2);
        else if (u[i] == '\n')
            error = roar_buf_put(out, "\\n", 2);
        else if (u[i] == '"' || u[i] == '\\')
            error = roar_buf_put(out, u[i] == '"' ? "\\\"" : "\\\\", 2);
        else if (unsafe)
            error = put_octals(out, u + i, n, false);
        else
            error = roar_buf_put(out, s + i, n);
        i += n;
    }
    return error ? error : roar_buf_putc(out, '"');
}

/* What was appended since `orig` stays only when error is 0. */
static int all_or_nothing(roar_buf *out, size_t orig, int error)
{
    if (error)
        roar_buf_truncate(out, orig);
    return error;
}

int roar_escape_term(roar_buf *out, const char *s, size_t len)
{
    size_t orig = out->size;
    if ((len == 0 || s[0] != '"') && !roar_escape_unsafe(s, len))
        return roar_buf_put(out, s, len);
    return all_or_nothing(out, orig, put_c_quoted(out, s, len));
}

int roar_escape_term_cstr(roar_buf *out, const char *s)
{
    return roar_escape_term(out, s, strlen(s));
}

int roar_escape_path(roar_buf *out, const char *s, size_t len)
{
    size_t orig = out->size;
    if (!roar_escape_unsafe(s, len))
        return roar_quote_path(out, s, len);
    return all_or_nothing(out, orig, put_c_quoted(out, s, len));
}

/* $'...' as roar_quote_arg writes it, with unsafe UTF-8 characters as `\ooo` too. */
static int put_ansi_quoted(roar_buf *out, const char *s, size_t len)
{
    static const char ctl_in[] = "\a\b\t\n\v\f\r", ctl_out[] = "abtnvfr";
    const unsigned char *u = (const unsigned char *)s;
    int error = roar_buf_put(out, "$'", 2);

    for (size_t i = 0; i < len && !error;) {
        bool unsafe;
        size_t n = next_char(u + i, len - i, &unsafe);
        const char *p;
        if (u[i] == '\\' || u[i] == '\'') {
            char esc[2] = {'\\', (char)u[i]};
            error = roar_buf_put(out, esc, 2);
        } else if (u[i] && (p = memchr(ctl_in, u[i], sizeof(ctl_in) - 1)) != NULL) {
            char esc[2] = {'\\', ctl_out[p - ctl_in]};
            error = roar_buf_put(out, esc, 2);
        } else if (unsafe) {
            error = put_octals(out, u + i, n, false);
        } else {
            error = roar_buf_put(out, s + i, n);
        }
        i += n;
    }
    return error ? error : roar_buf_putc(out, '\'');
}

static int escape_arg(roar_buf *out, const char *s, size_t len, bool command_position)
{
    size_t orig = out->size;
    if (roar_escape_unsafe(s, len))
        return all_or_nothing(out, orig, put_ansi_quoted(out, s, len));
    if (command_position)
        return roar_quote_argv(out, &s, 1);
    return roar_quote_arg(out, s, len);
}

int roar_escape_arg(roar_buf *out, const char *s, size_t len)
{
    return escape_arg(out, s, len, false);
}

int roar_escape_argv(roar_buf *out, const char *const *argv, size_t argc)
{
    size_t orig = out->size;
    int error = 0;

    for (size_t i = 0; i < argc && !error; i++) {
        if (i)
            error = roar_buf_putc(out, ' ');
        if (!error)
            error = escape_arg(out, argv[i], strlen(argv[i]), i == 0);
    }
    return all_or_nothing(out, orig, error);
}

/* ---- Graphviz dot ----------------------------------------------------------------- */

int roar_escape_dot(roar_buf *out, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t orig = out->size;
    int error = 0;

    for (size_t i = 0; i < len && !error;) {
        bool unsafe;
        size_t n = next_char(u + i, len - i, &unsafe);
        if (u[i] == '"' || u[i] == '\\')
            error = roar_buf_put(out, u[i] == '"' ? "\\\"" : "\\\\", 2);
        else if (u[i] == '\n')
            error = roar_buf_put(out, "\\n", 2);
        else if (unsafe)
            error = put_octals(out, u + i, n, true);
        else
            error = roar_buf_put(out, s + i, n);
        i += n;
    }
    return all_or_nothing(out, orig, error);
}

/* ---- Mermaid ---------------------------------------------------------------------- */

int roar_escape_mermaid(roar_buf *out, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t orig = out->size;
    int error = 0;

    for (size_t i = 0; i < len && !error;) {
        bool unsafe;
        size_t n = next_char(u + i, len - i, &unsafe);
        if (u[i] == '\n')
            error = roar_buf_puts(out, "<br/>");
        else if (unsafe)
            error = put_octals(out, u + i, n, false);
        else if (u[i] && strchr("\"#&<>`[](){}|", u[i]))
            error = roar_buf_printf(out, "#%d;", u[i]);
        else
            error = roar_buf_put(out, s + i, n);
        i += n;
    }
    return all_or_nothing(out, orig, error);
}

/* ---- Markdown --------------------------------------------------------------------- */

int roar_escape_md(roar_buf *out, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t orig = out->size;
    int error = 0;

    for (size_t i = 0; i < len && !error;) {
        bool unsafe;
        size_t n = next_char(u + i, len - i, &unsafe);
        if (unsafe)
            error = put_octals(out, u + i, n, true);
        else if (u[i] == '<')
            error = roar_buf_puts(out, "&lt;");
        else if (u[i] == '>')
            error = roar_buf_puts(out, "&gt;");
        else if (u[i] == '&')
            error = roar_buf_puts(out, "&amp;");
        else if (u[i] == ':')
            error = roar_buf_puts(out, "&#58;");
        else if (u[i] == '@')
            error = roar_buf_puts(out, "&#64;");
        else if (u[i] && strchr("\\`*_{}[]()#+-.!|~^$=", u[i])) {
            char esc[2] = {'\\', (char)u[i]};
            error = roar_buf_put(out, esc, 2);
        } else
            error = roar_buf_put(out, s + i, n);
        i += n;
    }
    return all_or_nothing(out, orig, error);
}

int roar_escape_md_code(roar_buf *out, const char *s, size_t len, bool in_table)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t orig = out->size, run = 0, longest = 0, k;
    bool pad;
    int error = 0;

    if (len == 0)
        return roar_buf_puts(out, "` `");
    for (size_t i = 0; i < len; i++) {
        run = s[i] == '`' ? run + 1 : 0;
        if (run > longest)
            longest = run;
    }
    pad = s[0] == '`' || s[len - 1] == '`' || s[0] == ' ' || s[len - 1] == ' ';
    for (k = 0; k <= longest && !error; k++)
        error = roar_buf_putc(out, '`');
    if (!error && pad)
        error = roar_buf_putc(out, ' ');
    for (size_t i = 0; i < len && !error;) {
        bool unsafe;
        size_t n = next_char(u + i, len - i, &unsafe);
        if (unsafe)
            error = put_octals(out, u + i, n, false);
        else if (in_table && u[i] == '|')
            /* GitHub splits cells before it reads code spans: `\|` keeps the pipe in;
             * after a backslash that pair would not form, so show its code. */
            error =
                i && s[i - 1] == '\\' ? put_octal(out, '|', false) : roar_buf_put(out, "\\|", 2);
        else
            error = roar_buf_put(out, s + i, n);
        i += n;
    }
    if (!error && pad)
        error = roar_buf_putc(out, ' ');
    for (k = 0; k <= longest && !error; k++)
        error = roar_buf_putc(out, '`');
    return all_or_nothing(out, orig, error);
}

int roar_escape_md_code_cstr(roar_buf *out, const char *s, bool in_table)
{
    return roar_escape_md_code(out, s, strlen(s), in_table);
}
