/* Unit tests of src/gitstore/repo against real repositories made with the git CLI in
 * throwaway directories: discovery, worktrees, bare/SHA-256 errors, shallow clones, dirty. */
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
#include <unistd.h>

#include <git2.h>

#include "gitstore/repo.h"
#include "util/err.h"

#include "testutil.h"

static char root[PATH_MAX]; /* realpath of this run's temp dir; also the ceiling */

/* Per-test directory under root, created by setup and removed by teardown. */
typedef struct {
    char dir[PATH_MAX];
} fixture;

static int group_setup(void **state)
{
    (void)state;

    if (roar_test_git_sandbox(root, "repo") < 0)
        return -1;
    unsetenv("GIT_OBJECT_DIRECTORY");
    unsetenv("GIT_COMMON_DIR");
    git_libgit2_init();
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    git_libgit2_shutdown();
    roar_test_sh("rm -rf '%s'", root);
    return 0;
}

static int setup(void **state)
{
    static unsigned counter;
    fixture *fx = calloc(1, sizeof(*fx));

    if (!fx)
        return -1;
    roar_test_fmt_path(fx->dir, sizeof(fx->dir), "%s/t%u", root, ++counter);
    if (mkdir(fx->dir, 0777) < 0)
        return -1;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    unsetenv("GIT_DIR");
    unsetenv("GIT_WORK_TREE");
    roar_test_sh("rm -rf '%s'", fx->dir);
    free(fx);
    return 0;
}

/* `git init` a repo at <dir>/<name> with one commit per message given (NULL ends). */
static void make_repo(char *out, const fixture *fx, const char *name, ...)
{
    va_list ap;
    const char *msg;

    roar_test_fmt_path(out, PATH_MAX, "%s/%s", fx->dir, name);
    roar_test_sh("git init -q -b main '%s'", out);
    va_start(ap, name);
    while ((msg = va_arg(ap, const char *)) != NULL)
        roar_test_sh("cd '%s' && echo '%s' >> history.txt && git add history.txt && "
                     "git commit -q -m '%s'",
                     out, msg, msg);
    va_end(ap);
}

static void rev_parse(char out[ROAR_OID_HEXSZ + 1], const char *repo, const char *rev)
{
    char line[256];
    roar_test_sh_line(line, sizeof(line), "git -C '%s' rev-parse '%s'", repo, rev);
    assert_int_equal(strlen(line), ROAR_OID_HEXSZ);
    memcpy(out, line, ROAR_OID_HEXSZ + 1);
}

static void hash_object(char out[ROAR_OID_HEXSZ + 1], const char *path)
{
    char line[256];
    roar_test_sh_line(line, sizeof(line), "git hash-object --no-filters '%s'", path);
    assert_int_equal(strlen(line), ROAR_OID_HEXSZ);
    memcpy(out, line, ROAR_OID_HEXSZ + 1);
}

static void test_discovers_from_subdirectory(void **state)
{
    fixture *fx = *state;
    char repo_dir[PATH_MAX], sub[PATH_MAX], want[PATH_MAX + 16], cwd[PATH_MAX];
    roar_repo *repo = NULL;

    make_repo(repo_dir, fx, "repo", "first", NULL);
    roar_test_fmt_path(sub, sizeof(sub), "%s/a/b", repo_dir);
    roar_test_sh("mkdir -p '%s'", sub);

    assert_int_equal(roar_repo_open(&repo, sub), 0);
    assert_string_equal(roar_repo_worktree(repo), repo_dir);
    roar_test_fmt_path(want, sizeof(want), "%s/.git", repo_dir);
    assert_string_equal(roar_repo_gitdir(repo), want);
    assert_string_equal(roar_repo_commondir(repo), want);
    roar_test_fmt_path(want, sizeof(want), "%s/.git/roar", repo_dir);
    assert_string_equal(roar_repo_roar_dir(repo), want);
    assert_non_null(roar_repo_git(repo));
    assert_int_equal(roar_repo_require_worktree(repo), 0);
    roar_repo_free(repo);

    /* NULL means the current directory. */
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir(sub), 0);
    assert_int_equal(roar_repo_open(&repo, NULL), 0);
    assert_int_equal(chdir(cwd), 0);
    assert_string_equal(roar_repo_worktree(repo), repo_dir);
    roar_repo_free(repo);
}

