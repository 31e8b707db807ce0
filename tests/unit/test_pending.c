/* Unit tests of src/gitstore/pending: the worktree key of real main and linked
 * worktrees, atomic writes (nothing left on failure), listing and reading records. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>

#include "gitstore/pending.h"
#include "gitstore/repo.h"
#include "graph/record.h"
#include "util/err.h"

#include "testutil.h"

static char dir[256];
static char pend[300];

static const char ID1[] = "0123456789abcdef0123456789abcdef01234567";
static const char ID2[] = "fedcba9876543210fedcba9876543210fedcba98";

static int setup(void **state)
{
    const char *base = getenv("TMPDIR");
    (void)state;
    snprintf(dir, sizeof(dir), "%s/roar-pending-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(dir))
        return -1;
    snprintf(pend, sizeof(pend), "%s/pending", dir);
    return mkdir(pend, 0777);
}

static int teardown(void **state)
{
    char cmd[1024];
    (void)state;
    snprintf(cmd, sizeof(cmd), "chmod -R u+rwx '%s'; rm -rf '%s'", dir, dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* The names in pend, dotfiles included, sorted, joined by spaces. */
static void listing(char *out, size_t cap)
{
    struct dirent **names;
    int n = scandir(pend, &names, NULL, alphasort), i;
    out[0] = '\0';
    assert_true(n >= 0);
    for (i = 0; i < n; i++) {
        if (strcmp(names[i]->d_name, ".") && strcmp(names[i]->d_name, "..")) {
            if (out[0])
                strncat(out, " ", cap - strlen(out) - 1);
            strncat(out, names[i]->d_name, cap - strlen(out) - 1);
        }
        free(names[i]);
    }
    free(names);
}

static void test_write_read_list(void **state)
{
    roar_pending_list list = ROAR_PENDING_LIST_INIT;
    roar_buf path = ROAR_BUF_INIT, text = ROAR_BUF_INIT;
    char names[1024], want[512];
    (void)state;

    assert_int_equal(roar_pending_write(&path, pend, ID1, "main", "job x\nrest\n", 12), 0);
    snprintf(want, sizeof(want), "%s/%s@main", pend, ID1);
    assert_string_equal(path.ptr, want);
    assert_int_equal(roar_pending_write(NULL, pend, ID2, "wt2", "second\n", 7), 0);
    /* Replacing a record with the same bytes is fine (same id, same content). */
    assert_int_equal(roar_pending_write(NULL, pend, ID1, "main", "job x\nrest\n", 12), 0);

    listing(names, sizeof(names));
    snprintf(want, sizeof(want), "%s@main %s@wt2", ID1, ID2);
    assert_string_equal(names, want);

    assert_int_equal(roar_pending_list_read(&list, pend, NULL), 0);
    assert_int_equal(list.count, 2);
    assert_string_equal(list.items[0].id, ID1);
    assert_string_equal(list.items[0].worktree, "main");
    assert_string_equal(list.items[1].id, ID2);
    assert_string_equal(list.items[1].worktree, "wt2");
    assert_int_equal(roar_pending_read(&text, pend, list.items[0].name), 0);
    assert_int_equal(text.size, 12);
    assert_memory_equal(text.ptr, "job x\nrest\n", 12);

    assert_int_equal(roar_pending_list_read(&list, pend, "wt2"), 0);
    assert_int_equal(list.count, 1);
    assert_string_equal(list.items[0].id, ID2);

    roar_pending_list_dispose(&list);
    roar_buf_dispose(&path);
    roar_buf_dispose(&text);
}

static void test_list_skips_what_is_not_a_record(void **state)
{
    roar_pending_list list = ROAR_PENDING_LIST_INIT;
    char p[512];
    FILE *f;
    (void)state;

    assert_int_equal(roar_pending_write(NULL, pend, ID1, "main", "r\n", 2), 0);
    /* A temp file of a write in progress, a claim dir, junk names, a subdirectory. */
    snprintf(p, sizeof(p), "%s/.tmp-%s-abcdef", pend, ID2);
    assert_non_null(f = fopen(p, "w"));
    fclose(f);
    snprintf(p, sizeof(p), "%s/.claim", pend);
    assert_int_equal(mkdir(p, 0777), 0);
    snprintf(p, sizeof(p), "%s/README", pend);
    assert_non_null(f = fopen(p, "w"));
    fclose(f);
    snprintf(p, sizeof(p), "%s/%s@", pend, ID2);
    assert_non_null(f = fopen(p, "w"));
    fclose(f);
    snprintf(p, sizeof(p), "%s/0123456789ABCDEF0123456789abcdef01234567@main", pend);
    assert_non_null(f = fopen(p, "w"));
    fclose(f);
    snprintf(p, sizeof(p), "%s/%s@dir", pend, ID2);
    assert_int_equal(mkdir(p, 0777), 0);

    assert_int_equal(roar_pending_list_read(&list, pend, NULL), 0);
    assert_int_equal(list.count, 1);
    assert_string_equal(list.items[0].id, ID1);
    roar_pending_list_dispose(&list);
}

