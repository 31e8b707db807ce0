/* Unit tests for src/util/timefmt: RFC 3339 UTC millisecond timestamps.
 * Checked against known instants, glibc's gmtime_r, and a strict parser's refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/err.h"
#include "util/timefmt.h"

static void assert_formats(int64_t ms, const char *want)
{
    roar_buf b = ROAR_BUF_INIT;
    int64_t back = 0;
    assert_int_equal(roar_time_format(&b, ms), 0);
    assert_string_equal(b.ptr, want);
    assert_int_equal(b.size, ROAR_TIME_LEN);
    assert_int_equal(roar_time_parse(&back, b.ptr, b.size), 0);
    assert_true(back == ms);
    roar_buf_dispose(&b);
}

static void test_known_instants(void **state)
{
    (void)state;
    assert_formats(0, "1970-01-01T00:00:00.000Z");
    assert_formats(1, "1970-01-01T00:00:00.001Z");
    assert_formats(-1, "1969-12-31T23:59:59.999Z");
    /* The example in SPEC §5.1. */
    assert_formats(INT64_C(1795780800123), "2026-11-27T12:00:00.123Z");
    assert_formats(INT64_C(951782400000), "2000-02-29T00:00:00.000Z");
    assert_formats(INT64_C(-62167219200000), "0000-01-01T00:00:00.000Z");
    assert_formats(INT64_C(253402300799999), "9999-12-31T23:59:59.999Z");
}

static void test_matches_gmtime(void **state)
{
    (void)state;
    srand(7);
    for (int i = 0; i < 20000; i++) {
        /* Spread over years ~1900..2400, negative included. */
        int64_t ms = ((int64_t)rand() << 31 ^ rand()) % INT64_C(13600000000000) -
                     INT64_C(2200000000000);
        time_t secs = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
        struct tm tm;
        char want[64];
        roar_buf b = ROAR_BUF_INIT;

        assert_non_null(gmtime_r(&secs, &tm));
        snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (int)(ms - (int64_t)secs * 1000));
        assert_int_equal(roar_time_format(&b, ms), 0);
        assert_string_equal(b.ptr, want);
        roar_buf_dispose(&b);
    }
}

static void test_out_of_range(void **state)
{
    roar_buf b = ROAR_BUF_INIT;
    (void)state;
    assert_int_equal(roar_time_format(&b, INT64_C(253402300800000)), ROAR_EINVALID);
    assert_int_equal(roar_time_format(&b, INT64_C(-62167219200001)), ROAR_EINVALID);
    assert_int_equal(roar_time_format(&b, INT64_MIN), ROAR_EINVALID);
    assert_int_equal(b.size, 0);
    roar_buf_dispose(&b);
}

static void test_strict_parse(void **state)
{
    static const char *bad[] = {
        "",
        "2026-11-27T12:00:00Z",         /* no milliseconds */
        "2026-11-27T12:00:00.12Z",      /* two digits */
        "2026-11-27T12:00:00.1234Z",    /* four digits */
        "2026-11-27t12:00:00.123Z",     /* lower-case t */
        "2026-11-27T12:00:00.123z",     /* lower-case z */
        "2026-11-27T12:00:00.123+00:00", /* offset instead of Z */
        "2026-11-27 12:00:00.123Z",     /* space */
        "2026-13-01T00:00:00.000Z",     /* month 13 */
        "2026-00-01T00:00:00.000Z",     /* month 0 */
        "2026-02-29T00:00:00.000Z",     /* not a leap year */
        "1900-02-29T00:00:00.000Z",     /* century, not leap */
        "2026-04-31T00:00:00.000Z",     /* April has 30 days */
        "2026-01-00T00:00:00.000Z",     /* day 0 */
        "2026-01-01T24:00:00.000Z",     /* hour 24 */
        "2026-01-01T23:60:00.000Z",     /* minute 60 */
        "2026-12-31T23:59:60.000Z",     /* leap second */
        "+026-01-01T00:00:00.000Z",     /* sign */
        "2026-1-01T00:00:00.000Z ",     /* short field */
        "2026-01-01T00:00:00.000Z\n",   /* trailing newline */
    };
    int64_t v = 42;
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        assert_int_equal(roar_time_parse(&v, bad[i], strlen(bad[i])), ROAR_EINVALID);
        assert_true(v == 42);
    }
    assert_int_equal(roar_time_parse(&v, "2024-02-29T23:59:59.999Z", ROAR_TIME_LEN), 0);
    assert_true(v == INT64_C(1709251199999));
    /* A NUL inside the declared length is not a digit. */
    assert_int_equal(roar_time_parse(&v, "2024-02-29T23:59:59.9\0" "9Z", ROAR_TIME_LEN),
                     ROAR_EINVALID);
}

static void test_now(void **state)
{
    struct timespec ts;
    int64_t a, b, c;
    (void)state;
    clock_gettime(CLOCK_REALTIME, &ts);
    a = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    b = roar_time_now_ms();
    clock_gettime(CLOCK_REALTIME, &ts);
    c = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    assert_true(a <= b && b <= c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_instants), cmocka_unit_test(test_matches_gmtime),
        cmocka_unit_test(test_out_of_range),   cmocka_unit_test(test_strict_parse),
        cmocka_unit_test(test_now),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
