/* Unit tests of fdstate: each SPEC §4 rule and each event-expressible pattern of the
 * tracer fixture list, fed through the wire encoder and decoder, with exact results. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/stat.h>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

#include "trace/event.h"
#include "trace/fdstate.h"
#include "util/err.h"

#define ROOT 100
#define DEV 8

static roar_fdstate *st;
static bool last_wait;

static int setup(void **state)
{
    (void)state;
    last_wait = false;
    return roar_fdstate_new(&st);
}

static int teardown(void **state)
{
    (void)state;
    roar_fdstate_free(st);
    st = NULL;
    return 0;
}

/* ---- event builders: everything goes through encode -> decode -> apply ---- */

static struct roar_event_hdr H(unsigned type, uint32_t tgid)
{
    struct roar_event_hdr h;
    memset(&h, 0, sizeof(h));
    h.type = (__u16)type;
    h.tgid = tgid;
    h.tid = tgid;
    h.fd = -1;
    h.fd2 = -1;
    return h;
}

static void ident(struct roar_event_hdr *h, uint64_t ino, uint64_t size)
{
    h->has_ident = 1;
    h->dev = DEV;
    h->ino = ino;
    h->size = size;
    h->mtime_ns = (int64_t)ino * 1000;
    h->ctime_ns = (int64_t)ino * 1000;
    h->mode = S_IFREG | 0644;
}

static void send(struct roar_event_hdr h, const char *p1, const char *p2)
{
    static unsigned char buf[4096];
    roar_event ev;
    size_t n = roar_event_encode(buf, sizeof(buf), &h, p1, p2), used;
    assert_true(n > 0);
    assert_int_equal(roar_event_decode(&ev, buf, n, &used), 0);
    assert_int_equal(used, n);
    last_wait = false;
    assert_int_equal(roar_fdstate_apply(st, &ev, &last_wait), 0);
}

/* open(path, flags) = fd in pid; ino 0 = no identity sent. */
static void ev_open(uint32_t pid, int fd, const char *path, int flags, bool created,
                    uint64_t ino, uint64_t size)
{
    struct roar_event_hdr h = H(ROAR_EV_OPEN, pid);
    h.fd = fd;
    h.ret = fd;
    h.flags = (uint64_t)flags;
    h.created = created;
    if (ino)
        ident(&h, ino, size);
    send(h, path, NULL);
}

static void ev_fd(unsigned type, uint32_t pid, int fd, int64_t ret)
{
    struct roar_event_hdr h = H(type, pid);
    h.fd = fd;
    h.fd2 = fd;
    h.ret = ret;
    send(h, NULL, NULL);
}

#define ev_read(pid, fd, n) ev_fd(ROAR_EV_READ, pid, fd, n)
#define ev_write(pid, fd, n) ev_fd(ROAR_EV_WRITE, pid, fd, n)
#define ev_close(pid, fd) ev_fd(ROAR_EV_CLOSE, pid, fd, 0)

static void ev_mmap(uint32_t pid, int fd, int prot, int flags)
{
    struct roar_event_hdr h = H(ROAR_EV_MMAP, pid);
    h.fd = fd;
    h.arg = (uint64_t)prot;
    h.flags = (uint64_t)flags;
    send(h, NULL, NULL);
}

static void ev_ftruncate(uint32_t pid, int fd, uint64_t len)
{
    struct roar_event_hdr h = H(ROAR_EV_TRUNCATE, pid);
    h.fd = fd;
    h.arg = len;
    send(h, NULL, NULL);
}

static void ev_dup(uint32_t pid, int oldfd, int newfd, int flags)
{
    struct roar_event_hdr h = H(ROAR_EV_DUP, pid);
    h.fd = oldfd;
    h.fd2 = newfd;
    h.ret = newfd;
    h.flags = (uint64_t)flags;
    send(h, NULL, NULL);
}

static void ev_fdnew(uint32_t pid, int fd, int fd2)
{
    struct roar_event_hdr h = H(ROAR_EV_FDNEW, pid);
    h.fd = fd;
    h.fd2 = fd2;
    send(h, NULL, NULL);
}

static void ev_fork(uint32_t parent, uint32_t child, uint64_t clone_flags)
{
    struct roar_event_hdr h = H(ROAR_EV_FORK, parent);
    h.pid2 = child;
    h.ret = child;
    h.flags = clone_flags;
    send(h, NULL, NULL);
}

static void ev_exec(uint32_t pid, const char *path, uint64_t ino)
{
    struct roar_event_hdr h = H(ROAR_EV_EXEC, pid);
    if (ino)
        ident(&h, ino, 100);
    send(h, path, NULL);
}

static void ev_path2(unsigned type, const char *a, const char *b, uint64_t flags)
{
    struct roar_event_hdr h = H(type, ROOT);
    h.flags = flags;
    send(h, a, b);
}

#define ev_rename(a, b) ev_path2(ROAR_EV_RENAME, a, b, 0)
#define ev_link(a, b) ev_path2(ROAR_EV_LINK, a, b, 0)
#define ev_unlink(a) ev_path2(ROAR_EV_UNLINK, a, NULL, 0)

static void ev_inherit(uint32_t pid, int fd, const char *path, int acc, uint64_t ino,
                       uint64_t size)
{
    struct roar_event_hdr h = H(ROAR_EV_INHERIT, pid);
    h.fd = fd;
    h.flags = (uint64_t)acc;
    ident(&h, ino, size);
    send(h, path, NULL);
}

static void ev_destroy(unsigned call, uint64_t open_flags, const char *path, uint64_t ino)
{
    struct roar_event_hdr h = H(ROAR_EV_ABOUT_TO_DESTROY, ROOT);
    h.flags = call;
    h.arg = open_flags;
    if (ino)
        ident(&h, ino, 10);
    send(h, path, NULL);
}

/* ---- result assertions ---------------------------------------------------- */

/* The entries' paths, in order, equal the NULL-terminated list. */
static void assert_paths(const roar_fdstate_entry *v, size_t n, ...)
{
    va_list ap;
    size_t i = 0;
    const char *want;
    va_start(ap, n);
    while ((want = va_arg(ap, const char *)) != NULL) {
        if (i >= n)
            fail_msg("missing entry %s (only %zu entries)", want, n);
        assert_string_equal(v[i].path, want);
        i++;
    }
    va_end(ap);
    if (i != n)
        fail_msg("unexpected extra entry %s", v[i].path);
}

static roar_fdstate_result res;

static void result(void)
{
    roar_fdstate_result_dispose(&res);
    assert_int_equal(roar_fdstate_result_get(&res, st), 0);
}

