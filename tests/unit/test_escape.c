/* Unit tests for src/util/escape: the terminal, dot, Mermaid and Markdown forms of
 * untrusted strings, by example and over random strings full of hostile bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/escape.h"
#include "util/json.h"
#include "util/quote.h"

typedef int (*escape_fn)(roar_buf *out, const char *s, size_t len);

static int md_code(roar_buf *out, const char *s, size_t len)
{
    return roar_escape_md_code(out, s, len, false);
}

static int md_code_table(roar_buf *out, const char *s, size_t len)
{
    return roar_escape_md_code(out, s, len, true);
}

static int argv1(roar_buf *out, const char *s, size_t len)
{
    (void)len;
    return roar_escape_argv(out, &s, 1);
}

static char *esc(escape_fn fn, const char *s)
{
    roar_buf b = ROAR_BUF_INIT;
    assert_int_equal(fn(&b, s, strlen(s)), 0);
    return roar_buf_detach(&b);
}

#define ASSERT_ESC(fn, in, want)                                                                   \
    do {                                                                                           \
        char *got_ = esc(fn, in);                                                                  \
        assert_string_equal(got_, want);                                                           \
        free(got_);                                                                                \
    } while (0)

/* ---- examples ------------------------------------------------------------------- */

#define UNSAFE(lit) roar_escape_unsafe(lit, sizeof(lit) - 1)

