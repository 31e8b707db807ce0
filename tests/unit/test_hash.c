/* Unit tests of src/graph/hash: blob ids equal git's, identity checks, and the stat
 * cache policy (a hit never opens the file, racy and changed files are rehashed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "graph/cache.h"
#include "graph/hash.h"
#include "graph/oid.h"
#include "util/err.h"

#define EMPTY_ID "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
#define HELLO_ID "ce013625030ba8dba906f756967f9e9ca394464a"

static char tmpdir[256];

/* ---- helpers ------------------------------------------------------------------- */

static void make_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof(tmpdir), "%s/roar-hash-XXXXXX", base && *base ? base : "/tmp");
    assert_non_null(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    assert_int_equal(system(cmd), 0);
}

static void tmp_path(char *out, size_t outsz, const char *name)
{
    snprintf(out, outsz, "%s/%s", tmpdir, name);
}

static void write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(close(fd), 0);
}

static FILE *start_git_hash_object(const char *path)
{
    char cmd[1024];
    /* A threshold above every test file keeps git on its plain (mmap) path instead of
     * the 3x slower streaming one; the id does not depend on it. */
    snprintf(cmd, sizeof(cmd), "git -c core.bigFileThreshold=64g hash-object --no-filters -- '%s'",
             path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    return p;
}

static void finish_git_hash_object(char out[ROAR_OID_HEXSZ + 1], FILE *p)
{
    char line[128] = "";
    assert_non_null(fgets(line, sizeof(line), p));
    assert_int_equal(pclose(p), 0);
    line[strcspn(line, "\n")] = '\0';
    assert_true(roar_oid_is_hex(line));
    memcpy(out, line, ROAR_OID_HEXSZ + 1);
}

static void git_hash_object(char out[ROAR_OID_HEXSZ + 1], const char *path)
{
    finish_git_hash_object(out, start_git_hash_object(path));
}

static void fill_random(unsigned char *buf, size_t len, unsigned seed)
{
    for (size_t i = 0; i < len; i++) {
        seed = seed * 1103515245u + 12345u;
        buf[i] = (unsigned char)(seed >> 16);
    }
}

static void sleep_past_racy_margin(void)
{
    struct timespec ts = {.tv_sec = ROAR_HASH_RACY_MARGIN_NS / 1000000000LL,
                          .tv_nsec = 200 * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static int setup_tmpdir(void **state)
{
    (void)state;
    make_tmpdir();
    return 0;
}

static int teardown_tmpdir(void **state)
{
    (void)state;
    remove_tmpdir();
    return 0;
}

/* ---- hashing ------------------------------------------------------------------- */

static void test_vectors(void **state)
{
    char path[512], id[ROAR_OID_HEXSZ + 1];
    (void)state;

    tmp_path(path, sizeof(path), "empty");
    write_file(path, "", 0);
    assert_int_equal(roar_hash_path(id, NULL, path, NULL), 0);
    assert_string_equal(id, EMPTY_ID);

    tmp_path(path, sizeof(path), "hello");
    write_file(path, "hello\n", 6);
    assert_int_equal(roar_hash_path(id, NULL, path, NULL), 0);
    assert_string_equal(id, HELLO_ID);
}

static void test_fd_keeps_offset_and_returns_identity(void **state)
{
    char path[512], id[ROAR_OID_HEXSZ + 1];
    roar_stat_key key, want;
    int fd;
    (void)state;

    tmp_path(path, sizeof(path), "hello-fd");
    write_file(path, "hello\n", 6);
    fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(lseek(fd, 2, SEEK_SET), 2);
    assert_int_equal(roar_stat_key_of_fd(&want, fd), 0);
    assert_int_equal(roar_hash_fd(id, &key, fd, &want), 0);
    assert_string_equal(id, HELLO_ID);
    assert_true(roar_stat_key_equal(&key, &want));
    assert_int_equal(key.size, 6);
    assert_int_equal(lseek(fd, 0, SEEK_CUR), 2); /* the traced program's offset */
    close(fd);
}

static void test_matches_git_small(void **state)
{
    static const size_t sizes[] = {0, 1, 1024 * 1024};
    unsigned char *data = malloc(1024 * 1024);
    char path[512], ours[ROAR_OID_HEXSZ + 1], git[ROAR_OID_HEXSZ + 1];
    (void)state;

    assert_non_null(data);
    fill_random(data, 1024 * 1024, 42);
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        uint64_t before = roar_hash_bytes_hashed();
        snprintf(path, sizeof(path), "%s/size-%zu", tmpdir, sizes[i]);
        write_file(path, data, sizes[i]);
        assert_int_equal(roar_hash_path(ours, NULL, path, NULL), 0);
        assert_int_equal(roar_hash_bytes_hashed() - before, sizes[i]);
        git_hash_object(git, path);
        assert_string_equal(ours, git);
    }
    free(data);
}

/* Sizes that do not fit the 1 MiB buffer, with a partial last chunk. */
static void test_matches_git_odd_sizes(void **state)
{
    static const size_t sizes[] = {1024 * 1024 + 1, 3 * 1024 * 1024 - 7};
    unsigned char *data = malloc(3 * 1024 * 1024);
    char path[512], ours[ROAR_OID_HEXSZ + 1], git[ROAR_OID_HEXSZ + 1];
    (void)state;

    assert_non_null(data);
    fill_random(data, 3 * 1024 * 1024, 7);
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        snprintf(path, sizeof(path), "%s/odd-%zu", tmpdir, sizes[i]);
        write_file(path, data, sizes[i]);
        assert_int_equal(roar_hash_path(ours, NULL, path, NULL), 0);
        git_hash_object(git, path);
        assert_string_equal(ours, git);
    }
    free(data);
}

static void pwrite_all(int fd, const void *data, size_t len, off_t off)
{
    assert_int_equal(pwrite(fd, data, len, off), (ssize_t)len);
}

/* 5 GiB, sparse: over 4 GiB (sizes past 32 bits), with data at the start, in the
 * middle (straddling an extent) and at the very end. Holes are not read, so ours is
 * quick; git reads every zero, so it runs concurrently while we hash. */
static void test_matches_git_sparse_5g(void **state)
{
    const uint64_t size = 5ULL << 30;
    unsigned char chunk[8192];
    char path[512], ours[ROAR_OID_HEXSZ + 1], git[ROAR_OID_HEXSZ + 1];
    struct stat st;
    uint64_t before;
    FILE *git_proc;
    int fd;
    (void)state;

    tmp_path(path, sizeof(path), "sparse-5g");
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)size), 0);
    fill_random(chunk, sizeof(chunk), 99);
    pwrite_all(fd, chunk, 100, 0);
    pwrite_all(fd, chunk, sizeof(chunk), (off_t)(size / 2 - 1000));
    pwrite_all(fd, "tail", 4, (off_t)(size - 4));
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal((uint64_t)st.st_size, size);
    assert_true((uint64_t)st.st_blocks * 512 < size / 1000); /* really sparse */

    git_proc = start_git_hash_object(path);
    before = roar_hash_bytes_hashed();
    assert_int_equal(lseek(fd, 123, SEEK_SET), 123);
    assert_int_equal(roar_hash_fd(ours, NULL, fd, NULL), 0);
    assert_int_equal(lseek(fd, 0, SEEK_CUR), 123); /* SEEK_DATA/HOLE walk undone */
    assert_int_equal(roar_hash_bytes_hashed() - before, size);
    finish_git_hash_object(git, git_proc);
    assert_string_equal(ours, git);
    close(fd);
    unlink(path);
}

