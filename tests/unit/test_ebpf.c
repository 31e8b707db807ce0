/* Unit tests of the eBPF tracer's userspace side that need no BPF: the conversion of
 * kernel records into event.h records (the kernel constants are test_ebpf_abi.c's). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <fcntl.h>
#include <linux/close_range.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "trace/ebpf/loader.h"
#include "trace/ebpf/roar_bpf.h"
#include "trace/event.h"
#include "util/err.h"

/* ---- building kernel records ---------------------------------------------------------- */

static unsigned char rec[sizeof(struct roar_bpf_event) + ROAR_BPF_DATA_MAX];
static size_t rec_at;

static struct roar_bpf_event *rec_start(unsigned type)
{
    struct roar_bpf_event *e = (struct roar_bpf_event *)rec;
    memset(rec, 0, sizeof(rec));
    e->h.type = (__u16)type;
    e->h.tgid = 100;
    e->h.tid = 100;
    e->h.fd = -1;
    e->h.fd2 = -1;
    rec_at = sizeof(*e);
    return e;
}

/* Appends the string the program passed as piece i. */
static void rec_str(int i, const char *s)
{
    struct roar_bpf_event *e = (struct roar_bpf_event *)rec;
    size_t n = strlen(s) + 1;
    memcpy(rec + rec_at, s, n);
    rec_at += n;
    e->pflags[i] |= ROAR_BPF_P_STR;
    e->str_len[i] = (__u32)n;
}

/* Appends a walk of piece i: names given root first ("usr", "bin"), stored leaf first
 * as the kernel writes them. */
static void rec_walk(int i, int n, ...)
{
    struct roar_bpf_event *e = (struct roar_bpf_event *)rec;
    const char *names[64];
    size_t start = rec_at;
    va_list ap;
    int k;
    va_start(ap, n);
    for (k = 0; k < n; k++)
        names[k] = va_arg(ap, const char *);
    va_end(ap);
    for (k = n - 1; k >= 0; k--) {
        size_t l = strlen(names[k]) + 1;
        memcpy(rec + rec_at, names[k], l);
        rec_at += l;
    }
    e->pflags[i] |= ROAR_BPF_P_WALK;
    e->walk_len[i] = (__u32)(rec_at - start);
}

static size_t rec_end(void)
{
    struct roar_bpf_event *e = (struct roar_bpf_event *)rec;
    e->rec_len = (__u32)rec_at;
    return rec_at;
}

/* What came out: each record decoded (with the collector's decoder) and printed. */
static char got[8][4096];
static int ngot;

static int collect(const void *r, size_t len, void *payload)
{
    roar_event ev;
    size_t used = 0;
    (void)payload;
    if (roar_event_decode(&ev, r, len, &used) < 0)
        fail_msg("decoder refused a converted record: %s", roar_error_last());
    assert_int_equal(used, len);
    assert_true(ngot < 8);
    snprintf(got[ngot], sizeof(got[ngot]), "%s fd=%d%s%s%s%s seq=%llu",
             roar_event_type_name(ev.h.type), ev.h.fd, ev.path ? " " : "",
             ev.path ? ev.path : "", ev.path2 ? " -> " : "", ev.path2 ? ev.path2 : "",
             (unsigned long long)ev.h.seq);
    if (ev.h.type == ROAR_EV_INCOMPLETE)
        snprintf(got[ngot], sizeof(got[ngot]), "incomplete %s%s%s",
                 roar_event_incomplete_name((unsigned)ev.h.flags), ev.path ? " " : "",
                 ev.path ? ev.path : "");
    ngot++;
    return 0;
}

static roar_ebpf_conv *conv;

static int setup(void **state)
{
    (void)state;
    ngot = 0;
    return roar_ebpf_conv_new(&conv);
}

static int teardown(void **state)
{
    (void)state;
    roar_ebpf_conv_free(conv);
    conv = NULL;
    return 0;
}

