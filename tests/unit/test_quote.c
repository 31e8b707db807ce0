/* Unit tests for src/util/quote: path C-quoting, argv shell quoting and their strict
 * inverses, including a check that bash reads our command lines back to the same argv. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/err.h"
#include "util/quote.h"

/* ---- helpers ------------------------------------------------------------ */

static uint64_t rng_state;

static uint32_t rnd(void)
{
    /* xorshift64*: deterministic across libcs, unlike rand(). */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * UINT64_C(2685821657736338717)) >> 32);
}

/* Appends a random non-NUL string of 0..maxlen pieces, biased towards the bytes that
 * matter to quoting: spaces, quotes, backslashes, controls, UTF-8 and invalid bytes. */
static void random_string(roar_buf *b, size_t maxlen)
{
    static const char *pieces[] = {" ", "'", "\"", "\\", "\t", "\n", "$", "*", "=", "é",
                                   "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xff", "\xc3", "\x80",
                                   "\x7f", "\x01", "\x1b", "a", "Z", "0", "/", ".", "-", "~"};
    size_t n = rnd() % (maxlen + 1);
    roar_buf_clear(b);
    for (size_t i = 0; i < n; i++) {
        if (rnd() % 3 == 0) {
            char c = (char)(1 + rnd() % 255);
            roar_buf_putc(b, c);
        } else {
            roar_buf_puts(b, pieces[rnd() % (sizeof(pieces) / sizeof(*pieces))]);
        }
    }
}

static char *quote_path_str(const char *s)
{
    roar_buf b = ROAR_BUF_INIT;
    assert_int_equal(roar_quote_path(&b, s, strlen(s)), 0);
    return roar_buf_detach(&b);
}

static char *quote_arg_str(const char *s)
{
    roar_buf b = ROAR_BUF_INIT;
    assert_int_equal(roar_quote_arg(&b, s, strlen(s)), 0);
    return roar_buf_detach(&b);
}

#define ASSERT_QUOTE(fn, in, want)                                                             \
    do {                                                                                       \
        char *got_ = fn(in);                                                                   \
        assert_string_equal(got_, want);                                                       \
        free(got_);                                                                            \
    } while (0)

/* ---- paths -------------------------------------------------------------- */

static void test_path_examples(void **state)
{
    (void)state;
    ASSERT_QUOTE(quote_path_str, "data/train.csv", "data/train.csv");
    ASSERT_QUOTE(quote_path_str, "models/final model.pt", "models/final model.pt");
    ASSERT_QUOTE(quote_path_str, "caf\xc3\xa9/\xe2\x82\xac", "caf\xc3\xa9/\xe2\x82\xac");
    ASSERT_QUOTE(quote_path_str, "", "\"\"");
    ASSERT_QUOTE(quote_path_str, " lead", "\" lead\"");
    ASSERT_QUOTE(quote_path_str, "trail ", "\"trail \"");
    ASSERT_QUOTE(quote_path_str, "a\tb\nc", "\"a\\tb\\nc\"");
    ASSERT_QUOTE(quote_path_str, "say \"hi\"", "\"say \\\"hi\\\"\"");
    ASSERT_QUOTE(quote_path_str, "back\\slash", "\"back\\\\slash\"");
    ASSERT_QUOTE(quote_path_str, "bell\a\r\x7f", "\"bell\\007\\015\\177\"");
    ASSERT_QUOTE(quote_path_str, "latin1 \xe9t\xe9", "\"latin1 \\351t\\351\"");
    /* Overlong, surrogate and truncated sequences are invalid UTF-8. */
    ASSERT_QUOTE(quote_path_str, "\xc0\x80", "\"\\300\\200\"");
    ASSERT_QUOTE(quote_path_str, "\xed\xa0\x80", "\"\\355\\240\\200\"");
    ASSERT_QUOTE(quote_path_str, "x\xe2\x82", "\"x\\342\\202\"");
    ASSERT_QUOTE(quote_path_str, "\xf4\x90\x80\x80", "\"\\364\\220\\200\\200\"");
    /* A valid character right after an invalid byte stays raw. */
    ASSERT_QUOTE(quote_path_str, "\xff\xc3\xa9", "\"\\377\xc3\xa9\"");
}