/* Holes at both ends (the SEEK_DATA walk ends on ENXIO), and a file that is all hole. */
static void test_matches_git_sparse_holes_at_ends(void **state)
{
    static const uint64_t sizes[] = {10 * 1024 * 1024 + 3, 3 * 1024 * 1024};
    char path[512], ours[ROAR_OID_HEXSZ + 1], git[ROAR_OID_HEXSZ + 1];
    (void)state;

    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        int fd;
        snprintf(path, sizeof(path), "%s/holes-%zu", tmpdir, i);
        fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, (off_t)sizes[i]), 0);
        if (i == 0)
            pwrite_all(fd, "data!", 5, 4 * 1024 * 1024 + 1);
        assert_int_equal(roar_hash_fd(ours, NULL, fd, NULL), 0);
        close(fd);
        git_hash_object(git, path);
        assert_string_equal(ours, git);
    }
}

static void test_expected_identity_differs(void **state)
{
    char path[512], id[ROAR_OID_HEXSZ + 1];
    roar_stat_key at_open;
    uint64_t before;
    int fd;
    (void)state;

    tmp_path(path, sizeof(path), "changes");
    write_file(path, "version one\n", 12);
    assert_int_equal(roar_stat_key_of_path(&at_open, path), 0);
    /* The program wrote it after our "open": same size, new bytes and timestamps. */
    fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    pwrite_all(fd, "VERSION", 7, 0);
    close(fd);
    {
        /* Make the change visible to stat even on a coarse clock. */
        struct timespec times[2] = {{.tv_nsec = UTIME_OMIT},
                                    {.tv_sec = at_open.mtime_ns / 1000000000LL + 10}};
        assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
    }

    before = roar_hash_bytes_hashed();
    strcpy(id, "not touched");
    assert_int_equal(roar_hash_path(id, NULL, path, &at_open), ROAR_ECHANGED);
    assert_string_equal(id, "");
    assert_int_equal(roar_error_last_code(), ROAR_ECHANGED);
    assert_int_equal(roar_hash_file(id, NULL, NULL, path, &at_open), ROAR_ECHANGED);
    assert_string_equal(id, "");
    assert_int_equal(roar_hash_bytes_hashed(), before); /* refused before reading */
}