static void test_unsafe(void **state)
{
    (void)state;
    assert_false(UNSAFE("plain text"));
    assert_false(UNSAFE("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
    assert_false(UNSAFE("\xc2\xa0")); /* U+00A0, past the C1 range */
    assert_true(UNSAFE("\x1b"));
    assert_true(UNSAFE("\a"));
    assert_true(UNSAFE("\r"));
    assert_true(UNSAFE("\x7f"));
    assert_true(UNSAFE("\xc2\x9b")); /* U+009B, CSI */
    assert_true(UNSAFE("\xc2\x80"));
    assert_true(UNSAFE("\xe2\x80\xae")); /* U+202E, right-to-left override */
    assert_true(UNSAFE("\xe2\x81\xa6")); /* U+2066 */
    assert_true(UNSAFE("\xe2\x80\xa8")); /* U+2028 */
    assert_true(UNSAFE("\xd8\x9c"));     /* U+061C */
    assert_true(UNSAFE("\xff"));
    assert_true(UNSAFE("ok\xc3")); /* truncated sequence */
}

static void test_term(void **state)
{
    (void)state;
    ASSERT_ESC(roar_escape_term, "build-07", "build-07");
    ASSERT_ESC(roar_escape_term, "Alice <alice@example.com>", "Alice <alice@example.com>");
    ASSERT_ESC(roar_escape_term, "back\\slash \"q\"", "back\\slash \"q\"");
    ASSERT_ESC(roar_escape_term, "", "");
    /* Title set, bell, screen clear: all shown, none acted on. */
    ASSERT_ESC(roar_escape_term, "x\x1b]0;pwned\a\x1b[2J", "\"x\\033]0;pwned\\007\\033[2J\"");
    ASSERT_ESC(roar_escape_term, "a\rb\x7f", "\"a\\015b\\177\"");
    ASSERT_ESC(roar_escape_term, "tab\there\nnl", "\"tab\\there\\nnl\"");
    ASSERT_ESC(roar_escape_term,
               "csi\xc2\x9b"
               "31m",
               "\"csi\\302\\23331m\"");
    ASSERT_ESC(roar_escape_term, "rlo\xe2\x80\xae", "\"rlo\\342\\200\\256\"");
    ASSERT_ESC(roar_escape_term, "\xe9t\xe9", "\"\\351t\\351\"");
    /* A value that begins with a quote is quoted, so it cannot pass for an escape. */
    ASSERT_ESC(roar_escape_term, "\"x\\033\"", "\"\\\"x\\\\033\\\"\"");
    /* Inside quotes, backslashes and quotes are escaped: the two forms stay apart. */
    ASSERT_ESC(roar_escape_term, "a\\b\x1b\"", "\"a\\\\b\\033\\\"\"");
}

static void test_path(void **state)
{
    (void)state;
    /* The record form for anything safe... */
    ASSERT_ESC(roar_escape_path, "data/train.csv", "data/train.csv");
    ASSERT_ESC(roar_escape_path, "models/final model.pt", "models/final model.pt");
    ASSERT_ESC(roar_escape_path, " lead", "\" lead\"");
    ASSERT_ESC(roar_escape_path, "say \"hi\"", "\"say \\\"hi\\\"\"");
    ASSERT_ESC(roar_escape_path, "bell\a\x1b", "\"bell\\007\\033\"");
    ASSERT_ESC(roar_escape_path, "caf\xc3\xa9", "caf\xc3\xa9");
    /* ...and quoted for the UTF-8 characters the record form leaves raw. */
    ASSERT_ESC(roar_escape_path,
               "out/\xc2\x9b"
               "2J",
               "\"out/\\302\\2332J\"");
    ASSERT_ESC(roar_escape_path, "evil\xe2\x80\xaetxt.exe", "\"evil\\342\\200\\256txt.exe\"");
}

static void test_argv(void **state)
{
    const char *argv[] = {"python3",  "train.py",    "--out", "final model.pt",
                          "x\x1b[2J", "csi\xc2\x9b", "it's"};
    roar_buf b = ROAR_BUF_INIT;
    (void)state;
    assert_int_equal(roar_escape_argv(&b, argv, 7), 0);
    assert_string_equal(b.ptr, "python3 train.py --out 'final model.pt' $'x\\033[2J' "
                               "$'csi\\302\\233' 'it'\\''s'");
    roar_buf_clear(&b);
    /* The command-position rule of roar_quote_argv still holds. */
    argv[0] = "A=1";
    assert_int_equal(roar_escape_argv(&b, argv, 1), 0);
    assert_string_equal(b.ptr, "'A=1'");
    roar_buf_dispose(&b);
    ASSERT_ESC(roar_escape_arg, "A=1", "A=1");
    ASSERT_ESC(roar_escape_arg, "v\xc2\x85", "$'v\\302\\205'");
    ASSERT_ESC(roar_escape_arg, "q'\\\xe2\x80\x8f", "$'q\\'\\\\\\342\\200\\217'");
}

static void test_dot(void **state)
{
    (void)state;
    ASSERT_ESC(roar_escape_dot, "job 1234567\npython3 train.py", "job 1234567\\npython3 train.py");
    ASSERT_ESC(roar_escape_dot, "say \"hi\" \\l", "say \\\"hi\\\" \\\\l");
    ASSERT_ESC(roar_escape_dot, "x\x1b]0;t\a", "x\\\\033]0;t\\\\007");
    ASSERT_ESC(roar_escape_dot, "c\xc2\x9b", "c\\\\302\\\\233");
    ASSERT_ESC(roar_escape_dot, "<b>&", "<b>&");
}

static void test_mermaid(void **state)
{
    (void)state;
    ASSERT_ESC(roar_escape_mermaid, "models/final model.pt", "models/final model.pt");
    ASSERT_ESC(roar_escape_mermaid, "a\"]-->b[\"x", "a#34;#93;--#62;b#91;#34;x");
    ASSERT_ESC(roar_escape_mermaid, "<img src=x>&#35;`", "#60;img src=x#62;#38;#35;35;#96;");
    ASSERT_ESC(roar_escape_mermaid, "f(x){y}|z", "f#40;x#41;#123;y#125;#124;z");
    ASSERT_ESC(roar_escape_mermaid, "line1\nline2", "line1<br/>line2");
    ASSERT_ESC(roar_escape_mermaid, "e\x1b[1m\a", "e\\033#91;1m\\007");
}

static void test_md(void **state)
{
    (void)state;
    ASSERT_ESC(roar_escape_md, "plain words", "plain words");
    ASSERT_ESC(roar_escape_md, "**bold** _em_ `code`", "\\*\\*bold\\*\\* \\_em\\_ \\`code\\`");
    ASSERT_ESC(roar_escape_md, "![img](http://x/y.png)", "\\!\\[img\\]\\(http&#58;//x/y\\.png\\)");
    ASSERT_ESC(roar_escape_md, "<script>a&b</script>", "&lt;script&gt;a&amp;b&lt;/script&gt;");
    ASSERT_ESC(roar_escape_md, "a|b", "a\\|b");
    ASSERT_ESC(roar_escape_md, "# h", "\\# h");
    ASSERT_ESC(roar_escape_md, "mail a@b.c www.x.com", "mail a&#64;b\\.c www\\.x\\.com");
    ASSERT_ESC(roar_escape_md, "back\\slash", "back\\\\slash");
    ASSERT_ESC(roar_escape_md, "x\x1b\n", "x\\\\033\\\\012");
}

static void test_md_code(void **state)
{
    (void)state;
    ASSERT_ESC(md_code, "data/train.csv", "`data/train.csv`");
    ASSERT_ESC(md_code, "a`b", "``a`b``");
    ASSERT_ESC(md_code, "a``b`", "``` a``b` ```");
    ASSERT_ESC(md_code, "`lead", "`` `lead ``");
    ASSERT_ESC(md_code, " both ", "`  both  `");
    ASSERT_ESC(md_code, "", "` `");
    ASSERT_ESC(md_code, "a|b <i>", "`a|b <i>`");
    ASSERT_ESC(md_code, "l1\nl2\x1b", "`l1\\012l2\\033`");
    ASSERT_ESC(md_code_table, "a|b", "`a\\|b`");
    ASSERT_ESC(md_code_table, "a\\|b", "`a\\\\174b`");
}

static int json(roar_buf *out, const char *s, size_t len)
{
    return roar_json_string(out, s, len, NULL);
}

static void test_json(void **state)
{
    (void)state;
    ASSERT_ESC(json, "caf\xc3\xa9", "\"caf\xc3\xa9\"");
    ASSERT_ESC(json, "e\x1b[2J\a\x7f", "\"e\\u001b[2J\\u0007\\u007f\"");
    ASSERT_ESC(json, "c\xc2\x9b\xe2\x80\xae\xc2\xa0", "\"c\\u009b\\u202e\xc2\xa0\"");
}

/* ---- random strings --------------------------------------------------------------- */

static uint64_t rng_state;

static uint32_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * UINT64_C(2685821657736338717)) >> 32);
}