static void assert_path_parse_fails(const char *field, const char *msg_part)
{
    roar_buf b = ROAR_BUF_INIT;
    roar_buf_puts(&b, "keep");
    assert_int_equal(roar_quote_path_parse(&b, field, strlen(field)), ROAR_EINVALID);
    assert_string_equal(b.ptr, "keep"); /* left as it was */
    if (!strstr(roar_error_last(), msg_part))
        fail_msg("'%s': message '%s' lacks '%s'", field, roar_error_last(), msg_part);
    roar_buf_dispose(&b);
}

static void test_path_parse_strict(void **state)
{
    roar_buf b = ROAR_BUF_INIT;
    (void)state;
    assert_path_parse_fails("", "empty path");
    assert_path_parse_fails(" a", "space");
    assert_path_parse_fails("a ", "space");
    assert_path_parse_fails("a\tb", "byte 0x09 in unquoted path");
    assert_path_parse_fails("a\\b", "'\\' in unquoted path");
    assert_path_parse_fails("\xff", "invalid UTF-8 in unquoted path");
    assert_path_parse_fails("\"abc", "missing closing quote");
    assert_path_parse_fails("\"abc\\\"", "missing closing quote");
    assert_path_parse_fails("\"a\"b\"", "after the closing quote");
    assert_path_parse_fails("\"a\\qb\"", "invalid escape");
    assert_path_parse_fails("\"a\\400\"", "invalid escape");
    assert_path_parse_fails("\"a\\12\"", "invalid escape");
    assert_path_parse_fails("\"a\\000\"", "NUL");
    assert_path_parse_fails("\"a\tb\"", "control");
    assert_path_parse_fails("\"\xc3\"", "invalid UTF-8");
    assert_path_parse_fails("\"", "missing closing quote");

    /* git's other escapes are accepted, as are needlessly quoted paths. */
    assert_int_equal(roar_quote_path_parse(&b, "\"\\a\\b\\f\\r\\v\"", 12), 0);
    assert_memory_equal(b.ptr, "\a\b\f\r\v", 5);
    roar_buf_clear(&b);
    assert_int_equal(roar_quote_path_parse(&b, "\"plain\"", 7), 0);
    assert_string_equal(b.ptr, "plain");
    roar_buf_clear(&b);
    assert_int_equal(roar_quote_path_parse(&b, "\"\"", 2), 0);
    assert_int_equal(b.size, 0);
    roar_buf_dispose(&b);
}

static void test_path_roundtrip_random(void **state)
{
    roar_buf in = ROAR_BUF_INIT, q = ROAR_BUF_INIT, back = ROAR_BUF_INIT;
    (void)state;
    rng_state = 0x5eed1;
    for (int i = 0; i < 100000; i++) {
        random_string(&in, 12);
        roar_buf_clear(&q);
        roar_buf_clear(&back);
        assert_int_equal(roar_quote_path(&q, in.ptr, in.size), 0);
        /* The quoted form is one line of valid, control-free UTF-8. */
        assert_false(q.size && (memchr(q.ptr, '\n', q.size) || memchr(q.ptr, '\t', q.size)));
        assert_int_equal(q.ptr[0] == '"', roar_quote_path_needed(in.ptr, in.size));
        if (roar_quote_path_parse(&back, q.ptr, q.size) < 0)
            fail_msg("cannot parse back '%s': %s", q.ptr, roar_error_last());
        assert_int_equal(back.size, in.size);
        assert_memory_equal(back.ptr, in.ptr, in.size);
    }
    roar_buf_dispose(&in);
    roar_buf_dispose(&q);
    roar_buf_dispose(&back);
}

/* ---- argv --------------------------------------------------------------- */

