/* Secret redaction (SPEC §8). Deliberately pattern-based and conservative: a
 * recorded command that loses a secret is still useful; a leaked secret is not. */
#include "util/redact.h"

#include <stddef.h>
#include <string.h>

static const char *const secret_words[] = {"TOKEN", "SECRET", "PASSWORD", "KEY"};

static char upper(char c)
{
    return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
}

/* Case-insensitive search of an upper-case needle in s[0..len). */
static bool contains_word(const char *s, size_t len, const char *word)
{
    size_t wlen = strlen(word), i, j;
    for (i = 0; i + wlen <= len; i++) {
        for (j = 0; j < wlen && upper(s[i + j]) == word[j]; j++)
            ;
        if (j == wlen)
            return true;
    }
    return false;
}

static bool secret_name(const char *name, size_t len)
{
    size_t i;
    for (i = 0; i < sizeof(secret_words) / sizeof(secret_words[0]); i++)
        if (contains_word(name, len, secret_words[i]))
            return true;
    return false;
}

bool roar_redact_env_name(const char *name)
{
    return name && secret_name(name, strlen(name));
}

static bool option_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

/* Length of the `NAME=` prefix when arg is a secret-named assignment, else 0. */
static size_t secret_assignment(const char *arg)
{
    const char *name = arg, *eq = strchr(arg, '='), *p;
    if (!eq)
        return 0;
    if (name[0] == '-')
        name += name[1] == '-' ? 2 : 1;
    if (eq == name)
        return 0;
    for (p = name; p < eq; p++)
        if (!option_char(*p))
            return 0;
    if (!secret_name(name, (size_t)(eq - name)))
        return 0;
    return (size_t)(eq - arg) + 1;
}

/* Finds the next URL password in s: sets *pw and *pw_len to the bytes between the
 * userinfo's first ':' and the authority's last '@'. False when there is none. */
static bool next_url_password(const char *s, const char **pw, size_t *pw_len)
{
    const char *sep;
    while ((sep = strstr(s, "://")) != NULL) {
        const char *auth = sep + 3, *end = auth, *at = NULL, *colon;
        while (*end && *end != '/' && *end != '?' && *end != '#')
            end++;
        for (colon = auth; colon < end; colon++)
            if (*colon == '@')
                at = colon;
        if (at) {
            for (colon = auth; colon < at && *colon != ':'; colon++)
                ;
            if (colon < at && colon + 1 < at) {
                *pw = colon + 1;
                *pw_len = (size_t)(at - colon - 1);
                return true;
            }
        }
        s = auth;
    }
    return false;
}

/* Case-insensitive: s[0..len) ends with the upper-case word. */
static bool ends_with_word(const char *s, size_t len, const char *word)
{
    size_t wlen = strlen(word), i;
    if (len < wlen)
        return false;
    for (i = 0; i < wlen; i++)
        if (upper(s[len - wlen + i]) != word[i])
            return false;
    return true;
}

bool roar_redact_takes_value(const char *arg)
{
    const char *name = arg, *p;
    size_t len, i;

    if (!arg || arg[0] != '-' || strchr(arg, '='))
        return false;
    name += arg[1] == '-' ? 2 : 1;
    len = strlen(name);
    if (len == 0 || (len > 3 && !strncmp(name, "no-", 3)))
        return false;
    for (p = name; *p; p++)
        if (!option_char(*p))
            return false;
    /* The name must end with the secret word, as a whole word: `--password`,
     * `--api-key`, `--token`; `--key-file`, `--skip-key-check` and `--monkey` name
     * something else. */
    for (i = 0; i < sizeof(secret_words) / sizeof(secret_words[0]); i++) {
        size_t wlen = strlen(secret_words[i]);
        if (ends_with_word(name, len, secret_words[i]) &&
            (len == wlen || strchr("-_.", name[len - wlen - 1])))
            return true;
    }
    return false;
}

bool roar_redact_arg_needed(const char *arg)
{
    const char *pw;
    size_t len;
    return secret_assignment(arg) > 0 || next_url_password(arg, &pw, &len);
}

int roar_redact_arg(roar_buf *out, const char *arg)
{
    size_t prefix = secret_assignment(arg), len;
    const char *pw;
    int error;

    if (prefix > 0) {
        if ((error = roar_buf_put(out, arg, prefix)) < 0)
            return error;
        return roar_buf_puts(out, ROAR_REDACTED);
    }
    while (next_url_password(arg, &pw, &len)) {
        if ((error = roar_buf_put(out, arg, (size_t)(pw - arg))) < 0 ||
            (error = roar_buf_puts(out, ROAR_REDACTED)) < 0)
            return error;
        arg = pw + len;
    }
    return roar_buf_puts(out, arg);
}
