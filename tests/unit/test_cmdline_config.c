/* Unit tests of src/gitstore/cmdline_config: the environment git builds for `git -c`
 * and `git --config-env` (taken from real git runs where it matters), its parsing, and
 * the settings as a repository opened by roar_repo_open then reads them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "gitstore/cmdline_config.h"
#include "gitstore/repo.h"
#include "util/err.h"

#include "testutil.h"

static char root[PATH_MAX];

static void clear_env(void)
{
    unsetenv("GIT_CONFIG_PARAMETERS");
    unsetenv("GIT_CONFIG_COUNT");
    unsetenv("GIT_CONFIG_KEY_0");
    unsetenv("GIT_CONFIG_VALUE_0");
    unsetenv("GIT_CONFIG_KEY_1");
    unsetenv("GIT_CONFIG_VALUE_1");
}

static int group_setup(void **state)
{
    (void)state;
    if (roar_test_git_sandbox(root, "cmdline-config") < 0)
        return -1;
    clear_env();
    git_libgit2_init();
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    clear_env();
    git_libgit2_shutdown();
    roar_test_sh("rm -rf '%s'", root);
    return 0;
}

static void expect_text(const char *want)
{
    roar_buf out = ROAR_BUF_INIT;
    assert_int_equal(roar_cmdline_config_text(&out), 0);
    assert_string_equal(out.ptr, want);
    roar_buf_dispose(&out);
}

static void expect_invalid(const char *message_part)
{
    roar_buf out = ROAR_BUF_INIT;
    assert_int_equal(roar_cmdline_config_text(&out), ROAR_EINVALID);
    if (!strstr(roar_error_last(), message_part))
        fail_msg("message \"%s\" lacks \"%s\"", roar_error_last(), message_part);
    roar_buf_dispose(&out);
}

static void test_nothing_set(void **state)
{
    (void)state;
    clear_env();
    expect_text("");
}

/* Both styles git has used: 'key=value' (before 2.31) and 'key'='value'. */
static void test_parameter_styles(void **state)
{
    (void)state;
    clear_env();
    setenv("GIT_CONFIG_PARAMETERS", "'Roar.Exclude=a b' 'color.UI'='always'  'x.flag' 'x.empty'=''",
           1);
    expect_text("[roar]\n\texclude = \"a b\"\n"
                "[color]\n\tui = \"always\"\n"
                "[x]\n\tflag\n"
                "[x]\n\tempty = \"\"\n");
}

/* Quotes inside values ('\'' joins quoted parts), escapes the config syntax needs, and
 * a subsection kept byte for byte, dots and case included. */
static void test_quoting_and_subsections(void **state)
{
    (void)state;
    clear_env();
    setenv("GIT_CONFIG_PARAMETERS",
           "'remote.My \"Odd\".Remote.URL'='it'\\''s \\ here\n\tx'", 1);
    expect_text("[remote \"My \\\"Odd\\\".Remote\"]\n\turl = \"it's \\\\ here\\n\\tx\"\n");
}

/* GIT_CONFIG_COUNT comes first, as in git; GIT_CONFIG_PARAMETERS after it. */
static void test_counted(void **state)
{
    (void)state;
    clear_env();
    setenv("GIT_CONFIG_COUNT", "2", 1);
    setenv("GIT_CONFIG_KEY_0", "roar.hashWait", 1);
    setenv("GIT_CONFIG_VALUE_0", "5s", 1);
    setenv("GIT_CONFIG_KEY_1", "core.quotePath", 1);
    setenv("GIT_CONFIG_VALUE_1", "false", 1);
    setenv("GIT_CONFIG_PARAMETERS", "'roar.hashwait'='7s'", 1);
    expect_text("[roar]\n\thashwait = \"5s\"\n"
                "[core]\n\tquotepath = \"false\"\n"
                "[roar]\n\thashwait = \"7s\"\n");
}

