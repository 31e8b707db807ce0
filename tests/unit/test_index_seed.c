/* Unit tests of src/gitstore/index_seed in real repositories made with the git CLI:
 * which index entries become stat cache rows, and that their ids are git's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>

#include "gitstore/index_seed.h"
#include "graph/cache.h"
#include "graph/hash.h"
#include "graph/oid.h"
#include "util/err.h"

#include "testutil.h"

struct fixture {
    char dir[256];  /* holds repo/ and cache.db */
    char repo[300]; /* the work tree */
    char db[300];
    roar_cache *cache;
    git_repository *git;
};

static struct fixture fx;

static void write_file(const char *name, const char *text)
{
    char path[512];
    FILE *f;
    snprintf(path, sizeof(path), "%s/%s", fx.repo, name);
    assert_non_null(f = fopen(path, "w"));
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static void sleep_past_racy_margin(void)
{
    struct timespec ts = {.tv_sec = ROAR_HASH_RACY_MARGIN_NS / 1000000000LL,
                          .tv_nsec = 200 * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* The identity a lookup would use for `name` (lstat: a symlink is its own file). */
static void key_of(roar_stat_key *out, const char *name)
{
    char path[512];
    struct stat st;
    snprintf(path, sizeof(path), "%s/%s", fx.repo, name);
    assert_int_equal(lstat(path, &st), 0);
    roar_stat_key_from_stat(out, &st);
}

static void git_hash_object(char out[ROAR_OID_HEXSZ + 1], const char *name)
{
    char cmd[1024], line[128] = "";
    FILE *p;
    snprintf(cmd, sizeof(cmd), "cd '%s' && git hash-object --no-filters -- '%s'", fx.repo, name);
    assert_non_null(p = popen(cmd, "r"));
    assert_non_null(fgets(line, sizeof(line), p));
    assert_int_equal(pclose(p), 0);
    line[strcspn(line, "\n")] = '\0';
    assert_true(roar_oid_is_hex(line));
    memcpy(out, line, ROAR_OID_HEXSZ + 1);
}

static void assert_seeded(const char *name)
{
    char got[ROAR_OID_HEXSZ + 1], want[ROAR_OID_HEXSZ + 1], path[512];
    roar_stat_key key;
    int64_t hashed_at;
    uint64_t before;

    key_of(&key, name);
    git_hash_object(want, name);
    if (roar_cache_hash_get(fx.cache, &key, got, &hashed_at) != 0)
        fail_msg("'%s' was not seeded", name);
    assert_string_equal(got, want);
    /* Trusted as seeded: a lookup answers without reading the file. */
    snprintf(path, sizeof(path), "%s/%s", fx.repo, name);
    before = roar_hash_bytes_hashed();
    assert_int_equal(roar_hash_file(got, NULL, fx.cache, path, NULL), 0);
    assert_string_equal(got, want);
    assert_int_equal(roar_hash_bytes_hashed(), before);
}

static void assert_not_seeded(const char *name)
{
    char got[ROAR_OID_HEXSZ + 1];
    roar_stat_key key;
    int64_t hashed_at;

    key_of(&key, name);
    if (roar_cache_hash_get(fx.cache, &key, got, &hashed_at) != ROAR_ENOTFOUND)
        fail_msg("'%s' was seeded (%s) but must not be", name, got);
}

static int setup(void **state)
{
    const char *base = getenv("TMPDIR");
    char cmd[1024];
    (void)state;

    snprintf(fx.dir, sizeof(fx.dir), "%s/roar-seed-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(fx.dir))
        return -1;
    snprintf(fx.repo, sizeof(fx.repo), "%s/repo", fx.dir);
    snprintf(fx.db, sizeof(fx.db), "%s/cache.db", fx.dir);
    snprintf(cmd, sizeof(cmd),
             "git init -q '%s' && git -C '%s' config user.name T && "
             "git -C '%s' config user.email t@example.com",
             fx.repo, fx.repo, fx.repo);
    if (system(cmd) != 0 || roar_cache_open(&fx.cache, fx.db) < 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    char cmd[512];
    (void)state;
    git_repository_free(fx.git);
    fx.git = NULL;
    roar_cache_free(fx.cache);
    fx.cache = NULL;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx.dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void open_repo(void)
{
    git_repository_free(fx.git);
    fx.git = NULL;
    assert_int_equal(git_repository_open(&fx.git, fx.repo), 0);
}

static size_t seed(void)
{
    size_t n = 99;
    int error = roar_index_seed_cache(&n, fx.cache, fx.git, fx.repo);
    if (error < 0)
        fail_msg("seeding failed: %s", roar_error_last());
    return n;
}

static void test_seeds_committed_files_except_converted_or_changed(void **state)
{
    (void)state;
    write_file(".gitattributes", "filtered.dat filter=noop\n"
                                 "text.txt text\n"
                                 "auto.txt text=auto\n"
                                 "eol.txt eol=lf\n"
                                 "ident.txt ident\n"
                                 "encoded.txt working-tree-encoding=ISO-8859-1\n"
                                 "binary.dat -text\n");
    write_file("plain.txt", "plain\n");
    write_file("run.sh", "#!/bin/sh\necho hi\n");
    write_file("binary.dat", "bytes\r\n");
    write_file("filtered.dat", "filtered\n");
    write_file("text.txt", "text\n");
    write_file("auto.txt", "auto\n");
    write_file("eol.txt", "eol\n");
    write_file("ident.txt", "ident\n");
    write_file("encoded.txt", "encoded\n");
    write_file("modified.txt", "before\n");
    write_file("skipped.txt", "skip-worktree\n");
    write_file("assumed.txt", "assume-unchanged\n");
    write_file("future.txt", "from the future\n");
    roar_test_sh_in(fx.repo,
                    "chmod 755 run.sh && ln -s plain.txt link && touch -d '+1 hour' future.txt");
    sleep_past_racy_margin(); /* so the index is written well after the files */
    roar_test_sh_in(fx.repo, "git add -A && git commit -q -m files && "
                             "git update-index --skip-worktree skipped.txt && "
                             "git update-index --assume-unchanged assumed.txt");
    write_file("modified.txt", "after\n");
    open_repo();

    assert_int_equal(seed(), 4);
    assert_seeded("plain.txt");
    assert_seeded("run.sh");
    assert_seeded("binary.dat"); /* -text unsets conversion: seeded */
    assert_seeded(".gitattributes");
    assert_not_seeded("filtered.dat");
    assert_not_seeded("text.txt");
    assert_not_seeded("auto.txt");
    assert_not_seeded("eol.txt");
    assert_not_seeded("ident.txt");
    assert_not_seeded("encoded.txt");
    assert_not_seeded("modified.txt");
    assert_not_seeded("skipped.txt");
    assert_not_seeded("assumed.txt");
    assert_not_seeded("future.txt"); /* mtime after the index's: racy */
    assert_not_seeded("link");

    /* Trusted rows are not rewritten by a second pass. */
    assert_int_equal(seed(), 0);

    /* Without the attributes the same, untouched files are seeded: it was the
     * attributes that kept them out, and their index ids are their work-tree ids. */
    write_file(".gitattributes", "binary.dat -text\n");
    /* Committed too: libgit2 also reads the index's copy (see index_seed.h). */
    roar_test_sh_in(fx.repo, "git add .gitattributes && git commit -q -m 'no conversions'");
    open_repo();
    /* and the new .gitattributes, written just before the index: git's rule, or
     * read again as racy */
    assert_int_equal(seed(), 7);
    assert_seeded(".gitattributes");
    assert_seeded("filtered.dat");
    assert_seeded("text.txt");
    assert_seeded("auto.txt");
    assert_seeded("eol.txt");
    assert_seeded("ident.txt");
    assert_seeded("encoded.txt");
    assert_not_seeded("modified.txt");
}

static void test_autocrlf_seeds_nothing(void **state)
{
    static const char *const values[] = {"true", "input"};
    (void)state;

    write_file("plain.txt", "plain\n");
    write_file("other.txt", "other\n");
    sleep_past_racy_margin();
    roar_test_sh_in(fx.repo, "git add -A && git commit -q -m files");
    for (size_t i = 0; i < 2; i++) {
        roar_test_sh_in(fx.repo, "git config core.autocrlf %s", values[i]);
        open_repo();
        assert_int_equal(seed(), 0);
        assert_not_seeded("plain.txt");
        assert_not_seeded("other.txt");
    }
    /* The same repository seeds once autocrlf is off: the refusal was autocrlf's. */
    roar_test_sh_in(fx.repo, "git config core.autocrlf false");
    open_repo();
    assert_int_equal(seed(), 2);
    assert_seeded("plain.txt");
    assert_seeded("other.txt");
}

static void test_racy_entries_are_read_again(void **state)
{
    (void)state;
    /* Written and committed at once: seeded, under git's rule or read again (the
     * sleep: the seed's stamp must fall in a later clock tick than the file's). */
    write_file("plain.txt", "plain\n");
    roar_test_sh_in(fx.repo, "git add -A && git commit -q -m files && sleep 0.05");
    open_repo();
    assert_int_equal(seed(), 1);
    assert_seeded("plain.txt");

    /* An index older than the file (racy under git's rule, its stat still matching):
     * the seed reads the file again rather than trust the entry, as git's refresh does,
     * and the row it stores is trusted. */
    write_file("racy.txt", "racy 1\n");
    roar_test_sh_in(fx.repo, "git add racy.txt && git commit -q -m racy && "
                             "touch -d '-1 hour' .git/index && sleep 0.05");
    open_repo();
    assert_int_equal(seed(), 1);
    assert_seeded("racy.txt");

    /* A file whose mtime is after now is racy against any stamp: never seeded. */
    write_file("future.txt", "future\n");
    roar_test_sh_in(fx.repo, "touch -d '+1 hour' future.txt && git add future.txt && "
                             "git commit -q -m future && touch -d '-1 hour' .git/index");
    open_repo();
    seed();
    assert_not_seeded("future.txt");
}

static void test_no_commit_no_index(void **state)
{
    (void)state;
    write_file("untracked.txt", "untracked\n");
    open_repo();
    assert_int_equal(seed(), 0);
    assert_not_seeded("untracked.txt");
    assert_int_equal(roar_index_seed_cache(NULL, fx.cache, fx.git, ""), ROAR_EINVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_seeds_committed_files_except_converted_or_changed,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_autocrlf_seeds_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_racy_entries_are_read_again, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_commit_no_index, setup, teardown),
    };
    int failed;

    git_libgit2_init();
    failed = cmocka_run_group_tests_name("index seed", tests, NULL, NULL);
    git_libgit2_shutdown();
    return failed;
}
