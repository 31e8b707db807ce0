/* What the fdstate unit tests (test_fdstate*.c) share: a fresh state per test, event
 * builders that go through the wire encoder and decoder, and result assertions. Each
 * test program includes it once; helpers it does not use cost nothing (static inline). */
#ifndef ROAR_TESTS_FDSTATE_HARNESS_H
#define ROAR_TESTS_FDSTATE_HARNESS_H

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

static inline int setup(void **state)
{
    (void)state;
    last_wait = false;
    return roar_fdstate_new(&st);
}

static inline int teardown(void **state)
{
    (void)state;
    roar_fdstate_free(st);
    st = NULL;
    return 0;
}

/* ---- event builders: everything goes through encode -> decode -> apply ---- */

static inline struct roar_event_hdr H(unsigned type, uint32_t tgid) {
    struct roar_event_hdr h;
    memset(&h, 0, sizeof(h));
    h.type = (__u16)type;
    h.tgid = tgid;
    h.tid = tgid;
    h.fd = -1;
    h.fd2 = -1;
    return h;
}

static inline void
ident(struct roar_event_hdr *h, uint64_t ino, uint64_t size)
{
    h->has_ident = 1;
    h->dev = DEV;
    h->ino = ino;
    h->size = size;
    h->mtime_ns = (int64_t)ino * 1000;
    h->ctime_ns = (int64_t)ino * 1000;
    h->mode = S_IFREG | 0644;
}

static inline void send(struct roar_event_hdr h, const char *p1, const char *p2)
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
static inline void ev_open(uint32_t pid, int fd, const char *path, int flags, bool created,
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

static inline void ev_fd(unsigned type, uint32_t pid, int fd, int64_t ret)
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

static inline void ev_mmap(uint32_t pid, int fd, int prot, int flags)
{
    struct roar_event_hdr h = H(ROAR_EV_MMAP, pid);
    h.fd = fd;
    h.arg = (uint64_t)prot;
    h.flags = (uint64_t)flags;
    send(h, NULL, NULL);
}

static inline void ev_ftruncate(uint32_t pid, int fd, uint64_t len)
{
    struct roar_event_hdr h = H(ROAR_EV_TRUNCATE, pid);
    h.fd = fd;
    h.arg = len;
    send(h, NULL, NULL);
}

static inline void ev_dup(uint32_t pid, int oldfd, int newfd, int flags)
{
    struct roar_event_hdr h = H(ROAR_EV_DUP, pid);
    h.fd = oldfd;
    h.fd2 = newfd;
    h.ret = newfd;
    h.flags = (uint64_t)flags;
    send(h, NULL, NULL);
}

static inline void ev_fdnew(uint32_t pid, int fd, int fd2)
{
    struct roar_event_hdr h = H(ROAR_EV_FDNEW, pid);
    h.fd = fd;
    h.fd2 = fd2;
    send(h, NULL, NULL);
}

static inline void ev_fork(uint32_t parent, uint32_t child, uint64_t clone_flags)
{
    struct roar_event_hdr h = H(ROAR_EV_FORK, parent);
    h.pid2 = child;
    h.ret = child;
    h.flags = clone_flags;
    send(h, NULL, NULL);
}

static inline void ev_exec(uint32_t pid, const char *path, uint64_t ino)
{
    struct roar_event_hdr h = H(ROAR_EV_EXEC, pid);
    if (ino)
        ident(&h, ino, 100);
    send(h, path, NULL);
}

static inline void ev_path2(unsigned type, const char *a, const char *b, uint64_t flags)
{
    struct roar_event_hdr h = H(type, ROOT);
    h.flags = flags;
    send(h, a, b);
}

#define ev_rename(a, b) ev_path2(ROAR_EV_RENAME, a, b, 0)
#define ev_link(a, b) ev_path2(ROAR_EV_LINK, a, b, 0)
#define ev_unlink(a) ev_path2(ROAR_EV_UNLINK, a, NULL, 0)

static inline void ev_inherit(uint32_t pid, int fd, const char *path, int acc, uint64_t ino,
                              uint64_t size)
{
    struct roar_event_hdr h = H(ROAR_EV_INHERIT, pid);
    h.fd = fd;
    h.flags = (uint64_t)acc;
    ident(&h, ino, size);
    send(h, path, NULL);
}

static inline void ev_destroy(unsigned call, uint64_t open_flags, const char *path, uint64_t ino)
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
static inline void assert_paths(const roar_fdstate_entry *v, size_t n, ...)
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

static inline void result(void)
{
    roar_fdstate_result_dispose(&res);
    assert_int_equal(roar_fdstate_result_get(&res, st), 0);
}

#define IN(...) assert_paths(res.inputs, res.input_count, __VA_ARGS__, NULL)
#define OUT(...) assert_paths(res.outputs, res.output_count, __VA_ARGS__, NULL)
#define DEL(...) assert_paths(res.deletions, res.deletion_count, __VA_ARGS__, NULL)
#define CHECKS(...) assert_paths(res.checks, res.check_count, __VA_ARGS__, NULL)
#define NONE NULL

static inline int teardown_res(void **state)
{
    roar_fdstate_result_dispose(&res);
    return teardown(state);
}

/* Pops every hash request; returns how many, the last one in *last. */
static inline int drain(roar_fdstate_hashreq *last, char *last_path, size_t cap)
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

#define OLD_ID "ce013625030ba8dba906f756967f9e9ca394464a"

#endif
