/* Step lines (SPEC §4.9): parse, check, format, and build from each output's inputs.
 * Values come from other people's notes: every list is bounded by its line. */
#include "graph/steps.h"
#include "util/err.h"
#include "util/keymap.h"

#include <stdlib.h>
#include <string.h>

void roar_steps_dispose(roar_steps *s)
{
    size_t i;
    if (!s)
        return;
    for (i = 0; i < s->count; i++) {
        free(s->v[i].outs);
        free(s->v[i].ins);
    }
    free(s->v);
    free(s->index);
    free(s->index_step);
    memset(s, 0, sizeof(*s));
}

static bool spans_equal(const roar_span *a, size_t na, const roar_span *b, size_t nb)
{
    return na == nb && (na == 0 || !memcmp(a, b, na * sizeof(*a)));
}

bool roar_steps_equal(const roar_steps *a, const roar_steps *b)
{
    size_t i;
    if (a->count != b->count)
        return false;
    for (i = 0; i < a->count; i++)
        if (!spans_equal(a->v[i].outs, a->v[i].nouts, b->v[i].outs, b->v[i].nouts) ||
            !spans_equal(a->v[i].ins, a->v[i].nins, b->v[i].ins, b->v[i].nins))
            return false;
    return true;
}

/* A position: 1-based decimal, no sign, no leading zero, at most 2^32 - 1. */
static bool parse_pos(uint32_t *out, const char *s, size_t len)
{
    uint64_t v = 0;
    size_t i;
    if (len == 0 || len > 10 || s[0] == '0')
        return false;
    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > UINT32_MAX)
        return false;
    *out = (uint32_t)(v - 1);
    return true;
}

static int span_push(roar_span **v, size_t *n, size_t *alloc, uint32_t lo, uint32_t hi)
{
    if (ROAR_ALLOC_GROW(*v, *n + 1, *alloc) < 0)
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    (*v)[*n].lo = lo;
    (*v)[*n].hi = hi;
    (*n)++;
    return 0;
}

/* "3,5-9,12" (or "-" when allowed) into ascending, disjoint, non-touching spans. */
static int parse_list(roar_span **out, size_t *out_n, const char *s, size_t len, bool may_be_empty,
                      const char *what)
{
    roar_span *v = NULL;
    size_t n = 0, alloc = 0, at = 0;
    int error;

    *out = NULL;
    *out_n = 0;
    if (len == 1 && s[0] == '-') {
        if (!may_be_empty)
            return roar_error_set(ROAR_EINVALID, "step without %s", what);
        return 0;
    }
    while (at <= len) {
        const char *item = s + at, *comma = memchr(item, ',', len - at), *dash;
        size_t ilen = comma ? (size_t)(comma - item) : len - at;
        uint32_t lo, hi;
        dash = memchr(item, '-', ilen);
        if (dash ? !parse_pos(&lo, item, (size_t)(dash - item)) ||
                       !parse_pos(&hi, dash + 1, ilen - (size_t)(dash - item) - 1) || lo >= hi
                 : !parse_pos(&lo, item, ilen)) {
            free(v);
            return roar_error_set(ROAR_EINVALID, "malformed %s list in step", what);
        }
        if (!dash)
            hi = lo;
        if (n && lo <= v[n - 1].hi + 1) {
            free(v);
            return roar_error_set(ROAR_EINVALID,
                                  "%s positions in step not ascending, or not merged", what);
        }
        if ((error = span_push(&v, &n, &alloc, lo, hi)) < 0) {
            free(v);
            return error;
        }
        at += ilen + 1;
        if (!comma)
            break;
    }
    *out = v;
    *out_n = n;
    return 0;
}

int roar_steps_parse_value(roar_steps *s, const char *v, size_t len)
{
    const char *sp = memchr(v, ' ', len);
    roar_step st = {0};
    int error;

    if (!sp)
        return roar_error_set(ROAR_EINVALID, "step without inputs");
    if ((error = parse_list(&st.outs, &st.nouts, v, (size_t)(sp - v), false, "outputs")) < 0)
        return error;
    if ((error = parse_list(&st.ins, &st.nins, sp + 1, len - (size_t)(sp - v) - 1, true,
                            "inputs")) < 0) {
        free(st.outs);
        return error;
    }
    if (ROAR_ALLOC_GROW(s->v, s->count + 1, s->alloc) < 0) {
        free(st.outs);
        free(st.ins);
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    }
    s->v[s->count++] = st;
    return 0;
}