static void random_string(roar_buf *b, size_t maxlen)
{
    static const char *pieces[] = {" ",
                                   "'",
                                   "\"",
                                   "\\",
                                   "\t",
                                   "\n",
                                   "\r",
                                   "\a",
                                   "\x1b",
                                   "\x7f",
                                   "`",
                                   "|",
                                   "<",
                                   ">",
                                   "&",
                                   "#",
                                   "[",
                                   "]",
                                   "(",
                                   ")",
                                   "*",
                                   "_",
                                   ":",
                                   "@",
                                   "é",
                                   "\xc2\x9b",
                                   "\xc2\x85",
                                   "\xe2\x80\xae",
                                   "\xe2\x81\xa9",
                                   "\xe2\x80\xa8",
                                   "\xe2\x82\xac",
                                   "\xff",
                                   "\xc3",
                                   "\x80",
                                   "a",
                                   "Z",
                                   "0",
                                   "/",
                                   ".",
                                   "-"};
    size_t n = rnd() % (maxlen + 1);
    roar_buf_clear(b);
    for (size_t i = 0; i < n; i++) {
        if (rnd() % 4 == 0)
            roar_buf_putc(b, (char)(1 + rnd() % 255));
        else
            roar_buf_puts(b, pieces[rnd() % (sizeof(pieces) / sizeof(*pieces))]);
    }
}

/* No control byte but those allowed, no C1, bidi or separator character, valid UTF-8. */
static void assert_shows_nothing_unsafe(const roar_buf *b, const char *what)
{
    if (roar_escape_unsafe(b->ptr, b->size))
        fail_msg("%s output holds an unsafe character: '%s'", what, b->ptr);
}

