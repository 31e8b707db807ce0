/* Unit tests of pathcanon (SPEC §4.2) on real directories, symlinks and git repos
 * (made with the git CLI) in a temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trace/pathcanon.h"
#include "util/err.h"

#include "testutil.h"

static char tmp[256];    /* realpath of the scratch directory */
static char top[320];    /* tmp/repo: the main work tree */
static char gitdir[340]; /* tmp/repo/.git */
static roar_pathcanon *pc;

static int setup(void **state)
{
    char templ[] = "/tmp/roar-pathcanon-XXXXXX", *real;
    const char *gitdirs[1];
    (void)state;
    if (!mkdtemp(templ) || !(real = realpath(templ, NULL)))
        return -1;
    snprintf(tmp, sizeof(tmp), "%s", real);
    free(real);
    snprintf(top, sizeof(top), "%s/repo", tmp);
    snprintf(gitdir, sizeof(gitdir), "%s/.git", top);
    roar_test_sh_in(
        tmp, "git init -q repo && mkdir -p repo/data outside/deep && echo x > outside/big.csv");
    gitdirs[0] = gitdir;
    return roar_pathcanon_new(&pc, top, gitdirs, 1);
}

static int teardown(void **state)
{
    char cmd[512];
    (void)state;
    roar_pathcanon_free(pc);
    pc = NULL;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
    return system(cmd) == 0 ? 0 : -1;
}

/* Maps "<prefix><path>" and checks kind and recorded form ("@" in `want` = tmp). */
static void expect_map(roar_pathcanon *p, const char *abs, roar_path_kind want_kind,
                       const char *want)
{
    roar_buf out = ROAR_BUF_INIT, expected = ROAR_BUF_INIT;
    roar_path_kind kind = (roar_path_kind)-1;
    if (want[0] == '@') {
        assert_int_equal(roar_buf_printf(&expected, "%s%s", tmp, want + 1), 0);
    } else {
        assert_int_equal(roar_buf_puts(&expected, want), 0);
    }
    assert_int_equal(roar_pathcanon_map(&out, &kind, p, abs), 0);
    if (kind != want_kind || strcmp(out.ptr, expected.ptr) != 0)
        fail_msg("map('%s') = %d '%s', want %d '%s'", abs, kind, out.ptr, want_kind,
                 expected.ptr);
    roar_buf_dispose(&out);
    roar_buf_dispose(&expected);
}

static const char *T(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *T(const char *fmt, ...)
{
    static char bufs[4][1024];
    static int next;
    char *b = bufs[next++ % 4];
    int n = snprintf(b, 1024, "%s", tmp);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b + n, 1024 - (size_t)n, fmt, ap);
    va_end(ap);
    return b;
}

static void test_inside_lexically(void **state)
{
    (void)state;
    expect_map(pc, T("/repo/data/train.csv"), ROAR_PATH_WORKTREE, "data/train.csv");
    expect_map(pc, T("/repo/./data//train.csv"), ROAR_PATH_WORKTREE, "data/train.csv");
    expect_map(pc, T("/repo/data/../train.py"), ROAR_PATH_WORKTREE, "train.py");
    expect_map(pc, T("/repo"), ROAR_PATH_WORKTREE, ".");
    /* A name that merely starts like the top is outside. */
    expect_map(pc, T("/repository/x"), ROAR_PATH_OUTSIDE, "@/repository/x");
}

/* DVC-style: data symlinked in from another disk stays a work-tree path. */
static void test_data_symlink_stays_inside(void **state)
{
    (void)state;
    roar_test_sh_in(tmp,
                    "ln -s ../../outside/big.csv repo/data/link.csv && ln -s ../outside repo/ext");
    expect_map(pc, T("/repo/data/link.csv"), ROAR_PATH_WORKTREE, "data/link.csv");
    /* Even through a symlinked directory inside the work tree. */
    expect_map(pc, T("/repo/ext/big.csv"), ROAR_PATH_WORKTREE, "ext/big.csv");
}

