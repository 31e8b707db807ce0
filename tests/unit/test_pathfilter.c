/* Unit tests of pathfilter (SPEC §4.8): every default, per-exec prefixes, pyvenv.cfg
 * roots on disk, roar.exclude / roar.include and .roarignore. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trace/pathfilter.h"
#include "util/err.h"

#include "testutil.h"

/* Scratch under the build directory, not /tmp: /tmp is itself filtered outside the
 * work tree, and the outside cases need directories that are not. */
static char scratch[512];
static char top[600];
static roar_pathfilter *pf;

static const char *S(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *S(const char *fmt, ...)
{
    static char bufs[4][1024];
    static int next;
    char *b = bufs[next++ % 4];
    int n = snprintf(b, 1024, "%s", scratch);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b + n, 1024 - (size_t)n, fmt, ap);
    va_end(ap);
    return b;
}

/* The scratch tree stands for files outside the work tree, so it must not itself lie
 * below a default-filtered root: the build dir may be under /tmp (CI clones anywhere). */
static bool under_filtered_root(const char *dir)
{
    static const char *const roots[] = {"/tmp", "/var/tmp", "/proc", "/sys", "/dev", "/run",
                                        "/etc", "/usr", "/lib", "/bin", "/sbin", "/opt",
                                        "/var/cache", "/var/lib"};
    char *real = realpath(dir, NULL);
    const char *tmpdir = getenv("TMPDIR");
    bool hit = !real;

    for (size_t i = 0; real && !hit && i < sizeof(roots) / sizeof(roots[0]); i++) {
        size_t n = strlen(roots[i]);
        hit = strncmp(real, roots[i], n) == 0 && (real[n] == '/' || real[n] == '\0' ||
                                                   (!strcmp(roots[i], "/lib") && real[n]));
    }
    if (real && !hit && tmpdir && *tmpdir)
        hit = strncmp(real, tmpdir, strlen(tmpdir)) == 0;
    free(real);
    return hit;
}

static const char *scratch_base(void)
{
    const char *candidates[] = {getenv("ROAR_BUILD_DIR"), getenv("HOME")};
    for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++)
        if (candidates[i] && *candidates[i] && !under_filtered_root(candidates[i]))
            return candidates[i];
    return NULL;
}

static int setup(void **state)
{
    const char *base = scratch_base();
    char templ[512], *real;
    (void)state;
    if (!base) {
        fprintf(stderr, "SKIP: no scratch directory outside the default-filtered roots\n");
        return -1;
    }
    snprintf(templ, sizeof(templ), "%s/pathfilter-XXXXXX", base);
    if (!mkdtemp(templ) || !(real = realpath(templ, NULL)))
        return -1;
    snprintf(scratch, sizeof(scratch), "%s", real);
    free(real);
    snprintf(top, sizeof(top), "%s/repo", scratch);
    roar_test_sh_in(scratch, "mkdir -p repo");
    pf = NULL;
    return 0;
}

static int teardown(void **state)
{
    char cmd[600];
    (void)state;
    roar_pathfilter_free(pf);
    pf = NULL;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch);
    return system(cmd) == 0 ? 0 : -1;
}

static void make_filter(const char *const *exclude, size_t nexclude, const char *const *include,
                        size_t ninclude, const char *roarignore)
{
    roar_pathfilter_opts opts;
    memset(&opts, 0, sizeof(opts));
    opts.worktree_real = top;
    opts.home = "/home/alice";
    opts.tmpdir = "/scratch/tmp";
    opts.exclude = exclude;
    opts.nexclude = nexclude;
    opts.include = include;
    opts.ninclude = ninclude;
    opts.roarignore = roarignore;
    opts.roarignore_len = roarignore ? strlen(roarignore) : 0;
    roar_pathfilter_free(pf);
    assert_int_equal(roar_pathfilter_new(&pf, &opts), 0);
}

