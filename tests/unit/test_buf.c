/* Unit tests for src/util/buf (roar_buf, ROAR_ALLOC_GROW) and src/util/err (the
 * thread-local error message), the two helpers everything else is built on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/err.h"

static void test_init_is_empty_string(void **state)
{
    roar_buf b = ROAR_BUF_INIT, c;
    (void)state;
    assert_non_null(b.ptr);
    assert_string_equal(b.ptr, "");
    assert_int_equal(b.size, 0);
    assert_int_equal(b.asize, 0);
    roar_buf_init(&c);
    assert_ptr_equal(c.ptr, b.ptr);
    /* Clearing or truncating an unallocated buffer must not write to the shared "". */
    roar_buf_clear(&b);
    roar_buf_truncate(&b, 0);
    assert_int_equal(roar_buf__initbuf[0], '\0');
    roar_buf_dispose(&b);
    roar_buf_dispose(NULL);
}

static void test_put_and_grow(void **state)
{
    roar_buf b = ROAR_BUF_INIT;
    (void)state;
    assert_int_equal(roar_buf_put(&b, "", 0), 0);
    assert_int_equal(b.asize, 0); /* nothing to add: no allocation */
    assert_int_equal(roar_buf_puts(&b, "abc"), 0);
    assert_int_equal(roar_buf_putc(&b, 'd'), 0);
    assert_int_equal(roar_buf_put(&b, "e\0f", 3), 0);
    assert_int_equal(b.size, 7);
    assert_memory_equal(b.ptr, "abcde\0f", 8); /* NUL-terminated after the data */
    assert_true(b.asize > b.size);
    for (int i = 0; i < 100000; i++)
        assert_int_equal(roar_buf_putc(&b, (char)('a' + i % 26)), 0);
    assert_int_equal(b.size, 100007);
    assert_int_equal(b.ptr[b.size], '\0');
    assert_int_equal(b.ptr[100006], 'a' + 99999 % 26);
    assert_true(b.asize >= b.size + 1);
    roar_buf_dispose(&b);
    assert_int_equal(b.size, 0);
    assert_string_equal(b.ptr, "");
}

static void test_grow_overflow_refused(void **state)
{
    roar_buf b = ROAR_BUF_INIT;
    (void)state;
    roar_buf_puts(&b, "x");
    assert_int_equal(roar_buf_grow(&b, SIZE_MAX), ROAR_ENOMEM);
    assert_int_equal(roar_buf_grow(&b, SIZE_MAX - 1), ROAR_ENOMEM);
    assert_string_equal(b.ptr, "x"); /* unchanged */
    roar_buf_dispose(&b);
}

