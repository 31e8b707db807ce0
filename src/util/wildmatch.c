/* git's wildmatch algorithm, written afresh: a recursive matcher whose two abort codes
 * keep backtracking polynomial (a failed `*` never retries what an outer `*` will). */
#include "util/wildmatch.h"

#include <stddef.h>
#include <string.h>

typedef unsigned char uchar;

enum {
    WM_MATCH = 0,
    WM_NOMATCH = 1,
    /* No later start position of any enclosing `*` can match either: text ran out. */
    WM_ABORT_ALL = -1,
    /* A `*` that cannot cross `/` met one: only an enclosing `**` may go on trying. */
    WM_ABORT_TO_STARSTAR = -2,
};

/* ASCII-only classification, so a locale can never change what a pattern means. */
static bool is_upper(uchar c)
{
    return c >= 'A' && c <= 'Z';
}

static bool is_lower(uchar c)
{
    return c >= 'a' && c <= 'z';
}

static bool is_digit(uchar c)
{
    return c >= '0' && c <= '9';
}

static uchar other_case(uchar c)
{
    if (is_upper(c))
        return (uchar)(c - 'A' + 'a');
    if (is_lower(c))
        return (uchar)(c - 'a' + 'A');
    return c;
}

/* 1 when c is in the named class, 0 when not, -1 for an unknown class name. */
static int in_class(const uchar *name, size_t len, uchar c)
{
#define CLASS(str) (len == sizeof(str) - 1 && !memcmp(name, str, len))
    bool alpha = is_upper(c) || is_lower(c);
    bool print = c >= 0x20 && c < 0x7f;
    if (CLASS("alnum"))
        return alpha || is_digit(c);
    if (CLASS("alpha"))
        return alpha;
    if (CLASS("blank"))
        return c == ' ' || c == '\t';
    if (CLASS("cntrl"))
        return c < 0x20 || c == 0x7f;
    if (CLASS("digit"))
        return is_digit(c);
    if (CLASS("graph"))
        return print && c != ' ';
    if (CLASS("lower"))
        return is_lower(c);
    if (CLASS("print"))
        return print;
    if (CLASS("punct"))
        return print && c != ' ' && !alpha && !is_digit(c);
    if (CLASS("space"))
        return c == ' ' || (c >= '\t' && c <= '\r');
    if (CLASS("upper"))
        return is_upper(c);
    if (CLASS("xdigit"))
        return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    return -1;
#undef CLASS
}

/* Matches the set starting just after its `[` at *pp against tc[0] or tc[1] (the text
 * byte and, under CASEFOLD, its other case). Leaves *pp on the closing `]`. Returns 1
 * matched, 0 not, WM_ABORT_ALL for a malformed set. */
static int match_set(const uchar **pp, const uchar tc[2])
{
    const uchar *p = *pp;
    uchar p_ch = *p, prev_ch = 0;
    bool negated, matched = false;
    int k, r;

    if (p_ch == '^')
        p_ch = '!';
    negated = p_ch == '!';
    if (negated)
        p_ch = *++p;
    /* The first member is taken before looking for `]`, so `[]a]` holds `]`. */
    do {
        if (!p_ch)
            return WM_ABORT_ALL;
        if (p_ch == '\\') {
            p_ch = *++p;
            if (!p_ch)
                return WM_ABORT_ALL;
            for (k = 0; k < 2; k++)
                matched |= tc[k] == p_ch;
        } else if (p_ch == '-' && prev_ch && p[1] && p[1] != ']') {
            p_ch = *++p;
            if (p_ch == '\\') {
                p_ch = *++p;
                if (!p_ch)
                    return WM_ABORT_ALL;
            }
            for (k = 0; k < 2; k++)
                matched |= tc[k] >= prev_ch && tc[k] <= p_ch;
            p_ch = 0; /* a range's end cannot start another range */
        } else if (p_ch == '[' && p[1] == ':') {
            const uchar *s = p += 2;
            while ((p_ch = *p) && p_ch != ']')
                p++;
            if (!p_ch)
                return WM_ABORT_ALL;
            if (p == s || p[-1] != ':') {
                /* No `:]` before the `]`: the `[` is an ordinary member. */
                p = s - 2;
                p_ch = '[';
                for (k = 0; k < 2; k++)
                    matched |= tc[k] == '[';
                continue;
            }
            for (k = 0; k < 2; k++) {
                if ((r = in_class(s, (size_t)(p - s - 1), tc[k])) < 0)
                    return WM_ABORT_ALL;
                matched |= r;
            }
            p_ch = 0;
        } else {
            for (k = 0; k < 2; k++)
                matched |= tc[k] == p_ch;
        }
    } while (prev_ch = p_ch, (p_ch = *++p) != ']');
    *pp = p;
    return matched != negated;
}

