/* Secret redaction (SPEC §8). Deliberately pattern-based and conservative: a
 * recorded command that loses a secret is still useful; a leaked secret is not. */
#include "util/redact.h"

#include <stdlib.h>
#include <string.h>

#include "util/err.h"

/* ---- names -------------------------------------------------------------------------- */

static const char *const contained_words[] = {"TOKEN", "SECRET",     "PASSWORD", "PASSWD",
                                              "KEY",   "CREDENTIAL", "AUTH"};
static const char *const suffix_words[] = {"PASS", "PAT", "_PWD"};
/* Option names that take a secret, as a whole trailing word (`--api-key`, `--pass`). */
static const char *const option_words[] = {"TOKEN",      "SECRET",     "PASSWORD", "PASSWD",
                                           "PASS",       "PWD",        "KEY",      "AUTH",
                                           "CREDENTIAL", "CREDENTIALS"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static char upper(char c)
{
    return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
}

static bool is_alnum(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static bool is_quote(char c)
{
    return c == '\'' || c == '"';
}

/* c is in set (never true for NUL, unlike strchr). */
static bool in_set(char c, const char *set)
{
    return c && strchr(set, c) != NULL;
}

static bool option_char(char c)
{
    return is_alnum(c) || c == '_' || c == '.' || c == '-';
}

/* Case-insensitive: the upper-case word occurs in s[0..len). */
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

/* Ends with the word as a whole word: the whole name, or after `-`, `_` or `.`. */
static bool ends_with_whole_word(const char *s, size_t len, const char *word)
{
    size_t wlen = strlen(word);
    return ends_with_word(s, len, word) && (len == wlen || in_set(s[len - wlen - 1], "-_."));
}

static bool equals_word(const char *s, size_t len, const char *word)
{
    return strlen(word) == len && ends_with_word(s, len, word);
}

static bool secret_name(const char *name, size_t len)
{
    size_t i;
    for (i = 0; i < COUNT(contained_words); i++)
        if (contains_word(name, len, contained_words[i]))
            return true;
    for (i = 0; i < COUNT(suffix_words); i++)
        if (ends_with_word(name, len, suffix_words[i]))
            return true;
    return false;
}

bool roar_redact_env_name(const char *name)
{
    return name && secret_name(name, strlen(name));
}

/* name[0..len) is a dashed word (`--password`) that takes a secret as its next word. */
static bool takes_value(const char *arg, size_t len)
{
    const char *name = arg;
    size_t i;

    if (len < 2 || arg[0] != '-')
        return false;
    name += arg[1] == '-' ? 2 : 1;
    len -= (size_t)(name - arg);
    if (len == 0 || (len > 3 && !strncmp(name, "no-", 3)))
        return false;
    for (i = 0; i < len; i++)
        if (!option_char(name[i]))
            return false;
    /* The name must end with the secret word, as a whole word: `--password`,
     * `--api-key`, `--token`; `--key-file`, `--skip-key-check`, `--monkey` and
     * `--bypass` name something else. */
    for (i = 0; i < COUNT(option_words); i++)
        if (ends_with_whole_word(name, len, option_words[i]))
            return true;
    return equals_word(name, len, "PASSIN") || equals_word(name, len, "PASSOUT");
}

bool roar_redact_takes_value(const char *arg)
{
    return arg && !strchr(arg, '=') && takes_value(arg, strlen(arg));
}

/* `-u`, `--user`, `-U`, `--proxy-user`: curl's options whose value is user:password. */
static bool user_option(const char *w, size_t len)
{
    return (len == 2 && (!memcmp(w, "-u", 2) || !memcmp(w, "-U", 2))) ||
           (len == 6 && !memcmp(w, "--user", 6)) || (len == 12 && !memcmp(w, "--proxy-user", 12));
}

/* The word names a mysql or mariadb program (`mysql`, `/usr/bin/mysqldump`,
 * `mariadb-dump`), whose `-p<password>` is a password; elsewhere `-p` is not. */
static bool mysql_word(const char *w, size_t len)
{
    size_t i, base = 0;
    for (i = 0; i < len; i++)
        if (w[i] == '/')
            base = i + 1;
    w += base;
    len -= base;
    return (len >= 5 && !memcmp(w, "mysql", 5)) || (len >= 7 && !memcmp(w, "mariadb", 7));
}

/* ---- the scanner -------------------------------------------------------------------- */

enum quote { Q_NONE, Q_SINGLE, Q_DOUBLE };

typedef struct {
    roar_buf *out;
    size_t count;
    bool mysql; /* a mysql-like program was named before */
    /* the text being scanned */
    const char *s;
    size_t len;
    size_t copied;      /* s[0..copied) is in out */
    size_t first_blank; /* index of the first blank, len when none */
    enum quote q;       /* shell quoting at the scan position */
    bool escaped;       /* the previous byte was an unquoted or "-quoted backslash */
    /* match_scp's last word: every start inside [scp_from, scp_end) ends there, and
     * scp_at is its last '@' (0: none), so that a word of many `,a:` stays linear. */
    size_t scp_from, scp_end, scp_at;
} redactor;

/* Moves the quoting state over s[from..to). */
static void track_quotes(redactor *r, size_t from, size_t to)
{
    for (; from < to; from++) {
        char c = r->s[from];
        if (r->escaped) {
            r->escaped = false;
            continue;
        }
        switch (r->q) {
        case Q_NONE:
            if (c == '\'')
                r->q = Q_SINGLE;
            else if (c == '"')
                r->q = Q_DOUBLE;
            else if (c == '\\')
                r->escaped = true;
            break;
        case Q_SINGLE:
            if (c == '\'')
                r->q = Q_NONE;
            break;
        case Q_DOUBLE:
            if (c == '"')
                r->q = Q_NONE;
            else if (c == '\\')
                r->escaped = true;
            break;
        }
    }
}

static char quote_char(enum quote q)
{
    return q == Q_SINGLE ? '\'' : '"';
}

/* End of the unquoted shell word that starts at p: quotes and backslashes inside it
 * are part of it; an unquoted blank or operator ends it. */
static size_t shell_word_end(const redactor *r, size_t p)
{
    enum quote q = Q_NONE;
    for (; p < r->len; p++) {
        char c = r->s[p];
        if (q == Q_NONE) {
            if (is_blank(c) || in_set(c, ";|&<>()`"))
                break;
            if (c == '\'')
                q = Q_SINGLE;
            else if (c == '"')
                q = Q_DOUBLE;
            else if (c == '\\' && p + 1 < r->len)
                p++;
        } else if (q == Q_SINGLE) {
            if (c == '\'')
                q = Q_NONE;
        } else if (c == '"') {
            q = Q_NONE;
        } else if (c == '\\' && p + 1 < r->len) {
            p++;
        }
    }
    return p;
}

/* The first occurrence of c at or after p, else len. */
static size_t find_char(const redactor *r, size_t p, char c)
{
    const char *hit = memchr(r->s + p, c, r->len - p);
    return hit ? (size_t)(hit - r->s) : r->len;
}

/* Where the value of an assignment or header found at `start` and beginning at p ends,
 * with q the quoting at p. Inside quotes: at the closing quote (`-d "password=a b"`).
 * Nothing blank before `start`: the end of the text (an argv element is one value).
 * Otherwise the end of the shell word. */
static size_t value_end(const redactor *r, size_t start, size_t p, enum quote q)
{
    if (q != Q_NONE)
        return find_char(r, p, quote_char(q));
    if (r->first_blank >= start)
        return r->len;
    return shell_word_end(r, p);
}

/* Where the word after an option ends, with q the quoting at p: inside quotes at a
 * blank or the closing quote (a command nested in a string), else the shell word. */
static size_t next_word_end(const redactor *r, size_t p, enum quote q)
{
    if (q != Q_NONE) {
        char qc = quote_char(q);
        while (p < r->len && !is_blank(r->s[p]) && r->s[p] != qc)
            p++;
        return p;
    }
    return shell_word_end(r, p);
}

/* The quoting at p, from the state at the scan position `at` (p >= at). */
static enum quote quoting_at(const redactor *r, size_t at, size_t p)
{
    redactor copy = *r;
    track_quotes(&copy, at, p);
    return copy.q;
}

static bool match_token(const redactor *r, size_t i, size_t *a, size_t *b);

/* Appends s[copied..to) to out, with the token shapes in it replaced: the matchers
 * skip what lies between their start and their value (`-u ghp_x:pw`, the user of a
 * URL), and a token there is a secret too. */
static int flush(redactor *r, size_t to)
{
    size_t saved = r->len, i = r->copied, a, b;
    int error = 0;

    r->len = to;
    while (i < to) {
        if (match_token(r, i, &a, &b)) {
            if ((error = roar_buf_put(r->out, r->s + r->copied, a - r->copied)) < 0 ||
                (error = roar_buf_puts(r->out, ROAR_REDACTED)) < 0)
                break;
            r->count++;
            r->copied = i = b;
        } else {
            i++;
        }
    }
    r->len = saved;
    if (error < 0)
        return error;
    error = roar_buf_put(r->out, r->s + r->copied, to - r->copied);
    r->copied = to;
    return error;
}

/* Replaces s[a..b) by the marker, after what comes before it. */
static int replace(redactor *r, size_t a, size_t b)
{
    int error;
    if ((error = flush(r, a)) < 0 || (error = roar_buf_puts(r->out, ROAR_REDACTED)) < 0)
        return error;
    r->copied = b;
    r->count++;
    return 0;
}

/* A match: [*a, *b) is the value to replace. Each matcher looks at position i and
 * returns whether it found one. */

/* `scheme://user:pass@host`: the bytes between the userinfo's first ':' and the
 * authority's last '@'. */
static bool match_url(const redactor *r, size_t i, size_t *a, size_t *b)
{
    size_t auth, end, at = 0, colon;
    bool found = false;

    if (i + 3 > r->len || memcmp(r->s + i, "://", 3))
        return false;
    auth = i + 3;
    for (end = auth; end < r->len && !in_set(r->s[end], "/?#") && !is_blank(r->s[end]); end++)
        if (r->s[end] == '@') {
            at = end;
            found = true;
        }
    if (!found)
        return false;
    for (colon = auth; colon < at && r->s[colon] != ':'; colon++)
        ;
    if (colon + 1 >= at)
        return false;
    *a = colon + 1;
    *b = at;
    return true;
}

static size_t span(const redactor *r, size_t p, bool (*ok)(char))
{
    size_t n = 0;
    while (p + n < r->len && ok(r->s[p + n]))
        n++;
    return n;
}

static bool token_char(char c)
{
    return is_alnum(c) || c == '_';
}

static bool dash_token_char(char c)
{
    return is_alnum(c) || c == '_' || c == '-';
}

static bool upper_digit(char c)
{
    return (c >= 'A' && c <= 'Z') || is_digit(c);
}

static bool has_prefix(const redactor *r, size_t i, const char *prefix)
{
    size_t n = strlen(prefix);
    return i + n <= r->len && !memcmp(r->s + i, prefix, n);
}

/* Well-known token shapes, at a position not preceded by a letter or digit. */
static bool match_token(const redactor *r, size_t i, size_t *a, size_t *b)
{
    static const struct {
        const char *prefix;
        bool dash; /* '-' is a token character */
        size_t min;
    } shapes[] = {
        {"ghp_", false, 16}, {"gho_", false, 16},        {"ghu_", false, 16},  {"ghs_", false, 16},
        {"ghr_", false, 16}, {"github_pat_", false, 16}, {"glpat-", true, 16}, {"xoxb-", true, 10},
        {"xoxp-", true, 10}, {"xoxa-", true, 10},        {"xoxr-", true, 10},  {"xoxs-", true, 10},
    };
    size_t k, n, p;

    if (i > 0 && is_alnum(r->s[i - 1]))
        return false;
    for (k = 0; k < COUNT(shapes); k++) {
        if (!has_prefix(r, i, shapes[k].prefix))
            continue;
        p = i + strlen(shapes[k].prefix);
        n = span(r, p, shapes[k].dash ? dash_token_char : token_char);
        if (n >= shapes[k].min) {
            *a = i;
            *b = p + n;
            return true;
        }
    }
    /* An AWS access key id: AKIA (long-term) or ASIA (temporary) and 16 more. */
    if ((has_prefix(r, i, "AKIA") || has_prefix(r, i, "ASIA")) &&
        span(r, i + 4, upper_digit) == 16 && !(i + 20 < r->len && is_alnum(r->s[i + 20]))) {
        *a = i;
        *b = i + 20;
        return true;
    }
    /* A JWT: header.payload.signature, both JSON objects base64url (`{"` is `eyJ`); the
     * signature may be empty (alg none). */
    if (has_prefix(r, i, "eyJ") && (n = span(r, i + 3, dash_token_char)) >= 2 &&
        i + 3 + n < r->len && r->s[i + 3 + n] == '.' && has_prefix(r, i + 4 + n, "eyJ")) {
        p = i + 4 + n + 3;
        p += span(r, p, dash_token_char);
        if (p < r->len && r->s[p] == '.') {
            p++;
            p += span(r, p, dash_token_char);
            *a = i;
            *b = p;
            return true;
        }
    }
    return false;
}

/* Bytes before which a word starts: a blank, a quote, a shell operator. */
static bool word_start(const redactor *r, size_t i)
{
    return i == 0 || is_blank(r->s[i - 1]) || is_quote(r->s[i - 1]) || in_set(r->s[i - 1], ";&|(`");
}

/* Bytes before which a NAME= may start: those, and `=`, `,`, `?`, `{`. */
static bool name_start(const redactor *r, size_t i)
{
    return word_start(r, i) || in_set(r->s[i - 1], "=,?{");
}

static bool numeric(const char *s, size_t len)
{
    size_t i;
    for (i = 0; i < len; i++)
        if (!is_digit(s[i]))
            return false;
    return len > 0;
}

/* user:pass in s[p..end): the part after the first ':', unless there is none or it is
 * a numeric uid:gid. A value quoted as a whole keeps its closing quote. */
static bool user_pass(const redactor *r, size_t p, size_t end, size_t *a, size_t *b)
{
    const char *colon = memchr(r->s + p, ':', end - p);
    size_t c;

    if (!colon)
        return false;
    c = (size_t)(colon - r->s);
    if (numeric(r->s + p, c - p) && numeric(colon + 1, end - c - 1))
        return false;
    if (end - p >= 2 && is_quote(r->s[p]) && r->s[end - 1] == r->s[p])
        end--;
    if (c + 1 >= end)
        return false;
    *a = c + 1;
    *b = end;
    return true;
}

/* What a word at a word start says about the next one: `--password x`, `-u a:b`,
 * `-ua:b`, `--user=a:b`, mysql's `-px`. Also notes a mysql-like program name. */
static bool match_word(redactor *r, size_t i, size_t *a, size_t *b)
{
    size_t we = i, p;
    const char *w = r->s + i;

    if (!word_start(r, i))
        return false;
    while (we < r->len && !is_blank(r->s[we]) && !is_quote(r->s[we]) && !in_set(r->s[we], ";|&)`"))
        we++;
    if (we == i)
        return false;
    if (mysql_word(w, we - i))
        r->mysql = true;
    if (w[0] != '-')
        return false;

    /* The option, then blanks, then its value. */
    if ((takes_value(w, we - i) || user_option(w, we - i)) && we < r->len && is_blank(r->s[we])) {
        enum quote q;
        size_t end;
        for (p = we; p < r->len && is_blank(r->s[p]); p++)
            ;
        if (p >= r->len || in_set(r->s[p], ";|&)`"))
            return false;
        q = quoting_at(r, i, p);
        end = next_word_end(r, p, q);
        if (end == p)
            return false;
        if (takes_value(w, we - i)) {
            *a = p;
            *b = end;
            return true;
        }
        return user_pass(r, p, end, a, b);
    }
    /* Glued: `-uadmin:pw`, `--user=admin:pw`, `--proxy-user=admin:pw`. */
    if (we - i > 2 && (w[1] == 'u' || w[1] == 'U'))
        return user_pass(r, i + 2, we, a, b);
    if (has_prefix(r, i, "--user=") || has_prefix(r, i, "--proxy-user=")) {
        p = (size_t)((const char *)memchr(w, '=', we - i) - r->s) + 1;
        return user_pass(r, p, we, a, b);
    }
    /* mysql's -pPASSWORD (its -p alone prompts, and `-p NAME` names a database). */
    if (r->mysql && w[1] == 'p' && (we - i > 2 || (we < r->len && is_quote(r->s[we])))) {
        *a = i + 2;
        *b = next_word_end(r, i + 2, quoting_at(r, i, i + 2));
        if (*b < we)
            *b = we;
        return true;
    }
    return false;
}

/* NAME=value with a secret NAME, or a secret query parameter. */
static bool match_assignment(const redactor *r, size_t i, size_t *a, size_t *b)
{
    size_t p = i, name, eq;
    bool query, dashed;

    if (!name_start(r, i))
        return false;
    while (p < r->len && r->s[p] == '-')
        p++;
    dashed = p > i;
    name = p;
    while (p < r->len && option_char(r->s[p]))
        p++;
    if (p == name || p >= r->len || r->s[p] != '=')
        return false;
    eq = p;
    query = i > 0 && in_set(r->s[i - 1], "?&");
    if (!secret_name(r->s + name, eq - name) &&
        !(dashed && ends_with_whole_word(r->s + name, eq - name, "PWD")) &&
        !(query && (equals_word(r->s + name, eq - name, "SIG") ||
                    ends_with_word(r->s + name, eq - name, "SIGNATURE"))))
        return false;
    *a = eq + 1;
    if (query) {
        for (p = *a;
             p < r->len && !is_blank(r->s[p]) && !is_quote(r->s[p]) && !in_set(r->s[p], "&#;<>|)");
             p++)
            ;
        *b = p;
    } else {
        *b = value_end(r, i, *a, quoting_at(r, i, *a));
    }
    return true;
}

/* Where a header's value that starts at p ends when the header stands unquoted in a
 * shell string (`echo Authorization: Bearer x; next`): the end of that command. */
static size_t command_end(const redactor *r, size_t p)
{
    for (; p < r->len && !in_set(r->s[p], ";|&\r\n"); p++)
        ;
    return p;
}

/* Longer is not a header name; the bound keeps `-H-H-H…` linear. */
#define MAX_HEADER_NAME 128

/* `Authorization: value`, `X-Api-Key: value`, JSON `"token": "value"`. */
static bool match_header(const redactor *r, size_t i, size_t *a, size_t *b)
{
    static const char auth[] = "AUTHORIZATION";
    size_t p = i, name_end, alen = sizeof(auth) - 1;
    bool json = false, authorization;

    /* The header name: glued to curl's -H too (`-HAuthorization: x`). */
    if (i > 0 && (is_alnum(r->s[i - 1]) || in_set(r->s[i - 1], "_-")) &&
        !(i >= 2 && r->s[i - 2] == '-' && r->s[i - 1] == 'H'))
        return false;
    while (p < r->len && p - i <= MAX_HEADER_NAME && dash_token_char(r->s[p]))
        p++;
    name_end = p;
    if (name_end == i || name_end - i > MAX_HEADER_NAME)
        return false;
    authorization = ends_with_word(r->s + i, name_end - i, auth) &&
                    (name_end - i == alen || r->s[name_end - alen - 1] == '-');
    if (p < r->len && is_quote(r->s[p]) && i > 0 && r->s[i - 1] == r->s[p]) {
        json = true;
        p++;
    }
    if (p >= r->len || r->s[p] != ':')
        return false;
    p++;
    if (!authorization && !json) {
        /* A header or YAML-like `name: value` needs a blank after the colon and a name
         * that is not a plain word, lest `auth: fix login` in a message lose its text. */
        if (p >= r->len || (r->s[p] != ' ' && r->s[p] != '\t'))
            return false;
        if (!memchr(r->s + i, '-', name_end - i) && !memchr(r->s + i, '_', name_end - i))
            return false;
    }
    if (!authorization && !secret_name(r->s + i, name_end - i))
        return false;
    while (p < r->len && (r->s[p] == ' ' || r->s[p] == '\t'))
        p++;
    if (p >= r->len)
        return false;
    if (json) {
        if (is_quote(r->s[p])) {
            *a = p + 1;
            *b = find_char(r, p + 1, r->s[p]);
        } else if (in_set(r->s[p], "{[")) {
            return false; /* its own keys are looked at one by one */
        } else {
            *a = p;
            for (*b = p; *b < r->len && !is_blank(r->s[*b]) && !in_set(r->s[*b], ",}]"); (*b)++)
                ;
        }
    } else {
        enum quote q = quoting_at(r, i, p);
        size_t line = command_end(r, p);
        *a = p;
        if (q != Q_NONE || r->first_blank >= i) {
            /* Quoted, or the whole element: the value ends with the quote or the line. */
            *b = value_end(r, i, p, q);
            for (line = p; line < *b && r->s[line] != '\r' && r->s[line] != '\n'; line++)
                ;
        }
        *b = line;
    }
    return *b > *a;
}

/* scp-style `user:pass@host[:path]` (no scheme): the part between the first ':' and the
 * word's last '@'. Not `mailto:x@y`, not an image digest `name:tag@sha256:...`. */
static bool match_scp(redactor *r, size_t i, size_t *a, size_t *b)
{
    size_t p = i, colon, end, at = 0;

    if (!name_start(r, i))
        return false;
    while (p < r->len && (option_char(r->s[p]) || in_set(r->s[p], "+~")))
        p++;
    if (p == i || p >= r->len || r->s[p] != ':' || has_prefix(r, p, "://"))
        return false;
    colon = p;
    if (colon - i == 6 && ends_with_word(r->s + i, 6, "MAILTO"))
        return false;
    if (colon + 1 >= r->scp_from && colon + 1 < r->scp_end) {
        end = r->scp_end;
        at = r->scp_at > colon ? r->scp_at : 0;
    } else {
        for (end = colon + 1; end < r->len && !is_blank(r->s[end]) && !is_quote(r->s[end]) &&
                              !in_set(r->s[end], ";|<>()`");
             end++)
            if (r->s[end] == '@')
                at = end;
        r->scp_from = colon + 1;
        r->scp_end = end;
        r->scp_at = at;
    }
    if (!at || at == colon + 1 || at + 1 >= end)
        return false;
    if (!is_alnum(r->s[at + 1]) && r->s[at + 1] != '[')
        return false;
    if (has_prefix(r, at + 1, "sha256:") || has_prefix(r, at + 1, "sha512:") ||
        has_prefix(r, at + 1, "sha1:"))
        return false;
    *a = colon + 1;
    *b = at;
    return true;
}

/* Starts on s[0..len), with nothing of it appended yet. */
static void scan_begin(redactor *r, const char *s, size_t len)
{
    const char *blank;

    r->s = s;
    r->len = len;
    r->copied = 0;
    r->q = Q_NONE;
    r->escaped = false;
    r->scp_from = r->scp_end = r->scp_at = 0;
    for (blank = s; blank < s + len && !is_blank(*blank); blank++)
        ;
    r->first_blank = (size_t)(blank - s);
}

/* Scans s[0..len), appending it to r->out with every secret replaced. */
static int scan(redactor *r, const char *s, size_t len)
{
    size_t i = 0, a, b;
    int error;

    scan_begin(r, s, len);
    while (i < len) {
        bool found = match_url(r, i, &a, &b) || match_token(r, i, &a, &b) ||
                     match_word(r, i, &a, &b) || match_assignment(r, i, &a, &b) ||
                     match_header(r, i, &a, &b) || match_scp(r, i, &a, &b);
        if (found && a >= r->copied && b >= a && b > i) {
            if ((error = replace(r, a, b)) < 0)
                return error;
            track_quotes(r, i, b);
            i = b;
        } else {
            track_quotes(r, i, i + 1);
            i++;
        }
    }
    return flush(r, len);
}

int roar_redact_text(roar_buf *out, size_t *count, const char *text)
{
    redactor r;
    int error;

    memset(&r, 0, sizeof(r));
    r.out = out;
    error = scan(&r, text, strlen(text));
    if (count)
        *count += r.count;
    return error;
}

void roar_redact_argv_free(char **argv, size_t argc)
{
    size_t i;
    for (i = 0; argv && i < argc; i++)
        free(argv[i]);
    free(argv);
}

int roar_redact_argv(char ***out, size_t *count, const char *const *argv, size_t argc)
{
    roar_buf b = ROAR_BUF_INIT;
    redactor r;
    char **v;
    size_t i;
    int error = 0;

    memset(&r, 0, sizeof(r));
    r.out = &b;
    *out = NULL;
    if (!(v = calloc(argc + 1, sizeof(*v))))
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    for (i = 0; i < argc; i++) {
        const char *arg = argv[i];
        size_t len = strlen(arg), x, y;
        roar_buf_clear(&b);
        if (i > 0 && roar_redact_takes_value(argv[i - 1])) {
            /* `--password VALUE`, whatever VALUE is (a secret may start with `-`). */
            error = roar_buf_puts(&b, ROAR_REDACTED);
            r.count++;
        } else if (i > 0 && user_option(argv[i - 1], strlen(argv[i - 1])) &&
                   (scan_begin(&r, arg, len), user_pass(&r, 0, len, &x, &y))) {
            /* `-u admin:pw`: the user stays. */
            if ((error = replace(&r, x, y)) == 0)
                error = flush(&r, len);
        } else {
            error = scan(&r, arg, len);
        }
        if (error < 0)
            goto cleanup;
        if (!(v[i] = strdup(b.ptr))) {
            error = roar_error_set(ROAR_ENOMEM, "out of memory");
            goto cleanup;
        }
    }
    *out = v;
    v = NULL;
    if (count)
        *count += r.count;

cleanup:
    roar_redact_argv_free(v, argc);
    roar_buf_dispose(&b);
    return error;
}
