/* Unit tests of wildmatch: a table of cases from git's own wildmatch test suite
 * (t3070), with and without the pathname flag, and case folding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "util/wildmatch.h"

/* -1: the case says nothing about that mode. */
typedef struct {
    const char *pattern, *text;
    int pathname; /* ROAR_WM_PATHNAME (git's wildmatch) */
    int plain;    /* no flags (git's pathmatch) */
} wm_case;

static const wm_case cases[] = {
    /* basics */
    {"foo", "foo", 1, 1},
    {"bar", "foo", 0, 0},
    {"", "", 1, 1},
    {"???", "foo", 1, 1},
    {"??", "foo", 0, 0},
    {"*", "foo", 1, 1},
    {"f*", "foo", 1, 1},
    {"*f", "foo", 0, 0},
    {"*foo*", "foo", 1, 1},
    {"*ob*a*r*", "foobar", 1, 1},
    {"*ab", "aaaaaaabababab", 1, 1},
    {"foo\\*", "foo*", 1, 1},
    {"foo\\*bar", "foobar", 0, 0},
    {"f\\\\oo", "f\\oo", 1, 1},
    {"*[al]?", "ball", 1, 1},
    {"[ten]", "ten", 0, 0},
    {"**[!te]", "ten", 1, 1},
    {"**[!ten]", "ten", 0, 0},
    {"t[a-g]n", "ten", 1, 1},
    {"t[!a-g]n", "ten", 0, 0},
    {"t[!a-g]n", "ton", 1, 1},
    {"t[^a-g]n", "ton", 1, 1},
    {"a[]]b", "a]b", 1, 1},
    {"a[]-]b", "a-b", 1, 1},
    {"a[]-]b", "a]b", 1, 1},
    {"a[]-]b", "aab", 0, 0},
    {"a[]a-]b", "aab", 1, 1},
    {"]", "]", 1, 1},
    /* slashes */
    {"foo*bar", "foo/baz/bar", 0, 1},
    {"foo**bar", "foo/baz/bar", 0, 1},
    {"foo**bar", "foobazbar", 1, 1},
    {"foo/**/bar", "foo/baz/bar", 1, 1},
    {"foo/**/**/bar", "foo/baz/bar", 1, 0},
    {"foo/**/bar", "foo/b/a/z/bar", 1, 1},
    {"foo/**/**/bar", "foo/b/a/z/bar", 1, 1},
    {"foo/**/bar", "foo/bar", 1, 0},
    {"foo/**/**/bar", "foo/bar", 1, 0},
    {"foo?bar", "foo/bar", 0, 1},
    {"foo[/]bar", "foo/bar", 0, 1},
    {"foo[^a-z]bar", "foo/bar", 0, 1},
    {"f[^eiu][^eiu][^eiu][^eiu][^eiu]r", "foo-bar", 1, 1},
    {"**/foo", "foo", 1, -1},
    {"**/foo", "XXX/foo", 1, 1},
    {"**/foo", "bar/baz/foo", 1, 1},
    {"*/foo", "bar/baz/foo", 0, 1},
    {"**/bar*", "foo/bar/baz", 0, -1},
    {"**/bar/*", "deep/foo/bar/baz", 1, 1},
    {"**/bar/*", "deep/foo/bar/baz/", 0, 1},
    {"**/bar/**", "deep/foo/bar/baz/", 1, 1},
    {"**/bar/*", "deep/foo/bar", 0, 0},
    {"**/bar/**", "deep/foo/bar/", 1, 1},
    {"**/bar**", "foo/bar/baz", 0, 1},
    {"*/bar/**", "foo/bar/baz/x", 1, 1},
    {"*/bar/**", "deep/foo/bar/baz/x", 0, 1},
    {"**/bar/*/*", "deep/foo/bar/baz/x", 1, 1},
    /* various */
    {"a[c-c]st", "acrt", 0, 0},
    {"a[c-c]rt", "acrt", 1, 1},
    {"[!]-]", "]", 0, 0},
    {"[!]-]", "a", 1, 1},
    {"\\", "", 0, 0},
    {"\\", "\\", 0, 0},
    {"*/\\", "XXX/\\", 0, 0},
    {"*/\\\\", "XXX/\\", 1, 1},
    {"@foo", "@foo", 1, 1},
    {"@foo", "foo", 0, 0},
    {"\\[ab]", "[ab]", 1, 1},
    {"[[]ab]", "[ab]", 1, 1},
    {"[[:]ab]", "[ab]", 1, 1},
    {"[[::]ab]", "[ab]", 0, 0},
    {"[[:digit]ab]", "[ab]", 1, 1},
    {"[\\[:]ab]", "[ab]", 1, 1},
    {"\\??\\?b", "?a?b", 1, 1},
    {"\\a\\b\\c", "abc", 1, 1},
    {"", "foo", 0, 0},
    {"**/t[o]", "foo/bar/baz/to", 1, 1},
    /* character classes */
    {"[[:alpha:]][[:digit:]][[:upper:]]", "a1B", 1, 1},
    {"[[:digit:][:upper:][:space:]]", "a", 0, 0},
    {"[[:digit:][:upper:][:space:]]", "A", 1, 1},
    {"[[:digit:][:upper:][:space:]]", "1", 1, 1},
    {"[[:digit:][:upper:][:spaci:]]", "1", 0, 0},
    {"[[:digit:][:upper:][:space:]]", " ", 1, 1},
    {"[[:digit:][:upper:][:space:]]", ".", 0, 0},
    {"[[:digit:][:punct:][:space:]]", ".", 1, 1},
    {"[[:xdigit:]]", "5", 1, 1},
    {"[[:xdigit:]]", "f", 1, 1},
    {"[[:xdigit:]]", "D", 1, 1},
    {"[[:alnum:][:alpha:][:blank:][:cntrl:][:digit:][:graph:][:lower:][:print:][:punct:]"
     "[:space:][:upper:][:xdigit:]]",
     "_", 1, 1},
    {"[^[:alnum:][:alpha:][:blank:][:cntrl:][:digit:][:lower:][:space:][:upper:][:xdigit:]]",
     ".", 1, 1},
    {"[a-c[:digit:]x-z]", "5", 1, 1},
    {"[a-c[:digit:]x-z]", "b", 1, 1},
    {"[a-c[:digit:]x-z]", "y", 1, 1},
    {"[a-c[:digit:]x-z]", "q", 0, 0},
    /* sets: edge syntax */
    {"[\\\\-^]", "]", 1, 1},
    {"[\\\\-^]", "[", 0, 0},
    {"[\\-_]", "-", 1, 1},
    {"[\\]]", "]", 1, 1},
    {"[\\]]", "\\]", 0, 0},
    {"[\\]]", "\\", 0, 0},
    {"a[]b", "ab", 0, 0},
    {"a[]b", "a[]b", 0, 0},
    {"ab[", "ab[", 0, 0},
    {"[!", "ab", 0, 0},
    {"[-", "ab", 0, 0},
    {"[-]", "-", 1, 1},
    {"[a-", "-", 0, 0},
    {"[!a-", "-", 0, 0},
    {"[--A]", "-", 1, 1},
    {"[--A]", "5", 1, 1},
    {"[ --]", " ", 1, 1},
    {"[ --]", "$", 1, 1},
    {"[ --]", "-", 1, 1},
    {"[ --]", "0", 0, 0},
    {"[---]", "-", 1, 1},
    {"[------]", "-", 1, 1},
    {"[a-e-n]", "j", 0, 0},
    {"[a-e-n]", "-", 1, 1},
    {"[!------]", "a", 1, 1},
    {"[]-a]", "[", 0, 0},
    {"[]-a]", "^", 1, 1},
    {"[!]-a]", "^", 0, 0},
    {"[!]-a]", "[", 1, 1},
    {"[a^bc]", "^", 1, 1},
    {"[a-]b]", "-b]", 1, 1},
    {"[\\]", "\\", 0, 0},
    {"[\\\\]", "\\", 1, 1},
    {"[!\\\\]", "\\", 0, 0},
    {"[A-\\\\]", "G", 1, 1},
    {"b*a", "aaabbb", 0, 0},
    {"*ba*", "aabcaa", 0, 0},
    {"[,]", ",", 1, 1},
    {"[\\\\,]", ",", 1, 1},
    {"[\\\\,]", "\\", 1, 1},
    {"[,-.]", "-", 1, 1},
    {"[,-.]", "+", 0, 0},
    {"[,-.]", "-.]", 0, 0},
    {"[\\1-\\3]", "2", 1, 1},
    {"[\\1-\\3]", "3", 1, 1},
    {"[\\1-\\3]", "4", 0, 0},
    {"[[-\\]]", "\\", 1, 1},
    {"[[-\\]]", "[", 1, 1},
    {"[[-\\]]", "]", 1, 1},
    {"[[-\\]]", "-", 0, 0},
    /* recursion and backtracking */
    {"-*-*-*-*-*-*-12-*-*-*-m-*-*-*", "-adobe-courier-bold-o-normal--12-120-75-75-m-70-iso8859-1",
     1, 1},
    {"-*-*-*-*-*-*-12-*-*-*-m-*-*-*", "-adobe-courier-bold-o-normal--12-120-75-75-X-70-iso8859-1",
     0, 0},
    {"-*-*-*-*-*-*-12-*-*-*-m-*-*-*", "-adobe-courier-bold-o-normal--12-120-75-75-/-70-iso8859-1",
     0, -1},
    {"XXX/*/*/*/*/*/*/12/*/*/*/m/*/*/*",
     "XXX/adobe/courier/bold/o/normal//12/120/75/75/m/70/iso8859/1", 1, 1},
    {"XXX/*/*/*/*/*/*/12/*/*/*/m/*/*/*",
     "XXX/adobe/courier/bold/o/normal//12/120/75/75/X/70/iso8859/1", 0, 0},
    {"**/*a*b*g*n*t", "abcd/abcdefg/abcdefghijk/abcdefghijklmnop.txt", 1, 1},
    {"**/*a*b*g*n*t", "abcd/abcdefg/abcdefghijk/abcdefghijklmnop.txtz", 0, 0},
    {"*/*/*", "foo", 0, 0},
    {"*/*/*", "foo/bar", 0, 0},
    {"*/*/*", "foo/bba/arr", 1, 1},
    {"*/*/*", "foo/bb/aa/rr", 0, 1},
    {"**/**/**", "foo/bb/aa/rr", 1, 1},
    {"*X*i", "abcXdefXghi", 1, 1},
    {"*X*i", "ab/cXd/efXg/hi", 0, 1},
    {"*/*X*/*/*i", "ab/cXd/efXg/hi", 1, 1},
    {"**/*X*/**/*i", "ab/cXd/efXg/hi", 1, 1},
    /* bytes that are not ASCII are compared as bytes */
    {"caf\xc3\xa9/*.csv", "caf\xc3\xa9/x.csv", 1, 1},
    {"?", "\xc3\xa9", 0, 0},
    {"??", "\xc3\xa9", 1, 1},
};

