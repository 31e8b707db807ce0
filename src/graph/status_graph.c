/* The producer graph of status (status_internal.h): jobs by id, their edges as atoms
 * shared by every job that names the same (role, id, path), paths interned once, and
 * the producers' edges read in one pass over the table when they are many. */
#include "graph/status_internal.h"

#include <stdlib.h>
#include <string.h>

#include "util/err.h"

static void job_free(sjob *j)
{
    size_t i;
    for (i = 0; j->views && i < j->steps.count; i++)
        if (j->views[i])
            job_free(j->views[i]); /* views have no views: one level */
    free(j->views);
    roar_steps_dispose(&j->steps);
    free(j->edges);
    free(j->written);
    roar_keymap_dispose(&j->written_set);
    free(j->host);
    free(j);
}

void roar_status__graph_free(roar_status_graph *g)
{
    size_t i;
    if (!g)
        return;
    for (i = 0; i < g->jobs.cap; i++)
        if (g->jobs.slots[i].key)
            job_free(g->jobs.slots[i].value);
    for (i = 0; i < g->current.cap; i++)
        if (g->current.slots[i].key)
            free(g->current.slots[i].value);
    for (i = 0; i < g->atoms.cap; i++)
        if (g->atoms.slots[i].key)
            free(g->atoms.slots[i].value);
    roar_keymap_dispose(&g->atoms);
    for (i = 0; i < g->paths.cap; i++)
        if (g->paths.slots[i].key)
            free(g->paths.slots[i].value);
    roar_keymap_dispose(&g->paths);
    free(g->out_jobs);
    roar_buf_dispose(&g->atom_key);
    roar_cache_edge_list_dispose(&g->jtmp);
    roar_keymap_dispose(&g->jobs);
    roar_keymap_dispose(&g->current);
    roar_keymap_dispose(&g->producer);
    roar_scope_output_list_dispose(&g->outs);
    roar_cache_edge_list_dispose(&g->tmp);
    roar_buf_dispose(&g->abs);
    free(g->state_stack);
    free(g->plan_stack);
    free(g->worktree);
    free(g->host);
    free(g);
}

int roar_status__get_job(sjob **out, roar_status_graph *g, const char *id)
{
    sjob *j = roar_keymap_gets(&g->jobs, id);
    if (!j) {
        if (!(j = calloc(1, sizeof(*j))))
            return roar_status__oom();
        memcpy(j->id, id, ROAR_OID_HEXSZ + 1);
        j->state = STATE_UNSEEN;
        if (roar_keymap_puts(&g->jobs, id, j) < 0) {
            free(j);
            return roar_status__oom();
        }
    }
    *out = j;
    return 0;
}

/* Appends the edge (role, path, id or NULL) to j's, through the graph's atom. */
static int add_edge(roar_status_graph *g, sjob *j, roar_role role, const char *path,
                    size_t path_len, const char *id)
{
    roar_buf *key = &g->atom_key;
    edge_atom *a;

    roar_buf_clear(key);
    if (roar_buf_putc(key, (char)('0' + role)) < 0 ||
        roar_buf_put(key, id ? id : "-", id ? ROAR_OID_HEXSZ : 1) < 0 ||
        roar_buf_put(key, path, path_len) < 0)
        return roar_status__oom();
    if (!(a = roar_keymap_get(&g->atoms, key->ptr, key->size))) {
        char *interned = roar_keymap_get(&g->paths, path, path_len);
        if (!interned) {
            if (!(interned = malloc(path_len + 1)))
                return roar_status__oom();
            memcpy(interned, path, path_len);
            interned[path_len] = '\0';
            if (roar_keymap_put(&g->paths, path, path_len, interned) < 0) {
                free(interned);
                return roar_status__oom();
            }
        }
        if (!(a = calloc(1, sizeof(*a))))
            return roar_status__oom();
        a->id_known = id != NULL;
        if (id)
            memcpy(a->id, id, ROAR_OID_HEXSZ + 1);
        a->role = (unsigned char)role;
        a->producer = PRODUCER_UNASKED;
        a->path = interned;
        if (roar_keymap_put(&g->atoms, key->ptr, key->size, a) < 0) {
            free(a);
            return roar_status__oom();
        }
    }
    if (ROAR_ALLOC_GROW(j->edges, j->nedges + 1, j->edges_alloc) < 0)
        return roar_status__oom();
    j->edges[j->nedges++] = a;
    return 0;
}