static void convert(void)
{
    size_t n = rec_end();
    ngot = 0;
    assert_int_equal(roar_ebpf_conv_record(conv, rec, n, collect, NULL), 0);
}

/* ---- conversion ------------------------------------------------------------------------ */

static void test_open_relative_joins_the_cwd_walk(void **state)
{
    struct roar_bpf_event *e = rec_start(ROAR_EV_OPEN);
    (void)state;
    e->h.fd = 3;
    e->h.ret = 3;
    rec_str(0, "../w/./sub//x");
    rec_walk(0, 2, "home", "w");
    rec_walk(1, 4, "home", "w", "sub", "x");
    convert();
    assert_int_equal(ngot, 1);
    /* the canonical name equals the used one: not repeated */
    assert_string_equal(got[0], "open fd=3 /home/w/sub/x seq=1");
}

static void test_open_keeps_a_different_canonical_name(void **state)
{
    struct roar_bpf_event *e = rec_start(ROAR_EV_OPEN);
    (void)state;
    e->h.fd = 4;
    e->h.ret = 4;
    rec_str(0, "/w/data/link");
    rec_walk(1, 3, "mnt", "disk", "f");
    convert();
    assert_int_equal(ngot, 1);
    assert_string_equal(got[0], "open fd=4 /w/data/link -> /mnt/disk/f seq=1");
}

static void test_walk_of_the_root(void **state)
{
    rec_start(ROAR_EV_CHDIR);
    (void)state;
    rec_walk(0, 0);
    convert();
    assert_string_equal(got[0], "chdir fd=-1 / seq=1");
    /* a relative name against the root */
    rec_start(ROAR_EV_UNLINK);
    rec_str(0, "a/../b");
    rec_walk(0, 0);
    convert();
    assert_string_equal(got[0], "unlink fd=-1 /b seq=2");
}

static void test_open_through_proc_uses_the_file_name(void **state)
{
    struct roar_bpf_event *e = rec_start(ROAR_EV_OPEN);
    (void)state;
    e->h.fd = 5;
    e->h.ret = 5;
    rec_str(0, "/proc/self/fd/3");
    rec_walk(1, 2, "w", "f");
    convert();
    assert_string_equal(got[0], "open fd=5 /w/f seq=1");
}

static void test_open_tmpfile_has_no_canonical_name(void **state)
{
    struct roar_bpf_event *e = rec_start(ROAR_EV_OPEN);
    (void)state;
    e->h.fd = 3;
    e->h.ret = 3;
    e->h.flags = O_TMPFILE | O_WRONLY;
    rec_str(0, ".");
    rec_walk(0, 1, "w");
    rec_walk(1, 2, "w", "#1234");
    convert();
    assert_string_equal(got[0], "open fd=3 /w seq=1");
}

static void test_open_by_handle_has_only_its_walk(void **state)
{
    struct roar_bpf_event *e = rec_start(ROAR_EV_OPEN);
    (void)state;
    e->h.fd = 3;
    e->h.ret = 3;
    rec_walk(1, 2, "w", "f");
    convert();
    assert_string_equal(got[0], "open fd=3 /w/f seq=1");
}

static void test_open_too_long_is_incomplete_and_frees_the_fd(void **state)
{
    struct roar_bpf_event *e = rec_start(ROAR_EV_OPEN);
    (void)state;
    e->h.fd = 7;
    e->h.ret = 7;
    rec_str(0, "f");
    e->pflags[0] |= ROAR_BPF_P_WALK | ROAR_BPF_P_LONG;
    rec_walk(1, 1, "x");
    e->pflags[1] |= ROAR_BPF_P_LONG;
    convert();
    assert_int_equal(ngot, 2);
    assert_string_equal(got[0], "incomplete path-too-long");
    assert_string_equal(got[1], "fdnew fd=7 seq=2");
}

