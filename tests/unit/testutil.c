/* Scaffolding shared by the unit tests (see testutil.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"
#include "util/buf.h"

void roar_test_fmt_path(char *out, size_t size, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(out, size, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= size)
        fail_msg("path too long: %s", out);
}

void roar_test_sh(const char *fmt, ...)
{
    char cmd[4 * PATH_MAX];
    va_list ap;
    int rc;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    rc = system(cmd);
    if (rc != 0)
        fail_msg("command failed (%d): %s", rc, cmd);
}

void roar_test_sh_in(const char *dir, const char *fmt, ...)
{
    char cmd[4096];
    int n = snprintf(cmd, sizeof(cmd), "cd '%s' && (", dir);
    va_list ap;
    va_start(ap, fmt);
    n += vsnprintf(cmd + n, sizeof(cmd) - (size_t)n, fmt, ap);
    va_end(ap);
    snprintf(cmd + n, sizeof(cmd) - (size_t)n, ") >/dev/null 2>&1");
    if (system(cmd) != 0)
        fail_msg("command failed: %s", cmd);
}

/* popen(fmt...) for reading; fails the test when the shell cannot be started. */
static FILE *popen_v(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
static FILE *popen_v(const char *fmt, va_list ap)
{
    char cmd[4 * PATH_MAX];
    FILE *p;

    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    p = popen(cmd, "r");
    assert_non_null(p);
    return p;
}

void roar_test_sh_line(char *out, size_t size, const char *fmt, ...)
{
    va_list ap;
    FILE *p;

    va_start(ap, fmt);
    p = popen_v(fmt, ap);
    va_end(ap);
    if (!fgets(out, (int)size, p))
        out[0] = '\0';
    out[strcspn(out, "\n")] = '\0';
    assert_int_equal(pclose(p), 0);
}

char *roar_test_sh_all(const char *fmt, ...)
{
    roar_buf out = ROAR_BUF_INIT;
    char chunk[4096];
    size_t n;
    va_list ap;
    FILE *p;

    va_start(ap, fmt);
    p = popen_v(fmt, ap);
    va_end(ap);
    while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
        assert_int_equal(roar_buf_put(&out, chunk, n), 0);
    assert_int_equal(pclose(p), 0);
    return roar_buf_detach(&out);
}

int roar_test_git_sandbox(char *root, const char *name)
{
    char tmpl[PATH_MAX];
    char home[PATH_MAX];

    roar_test_fmt_path(tmpl, sizeof(tmpl), "/tmp/roar-test-%s.XXXXXX", name);
    if (!mkdtemp(tmpl) || !realpath(tmpl, root))
        return -1;
    roar_test_fmt_path(home, sizeof(home), "%s/home", root);
    if (mkdir(home, 0777) < 0)
        return -1;
    /* A hermetic git: no system or user config leaks in, discovery stops at root. */
    setenv("HOME", home, 1);
    setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
    setenv("GIT_CEILING_DIRECTORIES", root, 1);
    setenv("GIT_AUTHOR_NAME", "A U Thor", 1);
    setenv("GIT_AUTHOR_EMAIL", "author@example.com", 1);
    setenv("GIT_COMMITTER_NAME", "C O Mitter", 1);
    setenv("GIT_COMMITTER_EMAIL", "committer@example.com", 1);
    unsetenv("GIT_DIR");
    unsetenv("GIT_WORK_TREE");
    unsetenv("GIT_INDEX_FILE");
    return 0;
}
