/* Unit tests of src/util/readahead: every byte of the range, in order, once; the sink's
 * error stops the reader; a file cut short while it is read is ROAR_ECHANGED. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/err.h"
#include "util/readahead.h"

#define MIB ((size_t)1 << 20)

static unsigned char byte_at(uint64_t off)
{
    return (unsigned char)((off * 2654435761u) >> 13);
}

/* An unlinked temporary file of size bytes, byte i being byte_at(i). */
static int temp_file(size_t size)
{
    char path[] = "/tmp/roar-readahead-XXXXXX";
    unsigned char *data = malloc(size ? size : 1);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_non_null(data);
    unlink(path);
    for (size_t i = 0; i < size; i++)
        data[i] = byte_at(i);
    assert_int_equal(write(fd, data, size), (ssize_t)size);
    free(data);
    return fd;
}

typedef struct {
    uint64_t next; /* the offset the next byte handed over must be from */
    uint64_t calls;
    uint64_t fail_at; /* return ROAR_EINVALID on this call (1-based), 0: never */
    int truncate_fd;  /* ftruncate this fd to 0 on the first call, -1: never */
    int mismatches;
} check;

static int check_sink(void *arg, const void *data, size_t len)
{
    check *c = arg;
    const unsigned char *p = data;
    if (++c->calls == c->fail_at)
        return roar_error_set(ROAR_EINVALID, "the sink says no");
    if (c->calls == 1 && c->truncate_fd >= 0)
        assert_int_equal(ftruncate(c->truncate_fd, 0), 0);
    for (size_t i = 0; i < len; i++)
        c->mismatches += p[i] != byte_at(c->next + i);
    c->next += len;
    return 0;
}

static void test_whole_and_partial_ranges(void **state)
{
    const size_t size = 5 * MIB + 12345; /* not a multiple of any buffer */
    int fd = temp_file(size);
    roar_readahead_mode mode = *(roar_readahead_mode *)*state;

    const uint64_t ranges[][2] = {{0, size},         {1, size}, {777, 3 * MIB + 1},
                                  {size - 10, size}, {0, 1},    {5, 5}};
    for (size_t r = 0; r < sizeof(ranges) / sizeof(ranges[0]); r++) {
        check c = {.next = ranges[r][0], .truncate_fd = -1};
        assert_int_equal(roar_readahead(fd, ranges[r][0], ranges[r][1], mode, check_sink, &c), 0);
        assert_int_equal(c.next, ranges[r][1]);
        assert_int_equal(c.mismatches, 0);
    }
    assert_int_equal(lseek(fd, 0, SEEK_CUR), (off_t)size); /* pread: offset untouched */
    close(fd);
}

/* The sink fails on its third buffer: that error comes back and the reader, which may
 * be blocked on a full ring, is let go (the test would hang otherwise). */
static void test_sink_error_stops(void **state)
{
    int fd = temp_file(16 * MIB);
    check c = {.fail_at = 3, .truncate_fd = -1};
    roar_readahead_mode mode = *(roar_readahead_mode *)*state;

    assert_int_equal(roar_readahead(fd, 0, 16 * MIB, mode, check_sink, &c), ROAR_EINVALID);
    assert_int_equal(c.calls, 3);
    assert_string_equal(roar_error_last(), "the sink says no");
    close(fd);
}

/* Cut to 0 bytes when the first buffer arrives: the reader, at most a ring (1 MiB)
 * ahead of a 16 MiB range, reads past the new end, and the call says the file changed;
 * the bytes handed over before that are still the file's. */
static void test_truncated_while_read(void **state)
{
    int fd = temp_file(16 * MIB);
    int wfd;
    char path[64];
    roar_readahead_mode mode = *(roar_readahead_mode *)*state;

    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    wfd = open(path, O_WRONLY);
    assert_true(wfd >= 0);
    check c = {.truncate_fd = wfd};
    assert_int_equal(roar_readahead(fd, 0, 16 * MIB, mode, check_sink, &c), ROAR_ECHANGED);
    assert_true(c.next < 16 * MIB);
    assert_int_equal(c.mismatches, 0);
    close(wfd);
    close(fd);
}

/* A range past the end of the file from the start: no byte, ROAR_ECHANGED. */
static void test_range_past_end(void **state)
{
    int fd = temp_file(MIB);
    check c = {.next = 2 * MIB, .truncate_fd = -1};
    roar_readahead_mode mode = *(roar_readahead_mode *)*state;

    assert_int_equal(roar_readahead(fd, 2 * MIB, 4 * MIB, mode, check_sink, &c), ROAR_ECHANGED);
    assert_int_equal(c.calls, 0);
    close(fd);
}

/* Each test runs with the reader on a second thread, and inline (what a busy machine
 * gets), and as AUTO decides: the same bytes and errors every way. */
static roar_readahead_mode thread_mode = ROAR_READAHEAD_THREAD, inline_mode = ROAR_READAHEAD_INLINE,
                           auto_mode = ROAR_READAHEAD_AUTO;

#define EACH_MODE(test)                                                                            \
    cmocka_unit_test_prestate(test, &thread_mode), cmocka_unit_test_prestate(test, &inline_mode),  \
        cmocka_unit_test_prestate(test, &auto_mode)

int main(void)
{
    const struct CMUnitTest tests[] = {
        EACH_MODE(test_whole_and_partial_ranges),
        EACH_MODE(test_sink_error_stops),
        EACH_MODE(test_truncated_while_read),
        EACH_MODE(test_range_past_end),
    };
    return cmocka_run_group_tests_name("readahead", tests, NULL, NULL);
}