static void test_open_of_an_unreachable_file_frees_the_fd(void **state)
{
    struct roar_bpf_event *e = rec_start(ROAR_EV_OPEN);
    (void)state;
    e->h.fd = 7;
    e->h.ret = 7;
    rec_str(0, "f");
    e->pflags[0] |= ROAR_BPF_P_WALK | ROAR_BPF_P_UNREACHED;
    convert();
    assert_int_equal(ngot, 1);
    assert_string_equal(got[0], "fdnew fd=7 seq=1");
}

static void test_rename_two_bases(void **state)
{
    rec_start(ROAR_EV_RENAME);
    (void)state;
    rec_str(0, "tmp");
    rec_walk(0, 1, "a");
    rec_str(1, "../b/final");
    rec_walk(1, 1, "a");
    convert();
    assert_string_equal(got[0], "rename fd=-1 /a/tmp -> /b/final seq=1");
}

static uint64_t last_flags;
static unsigned last_mode;

static int keep_flags(const void *r, size_t len, void *payload)
{
    roar_event ev;
    size_t used = 0;
    (void)payload;
    assert_int_equal(roar_event_decode(&ev, r, len, &used), 0);
    last_flags = ev.h.flags;
    last_mode = ev.h.has_ident ? ev.h.mode : 0;
    return 0;
}

/* The kernel side cannot look names up: the loader says what was moved (it lives at
 * the new name now), but sends no identity: read after the call, it could be that of
 * the job's next write (`mv a b && echo x > b`, issue 17). */
static void test_rename_says_what_moved(void **state)
{
    size_t n;
    (void)state;
    rec_start(ROAR_EV_RENAME);
    rec_str(0, "/nonexistent-a");
    rec_str(1, "/");
    n = rec_end();
    assert_int_equal(roar_ebpf_conv_record(conv, rec, n, keep_flags, NULL), 0);
    assert_true(last_flags & ROAR_RENAME_F_DIR);
    assert_int_equal(last_mode, 0);
    rec_start(ROAR_EV_RENAME);
    rec_str(0, "/nonexistent-a");
    rec_str(1, "/dev/null");
    n = rec_end();
    assert_int_equal(roar_ebpf_conv_record(conv, rec, n, keep_flags, NULL), 0);
    assert_true(last_flags & ROAR_RENAME_F_FILE);
    assert_false(last_flags & ROAR_RENAME_F_DIR);
    assert_int_equal(last_mode, 0);
    rec_start(ROAR_EV_RENAME);
    rec_str(0, "/nonexistent-a");
    rec_str(1, "/nonexistent-b");
    n = rec_end();
    assert_int_equal(roar_ebpf_conv_record(conv, rec, n, keep_flags, NULL), 0);
    assert_false(last_flags & (ROAR_RENAME_F_DIR | ROAR_RENAME_F_FILE));
    assert_int_equal(last_mode, 0);
}

static void test_rename_too_long(void **state)
{
    struct roar_bpf_event *e = rec_start(ROAR_EV_RENAME);
    (void)state;
    rec_str(0, "/a");
    rec_str(1, "b");
    e->pflags[1] |= ROAR_BPF_P_WALK | ROAR_BPF_P_LONG;
    convert();
    assert_int_equal(ngot, 1);
    assert_string_equal(got[0], "incomplete path-too-long");
}

static void test_link_from_proc_fd_names_the_fd(void **state)
{
    struct roar_bpf_event *e = rec_start(ROAR_EV_LINK);
    (void)state;
    rec_str(0, "/proc/self/fd/9");
    rec_str(1, "/w/final");
    convert();
    assert_string_equal(got[0], "link fd=9 -> /w/final seq=1");
    e = rec_start(ROAR_EV_LINK);
    rec_str(0, "/proc/100/fd/12");
    rec_str(1, "/w/final");
    convert();
    assert_string_equal(got[0], "link fd=12 -> /w/final seq=2");
    /* another process's fd is not ours to name */
    e = rec_start(ROAR_EV_LINK);
    rec_str(0, "/proc/101/fd/12");
    rec_str(1, "/w/final");
    convert();
    assert_string_equal(got[0], "link fd=-1 /proc/101/fd/12 -> /w/final seq=3");
    (void)e;
}