static void test_random(void **state)
{
    static const struct {
        escape_fn fn;
        const char *name;
    } fns[] = {{roar_escape_term, "term"},
               {roar_escape_path, "path"},
               {roar_escape_arg, "arg"},
               {argv1, "argv"},
               {roar_escape_dot, "dot"},
               {roar_escape_mermaid, "mermaid"},
               {roar_escape_md, "md"},
               {md_code, "md code"},
               {md_code_table, "md code in a table"}};
    roar_buf s = ROAR_BUF_INIT, out = ROAR_BUF_INIT, back = ROAR_BUF_INIT, rec = ROAR_BUF_INIT;
    (void)state;
    rng_state = 0xe5c;
    for (int iter = 0; iter < 3000; iter++) {
        random_string(&s, 12);
        for (size_t f = 0; f < sizeof(fns) / sizeof(*fns); f++) {
            roar_buf_clear(&out);
            assert_int_equal(fns[f].fn(&out, s.ptr, s.size), 0);
            assert_shows_nothing_unsafe(&out, fns[f].name);
        }

        /* A path reads back, and is the record's form when nothing unsafe is in it. */
        if (s.size) {
            roar_buf_clear(&out);
            roar_buf_clear(&back);
            roar_buf_clear(&rec);
            assert_int_equal(roar_escape_path(&out, s.ptr, s.size), 0);
            if (roar_quote_path_parse(&back, out.ptr, out.size) < 0)
                fail_msg("'%s' does not parse back: %s", out.ptr, roar_error_last());
            assert_int_equal(back.size, s.size);
            assert_memory_equal(back.ptr, s.ptr, s.size);
            assert_int_equal(roar_quote_path(&rec, s.ptr, s.size), 0);
            if (!roar_escape_unsafe(s.ptr, s.size))
                assert_string_equal(out.ptr, rec.ptr);
        }

        /* A command element reads back to the same bytes. */
        {
            const char *argv[1] = {s.ptr};
            char **parsed = NULL;
            size_t argc = 0;
            roar_buf_clear(&out);
            assert_int_equal(roar_escape_argv(&out, argv, 1), 0);
            if (roar_quote_argv_parse(&parsed, &argc, out.ptr, out.size) < 0)
                fail_msg("'%s' does not parse back: %s", out.ptr, roar_error_last());
            assert_int_equal(argc, 1);
            assert_string_equal(parsed[0], s.ptr);
            roar_quote_argv_free(parsed, argc);
        }

        /* Mermaid and dot labels cannot end their string; Markdown cannot open a tag. */
        roar_buf_clear(&out);
        assert_int_equal(roar_escape_mermaid(&out, s.ptr, s.size), 0);
        assert_null(memchr(out.ptr, '"', out.size));
        assert_null(memchr(out.ptr, '`', out.size));
        roar_buf_clear(&out);
        assert_int_equal(roar_escape_dot(&out, s.ptr, s.size), 0);
        for (size_t i = 0, bs = 0; i < out.size; i++) {
            if (out.ptr[i] == '"' && bs % 2 == 0)
                fail_msg("unescaped quote in dot label '%s'", out.ptr);
            bs = out.ptr[i] == '\\' ? bs + 1 : 0;
        }
        roar_buf_clear(&out);
        assert_int_equal(roar_escape_md(&out, s.ptr, s.size), 0);
        assert_null(memchr(out.ptr, '<', out.size));
        assert_null(memchr(out.ptr, '\n', out.size));
        roar_buf_clear(&out);
        assert_int_equal(roar_escape_md_code(&out, s.ptr, s.size, true), 0);
        assert_null(memchr(out.ptr, '\n', out.size));
        for (size_t i = 0, bs = 0; i < out.size; i++) {
            if (out.ptr[i] == '|' && bs % 2 == 0)
                fail_msg("a cell would end inside '%s'", out.ptr);
            bs = out.ptr[i] == '\\' ? bs + 1 : 0;
        }
    }
    roar_buf_dispose(&s);
    roar_buf_dispose(&out);
    roar_buf_dispose(&back);
    roar_buf_dispose(&rec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unsafe), cmocka_unit_test(test_term),
        cmocka_unit_test(test_path),   cmocka_unit_test(test_argv),
        cmocka_unit_test(test_dot),    cmocka_unit_test(test_mermaid),
        cmocka_unit_test(test_md),     cmocka_unit_test(test_md_code),
        cmocka_unit_test(test_json),   cmocka_unit_test(test_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
