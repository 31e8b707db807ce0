/* JSON string literals. Output goes to scripts: it must parse whatever the bytes are,
 * so invalid UTF-8 becomes U+FFFD here and callers add a hex field to stay exact. */
#include "util/json.h"

#include <string.h>

#include "util/escape.h"
#include "util/quote.h"

/* The code point of a valid UTF-8 sequence of n bytes. */
static unsigned utf8_code_point(const unsigned char *p, size_t n)
{
    static const unsigned char lead_mask[] = {0, 0x7f, 0x1f, 0x0f, 0x07};
    unsigned cp = p[0] & lead_mask[n];
    for (size_t k = 1; k < n; k++)
        cp = (cp << 6) | (p[k] & 0x3f);
    return cp;
}

int roar_json_string(roar_buf *out, const char *s, size_t len, bool *lossless)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, n;
    int error;

    if (lossless)
        *lossless = true;
    if ((error = roar_buf_putc(out, '"')) < 0)
        return error;
    while (i < len) {
        unsigned char c = p[i];
        switch (c) {
        case '"':
            error = roar_buf_puts(out, "\\\"");
            break;
        case '\\':
            error = roar_buf_puts(out, "\\\\");
            break;
        case '\b':
            error = roar_buf_puts(out, "\\b");
            break;
        case '\f':
            error = roar_buf_puts(out, "\\f");
            break;
        case '\n':
            error = roar_buf_puts(out, "\\n");
            break;
        case '\r':
            error = roar_buf_puts(out, "\\r");
            break;
        case '\t':
            error = roar_buf_puts(out, "\\t");
            break;
        default:
            if (c < 0x20) {
                error = roar_buf_printf(out, "\\u%04x", c);
            } else if ((n = roar_utf8_seq_len(p + i, len - i)) == 0) {
                error = roar_buf_puts(out, "\xef\xbf\xbd"); /* U+FFFD */
                if (lossless)
                    *lossless = false;
            } else {
                bool unsafe;
                roar_escape_next(s + i, n, &unsafe);
                /* DEL, C1 and bidi controls are valid JSON raw, but would reach a
                 * terminal that shows the JSON (util/escape.h). */
                if (unsafe)
                    error = roar_buf_printf(out, "\\u%04x", utf8_code_point(p + i, n));
                else
                    error = roar_buf_put(out, p + i, n);
                i += n - 1;
            }
        }
        if (error < 0)
            return error;
        i++;
    }
    return roar_buf_putc(out, '"');
}

int roar_json_cstr(roar_buf *out, const char *s_or_null)
{
    if (!s_or_null)
        return roar_buf_puts(out, "null");
    return roar_json_string(out, s_or_null, strlen(s_or_null), NULL);
}

int roar_json_hex(roar_buf *out, const char *s, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;
    int error;
    if ((error = roar_buf_putc(out, '"')) < 0)
        return error;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char pair[2] = {digits[c >> 4], digits[c & 15]};
        if ((error = roar_buf_put(out, pair, 2)) < 0)
            return error;
    }
    return roar_buf_putc(out, '"');
}