static void test_arg_examples(void **state)
{
    roar_buf b = ROAR_BUF_INIT;
    const char *argv[] = {"python3", "train.py", "--epochs", "10", "--out", "models/final model.pt"};
    const char *assign[] = {"FOO=bar", "FOO=bar", "x+=1"};
    const char *assign2[] = {"x+=1", "9=a", "a-b=c"};
    (void)state;

    ASSERT_QUOTE(quote_arg_str, "A-z_0@%+=:,./9", "A-z_0@%+=:,./9");
    ASSERT_QUOTE(quote_arg_str, "", "''");
    ASSERT_QUOTE(quote_arg_str, "a b", "'a b'");
    ASSERT_QUOTE(quote_arg_str, "it's", "'it'\\''s'");
    ASSERT_QUOTE(quote_arg_str, "'", "''\\'''");
    ASSERT_QUOTE(quote_arg_str, "$HOME *", "'$HOME *'");
    ASSERT_QUOTE(quote_arg_str, "\"\\", "'\"\\'");
    ASSERT_QUOTE(quote_arg_str, "caf\xc3\xa9", "'caf\xc3\xa9'");
    ASSERT_QUOTE(quote_arg_str, "~", "'~'");
    ASSERT_QUOTE(quote_arg_str, "a\nb", "$'a\\nb'");
    ASSERT_QUOTE(quote_arg_str, "\a\b\t\n\v\f\r", "$'\\a\\b\\t\\n\\v\\f\\r'");
    ASSERT_QUOTE(quote_arg_str, "it's\n\\", "$'it\\'s\\n\\\\'");
    ASSERT_QUOTE(quote_arg_str, "\x1b[0m", "$'\\033[0m'");
    ASSERT_QUOTE(quote_arg_str, "\x7f", "$'\\177'");
    ASSERT_QUOTE(quote_arg_str, "\xff\xc3\xa9 1", "$'\\377\xc3\xa9 1'");
    ASSERT_QUOTE(quote_arg_str, "\x01" "7", "$'\\0017'");

    assert_int_equal(roar_quote_argv(&b, argv, 6), 0);
    assert_string_equal(b.ptr, "python3 train.py --epochs 10 --out 'models/final model.pt'");
    roar_buf_clear(&b);
    /* Only in command position is NAME=... an assignment to a shell. */
    assert_int_equal(roar_quote_argv(&b, assign, 3), 0);
    assert_string_equal(b.ptr, "'FOO=bar' FOO=bar x+=1");
    roar_buf_clear(&b);
    assert_int_equal(roar_quote_argv(&b, assign2, 3), 0);
    assert_string_equal(b.ptr, "'x+=1' 9=a a-b=c");
    roar_buf_clear(&b);
    assert_int_equal(roar_quote_argv(&b, assign2 + 1, 2), 0);
    assert_string_equal(b.ptr, "9=a a-b=c");
    roar_buf_dispose(&b);
}

static void assert_split(const char *line, size_t want_argc, ...)
{
    char **argv = NULL;
    size_t argc = 99;
    va_list ap;
    if (roar_quote_argv_parse(&argv, &argc, line, strlen(line)) < 0)
        fail_msg("cannot split '%s': %s", line, roar_error_last());
    assert_int_equal(argc, want_argc);
    va_start(ap, want_argc);
    for (size_t i = 0; i < argc; i++)
        assert_string_equal(argv[i], va_arg(ap, const char *));
    va_end(ap);
    assert_null(argv[argc]);
    roar_quote_argv_free(argv, argc);
}

static void assert_split_fails(const char *line, const char *msg_part)
{
    char **argv = (char **)1;
    size_t argc = 99;
    assert_int_equal(roar_quote_argv_parse(&argv, &argc, line, strlen(line)), ROAR_EINVALID);
    assert_null(argv);
    assert_int_equal(argc, 0);
    if (!strstr(roar_error_last(), msg_part))
        fail_msg("'%s': message '%s' lacks '%s'", line, roar_error_last(), msg_part);
}