static void test_missing_dir_is_empty_and_gone_file_is_notfound(void **state)
{
    roar_pending_list list = ROAR_PENDING_LIST_INIT;
    roar_buf text = ROAR_BUF_INIT, missing = ROAR_BUF_INIT;
    (void)state;

    assert_int_equal(roar_buf_printf(&missing, "%s/nope", dir), 0);
    assert_int_equal(roar_pending_list_read(&list, missing.ptr, NULL), 0);
    assert_int_equal(list.count, 0);
    assert_int_equal(roar_pending_read(&text, pend, "gone@main"), ROAR_ENOTFOUND);
    roar_buf_dispose(&text);
    roar_buf_dispose(&missing);
}

static void test_refuses_bad_names(void **state)
{
    (void)state;
    assert_int_equal(roar_pending_write(NULL, pend, "abc", "main", "r\n", 2), ROAR_EINVALID);
    assert_int_equal(roar_pending_write(NULL, pend, ID1, "a/b", "r\n", 2), ROAR_EINVALID);
    assert_int_equal(roar_pending_write(NULL, pend, ID1, ".x", "r\n", 2), ROAR_EINVALID);
    assert_int_equal(roar_pending_write(NULL, pend, ID1, "", "r\n", 2), ROAR_EINVALID);
}

static void test_failed_write_leaves_nothing(void **state)
{
    char names[1024];
    (void)state;

    if (geteuid() == 0)
        skip(); /* root writes into a read-only directory anyway */
    assert_int_equal(chmod(pend, 0555), 0);
    assert_true(roar_pending_write(NULL, pend, ID1, "main", "r\n", 2) < 0);
    assert_non_null(strstr(roar_error_last(), pend));
    assert_int_equal(chmod(pend, 0777), 0);
    listing(names, sizeof(names));
    assert_string_equal(names, "");
}

/* A failure once the temp file exists removes it: a non-empty directory under the
 * final name makes the rename fail. (A full disk is t0200-run-basic's: it needs a
 * tmpfs mount.) */
static void test_rename_failure_removes_the_temp_file(void **state)
{
    char p[512], names[1024], want[512];
    (void)state;

    snprintf(p, sizeof(p), "%s/%s@main", pend, ID1);
    assert_int_equal(mkdir(p, 0777), 0);
    snprintf(p, sizeof(p), "%s/%s@main/x", pend, ID1);
    assert_int_equal(mkdir(p, 0777), 0);
    assert_true(roar_pending_write(NULL, pend, ID1, "main", "r\n", 2) < 0);
    assert_non_null(strstr(roar_error_last(), "cannot rename"));
    listing(names, sizeof(names));
    snprintf(want, sizeof(want), "%s@main", ID1);
    assert_string_equal(names, want);
}

static void test_worktree_key(void **state)
{
    roar_repo *repo = NULL;
    roar_buf key = ROAR_BUF_INIT, pdir = ROAR_BUF_INIT;
    char p[512], want[600];
    (void)state;

    roar_test_sh_in(dir,
                    "git init -q main && cd main && git config user.name T && "
                    "git config user.email t@example.com && git commit -q --allow-empty -m one && "
                    "git worktree add -q ../linked-wt");
    snprintf(p, sizeof(p), "%s/main", dir);
    assert_int_equal(roar_repo_open(&repo, p), 0);
    assert_int_equal(roar_pending_worktree_key(&key, repo), 0);
    assert_string_equal(key.ptr, "main");
    assert_int_equal(roar_pending_dir(&pdir, repo), 0);
    snprintf(want, sizeof(want), "%s/roar/pending", roar_repo_commondir(repo));
    assert_string_equal(pdir.ptr, want);
    roar_repo_free(repo);

    snprintf(p, sizeof(p), "%s/linked-wt", dir);
    assert_int_equal(roar_repo_open(&repo, p), 0);
    assert_int_equal(roar_pending_worktree_key(&key, repo), 0);
    assert_string_equal(key.ptr, "linked-wt");
    /* Linked worktrees share the common dir's pending directory. */
    assert_int_equal(roar_pending_dir(&pdir, repo), 0);
    assert_string_equal(pdir.ptr, want);
    roar_repo_free(repo);
    roar_buf_dispose(&key);
    roar_buf_dispose(&pdir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_write_read_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_skips_what_is_not_a_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_dir_is_empty_and_gone_file_is_notfound, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_refuses_bad_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_write_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rename_failure_removes_the_temp_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_worktree_key, setup, teardown),
    };
    int failed;

    git_libgit2_init();
    failed = cmocka_run_group_tests_name("pending", tests, NULL, NULL);
    git_libgit2_shutdown();
    return failed;
}
