/* Unit tests for src/trace/ring: the shared-memory event ring, driven by the very
 * producer code the preload shim uses (ring_layout.h), across threads and processes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "trace/event.h"
#include "trace/ring.h"
#include "util/err.h"

struct fixture {
    char *dir;
    char path[4096];
    roar_ring *ring;
    struct roar_ringp prod;
    unsigned char *buf;
};

static int make_ring(struct fixture *f, size_t size)
{
    struct roar_ring_hdr *h;
    if (roar_ring_dir_create(&f->dir) < 0)
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/ring", f->dir);
    if (roar_ring_create(&f->ring, f->path, size) < 0)
        return -1;
    h = roar_ring_header(f->ring);
    f->prod.hdr = h;
    f->prod.data = (unsigned char *)h + h->hdr_size;
    f->prod.size = h->data_size;
    f->prod.full_wait_ms = 20000;
    f->buf = malloc(ROAR_RING_RECORD_MAX);
    return f->buf ? 0 : -1;
}

static int setup_small(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    *state = f;
    return f ? make_ring(f, ROAR_RING_MIN_DATA) : -1;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    roar_ring_free(f->ring);
    roar_ring_dir_remove(f->dir);
    free(f->dir);
    free(f->buf);
    free(f);
    return 0;
}

static int publish(struct fixture *f, uint32_t tgid, uint32_t tid, uint64_t n, const char *path)
{
    struct roar_event_hdr h;
    memset(&h, 0, sizeof(h));
    h.type = ROAR_EV_UNLINK;
    h.tgid = tgid;
    h.tid = tid;
    h.arg = n;
    h.fd = -1;
    h.fd2 = -1;
    return roar_ringp_publish(&f->prod, &h, path, NULL);
}

/* Reads one record, waiting up to ms; returns 1 with *ev decoded, 0 if none. */
static int next(struct fixture *f, roar_event *ev, int ms)
{
    size_t len = 0, used = 0;
    assert_int_equal(roar_ring_read(f->ring, f->buf, ROAR_RING_RECORD_MAX, &len, ms), 0);
    if (len == 0)
        return 0;
    assert_int_equal(roar_event_decode(ev, f->buf, len, &used), 0);
    assert_int_equal(used, len);
    return 1;
}