static void test_split(void **state)
{
    (void)state;
    assert_split("", 0);
    assert_split("   ", 0);
    assert_split("a", 1, "a");
    assert_split("  a   b ", 2, "a", "b");
    assert_split("'a'\\''b'", 1, "a'b");
    assert_split("''", 1, "");
    assert_split("'' ''", 2, "", "");
    assert_split("x'y z'$'\\n'w", 1, "xy z\nw");
    assert_split("$'\\1\\12\\123\\0777'", 1, "\001\012\123?7");
    assert_split("$'\\\"\\?\\e\\E'", 1, "\"?\033\033");
    assert_split("'$HOME' '*' '\"'", 3, "$HOME", "*", "\"");

    assert_split_fails("'abc", "unterminated single quote");
    assert_split_fails("$'abc", "unterminated $'...'");
    assert_split_fails("$'abc\\", "unterminated $'...'");
    assert_split_fails("a*b", "unexpected '*' outside quotes at column 2");
    assert_split_fails("a \"b\"", "unexpected '\"' outside quotes at column 3");
    assert_split("a\\ b\\\"", 1, "a b\"");
    assert_split_fails("a\\", "backslash at the end");
    assert_split_fails("a\\\tb", "backslash followed by byte 0x09");
    assert_split_fails("$HOME", "unexpected '$'");
    assert_split_fails("a\tb", "unexpected byte 0x09");
    assert_split_fails("caf\xc3\xa9", "unexpected byte 0xc3");
    assert_split_fails("$'\\x41'", "unsupported escape");
    assert_split_fails("$'\\u00e9'", "unsupported escape");
    assert_split_fails("$'\\0'", "NUL");
    assert_split_fails("$'\\777'", "out of range");
    assert_split_fails("'a\tb'", "control byte 0x09");
    assert_split_fails("'\xff'", "invalid UTF-8");
    assert_split_fails("$'\xff'", "invalid UTF-8");
}

static void test_arg_parse_one_word(void **state)
{
    roar_buf b = ROAR_BUF_INIT;
    (void)state;
    assert_int_equal(roar_quote_arg_parse(&b, "'a b'", 5), 0);
    assert_string_equal(b.ptr, "a b");
    roar_buf_clear(&b);
    assert_int_equal(roar_quote_arg_parse(&b, "''", 2), 0);
    assert_int_equal(b.size, 0);
    assert_int_equal(roar_quote_arg_parse(&b, "", 0), ROAR_EINVALID);
    assert_int_equal(roar_quote_arg_parse(&b, "a b", 3), ROAR_EINVALID);
    assert_non_null(strstr(roar_error_last(), "more than one word"));
    assert_int_equal(roar_quote_arg_parse(&b, " a", 2), ROAR_EINVALID);
    assert_int_equal(roar_quote_arg_parse(&b, "a ", 2), ROAR_EINVALID);
    assert_int_equal(b.size, 0);
    roar_buf_dispose(&b);
}

/* Builds a random argv of 1..6 elements in arr (strings owned by the bufs). */
static size_t random_argv(roar_buf *bufs, const char **argv, size_t maxlen)
{
    size_t argc = 1 + rnd() % 6;
    for (size_t i = 0; i < argc; i++) {
        random_string(&bufs[i], maxlen);
        argv[i] = bufs[i].ptr;
    }
    return argc;
}

static void test_argv_roundtrip_random(void **state)
{
    roar_buf bufs[6] = {ROAR_BUF_INIT, ROAR_BUF_INIT, ROAR_BUF_INIT,
                        ROAR_BUF_INIT, ROAR_BUF_INIT, ROAR_BUF_INIT};
    roar_buf line = ROAR_BUF_INIT, one = ROAR_BUF_INIT;
    const char *argv[6];
    (void)state;
    rng_state = 0xa7c5;
    for (int iter = 0; iter < 50000; iter++) {
        size_t argc = random_argv(bufs, argv, 10), back_argc;
        char **back;

        roar_buf_clear(&line);
        assert_int_equal(roar_quote_argv(&line, argv, argc), 0);
        assert_null(memchr(line.ptr, '\n', line.size));
        if (roar_quote_argv_parse(&back, &back_argc, line.ptr, line.size) < 0)
            fail_msg("cannot split '%s': %s", line.ptr, roar_error_last());
        assert_int_equal(back_argc, argc);
        for (size_t i = 0; i < argc; i++)
            assert_string_equal(back[i], argv[i]);
        roar_quote_argv_free(back, back_argc);

        roar_buf_clear(&line);
        roar_buf_clear(&one);
        assert_int_equal(roar_quote_arg(&line, argv[0], strlen(argv[0])), 0);
        assert_int_equal(roar_quote_arg_parse(&one, line.ptr, line.size), 0);
        assert_string_equal(one.ptr, argv[0]);
    }
    for (int i = 0; i < 6; i++)
        roar_buf_dispose(&bufs[i]);
    roar_buf_dispose(&line);
    roar_buf_dispose(&one);
}