static int format_list(roar_buf *b, const roar_span *v, size_t n)
{
    size_t i;
    int error = 0;
    if (n == 0)
        return roar_buf_puts(b, "-");
    for (i = 0; i < n && error >= 0; i++) {
        if (v[i].lo == v[i].hi)
            error = roar_buf_printf(b, "%s%lu", i ? "," : "", (unsigned long)v[i].lo + 1);
        else
            error = roar_buf_printf(b, "%s%lu-%lu", i ? "," : "", (unsigned long)v[i].lo + 1,
                                    (unsigned long)v[i].hi + 1);
    }
    return error < 0 ? error : 0;
}

int roar_steps_format_value(roar_buf *b, const roar_step *step)
{
    int error;
    if ((error = format_list(b, step->outs, step->nouts)) < 0 ||
        (error = roar_buf_puts(b, " ")) < 0)
        return error;
    return format_list(b, step->ins, step->nins);
}

static int cmp_span(const void *a, const void *b)
{
    const roar_span *x = a, *y = b;
    return (x->lo > y->lo) - (x->lo < y->lo);
}

int roar_steps_check(const roar_steps *s, size_t nin, size_t nout)
{
    roar_span *all = NULL;
    size_t n = 0, alloc = 0, i, j;
    int error = 0;

    for (i = 0; i < s->count && !error; i++) {
        const roar_step *st = &s->v[i];
        if (st->nouts && st->outs[st->nouts - 1].hi >= nout)
            error = roar_error_set(ROAR_EINVALID, "step %zu names output %lu of %zu", i + 1,
                                   (unsigned long)st->outs[st->nouts - 1].hi + 1, nout);
        else if (st->nins && st->ins[st->nins - 1].hi >= nin)
            error = roar_error_set(ROAR_EINVALID, "step %zu names input %lu of %zu", i + 1,
                                   (unsigned long)st->ins[st->nins - 1].hi + 1, nin);
        else if (i && st->outs[0].lo <= s->v[i - 1].outs[0].lo)
            error = roar_error_set(ROAR_EINVALID, "step %zu is out of order", i + 1);
        for (j = 0; j < st->nouts && !error; j++)
            if (ROAR_ALLOC_GROW(all, n + 1, alloc) < 0)
                error = roar_error_set(ROAR_ENOMEM, "out of memory");
            else
                all[n++] = st->outs[j];
    }
    if (!error && n > 1) {
        qsort(all, n, sizeof(*all), cmp_span);
        for (i = 1; i < n && !error; i++)
            if (all[i].lo <= all[i - 1].hi)
                error = roar_error_set(ROAR_EINVALID, "output %lu is in two steps",
                                       (unsigned long)all[i].lo + 1);
    }
    free(all);
    return error;
}

static bool spans_have(const roar_span *v, size_t n, size_t pos)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (pos < v[mid].lo)
            hi = mid;
        else if (pos > v[mid].hi)
            lo = mid + 1;
        else
            return true;
    }
    return false;
}

typedef struct {
    roar_span span;
    uint32_t step;
} indexed_span;

static int cmp_indexed(const void *a, const void *b)
{
    const indexed_span *x = a, *y = b;
    return (x->span.lo > y->span.lo) - (x->span.lo < y->span.lo);
}

int roar_steps_index(roar_steps *s)
{
    indexed_span *all = NULL;
    size_t n = 0, i, j;

    free(s->index);
    free(s->index_step);
    s->index = NULL;
    s->index_step = NULL;
    s->nindex = 0;
    for (i = 0; i < s->count; i++)
        n += s->v[i].nouts;
    if (!n || s->count > UINT32_MAX)
        return 0;
    if (!(all = malloc(n * sizeof(*all))) || !(s->index = malloc(n * sizeof(*s->index))) ||
        !(s->index_step = malloc(n * sizeof(*s->index_step)))) {
        free(all);
        free(s->index);
        s->index = NULL;
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    }
    for (i = 0, n = 0; i < s->count; i++)
        for (j = 0; j < s->v[i].nouts; j++)
            all[n++] = (indexed_span){s->v[i].outs[j], (uint32_t)i};
    qsort(all, n, sizeof(*all), cmp_indexed);
    for (i = 0; i < n; i++) {
        if (i && all[i].span.lo <= all[i - 1].span.hi) {
            unsigned long twice = (unsigned long)all[i].span.lo + 1;
            free(all);
            free(s->index);
            free(s->index_step);
            s->index = NULL;
            s->index_step = NULL;
            return roar_error_set(ROAR_EINVALID, "output %lu is in two steps", twice);
        }
        s->index[i] = all[i].span;
        s->index_step[i] = all[i].step;
    }
    s->nindex = n;
    free(all);
    return 0;
}