static int dowild(const uchar *p, const uchar *text, const uchar *pattern_start, unsigned flags)
{
    bool pathname = flags & ROAR_WM_PATHNAME, casefold = flags & ROAR_WM_CASEFOLD;
    uchar p_ch;

    for (; (p_ch = *p) != '\0'; text++, p++) {
        uchar t_ch = *text;
        uchar tc[2];
        bool match_slash;
        int r;

        if (t_ch == '\0' && p_ch != '*')
            return WM_ABORT_ALL;
        tc[0] = t_ch;
        tc[1] = casefold ? other_case(t_ch) : t_ch;

        switch (p_ch) {
        case '\\':
            p_ch = *++p;
            if (!p_ch)
                return WM_ABORT_ALL; /* a trailing backslash is malformed */
            if (tc[0] != p_ch && tc[1] != p_ch)
                return WM_NOMATCH;
            continue;
        case '?':
            if (pathname && t_ch == '/')
                return WM_NOMATCH;
            continue;
        case '[':
            p++;
            if ((r = match_set(&p, tc)) < 0)
                return r;
            if (!r || (pathname && t_ch == '/'))
                return WM_NOMATCH;
            continue;
        case '*':
            if (*++p == '*') {
                const uchar *prev_p = p - 2;
                while (*++p == '*')
                    ;
                if (!pathname) {
                    match_slash = true;
                } else if ((prev_p < pattern_start || *prev_p == '/') &&
                           (*p == '\0' || *p == '/' || (p[0] == '\\' && p[1] == '/'))) {
                    /* A whole double-star component. Followed by a slash, it may
                     * also match zero directories ("a/" "**" "/b" matches "a/b"). */
                    if (p[0] == '/' && dowild(p + 1, text, pattern_start, flags) == WM_MATCH)
                        return WM_MATCH;
                    match_slash = true;
                } else {
                    match_slash = false; /* `**` inside a component is a `*` */
                }
            } else {
                match_slash = !pathname;
            }
            if (*p == '\0') {
                /* A trailing star takes the rest, but a `*` stops at a `/`. */
                if (!match_slash && strchr((const char *)text, '/'))
                    return WM_ABORT_TO_STARSTAR;
                return WM_MATCH;
            }
            if (!match_slash && *p == '/') {
                /* A star then a slash: the star ends at the next slash of the
                 * text; the loop consumes both slashes. */
                const char *slash = strchr((const char *)text, '/');
                if (!slash)
                    return WM_NOMATCH;
                text = (const uchar *)slash;
                break;
            }
            for (;;) {
                if (t_ch == '\0')
                    break;
                if ((r = dowild(p, text, pattern_start, flags)) != WM_NOMATCH) {
                    if (!match_slash || r != WM_ABORT_TO_STARSTAR)
                        return r;
                } else if (!match_slash && t_ch == '/') {
                    return WM_ABORT_TO_STARSTAR;
                }
                t_ch = *++text;
            }
            return WM_ABORT_ALL;
        default:
            if (tc[0] != p_ch && tc[1] != p_ch)
                return WM_NOMATCH;
            continue;
        }
    }
    return *text ? WM_NOMATCH : WM_MATCH;
}

bool roar_wildmatch(const char *pattern, const char *text, unsigned flags)
{
    const uchar *p = (const uchar *)pattern;
    return dowild(p, (const uchar *)text, p, flags) == WM_MATCH;
}
