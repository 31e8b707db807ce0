/* Glob matching with git's wildmatch semantics, the one matcher behind roar.exclude,
 * roar.include and .roarignore (docs/filters.md). Patterns and texts are raw bytes. */
#ifndef ROAR_UTIL_WILDMATCH_H
#define ROAR_UTIL_WILDMATCH_H

#include <stdbool.h>

/* Flags for roar_wildmatch. */
enum {
    /* `*`, `?` and `[...]` never match `/`; `**` matches across `/` only as a whole
     * component: a leading `**` + `/`, `/` + `**` + `/` (zero or more directories) and a
     * trailing `/` + `**`. Any other `**` is a plain `*`. Without this flag every wildcard
     * matches `/` too (fnmatch without FNM_PATHNAME). */
    ROAR_WM_PATHNAME = 1 << 0,
    /* ASCII letters match regardless of case. */
    ROAR_WM_CASEFOLD = 1 << 1,
};

/* Whether the whole of `text` matches the whole of `pattern`. Besides the wildcards:
 * `\x` matches x literally; `[...]` is a set with ranges (`a-z`), negation (`[!...]` or
 * `[^...]`), a leading `]` taken literally, backslash escapes and POSIX classes
 * (`[:alpha:]`, `[:digit:]`, ... the twelve of <ctype.h>). A malformed pattern (a
 * trailing backslash, an unclosed `[`, an unknown class) matches nothing. Both
 * strings are borrowed NUL-terminated C strings. */
bool roar_wildmatch(const char *pattern, const char *text, unsigned flags);

#endif