int roar_status__load_edges(roar_status_graph *g, sjob *j)
{
    int error;
    size_t i;

    if (j->loaded)
        return 0;
    if ((error = roar_cache_job_edges(&g->jtmp, g->cache, j->id)) < 0)
        return error;
    for (i = 0; i < g->jtmp.count; i++) {
        const roar_cache_edge *e = &g->jtmp.items[i];
        if ((error = add_edge(g, j, e->role, e->path, strlen(e->path),
                              e->id_known ? e->id : NULL)) < 0)
            return error;
    }
    if (g->jtmp.count)
        j->end_ms = g->jtmp.items[0].end_ms;
    j->loaded = true;
    return 0;
}

/* ---- the producers' edges in one pass ---------------------------------------------- */

/* Status of a whole history asks for nearly every job's edges: one statement per job
 * cost 100k lookups at 100k jobs. When the producers are at least 1/BULK_SHARE of the
 * stored jobs (and BULK_MIN_JOBS or more), their edges are read in one pass over the
 * table instead; a narrow status (few producers) keeps the lookups. */
#define BULK_MIN_JOBS 512
#define BULK_SHARE 8
#define BULK_MAX_PK ((int64_t)1 << 30) /* row keys past this: per-job lookups */

typedef struct {
    roar_status_graph *g;
    sjob **by_pk; /* job row key -> the graph's job whose edges are wanted, or NULL */
    size_t by_pk_len;
    size_t jobs, wanted;
} bulk_load;

static int bulk_job(int64_t pk, const char *id, int64_t end_ms, void *payload)
{
    bulk_load *b = payload;
    sjob *j;

    b->jobs++;
    if (!(j = roar_keymap_gets(&b->g->jobs, id)) || j->loaded)
        return 0;
    if (pk < 0 || pk > BULK_MAX_PK)
        return 1; /* not this way */
    if ((size_t)pk >= b->by_pk_len) {
        size_t n = b->by_pk_len ? b->by_pk_len : 1024;
        sjob **grown;
        while (n <= (size_t)pk)
            n *= 2;
        if (!(grown = realloc(b->by_pk, n * sizeof(*grown))))
            return roar_status__oom();
        memset(grown + b->by_pk_len, 0, (n - b->by_pk_len) * sizeof(*grown));
        b->by_pk = grown;
        b->by_pk_len = n;
    }
    b->by_pk[pk] = j;
    j->end_ms = end_ms;
    b->wanted++;
    return 0;
}

static int bulk_edge(const roar_cache_edge_row *row, void *payload)
{
    bulk_load *b = payload;
    sjob *j;

    if (row->job_pk < 0 || (size_t)row->job_pk >= b->by_pk_len || !(j = b->by_pk[row->job_pk]))
        return 0;
    return add_edge(b->g, j, row->role, row->path, row->path_len, row->blob);
}

int roar_status__load_producer_edges(roar_status_graph *g)
{
    bulk_load b = {g, NULL, 0, 0, 0};
    int error = 0;
    size_t i;

    for (i = 0; i < g->outs.count && !error; i++)
        error = roar_status__get_job(&g->out_jobs[i], g, g->outs.items[i].job_id);
    if (error < 0 || g->jobs.count < BULK_MIN_JOBS)
        return error;
    error = roar_cache_scan_jobs(g->cache, bulk_job, &b);
    if (error == 0 && b.wanted >= BULK_MIN_JOBS && b.wanted * BULK_SHARE >= b.jobs) {
        if ((error = roar_cache_scan_edges(g->cache, bulk_edge, &b)) == 0)
            for (i = 0; i < b.by_pk_len; i++)
                if (b.by_pk[i])
                    b.by_pk[i]->loaded = true;
    }
    free(b.by_pk);
    return error > 0 ? 0 : error;
}

/* Past this many paths a job wrote, job_changed looks them up in a map. */
#define WRITTEN_SCAN_MAX 16

/* Whether the job itself wrote or deleted `path` (interned: an atom's path). Most jobs
 * write a few files, compared by pointer; one that wrote many gets a map, since a scan
 * per input was quadratic in a job's edges (250k inputs took minutes). */