#define IN(...) assert_paths(res.inputs, res.input_count, __VA_ARGS__, NULL)
#define OUT(...) assert_paths(res.outputs, res.output_count, __VA_ARGS__, NULL)
#define DEL(...) assert_paths(res.deletions, res.deletion_count, __VA_ARGS__, NULL)
#define CHECKS(...) assert_paths(res.checks, res.check_count, __VA_ARGS__, NULL)
#define NONE NULL

static int teardown_res(void **state)
{
    roar_fdstate_result_dispose(&res);
    return teardown(state);
}

/* Pops every hash request; returns how many, the last one in *last. */
static int drain(roar_fdstate_hashreq *last, char *last_path, size_t cap)
{
    roar_fdstate_hashreq r = {0};
    int n = 0;
    while (roar_fdstate_next_hash(st, &r)) {
        if (last)
            *last = r;
        if (last_path)
            snprintf(last_path, cap, "%s", r.path);
        n++;
    }
    return n;
}

static const char OLD_ID[] = "ce013625030ba8dba906f756967f9e9ca394464a";

/* ---- §4.4 inputs ---------------------------------------------------------- */

/* Pattern 1: open O_RDONLY + read -> in; hashed at once under the open's identity. */
static void test_read_only_open_is_input(void **state)
{
    roar_fdstate_hashreq r = {0};
    char path[256];
    (void)state;
    ev_open(ROOT, 3, "/w/a", O_RDONLY, false, 11, 6);
    assert_int_equal(drain(&r, path, sizeof(path)), 1);
    assert_int_equal(r.reason, ROAR_HASH_INPUT);
    assert_string_equal(path, "/w/a");
    assert_true(r.ident.known);
    assert_int_equal(r.ident.ino, 11);
    assert_int_equal(r.ident.size, 6);
    roar_fdstate_set_preimage(st, r.file, OLD_ID, 6);
    ev_read(ROOT, 3, 6);
    ev_close(ROOT, 3);
    result();
    IN("/w/a");
    OUT(NONE);
    DEL(NONE);
    CHECKS(NONE);
    assert_true(res.inputs[0].id_known);
    assert_string_equal(res.inputs[0].id, OLD_ID);
    assert_int_equal(res.inputs[0].ident.ino, 11);
}

/* An input whose hash never arrived is recorded with id unknown, size at open. */
static void test_input_without_hash_has_unknown_id(void **state)
{
    (void)state;
    ev_open(ROOT, 3, "/w/a", O_RDONLY, false, 11, 77);
    drain(NULL, NULL, 0);
    result();
    IN("/w/a");
    assert_false(res.inputs[0].id_known);
    assert_int_equal(res.inputs[0].ident.size, 77);
}

/* Pattern 2: O_WRONLY|O_CREAT|O_TRUNC + write -> out. */
static void test_create_write_is_output(void **state)
{
    (void)state;
    ev_open(ROOT, 3, "/w/out", O_WRONLY | O_CREAT | O_TRUNC, true, 12, 0);
    assert_int_equal(drain(NULL, NULL, 0), 0);
    ev_write(ROOT, 3, 100);
    result();
    IN(NONE);
    OUT("/w/out");
    DEL(NONE);
}

/* Pattern 3 (np.savez): O_RDWR|O_CREAT|O_TRUNC + write -> out only, never in, both when
 * it creates the file and when the file already existed. */
static void test_rdwr_creat_trunc_is_output_only(void **state)
{
    (void)state;
    ev_open(ROOT, 3, "/w/new.npz", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, true, 13, 0);
    ev_write(ROOT, 3, 10);
    ev_open(ROOT, 4, "/w/old.npz", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, false, 14, 500);
    assert_int_equal(drain(NULL, NULL, 0), 0);
    ev_read(ROOT, 4, 0);
    ev_write(ROOT, 4, 10);
    result();
    IN(NONE);
    OUT("/w/new.npz", "/w/old.npz");
    DEL(NONE);
}

/* Patterns 4 and 5: O_RDWR|O_TRUNC then read() or mmap(PROT_READ) -> out only. */
static void test_rdwr_trunc_then_read_or_mmap_is_output_only(void **state)
{
    (void)state;
    ev_open(ROOT, 3, "/w/a", O_RDWR | O_TRUNC, false, 15, 100);
    ev_read(ROOT, 3, 0);
    ev_open(ROOT, 4, "/w/b", O_RDWR | O_TRUNC, false, 16, 100);
    ev_ftruncate(ROOT, 4, 4096);
    ev_mmap(ROOT, 4, PROT_READ, MAP_SHARED);
    result();
    IN(NONE);
    OUT("/w/a", "/w/b");
}

/* Pattern 6: O_RDWR without O_TRUNC, read then write in place -> in (pre-job id, hashed
 * at the open, before any write) and out. */
static void test_read_then_inplace_write_is_in_and_out(void **state)
{
    roar_fdstate_hashreq r = {0};
    (void)state;
    ev_open(ROOT, 3, "/w/cfg.json", O_RDWR, false, 17, 40);
    assert_int_equal(drain(&r, NULL, 0), 1);
    assert_int_equal(r.reason, ROAR_HASH_INPUT);
    roar_fdstate_set_preimage(st, r.file, OLD_ID, 40);
    ev_read(ROOT, 3, 40);
    ev_write(ROOT, 3, 45);
    result();
    IN("/w/cfg.json");
    OUT("/w/cfg.json");
    assert_true(res.inputs[0].id_known);
    assert_string_equal(res.inputs[0].id, OLD_ID);
    CHECKS(NONE);
}

/* §4.4: write-capable open without O_TRUNC, then an append -> in and out; the open asked
 * for the pre-image while it was intact. */
static void test_append_is_in_and_out(void **state)
{
    roar_fdstate_hashreq r = {0};
    (void)state;
    ev_open(ROOT, 3, "/w/log", O_WRONLY | O_APPEND, false, 18, 10);
    assert_int_equal(drain(&r, NULL, 0), 1);
    assert_int_equal(r.reason, ROAR_HASH_PREIMAGE);
    assert_int_equal(r.ident.size, 10);
    ev_write(ROOT, 3, 5);
    result();
    IN("/w/log");
    OUT("/w/log");
    assert_int_equal(res.inputs[0].ident.size, 10);
}

/* §4.4 exception: the first change is truncation to 0 -> out only. */
static void test_truncate_to_zero_first_is_output_only(void **state)
{
    (void)state;
    ev_open(ROOT, 3, "/w/a", O_WRONLY, false, 19, 10);
    ev_ftruncate(ROOT, 3, 0);
    ev_write(ROOT, 3, 5);
    result();
    IN(NONE);
    OUT("/w/a");
}

/* Truncation to a non-zero length keeps old bytes: after a write-capable open it is
 * an in-place change. */