static void test_honours_git_dir(void **state)
{
    fixture *fx = *state;
    char repo_dir[PATH_MAX], gitdir[PATH_MAX + 8], elsewhere[PATH_MAX];
    roar_repo *repo = NULL;

    make_repo(repo_dir, fx, "repo", "first", NULL);
    roar_test_fmt_path(gitdir, sizeof(gitdir), "%s/.git", repo_dir);
    roar_test_fmt_path(elsewhere, sizeof(elsewhere), "%s/elsewhere", fx->dir);
    roar_test_sh("mkdir -p '%s'", elsewhere);

    setenv("GIT_DIR", gitdir, 1);
    setenv("GIT_WORK_TREE", repo_dir, 1);
    assert_int_equal(roar_repo_open(&repo, elsewhere), 0);
    assert_string_equal(roar_repo_gitdir(repo), gitdir);
    assert_string_equal(roar_repo_worktree(repo), repo_dir);
    roar_repo_free(repo);

    /* GIT_DIR alone: as for git, the current (here: start) directory is the top. */
    unsetenv("GIT_WORK_TREE");
    assert_int_equal(roar_repo_open(&repo, elsewhere), 0);
    assert_string_equal(roar_repo_gitdir(repo), gitdir);
    assert_string_equal(roar_repo_worktree(repo), elsewhere);
    roar_repo_free(repo);

    setenv("GIT_DIR", elsewhere, 1);
    assert_int_equal(roar_repo_open(&repo, repo_dir), ROAR_ENOTFOUND);
    assert_null(repo);
    assert_non_null(strstr(roar_error_last(), "not a git repository"));
}

static void test_worktree_is_realpath(void **state)
{
    fixture *fx = *state;
    char repo_dir[PATH_MAX], link[PATH_MAX], start[PATH_MAX + 8];
    roar_repo *repo = NULL;

    make_repo(repo_dir, fx, "repo", "first", NULL);
    roar_test_sh("mkdir -p '%s/sub'", repo_dir);
    roar_test_fmt_path(link, sizeof(link), "%s/link", fx->dir);
    assert_int_equal(symlink(repo_dir, link), 0);
    roar_test_fmt_path(start, sizeof(start), "%s/sub", link);

    assert_int_equal(roar_repo_open(&repo, start), 0);
    assert_string_equal(roar_repo_worktree(repo), repo_dir); /* not .../link */
    assert_null(strstr(roar_repo_gitdir(repo), "/link"));
    roar_repo_free(repo);
}

