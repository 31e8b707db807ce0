/* Metric and parameter files flattened to `key -> value` pairs (review.h), so that a
 * review can say "acc 0.91 -> 0.87": JSON, YAML block mappings and CSV. Iterative and
 * bounded (nesting past MAX_DEPTH is cut): the files come from others' commits. */
#include "cli/review.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cli/check.h"

#define MAX_DEPTH 64
#define MAX_PAIRS 10000

/* "key\tvalue\n", with tabs and line ends in either shown as spaces. */
static void emit(roar_buf *out, size_t *pairs, const char *key, size_t klen, const char *value,
                 size_t vlen)
{
    if (++*pairs > MAX_PAIRS || !klen)
        return;
    for (size_t i = 0; i < klen; i++)
        CHECK(roar_buf_putc(out, key[i] == '\t' || key[i] == '\n' || key[i] == '\r' ? ' ' : key[i]));
    CHECK(roar_buf_putc(out, '\t'));
    for (size_t i = 0; i < vlen; i++)
        CHECK(roar_buf_putc(out, value[i] == '\t' || value[i] == '\n' || value[i] == '\r' ? ' '
                                                                                         : value[i]));
    CHECK(roar_buf_putc(out, '\n'));
}

/* ---- JSON ------------------------------------------------------------------------- */

static size_t skip_ws(const char *s, size_t n, size_t i)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i;
}

/* A JSON string at s[i] == '"': its content (escapes kept as written, \" included) into
 * `val`; returns the index after the closing quote, or n when unterminated. */
static size_t json_string(roar_buf *val, const char *s, size_t n, size_t i)
{
    roar_buf_clear(val);
    for (i++; i < n && s[i] != '"'; i++) {
        if (s[i] == '\\' && i + 1 < n) {
            char c = s[++i];
            CHECK(roar_buf_putc(val, c == 'n' || c == 't' || c == 'r' ? ' ' : c));
            continue;
        }
        CHECK(roar_buf_putc(val, s[i]));
    }
    return i < n ? i + 1 : n;
}

static void flatten_json(roar_buf *out, const char *s, size_t n)
{
    struct {
        bool array;
        size_t index, plen;
    } st[MAX_DEPTH];
    int depth = -1;
    roar_buf path = ROAR_BUF_INIT, val = ROAR_BUF_INIT;
    size_t i = skip_ws(s, n, 0), pairs = 0;
    bool ok = i < n && (s[i] == '{' || s[i] == '[');

    while (ok && i < n) {
        i = skip_ws(s, n, i);
        if (i >= n)
            break;
        if (depth >= 0 && s[i] == ',') {
            i++;
            continue;
        }
        if (depth >= 0 && (s[i] == '}' || s[i] == ']')) {
            depth--;
            i++;
            if (depth < 0)
                break;
            continue;
        }
        /* The path of the value that comes next. */
        if (depth >= 0) {
            roar_buf_truncate(&path, st[depth].plen);
            if (st[depth].array) {
                CHECK(roar_buf_printf(&path, "%s%zu", path.size ? "." : "", st[depth].index++));
            } else {
                if (s[i] != '"') {
                    ok = false;
                    break;
                }
                i = json_string(&val, s, n, i);
                i = skip_ws(s, n, i);
                if (i >= n || s[i] != ':') {
                    ok = false;
                    break;
                }
                i = skip_ws(s, n, i + 1);
                if (path.size)
                    CHECK(roar_buf_putc(&path, '.'));
                CHECK(roar_buf_put(&path, val.ptr, val.size));
            }
        }
        if (i >= n)
            break;
        if (s[i] == '{' || s[i] == '[') {
            if (depth + 1 >= MAX_DEPTH) {
                ok = false;
                break;
            }
            depth++;
            st[depth].array = s[i] == '[';
            st[depth].index = 0;
            st[depth].plen = path.size;
            i++;
        } else if (s[i] == '"') {
            i = json_string(&val, s, n, i);
            emit(out, &pairs, path.ptr, path.size, val.ptr, val.size);
        } else {
            size_t start = i;
            while (i < n && s[i] != ',' && s[i] != '}' && s[i] != ']' && !isspace((unsigned char)s[i]))
                i++;
            if (i == start) {
                ok = false;
                break;
            }
            emit(out, &pairs, path.ptr, path.size, s + start, i - start);
        }
    }
    roar_buf_dispose(&path);
    roar_buf_dispose(&val);
}

/* ---- YAML block mappings ------------------------------------------------------------ */