static void test_truncate_nonzero_after_write_open_is_in_and_out(void **state)
{
    (void)state;
    ev_open(ROOT, 3, "/w/a", O_WRONLY, false, 20, 10);
    ev_ftruncate(ROOT, 3, 4);
    result();
    IN("/w/a");
    OUT("/w/a");
}

/* §4.4: a file read after the job wrote it is not an input. */
static void test_read_after_own_write_is_not_input(void **state)
{
    (void)state;
    ev_open(ROOT, 3, "/w/mid", O_WRONLY | O_CREAT | O_TRUNC, true, 21, 0);
    ev_write(ROOT, 3, 5);
    ev_close(ROOT, 3);
    ev_open(ROOT, 3, "/w/mid", O_RDONLY, false, 21, 5);
    assert_int_equal(drain(NULL, NULL, 0), 0);
    ev_read(ROOT, 3, 5);
    result();
    IN(NONE);
    OUT("/w/mid");
}

/* §4.4 + pattern 23: an executed program or script is an input, unless the job made it. */
static void test_exec_is_input_unless_created(void **state)
{
    (void)state;
    ev_exec(ROOT, "/w/run.sh", 22);
    ev_open(ROOT, 3, "/w/tool", O_WRONLY | O_CREAT | O_TRUNC, true, 23, 0);
    ev_write(ROOT, 3, 100);
    ev_close(ROOT, 3);
    ev_fork(ROOT, 101, 0);
    ev_exec(101, "/w/tool", 23);
    result();
    IN("/w/run.sh");
    OUT("/w/tool");
}

/* Pattern 24: sendfile/copy_file_range -> in source, out destination; a zero-byte copy
 * changes nothing. */
static void test_copy_into_fd(void **state)
{
    struct roar_event_hdr h = H(ROAR_EV_COPY, ROOT);
    (void)state;
    ev_open(ROOT, 3, "/w/src", O_RDONLY, false, 24, 10);
    ev_open(ROOT, 4, "/w/dst", O_WRONLY | O_CREAT | O_EXCL, true, 25, 0);
    ev_open(ROOT, 5, "/w/other", O_WRONLY, false, 26, 10);
    h.fd = 3;
    h.fd2 = 5;
    h.ret = 0;
    send(h, NULL, NULL);
    h.fd2 = 4;
    h.ret = 10;
    send(h, NULL, NULL);
    result();
    IN("/w/src");
    OUT("/w/dst");
    CHECKS("/w/other");
}

/* ---- §4.5 outputs --------------------------------------------------------- */