struct appender {
    const char *path;
    volatile int stop;
};

static void *append_loop(void *arg)
{
    struct appender *a = arg;
    int fd = open(a->path, O_WRONLY | O_APPEND);
    struct timespec ms = {.tv_nsec = 1000000L};
    while (fd >= 0 && !a->stop) {
        if (write(fd, "x", 1) != 1)
            break;
        nanosleep(&ms, NULL);
    }
    if (fd >= 0)
        close(fd);
    return NULL;
}

/* A file appended to every millisecond while a 64 MiB hash runs: the size moves under
 * the hasher, which must say so rather than return an id. */
static void test_change_during_hashing(void **state)
{
    const size_t size = 64 * 1024 * 1024;
    unsigned char *data = calloc(1, size);
    char path[512], id[ROAR_OID_HEXSZ + 1];
    struct appender a = {.path = path};
    pthread_t thread;
    int changed = 0, error = 0;
    (void)state;

    assert_non_null(data);
    tmp_path(path, sizeof(path), "growing");
    write_file(path, data, size);
    free(data);
    assert_int_equal(pthread_create(&thread, NULL, append_loop, &a), 0);
    for (int i = 0; i < 20 && !changed; i++) {
        error = roar_hash_path(id, NULL, path, NULL);
        if (error == ROAR_ECHANGED) {
            changed = 1;
            assert_string_equal(id, "");
        } else {
            assert_int_equal(error, 0);
        }
    }
    a.stop = 1;
    pthread_join(thread, NULL);
    assert_true(changed);
}

struct truncator {
    const char *path;
    long delay_us;
    off_t to;
};

static void *truncate_later(void *arg)
{
    struct truncator *t = arg;
    struct timespec ts = {.tv_nsec = t->delay_us * 1000L};
    nanosleep(&ts, NULL);
    assert_int_equal(truncate(t->path, t->to), 0);
    return NULL;
}

/* A 32 MiB file (big enough to be read on a second thread, util/readahead.h) cut short
 * by another thread at a different moment in each round, from before the hash starts to
 * after it ends. Whatever the moment: no crash, and either ROAR_ECHANGED with no id or
 * the id of the content before or after the cut, never of a mix. */