/* A cwd reached through a symlink outside the work tree maps into it. */
static void test_symlinked_cwd_maps_inside(void **state)
{
    (void)state;
    roar_test_sh_in(
        tmp, "ln -s repo alias && ln -s repo/data datalink && mkdir hop && ln -s ../alias hop/up");
    expect_map(pc, T("/alias/data/x.csv"), ROAR_PATH_WORKTREE, "data/x.csv");
    expect_map(pc, T("/datalink/x.csv"), ROAR_PATH_WORKTREE, "data/x.csv");
    expect_map(pc, T("/hop/up/data/x.csv"), ROAR_PATH_WORKTREE, "data/x.csv");
    expect_map(pc, T("/alias/top.txt"), ROAR_PATH_WORKTREE, "top.txt");
    /* `..` is lexical (SPEC §4.2): datalink/.. is tmp, not repo. */
    expect_map(pc, T("/datalink/../x.csv"), ROAR_PATH_OUTSIDE, "@/x.csv");
    /* The file itself is not resolved: a symlink outside that points inside is the
     * outside name (its directory is what decides). */
    roar_test_sh_in(tmp, "ln -s repo/data/x.csv filelink");
    expect_map(pc, T("/filelink"), ROAR_PATH_OUTSIDE, "@/filelink");
}

static void test_dotdot_across_the_top(void **state)
{
    (void)state;
    expect_map(pc, T("/repo/../outside/big.csv"), ROAR_PATH_OUTSIDE, "@/outside/big.csv");
    expect_map(pc, T("/repo/data/../../repo/a"), ROAR_PATH_WORKTREE, "a");
    expect_map(pc, T("/repo/.."), ROAR_PATH_OUTSIDE, "@");
    expect_map(pc, "/../../etc/passwd", ROAR_PATH_OUTSIDE, "/etc/passwd");
    expect_map(pc, "/", ROAR_PATH_OUTSIDE, "/");
    expect_map(pc, "/x", ROAR_PATH_OUTSIDE, "/x");
}

/* Outside paths are resolved: the directory part through realpath. */
static void test_outside_resolved(void **state)
{
    (void)state;
    roar_test_sh_in(tmp, "ln -s outside/deep dl && ln -s big.csv outside/cur.csv");
    expect_map(pc, T("/dl/f.bin"), ROAR_PATH_OUTSIDE, "@/outside/deep/f.bin");
    expect_map(pc, T("/dl/../x"), ROAR_PATH_OUTSIDE, "@/x");
    /* The name itself is kept: the file may be a symlink. */
    expect_map(pc, T("/outside/cur.csv"), ROAR_PATH_OUTSIDE, "@/outside/cur.csv");
}

static void test_deleted_files_and_directories(void **state)
{
    (void)state;
    roar_test_sh_in(tmp, "ln -s repo alias && mkdir -p outside/gone && ln -s outside/gone gl");
    expect_map(pc, T("/repo/data/deleted.csv"), ROAR_PATH_WORKTREE, "data/deleted.csv");
    /* Missing directories resolve through their nearest existing ancestor. */
    expect_map(pc, T("/alias/new/sub/x"), ROAR_PATH_WORKTREE, "new/sub/x");
    expect_map(pc, T("/nowhere/a/b"), ROAR_PATH_OUTSIDE, "@/nowhere/a/b");
    /* A directory resolved once keeps its resolution when it is removed later in the
     * job (a file deleted with its directory is still named consistently). */
    expect_map(pc, T("/gl/f"), ROAR_PATH_OUTSIDE, "@/outside/gone/f");
    roar_test_sh_in(tmp, "rm -r outside/gone gl");
    expect_map(pc, T("/gl/f"), ROAR_PATH_OUTSIDE, "@/outside/gone/f");
}