/* Runs `bash -c 'printf "%s\0" LINE'` and returns what it printed. */
static void run_bash(roar_buf *out, const char *line, const char *locale)
{
    roar_buf script = ROAR_BUF_INIT;
    int fds[2], status;
    pid_t pid;
    char chunk[4096];
    ssize_t n;

    roar_buf_printf(&script, "printf '%%s\\0' %s", line);
    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        setenv("LC_ALL", locale, 1);
        execlp("bash", "bash", "--norc", "--noprofile", "-c", script.ptr, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    roar_buf_clear(out);
    while ((n = read(fds[0], chunk, sizeof(chunk))) > 0)
        roar_buf_put(out, chunk, (size_t)n);
    close(fds[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("bash failed on: %s", script.ptr);
    roar_buf_dispose(&script);
}

static void test_bash_reads_same_argv(void **state)
{
    roar_buf bufs[6] = {ROAR_BUF_INIT, ROAR_BUF_INIT, ROAR_BUF_INIT,
                        ROAR_BUF_INIT, ROAR_BUF_INIT, ROAR_BUF_INIT};
    roar_buf line = ROAR_BUF_INIT, want = ROAR_BUF_INIT, got = ROAR_BUF_INIT;
    const char *argv[6];
    (void)state;
    rng_state = 0xba5;
    for (int iter = 0; iter < 300; iter++) {
        size_t argc = random_argv(bufs, argv, 16);
        roar_buf_clear(&line);
        roar_buf_clear(&want);
        assert_int_equal(roar_quote_argv(&line, argv, argc), 0);
        for (size_t i = 0; i < argc; i++)
            roar_buf_put(&want, argv[i], strlen(argv[i]) + 1); /* with its NUL */
        run_bash(&got, line.ptr, iter % 2 ? "C.UTF-8" : "C");
        if (got.size != want.size || memcmp(got.ptr, want.ptr, want.size))
            fail_msg("bash read '%s' differently", line.ptr);
    }
    for (int i = 0; i < 6; i++)
        roar_buf_dispose(&bufs[i]);
    roar_buf_dispose(&line);
    roar_buf_dispose(&want);
    roar_buf_dispose(&got);
}

static void test_utf8_seq_len(void **state)
{
    (void)state;
    assert_int_equal(roar_utf8_seq_len((const unsigned char *)"a", 1), 1);
    assert_int_equal(roar_utf8_seq_len((const unsigned char *)"\xc3\xa9", 2), 2);
    assert_int_equal(roar_utf8_seq_len((const unsigned char *)"\xc3\xa9", 1), 0);
    assert_int_equal(roar_utf8_seq_len((const unsigned char *)"\xc1\xbf", 2), 0);
    assert_int_equal(roar_utf8_seq_len((const unsigned char *)"\xe0\x9f\xbf", 3), 0);
    assert_int_equal(roar_utf8_seq_len((const unsigned char *)"\xe0\xa0\x80", 3), 3);
    assert_int_equal(roar_utf8_seq_len((const unsigned char *)"\xed\x9f\xbf", 3), 3);
    assert_int_equal(roar_utf8_seq_len((const unsigned char *)"\xed\xa0\x80", 3), 0);
    assert_int_equal(roar_utf8_seq_len((const unsigned char *)"\xf0\x90\x80\x80", 4), 4);
    assert_int_equal(roar_utf8_seq_len((const unsigned char *)"\xf0\x8f\xbf\xbf", 4), 0);
    assert_int_equal(roar_utf8_seq_len((const unsigned char *)"\xf4\x8f\xbf\xbf", 4), 4);
    assert_int_equal(roar_utf8_seq_len((const unsigned char *)"\xf4\x90\x80\x80", 4), 0);
    assert_int_equal(roar_utf8_seq_len((const unsigned char *)"\xf5\x80\x80\x80", 4), 0);
    assert_int_equal(roar_utf8_seq_len((const unsigned char *)"\x80", 1), 0);
    assert_int_equal(roar_utf8_seq_len((const unsigned char *)"\xe2\x28\xa1", 3), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_seq_len),
        cmocka_unit_test(test_path_examples),
        cmocka_unit_test(test_path_parse_strict),
        cmocka_unit_test(test_path_roundtrip_random),
        cmocka_unit_test(test_arg_examples),
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_arg_parse_one_word),
        cmocka_unit_test(test_argv_roundtrip_random),
        cmocka_unit_test(test_bash_reads_same_argv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
