/* Unit tests of the tracer wire format: the inline encoder, and a decoder that must turn
 * every malformed record (the bytes come from inside traced programs) into an error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "trace/event.h"
#include "util/err.h"

static unsigned char buf[2 * ROAR_EVENT_PATH_MAX + 1024];

static struct roar_event_hdr hdr_of(unsigned type)
{
    struct roar_event_hdr h;
    memset(&h, 0, sizeof(h));
    h.type = (__u16)type;
    h.tgid = 100;
    h.tid = 101;
    h.fd = 3;
    h.fd2 = 3;
    h.ret = 3;
    return h;
}

static size_t enc(unsigned type, const char *p1, const char *p2)
{
    struct roar_event_hdr h = hdr_of(type);
    size_t n = roar_event_encode(buf, sizeof(buf), &h, p1, p2);
    assert_true(n > 0);
    return n;
}

/* Rewrites the header in buf after a test changed a field. */
static void patch(void (*change)(struct roar_event_hdr *))
{
    struct roar_event_hdr h;
    memcpy(&h, buf, sizeof(h));
    change(&h);
    memcpy(buf, &h, sizeof(h));
}

static void assert_invalid(size_t len)
{
    roar_event ev;
    size_t used = 99;
    assert_int_equal(roar_event_decode(&ev, buf, len, &used), ROAR_EINVALID);
    assert_int_equal(used, 0);
    assert_true(strlen(roar_error_last()) > 0);
}

static void test_header_layout_is_fixed(void **state)
{
    (void)state;
    assert_int_equal(sizeof(struct roar_event_hdr), ROAR_EVENT_HDR_SIZE);
    assert_int_equal(offsetof(struct roar_event_hdr, seq), 0);
    assert_int_equal(offsetof(struct roar_event_hdr, tgid), 72);
    assert_int_equal(ROAR_EVENT_HDR_SIZE % ROAR_EVENT_ALIGN, 0);
}

static void test_roundtrip_two_paths(void **state)
{
    struct roar_event_hdr h = hdr_of(ROAR_EV_RENAME);
    roar_event ev;
    roar_ident id;
    size_t n, used;
    (void)state;

    h.has_ident = 1;
    h.dev = 7;
    h.ino = 42;
    h.size = 1000;
    h.mtime_ns = 123;
    h.ctime_ns = 456;
    h.mode = 0100644;
    h.seq = 9;
    n = roar_event_encode(buf, sizeof(buf), &h, "/w/tmp.x", "/w/final name");
    /* 120 + 9 + 14 = 143, padded to 144 */
    assert_int_equal(n, 144);
    assert_int_equal(roar_event_decode(&ev, buf, n, &used), 0);
    assert_int_equal(used, n);
    assert_int_equal(ev.h.type, ROAR_EV_RENAME);
    assert_int_equal(ev.h.seq, 9);
    assert_string_equal(ev.path, "/w/tmp.x");
    assert_string_equal(ev.path2, "/w/final name");
    roar_event_ident(&id, &ev);
    assert_true(id.known);
    assert_int_equal(id.dev, 7);
    assert_int_equal(id.ino, 42);
    assert_int_equal(id.size, 1000);
    assert_int_equal(id.mtime_ns, 123);
    assert_int_equal(id.ctime_ns, 456);
    assert_int_equal(id.mode, 0100644);
}

static void test_roundtrip_no_path(void **state)
{
    roar_event ev;
    size_t used, n = enc(ROAR_EV_CLOSE, NULL, NULL);
    roar_ident id;
    (void)state;
    assert_int_equal(n, ROAR_EVENT_HDR_SIZE);
    assert_int_equal(roar_event_decode(&ev, buf, n, &used), 0);
    assert_int_equal(used, n);
    assert_null(ev.path);
    assert_null(ev.path2);
    roar_event_ident(&id, &ev);
    assert_false(id.known);
}

static void test_stream_and_partial_reads(void **state)
{
    size_t n1, n2, used;
    roar_event ev;
    struct roar_event_hdr h = hdr_of(ROAR_EV_OPEN);
    (void)state;

    n1 = roar_event_encode(buf, sizeof(buf), &h, "/a", NULL);
    h = hdr_of(ROAR_EV_UNLINK);
    n2 = roar_event_encode(buf + n1, sizeof(buf) - n1, &h, "/b/c", NULL);
    assert_true(n1 > 0 && n2 > 0);

    /* Every strict prefix of the first record asks for more, without error. */
    for (size_t cut = 0; cut < n1; cut++) {
        assert_int_equal(roar_event_decode(&ev, buf, cut, &used), 0);
        assert_int_equal(used, 0);
    }
    assert_int_equal(roar_event_decode(&ev, buf, n1 + n2, &used), 0);
    assert_int_equal(used, n1);
    assert_string_equal(ev.path, "/a");
    assert_int_equal(roar_event_decode(&ev, buf + n1, n2, &used), 0);
    assert_int_equal(used, n2);
    assert_int_equal(ev.h.type, ROAR_EV_UNLINK);
    assert_string_equal(ev.path, "/b/c");
}