static void test_malformed(void **state)
{
    static const struct {
        const char *params, *count, *key0, *message;
    } cases[] = {
        {"roar.x=1", NULL, NULL, "bogus format in GIT_CONFIG_PARAMETERS"},
        {"'roar.x=1", NULL, NULL, "bogus format"},
        {"'roar.x'=1", NULL, NULL, "bogus format"},
        {"'roar.x'='1'junk", NULL, NULL, "bogus format"},
        {"'nodot=1'", NULL, NULL, "invalid config key: nodot"},
        {"'roar.1x=1'", NULL, NULL, "invalid config key"},
        {"'=1'", NULL, NULL, "empty config key"},
        {NULL, "2x", NULL, "bogus count in GIT_CONFIG_COUNT"},
        {NULL, "1", NULL, "missing config key GIT_CONFIG_KEY_0"},
        {NULL, "1", "a.b", "missing config value GIT_CONFIG_VALUE_0"},
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        clear_env();
        if (cases[i].params)
            setenv("GIT_CONFIG_PARAMETERS", cases[i].params, 1);
        if (cases[i].count)
            setenv("GIT_CONFIG_COUNT", cases[i].count, 1);
        if (cases[i].key0)
            setenv("GIT_CONFIG_KEY_0", cases[i].key0, 1);
        expect_invalid(cases[i].message);
    }
    clear_env();
}

/* What git itself puts in the environment for `git -c ... <external command>`. */
static void test_as_git_passes_it(void **state)
{
    char line[PATH_MAX];
    roar_buf out = ROAR_BUF_INIT;
    (void)state;
    clear_env();
    /* An external command, as `git roar` is: git runs `git-envdump` from PATH. */
    roar_test_sh("printf '#!/bin/sh\\nprintf %%%%s \"$GIT_CONFIG_PARAMETERS\"\\n' >'%s/git-envdump' && "
                 "chmod +x '%s/git-envdump'", root, root);
    roar_test_sh_line(line, sizeof(line),
                      "PATH='%s':\"$PATH\" git -c roar.exclude='data dir' -c Roar.Flag -c "
                      "'sec.Sub.name=it'\\''s' -c x.e= envdump", root);
    setenv("GIT_CONFIG_PARAMETERS", line, 1);
    assert_int_equal(roar_cmdline_config_text(&out), 0);
    assert_string_equal(out.ptr, "[roar]\n\texclude = \"data dir\"\n"
                                 "[roar]\n\tflag\n"
                                 "[sec \"Sub\"]\n\tname = \"it's\"\n"
                                 "[x]\n\te = \"\"\n");
    roar_buf_dispose(&out);
    clear_env();
}

/* Through roar_repo_open: above the repository's own file, last one wins. */
static void test_repository_reads_them(void **state)
{
    char dir[PATH_MAX];
    roar_repo *repo = NULL;
    git_config *cfg = NULL;
    git_buf value = {0};
    int flag = 0;
    (void)state;

    clear_env();
    roar_test_fmt_path(dir, sizeof(dir), "%s/repo", root);
    roar_test_sh("git init -q '%s' && git -C '%s' config roar.notesRef refs/notes/local", dir, dir);
    setenv("GIT_CONFIG_PARAMETERS",
           "'roar.notesRef'='refs/notes/first' 'roar.notesref'='refs/notes/cmdline' 'roar.flag'", 1);
    assert_int_equal(roar_repo_open(&repo, dir), 0);
    assert_int_equal(git_repository_config_snapshot(&cfg, roar_repo_git(repo)), 0);
    assert_int_equal(git_config_get_string_buf(&value, cfg, "roar.notesRef"), 0);
    assert_string_equal(value.ptr, "refs/notes/cmdline");
    assert_int_equal(git_config_get_bool(&flag, cfg, "roar.flag"), 0);
    assert_true(flag);
    git_buf_dispose(&value);
    git_config_free(cfg);
    roar_repo_free(repo);
    clear_env();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nothing_set),
        cmocka_unit_test(test_parameter_styles),
        cmocka_unit_test(test_quoting_and_subsections),
        cmocka_unit_test(test_counted),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_as_git_passes_it),
        cmocka_unit_test(test_repository_reads_them),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