static void test_table(void **state)
{
    size_t i, failures = 0;
    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const wm_case *c = &cases[i];
        if (c->pathname >= 0 &&
            roar_wildmatch(c->pattern, c->text, ROAR_WM_PATHNAME) != (bool)c->pathname) {
            fprintf(stderr, "pathname: '%s' vs '%s': expected %d\n", c->pattern, c->text,
                    c->pathname);
            failures++;
        }
        if (c->plain >= 0 && roar_wildmatch(c->pattern, c->text, 0) != (bool)c->plain) {
            fprintf(stderr, "plain: '%s' vs '%s': expected %d\n", c->pattern, c->text, c->plain);
            failures++;
        }
    }
    assert_int_equal(failures, 0);
}

static void test_casefold(void **state)
{
    (void)state;
    assert_false(roar_wildmatch("[A-Z]", "a", ROAR_WM_PATHNAME));
    assert_true(roar_wildmatch("[A-Z]", "a", ROAR_WM_PATHNAME | ROAR_WM_CASEFOLD));
    assert_false(roar_wildmatch("[a-z]", "A", ROAR_WM_PATHNAME));
    assert_true(roar_wildmatch("[a-z]", "A", ROAR_WM_PATHNAME | ROAR_WM_CASEFOLD));
    assert_false(roar_wildmatch("a", "A", 0));
    assert_true(roar_wildmatch("a", "A", ROAR_WM_CASEFOLD));
    assert_false(roar_wildmatch("[[:upper:]]", "a", 0));
    assert_true(roar_wildmatch("[[:upper:]]", "a", ROAR_WM_CASEFOLD));
    assert_true(roar_wildmatch("*.CSV", "Data/x.csv", ROAR_WM_CASEFOLD));
    assert_false(roar_wildmatch("*.CSV", "Data/x.csv", ROAR_WM_CASEFOLD | ROAR_WM_PATHNAME));
}

/* A pattern made to explode a naive backtracking matcher must still answer quickly. */
static void test_no_exponential_backtracking(void **state)
{
    char text[201];
    (void)state;
    memset(text, 'a', 200);
    text[200] = '\0';
    assert_false(roar_wildmatch("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", text, 0));
    assert_false(roar_wildmatch("**/*a*a*a*a*a*a*a*a*a*a*a*a*b", text, ROAR_WM_PATHNAME));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_casefold),
        cmocka_unit_test(test_no_exponential_backtracking),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