static void test_exec_and_foreign_arch(void **state)
{
    rec_start(ROAR_EV_EXEC);
    (void)state;
    rec_walk(0, 3, "usr", "bin", "cat");
    convert();
    assert_string_equal(got[0], "exec fd=-1 /usr/bin/cat seq=1");
    struct roar_bpf_event *e = rec_start(ROAR_EV_INCOMPLETE);
    e->h.flags = ROAR_INC_FOREIGN_ARCH;
    rec_walk(0, 2, "opt", "prog32");
    convert();
    assert_string_equal(got[0], "incomplete foreign-arch /opt/prog32");
}

/* ---- the cwd the loader keeps for each process ---- */

static void rec_exec(uint32_t tgid, int ncwd, const char *c1, const char *c2)
{
    struct roar_bpf_event *e = rec_start(ROAR_EV_EXEC);
    e->h.tgid = e->h.tid = tgid;
    rec_walk(0, 2, "bin", "prog");
    if (ncwd == 2)
        rec_walk(1, 2, c1, c2);
    else
        rec_walk(1, 1, c1);
    convert();
}

static void rec_unlink_rel(uint32_t tgid, const char *name)
{
    struct roar_bpf_event *e = rec_start(ROAR_EV_UNLINK);
    e->h.tgid = e->h.tid = tgid;
    rec_str(0, name);
    e->pflags[0] |= ROAR_BPF_P_CWD;
    convert();
}

static void rec_fork(uint32_t parent, uint32_t child, uint64_t flags)
{
    struct roar_bpf_event *e = rec_start(ROAR_EV_FORK);
    e->h.tgid = e->h.tid = parent;
    e->h.pid2 = child;
    e->h.ret = child;
    e->h.flags = flags;
    convert();
}

static void rec_chdir(uint32_t tgid, const char *dir, uint64_t flags)
{
    struct roar_bpf_event *e = rec_start(ROAR_EV_CHDIR);
    e->h.tgid = e->h.tid = tgid;
    e->h.flags = flags;
    rec_walk(0, 1, dir);
    convert();
}

/* tgids far above pid_max: /proc knows none of them */
#define P1 0x7ffffff0u
#define P2 0x7ffffff1u
#define P3 0x7ffffff2u

static void test_cwd_from_exec_chdir_fork(void **state)
{
    (void)state;
    rec_exec(P1, 2, "home", "w");
    assert_string_equal(got[0], "exec fd=-1 /bin/prog seq=1");
    rec_unlink_rel(P1, "a/../x");
    assert_string_equal(got[0], "unlink fd=-1 /home/w/x seq=2");

    /* a fork starts in its parent's cwd, and then goes its own way */
    rec_fork(P1, P2, 0);
    rec_chdir(P2, "tmp", 0);
    assert_string_equal(got[0], "chdir fd=-1 /tmp seq=4");
    rec_unlink_rel(P2, "y");
    assert_string_equal(got[0], "unlink fd=-1 /tmp/y seq=5");
    rec_unlink_rel(P1, "y");
    assert_string_equal(got[0], "unlink fd=-1 /home/w/y seq=6");

    /* CLONE_FS: one cwd for both, until one unshares it */
    rec_fork(P1, P3, CLONE_FS);
    rec_chdir(P3, "srv", 0);
    rec_unlink_rel(P1, "z");
    assert_string_equal(got[0], "unlink fd=-1 /srv/z seq=9");
    rec_chdir(P3, "opt", ROAR_BPF_CHDIR_UNSHARED);
    assert_string_equal(got[0], "chdir fd=-1 /opt seq=10");
    rec_unlink_rel(P1, "z");
    assert_string_equal(got[0], "unlink fd=-1 /srv/z seq=11");
    rec_unlink_rel(P3, "z");
    assert_string_equal(got[0], "unlink fd=-1 /opt/z seq=12");
    assert_int_equal(roar_ebpf_conv_unnamed(conv), 0);
}

