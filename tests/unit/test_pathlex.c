/* Unit tests of util/pathlex: lexical normal form and containment of absolute paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util/pathlex.h"
#include "util/err.h"

static void test_normalise(void **state)
{
    static const char *const cases[][2] = {
        {"/", "/"},           {"//", "/"},          {"/a/./b", "/a/b"},
        {"/a//b/", "/a/b"},   {"/a/b/..", "/a"},    {"/a/b/../..", "/"},
        {"/../..", "/"},      {"/a/../../b", "/b"}, {"/./a/.b/..c", "/a/.b/..c"},
        {"/a/.../b", "/a/.../b"},
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        roar_buf out = ROAR_BUF_INIT;
        assert_int_equal(roar_pathlex_normalise(&out, cases[i][0]), 0);
        assert_string_equal(out.ptr, cases[i][1]);
        roar_buf_dispose(&out);
    }
}

static void test_normalise_refuses_relative(void **state)
{
    roar_buf out = ROAR_BUF_INIT;
    (void)state;
    assert_int_equal(roar_pathlex_normalise(&out, "a/b"), ROAR_EINVALID);
    roar_error_clear();
    roar_buf_dispose(&out);
}

static void test_below(void **state)
{
    (void)state;
    assert_string_equal(roar_pathlex_below("/a/b", "/a/b"), "");
    assert_string_equal(roar_pathlex_below("/a/b/c", "/a/b"), "c");
    assert_string_equal(roar_pathlex_below("/a/b/c/d", "/a"), "b/c/d");
    assert_string_equal(roar_pathlex_below("/a", "/"), "a");
    assert_null(roar_pathlex_below("/ab", "/a"));
    assert_null(roar_pathlex_below("/a", "/a/b"));
    assert_string_equal(roar_pathlex_below_n("/a/b/c", "/a/bxyz", 4), "c");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalise),
        cmocka_unit_test(test_normalise_refuses_relative),
        cmocka_unit_test(test_below),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
