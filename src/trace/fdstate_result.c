/* fdstate's result: the job's inputs, outputs, deletions, end-of-job checks and gaps,
 * assembled from the per-file summaries once the events are in (roar_fdstate_result_get). */
#include "trace/fdstate_internal.h"
#include "util/keymap.h"
#include "util/buf.h"
#include "util/err.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    roar_fdstate_entry *v;
    size_t n, alloc;
} entry_list;

static int entry_add(entry_list *l, const char *path, roar_fsfile *f, const roar_ident *id,
                     bool with_id)
{
    roar_fdstate_entry *e;
    if (ROAR_ALLOC_GROW(l->v, l->n + 1, l->alloc) < 0)
        return ROAR_ENOMEM;
    e = &l->v[l->n++];
    memset(e, 0, sizeof(*e));
    e->path = path;
    e->file = f;
    if (id)
        e->ident = *id;
    if (with_id && f && f->preimage_known) {
        e->id_known = true;
        memcpy(e->id, f->preimage, sizeof(e->id));
        e->id_size = f->preimage_size;
    } else if (with_id && f && f->prefix_known && !f->nonappend) {
        e->id_known = true;
        memcpy(e->id, f->prefix, sizeof(e->id));
        e->id_size = f->prefix_size;
    }
    return 0;
}

static int entry_cmp(const void *a, const void *b)
{
    const roar_fdstate_entry *x = a, *y = b;
    size_t lx = strlen(x->path), ly = strlen(y->path);
    int c = memcmp(x->path, y->path, lx < ly ? lx : ly);
    return c ? c : (lx > ly) - (lx < ly);
}

/* Sorts by path and keeps one entry per path (two files recorded under one name can
 * only arise from renames over each other; either entry names the same path). */
static void entry_finish(entry_list *l)
{
    size_t i, w = 0;
    if (l->n == 0)
        return; /* qsort's array may not be NULL, even for no elements */
    qsort(l->v, l->n, sizeof(*l->v), entry_cmp);
    for (i = 0; i < l->n; i++)
        if (w == 0 || strcmp(l->v[w - 1].path, l->v[i].path) != 0)
            l->v[w++] = l->v[i];
    l->n = w;
}

int roar_fdstate_result_get(roar_fdstate_result *out, const roar_fdstate *st)
{
    entry_list in = {0}, outs = {0}, del = {0}, chk = {0};
    size_t i, j;
    int error = 0;

    memset(out, 0, sizeof(*out));
    for (i = 0; i < st->file_count; i++) {
        roar_fsfile *f = st->files[i];
        if (f->input && f->input_name &&
            (error = entry_add(&in, f->input_name, f, &f->input_ident, true)) < 0)
            goto fail;
        for (j = 0; j < f->name_count; j++) {
            /* A changed file under its recorded name; every name the job made by
             * rename/link is an output too, changed or not (§4.5). */
            if (!((j == 0 && f->changed) || f->names[j].target))
                continue;
            if ((error = entry_add(&outs, f->names[j].path, f, NULL, false)) < 0)
                goto fail;
        }
        if (f->write_pending && !f->changed && f->name_count) {
            if ((error = entry_add(&chk, f->names[0].path, f, &f->pending_ident, true)) < 0)
                goto fail;
            chk.v[chk.n - 1].unseen_writes = f->shared_map_of_writable;
        }
    }
    for (i = 0; i < st->prepaths.cap; i++) {
        const roar_keymap_slot *s = &st->prepaths.slots[i];
        if (!s->key || roar_keymap_get(&st->by_path, s->key, s->klen))
            continue;
        /* The map's key copy is NUL-terminated and lives as long as the state. */
        if ((error = entry_add(&del, s->key, NULL, NULL, false)) < 0)
            goto fail;
    }
    entry_finish(&in);
    entry_finish(&outs);
    entry_finish(&del);
    entry_finish(&chk);
    out->inputs = in.v;
    out->input_count = in.n;
    out->outputs = outs.v;
    out->output_count = outs.n;
    out->deletions = del.v;
    out->deletion_count = del.n;
    out->checks = chk.v;
    out->check_count = chk.n;

    if (st->events_lost || st->inc_count) {
        out->incomplete = calloc(st->inc_count + 1, sizeof(*out->incomplete));
        if (!out->incomplete) {
            roar_fdstate_result_dispose(out);
            return roar_error_set(ROAR_ENOMEM, "out of memory");
        }
        if (st->events_lost) {
            out->incomplete[0].reason = roar_event_incomplete_name(ROAR_INC_EVENTS_LOST);
            out->incomplete[0].count = st->events_lost;
            out->incomplete_count = 1;
        }
        for (i = 0; i < st->inc_count; i++) {
            roar_fdstate_incomplete *x = &out->incomplete[out->incomplete_count++];
            x->reason = roar_event_incomplete_name(st->inc[i].reason);
            x->path = st->inc[i].path;
        }
    }
    if ((error = fdstate_flow_deps(out, st)) < 0) {
        roar_fdstate_result_dispose(out);
        return error;
    }
    return 0;

fail:
    free(in.v);
    free(outs.v);
    free(del.v);
    free(chk.v);
    return error;
}

void roar_fdstate_result_dispose(roar_fdstate_result *res)
{
    size_t i;
    if (!res)
        return;
    for (i = 0; i < res->output_count; i++)
        free(res->outputs[i].deps);
    free(res->inputs);
    free(res->outputs);
    free(res->deletions);
    free(res->checks);
    free(res->incomplete);
    memset(res, 0, sizeof(*res));
}
