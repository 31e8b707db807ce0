/* libFuzzer target for the metric/params flattener (src/util/flatvalues), which reads
 * JSON, YAML and CSV files from a pull request under review. The first byte picks the
 * format ('0' JSON, '1' YAML, '2' CSV: byte % 3), the rest is the file's text, handed
 * over without a terminating NUL so that any read past the end is caught. Whatever the
 * bytes: no crash, no unbounded recursion (ASan's stack check), output within the
 * documented limits (pairs and bytes), and every line one "key TAB value" pair with a
 * non-empty key and no NUL. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/err.h"
#include "util/flatvalues.h"

static const char *const names[] = {"metrics.json", "params.yaml", "scores.csv"};

static void check_pairs(const roar_buf *out)
{
    size_t lines = 0, at = 0;

    if (out->size > ROAR_FLATVALUES_MAX_BYTES)
        abort();
    while (at < out->size) {
        const char *line = out->ptr + at;
        const char *nl = memchr(line, '\n', out->size - at);
        const char *tab;
        if (!nl)
            abort(); /* every pair ends with a line end */
        tab = memchr(line, '\t', (size_t)(nl - line));
        if (!tab || tab == line || memchr(tab + 1, '\t', (size_t)(nl - tab - 1)) ||
            memchr(line, '\r', (size_t)(nl - line)) || memchr(line, '\0', (size_t)(nl - line)))
            abort();
        lines++;
        at = (size_t)(nl - out->ptr) + 1;
    }
    if (lines > ROAR_FLATVALUES_MAX_PAIRS)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    roar_buf out = ROAR_BUF_INIT, again = ROAR_BUF_INIT;
    const char *name;
    char *text;

    if (size < 1)
        return 0;
    name = names[data[0] % 3];
    /* An exact-size copy (malloc(0) for an empty text): ASan flags the first byte past. */
    if (!(text = malloc(size - 1 ? size - 1 : 1)))
        return 0;
    memcpy(text, data + 1, size - 1);
    if (roar_flatten_values(&out, name, text, size - 1) < 0)
        abort(); /* only out of memory, which these sizes never reach */
    check_pairs(&out);
    /* Nothing depends on state left from another call. */
    if (roar_flatten_values(&again, name, text, size - 1) < 0 || again.size != out.size ||
        memcmp(again.ptr, out.ptr, out.size))
        abort();
    free(text);
    roar_buf_dispose(&out);
    roar_buf_dispose(&again);
    roar_error_clear();
    return 0;
}
