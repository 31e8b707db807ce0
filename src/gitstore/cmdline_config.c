/* Command-line configuration (`git -c`, `git --config-env`), read as git's config.c
 * does (git_config_from_parameters) and handed to libgit2 as one more config file. */
#include "gitstore/cmdline_config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util/err.h"

#define PARAMETERS_VAR "GIT_CONFIG_PARAMETERS"

static bool key_char(char c)
{
    return isalnum((unsigned char)c) || c == '-';
}

/* One `[section "subsection"]` block holding `name = "value"` (or a bare `name`).
 * `key` is git's KEY: section.name or section.subsection.name; section and name are
 * case-insensitive (written lower-case), the subsection is kept as it is. */
static int put_setting(roar_buf *out, const char *key, const char *value)
{
    const char *first = strchr(key, '.'), *last = strrchr(key, '.'), *p;
    int error;

    if (!*key)
        return roar_error_set(ROAR_EINVALID, "empty config key");
    if (!first || first == key || !last[1])
        return roar_error_set(ROAR_EINVALID, "invalid config key: %s", key);
    for (p = key; p < first; p++)
        if (!key_char(*p))
            return roar_error_set(ROAR_EINVALID, "invalid config key: %s", key);
    if (!isalpha((unsigned char)last[1]))
        return roar_error_set(ROAR_EINVALID, "invalid config key: %s", key);
    for (p = last + 1; *p; p++)
        if (!key_char(*p))
            return roar_error_set(ROAR_EINVALID, "invalid config key: %s", key);
    for (p = first; p < last; p++)
        if (*p == '\n')
            return roar_error_set(ROAR_EINVALID, "invalid config key: %s", key);

    if ((error = roar_buf_putc(out, '[')) < 0)
        return error;
    for (p = key; p < first; p++)
        if ((error = roar_buf_putc(out, (char)tolower((unsigned char)*p))) < 0)
            return error;
    if (last > first) {
        if ((error = roar_buf_puts(out, " \"")) < 0)
            return error;
        for (p = first + 1; p < last; p++) {
            if (*p == '"' || *p == '\\')
                if ((error = roar_buf_putc(out, '\\')) < 0)
                    return error;
            if ((error = roar_buf_putc(out, *p)) < 0)
                return error;
        }
        if ((error = roar_buf_putc(out, '"')) < 0)
            return error;
    }
    if ((error = roar_buf_puts(out, "]\n\t")) < 0)
        return error;
    for (p = last + 1; *p; p++)
        if ((error = roar_buf_putc(out, (char)tolower((unsigned char)*p))) < 0)
            return error;
    if (!value)
        return roar_buf_putc(out, '\n');
    if ((error = roar_buf_puts(out, " = \"")) < 0)
        return error;
    for (p = value; *p; p++) {
        const char *esc = *p == '\\' ? "\\\\" : *p == '"' ? "\\\"" : *p == '\n' ? "\\n"
                        : *p == '\t' ? "\\t" : *p == '\b' ? "\\b" : NULL;
        if ((error = esc ? roar_buf_puts(out, esc) : roar_buf_putc(out, *p)) < 0)
            return error;
    }
    return roar_buf_puts(out, "\"\n");
}

/* git's sq_dequote_step: dequotes the '...' word at arg in place ('\'' and '\!' join
 * quoted parts). Returns arg, with *next after the word (NULL at the end of the
 * string); NULL when arg is not a well-formed quoted word. */
static char *sq_dequote_step(char *arg, char **next)
{
    char *dst = arg, *src = arg;

    if (*src != '\'')
        return NULL;
    for (;;) {
        char c = *++src;
        if (!c)
            return NULL;
        if (c != '\'') {
            *dst++ = c;
            continue;
        }
        switch (*++src) {
        case '\0':
            *dst = '\0';
            *next = NULL;
            return arg;
        case '\\':
            if ((src[1] == '\'' || src[1] == '!') && src[2] == '\'') {
                *dst++ = src[1];
                src += 2;
                continue;
            }
            /* fallthrough */
        default:
            *dst = '\0';
            *next = src;
            return arg;
        }
    }
}

static int bogus(void)
{
    return roar_error_set(ROAR_EINVALID, "bogus format in %s", PARAMETERS_VAR);
}

/* GIT_CONFIG_PARAMETERS: whitespace-separated words, each 'key=value' (old style,
 * value optional) or 'key'='value' / 'key'= (new style; the last is a bare key). */