static void test_encoder_refuses_what_does_not_fit(void **state)
{
    struct roar_event_hdr h = hdr_of(ROAR_EV_OPEN);
    char *longp = malloc(ROAR_EVENT_PATH_MAX + 1);
    (void)state;
    assert_non_null(longp);
    assert_int_equal(roar_event_encode(buf, ROAR_EVENT_HDR_SIZE, &h, "/a", NULL), 0);
    memset(longp, 'x', ROAR_EVENT_PATH_MAX);
    longp[0] = '/';
    longp[ROAR_EVENT_PATH_MAX] = '\0'; /* strlen = MAX, +NUL is one over */
    assert_int_equal(roar_event_encode(buf, sizeof(buf), &h, longp, NULL), 0);
    longp[ROAR_EVENT_PATH_MAX - 1] = '\0'; /* exactly MAX with its NUL */
    assert_true(roar_event_encode(buf, sizeof(buf), &h, longp, NULL) > 0);
    free(longp);
}

static void set_version_2(struct roar_event_hdr *h)
{
    h->version = 2;
}
static void set_type_zero(struct roar_event_hdr *h)
{
    h->type = 0;
}
static void set_type_huge(struct roar_event_hdr *h)
{
    h->type = 999;
}
static void set_len_short(struct roar_event_hdr *h)
{
    h->len -= 8;
}
static void set_len_long(struct roar_event_hdr *h)
{
    h->len += 8;
}
static void set_len_unaligned(struct roar_event_hdr *h)
{
    h->len += 1;
}
static void set_path_len_huge(struct roar_event_hdr *h)
{
    h->path_len = 0xfffffff0u;
}
static void set_path2_len_wrap(struct roar_event_hdr *h)
{
    h->path_len = 0x80000000u;
    h->path2_len = 0x80000000u;
}
static void set_bool_2(struct roar_event_hdr *h)
{
    h->created = 2;
}
static void set_fd_negative(struct roar_event_hdr *h)
{
    h->fd = -5;
}
static void set_path_len_one_short(struct roar_event_hdr *h)
{
    h->path_len -= 1; /* the declared path no longer ends at its NUL */
}

static void test_rejects_bad_framing(void **state)
{
    size_t n;
    (void)state;

    n = enc(ROAR_EV_OPEN, "/w/a", NULL);
    patch(set_version_2);
    assert_invalid(n);

    n = enc(ROAR_EV_OPEN, "/w/a", NULL);
    patch(set_type_zero);
    assert_invalid(n);

    n = enc(ROAR_EV_OPEN, "/w/a", NULL);
    patch(set_type_huge);
    assert_invalid(n);

    n = enc(ROAR_EV_OPEN, "/w/abcdefghijk", NULL);
    patch(set_len_short);
    assert_invalid(n);

    n = enc(ROAR_EV_OPEN, "/w/a", NULL);
    patch(set_len_long);
    assert_invalid(n + 8);

    n = enc(ROAR_EV_OPEN, "/w/a", NULL);
    patch(set_len_unaligned);
    assert_invalid(n + 8);

    n = enc(ROAR_EV_OPEN, "/w/a", NULL);
    patch(set_path_len_huge);
    assert_invalid(n);

    n = enc(ROAR_EV_RENAME, "/a", "/b");
    patch(set_path2_len_wrap);
    assert_invalid(n);

    n = enc(ROAR_EV_OPEN, "/w/a", NULL);
    patch(set_bool_2);
    assert_invalid(n);
}

static void test_rejects_bad_strings(void **state)
{
    size_t n;
    (void)state;

    /* A NUL inside the declared length. */
    n = enc(ROAR_EV_OPEN, "/w/abc", NULL);
    buf[ROAR_EVENT_HDR_SIZE + 3] = '\0';
    assert_invalid(n);

    /* No NUL at the end of the declared length. */
    n = enc(ROAR_EV_OPEN, "/w/abcdef", NULL);
    patch(set_path_len_one_short);
    assert_invalid(n);

    /* Relative and empty paths: tracers send absolute ones. */
    {
        struct roar_event_hdr h = hdr_of(ROAR_EV_OPEN);
        n = roar_event_encode(buf, sizeof(buf), &h, "w/a", NULL);
        assert_invalid(n);
        n = roar_event_encode(buf, sizeof(buf), &h, "", NULL);
        assert_invalid(n);
    }
}