#define KEEP(path, kind) assert_true(roar_pathfilter_keep(pf, (path), (kind)))
#define DROP(path, kind) assert_false(roar_pathfilter_keep(pf, (path), (kind)))
#define W ROAR_PATH_WORKTREE
#define O ROAR_PATH_OUTSIDE

static void test_outside_defaults(void **state)
{
    static const char *const dropped[] = {
        "/proc/self/maps", "/sys/kernel/x", "/dev/shm/x", "/run/user/1000/x", "/tmp/x.csv",
        "/scratch/tmp/x", "/var/tmp/x", "/etc/passwd", "/usr/lib/python3.11/os.py",
        "/usr/bin/python3", "/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2",
        "/libx32/x", "/bin/sh", "/sbin/ldconfig", "/opt/conda/x", "/var/cache/apt/x",
        "/var/lib/dpkg/status", "/home/alice/.cache/pip/x",
    };
    static const char *const kept[] = {
        "/home/alice/data/raw.csv", "/srv/data/x.parquet", "/mnt/disk/big.bin",
        "/var/log/app.log", "/tmpdata/x", "/home/alice/.cachet", "/etcetera/x",
        "/home/bob/.cache/x", "/scratch/tmpx/y", "/variable/lib/x",
    };
    size_t i;
    (void)state;
    make_filter(NULL, 0, NULL, 0, NULL);
    for (i = 0; i < sizeof(dropped) / sizeof(dropped[0]); i++)
        if (roar_pathfilter_keep(pf, dropped[i], O))
            fail_msg("kept %s", dropped[i]);
    for (i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
        if (!roar_pathfilter_keep(pf, kept[i], O))
            fail_msg("dropped %s", kept[i]);
}

/* Inside the work tree everything is recorded, whatever its name: the outside
 * defaults do not apply to relative paths. */
static void test_worktree_kept(void **state)
{
    (void)state;
    make_filter(NULL, 0, NULL, 0, NULL);
    KEEP("data/train.csv", W);
    KEEP("tmp/x", W);
    KEEP("etc/config.yaml", W);
    KEEP("lib/util.py", W);
    KEEP("usr/x", W);
    KEEP(".gitignore", W);
    DROP(".git/HEAD", ROAR_PATH_GITDIR);
    DROP("/any/where", ROAR_PATH_GITDIR);
    DROP("", W);
}

static void test_everywhere_python_defaults(void **state)
{
    (void)state;
    make_filter(NULL, 0, NULL, 0, NULL);
    DROP("env/lib/python3.11/site-packages/numpy/__init__.py", W);
    DROP("/home/alice/proj/lib/python3/dist-packages/x.py", O);
    DROP("src/__pycache__/m.cpython-311.pyc", W);
    DROP("src/__pycache__/anything.txt", W);
    DROP("old.pyc", W);
    DROP("/home/alice/x.pyc", O);
    KEEP("site-packages", W);       /* a file of that name, not the directory */
    KEEP("notes/site-packages.md", W);
    KEEP("__pycache__x/y.py", W);
    KEEP("a.pyc.bak", W);
    KEEP("src/m.py", W);
}

static void test_pyvenv_roots(void **state)
{
    (void)state;
    roar_test_sh_in(
        scratch,
        "mkdir -p repo/.venv/lib repo/tools/env/bin venvish outvenv/lib/x repo/nested/a/b && "
        "touch repo/.venv/pyvenv.cfg repo/tools/env/pyvenv.cfg outvenv/pyvenv.cfg && "
        "mkdir repo/notvenv && mkdir repo/notvenv/pyvenv.cfg");
    make_filter(NULL, 0, NULL, 0, NULL);
    DROP(".venv/lib/python3.11/os.py", W);
    DROP(".venv/pyvenv.cfg", W);
    DROP(".venv/bin/python", W);
    DROP("tools/env/bin/activate", W);
    DROP(S("/outvenv/lib/x/y.py"), O);
    KEEP(S("/venvish/y.py"), O);
    KEEP("tools/run.py", W);
    KEEP("nested/a/b/c.csv", W);
    /* A pyvenv.cfg that is a directory does not make a venv root. */
    KEEP("notvenv/x", W);
    /* Asked again: answered from the per-directory cache, identically. */
    DROP(".venv/lib/python3.11/os.py", W);
    KEEP("nested/a/b/c.csv", W);
}

/* The work tree's top itself is never taken for a venv root: recording everything
 * in it is what the user asked for. */
static void test_pyvenv_at_top_ignored(void **state)
{
    (void)state;
    roar_test_sh_in(scratch, "touch repo/pyvenv.cfg");
    make_filter(NULL, 0, NULL, 0, NULL);
    KEEP("data.csv", W);
    KEEP("sub/data.csv", W);
}

static void test_exec_prefixes(void **state)
{
    (void)state;
    roar_test_sh_in(scratch, "mkdir -p pyenv/versions/3.11/bin");
    make_filter(NULL, 0, NULL, 0, NULL);
    assert_int_equal(roar_pathfilter_add_exec(pf, S("/pyenv/versions/3.11/bin/python3.11")), 0);
    DROP(S("/pyenv/versions/3.11/lib/python3.11/os.py"), O);
    DROP(S("/pyenv/versions/3.11/lib64/libpython3.11.so"), O);
    DROP(S("/pyenv/versions/3.11/include/python3.11/Python.h"), O);
    DROP(S("/pyenv/versions/3.11/share/man/x"), O);
    /* Never the whole prefix: the program itself and other data stay. */
    KEEP(S("/pyenv/versions/3.11/bin/python3.11"), O);
    KEEP(S("/pyenv/versions/3.11/data/x.csv"), O);
    KEEP(S("/pyenv/versions/3.11"), O);
    KEEP(S("/pyenv/versions/3.12/lib/x.py"), O);
    /* Adding again is harmless. */
    assert_int_equal(roar_pathfilter_add_exec(pf, S("/pyenv/versions/3.11/bin/python3")), 0);
    DROP(S("/pyenv/versions/3.11/lib/python3.11/os.py"), O);

    /* Not `<prefix>/bin/<name>`: nothing changes. */
    assert_int_equal(roar_pathfilter_add_exec(pf, "/home/alice/tools/run"), 0);
    KEEP("/home/alice/lib/x", O);
    assert_int_equal(roar_pathfilter_add_exec(pf, "/home/alice/xbin/run"), 0);
    KEEP("/home/alice/share/x", O);
    assert_int_equal(roar_pathfilter_add_exec(pf, "relative/bin/x"), 0);
    KEEP("/home/alice/relative/lib/x", O);
    /* A program inside the work tree adds nothing. */
    assert_int_equal(roar_pathfilter_add_exec(pf, S("/repo/bin/tool")), 0);
    KEEP(S("/repo/lib/x"), O);
    /* /bin/<name>: the root prefix. */
    assert_int_equal(roar_pathfilter_add_exec(pf, "/bin/ls"), 0);
    DROP("/include/x.h", O);
    DROP("/share/x", O);
    KEEP("/srv/x", O);
}

/* Version managers (docs/filters.md): a root recognised by its layout loses its own
 * files; the interpreters it installed, the user's files beside it and the work tree
 * stay. */
static void test_version_managers(void **state)
{
    roar_pathfilter_opts opts;
    (void)state;
    roar_test_sh_in(scratch, "mkdir -p pyenv/shims pyenv/libexec pyenv/versions/3.11/bin "
                             "rbenv/libexec rbenv/versions/3.2/bin asdf/shims asdf/installs "
                             "nvm/versions/node/v20.1.0/bin notmgr/shims notmgr2/versions "
                             "conda/conda-meta conda/envs/e/conda-meta home/shims home/versions && "
                             ": >rbenv/libexec/rbenv && : >nvm/nvm.sh");
    make_filter(NULL, 0, NULL, 0, NULL);

    /* pyenv: everything of the root but versions/. */
    DROP(S("/pyenv/shims/python3"), O);
    DROP(S("/pyenv/libexec/pyenv-exec"), O);
    DROP(S("/pyenv/version"), O);
    DROP(S("/pyenv/plugins/p/etc/pyenv.d/which/x.bash"), O);
    DROP(S("/pyenv/pyenv.d/exec/pip-rehash.bash"), O);
    KEEP(S("/pyenv/versions/3.11/bin/python3.11"), O);
    KEEP(S("/pyenv/versions/3.11/data.csv"), O);
    KEEP(S("/pyenvx/version"), O);
    KEEP(S("/.python-version"), O); /* beside the root: the user's, not the manager's */
    /* The work tree is never filtered by it, even a .python-version there. */
    KEEP(".python-version", W);
    KEEP("shims/python3", W);

    /* rbenv without shims yet: its libexec command names it. */
    DROP(S("/rbenv/version"), O);
    KEEP(S("/rbenv/versions/3.2/bin/ruby"), O);

    /* asdf: shims beside installs/. */
    DROP(S("/asdf/plugins/python/bin/exec-env"), O);
    DROP(S("/asdf/shims/python"), O);
    KEEP(S("/asdf/installs/python/3.11/bin/python3.11"), O);

    /* nvm: nvm.sh beside versions/. */
    DROP(S("/nvm/nvm.sh"), O);
    DROP(S("/nvm/alias/default"), O);
    KEEP(S("/nvm/versions/node/v20.1.0/bin/node"), O);

    /* conda: a prefix's metadata and activation, never its other files. */
    DROP(S("/conda/envs/e/conda-meta/numpy.json"), O);
    DROP(S("/conda/envs/e/etc/conda/activate.d/x.sh"), O);
    DROP(S("/conda/etc/profile.d/conda.sh"), O);
    DROP(S("/conda/condabin/conda"), O);
    DROP(S("/conda/bin/activate"), O);
    KEEP(S("/conda/bin/python3.11"), O);
    KEEP(S("/conda/envs/e/data.csv"), O);
    KEEP(S("/conda/envs/e/etc/jupyter/x.json"), O);

    /* Half a layout is no manager's. */
    KEEP(S("/notmgr/x.csv"), O);
    KEEP(S("/notmgr2/x.csv"), O);

    /* $HOME is never a manager's root, whatever it holds. */
    memset(&opts, 0, sizeof(opts));
    opts.worktree_real = top;
    opts.home = S("/home");
    roar_pathfilter_free(pf);
    assert_int_equal(roar_pathfilter_new(&pf, &opts), 0);
    KEEP(S("/home/data.csv"), O);
    DROP(S("/pyenv/version"), O);
}

static void test_exclude_and_include(void **state)
{
    static const char *const exclude[] = {
        "data/raw/**", "*.log", "scratch", "/home/alice/big", "**/*.bak", "data/**",
    };
    static const char *const include[] = {
        "data/keep.csv", "/etc/myapp/**", "/usr/share/dict", "**/*.pyc", "lib/site-packages",
        "/home/alice/big/wanted.bin",
    };
    (void)state;
    make_filter(exclude, 6, NULL, 0, NULL);
    DROP("data/raw/a.csv", W);
    DROP("x.log", W);
    KEEP("logs/x.log", W); /* `*` does not cross `/` */
    DROP("scratch/a/b", W); /* a glob naming a directory covers what is below it */
    KEEP("scratchy/a", W);
    DROP("/home/alice/big/part1", O);
    KEEP("/home/alice/bigger", O);
    DROP("a/b/c.bak", W);
    DROP("data/keep.csv", W);
    KEEP("src/x.py", W);

    make_filter(exclude, 6, include, 6, NULL);
    KEEP("data/keep.csv", W);              /* include beats exclude */
    DROP("data/other.csv", W);
    KEEP("/etc/myapp/conf.yaml", O);       /* ... and the outside defaults */
    DROP("/etc/other", O);
    KEEP("/usr/share/dict/words", O);
    KEEP("src/__pycache__/m.pyc", W);      /* ... and the everywhere defaults */
    KEEP("lib/site-packages/x.py", W);
    KEEP("/home/alice/big/wanted.bin", O);
    DROP("/home/alice/big/unwanted.bin", O);
    DROP(".git/config", ROAR_PATH_GITDIR); /* but never a git dir */
}

static void test_roarignore(void **state)
{
    static const char *const include[] = {"build/wanted.bin"};
    const char *ignore = "# a comment\n"
                         "\n"
                         "*.tmp\n"
                         "!keep.tmp\n"
                         "build/\n"
                         "/top-only.txt\n"
                         "docs/*.md\n"
                         "**/cache/**\n"
                         "\\#hash\n"
                         "\\!bang\n"
                         "trailing.txt   \n"
                         "space\\ \n"
                         "logs\n"
                         "!logs/important.txt\n"
                         "out/*\n"
                         "!out/keep.bin\n"
                         "crlf.txt\r\n"
                         "/deep/**/x.csv\n"
                         "no-final-newline";
    (void)state;
    make_filter(NULL, 0, NULL, 0, ignore);
    DROP("a.tmp", W);
    DROP("sub/b.tmp", W);
    KEEP("keep.tmp", W);
    KEEP("sub/keep.tmp", W);
    DROP("build/out.bin", W);
    DROP("sub/build/x", W);
    KEEP("build", W); /* a file: `build/` matches directories only */
    DROP("top-only.txt", W);
    KEEP("sub/top-only.txt", W);
    DROP("docs/a.md", W);
    KEEP("docs/sub/a.md", W);
    DROP("x/cache/y/z", W);
    DROP("cache/z", W);
    KEEP("# a comment", W);
    DROP("#hash", W);
    DROP("!bang", W);
    DROP("trailing.txt", W);
    DROP("space ", W);
    KEEP("space", W);
    DROP("logs/important.txt", W); /* a file in an excluded directory stays excluded */
    DROP("logs/other.txt", W);
    DROP("out/x.bin", W);
    KEEP("out/keep.bin", W);
    DROP("crlf.txt", W);
    DROP("deep/x.csv", W);
    DROP("deep/a/b/x.csv", W);
    KEEP("other/deep/x.csv", W);
    DROP("no-final-newline", W);
    KEEP("data/train.csv", W);
    /* .roarignore applies to work-tree paths only. */
    KEEP("/srv/a.tmp", O);
    KEEP("/srv/build/out.bin", O);

    make_filter(NULL, 0, include, 1, ignore);
    KEEP("build/wanted.bin", W); /* include beats .roarignore */
    DROP("build/other.bin", W);
}

static void test_errors(void **state)
{
    roar_pathfilter_opts opts;
    roar_pathfilter *bad = (roar_pathfilter *)&opts;
    (void)state;
    memset(&opts, 0, sizeof(opts));
    assert_int_equal(roar_pathfilter_new(&bad, &opts), ROAR_EINVALID);
    assert_null(bad);
    opts.worktree_real = "relative";
    assert_int_equal(roar_pathfilter_new(&bad, &opts), ROAR_EINVALID);
    /* Unset or odd environment values are not errors. */
    opts.worktree_real = top;
    opts.home = "";
    opts.tmpdir = "/";
    assert_int_equal(roar_pathfilter_new(&bad, &opts), 0);
    assert_true(roar_pathfilter_keep(bad, "/srv/x", O));
    assert_true(roar_pathfilter_keep(bad, "/.cache/x", O));
    roar_pathfilter_free(bad);
    roar_pathfilter_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_outside_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_worktree_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_everywhere_python_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pyvenv_roots, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pyvenv_at_top_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exec_prefixes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_version_managers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exclude_and_include, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roarignore, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