int roar_status__job_changed(bool *out, sjob *j, const char *path)
{
    size_t i;

    if (!j->written_loaded) {
        for (i = 0; i < j->nedges; i++) {
            if (j->edges[i]->role == ROAR_ROLE_IN)
                continue;
            if (!(j->nwritten & (j->nwritten + 1))) { /* 0, 1, 3, 7...: double */
                const char **grown = realloc(j->written, (j->nwritten * 2 + 1) * sizeof(*grown));
                if (!grown)
                    return roar_status__oom();
                j->written = grown;
            }
            j->written[j->nwritten++] = j->edges[i]->path;
            if (j->nwritten > WRITTEN_SCAN_MAX &&
                roar_keymap_put(&j->written_set, &j->edges[i]->path, sizeof(const char *),
                                (void *)1) < 0)
                return roar_status__oom();
        }
        /* The first ones went in before the count said a map was needed. */
        for (i = 0; j->nwritten > WRITTEN_SCAN_MAX && i <= WRITTEN_SCAN_MAX; i++)
            if (roar_keymap_put(&j->written_set, &j->written[i], sizeof(const char *),
                                (void *)1) < 0)
                return roar_status__oom();
        j->written_loaded = true;
    }
    if (j->nwritten > WRITTEN_SCAN_MAX) {
        *out = roar_keymap_get(&j->written_set, &path, sizeof(path)) != NULL;
        return 0;
    }
    for (i = 0; i < j->nwritten; i++)
        if (j->written[i] == path) {
            *out = true;
            return 0;
        }
    *out = false;
    return 0;
}

int roar_status__oom(void)
{
    return roar_error_set(ROAR_ENOMEM, "out of memory");
}

/* ---- steps: each output judged by its own inputs (SPEC §4.9) ------------------------ */

/* j's steps, once. Steps that cannot be read count as none: every output then depends
 * on every input, wider and never wrong. */
static int load_steps(roar_status_graph *g, sjob *j)
{
    int error;
    if (j->steps_loaded)
        return 0;
    j->steps_loaded = true;
    if ((error = roar_cache_job_steps(&j->steps, g->cache, j->id)) == ROAR_ENOMEM)
        return error;
    if (error < 0)
        roar_error_clear();
    return 0;
}

/* The view of j's step `k`: j's edges but the inputs the step does not name. */
static int make_view(sjob **out, sjob *j, size_t k)
{
    const roar_step *step = &j->steps.v[k];
    sjob *v = calloc(1, sizeof(*v));
    size_t i, in_pos = 0;

    if (!v || !(v->edges = malloc((j->nedges + 1) * sizeof(*v->edges)))) {
        free(v);
        return roar_status__oom();
    }
    memcpy(v->id, j->id, sizeof(v->id));
    v->end_ms = j->end_ms;
    v->loaded = true;
    v->state = STATE_UNSEEN;
    v->base = j;
    v->steps_loaded = true;
    for (i = 0; i < j->nedges; i++) {
        edge_atom *e = j->edges[i];
        if (e->role == ROAR_ROLE_IN && !roar_step_has_input(step, in_pos++))
            continue;
        v->edges[v->nedges++] = e;
    }
    v->edges_alloc = j->nedges + 1;
    *out = v;
    return 0;
}

int roar_status__view_for(sjob **out, roar_status_graph *g, sjob *j, const char *path)
{
    const roar_step *step;
    size_t i, pos = 0, k;
    bool found = false;
    int error;

    *out = j;
    if (!g->any_steps || j->base || !path)
        return 0;
    if ((error = roar_status__load_edges(g, j)) < 0 || (error = load_steps(g, j)) < 0)
        return error;
    if (!j->steps.count)
        return 0;
    for (i = 0; i < j->nedges && !found; i++) {
        if (j->edges[i]->role != ROAR_ROLE_OUT)
            continue;
        if (j->edges[i]->path == path)
            found = true;
        else
            pos++;
    }
    if (!found || !(step = roar_steps_find(&j->steps, pos)))
        return 0;
    k = (size_t)(step - j->steps.v);
    if (!j->views && !(j->views = calloc(j->steps.count, sizeof(*j->views))))
        return roar_status__oom();
    if (!j->views[k] && (error = make_view(&j->views[k], j, k)) < 0)
        return error;
    *out = j->views[k];
    return 0;
}
