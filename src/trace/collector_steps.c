/* Each recorded output's inputs (SPEC §4.9): fdstate names them as its own entries;
 * the record names them by position among the recorded lines, after filters, names
 * mapped to their recorded form, and entries that share one name. An input that is
 * not recorded (filtered out, a system library) is no dependency a reader could see. */
#include "trace/collector_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/err.h"

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

static int deps_add(roar_collector_deps *d, size_t *alloc, size_t pos)
{
    if (ROAR_ALLOC_GROW(d->ins, d->count + 1, *alloc) < 0)
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    d->ins[d->count++] = pos;
    return 0;
}

int roar_collector__deps(roar_collector_deps **out, const roar_fdstate_result *fr,
                         const size_t *in_pos, const size_t *out_pos, size_t nout)
{
    roar_collector_deps *deps = calloc(nout + 1, sizeof(*deps));
    size_t *alloc = calloc(nout + 1, sizeof(*alloc));
    size_t i, j, w;
    int error = 0;

    *out = NULL;
    if (!deps || !alloc) {
        error = roar_error_set(ROAR_ENOMEM, "out of memory");
        goto done;
    }
    for (i = 0; i < fr->output_count && !error; i++) {
        const roar_fdstate_entry *o = &fr->outputs[i];
        roar_collector_deps *d;
        if (out_pos[i] == SIZE_MAX)
            continue;
        d = &deps[out_pos[i]];
        if (o->deps_all) {
            d->all = true;
            continue;
        }
        for (j = 0; j < o->dep_count && !error; j++)
            if (in_pos[o->deps[j]] != SIZE_MAX)
                error = deps_add(d, &alloc[out_pos[i]], in_pos[o->deps[j]]);
    }
    for (i = 0; i < nout && !error; i++) {
        roar_collector_deps *d = &deps[i];
        if (d->count < 2)
            continue;
        qsort(d->ins, d->count, sizeof(*d->ins), cmp_size);
        for (j = 1, w = 1; j < d->count; j++)
            if (d->ins[j] != d->ins[w - 1])
                d->ins[w++] = d->ins[j];
        d->count = w;
    }
done:
    free(alloc);
    if (error) {
        for (i = 0; deps && i < nout; i++)
            free(deps[i].ins);
        free(deps);
        return error;
    }
    *out = deps;
    return 0;
}