static void test_git_dirs(void **state)
{
    roar_pathcanon *wpc;
    char wt[400], wgit[400];
    const char *gitdirs[2];
    (void)state;

    expect_map(pc, T("/repo/.git/HEAD"), ROAR_PATH_GITDIR, "@/repo/.git/HEAD");
    expect_map(pc, T("/repo/.git"), ROAR_PATH_GITDIR, "@/repo/.git");
    expect_map(pc, T("/repo/data/../.git/objects/ab/cd"), ROAR_PATH_GITDIR,
               "@/repo/.git/objects/ab/cd");
    roar_test_sh_in(tmp, "ln -s repo/.git gitlink && mkdir -p repo/vendor/lib/.git");
    expect_map(pc, T("/gitlink/config"), ROAR_PATH_GITDIR, "@/repo/.git/config");
    /* A nested repository's git dir inside the work tree. */
    expect_map(pc, T("/repo/vendor/lib/.git/index"), ROAR_PATH_GITDIR,
               "@/repo/vendor/lib/.git/index");
    /* `.gitignore`, `.github` are ordinary files. */
    expect_map(pc, T("/repo/.gitignore"), ROAR_PATH_WORKTREE, ".gitignore");
    expect_map(pc, T("/repo/.github/x.yml"), ROAR_PATH_WORKTREE, ".github/x.yml");

    /* A linked worktree: its own git dir under the common one, and a `.git` file. */
    roar_test_sh_in(
        tmp, "cd repo && git -c user.name=t -c user.email=t@t commit -q --allow-empty -m c && "
             "git worktree add -q ../wt");
    snprintf(wt, sizeof(wt), "%s/wt", tmp);
    snprintf(wgit, sizeof(wgit), "%s/worktrees/wt", gitdir);
    gitdirs[0] = wgit;
    gitdirs[1] = gitdir;
    assert_int_equal(roar_pathcanon_new(&wpc, wt, gitdirs, 2), 0);
    expect_map(wpc, T("/wt/data.csv"), ROAR_PATH_WORKTREE, "data.csv");
    expect_map(wpc, T("/wt/.git"), ROAR_PATH_GITDIR, "@/wt/.git");
    expect_map(wpc, T("/repo/.git/worktrees/wt/HEAD"), ROAR_PATH_GITDIR,
               "@/repo/.git/worktrees/wt/HEAD");
    expect_map(wpc, T("/repo/.git/objects/pack/x.pack"), ROAR_PATH_GITDIR,
               "@/repo/.git/objects/pack/x.pack");
    /* The main work tree is just another directory outside this one. */
    expect_map(wpc, T("/repo/data/x.csv"), ROAR_PATH_OUTSIDE, "@/repo/data/x.csv");
    roar_pathcanon_free(wpc);
}

static void test_odd_names(void **state)
{
    (void)state;
    roar_test_sh_in(tmp, "mkdir -p 'repo/sp ace' \"$(printf 'out\\nside')\" && "
                         "ln -s \"$(printf 'out\\nside')\" \"$(printf 'l\\377nk')\" && "
                         "ln -s repo 'al ias'");
    expect_map(pc, T("/repo/sp ace/a b.csv"), ROAR_PATH_WORKTREE, "sp ace/a b.csv");
    expect_map(pc, T("/repo/new\nline"), ROAR_PATH_WORKTREE, "new\nline");
    expect_map(pc, T("/repo/\xff\xfe.bin"), ROAR_PATH_WORKTREE, "\xff\xfe.bin");
    expect_map(pc, T("/al ias/sp ace/\xff"), ROAR_PATH_WORKTREE, "sp ace/\xff");
    expect_map(pc, T("/l\377nk/f\tx"), ROAR_PATH_OUTSIDE, "@/out\nside/f\tx");
}

static void test_errors(void **state)
{
    roar_buf out = ROAR_BUF_INIT;
    roar_path_kind kind;
    roar_pathcanon *bad;
    const char *gitdirs[1] = {"relative/.git"};
    (void)state;
    assert_int_equal(roar_pathcanon_map(&out, &kind, pc, "data/x"), ROAR_EINVALID);
    assert_int_equal(roar_pathcanon_map(&out, &kind, pc, ""), ROAR_EINVALID);
    assert_int_equal(roar_pathcanon_new(&bad, "relative", NULL, 0), ROAR_EINVALID);
    assert_null(bad);
    assert_int_equal(roar_pathcanon_new(&bad, "/abs", gitdirs, 1), ROAR_EINVALID);
    assert_null(bad);
    roar_buf_dispose(&out);
    roar_pathcanon_free(NULL);
}

/* The cache must not change answers: many paths in many directories, twice. */
static void test_cache_consistency(void **state)
{
    int i, round;
    (void)state;
    roar_test_sh_in(
        tmp,
        "ln -s repo alias && for i in 0 1 2 3 4 5 6 7 8 9; do mkdir -p repo/d$i outside/o$i; done");
    for (round = 0; round < 2; round++) {
        for (i = 0; i < 200; i++) {
            char want[64];
            snprintf(want, sizeof(want), "d%d/f%d", i % 10, i);
            expect_map(pc, T("/alias/d%d/f%d", i % 10, i), ROAR_PATH_WORKTREE, want);
            snprintf(want, sizeof(want), "@/outside/o%d/f%d", i % 10, i);
            expect_map(pc, T("/outside/o%d/./f%d", i % 10, i), ROAR_PATH_OUTSIDE, want);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_inside_lexically, setup, teardown),
        cmocka_unit_test_setup_teardown(test_data_symlink_stays_inside, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symlinked_cwd_maps_inside, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dotdot_across_the_top, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outside_resolved, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deleted_files_and_directories, setup, teardown),
        cmocka_unit_test_setup_teardown(test_git_dirs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_odd_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_consistency, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
