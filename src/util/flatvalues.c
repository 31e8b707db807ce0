/* Metric and parameter files flattened to `key -> value` pairs (flatvalues.h): JSON, YAML
 * block mappings and CSV. Iterative and bounded (nesting past MAX_DEPTH is cut), and
 * linear: reading stops at the first pair over the limits, and no loop does work per
 * pair that the pair's own bytes do not pay for. The files come from others' commits. */
#include "util/flatvalues.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

#define MAX_DEPTH 64

/* Where pairs go. The first allocation failure sticks in `error`: every later write is
 * skipped and the parsers stop at their next check, so no call site needs its own. */
typedef struct {
    roar_buf *out;
    size_t pairs;
    int error;
    bool full; /* a limit was reached: nothing more is read */
} flat_out;

/* Whether the parsers should stop: out of memory, or at a limit. */
static bool done(const flat_out *f)
{
    return f->error || f->full;
}

/* Records a roar_buf result; false once anything has failed. */
static bool ok(flat_out *f, int rc)
{
    if (rc < 0 && !f->error)
        f->error = rc;
    return !f->error;
}

/* One byte of a key or a value: tabs, line ends and NULs shown as spaces, so that the
 * output splits into lines and pairs, and reads as a C string, whatever the file held. */
static bool put_field_byte(flat_out *f, char c)
{
    return ok(f, roar_buf_putc(f->out, c == '\t' || c == '\n' || c == '\r' || !c ? ' ' : c));
}

/* "key\tvalue\n", unless the key is empty. The first pair over a limit is dropped and
 * ends the reading: a long key repeated for every element of an array (or every row of
 * a CSV) would otherwise make the output, and the work, quadratic in the input. */
static void emit(flat_out *f, const char *key, size_t klen, const char *value, size_t vlen)
{
    if (done(f))
        return;
    if (++f->pairs > ROAR_FLATVALUES_MAX_PAIRS) {
        f->full = true;
        return;
    }
    if (!klen)
        return;
    if (klen + vlen + 2 > ROAR_FLATVALUES_MAX_BYTES - f->out->size) {
        f->full = true;
        return;
    }
    for (size_t i = 0; i < klen; i++)
        if (!put_field_byte(f, key[i]))
            return;
    if (!ok(f, roar_buf_putc(f->out, '\t')))
        return;
    for (size_t i = 0; i < vlen; i++)
        if (!put_field_byte(f, value[i]))
            return;
    ok(f, roar_buf_putc(f->out, '\n'));
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
static size_t json_string(flat_out *f, roar_buf *val, const char *s, size_t n, size_t i)
{
    roar_buf_clear(val);
    for (i++; i < n && s[i] != '"'; i++) {
        if (s[i] == '\\' && i + 1 < n) {
            char c = s[++i];
            ok(f, roar_buf_putc(val, c == 'n' || c == 't' || c == 'r' ? ' ' : c));
            continue;
        }
        ok(f, roar_buf_putc(val, s[i]));
    }
    return i < n ? i + 1 : n;
}

static void flatten_json(flat_out *f, const char *s, size_t n)
{
    struct {
        bool array;
        size_t index, plen;
    } st[MAX_DEPTH];
    int depth = -1;
    roar_buf path = ROAR_BUF_INIT, val = ROAR_BUF_INIT;
    size_t i = skip_ws(s, n, 0);
    bool good = i < n && (s[i] == '{' || s[i] == '[');

    while (good && !done(f) && i < n) {
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
                ok(f, roar_buf_printf(&path, "%s%zu", path.size ? "." : "", st[depth].index++));
            } else {
                if (s[i] != '"') {
                    good = false;
                    break;
                }
                i = json_string(f, &val, s, n, i);
                i = skip_ws(s, n, i);
                if (i >= n || s[i] != ':') {
                    good = false;
                    break;
                }
                i = skip_ws(s, n, i + 1);
                if (path.size)
                    ok(f, roar_buf_putc(&path, '.'));
                ok(f, roar_buf_put(&path, val.ptr, val.size));
            }
        }
        if (i >= n || done(f))
            break;
        if (s[i] == '{' || s[i] == '[') {
            if (depth + 1 >= MAX_DEPTH) {
                good = false;
                break;
            }
            depth++;
            st[depth].array = s[i] == '[';
            st[depth].index = 0;
            st[depth].plen = path.size;
            i++;
        } else if (s[i] == '"') {
            i = json_string(f, &val, s, n, i);
            emit(f, path.ptr, path.size, val.ptr, val.size);
        } else {
            size_t start = i;
            while (i < n && s[i] != ',' && s[i] != '}' && s[i] != ']' && !isspace((unsigned char)s[i]))
                i++;
            if (i == start) {
                good = false;
                break;
            }
            emit(f, path.ptr, path.size, s + start, i - start);
        }
    }
    roar_buf_dispose(&path);
    roar_buf_dispose(&val);
}