static void test_truncated_during_hashing(void **state)
{
    const size_t size = 32 * 1024 * 1024;
    unsigned char *data = malloc(size);
    char path[512], id[ROAR_OID_HEXSZ + 1], whole[ROAR_OID_HEXSZ + 1], cut[ROAR_OID_HEXSZ + 1];
    int changed = 0, whole_ids = 0, cut_ids = 0;
    (void)state;

    assert_non_null(data);
    fill_random(data, size, 19);
    tmp_path(path, sizeof(path), "truncated");
    write_file(path, data, size);
    git_hash_object(whole, path);
    for (int round = 0; round < 24; round++) {
        struct truncator t = {.path = path, .delay_us = round * 3000L, .to = round % 2 ? 4096 : 0};
        pthread_t thread;
        int error;

        write_file(path, data, size);
        assert_int_equal(pthread_create(&thread, NULL, truncate_later, &t), 0);
        error = roar_hash_path(id, NULL, path, NULL);
        pthread_join(thread, NULL);
        git_hash_object(cut, path);
        if (error == ROAR_ECHANGED) {
            assert_string_equal(id, "");
            changed++;
        } else {
            assert_int_equal(error, 0);
            if (strcmp(id, whole) == 0)
                whole_ids++;
            else {
                assert_string_equal(id, cut);
                cut_ids++;
            }
        }
    }
    free(data);
    /* how the rounds fell, for the log (the split depends on the machine's speed) */
    print_message("truncated during hashing: %d changed, %d whole, %d cut\n", changed, whole_ids,
                  cut_ids);
}

static void test_not_regular_or_missing(void **state)
{
    char path[512], id[ROAR_OID_HEXSZ + 1];
    roar_stat_key key;
    (void)state;

    tmp_path(path, sizeof(path), "does-not-exist");
    assert_int_equal(roar_hash_path(id, NULL, path, NULL), ROAR_ENOTFOUND);
    assert_int_equal(roar_hash_file(id, NULL, NULL, path, NULL), ROAR_ENOTFOUND);
    assert_int_equal(roar_stat_key_of_path(&key, tmpdir), ROAR_EINVALID);
    assert_int_equal(roar_hash_path(id, NULL, tmpdir, NULL), ROAR_EINVALID);
}

/* ---- the racy rule -------------------------------------------------------------- */

static void test_racy_rule(void **state)
{
    const int64_t t = 1700000000LL * 1000000000LL, m = ROAR_HASH_RACY_MARGIN_NS;
    roar_stat_key key = {.dev = 1, .ino = 2, .size = 3};
    (void)state;

    key.mtime_ns = key.ctime_ns = t - m - 1; /* quiet for longer than the margin */
    assert_false(roar_hash_is_racy(&key, t));
    key.mtime_ns = t - m; /* exactly at the margin: not provably older */
    assert_true(roar_hash_is_racy(&key, t));
    key.mtime_ns = t - m - 1;
    key.ctime_ns = t - 1; /* chmod/rename-over just before hashing */
    assert_true(roar_hash_is_racy(&key, t));
    key.mtime_ns = key.ctime_ns = t + 5 * m; /* timestamps from the future */
    assert_true(roar_hash_is_racy(&key, t));

    /* git's rule against a file-clock stamp: no margin, only strictly older */
    key.mtime_ns = key.ctime_ns = t - 1;
    assert_false(roar_hash_is_racy_at_stamp(&key, t));
    key.mtime_ns = t; /* the stamp's own tick */
    assert_true(roar_hash_is_racy_at_stamp(&key, t));
    key.mtime_ns = t - 1;
    key.ctime_ns = t;
    assert_true(roar_hash_is_racy_at_stamp(&key, t));
    /* and a row stored at the stamp's row time is trusted by the lookup's rule exactly
     * when the stamp rule says so */
    key.mtime_ns = key.ctime_ns = t - 1;
    assert_false(roar_hash_is_racy(&key, roar_hash_stamp_row_time(t)));
    key.mtime_ns = t;
    assert_true(roar_hash_is_racy(&key, roar_hash_stamp_row_time(t)));
}