/* Pattern 7: mmap PROT_WRITE + MAP_SHARED is a write; MAP_PRIVATE is not. */
static void test_mmap_shared_write_is_output(void **state)
{
    (void)state;
    ev_open(ROOT, 3, "/w/m", O_RDWR | O_CREAT, true, 27, 0);
    ev_ftruncate(ROOT, 3, 4096);
    ev_mmap(ROOT, 3, PROT_READ | PROT_WRITE, MAP_SHARED);
    ev_open(ROOT, 4, "/w/p", O_RDONLY, false, 28, 4096);
    ev_mmap(ROOT, 4, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    ev_open(ROOT, 5, "/w/s", O_RDWR, false, 29, 4096);
    ev_mmap(ROOT, 5, PROT_READ | PROT_WRITE, MAP_SHARED);
    result();
    IN("/w/p", "/w/s");
    OUT("/w/m", "/w/s");
}

/* Pattern 8: write temp + rename -> out = final name only. */
static void test_temp_then_rename_is_final_only(void **state)
{
    (void)state;
    ev_open(ROOT, 3, "/tmp/x.tmp", O_WRONLY | O_CREAT | O_EXCL, true, 30, 0);
    ev_write(ROOT, 3, 10);
    ev_close(ROOT, 3);
    ev_rename("/tmp/x.tmp", "/w/final");
    result();
    IN(NONE);
    OUT("/w/final");
    DEL(NONE);
    assert_string_equal(roar_fdstate_file_name(roar_fdstate_lookup_path(st, "/w/final")),
                        "/w/final");
}

/* Pattern 9: write temp + link final + unlink temp -> out = final. */
static void test_temp_link_unlink_is_final(void **state)
{
    (void)state;
    ev_open(ROOT, 3, "/w/.tmp1", O_WRONLY | O_CREAT | O_EXCL, true, 31, 0);
    ev_write(ROOT, 3, 10);
    ev_link("/w/.tmp1", "/w/final");
    ev_unlink("/w/.tmp1");
    result();
    IN(NONE);
    OUT("/w/final");
    DEL(NONE);
}

/* §4.5: O_TMPFILE + linkat(fd, "", AT_EMPTY_PATH) names the file: out. */
static void test_tmpfile_then_linkat(void **state)
{
    struct roar_event_hdr h = H(ROAR_EV_LINK, ROOT);
    (void)state;
    ev_open(ROOT, 3, "/w/dir", O_TMPFILE | O_WRONLY, false, 32, 0);
    ev_write(ROOT, 3, 10);
    h.fd = 3;
    send(h, NULL, "/w/dir/made");
    result();
    IN(NONE);
    OUT("/w/dir/made");
}

/* Pattern 10: create + unlink -> a temporary, nothing recorded. */
static void test_create_then_unlink_is_nothing(void **state)
{
    (void)state;
    ev_open(ROOT, 3, "/w/scratch", O_RDWR | O_CREAT | O_TRUNC, true, 33, 0);
    ev_write(ROOT, 3, 10);
    ev_read(ROOT, 3, 10);
    ev_close(ROOT, 3);
    ev_unlink("/w/scratch");
    result();
    IN(NONE);
    OUT(NONE);
    DEL(NONE);
}

/* Pattern 11: unlink a pre-existing file the job never opened -> del. */
static void test_unlink_preexisting_is_del(void **state)
{
    (void)state;
    ev_unlink("/w/old.tmp");
    result();
    IN(NONE);
    OUT(NONE);
    DEL("/w/old.tmp");
}

/* A file read then removed: in and del. Removed then re-created: out, not del. */
static void test_read_unlink_and_recreate(void **state)
{
    (void)state;
    ev_open(ROOT, 3, "/w/a", O_RDONLY, false, 34, 5);
    ev_close(ROOT, 3);
    ev_unlink("/w/a");
    ev_unlink("/w/b");
    ev_open(ROOT, 3, "/w/b", O_WRONLY | O_CREAT, true, 35, 0);
    result();
    IN("/w/a");
    OUT("/w/b");
    DEL("/w/a");
}

/* The names roar_fdstate_renamed_names reports, sorted, joined by spaces. */
static char renamed[1024];

static int renamed_cb(const char *path, void *payload)
{
    (void)payload;
    if (renamed[0])
        strcat(renamed, " ");
    strcat(renamed, path);
    return 0;
}

static const char *renamed_names(void)
{
    char *v[32], *tok, *save = NULL, copy[sizeof(renamed)];
    size_t n = 0, i, j;
    renamed[0] = '\0';
    assert_int_equal(roar_fdstate_renamed_names(st, renamed_cb, NULL), 0);
    strcpy(copy, renamed);
    for (tok = strtok_r(copy, " ", &save); tok && n < 32; tok = strtok_r(NULL, " ", &save))
        v[n++] = tok;
    for (i = 1; i < n; i++)
        for (j = i; j > 0 && strcmp(v[j - 1], v[j]) > 0; j--) {
            char *t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    renamed[0] = '\0';
    for (i = 0; i < n; i++)
        renamed_cb(v[i], NULL);
    return renamed;
}

static roar_ident reg_ident(uint64_t ino)
{
    roar_ident id = {.known = true, .dev = DEV, .ino = ino, .size = 3, .mode = S_IFREG | 0644};
    return id;
}

/* rename with the identity the preload shim takes before the call */
static void ev_rename_ident(const char *a, const char *b, uint64_t ino, uint32_t mode)
{
    struct roar_event_hdr h = H(ROAR_EV_RENAME, ROOT);
    ident(&h, ino, 3);
    h.mode = mode;
    h.flags = S_ISDIR(mode) ? ROAR_RENAME_F_DIR : ROAR_RENAME_F_FILE;
    send(h, a, b);
}

/* Pattern 32: mv a b of an untouched file, its identity taken at the call (preload) ->
 * in a, out b, del a; hashed at b at once. */
static void test_mv_untouched_file(void **state)
{
    roar_fdstate_hashreq r = {0};
    char path[256];
    (void)state;
    ev_rename_ident("/w/a", "/w/b", 33, S_IFREG | 0644);
    assert_int_equal(drain(&r, path, sizeof(path)), 1);
    assert_int_equal(r.reason, ROAR_HASH_INPUT);
    assert_string_equal(path, "/w/b");
    assert_int_equal(r.ident.ino, 33);
    assert_string_equal(renamed_names(), "");
    result();
    IN("/w/a");
    OUT("/w/b");
    DEL("/w/a");
}

/* The same without an identity (eBPF: the kernel side cannot look the name up, and one
 * read later may be the job's next write's): nothing is hashed at the rename; the
 * collector's listing at the end finds the file where it went. */
static void test_mv_untouched_file_resolved_at_the_end(void **state)
{
    roar_fdstate_hashreq r = {0};
    roar_ident b = reg_ident(34);
    char path[256];
    (void)state;
    ev_path2(ROAR_EV_RENAME, "/w/a", "/w/b", ROAR_RENAME_F_FILE);
    assert_int_equal(drain(NULL, NULL, 0), 0);
    assert_string_equal(renamed_names(), "/w/b");
    assert_int_equal(roar_fdstate_add_moved(st, "/w/b", &b), 0);
    assert_int_equal(drain(&r, path, sizeof(path)), 1);
    assert_int_equal(r.reason, ROAR_HASH_INPUT);
    assert_string_equal(path, "/w/b");
    assert_int_equal(r.ident.ino, 34);
    result();
    IN("/w/a");
    OUT("/w/b");
    DEL("/w/a");
    assert_int_equal(res.inputs[0].ident.ino, 34);
}

/* eBPF, `mv a b && echo x > b`: the truncation comes in after the rename; the pre-job
 * content is gone, so the input is `-` (never the new content's id). */
static void test_mv_then_truncate_is_unknown_input(void **state)
{
    (void)state;
    ev_path2(ROAR_EV_RENAME, "/w/a", "/w/b", ROAR_RENAME_F_FILE);
    ev_open(ROOT, 3, "/w/b", O_WRONLY | O_CREAT | O_TRUNC, false, 35, 0);
    ev_write(ROOT, 3, 2);
    assert_int_equal(drain(NULL, NULL, 0), 0);
    result();
    IN("/w/a");
    OUT("/w/b");
    DEL("/w/a");
    assert_false(res.inputs[0].id_known);
    assert_false(res.inputs[0].ident.known);
}

/* Pattern 32: a directory renamed by the job renames every path beneath it; untouched
 * files the collector finds beneath the new name at the end move the same way. */
static void test_directory_rename(void **state)
{
    roar_ident z = reg_ident(38), x = reg_ident(36);
    (void)state;
    ev_open(ROOT, 3, "/w/d/x", O_RDONLY, false, 36, 3);
    ev_close(ROOT, 3);
    ev_open(ROOT, 3, "/w/d/sub/y", O_WRONLY | O_CREAT, true, 37, 0);
    ev_write(ROOT, 3, 3);
    ev_close(ROOT, 3);
    ev_path2(ROAR_EV_RENAME, "/w/d", "/w/e", ROAR_RENAME_F_DIR);
    assert_string_equal(renamed_names(), "/w/e");
    assert_int_equal(roar_fdstate_add_moved(st, "/w/e/z", &z), 0);
    /* already known by identity: left alone */
    assert_int_equal(roar_fdstate_add_moved(st, "/w/e/x", &x), 0);
    result();
    IN("/w/d/x", "/w/d/z");
    OUT("/w/e/sub/y", "/w/e/x", "/w/e/z");
    DEL("/w/d/x", "/w/d/z");
    assert_null(roar_fdstate_lookup_path(st, "/w/d/x"));
}

/* Issue 17, the reduced cases: events the job made after a directory rename, which
 * reach fdstate before anything has listed the directory. */
static void test_directory_rename_then_unlink(void **state)
{
    (void)state;
    ev_path2(ROAR_EV_RENAME, "/w/d1", "/w/d2", ROAR_RENAME_F_DIR);
    ev_unlink("/w/d2/f5");
    result();
    IN("/w/d1/f5"); /* the source of the move; its content is gone: `-` */
    OUT(NONE);
    DEL("/w/d1/f5");
    assert_false(res.inputs[0].id_known);
    /* a name that went is not the moved file if it appears again */
    roar_ident again = reg_ident(50);
    assert_int_equal(roar_fdstate_add_moved(st, "/w/d2/f5", &again), 0);
    result();
    IN("/w/d1/f5");
    OUT(NONE);
}

static void test_directory_rename_then_file_rename(void **state)
{
    roar_fdstate_hashreq r = {0};
    char path[256];
    (void)state;
    ev_path2(ROAR_EV_RENAME, "/w/d1", "/w/d2", ROAR_RENAME_F_DIR);
    ev_path2(ROAR_EV_RENAME, "/w/d2/f5", "/w/d2/g5", ROAR_RENAME_F_FILE);
    ev_rename_ident("/w/d2/f6", "/w/d2/g6", 51, S_IFREG | 0644); /* preload */
    assert_int_equal(drain(&r, path, sizeof(path)), 1);
    assert_string_equal(path, "/w/d2/g6");
    result();
    IN("/w/d1/f6");
    OUT("/w/d2/g6");
    DEL("/w/d1/f6");
    /* the listing at the end: the file renamed unresolved is found under its last name */
    assert_string_equal(renamed_names(), "/w/d2");
    roar_ident g5 = reg_ident(52);
    assert_int_equal(roar_fdstate_add_moved(st, "/w/d2/g5", &g5), 0);
    assert_int_equal(drain(&r, path, sizeof(path)), 1);
    assert_string_equal(path, "/w/d2/g5");
    result();
    IN("/w/d1/f5", "/w/d1/f6");
    OUT("/w/d2/g5", "/w/d2/g6");
    DEL("/w/d1/f5", "/w/d1/f6");
}

static void test_directory_rename_then_create(void **state)
{
    roar_ident made = reg_ident(53), f6 = reg_ident(54);
    (void)state;
    ev_path2(ROAR_EV_RENAME, "/w/d1", "/w/d2", ROAR_RENAME_F_DIR);
    ev_open(ROOT, 3, "/w/d2/new.txt", O_WRONLY | O_CREAT | O_TRUNC, true, 53, 0);
    ev_write(ROOT, 3, 4);
    ev_close(ROOT, 3);
    /* an O_TRUNC open of a moved file: an input whose content is gone, no hash */
    ev_open(ROOT, 3, "/w/d2/f5", O_WRONLY | O_CREAT | O_TRUNC, false, 55, 0);
    ev_write(ROOT, 3, 4);
    ev_close(ROOT, 3);
    /* a read of a moved file: hashed through the reader's fd */
    ev_open(ROOT, 4, "/w/d2/f7", O_RDONLY, false, 56, 3);
    roar_fdstate_hashreq r = {0};
    char path[256];
    assert_int_equal(drain(&r, path, sizeof(path)), 1);
    assert_string_equal(path, "/w/d2/f7");
    assert_int_equal(r.fd, 4);
    assert_int_equal(r.ident.ino, 56);
    assert_int_equal(roar_fdstate_add_moved(st, "/w/d2/new.txt", &made), 0);
    assert_int_equal(roar_fdstate_add_moved(st, "/w/d2/f6", &f6), 0);
    result();
    IN("/w/d1/f5", "/w/d1/f6", "/w/d1/f7");
    OUT("/w/d2/f5", "/w/d2/f6", "/w/d2/f7", "/w/d2/new.txt");
    DEL("/w/d1/f5", "/w/d1/f6", "/w/d1/f7");
    assert_false(res.inputs[0].ident.known);
    assert_int_equal(res.inputs[2].ident.ino, 56);
}

/* After the rename, a name under the old directory is not the moved file; a chain of
 * renames is followed to the last name; a name moved away is not listed. */
static void test_directory_rename_chain(void **state)
{
    roar_ident f = reg_ident(57), g = reg_ident(58), h = reg_ident(59);
    (void)state;
    ev_path2(ROAR_EV_RENAME, "/w/d1", "/w/d2", ROAR_RENAME_F_DIR);
    ev_open(ROOT, 3, "/w/d1/x", O_RDONLY, false, 60, 3); /* a new d1, by someone else */
    ev_path2(ROAR_EV_RENAME, "/w/d2", "/w/d3", ROAR_RENAME_F_DIR);
    ev_path2(ROAR_EV_RENAME, "/w/d3/sub", "/w/s", ROAR_RENAME_F_DIR);
    assert_string_equal(renamed_names(), "/w/d3 /w/s");
    assert_int_equal(roar_fdstate_add_moved(st, "/w/d3/f", &f), 0);
    assert_int_equal(roar_fdstate_add_moved(st, "/w/s/g", &g), 0);
    assert_int_equal(roar_fdstate_add_moved(st, "/w/elsewhere/h", &h), 0); /* not moved */
    result();
    IN("/w/d1/f", "/w/d1/sub/g", "/w/d1/x");
    OUT("/w/d3/f", "/w/s/g");
    DEL("/w/d1/f", "/w/d1/sub/g");
}

/* RENAME_EXCHANGE of two directories swaps what is beneath them. */
static void test_directory_exchange(void **state)
{
    roar_ident f = reg_ident(61), g = reg_ident(62);
    (void)state;
    ev_path2(ROAR_EV_RENAME, "/w/a", "/w/b", RENAME_EXCHANGE | ROAR_RENAME_F_DIR);
    assert_string_equal(renamed_names(), "/w/a /w/b");
    assert_int_equal(roar_fdstate_add_moved(st, "/w/a/g", &g), 0);
    assert_int_equal(roar_fdstate_add_moved(st, "/w/b/f", &f), 0);
    result();
    IN("/w/a/f", "/w/b/g");
    OUT("/w/a/g", "/w/b/f");
    DEL("/w/a/f", "/w/b/g");
}

/* Without a hint from the tracer, the known paths beneath a name still move with it. */
static void test_directory_rename_inferred(void **state)
{
    (void)state;
    ev_open(ROOT, 3, "/w/d/x", O_WRONLY | O_CREAT, true, 39, 0);
    ev_write(ROOT, 3, 3);
    ev_rename("/w/d", "/w/e");
    result();
    IN(NONE);
    OUT("/w/e/x");
    DEL(NONE);
}

/* rename over an existing untouched file the shim stat'ed: out, no del, no in; rename
 * over a file the job read: in (its old content) and out. */
static void test_rename_over_existing(void **state)
{
    (void)state;
    ev_destroy(ROAR_EV_RENAME, 0, "/w/b", 40);
    assert_false(last_wait);
    ev_open(ROOT, 3, "/w/b.tmp", O_WRONLY | O_CREAT | O_EXCL, true, 41, 0);
    ev_write(ROOT, 3, 5);
    ev_rename("/w/b.tmp", "/w/b");

    ev_open(ROOT, 4, "/w/c", O_RDONLY, false, 42, 5);
    ev_destroy(ROAR_EV_RENAME, 0, "/w/c", 42);
    assert_true(last_wait); /* an input without an id yet: hash before the rename */
    ev_open(ROOT, 5, "/w/c.tmp", O_WRONLY | O_CREAT | O_EXCL, true, 43, 0);
    ev_write(ROOT, 5, 5);
    ev_rename("/w/c.tmp", "/w/c");
    result();
    IN("/w/c");
    OUT("/w/b", "/w/c");
    DEL(NONE);
}

/* Pattern 20: a zero-byte write is not a change; the write-capable open is a check. */
static void test_zero_byte_write_is_not_output(void **state)
{
    (void)state;
    ev_open(ROOT, 3, "/w/a", O_WRONLY, false, 44, 10);
    ev_write(ROOT, 3, 0);
    result();
    IN(NONE);
    OUT(NONE);
    CHECKS("/w/a");
}

/* Pattern 20: `: > f` on a non-empty file -> out; `touch f` (open O_WRONLY|O_CREAT of an
 * existing file, then utimensat) -> no in, no out, only an end-of-job check. */
static void test_colon_redirect_and_touch(void **state)
{
    (void)state;
    ev_open(ROOT, 3, "/w/f", O_WRONLY | O_CREAT | O_TRUNC, false, 45, 10);
    ev_close(ROOT, 3);
    ev_open(ROOT, 3, "/w/t", O_WRONLY | O_CREAT | O_NOCTTY | O_NONBLOCK, false, 46, 10);
    ev_close(ROOT, 3);
    result();
    IN(NONE);
    OUT("/w/f");
    CHECKS("/w/t");
    assert_false(res.checks[0].unseen_writes);
}

/* A shared read-only mapping through a write-capable fd: mprotect may make it writable
 * without any event, so even a tracer that sees every write must check the file. */
static void test_shared_mapping_of_writable_fd_needs_the_check(void **state)
{
    (void)state;
    ev_open(ROOT, 3, "/w/m", O_RDWR, false, 63, 10);
    ev_mmap(ROOT, 3, PROT_READ, MAP_SHARED);
    ev_open(ROOT, 4, "/w/p", O_RDWR, false, 64, 10);
    ev_mmap(ROOT, 4, PROT_READ, MAP_PRIVATE);
    result();
    IN("/w/m", "/w/p");
    OUT(NONE);
    CHECKS("/w/m", "/w/p");
    assert_true(res.checks[0].unseen_writes);
    assert_false(res.checks[1].unseen_writes);
}

/* Issue 3 brief: a write-capable open with no visible write (stdio, fopen "a") is a
 * check candidate carrying its open-time id; when the collector finds it changed it
 * becomes in (old id) and out. */
static void test_invisible_write_check(void **state)
{
    roar_fdstate_hashreq r = {0};
    (void)state;
    ev_open(ROOT, 3, "/w/log", O_WRONLY | O_CREAT | O_APPEND, false, 47, 10);
    assert_int_equal(drain(&r, NULL, 0), 1);
    assert_int_equal(r.reason, ROAR_HASH_PREIMAGE);
    roar_fdstate_set_preimage(st, r.file, OLD_ID, 10);
    ev_close(ROOT, 3);
    result();
    IN(NONE);
    OUT(NONE);
    CHECKS("/w/log");
    assert_true(res.checks[0].id_known);
    assert_string_equal(res.checks[0].id, OLD_ID);
    assert_int_equal(res.checks[0].ident.ino, 47);

    roar_fdstate_resolve_check(st, res.checks[0].file);
    result();
    IN("/w/log");
    OUT("/w/log");
    CHECKS(NONE);
    assert_string_equal(res.inputs[0].id, OLD_ID);
}

/* ---- §4.2 names ----------------------------------------------------------- */

/* A file reached by two names is one file, recorded under the first name used. */
static void test_two_names_one_file(void **state)
{
    (void)state;
    ev_open(ROOT, 3, "/w/data/x.csv", O_RDONLY, false, 48, 5);
    ev_open(ROOT, 4, "/mnt/disk/x.csv", O_RDONLY, false, 48, 5);
    assert_ptr_equal(roar_fdstate_lookup_fd(st, ROOT, 3), roar_fdstate_lookup_fd(st, ROOT, 4));
    ev_open(ROOT, 5, "/mnt/disk/y.csv", O_RDWR, false, 49, 5);
    ev_open(ROOT, 6, "/w/data/y.csv", O_RDWR, false, 49, 5);
    ev_write(ROOT, 6, 3);
    result();
    IN("/mnt/disk/y.csv", "/w/data/x.csv");
    OUT("/mnt/disk/y.csv");
}

/* ---- fd tables ------------------------------------------------------------ */

/* Pattern 12: read A, close, pipe()/socket() reuse the fd number, write it -> A is not
 * an output. Also when the close was not seen (glibc-internal close in fclose). */
static void test_fd_reuse_by_pipe_or_socket(void **state)
{
    (void)state;
    ev_open(ROOT, 3, "/w/a", O_RDONLY, false, 50, 5);
    ev_read(ROOT, 3, 5);
    ev_close(ROOT, 3);
    ev_fdnew(ROOT, 3, 4); /* pipe */
    ev_write(ROOT, 3, 10);
    ev_write(ROOT, 4, 10);

    ev_open(ROOT, 5, "/w/b", O_RDONLY, false, 51, 5);
    ev_fdnew(ROOT, 5, -1); /* socket, no close event seen */
    ev_write(ROOT, 5, 10);
    assert_true(roar_fdstate_fd_is_open(st, ROOT, 5));
    assert_null(roar_fdstate_lookup_fd(st, ROOT, 5));
    result();
    IN("/w/a", "/w/b");
    OUT(NONE);
}

/* The shim's fstat on first write catches a reuse it missed: the identity wins. */
static void test_write_identity_overrides_stale_fd(void **state)
{
    struct roar_event_hdr h = H(ROAR_EV_WRITE, ROOT);
    (void)state;
    ev_open(ROOT, 3, "/w/a", O_RDONLY, false, 52, 5);
    h.fd = 3;
    h.ret = 10;
    ident(&h, 53, 0);
    send(h, "/w/b", NULL);
    result();
    IN("/w/a");
    OUT("/w/b");
}

/* The eBPF tracer sends no close records, so a closed fd's entry stays in the table:
 * a write whose identity is a pipe's, or a file the job never named, is not the stale
 * entry's file (nor is a linkat of that fd). */
static void test_stale_fd_write_to_pipe(void **state)
{
    struct roar_event_hdr h = H(ROAR_EV_WRITE, ROOT);
    (void)state;
    ev_open(ROOT, 3, "/w/a", O_RDONLY, false, 60, 5);
    h.fd = 3;
    h.ret = 10;
    ident(&h, 61, 0);
    h.mode = S_IFIFO | 0600;
    send(h, NULL, NULL);
    assert_null(roar_fdstate_lookup_fd(st, ROOT, 3));
    result();
    IN("/w/a");
    OUT(NONE);
}

static void test_stale_fd_write_to_unnamed_file(void **state)
{
    struct roar_event_hdr h = H(ROAR_EV_WRITE, ROOT);
    (void)state;
    ev_open(ROOT, 3, "/w/a", O_RDONLY, false, 62, 5);
    h.fd = 3;
    h.ret = 10;
    ident(&h, 63, 0);
    send(h, NULL, NULL);
    result();
    IN("/w/a");
    OUT(NONE);
}

static void test_stale_fd_linkat(void **state)
{
    struct roar_event_hdr h = H(ROAR_EV_LINK, ROOT);
    (void)state;
    ev_open(ROOT, 3, "/w/a", O_RDONLY, false, 64, 5);
    h.fd = 3;
    h.flags = AT_EMPTY_PATH;
    ident(&h, 65, 0);
    send(h, NULL, "/w/made");
    result();
    IN("/w/a");
    OUT(NONE);
}

/* Pattern 13: dup2 onto a closed fd number, then write -> the right file; a dup'd fd
 * shares the open file description. */
static void test_dup2_then_write(void **state)
{
    (void)state;
    ev_open(ROOT, 3, "/w/in", O_RDONLY, false, 54, 5);
    ev_close(ROOT, 1);
    ev_open(ROOT, 4, "/w/out", O_WRONLY | O_CREAT | O_TRUNC, true, 55, 0);
    ev_dup(ROOT, 4, 1, 0);
    ev_close(ROOT, 4);
    ev_write(ROOT, 1, 10);
    /* dup2 over an fd naming a read file: the read file is not charged */
    ev_dup(ROOT, 1, 3, 0);
    ev_write(ROOT, 3, 10);
    result();
    IN("/w/in");
    OUT("/w/out");
}

/* fork copies the table: a close in the parent does not close the child's fd. */
static void test_fork_copies_table(void **state)
{
    (void)state;
    ev_open(ROOT, 4, "/w/out", O_WRONLY | O_CREAT | O_TRUNC, true, 56, 0);
    ev_fork(ROOT, 200, 0);
    ev_close(ROOT, 4);
    assert_false(roar_fdstate_fd_is_open(st, ROOT, 4));
    assert_true(roar_fdstate_fd_is_open(st, 200, 4));
    ev_open(200, 5, "/w/child-only", O_RDONLY, false, 57, 1);
    assert_false(roar_fdstate_fd_is_open(st, ROOT, 5));
    ev_write(200, 4, 10);
    result();
    IN("/w/child-only");
    OUT("/w/out");
}

/* Threads share the table (their events carry the tgid); CLONE_FILES processes too. */
static void test_threads_and_clone_files_share(void **state)
{
    struct roar_event_hdr h;
    (void)state;
    ev_fork(ROOT, 101, CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD);
    h = H(ROAR_EV_OPEN, ROOT);
    h.tid = 101; /* opened in the second thread */
    h.fd = h.ret = 3;
    h.flags = O_RDONLY;
    ident(&h, 58, 5);
    send(h, "/w/a", NULL);
    ev_read(ROOT, 3, 5); /* read in the main thread */
    assert_non_null(roar_fdstate_lookup_fd(st, ROOT, 3));

    ev_fork(ROOT, 300, CLONE_FILES);
    ev_close(300, 3);
    assert_false(roar_fdstate_fd_is_open(st, ROOT, 3));
    result();
    IN("/w/a");
}

/* exec drops close-on-exec fds (O_CLOEXEC, F_SETFD, dup3 O_CLOEXEC), keeps the rest,
 * and unshares a CLONE_FILES table first. */
static void test_exec_drops_cloexec(void **state)
{
    struct roar_event_hdr h = H(ROAR_EV_SETFD, ROOT);
    (void)state;
    ev_open(ROOT, 3, "/w/a", O_RDONLY | O_CLOEXEC, false, 59, 5);
    ev_open(ROOT, 4, "/w/b", O_RDONLY, false, 60, 5);
    ev_open(ROOT, 5, "/w/c", O_RDONLY, false, 61, 5);
    h.fd = 5;
    h.flags = FD_CLOEXEC;
    send(h, NULL, NULL);
    ev_dup(ROOT, 4, 6, O_CLOEXEC);
    ev_fork(ROOT, 400, CLONE_FILES);
    ev_exec(ROOT, "/usr/bin/prog", 62);
    assert_false(roar_fdstate_fd_is_open(st, ROOT, 3));
    assert_true(roar_fdstate_fd_is_open(st, ROOT, 4));
    assert_false(roar_fdstate_fd_is_open(st, ROOT, 5));
    assert_false(roar_fdstate_fd_is_open(st, ROOT, 6));
    /* the process that shared the table before the exec keeps all four */
    assert_true(roar_fdstate_fd_is_open(st, 400, 3));
    assert_true(roar_fdstate_fd_is_open(st, 400, 6));
    result();
    IN("/usr/bin/prog", "/w/a", "/w/b", "/w/c");
}

/* Pattern 16 / §4.1: fds inherited by the root count as opens; `exec 3<f; cat <&3`
 * follows the fd through fork, dup2 and exec; `> out` redirection (the shell truncated
 * out before the job) gives out only, `>> log` gives in and out. */
static void test_inherited_fds(void **state)
{
    (void)state;
    ev_inherit(ROOT, 0, "/w/raw.csv", O_RDONLY, 63, 100);
    ev_inherit(ROOT, 1, "/w/data.csv", O_WRONLY, 64, 0);
    ev_inherit(ROOT, 2, "/w/log", O_WRONLY | O_APPEND, 65, 50);
    ev_write(ROOT, 1, 10);
    ev_write(ROOT, 2, 10);
    ev_open(ROOT, 3, "/w/f", O_RDONLY, false, 66, 5);
    ev_fork(ROOT, 500, 0);
    ev_dup(500, 3, 0, 0);
    ev_exec(500, "/usr/bin/cat", 67);
    assert_ptr_equal(roar_fdstate_lookup_fd(st, 500, 0), roar_fdstate_lookup_path(st, "/w/f"));
    ev_read(500, 0, 5);
    result();
    IN("/usr/bin/cat", "/w/f", "/w/log", "/w/raw.csv");
    OUT("/w/data.csv", "/w/log");
}

/* Pattern 15: `cat a | tr a-z A-Z | sort > out` as fork/pipe/dup2/exec events. */
static void test_pipeline(void **state)
{
    (void)state;
    ev_fdnew(ROOT, 3, 4);
    ev_fdnew(ROOT, 5, 6);
    ev_fork(ROOT, 601, 0);
    ev_dup(601, 4, 1, 0);
    ev_exec(601, "/usr/bin/cat", 70);
    ev_open(601, 7, "/w/a", O_RDONLY, false, 71, 5);
    ev_read(601, 7, 5);
    ev_write(601, 1, 5);
    ev_fork(ROOT, 602, 0);
    ev_dup(602, 3, 0, 0);
    ev_dup(602, 6, 1, 0);
    ev_exec(602, "/usr/bin/tr", 72);
    ev_read(602, 0, 5);
    ev_write(602, 1, 5);
    ev_open(ROOT, 8, "/w/out", O_WRONLY | O_CREAT | O_TRUNC, true, 73, 0);
    ev_fork(ROOT, 603, 0);
    ev_dup(603, 5, 0, 0);
    ev_dup(603, 8, 1, 0);
    ev_exec(603, "/usr/bin/sort", 74);
    ev_read(603, 0, 5);
    ev_write(603, 1, 5);
    result();
    IN("/usr/bin/cat", "/usr/bin/sort", "/usr/bin/tr", "/w/a");
    OUT("/w/out");
}

/* ---- §4.6 the preload round trip ------------------------------------------ */

static void test_about_to_destroy(void **state)
{
    roar_fdstate_hashreq r = {0};
    char path[256];
    (void)state;
    /* An input whose id is not known yet: wait. */
    ev_open(ROOT, 3, "/w/in", O_RDONLY, false, 80, 5);
    ev_destroy(ROAR_EV_OPEN, O_WRONLY | O_TRUNC, "/w/in", 80);
    assert_true(last_wait);
    drain(&r, NULL, 0);
    roar_fdstate_set_preimage(st, r.file, OLD_ID, 5);
    ev_destroy(ROAR_EV_OPEN, O_WRONLY | O_TRUNC, "/w/in", 80);
    assert_false(last_wait);

    /* Untouched files about to be truncated, unlinked or renamed over: no need. */
    ev_destroy(ROAR_EV_OPEN, O_WRONLY | O_TRUNC, "/w/x", 81);
    assert_false(last_wait);
    ev_destroy(ROAR_EV_UNLINK, 0, "/w/y", 82);
    assert_false(last_wait);
    assert_int_equal(drain(NULL, NULL, 0), 0);

    /* A write-capable open without O_TRUNC of an existing file: hash its pre-image. */
    ev_destroy(ROAR_EV_OPEN, O_WRONLY | O_APPEND, "/w/z", 83);
    assert_true(last_wait);
    assert_int_equal(drain(&r, path, sizeof(path)), 1);
    assert_int_equal(r.reason, ROAR_HASH_PREIMAGE);
    assert_string_equal(path, "/w/z");
    assert_int_equal(r.ident.ino, 83);

    /* A file the job created: its content is not pre-job, never wait. */
    ev_open(ROOT, 4, "/w/new", O_RDWR | O_CREAT, true, 84, 0);
    ev_destroy(ROAR_EV_TRUNCATE, 0, "/w/new", 84);
    assert_false(last_wait);
}

/* ---- §4.7 incomplete, and failed calls ------------------------------------ */

static void test_incomplete_and_failures(void **state)
{
    struct roar_event_hdr h = H(ROAR_EV_INCOMPLETE, ROOT);
    (void)state;
    h.flags = ROAR_INC_EVENTS_LOST;
    h.arg = 3;
    send(h, NULL, NULL);
    h.arg = 2;
    send(h, NULL, NULL);
    h.flags = ROAR_INC_STATIC_BINARY;
    h.arg = 0;
    send(h, "/bin/busybox", NULL);
    send(h, "/bin/busybox", NULL);

    h = H(ROAR_EV_OPEN, ROOT);
    h.ret = -2; /* ENOENT */
    h.flags = O_RDONLY;
    send(h, NULL, NULL);
    h = H(ROAR_EV_UNLINK, ROOT);
    h.ret = -13;
    send(h, "/w/kept", NULL);
    result();
    IN(NONE);
    OUT(NONE);
    DEL(NONE);
    assert_int_equal(res.incomplete_count, 2);
    assert_string_equal(res.incomplete[0].reason, "events-lost");
    assert_int_equal(res.incomplete[0].count, 5);
    assert_string_equal(res.incomplete[1].reason, "static-binary");
    assert_string_equal(res.incomplete[1].path, "/bin/busybox");
}

/* Only regular files count: directories, O_PATH and devices just occupy the fd. */
static void test_non_regular_opens(void **state)
{
    struct roar_event_hdr h = H(ROAR_EV_OPEN, ROOT);
    (void)state;
    ev_open(ROOT, 3, "/w/dir", O_RDONLY | O_DIRECTORY, false, 90, 0);
    ev_open(ROOT, 4, "/w/file", O_PATH, false, 91, 5);
    h.fd = h.ret = 5;
    h.flags = O_RDWR;
    ident(&h, 92, 0);
    h.mode = S_IFCHR | 0666;
    send(h, "/dev/null", NULL);
    ev_write(ROOT, 5, 10);
    assert_true(roar_fdstate_fd_is_open(st, ROOT, 3));
    assert_null(roar_fdstate_lookup_fd(st, ROOT, 3));
    result();
    IN(NONE);
    OUT(NONE);
    DEL(NONE);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown_res)
    const struct CMUnitTest tests[] = {
        T(test_read_only_open_is_input),
        T(test_input_without_hash_has_unknown_id),
        T(test_create_write_is_output),
        T(test_rdwr_creat_trunc_is_output_only),
        T(test_rdwr_trunc_then_read_or_mmap_is_output_only),
        T(test_read_then_inplace_write_is_in_and_out),
        T(test_append_is_in_and_out),
        T(test_truncate_to_zero_first_is_output_only),
        T(test_truncate_nonzero_after_write_open_is_in_and_out),
        T(test_read_after_own_write_is_not_input),
        T(test_exec_is_input_unless_created),
        T(test_copy_into_fd),
        T(test_mmap_shared_write_is_output),
        T(test_temp_then_rename_is_final_only),
        T(test_temp_link_unlink_is_final),
        T(test_tmpfile_then_linkat),
        T(test_create_then_unlink_is_nothing),
        T(test_unlink_preexisting_is_del),
        T(test_read_unlink_and_recreate),
        T(test_mv_untouched_file),
        T(test_mv_untouched_file_resolved_at_the_end),
        T(test_mv_then_truncate_is_unknown_input),
        T(test_directory_rename),
        T(test_directory_rename_then_unlink),
        T(test_directory_rename_then_file_rename),
        T(test_directory_rename_then_create),
        T(test_directory_rename_chain),
        T(test_directory_exchange),
        T(test_directory_rename_inferred),
        T(test_rename_over_existing),
        T(test_zero_byte_write_is_not_output),
        T(test_colon_redirect_and_touch),
        T(test_shared_mapping_of_writable_fd_needs_the_check),
        T(test_invisible_write_check),
        T(test_two_names_one_file),
        T(test_fd_reuse_by_pipe_or_socket),
        T(test_write_identity_overrides_stale_fd),
        T(test_stale_fd_write_to_pipe),
        T(test_stale_fd_write_to_unnamed_file),
        T(test_stale_fd_linkat),
        T(test_dup2_then_write),
        T(test_fork_copies_table),
        T(test_threads_and_clone_files_share),
        T(test_exec_drops_cloexec),
        T(test_inherited_fds),
        T(test_pipeline),
        T(test_about_to_destroy),
        T(test_incomplete_and_failures),
        T(test_non_regular_opens),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