static void test_rejects_missing_fields(void **state)
{
    size_t n;
    (void)state;

    n = enc(ROAR_EV_OPEN, NULL, NULL);
    assert_invalid(n);
    n = enc(ROAR_EV_RENAME, "/a", NULL);
    assert_invalid(n);
    n = enc(ROAR_EV_LINK, "/a", NULL);
    assert_invalid(n);
    n = enc(ROAR_EV_UNLINK, NULL, NULL);
    assert_invalid(n);
    n = enc(ROAR_EV_EXEC, NULL, NULL);
    assert_invalid(n);
    n = enc(ROAR_EV_WRITE, NULL, NULL);
    patch(set_fd_negative);
    assert_invalid(n);
    n = enc(ROAR_EV_ABOUT_TO_DESTROY, "/a", NULL); /* flags = 0: which call? */
    assert_invalid(n);
    n = enc(ROAR_EV_INCOMPLETE, NULL, NULL); /* reason 0 */
    assert_invalid(n);
    n = enc(ROAR_EV_FORK, NULL, NULL); /* no child */
    assert_invalid(n);
}

static void set_failed(struct roar_event_hdr *h)
{
    h->ret = -2;
}

static void test_failed_calls_need_no_fields(void **state)
{
    roar_event ev;
    size_t used, n;
    (void)state;
    /* An open that failed has no path worth sending; the decoder lets it through and
     * fdstate ignores it. */
    n = enc(ROAR_EV_OPEN, NULL, NULL);
    patch(set_failed);
    assert_int_equal(roar_event_decode(&ev, buf, n, &used), 0);
    assert_int_equal(used, n);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(roar_event_type_name(ROAR_EV_ABOUT_TO_DESTROY), "about-to-destroy");
    assert_string_equal(roar_event_type_name(ROAR_EV_OPEN), "open");
    assert_string_equal(roar_event_type_name(5000), "unknown");
    assert_string_equal(roar_event_incomplete_name(ROAR_INC_EVENTS_LOST), "events-lost");
    assert_string_equal(roar_event_incomplete_name(ROAR_INC_STATIC_BINARY), "static-binary");
    assert_string_equal(roar_event_incomplete_name(ROAR_INC_PATH_TOO_LONG), "path-too-long");
    assert_string_equal(roar_event_incomplete_name(ROAR_INC_AIO), "aio");
    assert_string_equal(roar_event_incomplete_name(ROAR_INC_UNTRACED), "untraced");
    assert_null(roar_event_incomplete_name(0));
}

/* Random corruption of valid records: the decoder must either reject them or return
 * paths that lie inside the buffer and are terminated there. Deterministic seed. */
static void test_mutations_stay_in_bounds(void **state)
{
    unsigned seed = 12345;
    (void)state;
    for (int round = 0; round < 20000; round++) {
        unsigned char copy[512];
        size_t n = enc(ROAR_EV_RENAME, "/w/some/path", "/w/other"), used;
        roar_event ev;
        int flips;
        assert_true(n <= sizeof(copy));
        memcpy(copy, buf, n);
        flips = 1 + (int)(rand_r(&seed) % 4);
        for (int i = 0; i < flips; i++)
            copy[rand_r(&seed) % n] = (unsigned char)rand_r(&seed);
        if (roar_event_decode(&ev, copy, n, &used) < 0) {
            assert_int_equal(used, 0);
            continue;
        }
        assert_true(used <= n);
        if (ev.path) {
            const char *end = memchr(ev.path, '\0', (size_t)(copy + n - (const unsigned char *)ev.path));
            assert_non_null(end);
            assert_true((const unsigned char *)ev.path >= copy + ROAR_EVENT_HDR_SIZE);
        }
        if (ev.path2) {
            const char *end = memchr(ev.path2, '\0', (size_t)(copy + n - (const unsigned char *)ev.path2));
            assert_non_null(end);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_layout_is_fixed),
        cmocka_unit_test(test_roundtrip_two_paths),
        cmocka_unit_test(test_roundtrip_no_path),
        cmocka_unit_test(test_stream_and_partial_reads),
        cmocka_unit_test(test_encoder_refuses_what_does_not_fit),
        cmocka_unit_test(test_rejects_bad_framing),
        cmocka_unit_test(test_rejects_bad_strings),
        cmocka_unit_test(test_rejects_missing_fields),
        cmocka_unit_test(test_failed_calls_need_no_fields),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_mutations_stay_in_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