/* ---- the stat cache ------------------------------------------------------------- */

struct cache_fixture {
    roar_cache *cache;
    char db[512];
    char old_file[512]; /* quiet for longer than the racy margin */
    char changing_file[512];
};

static int setup_cache(void **state)
{
    static struct cache_fixture f;
    unsigned char data[4096];

    make_tmpdir();
    tmp_path(f.db, sizeof(f.db), "cache.db");
    tmp_path(f.old_file, sizeof(f.old_file), "old.dat");
    tmp_path(f.changing_file, sizeof(f.changing_file), "changing.dat");
    fill_random(data, sizeof(data), 5);
    write_file(f.old_file, data, sizeof(data));
    write_file(f.changing_file, data, 1000);
    if (roar_cache_open(&f.cache, f.db) < 0) {
        fprintf(stderr, "cannot open cache: %s\n", roar_error_last());
        return -1;
    }
    sleep_past_racy_margin(); /* once for every test in the group */
    *state = &f;
    return 0;
}

static int teardown_cache(void **state)
{
    struct cache_fixture *f = *state;
    roar_cache_free(f->cache);
    remove_tmpdir();
    return 0;
}

static void test_cache_miss_then_hit(void **state)
{
    struct cache_fixture *f = *state;
    char id[ROAR_OID_HEXSZ + 1], want[ROAR_OID_HEXSZ + 1];
    roar_stat_key key;
    int64_t hashed_at;
    uint64_t before;

    git_hash_object(want, f->old_file);
    before = roar_hash_bytes_hashed();
    assert_int_equal(roar_hash_file(id, &key, f->cache, f->old_file, NULL), 0);
    assert_string_equal(id, want);
    assert_int_equal(roar_hash_bytes_hashed() - before, 4096); /* a miss hashes */
    assert_int_equal(roar_cache_hash_get(f->cache, &key, id, &hashed_at), 0);
    assert_string_equal(id, want); /* ... and stores */
    assert_false(roar_hash_is_racy(&key, hashed_at));

    before = roar_hash_bytes_hashed();
    assert_int_equal(roar_hash_file(id, NULL, f->cache, f->old_file, &key), 0);
    assert_string_equal(id, want);
    assert_int_equal(roar_hash_cache_lookup(id, f->cache, &key), 0);
    assert_string_equal(id, want);
    assert_int_equal(roar_hash_bytes_hashed(), before); /* a hit does not */
}

/* The hit must not even open the file: run one lookup in a child under strace. */
static void test_cache_hit_never_opens(void **state)
{
    struct cache_fixture *f = *state;
    char self[4096], log[512], cmd[8192], quoted[600], line[8192];
    char id[ROAR_OID_HEXSZ + 1], child_id[64] = "";
    unsigned long long child_bytes = 1;
    int stat_seen = 0, open_seen = 0;
    ssize_t n;
    FILE *p;

    if (system("strace -V >/dev/null 2>&1") != 0) {
        fprintf(stderr, "SKIP: strace is not installed; cannot check the cache hit\n");
        skip();
    }
    /* Make sure the row exists and is trusted, and find out what the answer is. */
    assert_int_equal(roar_hash_file(id, NULL, f->cache, f->old_file, NULL), 0);

    n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    assert_true(n > 0);
    self[n] = '\0';
    tmp_path(log, sizeof(log), "strace.log");
    /* LeakSanitizer cannot run under ptrace: off in the child of a sanitizer build. */
    snprintf(cmd, sizeof(cmd),
             "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 "
             "strace -f -qq -s 4096 -e trace=%%file -o '%s' '%s' --lookup-once '%s' '%s'",
             log, self, f->db, f->old_file);
    p = popen(cmd, "r");
    assert_non_null(p);
    assert_int_equal(fscanf(p, "%63s %llu", child_id, &child_bytes), 2);
    assert_int_equal(pclose(p), 0);
    assert_string_equal(child_id, id);
    assert_int_equal(child_bytes, 0); /* nothing hashed in the child */

    snprintf(quoted, sizeof(quoted), "\"%s\"", f->old_file);
    p = fopen(log, "r");
    assert_non_null(p);
    while (fgets(line, sizeof(line), p)) {
        /* "PID syscall(args) = ret": judge by the syscall's name, not the argv of the
         * child's own execve, which also names the path. */
        char name[64] = "";
        if (!strstr(line, quoted) || sscanf(line, "%*d %63[a-z0-9_]", name) != 1)
            continue;
        if (strstr(name, "stat")) /* the identity is taken by path: proof strace saw it */
            stat_seen = 1;
        if (strstr(name, "open") || strstr(name, "creat")) {
            fprintf(stderr, "unexpected: %s", line);
            open_seen = 1;
        }
    }
    fclose(p);
    assert_true(stat_seen);
    assert_false(open_seen);
}