static void path_for(char *out, size_t cap, uint32_t tid, uint64_t n)
{
    /* Lengths vary with n so that records straddle the end of the data area. */
    snprintf(out, cap, "/p/%u/%llu/%.*s", tid, (unsigned long long)n, (int)(n % 97),
             "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
             "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
}

static void test_single_producer_in_order(void **state)
{
    struct fixture *f = *state;
    roar_event ev;
    char p[256];
    uint64_t i, last_seq = 0;

    for (i = 0; i < 100; i++) {
        path_for(p, sizeof(p), 7, i);
        assert_int_equal(publish(f, 1, 7, i, p), 0);
    }
    for (i = 0; i < 100; i++) {
        assert_int_equal(next(f, &ev, 0), 1);
        assert_int_equal(ev.h.type, ROAR_EV_UNLINK);
        assert_true(ev.h.arg == i);
        assert_true(ev.h.seq > last_seq);
        last_seq = ev.h.seq;
        path_for(p, sizeof(p), 7, i);
        assert_string_equal(ev.path, p);
    }
    assert_int_equal(next(f, &ev, 0), 0);
    assert_true(roar_ring_pending(f->ring) == 0);
    assert_true(roar_ring_lost(f->ring) == 0);
}

/* Many more bytes than the ring holds, consumed as they come: every wrap (with its pad
 * slot) must come out intact. */
static void test_wrap_around(void **state)
{
    struct fixture *f = *state;
    roar_event ev;
    char p[256];
    uint64_t produced = 0, consumed = 0;

    while (consumed < 20000) {
        while (produced < 20000 && produced - consumed < 300) {
            path_for(p, sizeof(p), 3, produced);
            assert_int_equal(publish(f, 1, 3, produced, p), 0);
            produced++;
        }
        while (next(f, &ev, 0)) {
            assert_true(ev.h.arg == consumed);
            path_for(p, sizeof(p), 3, consumed);
            assert_string_equal(ev.path, p);
            consumed++;
        }
    }
    assert_true(roar_ring_header(f->ring)->reserve > 8 * (uint64_t)ROAR_RING_MIN_DATA);
    assert_true(roar_ring_lost(f->ring) == 0);
}

static int setup_large(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    *state = f;
    return f ? make_ring(f, 4 * (size_t)ROAR_RING_HOT) : -1;
}

/* A consumer that keeps up: producers go back to offset 0 once past ROAR_RING_HOT, so
 * the traffic stays in the first window (plus one record), and nothing is lost. */
static void test_hot_window(void **state)
{
    struct fixture *f = *state;
    struct roar_ring_hdr *h = roar_ring_header(f->ring);
    roar_event ev;
    char p[256];
    uint64_t i;

    for (i = 0; i < 20000; i++) {
        path_for(p, sizeof(p), 5, i);
        assert_int_equal(publish(f, 1, 5, i, p), 0);
        assert_true((h->reserve & (f->prod.size - 1)) <= ROAR_RING_HOT + ROAR_RING_RECORD_MAX);
        assert_int_equal(next(f, &ev, 0), 1);
        assert_true(ev.h.arg == i);
        assert_string_equal(ev.path, p);
    }
    assert_true(h->reserve > 4 * f->prod.size); /* went round by early wraps */
    assert_true(roar_ring_lost(f->ring) == 0);
}

/* Records in flight: no early wrap, the whole area stays usable for a burst. */
static void test_hot_window_keeps_burst_room(void **state)
{
    struct fixture *f = *state;
    roar_event ev;
    char p[256];
    uint64_t i, n = 3 * ROAR_RING_HOT / 256;

    for (i = 0; i < n; i++) {
        path_for(p, sizeof(p), 6, i);
        assert_int_equal(publish(f, 1, 6, i, p), 0);
    }
    assert_true(roar_ring_header(f->ring)->reserve > 2 * (uint64_t)ROAR_RING_HOT);
    for (i = 0; i < n; i++) {
        assert_int_equal(next(f, &ev, 0), 1);
        assert_true(ev.h.arg == i);
    }
    assert_int_equal(next(f, &ev, 0), 0);
    assert_true(roar_ring_lost(f->ring) == 0);
}

#define NPROC 3
#define NTHREAD 2
#define PER_PRODUCER 20000

struct producer_arg {
    struct fixture *f;
    uint32_t tid;
};

static void *producer_thread(void *a)
{
    struct producer_arg *pa = a;
    char p[256];
    uint64_t i;
    for (i = 0; i < PER_PRODUCER; i++) {
        path_for(p, sizeof(p), pa->tid, i);
        if (publish(pa->f, (uint32_t)getpid(), pa->tid, i, p) < 0)
            return (void *)1;
    }
    return NULL;
}

static void test_multi_producer_fork_and_threads(void **state)
{
    struct fixture *f = *state;
    pid_t kids[NPROC];
    uint64_t expect[NPROC * NTHREAD] = {0}, total = 0;
    roar_event ev;
    char p[256];
    int k, status;

    for (k = 0; k < NPROC; k++) {
        kids[k] = fork();
        assert_true(kids[k] >= 0);
        if (kids[k] == 0) {
            pthread_t th[NTHREAD];
            struct producer_arg pa[NTHREAD];
            int t, bad = 0;
            for (t = 0; t < NTHREAD; t++) {
                pa[t].f = f;
                pa[t].tid = (uint32_t)(k * NTHREAD + t);
                pthread_create(&th[t], NULL, producer_thread, &pa[t]);
            }
            for (t = 0; t < NTHREAD; t++) {
                void *rv;
                pthread_join(th[t], &rv);
                bad |= rv != NULL;
            }
            _exit(bad);
        }
    }
    while (total < (uint64_t)NPROC * NTHREAD * PER_PRODUCER) {
        if (!next(f, &ev, 100))
            continue;
        assert_true(ev.h.tid < NPROC * NTHREAD);
        /* exactly once and in each producer's own order */
        assert_true(ev.h.arg == expect[ev.h.tid]);
        path_for(p, sizeof(p), ev.h.tid, ev.h.arg);
        assert_string_equal(ev.path, p);
        expect[ev.h.tid]++;
        total++;
    }
    for (k = 0; k < NPROC; k++) {
        assert_int_equal(waitpid(kids[k], &status, 0), kids[k]);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    assert_int_equal(next(f, &ev, 0), 0);
    assert_true(roar_ring_lost(f->ring) == 0);
}

static void test_full_ring_dead_collector_drops(void **state)
{
    struct fixture *f = *state;
    char p[256];
    pid_t dead = fork();
    uint64_t ok = 0, dropped = 0, i, t0, last = 0;

    if (dead == 0)
        _exit(0);
    assert_int_equal(waitpid(dead, NULL, 0), dead);
    roar_ring_set_collector(f->ring, dead);
    t0 = roar_ringp_now_ms();
    for (i = 0; i < 5000; i++) {
        path_for(p, sizeof(p), 1, i);
        if (publish(f, 1, 1, i, p) == 0)
            ok++;
        else
            dropped++;
    }
    /* Dead collector: no 20 s wait per event, just a few ms before each drop. */
    assert_true(roar_ringp_now_ms() - t0 < 10000);
    assert_true(ok > 100 && dropped > 100);
    assert_true(roar_ring_lost(f->ring) == dropped);
    /* What was published is intact and in order (a short record may still fit after
     * a longer one was dropped, hence increasing, not consecutive). */
    for (i = 0; i < ok; i++) {
        roar_event ev;
        assert_int_equal(next(f, &ev, 0), 1);
        assert_true(i == 0 || ev.h.arg > last);
        last = ev.h.arg;
    }
}

static void test_full_ring_live_collector_bounded(void **state)
{
    struct fixture *f = *state;
    char p[256];
    uint64_t i, t0;
    int rc = 0;

    f->prod.full_wait_ms = 50;
    for (i = 0; i < 100000 && rc == 0; i++) {
        path_for(p, sizeof(p), 1, i);
        t0 = roar_ringp_now_ms();
        rc = publish(f, 1, 1, i, p);
    }
    assert_int_equal(rc, -1);
    assert_true(roar_ringp_now_ms() - t0 >= 50);
    assert_true(roar_ring_lost(f->ring) == 1);
}

/* A producer killed between reserve and publish must not wedge the consumer. */
static void test_stalled_slot_is_skipped(void **state)
{
    struct fixture *f = *state;
    struct roar_ringp_slot s;
    roar_event ev;

    assert_int_equal(roar_ringp_reserve(&s, &f->prod, ROAR_EVENT_HDR_SIZE + 8), 0);
    assert_int_equal(publish(f, 1, 1, 42, "/after"), 0);
    roar_ring_set_stall_ms(f->ring, 30);
    assert_int_equal(next(f, &ev, 0), 0); /* still waiting for the stalled slot */
    assert_int_equal(next(f, &ev, 200), 1);
    assert_true(ev.h.arg == 42);
    assert_string_equal(ev.path, "/after");
    assert_true(roar_ring_lost(f->ring) == 1);
    assert_int_equal(next(f, &ev, 0), 0);
}

/* Compact records come out as the full header they stand for, in ring order with full
 * records, with the seq the producer would have given them; across the end of the
 * data area too. */
static void test_small_records(void **state)
{
    struct fixture *f = *state;
    roar_event ev;
    uint64_t i, last_seq = 0;

    for (i = 0; i < 3 * ROAR_RING_MIN_DATA / 40; i++) {
        struct roar_ring_small sm = {.ret = (int64_t)i, .flags = ROAR_CLOSE_F_CLOEXEC,
                                     .tgid = 5, .tid = 6, .fd = 3, .fd2 = 9,
                                     .type = ROAR_EV_CLOSE};
        assert_int_equal(roar_ringp_publish_small(&f->prod, &sm), 0);
        if (i % 50 == 0)
            assert_int_equal(publish(f, 5, 6, i, "/full"), 0);
        while (next(f, &ev, 0)) {
            assert_true(ev.h.seq > last_seq);
            last_seq = ev.h.seq;
            assert_int_equal(ev.h.len, ev.h.type == ROAR_EV_CLOSE ? ROAR_EVENT_HDR_SIZE
                                                                 : ROAR_EVENT_HDR_SIZE + 8);
            if (ev.h.type == ROAR_EV_UNLINK)
                continue;
            assert_int_equal(ev.h.type, ROAR_EV_CLOSE);
            assert_true(ev.h.ret == (int64_t)i && ev.h.flags == ROAR_CLOSE_F_CLOEXEC);
            assert_true(ev.h.tgid == 5 && ev.h.tid == 6 && ev.h.fd == 3 && ev.h.fd2 == 9);
            assert_true(ev.h.arg == 0 && !ev.h.has_ident && !ev.path && !ev.path2);
        }
    }
    assert_true(roar_ring_lost(f->ring) == 0);
}

/* A compact record of a type the shim never sends that way (one that needs a path or
 * an identity) is refused and counted; the records behind it still come through. */
static void test_small_record_bad_type(void **state)
{
    struct fixture *f = *state;
    struct roar_ring_small sm = {.type = ROAR_EV_OPEN, .fd = 3, .fd2 = -1};
    size_t len = 0;
    roar_event ev;

    assert_int_equal(roar_ringp_publish_small(&f->prod, &sm), 0);
    sm.type = 200;
    assert_int_equal(roar_ringp_publish_small(&f->prod, &sm), 0);
    assert_int_equal(publish(f, 1, 1, 7, "/after"), 0);
    assert_int_equal(roar_ring_read(f->ring, f->buf, ROAR_RING_RECORD_MAX, &len, 0),
                     ROAR_EINVALID);
    roar_error_clear();
    assert_int_equal(roar_ring_read(f->ring, f->buf, ROAR_RING_RECORD_MAX, &len, 0),
                     ROAR_EINVALID);
    roar_error_clear();
    assert_int_equal(next(f, &ev, 0), 1);
    assert_true(ev.h.arg == 7);
    assert_true(roar_ring_lost(f->ring) == 2);
}

/* A program scribbles a reserve cursor far past anything producers could hold (the
 * mapping is writable by every traced process): the consumer skips what it cannot read
 * in bounded time and goes on with what producers publish next. */
static void test_scribbled_reserve_is_bounded(void **state)
{
    struct fixture *f = *state;
    struct roar_ring_hdr *h = roar_ring_header(f->ring);
    size_t len = 0;
    int i, rc = 0;

    assert_int_equal(publish(f, 1, 1, 7, "/before"), 0);
    __atomic_store_n(&h->reserve, h->reserve + ((uint64_t)1 << 60), __ATOMIC_RELEASE);
    roar_ring_set_stall_ms(f->ring, 0);
    for (i = 0; i < 8 && rc == 0; i++) {
        rc = roar_ring_read(f->ring, f->buf, ROAR_RING_RECORD_MAX, &len, 0);
        roar_error_clear();
    }
    /* done in a few calls, not 2^57 steps; the cursor stays within one data area */
    assert_true(__atomic_load_n(&h->read, __ATOMIC_RELAXED) <= h->reserve);
    assert_true(h->reserve - h->read <= ((uint64_t)1 << 60) + f->prod.size);
}

static void test_create_refuses_bad_sizes(void **state)
{
    struct fixture *f = *state;
    roar_ring *r = NULL;
    char p[4200];
    snprintf(p, sizeof(p), "%s/other", f->dir);
    assert_int_equal(roar_ring_create(&r, p, 3 * ROAR_RING_MIN_DATA), ROAR_EINVALID);
    assert_int_equal(roar_ring_create(&r, p, 4096), ROAR_EINVALID);
    /* O_EXCL: an existing ring is never reused. */
    assert_true(roar_ring_create(&r, f->path, 0) < 0);
    assert_null(r);
}

/* The anonymous ring: a memfd reachable as /proc/<pid>/fd/<n> (what the shim opens),
 * sized and initialised like a named one; its directory names us in its pid file. */
static void test_anon_ring_and_pid_file(void **state)
{
    struct fixture *f = *state;
    roar_ring *r = NULL;
    struct roar_ring_hdr hdr;
    struct stat st;
    char path[64], text[32], want[32];
    int fd;
    ssize_t n;

    assert_int_equal(roar_ring_create_anon(&r, ROAR_RING_MIN_DATA), 0);
    assert_true(roar_ring_fd(r) >= 0);
    snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)getpid(), roar_ring_fd(r));
    fd = open(path, O_RDWR | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_size, ROAR_RING_HDR_SIZE + ROAR_RING_MIN_DATA);
    assert_int_equal(pread(fd, &hdr, sizeof(hdr), 0), (ssize_t)sizeof(hdr));
    assert_true(hdr.magic == ROAR_RING_MAGIC);
    assert_true(hdr.collector_pid == (uint64_t)getpid());
    close(fd);
    roar_ring_free(r);

    snprintf(path, sizeof(path), "%s/" ROAR_RING_PID_FILE, f->dir);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    n = read(fd, text, sizeof(text) - 1);
    close(fd);
    assert_true(n > 0);
    text[n] = '\0';
    snprintf(want, sizeof(want), "%d\n", (int)getpid());
    assert_string_equal(text, want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_single_producer_in_order, setup_small, teardown),
        cmocka_unit_test_setup_teardown(test_wrap_around, setup_small, teardown),
        cmocka_unit_test_setup_teardown(test_hot_window, setup_large, teardown),
        cmocka_unit_test_setup_teardown(test_hot_window_keeps_burst_room, setup_large, teardown),
        cmocka_unit_test_setup_teardown(test_multi_producer_fork_and_threads, setup_small,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_full_ring_dead_collector_drops, setup_small, teardown),
        cmocka_unit_test_setup_teardown(test_full_ring_live_collector_bounded, setup_small,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_stalled_slot_is_skipped, setup_small, teardown),
        cmocka_unit_test_setup_teardown(test_small_records, setup_small, teardown),
        cmocka_unit_test_setup_teardown(test_small_record_bad_type, setup_small, teardown),
        cmocka_unit_test_setup_teardown(test_scribbled_reserve_is_bounded, setup_small, teardown),
        cmocka_unit_test_setup_teardown(test_create_refuses_bad_sizes, setup_small, teardown),
        cmocka_unit_test_setup_teardown(test_anon_ring_and_pid_file, setup_small, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