static int put_parameters(roar_buf *out, char *cur)
{
    int error;

    while (cur && *cur) {
        char *key = sq_dequote_step(cur, &cur), *value = NULL;
        if (!key)
            return bogus();
        if (!cur || isspace((unsigned char)*cur)) {
            char *eq = strchr(key, '=');
            if (eq) {
                *eq = '\0';
                value = eq + 1;
            }
        } else if (*cur == '=') {
            cur++;
            if (*cur == '\'') {
                if (!(value = sq_dequote_step(cur, &cur)) || (cur && !isspace((unsigned char)*cur)))
                    return bogus();
            } else if (*cur && !isspace((unsigned char)*cur)) {
                return bogus();
            }
        } else {
            return bogus();
        }
        if ((error = put_setting(out, key, value)) < 0)
            return error;
        while (cur && isspace((unsigned char)*cur))
            cur++;
    }
    return 0;
}

/* GIT_CONFIG_COUNT=n with GIT_CONFIG_KEY_<i> and GIT_CONFIG_VALUE_<i>, i < n. */
static int put_counted(roar_buf *out, const char *count_text)
{
    char *end, name[64];
    unsigned long count, i;
    int error;

    errno = 0;
    count = strtoul(count_text, &end, 10);
    if (*end || errno)
        return roar_error_set(ROAR_EINVALID, "bogus count in GIT_CONFIG_COUNT");
    if (count > INT_MAX)
        return roar_error_set(ROAR_EINVALID, "too many entries in GIT_CONFIG_COUNT");
    for (i = 0; i < count; i++) {
        const char *key, *value;
        snprintf(name, sizeof(name), "GIT_CONFIG_KEY_%lu", i);
        if (!(key = getenv(name)))
            return roar_error_set(ROAR_EINVALID, "missing config key %s", name);
        snprintf(name, sizeof(name), "GIT_CONFIG_VALUE_%lu", i);
        if (!(value = getenv(name)))
            return roar_error_set(ROAR_EINVALID, "missing config value %s", name);
        if ((error = put_setting(out, key, value)) < 0)
            return error;
    }
    return 0;
}

int roar_cmdline_config_text(roar_buf *out)
{
    const char *count = getenv("GIT_CONFIG_COUNT"), *params = getenv(PARAMETERS_VAR);
    char *copy;
    int error;

    /* git's order: the counted settings first, then the parameters. */
    if (count && (error = put_counted(out, count)) < 0)
        goto fail;
    if (!params)
        return 0;
    if (!(copy = strdup(params))) /* dequoted in place */
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    error = put_parameters(out, copy);
    free(copy);
    if (error < 0)
        goto fail;
    return 0;
fail:
    roar_error_prefix("unable to parse command-line config");
    return error;
}

/* The text's memory file, made once per process: the environment does not change. */
static int cmdline_file(int *fd_out)
{
    static int fd = -2; /* -2: not looked at yet; -1: no settings */
    roar_buf text = ROAR_BUF_INIT;
    size_t done = 0;
    int error;

    if (fd != -2) {
        *fd_out = fd;
        return 0;
    }
    if ((error = roar_cmdline_config_text(&text)) < 0)
        goto cleanup;
    if (text.size == 0) {
        fd = -1;
        goto cleanup;
    }
    if ((fd = memfd_create("git-roar-cmdline-config", MFD_CLOEXEC)) < 0) {
        error = roar_error_set_errno(ROAR_ERROR, "cannot hold the command-line config");
        fd = -2;
        goto cleanup;
    }
    while (done < text.size) {
        ssize_t n = write(fd, text.ptr + done, text.size - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            error = roar_error_set_errno(ROAR_ERROR, "cannot hold the command-line config");
            close(fd);
            fd = -2;
            goto cleanup;
        }
        done += (size_t)n;
    }
cleanup:
    roar_buf_dispose(&text);
    *fd_out = fd;
    return error;
}

int roar_cmdline_config_apply(git_repository *git)
{
    git_config *cfg = NULL;
    char path[64];
    int fd, error;

    if ((error = cmdline_file(&fd)) < 0 || fd < 0)
        return error;
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    if (git_repository_config(&cfg, git) < 0 ||
        git_config_add_file_ondisk(cfg, path, GIT_CONFIG_LEVEL_APP, git, 0) < 0) {
        const git_error *e = git_error_last();
        error = roar_error_set(ROAR_ERROR, "cannot apply the command-line config: %s",
                               e ? e->message : "error");
    }
    git_config_free(cfg);
    return error;
}