static void test_cwd_gone_with_the_process(void **state)
{
    struct roar_bpf_event *e;
    (void)state;
    rec_exec(P1, 1, "w", NULL);
    e = rec_start(ROAR_EV_EXIT);
    e->h.tgid = e->h.tid = P1;
    convert();
    assert_string_equal(got[0], "exit fd=-1 seq=2");
    /* a name relative to a cwd nobody knows: not recorded, but counted */
    rec_unlink_rel(P1, "x");
    assert_int_equal(ngot, 0);
    assert_int_equal(roar_ebpf_conv_unnamed(conv), 1);
}

static void test_cwd_too_long(void **state)
{
    struct roar_bpf_event *e = rec_start(ROAR_EV_EXEC);
    (void)state;
    e->h.tgid = e->h.tid = P1;
    rec_walk(0, 1, "prog");
    e->pflags[1] |= ROAR_BPF_P_WALK | ROAR_BPF_P_LONG;
    convert();
    assert_string_equal(got[0], "exec fd=-1 /prog seq=1");
    e = rec_start(ROAR_EV_OPEN);
    e->h.tgid = e->h.tid = P1;
    e->h.fd = e->h.ret = 3;
    rec_str(0, "f");
    e->pflags[0] |= ROAR_BPF_P_CWD;
    convert();
    assert_int_equal(ngot, 2);
    assert_string_equal(got[0], "incomplete path-too-long");
    assert_string_equal(got[1], "fdnew fd=3 seq=3");
    /* an absolute name needs no cwd */
    e = rec_start(ROAR_EV_OPEN);
    e->h.tgid = e->h.tid = P1;
    e->h.fd = e->h.ret = 4;
    rec_str(0, "/etc/passwd");
    e->pflags[0] |= ROAR_BPF_P_CWD;
    convert();
    assert_string_equal(got[0], "open fd=4 /etc/passwd seq=4");
}

/* A process the records never introduced (its fork record was lost): /proc tells. */
static void test_cwd_from_proc(void **state)
{
    struct roar_bpf_event *e = rec_start(ROAR_EV_UNLINK);
    char cwd[4096], want[4200];
    (void)state;
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    e->h.tgid = e->h.tid = (uint32_t)getpid();
    rec_str(0, "x");
    e->pflags[0] |= ROAR_BPF_P_CWD;
    convert();
    snprintf(want, sizeof(want), "unlink fd=-1 %s/x seq=1", strcmp(cwd, "/") ? cwd : "");
    assert_string_equal(got[0], want);
}

static void test_small_records_pass_through(void **state)
{
    struct roar_bpf_event *e = rec_start(ROAR_EV_CLOSE);
    (void)state;
    e->h.fd = 3;
    e->h.fd2 = 9;
    convert();
    assert_string_equal(got[0], "close fd=3 seq=1");
}

/* The compact form of a small record converts to the very bytes of its full form. */
static unsigned char wire[2][256];
static size_t nwire;

static size_t wire_len[2];

static int keep_wire(const void *r, size_t len, void *payload)
{
    (void)payload;
    assert_true(nwire < 2 && len <= sizeof(wire[0]));
    wire_len[nwire] = len;
    memcpy(wire[nwire++], r, len);
    memset(wire[nwire - 1], 0, 8); /* seq: one more for the second record */
    return 0;
}