const roar_step *roar_steps_find(const roar_steps *s, size_t out_pos)
{
    size_t i, lo = 0, hi = s->nindex;
    if (!s->nindex) {
        for (i = 0; i < s->count; i++)
            if (spans_have(s->v[i].outs, s->v[i].nouts, out_pos))
                return &s->v[i];
        return NULL;
    }
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (out_pos < s->index[mid].lo)
            hi = mid;
        else if (out_pos > s->index[mid].hi)
            lo = mid + 1;
        else
            return &s->v[s->index_step[mid]];
    }
    return NULL;
}

bool roar_step_has_input(const roar_step *step, size_t in_pos)
{
    return spans_have(step->ins, step->nins, in_pos);
}

/* Appends pos to ascending spans, merging with the last one when it follows it. */
static int spans_add(roar_span **v, size_t *n, size_t *alloc, size_t pos)
{
    if (*n && (*v)[*n - 1].hi + 1 == pos) {
        (*v)[*n - 1].hi = (uint32_t)pos;
        return 0;
    }
    return span_push(v, n, alloc, (uint32_t)pos, (uint32_t)pos);
}

int roar_steps_from_deps(roar_steps *s, size_t nin, size_t nout, const size_t *const *deps,
                         const size_t *dep_count, const bool *all)
{
    roar_keymap by_inputs = ROAR_KEYMAP_INIT;
    size_t *out_alloc = NULL, out_alloc_cap = 0, i, j;
    int error = 0;

    memset(s, 0, sizeof(*s));
    if (nin > UINT32_MAX || nout > UINT32_MAX)
        return 0; /* positions would not fit: no steps, every input */
    for (i = 0; i < nout && !error; i++) {
        /* keyed by the input list's bytes; no inputs is a 1-byte key no list has */
        const void *key = dep_count[i] ? (const void *)deps[i] : "-";
        size_t key_len = dep_count[i] ? dep_count[i] * sizeof(size_t) : 1;
        uintptr_t at;
        roar_step *st;
        if (all[i] || dep_count[i] >= nin)
            continue;
        at = (uintptr_t)roar_keymap_get(&by_inputs, key, key_len);
        if (!at) {
            roar_step fresh = {0};
            size_t n = 0, alloc = 0;
            for (j = 0; j < dep_count[i] && !error; j++)
                error = spans_add(&fresh.ins, &n, &alloc, deps[i][j]);
            fresh.nins = n;
            if (!error && (ROAR_ALLOC_GROW(s->v, s->count + 1, s->alloc) < 0 ||
                           ROAR_ALLOC_GROW(out_alloc, s->count + 1, out_alloc_cap) < 0))
                error = roar_error_set(ROAR_ENOMEM, "out of memory");
            if (error) {
                free(fresh.ins);
                break;
            }
            s->v[s->count] = fresh;
            out_alloc[s->count] = 0;
            at = ++s->count;
            if ((error = roar_keymap_put(&by_inputs, key, key_len, (void *)at)) < 0)
                break;
        }
        st = &s->v[at - 1];
        error = spans_add(&st->outs, &st->nouts, &out_alloc[at - 1], i);
    }
    roar_keymap_dispose(&by_inputs);
    free(out_alloc);
    if (!error)
        error = roar_steps_index(s);
    if (error)
        roar_steps_dispose(s);
    return error;
}

int roar_steps_to_text(roar_buf *b, const roar_steps *s)
{
    size_t i;
    int error;
    for (i = 0; i < s->count; i++)
        if ((i && (error = roar_buf_puts(b, "\n")) < 0) ||
            (error = roar_steps_format_value(b, &s->v[i])) < 0)
            return error;
    return 0;
}

int roar_steps_from_text(roar_steps *s, const char *text, size_t len)
{
    size_t at = 0;
    int error;
    memset(s, 0, sizeof(*s));
    while (at < len) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t l = nl ? (size_t)(nl - (text + at)) : len - at;
        if ((error = roar_steps_parse_value(s, text + at, l)) < 0) {
            roar_steps_dispose(s);
            return error;
        }
        at += l + 1;
    }
    return 0;
}