static void test_linked_worktree_shares_commondir(void **state)
{
    fixture *fx = *state;
    char repo_dir[PATH_MAX], wt[PATH_MAX], want[PATH_MAX + 32], pending[PATH_MAX + 32];
    roar_repo *main_repo = NULL, *linked = NULL;
    struct stat st;
    mode_t mask;

    make_repo(repo_dir, fx, "repo", "first", NULL);
    roar_test_fmt_path(wt, sizeof(wt), "%s/wt", fx->dir);
    roar_test_sh("git -C '%s' worktree add -q '%s' 2>/dev/null", repo_dir, wt);

    assert_int_equal(roar_repo_open(&main_repo, repo_dir), 0);
    assert_int_equal(roar_repo_open(&linked, wt), 0);
    assert_string_equal(roar_repo_worktree(linked), wt);
    roar_test_fmt_path(want, sizeof(want), "%s/.git/worktrees/wt", repo_dir);
    assert_string_equal(roar_repo_gitdir(linked), want);
    assert_string_equal(roar_repo_commondir(linked), roar_repo_commondir(main_repo));
    assert_string_equal(roar_repo_roar_dir(linked), roar_repo_roar_dir(main_repo));

    /* Created from the linked worktree, it lands in the shared common dir. */
    mask = umask(022);
    assert_int_equal(roar_repo_ensure_roar_dir(linked), 0);
    assert_int_equal(roar_repo_ensure_roar_dir(linked), 0); /* idempotent */
    umask(mask);
    roar_test_fmt_path(pending, sizeof(pending), "%s/.git/roar/pending", repo_dir);
    assert_int_equal(stat(pending, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0755);

    roar_repo_free(linked);
    roar_repo_free(main_repo);
}

static void test_bare_repository(void **state)
{
    fixture *fx = *state;
    char bare[PATH_MAX];
    roar_repo *repo = NULL;
    bool dirty;

    roar_test_fmt_path(bare, sizeof(bare), "%s/bare.git", fx->dir);
    roar_test_sh("git init -q --bare '%s'", bare);
    assert_int_equal(roar_repo_open(&repo, bare), 0);
    assert_null(roar_repo_worktree(repo));
    assert_string_equal(roar_repo_gitdir(repo), bare);
    assert_int_equal(roar_repo_require_worktree(repo), ROAR_EUNSUPPORTED);
    assert_string_equal(roar_error_last(), "this operation must be run in a work tree");
    assert_int_equal(roar_repo_path_is_dirty(&dirty, repo, "x", NULL), ROAR_EUNSUPPORTED);
    roar_repo_free(repo);
}

static void test_not_a_repository(void **state)
{
    fixture *fx = *state;
    char plain[PATH_MAX];
    roar_repo *repo = (roar_repo *)0x1;

    roar_test_fmt_path(plain, sizeof(plain), "%s/plain/deeper", fx->dir);
    roar_test_sh("mkdir -p '%s'", plain);
    assert_int_equal(roar_repo_open(&repo, plain), ROAR_ENOTFOUND);
    assert_null(repo);
    assert_string_equal(roar_error_last(),
                        "not a git repository (or any of the parent directories): .git");
}

static void test_sha256_repository(void **state)
{
    fixture *fx = *state;
    char dir[PATH_MAX], sub[PATH_MAX + 8], want[2 * PATH_MAX];
    roar_repo *repo = NULL;

    roar_test_fmt_path(dir, sizeof(dir), "%s/s256", fx->dir);
    roar_test_sh("git init -q --object-format=sha256 '%s'", dir);
    roar_test_fmt_path(sub, sizeof(sub), "%s/sub", dir);
    roar_test_sh("mkdir -p '%s'", sub);
    roar_test_fmt_path(
        want, sizeof(want),
        "repository '%s/.git' uses SHA-256 object names, which git roar cannot read yet "
        "(libgit2 1.5)",
        dir);

    assert_int_equal(roar_repo_open(&repo, sub), ROAR_EUNSUPPORTED);
    assert_null(repo);
    assert_string_equal(roar_error_last(), want);

    /* The same through GIT_DIR, as `git --git-dir` users reach it. */
    roar_test_fmt_path(sub, sizeof(sub), "%s/.git", dir);
    setenv("GIT_DIR", sub, 1);
    assert_int_equal(roar_repo_open(&repo, fx->dir), ROAR_EUNSUPPORTED);
    assert_string_equal(roar_error_last(), want);
}

static void test_head(void **state)
{
    fixture *fx = *state;
    char repo_dir[PATH_MAX], hex[ROAR_OID_HEXSZ + 1], want[ROAR_OID_HEXSZ + 1];
    roar_repo *repo = NULL;

    make_repo(repo_dir, fx, "repo", NULL);
    assert_int_equal(roar_repo_open(&repo, repo_dir), 0);
    assert_int_equal(roar_repo_head(hex, repo), ROAR_ENOTFOUND);
    assert_non_null(strstr(roar_error_last(), "unborn"));

    roar_test_sh("cd '%s' && git commit -q --allow-empty -m one", repo_dir);
    rev_parse(want, repo_dir, "HEAD");
    assert_int_equal(roar_repo_head(hex, repo), 0);
    assert_string_equal(hex, want);

    /* Detached HEAD too. */
    roar_test_sh("cd '%s' && git commit -q --allow-empty -m two && git checkout -q --detach HEAD~1",
                 repo_dir);
    assert_int_equal(roar_repo_head(hex, repo), 0);
    assert_string_equal(hex, want);
    roar_repo_free(repo);
}

static roar_ancestry ancestry_of(roar_repo *repo, const char *a_hex, const char *b_hex)
{
    git_oid a, b;
    roar_ancestry rel = (roar_ancestry)-1;
    assert_int_equal(git_oid_fromstr(&a, a_hex), 0);
    assert_int_equal(git_oid_fromstr(&b, b_hex), 0);
    assert_int_equal(roar_repo_ancestry(&rel, repo, &a, &b), 0);
    return rel;
}

static void test_ancestry_full_history(void **state)
{
    fixture *fx = *state;
    char dir[PATH_MAX], c1[41], c2[41], c3[41], side[41], merge[41];
    roar_repo *repo = NULL;
    bool shallow = true, is;
    const char *const *roots = NULL;
    size_t nroots = 99;

    make_repo(dir, fx, "repo", "c1", "c2", "c3", NULL);
    rev_parse(c1, dir, "HEAD~2");
    rev_parse(c2, dir, "HEAD~1");
    rev_parse(c3, dir, "HEAD");
    roar_test_sh(
        "cd '%s' && git checkout -q -b side HEAD~2 && echo s > side.txt && git add side.txt && "
        "git commit -q -m side && git checkout -q main && git merge -q --no-edit side",
        dir);
    rev_parse(side, dir, "side");
    rev_parse(merge, dir, "main");

    assert_int_equal(roar_repo_open(&repo, dir), 0);
    assert_int_equal(roar_repo_is_shallow(&shallow, repo), 0);
    assert_false(shallow);
    assert_int_equal(roar_repo_shallow_roots(&roots, &nroots, repo), 0);
    assert_int_equal(nroots, 0);

    assert_int_equal(roar_repo_is_ancestor(&is, repo, c1, c3), 0);
    assert_true(is);
    assert_int_equal(roar_repo_is_ancestor(&is, repo, c3, c1), 0);
    assert_false(is);
    assert_int_equal(roar_repo_is_ancestor(&is, repo, c2, c2), 0);
    assert_true(is);
    assert_int_equal(roar_repo_is_ancestor(&is, repo, side, merge), 0); /* second parent */
    assert_true(is);
    assert_int_equal(roar_repo_is_ancestor(&is, repo, side, c3), 0);
    assert_false(is);
    assert_int_equal(roar_repo_is_ancestor(&is, repo, c1, side), 0);
    assert_true(is);

    /* The same answers walked from both ends at once. */
    assert_int_equal(ancestry_of(repo, c1, c3), ROAR_ANCESTRY_A_IN_B);
    assert_int_equal(ancestry_of(repo, c3, c1), ROAR_ANCESTRY_B_IN_A);
    assert_int_equal(ancestry_of(repo, c2, c2), ROAR_ANCESTRY_SAME);
    assert_int_equal(ancestry_of(repo, side, merge), ROAR_ANCESTRY_A_IN_B);
    assert_int_equal(ancestry_of(repo, merge, side), ROAR_ANCESTRY_B_IN_A);
    assert_int_equal(ancestry_of(repo, side, c3), ROAR_ANCESTRY_UNRELATED);
    assert_int_equal(ancestry_of(repo, c3, side), ROAR_ANCESTRY_UNRELATED);

    assert_int_equal(roar_repo_is_ancestor(&is, repo, "c1", c3), ROAR_EINVALID);
    assert_int_equal(
        roar_repo_is_ancestor(&is, repo, c1, "0123456789abcdef0123456789abcdef01234567"),
        ROAR_ENOTFOUND);
    roar_repo_free(repo);
}

static void test_shallow_clone(void **state)
{
    fixture *fx = *state;
    char origin[PATH_MAX], clone[PATH_MAX], clone2[PATH_MAX];
    char c1[41], c2[41], c3[41], c4[41];
    roar_repo *repo = NULL;
    const char *const *roots = NULL;
    size_t nroots = 0;
    bool shallow = false, is = true;

    make_repo(origin, fx, "origin", "c1", "c2", "c3", NULL);
    rev_parse(c1, origin, "HEAD~2");
    rev_parse(c2, origin, "HEAD~1");
    rev_parse(c3, origin, "HEAD");

    roar_test_fmt_path(clone, sizeof(clone), "%s/depth1", fx->dir);
    roar_test_sh("git clone -q --depth 1 'file://%s' '%s'", origin, clone);
    assert_int_equal(roar_repo_open(&repo, clone), 0);
    assert_int_equal(roar_repo_is_shallow(&shallow, repo), 0);
    assert_true(shallow);
    assert_int_equal(roar_repo_shallow_roots(&roots, &nroots, repo), 0);
    assert_int_equal(nroots, 1);
    assert_string_equal(roots[0], c3);

    assert_int_equal(roar_repo_is_ancestor(&is, repo, c3, c3), 0);
    assert_true(is);
    /* c1 lies below the shallow boundary: not reachable in what we hold, and no crash. */
    assert_int_equal(roar_repo_is_ancestor(&is, repo, c1, c3), 0);
    assert_false(is);

    /* New work on top of the shallow root. */
    roar_test_sh("cd '%s' && echo c4 >> history.txt && git commit -q -am c4", clone);
    rev_parse(c4, clone, "HEAD");
    assert_int_equal(roar_repo_is_ancestor(&is, repo, c3, c4), 0);
    assert_true(is);
    assert_int_equal(roar_repo_is_ancestor(&is, repo, c4, c3), 0);
    assert_false(is);
    /* Below the boundary nothing is reached from either end. */
    assert_int_equal(ancestry_of(repo, c3, c4), ROAR_ANCESTRY_A_IN_B);
    assert_int_equal(ancestry_of(repo, c4, c3), ROAR_ANCESTRY_B_IN_A);
    roar_repo_free(repo);

    roar_test_fmt_path(clone2, sizeof(clone2), "%s/depth2", fx->dir);
    roar_test_sh("git clone -q --depth 2 'file://%s' '%s'", origin, clone2);
    assert_int_equal(roar_repo_open(&repo, clone2), 0);
    assert_int_equal(roar_repo_shallow_roots(&roots, &nroots, repo), 0);
    assert_int_equal(nroots, 1);
    assert_string_equal(roots[0], c2);
    assert_int_equal(roar_repo_is_ancestor(&is, repo, c2, c3), 0);
    assert_true(is);
    assert_int_equal(roar_repo_is_ancestor(&is, repo, c1, c3), 0);
    assert_false(is);
    roar_repo_free(repo);

    /* A shallow file whose root's parent object does exist (deepened later) must
     * still stop the walk there, as git does. */
    roar_test_sh("echo %s > '%s/.git/shallow'", c2, origin);
    assert_int_equal(roar_repo_open(&repo, origin), 0);
    assert_int_equal(roar_repo_is_ancestor(&is, repo, c1, c3), 0);
    assert_false(is);
    assert_int_equal(roar_repo_is_ancestor(&is, repo, c2, c3), 0);
    assert_true(is);
    roar_repo_free(repo);
}

static void test_dirty(void **state)
{
    fixture *fx = *state;
    char dir[PATH_MAX], path[PATH_MAX + 32];
    char tracked_id[41], modified_id[41], untracked_id[41], ignored_id[41];
    roar_repo *repo = NULL;
    bool dirty;

    make_repo(dir, fx, "repo", NULL);
    roar_test_sh("cd '%s' && mkdir -p src data && echo 'print(1)' > src/train.py && "
                 "printf 'data/\\n*.bin\\n' > .gitignore && git add .gitignore src/train.py && "
                 "git commit -q -m init",
                 dir);
    roar_test_fmt_path(path, sizeof(path), "%s/src/train.py", dir);
    hash_object(tracked_id, path);
    roar_test_sh("echo 'print(2)' > '%s'", path);
    hash_object(modified_id, path);
    roar_test_sh("cd '%s' && echo new > notes.txt && echo 1,2 > data/raw.csv && echo x > w.bin",
                 dir);
    roar_test_fmt_path(path, sizeof(path), "%s/notes.txt", dir);
    hash_object(untracked_id, path);
    roar_test_fmt_path(path, sizeof(path), "%s/data/raw.csv", dir);
    hash_object(ignored_id, path);

    assert_int_equal(roar_repo_open(&repo, dir), 0);

    assert_int_equal(roar_repo_path_is_dirty(&dirty, repo, "src/train.py", tracked_id), 0);
    assert_false(dirty); /* the content HEAD holds */
    assert_int_equal(roar_repo_path_is_dirty(&dirty, repo, "src/train.py", modified_id), 0);
    assert_true(dirty);
    assert_int_equal(roar_repo_path_is_dirty(&dirty, repo, "src/train.py", NULL), 0);
    assert_true(dirty); /* unknown id: cannot show it equals HEAD's */
    assert_int_equal(roar_repo_path_is_dirty(&dirty, repo, "notes.txt", untracked_id), 0);
    assert_true(dirty);
    assert_int_equal(roar_repo_path_is_dirty(&dirty, repo, "data/raw.csv", ignored_id), 0);
    assert_false(dirty);
    assert_int_equal(roar_repo_path_is_dirty(&dirty, repo, "w.bin", NULL), 0);
    assert_false(dirty);
    assert_int_equal(roar_repo_path_is_dirty(&dirty, repo, "src", NULL), 0);
    assert_true(dirty); /* a tree in HEAD is not the file read */

    /* Staged but not committed: tracked, yet HEAD does not hold it. */
    roar_test_sh("cd '%s' && git add notes.txt", dir);
    assert_int_equal(roar_repo_path_is_dirty(&dirty, repo, "notes.txt", untracked_id), 0);
    assert_true(dirty);

    assert_int_equal(roar_repo_path_is_dirty(&dirty, repo, "/abs", NULL), ROAR_EINVALID);
    assert_int_equal(roar_repo_path_is_dirty(&dirty, repo, "notes.txt", "xyz"), ROAR_EINVALID);
    roar_repo_free(repo);
}

static void test_dirty_without_head(void **state)
{
    fixture *fx = *state;
    char dir[PATH_MAX], path[PATH_MAX + 32], id[41];
    roar_repo *repo = NULL;
    bool dirty;

    make_repo(dir, fx, "repo", NULL);
    roar_test_sh("cd '%s' && echo '*.csv' > .gitignore && echo a > a.txt && echo 1 > d.csv", dir);
    roar_test_fmt_path(path, sizeof(path), "%s/a.txt", dir);
    hash_object(id, path);
    assert_int_equal(roar_repo_open(&repo, dir), 0);
    assert_int_equal(roar_repo_path_is_dirty(&dirty, repo, "a.txt", id), 0);
    assert_true(dirty);
    assert_int_equal(roar_repo_path_is_dirty(&dirty, repo, "d.csv", NULL), 0);
    assert_false(dirty);
    roar_repo_free(repo);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_discovers_from_subdirectory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_honours_git_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_worktree_is_realpath, setup, teardown),
        cmocka_unit_test_setup_teardown(test_linked_worktree_shares_commondir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bare_repository, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_a_repository, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sha256_repository, setup, teardown),
        cmocka_unit_test_setup_teardown(test_head, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ancestry_full_history, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shallow_clone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dirty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dirty_without_head, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
