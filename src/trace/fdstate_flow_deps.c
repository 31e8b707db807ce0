/* What each output depends on (SPEC §4.9), read off fdstate_flow.c's graph once the
 * events are in: the inputs whose content node reaches the output's node. Processes
 * still alive at the end have not let go of what they write: their current points
 * reach those files too. */
#include "trace/fdstate_internal.h"
#include "util/keymap.h"
#include "util/buf.h"
#include "util/err.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Bound on the work of the walks, in edges followed over all outputs: past it the
 * remaining outputs depend on every input (a huge job costs its steps, not minutes). */
#define DEPS_MAX_VISITS ((uint64_t)64 << 20)

typedef struct {
    uint32_t nodes;
    size_t *first; /* nodes + 2 offsets into from */
    uint32_t *from; /* predecessors, grouped by node */
} preds;

static int edges_with_live(fs_flow_edge **out, size_t *out_n, const roar_fdstate *st)
{
    const fs_flow *fl = &st->flow;
    fs_flow_edge *e = NULL;
    size_t n = fl->edge_count, alloc = 0, i, j;

    if (ROAR_ALLOC_GROW(e, n + 1, alloc) < 0)
        return ROAR_ENOMEM;
    if (n)
        memcpy(e, fl->edges, n * sizeof(*e));
    for (i = 0; i < st->procs.cap; i++) {
        const fs_proc *p = st->procs.slots[i].value;
        if (!st->procs.slots[i].key || !p->point)
            continue;
        for (j = 0; j < p->tab->fds.cap; j++) {
            const roar_keymap_slot *s = &p->tab->fds.slots[j];
            const fs_ofd *o;
            uint32_t to;
            if (!s->key)
                continue;
            o = ((const fs_fdent *)s->value)->ofd;
            to = !o->wr ? 0 : o->file ? o->file->flow_node : o->chan;
            if (!to)
                continue;
            if (ROAR_ALLOC_GROW(e, n + 1, alloc) < 0)
                goto nomem;
            e[n].from = p->point;
            e[n++].to = to;
        }
        for (j = 0; j < p->mapped_count; j++) {
            if (ROAR_ALLOC_GROW(e, n + 1, alloc) < 0)
                goto nomem;
            e[n].from = p->point;
            e[n++].to = p->mapped_out[j];
        }
    }
    *out = e;
    *out_n = n;
    return 0;
nomem:
    free(e);
    return ROAR_ENOMEM;
}

static int preds_build(preds *g, const fs_flow_edge *e, size_t n, uint32_t nodes)
{
    size_t i;
    size_t *fill;
    g->nodes = nodes;
    g->first = calloc((size_t)nodes + 2, sizeof(*g->first));
    g->from = malloc((n ? n : 1) * sizeof(*g->from));
    fill = calloc((size_t)nodes + 2, sizeof(*fill));
    if (!g->first || !g->from || !fill) {
        free(fill);
        return ROAR_ENOMEM;
    }
    for (i = 0; i < n; i++)
        g->first[e[i].to + 1]++;
    for (i = 1; i <= (size_t)nodes + 1; i++)
        g->first[i] += g->first[i - 1];
    for (i = 0; i < n; i++)
        g->from[g->first[e[i].to] + fill[e[i].to]++] = e[i].from;
    free(fill);
    return 0;
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

/* The inputs reaching `start` (and the output's own input entry `self`, SIZE_MAX for
 * none) into out->deps. `mark` holds, per node, the number of the walk that saw it. */
static int deps_of(roar_fdstate_entry *out, const preds *g, uint32_t start, size_t self,
                   const size_t *node_input, uint32_t *mark, uint32_t walk, uint32_t *stack,
                   uint64_t *budget)
{
    size_t top = 0, n = 0, alloc = 0, i;
    size_t *deps = NULL;

    if (self != SIZE_MAX) {
        if (ROAR_ALLOC_GROW(deps, n + 1, alloc) < 0)
            return ROAR_ENOMEM;
        deps[n++] = self;
    }
    if (start) {
        mark[start] = walk;
        stack[top++] = start;
    }
    while (top) {
        uint32_t v = stack[--top];
        if (node_input[v] && node_input[v] - 1 != self) {
            if (ROAR_ALLOC_GROW(deps, n + 1, alloc) < 0) {
                free(deps);
                return ROAR_ENOMEM;
            }
            deps[n++] = node_input[v] - 1;
        }
        for (i = g->first[v]; i < g->first[v + 1]; i++) {
            uint32_t u = g->from[i];
            if (*budget == 0) {
                free(deps);
                out->deps_all = true;
                return 0;
            }
            (*budget)--;
            if (mark[u] != walk) {
                mark[u] = walk;
                stack[top++] = u;
            }
        }
    }
    if (n > 1)
        qsort(deps, n, sizeof(*deps), cmp_size);
    out->deps = deps;
    out->dep_count = n;
    return 0;
}

int fdstate_flow_deps(roar_fdstate_result *res, const roar_fdstate *st)
{
    const fs_flow *fl = &st->flow;
    fs_flow_edge *edges = NULL;
    size_t nedges = 0, i;
    preds g = {0};
    size_t *node_input = NULL;
    uint32_t *mark = NULL, *stack = NULL;
    uint64_t budget = DEPS_MAX_VISITS;
    roar_keymap file_input = {0};
    int error = 0;

    res->steps_known = false;
    if (fl->off || st->events_lost || st->inc_count)
        return 0;
    if ((error = edges_with_live(&edges, &nedges, st)) < 0 ||
        (error = preds_build(&g, edges, nedges, fl->nodes)) < 0)
        goto done;
    node_input = calloc((size_t)fl->nodes + 1, sizeof(*node_input));
    mark = calloc((size_t)fl->nodes + 1, sizeof(*mark));
    stack = malloc(((size_t)fl->nodes + 1) * sizeof(*stack));
    if (!node_input || !mark || !stack) {
        error = ROAR_ENOMEM;
        goto done;
    }
    for (i = 0; i < res->input_count; i++) {
        roar_fsfile *f = res->inputs[i].file;
        if (f && f->flow_node)
            node_input[f->flow_node] = i + 1;
        if (f && (error = roar_keymap_put(&file_input, &f, sizeof(f), (void *)(i + 1))) < 0)
            goto done;
    }
    for (i = 0; i < res->output_count; i++) {
        roar_fdstate_entry *o = &res->outputs[i];
        uintptr_t self = o->file ? (uintptr_t)roar_keymap_get(&file_input, &o->file,
                                                              sizeof(o->file))
                                 : 0;
        if ((error = deps_of(o, &g, o->file ? o->file->flow_node : 0,
                             self ? (size_t)self - 1 : SIZE_MAX, node_input, mark,
                             (uint32_t)i + 1, stack, &budget)) < 0)
            goto done;
    }
    res->steps_known = true;
done:
    if (error < 0) {
        /* no steps rather than no job: every output depends on every input */
        roar_error_clear();
        for (i = 0; i < res->output_count; i++) {
            free(res->outputs[i].deps);
            res->outputs[i].deps = NULL;
            res->outputs[i].dep_count = 0;
        }
        error = 0;
    }
    roar_keymap_dispose(&file_input);
    free(edges);
    free(g.first);
    free(g.from);
    free(node_input);
    free(mark);
    free(stack);
    return error;
}