static void test_compact_records_equal_full_ones(void **state)
{
    struct roar_bpf_small sm = {.ret = 5, .flags = ROAR_CLOSE_F_CLOEXEC, .tgid = 77,
                                .tid = 78, .fd = 5, .fd2 = 9, .type = ROAR_EV_CLOSE};
    struct roar_bpf_event *e = rec_start(ROAR_EV_CLOSE);
    size_t n;
    (void)state;
    e->h.ret = 5;
    e->h.flags = ROAR_CLOSE_F_CLOEXEC;
    e->h.tgid = 77;
    e->h.tid = 78;
    e->h.fd = 5;
    e->h.fd2 = 9;
    n = rec_end();
    nwire = 0;
    assert_int_equal(roar_ebpf_conv_record(conv, rec, n, keep_wire, NULL), 0);
    assert_int_equal(roar_ebpf_conv_record(conv, &sm, sizeof(sm), keep_wire, NULL), 0);
    assert_int_equal(nwire, 2);
    assert_memory_equal(wire[0], wire[1], ROAR_EVENT_HDR_SIZE);
    sm.type = ROAR_EV_NONE; /* checked as a full record is */
    assert_int_equal(roar_ebpf_conv_record(conv, &sm, sizeof(sm), keep_wire, NULL),
                     ROAR_EINVALID);
}

/* The compact open (struct roar_bpf_open) converts to the very bytes of its full form,
 * path included; a malformed one is refused. */
static void test_compact_open_equals_full_one(void **state)
{
    struct {
        struct roar_bpf_open o;
        char str[8];
    } c;
    struct roar_bpf_event *e = rec_start(ROAR_EV_OPEN);
    size_t n;
    (void)state;
    e->h.ret = 4;
    e->h.fd = 4;
    e->h.flags = O_RDONLY | O_CLOEXEC;
    e->h.arg = 0644;
    e->h.has_ident = 1;
    e->h.created = 1;
    e->h.dev = 2049;
    e->h.ino = 77;
    e->h.size = 12;
    e->h.mtime_ns = 1000;
    e->h.ctime_ns = 2000;
    e->h.mode = S_IFREG | 0644;
    rec_str(0, "/abs/x");
    n = rec_end();

    memset(&c, 0, sizeof(c));
    c.o.form = ROAR_BPF_FORM_OPEN;
    c.o.str_len = 7;
    c.o.ret = 4;
    c.o.flags = O_RDONLY | O_CLOEXEC;
    c.o.arg = 0644;
    c.o.id.has_ident = 1;
    c.o.id.created = 1;
    c.o.id.dev = 2049;
    c.o.id.ino = 77;
    c.o.id.size = 12;
    c.o.id.mtime_ns = 1000;
    c.o.id.ctime_ns = 2000;
    c.o.id.mode = S_IFREG | 0644;
    c.o.tgid = c.o.tid = 100;
    c.o.pflags = ROAR_BPF_P_STR;
    memcpy(c.str, "/abs/x", 7);

    nwire = 0;
    assert_int_equal(roar_ebpf_conv_record(conv, rec, n, keep_wire, NULL), 0);
    assert_int_equal(roar_ebpf_conv_record(conv, &c, sizeof(c.o) + 7, keep_wire, NULL), 0);
    assert_int_equal(nwire, 2);
    assert_int_equal(wire_len[0], wire_len[1]);
    assert_memory_equal(wire[0], wire[1], wire_len[0]);

    /* a length that is not the header plus the string */
    assert_int_equal(roar_ebpf_conv_record(conv, &c, sizeof(c.o) + 6, collect, NULL),
                     ROAR_EINVALID);
    /* a string without its NUL */
    c.str[6] = 'y';
    assert_int_equal(roar_ebpf_conv_record(conv, &c, sizeof(c.o) + 7, collect, NULL),
                     ROAR_EINVALID);
    c.str[6] = '\0';
    /* pieces the compact form does not carry */
    c.o.pflags = ROAR_BPF_P_STR | ROAR_BPF_P_WALK;
    assert_int_equal(roar_ebpf_conv_record(conv, &c, sizeof(c.o) + 7, collect, NULL),
                     ROAR_EINVALID);
    c.o.pflags = 0;
    assert_int_equal(roar_ebpf_conv_record(conv, &c, sizeof(c.o) + 7, collect, NULL),
                     ROAR_EINVALID);
}