/* `key: value` lines, nesting by indentation; comments, lists and flow styles are not
 * read (a list item is skipped). Enough for params.yaml and metrics.yaml as tools write
 * them. */
static void flatten_yaml(roar_buf *out, const char *s, size_t n)
{
    size_t indent[MAX_DEPTH], plen[MAX_DEPTH], pairs = 0, i = 0;
    int depth = 0;
    roar_buf path = ROAR_BUF_INIT;

    indent[0] = 0;
    plen[0] = 0;
    while (i < n) {
        size_t eol = i, ind = 0, k, colon = 0;
        while (eol < n && s[eol] != '\n')
            eol++;
        while (i + ind < eol && s[i + ind] == ' ')
            ind++;
        k = i + ind;
        if (k < eol && s[k] != '#' && s[k] != '-' && strncmp(s + k, "---", 3)) {
            for (size_t c = k; c < eol; c++)
                if (s[c] == ':' && (c + 1 == eol || s[c + 1] == ' ')) {
                    colon = c;
                    break;
                }
        }
        if (colon) {
            size_t v = colon + 1, vend = eol;
            while (depth > 0 && ind <= indent[depth])
                depth--;
            roar_buf_truncate(&path, plen[depth]);
            if (path.size)
                CHECK(roar_buf_putc(&path, '.'));
            CHECK(roar_buf_put(&path, s + k, colon - k));
            while (v < vend && s[v] == ' ')
                v++;
            for (size_t c = v; c < vend; c++) /* a trailing comment */
                if (s[c] == '#' && c > v && s[c - 1] == ' ') {
                    vend = c;
                    break;
                }
            while (vend > v && (s[vend - 1] == ' ' || s[vend - 1] == '\r'))
                vend--;
            if (vend > v) {
                if (vend - v >= 2 && (s[v] == '"' || s[v] == '\'') && s[vend - 1] == s[v]) {
                    v++;
                    vend--;
                }
                emit(out, &pairs, path.ptr, path.size, s + v, vend - v);
            } else if (depth + 1 < MAX_DEPTH) {
                depth++;
                indent[depth] = ind;
                plen[depth] = path.size;
            }
        }
        i = eol + 1;
    }
    roar_buf_dispose(&path);
}

/* ---- CSV ------------------------------------------------------------------------------ */

/* A header row and data rows: with one data row, `column -> value`; with two columns
 * and no numeric header, each row `first -> second`; otherwise `row<N>.column`. Quoted
 * fields are taken without their quotes (no embedded commas). */
static void flatten_csv(roar_buf *out, const char *s, size_t n)
{
    roar_buf key = ROAR_BUF_INIT;
    const char *header = s;
    size_t hlen, rows = 0, pairs = 0, i, ncols = 1;

    for (hlen = 0; hlen < n && s[hlen] != '\n'; hlen++)
        ncols += s[hlen] == ',';
    for (i = hlen + 1; i < n; i++)
        rows += s[i] == '\n' || (i + 1 == n);
    i = hlen + 1;
    for (size_t r = 1; i < n; r++) {
        size_t eol = i, col = 0, f = i, hf = 0;
        while (eol < n && s[eol] != '\n')
            eol++;
        for (size_t c = i; c <= eol; c++) {
            if (c < eol && s[c] != ',')
                continue;
            /* field f..c, header field number col */
            size_t he = hf;
            while (he < hlen && header[he] != ',')
                he++;
            roar_buf_clear(&key);
            if (rows > 1 && !(ncols == 2))
                CHECK(roar_buf_printf(&key, "row%zu.", r));
            if (ncols == 2 && rows > 1) {
                if (col == 1) /* the first field ended at the comma before f */
                    emit(out, &pairs, s + i, f - 1 - i, s + f, c - f);
            } else {
                CHECK(roar_buf_put(&key, header + hf, he - hf));
                emit(out, &pairs, key.ptr, key.size, s + f, c - f);
            }
            col++;
            f = c + 1;
            hf = he < hlen ? he + 1 : hlen;
        }
        i = eol + 1;
    }
    roar_buf_dispose(&key);
}

void roar_review_flatten(roar_buf *out, const char *path, const char *text, size_t len)
{
    const char *dot = strrchr(path, '.');
    roar_buf_clear(out);
    if (!text || !len)
        return;
    if (dot && !strcmp(dot, ".json"))
        flatten_json(out, text, len);
    else if (dot && (!strcmp(dot, ".yaml") || !strcmp(dot, ".yml")))
        flatten_yaml(out, text, len);
    else if (dot && !strcmp(dot, ".csv"))
        flatten_csv(out, text, len);
}
