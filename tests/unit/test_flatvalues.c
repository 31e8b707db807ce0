/* Unit tests for src/util/flatvalues: JSON, YAML and CSV flattened to "key TAB value"
 * lines, by example, and on hostile text from a pull request: deep nesting, keys
 * repeated for every element, long headers, text that ends without a NUL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/flatvalues.h"

/* The flattened text of a NUL-terminated string, for the examples. */
static char *flat(const char *path, const char *text)
{
    roar_buf out = ROAR_BUF_INIT;
    assert_int_equal(roar_flatten_values(&out, path, text, strlen(text)), 0);
    return roar_buf_detach(&out);
}

#define ASSERT_FLAT(path, text, want)                                                              \
    do {                                                                                           \
        char *got_ = flat(path, text);                                                             \
        assert_string_equal(got_, want);                                                           \
        free(got_);                                                                                \
    } while (0)

static size_t count_lines(const roar_buf *b)
{
    size_t n = 0;
    for (size_t i = 0; i < b->size; i++)
        n += b->ptr[i] == '\n';
    return n;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Flattens `text` and checks the result stays within the limits, in well under the time a
 * quadratic reader would take on these sizes (hours): linear work is milliseconds, even
 * under ASan on a loaded machine. */
static void flat_bounded(roar_buf *out, const char *path, const roar_buf *text)
{
    double t0 = now_s(), secs;
    assert_int_equal(roar_flatten_values(out, path, text->ptr, text->size), 0);
    secs = now_s() - t0;
    if (secs > 5)
        fail_msg("%s: %zu bytes took %.1f s", path, text->size, secs);
    assert_true(out->size <= ROAR_FLATVALUES_MAX_BYTES);
    assert_true(count_lines(out) <= ROAR_FLATVALUES_MAX_PAIRS);
}

static void repeat(roar_buf *b, const char *s, size_t times)
{
    for (size_t i = 0; i < times; i++)
        assert_int_equal(roar_buf_puts(b, s), 0);
}

/* ---- examples ------------------------------------------------------------------- */

static void test_json(void **state)
{
    (void)state;
    ASSERT_FLAT("m.json", "{\"loss\": {\"train\": 0.12, \"val\": 0.2}, \"acc\": 0.91}",
                "loss.train\t0.12\nloss.val\t0.2\nacc\t0.91\n");
    ASSERT_FLAT("m.json", "{\"layers\": [64, {\"k\": \"a\\tb\"}], \"ok\": true}",
                "layers.0\t64\nlayers.1.k\ta b\nok\ttrue\n");
    ASSERT_FLAT("m.json", "[1, [2]]", "0\t1\n1.0\t2\n");
    ASSERT_FLAT("m.json", "{\"a\": 1, \"b\": ", "a\t1\n"); /* cut short: what was read */
    ASSERT_FLAT("m.json", "\"just a string\"", "");
    ASSERT_FLAT("m.txt", "{\"a\": 1}", ""); /* unknown extension */
}

static void test_yaml(void **state)
{
    (void)state;
    ASSERT_FLAT("params.yaml",
                "# params\nlr: 0.01\nmodel:\n  depth: 4   # layers\n  name: \"resnet\"\n"
                "  opt:\n    kind: adam\nepochs: 10\n",
                "lr\t0.01\nmodel.depth\t4\nmodel.name\tresnet\nmodel.opt.kind\tadam\nepochs\t10\n");
    ASSERT_FLAT("p.yml", "---\nlist:\n  - a\nkey: 'q'\r\nurl: http://x:80/y\n",
                "key\tq\nurl\thttp://x:80/y\n");
}

static void test_csv(void **state)
{
    (void)state;
    ASSERT_FLAT("m.csv", "acc,loss\n0.9,0.1\n", "acc\t0.9\nloss\t0.1\n");
    ASSERT_FLAT("m.csv", "metric,value\nacc,0.91\nloss,0.12\n", "acc\t0.91\nloss\t0.12\n");
    ASSERT_FLAT("m.csv", "epoch,loss,acc\n1,0.5,0.7\n2,0.3,0.8\n",
                "row1.epoch\t1\nrow1.loss\t0.5\nrow1.acc\t0.7\n"
                "row2.epoch\t2\nrow2.loss\t0.3\nrow2.acc\t0.8\n");
}

/* ---- hostile text --------------------------------------------------------------- */

/* A NUL in a key or a value: a space, like a tab or a line end. A reader of the output
 * that stops at a NUL (the review's did) would otherwise lose every later pair. */
static void test_nul_bytes(void **state)
{
    static const char json[] = "{\"a\0b\": \"x\0y\", \"c\": 1}";
    static const char yaml[] = "a\0b: x\0y\nc: 1\n";
    roar_buf out = ROAR_BUF_INIT;
    (void)state;
    assert_int_equal(roar_flatten_values(&out, "m.json", json, sizeof(json) - 1), 0);
    assert_int_equal(out.size, strlen(out.ptr));
    assert_string_equal(out.ptr, "a b\tx y\nc\t1\n");
    assert_int_equal(roar_flatten_values(&out, "p.yaml", yaml, sizeof(yaml) - 1), 0);
    assert_string_equal(out.ptr, "a b\tx y\nc\t1\n");
    roar_buf_dispose(&out);
}

/* Nesting far past the cut: iterative readers, bounded stack, no crash. */
static void test_deep_nesting(void **state)
{
    roar_buf text = ROAR_BUF_INIT, out = ROAR_BUF_INIT;
    (void)state;
    repeat(&text, "[", 1000000);
    flat_bounded(&out, "m.json", &text);
    assert_int_equal(out.size, 0);
    roar_buf_clear(&text);
    repeat(&text, "{\"a\":", 500000);
    flat_bounded(&out, "m.json", &text);
    assert_int_equal(out.size, 0);
    roar_buf_clear(&text);
    for (size_t i = 0; i < 2000; i++) { /* each line one deeper */
        assert_int_equal(roar_buf_printf(&text, "%*sk:\n", (int)i, ""), 0);
    }
    assert_int_equal(roar_buf_printf(&text, "%*sleaf: 1\n", 2000, ""), 0);
    flat_bounded(&out, "p.yaml", &text);
    assert_int_equal(count_lines(&out), 1);
    roar_buf_dispose(&text);
    roar_buf_dispose(&out);
}

/* More than the pair limit: exactly the first ROAR_FLATVALUES_MAX_PAIRS. */
static void test_pair_limit(void **state)
{
    roar_buf text = ROAR_BUF_INIT, out = ROAR_BUF_INIT;
    (void)state;
    assert_int_equal(roar_buf_puts(&text, "["), 0);
    repeat(&text, "1,", 3 * ROAR_FLATVALUES_MAX_PAIRS);
    assert_int_equal(roar_buf_puts(&text, "1]"), 0);
    flat_bounded(&out, "m.json", &text);
    assert_int_equal(count_lines(&out), ROAR_FLATVALUES_MAX_PAIRS);
    assert_memory_equal(out.ptr, "0\t1\n1\t1\n", 8);
    roar_buf_dispose(&text);
    roar_buf_dispose(&out);
}

/* A key of a megabyte repeated for every element: 3 MB of text used to flatten into 10 GB
 * (10,000 pairs of a megabyte each). Now the first pair over the byte limit ends it. */
static void test_long_key_repeated(void **state)
{
    roar_buf text = ROAR_BUF_INIT, out = ROAR_BUF_INIT;
    (void)state;

    /* JSON: {"kkk...": [1, 1, ...]} */
    assert_int_equal(roar_buf_putc(&text, '{'), 0);
    assert_int_equal(roar_buf_putc(&text, '"'), 0);
    repeat(&text, "k", 1000000);
    assert_int_equal(roar_buf_puts(&text, "\": ["), 0);
    repeat(&text, "1,", 1000000);
    assert_int_equal(roar_buf_puts(&text, "1]}"), 0);
    flat_bounded(&out, "m.json", &text);
    assert_int_equal(count_lines(&out), 1);

    /* YAML: a parent key of a megabyte, then a million children. */
    roar_buf_clear(&text);
    repeat(&text, "k", 1000000);
    assert_int_equal(roar_buf_puts(&text, ":\n"), 0);
    repeat(&text, "  a: 1\n", 400000);
    flat_bounded(&out, "p.yaml", &text);
    assert_int_equal(count_lines(&out), 1);

    /* CSV: a header field of a megabyte, keyed into every row. */
    roar_buf_clear(&text);
    repeat(&text, "h", 1000000);
    assert_int_equal(roar_buf_putc(&text, '\n'), 0);
    repeat(&text, "1\n", 1000000);
    flat_bounded(&out, "m.csv", &text);
    assert_int_equal(count_lines(&out), 1);

    roar_buf_dispose(&text);
    roar_buf_dispose(&out);
}

/* Two columns and many rows: each row is `first -> second`, the header never used. A
 * long header must not be walked again for every row (2 MB x 1M rows). */
static void test_csv_long_header_two_columns(void **state)
{
    roar_buf text = ROAR_BUF_INIT, out = ROAR_BUF_INIT;
    (void)state;
    repeat(&text, "h", 2000000);
    assert_int_equal(roar_buf_puts(&text, ",v\n"), 0);
    repeat(&text, "a\n", 1000000); /* one field: nothing to emit, yet a row to read */
    flat_bounded(&out, "m.csv", &text);
    assert_int_equal(out.size, 0);
    roar_buf_clear(&text);
    repeat(&text, "h", 2000000);
    assert_int_equal(roar_buf_puts(&text, ",v\n"), 0);
    repeat(&text, "a,1\n", 500000);
    flat_bounded(&out, "m.csv", &text);
    assert_int_equal(count_lines(&out), ROAR_FLATVALUES_MAX_PAIRS);
    roar_buf_dispose(&text);
    roar_buf_dispose(&out);
}

/* The text need not end with a NUL: each example, cut at every length, is placed at the
 * very end of a page followed by an inaccessible one, so any read past it faults. */
static void test_no_read_past_end(void **state)
{
    static const char *const examples[][2] = {
        {"m.json", "{\"a\": {\"b\": [1, \"x\\\"y\", true]}, \"c\": -1e5}"},
        {"p.yaml", "---\nmodel:\n  depth: 4 # c\n  name: \"r\"\n- item\nk:"},
        {"m.csv", "a,b,c\n1,2,3\n4,5,6"},
        {"m.csv", "metric,value\nacc,0.9\nloss"},
    };
    long page = sysconf(_SC_PAGESIZE);
    char *map = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                     -1, 0);
    roar_buf out = ROAR_BUF_INIT;
    (void)state;

    assert_true(map != MAP_FAILED);
    assert_int_equal(mprotect(map + page, (size_t)page, PROT_NONE), 0);
    for (size_t e = 0; e < sizeof(examples) / sizeof(*examples); e++) {
        size_t len = strlen(examples[e][1]);
        for (size_t cut = 1; cut <= len; cut++) {
            char *text = map + page - cut;
            memcpy(text, examples[e][1], cut);
            assert_int_equal(roar_flatten_values(&out, examples[e][0], text, cut), 0);
        }
    }
    munmap(map, (size_t)page * 2);
    roar_buf_dispose(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_yaml),
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_nul_bytes),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_pair_limit),
        cmocka_unit_test(test_long_key_repeated),
        cmocka_unit_test(test_csv_long_header_two_columns),
        cmocka_unit_test(test_no_read_past_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