static void test_malformed_records(void **state)
{
    struct roar_bpf_event *e;
    size_t n;
    (void)state;

    /* shorter than the struct */
    assert_int_equal(roar_ebpf_conv_record(conv, rec, 10, collect, NULL), ROAR_EINVALID);
    /* a string that overruns the record */
    e = rec_start(ROAR_EV_UNLINK);
    rec_str(0, "/abc");
    e->str_len[0] = 4000;
    n = rec_end();
    assert_int_equal(roar_ebpf_conv_record(conv, rec, n, collect, NULL), ROAR_EINVALID);
    /* a string without its NUL */
    e = rec_start(ROAR_EV_UNLINK);
    rec_str(0, "/abc");
    e->str_len[0] = 3;
    n = rec_end();
    assert_int_equal(roar_ebpf_conv_record(conv, rec, n, collect, NULL), ROAR_EINVALID);
    /* a walk without its last NUL */
    e = rec_start(ROAR_EV_EXEC);
    rec_walk(0, 1, "abc");
    e->walk_len[0] = 3;
    n = rec_end();
    assert_int_equal(roar_ebpf_conv_record(conv, rec, n, collect, NULL), ROAR_EINVALID);
    /* rec_len larger than the bytes given */
    e = rec_start(ROAR_EV_CLOSE);
    n = rec_end();
    assert_int_equal(roar_ebpf_conv_record(conv, rec, n - 8, collect, NULL), ROAR_EINVALID);
    /* unknown type */
    e = rec_start(ROAR_EV__COUNT);
    n = rec_end();
    assert_int_equal(roar_ebpf_conv_record(conv, rec, n, collect, NULL), ROAR_EINVALID);
    /* a rename that lost a name */
    e = rec_start(ROAR_EV_RENAME);
    rec_str(0, "/a");
    n = rec_end();
    assert_int_equal(roar_ebpf_conv_record(conv, rec, n, collect, NULL), ROAR_EINVALID);
}

/* The fd set at a fork or exec: each run of closed numbers a CLOSE, for each process. */
static char closes[8][64];
static int ncloses;

static int collect_close(const void *r, size_t len, void *payload)
{
    roar_event ev;
    size_t used = 0;
    (void)payload;
    if (roar_event_decode(&ev, r, len, &used) < 0)
        fail_msg("decoder refused a converted record: %s", roar_error_last());
    assert_int_equal(ev.h.type, ROAR_EV_CLOSE);
    assert_true(ncloses < 8);
    snprintf(closes[ncloses++], sizeof(closes[0]), "p%u %d..%d", ev.h.tgid, ev.h.fd, ev.h.fd2);
    return 0;
}

static void test_fdset_closes_the_gaps(void **state)
{
    struct roar_bpf_fdset fs;
    (void)state;
    memset(&fs, 0, sizeof(fs));
    fs.form = ROAR_BPF_FORM_FDSET;
    fs.tgid = 10;
    fs.tgid2 = 11;
    fs.max_fds = 64;
    fs.words[0] = 0x27; /* 0, 1, 2 and 5 */
    ncloses = 0;
    assert_int_equal(roar_ebpf_conv_record(conv, &fs, sizeof(fs), collect_close, NULL), 0);
    assert_int_equal(ncloses, 4);
    assert_string_equal(closes[0], "p10 3..4");
    assert_string_equal(closes[1], "p11 3..4");
    assert_string_equal(closes[2], "p10 6..2147483647");
    assert_string_equal(closes[3], "p11 6..2147483647");

    /* the table's last number open: past it, all closed; one process named */
    fs.tgid2 = 0;
    fs.words[0] = ~0ull;
    ncloses = 0;
    assert_int_equal(roar_ebpf_conv_record(conv, &fs, sizeof(fs), collect_close, NULL), 0);
    assert_int_equal(ncloses, 1);
    assert_string_equal(closes[0], "p10 64..2147483647");

    /* a table larger than the words sent: nothing said past them */
    fs.max_fds = 4096;
    memset(fs.words, 0xff, sizeof(fs.words));
    fs.words[15] &= ~(1ull << 40); /* fd 1000 */
    ncloses = 0;
    assert_int_equal(roar_ebpf_conv_record(conv, &fs, sizeof(fs), collect_close, NULL), 0);
    assert_int_equal(ncloses, 1);
    assert_string_equal(closes[0], "p10 1000..1000");

    /* a record of another length, or naming nobody */
    assert_int_equal(roar_ebpf_conv_record(conv, &fs, sizeof(fs) + 8, collect_close, NULL),
                     ROAR_EINVALID);
    fs.tgid = 0;
    assert_int_equal(roar_ebpf_conv_record(conv, &fs, sizeof(fs), collect_close, NULL),
                     ROAR_EINVALID);
}