/* ---- YAML block mappings ------------------------------------------------------------ */

/* `key: value` lines, nesting by indentation; comments, lists and flow styles are not
 * read (a list item is skipped). Enough for params.yaml and metrics.yaml as tools write
 * them. */
static void flatten_yaml(flat_out *f, const char *s, size_t n)
{
    size_t indent[MAX_DEPTH], plen[MAX_DEPTH], i = 0;
    int depth = 0;
    roar_buf path = ROAR_BUF_INIT;

    indent[0] = 0;
    plen[0] = 0;
    while (i < n && !done(f)) {
        size_t eol = i, ind = 0, k, colon = 0;
        while (eol < n && s[eol] != '\n')
            eol++;
        while (i + ind < eol && s[i + ind] == ' ')
            ind++;
        k = i + ind;
        /* Comments, list items and `---` markers are skipped by their first byte: the
         * text need not end with a NUL, so nothing here may look past `eol`. */
        if (k < eol && s[k] != '#' && s[k] != '-') {
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
                ok(f, roar_buf_putc(&path, '.'));
            ok(f, roar_buf_put(&path, s + k, colon - k));
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
                emit(f, path.ptr, path.size, s + v, vend - v);
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
 * and more rows, each row `first -> second`; otherwise `row<N>.column`. Quoted fields
 * are taken without their quotes (no embedded commas). */
static void flatten_csv(flat_out *f, const char *s, size_t n)
{
    roar_buf key = ROAR_BUF_INIT;
    const char *header = s;
    size_t hlen, rows = 0, i, ncols = 1;
    bool two_columns;

    for (hlen = 0; hlen < n && s[hlen] != '\n'; hlen++)
        ncols += s[hlen] == ',';
    for (i = hlen + 1; i < n; i++)
        rows += s[i] == '\n' || (i + 1 == n);
    two_columns = ncols == 2 && rows > 1;
    i = hlen + 1;
    for (size_t r = 1; i < n && !done(f); r++) {
        size_t eol = i, col = 0, fs = i, hf = 0;
        while (eol < n && s[eol] != '\n')
            eol++;
        for (size_t c = i; c <= eol && !done(f); c++) {
            size_t he;
            if (c < eol && s[c] != ',')
                continue;
            /* field fs..c */
            if (two_columns) {
                /* The header is not read here: walking it for every row would cost its
                 * length per row, which no output pays for. */
                if (col == 1) /* the first field ended at the comma before fs */
                    emit(f, s + i, fs - 1 - i, s + fs, c - fs);
            } else {
                /* Header field number col, hf..he: the walk costs what the key copies. */
                for (he = hf; he < hlen && header[he] != ','; he++)
                    ;
                roar_buf_clear(&key);
                if (rows > 1)
                    ok(f, roar_buf_printf(&key, "row%zu.", r));
                ok(f, roar_buf_put(&key, header + hf, he - hf));
                emit(f, key.ptr, key.size, s + fs, c - fs);
                hf = he < hlen ? he + 1 : hlen;
            }
            col++;
            fs = c + 1;
        }
        i = eol + 1;
    }
    roar_buf_dispose(&key);
}

int roar_flatten_values(roar_buf *out, const char *path, const char *text, size_t len)
{
    const char *dot = strrchr(path, '.');
    flat_out f = {out, 0, 0, false};

    roar_buf_clear(out);
    if (!text || !len)
        return 0;
    if (dot && !strcmp(dot, ".json"))
        flatten_json(&f, text, len);
    else if (dot && (!strcmp(dot, ".yaml") || !strcmp(dot, ".yml")))
        flatten_yaml(&f, text, len);
    else if (dot && !strcmp(dot, ".csv"))
        flatten_csv(&f, text, len);
    if (f.error)
        return roar_error_set(f.error, "out of memory");
    return 0;
}