static void test_printf(void **state)
{
    roar_buf b = ROAR_BUF_INIT;
    char big[5000];
    (void)state;
    assert_int_equal(roar_buf_printf(&b, "%s=%d", "n", 42), 0);
    assert_string_equal(b.ptr, "n=42");
    assert_int_equal(roar_buf_printf(&b, "%s", ""), 0);
    assert_int_equal(b.size, 4);
    memset(big, 'q', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(roar_buf_printf(&b, "[%s]", big), 0);
    assert_int_equal(b.size, 4 + 2 + sizeof(big) - 1);
    assert_int_equal(b.ptr[5], 'q');
    assert_int_equal(b.ptr[b.size - 1], ']');
    assert_int_equal(b.ptr[b.size], '\0');
    roar_buf_dispose(&b);

    /* The first write into an unallocated buffer, producing nothing. */
    assert_int_equal(roar_buf_printf(&b, "%s", ""), 0);
    assert_string_equal(b.ptr, "");
    roar_buf_dispose(&b);
}

static void test_truncate_clear_detach(void **state)
{
    roar_buf b = ROAR_BUF_INIT;
    char *s;
    (void)state;
    roar_buf_puts(&b, "hello world");
    roar_buf_truncate(&b, 5);
    assert_string_equal(b.ptr, "hello");
    roar_buf_truncate(&b, 99); /* longer than size: no change */
    assert_int_equal(b.size, 5);
    roar_buf_clear(&b);
    assert_string_equal(b.ptr, "");
    assert_true(b.asize > 0); /* memory kept */
    roar_buf_puts(&b, "kept");
    s = roar_buf_detach(&b);
    assert_string_equal(s, "kept");
    assert_int_equal(b.size, 0);
    assert_int_equal(b.asize, 0);
    free(s);
    s = roar_buf_detach(&b); /* empty: a fresh "" the caller frees */
    assert_non_null(s);
    assert_string_equal(s, "");
    free(s);
}

static void test_alloc_grow(void **state)
{
    int *arr = NULL;
    size_t alloc = 0;
    (void)state;
    for (size_t n = 1; n <= 1000; n++) {
        assert_int_equal(ROAR_ALLOC_GROW(arr, n, alloc), 0);
        assert_true(alloc >= n);
        arr[n - 1] = (int)n;
    }
    for (size_t n = 0; n < 1000; n++)
        assert_int_equal(arr[n], (int)n + 1);
    /* Asking for less than is there changes nothing. */
    {
        size_t before = alloc;
        int *p = arr;
        assert_int_equal(ROAR_ALLOC_GROW(arr, 3, alloc), 0);
        assert_int_equal(alloc, before);
        assert_ptr_equal(arr, p);
    }
    /* An element count whose byte size overflows is refused, leaving the array. */
    assert_int_equal(ROAR_ALLOC_GROW(arr, SIZE_MAX / 2, alloc), ROAR_ENOMEM);
    assert_int_equal(arr[999], 1000);
    free(arr);
}

/* ---- err ---------------------------------------------------------------- */

static void test_error_set_and_read(void **state)
{
    (void)state;
    roar_error_clear();
    assert_string_equal(roar_error_last(), "unknown error");
    assert_int_equal(roar_error_last_code(), ROAR_OK);
    assert_int_equal(roar_error_set(ROAR_EINVALID, "bad %s at %d", "thing", 7), ROAR_EINVALID);
    assert_string_equal(roar_error_last(), "bad thing at 7");
    assert_int_equal(roar_error_last_code(), ROAR_EINVALID);
    roar_error_clear();
    assert_string_equal(roar_error_last(), "unknown error");
}

static void test_error_errno(void **state)
{
    (void)state;
    errno = ENOENT;
    assert_int_equal(roar_error_set_errno(ROAR_ENOTFOUND, "cannot open '%s'", "x"),
                     ROAR_ENOTFOUND);
    assert_string_equal(roar_error_last(), "cannot open 'x': No such file or directory");
}

static void test_error_prefix(void **state)
{
    (void)state;
    roar_error_set(ROAR_EINVALID, "missing closing quote");
    roar_error_prefix("line %d: malformed path", 7);
    assert_string_equal(roar_error_last(), "line 7: malformed path: missing closing quote");
    assert_int_equal(roar_error_last_code(), ROAR_EINVALID);
    roar_error_clear();
    roar_error_prefix("context");
    assert_string_equal(roar_error_last(), "context: unknown error");
}

static void test_error_message_as_argument(void **state)
{
    /* Re-wrapping the current message is a natural idiom; it used to format into the
     * very buffer it was reading from. */
    (void)state;
    roar_error_set(ROAR_ERROR, "disk on fire");
    roar_error_set(ROAR_ERROR, "cannot write note: %s", roar_error_last());
    assert_string_equal(roar_error_last(), "cannot write note: disk on fire");
    roar_error_set(ROAR_ERROR, "abc");
    roar_error_prefix("%s", roar_error_last());
    assert_string_equal(roar_error_last(), "abc: abc");
}

static void test_error_long_message_truncated(void **state)
{
    char big[10000];
    (void)state;
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    roar_error_set(ROAR_ERROR, "%s", big);
    assert_int_equal(strlen(roar_error_last()), 4095);
    roar_error_prefix("p");
    assert_int_equal(strlen(roar_error_last()), 4095);
    assert_memory_equal(roar_error_last(), "p: xxx", 6);
    errno = EIO;
    roar_error_set_errno(ROAR_ERROR, "%s", big);
    assert_int_equal(strlen(roar_error_last()), 4095);
}

static void *other_thread(void *arg)
{
    (void)arg;
    roar_error_set(ROAR_ECHANGED, "from the other thread");
    return NULL;
}

static void test_error_is_per_thread(void **state)
{
    pthread_t t;
    (void)state;
    roar_error_set(ROAR_EEXISTS, "mine");
    assert_int_equal(pthread_create(&t, NULL, other_thread, NULL), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_string_equal(roar_error_last(), "mine");
    assert_int_equal(roar_error_last_code(), ROAR_EEXISTS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_is_empty_string),
        cmocka_unit_test(test_put_and_grow),
        cmocka_unit_test(test_grow_overflow_refused),
        cmocka_unit_test(test_printf),
        cmocka_unit_test(test_truncate_clear_detach),
        cmocka_unit_test(test_alloc_grow),
        cmocka_unit_test(test_error_set_and_read),
        cmocka_unit_test(test_error_errno),
        cmocka_unit_test(test_error_prefix),
        cmocka_unit_test(test_error_message_as_argument),
        cmocka_unit_test(test_error_long_message_truncated),
        cmocka_unit_test(test_error_is_per_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