static void test_changed_file_is_rehashed(void **state)
{
    struct cache_fixture *f = *state;
    char id[ROAR_OID_HEXSZ + 1], want[ROAR_OID_HEXSZ + 1];
    roar_stat_key old_key, new_key;
    uint64_t before;
    int fd;

    assert_int_equal(roar_hash_file(id, &old_key, f->cache, f->changing_file, NULL), 0);
    before = roar_hash_bytes_hashed();
    assert_int_equal(roar_hash_file(id, NULL, f->cache, f->changing_file, NULL), 0);
    assert_int_equal(roar_hash_bytes_hashed(), before); /* trusted before the change */

    /* Same size, same inode, new bytes. */
    fd = open(f->changing_file, O_WRONLY);
    assert_true(fd >= 0);
    pwrite_all(fd, "CHANGED", 7, 100);
    close(fd);
    git_hash_object(want, f->changing_file);

    before = roar_hash_bytes_hashed();
    assert_int_equal(roar_hash_file(id, &new_key, f->cache, f->changing_file, NULL), 0);
    assert_false(roar_stat_key_equal(&old_key, &new_key));
    assert_int_equal(roar_hash_bytes_hashed() - before, 1000);
    assert_string_equal(id, want);
}

static void test_racy_entry_is_rehashed(void **state)
{
    struct cache_fixture *f = *state;
    char path[512], id[ROAR_OID_HEXSZ + 1], want[ROAR_OID_HEXSZ + 1];
    roar_stat_key key;
    int64_t hashed_at;
    uint64_t before;

    tmp_path(path, sizeof(path), "fresh.dat");
    write_file(path, "written just now\n", 17);
    git_hash_object(want, path);

    /* Hashed within the margin of its mtime: stored, but not trusted. */
    assert_int_equal(roar_hash_file(id, &key, f->cache, path, NULL), 0);
    assert_string_equal(id, want);
    assert_int_equal(roar_cache_hash_get(f->cache, &key, id, &hashed_at), 0);
    assert_true(roar_hash_is_racy(&key, hashed_at));
    assert_int_equal(roar_hash_cache_lookup(id, f->cache, &key), ROAR_ENOTFOUND);

    before = roar_hash_bytes_hashed();
    assert_int_equal(roar_hash_file(id, NULL, f->cache, path, NULL), 0);
    assert_string_equal(id, want);
    assert_int_equal(roar_hash_bytes_hashed() - before, 17); /* racy: rehashed */

    /* Once quiet, the next rehash re-stores the row with its new time: then trusted. */
    sleep_past_racy_margin();
    before = roar_hash_bytes_hashed();
    assert_int_equal(roar_hash_file(id, NULL, f->cache, path, NULL), 0);
    assert_int_equal(roar_hash_bytes_hashed() - before, 17);
    assert_int_equal(roar_cache_hash_get(f->cache, &key, id, &hashed_at), 0);
    assert_false(roar_hash_is_racy(&key, hashed_at));
    before = roar_hash_bytes_hashed();
    assert_int_equal(roar_hash_file(id, NULL, f->cache, path, NULL), 0);
    assert_string_equal(id, want);
    assert_int_equal(roar_hash_bytes_hashed(), before);
}

