/* Unit tests for src/trace/collector's tick: how long the loop sleeps before it drains
 * the ring again, which bounds how late an open (and the hashing of its input) is seen. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "trace/collector_internal.h"

/* While records flow the tick stays 2 ms, and one empty drain (a gap between two
 * syscalls) does not stretch it. */
static void test_busy_tick(void **state)
{
    (void)state;
    assert_int_equal(roar_collector__tick_ms(0), 2);
    assert_int_equal(roar_collector__tick_ms(1), 2);
}

/* A silence stretches it, never past 4 ms (docs/run.md: an open after a silence is seen
 * at most 4 ms late), and never shrinks it again until a record comes. */
static void test_quiet_tick(void **state)
{
    unsigned q;
    int prev = roar_collector__tick_ms(0);
    (void)state;
    assert_int_equal(roar_collector__tick_ms(2), 4);
    for (q = 0; q < 100000; q++) {
        int t = roar_collector__tick_ms(q);
        assert_true(t >= prev && t <= 4);
        prev = t;
    }
    assert_int_equal(roar_collector__tick_ms(~0u), 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_busy_tick),
        cmocka_unit_test(test_quiet_tick),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