/* Random bytes in, and only records the collector's decoder accepts out. */
static void test_random_records_never_give_bad_output(void **state)
{
    unsigned seed = 12345;
    int round;
    (void)state;
    /* the types the kernel side sends, with the fields it always fills */
    static const unsigned types[] = {ROAR_EV_OPEN,     ROAR_EV_CLOSE,    ROAR_EV_DUP,
                                     ROAR_EV_FORK,     ROAR_EV_EXEC,     ROAR_EV_EXIT,
                                     ROAR_EV_READ,     ROAR_EV_WRITE,    ROAR_EV_MMAP,
                                     ROAR_EV_TRUNCATE, ROAR_EV_RENAME,   ROAR_EV_LINK,
                                     ROAR_EV_UNLINK,   ROAR_EV_CHDIR,    ROAR_EV_COPY,
                                     ROAR_EV_FDNEW,    ROAR_EV_INCOMPLETE};
    for (round = 0; round < 20000; round++) {
        struct roar_bpf_event *e = rec_start(types[seed % (sizeof(types) / sizeof(types[0]))]);
        size_t k, n = 16 + (seed % 200);
        e->h.fd = e->h.fd2 = 3;
        e->h.pid2 = 7;
        if (e->h.type == ROAR_EV_INCOMPLETE)
            e->h.flags = (seed & 1) ? ROAR_INC_FOREIGN_ARCH : ROAR_INC_IO_URING;
        for (k = 0; k < n; k++) {
            seed = seed * 1103515245u + 12345u;
            rec[sizeof(*e) + k] = (seed >> 16) % 5 == 0 ? 0 : (unsigned char)('a' + (seed >> 8) % 3);
            if ((seed >> 20) % 7 == 0)
                rec[sizeof(*e) + k] = '/';
        }
        seed = seed * 1103515245u + 12345u;
        e->pflags[0] = (__u16)((seed >> 4) & 0x1f);
        e->pflags[1] = (__u16)((seed >> 8) & 0x1f);
        e->str_len[0] = (seed >> 12) % 40;
        e->walk_len[0] = (seed >> 16) % 40;
        e->str_len[1] = (seed >> 20) % 40;
        e->walk_len[1] = (seed >> 24) % 40;
        rec_at = sizeof(*e) + n;
        n = rec_end();
        ngot = 0;
        (void)roar_ebpf_conv_record(conv, rec, n, collect, NULL);
        roar_error_clear();
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_relative_joins_the_cwd_walk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_keeps_a_different_canonical_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_walk_of_the_root, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_through_proc_uses_the_file_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_tmpfile_has_no_canonical_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_by_handle_has_only_its_walk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_too_long_is_incomplete_and_frees_the_fd, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_open_of_an_unreachable_file_frees_the_fd, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rename_two_bases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rename_says_what_moved, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rename_too_long, setup, teardown),
        cmocka_unit_test_setup_teardown(test_link_from_proc_fd_names_the_fd, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exec_and_foreign_arch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cwd_from_exec_chdir_fork, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cwd_gone_with_the_process, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cwd_too_long, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cwd_from_proc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_small_records_pass_through, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compact_records_equal_full_ones, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compact_open_equals_full_one, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_records, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fdset_closes_the_gaps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_records_never_give_bad_output, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