static void test_fd_through_cache(void **state)
{
    struct cache_fixture *f = *state;
    char id[ROAR_OID_HEXSZ + 1], want[ROAR_OID_HEXSZ + 1];
    roar_stat_key key;
    uint64_t before;
    int fd = open(f->old_file, O_RDONLY);

    assert_true(fd >= 0);
    git_hash_object(want, f->old_file);
    assert_int_equal(roar_stat_key_of_fd(&key, fd), 0);
    assert_int_equal(roar_hash_file_fd(id, NULL, f->cache, fd, &key), 0); /* row exists */
    before = roar_hash_bytes_hashed();
    assert_int_equal(roar_hash_file_fd(id, NULL, f->cache, fd, &key), 0);
    assert_string_equal(id, want);
    assert_int_equal(roar_hash_bytes_hashed(), before);
    key.mtime_ns++;
    assert_int_equal(roar_hash_file_fd(id, NULL, f->cache, fd, &key), ROAR_ECHANGED);
    close(fd);
}

static void test_null_cache_always_hashes(void **state)
{
    struct cache_fixture *f = *state;
    char id[ROAR_OID_HEXSZ + 1], want[ROAR_OID_HEXSZ + 1];
    roar_stat_key key;
    uint64_t before;

    git_hash_object(want, f->old_file);
    assert_int_equal(roar_stat_key_of_path(&key, f->old_file), 0);
    assert_int_equal(roar_hash_cache_lookup(id, NULL, &key), ROAR_ENOTFOUND);
    for (int i = 0; i < 2; i++) {
        before = roar_hash_bytes_hashed();
        assert_int_equal(roar_hash_file(id, NULL, NULL, f->old_file, NULL), 0);
        assert_string_equal(id, want);
        assert_int_equal(roar_hash_bytes_hashed() - before, 4096);
    }
}

/* Child mode for test_cache_hit_never_opens: one lookup, then print id and bytes. */
static int lookup_once(const char *db, const char *path)
{
    roar_cache *cache = NULL;
    char id[ROAR_OID_HEXSZ + 1];
    int error;

    if ((error = roar_cache_open(&cache, db)) == 0)
        error = roar_hash_file(id, NULL, cache, path, NULL);
    roar_cache_free(cache);
    if (error < 0) {
        fprintf(stderr, "lookup failed: %s\n", roar_error_last());
        return 1;
    }
    printf("%s %" PRIu64 "\n", id, roar_hash_bytes_hashed());
    return 0;
}

int main(int argc, char **argv)
{
    const struct CMUnitTest hashing[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_fd_keeps_offset_and_returns_identity),
        cmocka_unit_test(test_matches_git_small),
        cmocka_unit_test(test_matches_git_odd_sizes),
        cmocka_unit_test(test_matches_git_sparse_5g),
        cmocka_unit_test(test_matches_git_sparse_holes_at_ends),
        cmocka_unit_test(test_expected_identity_differs),
        cmocka_unit_test(test_change_during_hashing),
        cmocka_unit_test(test_truncated_during_hashing),
        cmocka_unit_test(test_not_regular_or_missing),
        cmocka_unit_test(test_racy_rule),
    };
    const struct CMUnitTest stat_cache[] = {
        cmocka_unit_test(test_cache_miss_then_hit),
        cmocka_unit_test(test_cache_hit_never_opens),
        cmocka_unit_test(test_changed_file_is_rehashed),
        cmocka_unit_test(test_racy_entry_is_rehashed),
        cmocka_unit_test(test_fd_through_cache),
        cmocka_unit_test(test_null_cache_always_hashes),
    };
    int failed;

    if (argc == 4 && strcmp(argv[1], "--lookup-once") == 0)
        return lookup_once(argv[2], argv[3]);
    failed = cmocka_run_group_tests_name("hashing", hashing, setup_tmpdir, teardown_tmpdir);
    failed += cmocka_run_group_tests_name("stat cache", stat_cache, setup_cache, teardown_cache);
    return failed;
}
