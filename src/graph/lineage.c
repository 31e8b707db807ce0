/* Lineage walks (lineage.h): breadth-first over the cache, one node per job and per
 * (path, blob id), producers chosen by exact content, depth-limited, cycle-safe. */
#include "graph/lineage.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "graph/cache_lineage.h"
#include "util/keymap.h"
#include "util/buf.h"
#include "util/err.h"

/* What the walk knows of a node besides what it shows: for an artifact, the job that
 * reached it (the reader upstream, the writer downstream), which decides its producer
 * upstream and is left out of its readers downstream. */
typedef struct {
    size_t via; /* node index of that job, or SIZE_MAX (the root) */
    /* A job node of a job with steps (SPEC §4.9) stands for part of it: upstream, the
     * step behind the output that led there (its index); downstream, what derives from
     * the input that led there (its position). -1: the whole job. */
    long part;
} node_aux;

typedef struct {
    roar_cache *cache;
    roar_lineage_graph *g;
    const roar_lineage_opts *opts;
    node_aux *aux;
    size_t aux_alloc;
    roar_keymap jobs;      /* job id -> node index + 1 */
    roar_keymap artifacts; /* artifact key -> node index + 1 */
    roar_cache_edge_list edges;
    roar_job summary; /* scratch for loading a job node */
    roar_buf key;
    bool any_steps;              /* some stored job has steps */
    roar_cache_edge_list pedges; /* part_of's, beside `edges` which its callers walk */
    roar_steps steps;            /* the steps of job steps_of ("" none yet) */
    char steps_of[ROAR_OID_HEXSZ + 1];
} walk;

static void node_dispose(roar_lineage_node *n)
{
    size_t i;
    free(n->path);
    for (i = 0; i < n->job.argc; i++)
        free(n->job.argv[i]);
    free(n->job.argv);
    free(n->job.cwd);
}

void roar_lineage_graph_dispose(roar_lineage_graph *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->count; i++)
        node_dispose(&g->nodes[i]);
    free(g->nodes);
    free(g->edges);
    *g = (roar_lineage_graph)ROAR_LINEAGE_GRAPH_INIT;
}

static int oom(void)
{
    return roar_error_set(ROAR_ENOMEM, "out of memory");
}

/* Appends a zeroed node; *out = its index. */
static int new_node(size_t *out, walk *w, roar_lineage_kind kind, unsigned depth, size_t via)
{
    roar_lineage_graph *g = w->g;
    if (ROAR_ALLOC_GROW(g->nodes, g->count + 1, g->alloc) < 0 ||
        ROAR_ALLOC_GROW(w->aux, g->count + 1, w->aux_alloc) < 0)
        return oom();
    memset(&g->nodes[g->count], 0, sizeof(g->nodes[0]));
    g->nodes[g->count].kind = kind;
    g->nodes[g->count].depth = depth;
    w->aux[g->count].via = via;
    w->aux[g->count].part = -1;
    *out = g->count++;
    return 0;
}

static int add_edge(walk *w, size_t from, size_t to, roar_role role)
{
    roar_lineage_graph *g = w->g;
    if (ROAR_ALLOC_GROW(g->edges, g->edge_count + 1, g->edge_alloc) < 0)
        return oom();
    g->edges[g->edge_count].from = from;
    g->edges[g->edge_count].to = to;
    g->edges[g->edge_count].role = role;
    g->edge_count++;
    return 0;
}

/* The node of a job, loading its summary the first time: the edges are read when the
 * node is expanded, once, and not kept. */
static int job_node(size_t *out, walk *w, const char *id, unsigned depth, long part)
{
    void *found;
    roar_lineage_node *n;
    int error;

    /* One node per job, or per part of a job with steps ("<id>#<part>"). */
    roar_buf_clear(&w->key);
    if (roar_buf_puts(&w->key, id) < 0 ||
        (part >= 0 && roar_buf_printf(&w->key, "#%ld", part) < 0))
        return oom();
    if ((found = roar_keymap_get(&w->jobs, w->key.ptr, w->key.size)) != NULL) {
        *out = (size_t)(uintptr_t)found - 1;
        return 0;
    }
    if ((error = new_node(out, w, ROAR_LINEAGE_JOB, depth, SIZE_MAX)) < 0)
        return error;
    w->aux[*out].part = part;
    if (roar_keymap_put(&w->jobs, w->key.ptr, w->key.size, (void *)(uintptr_t)(*out + 1)) < 0)
        return oom();
    if ((error = roar_cache_job_get_summary(&w->summary, w->cache, id)) < 0)
        return error;
    n = &w->g->nodes[*out];
    n->id_known = true;
    memcpy(n->id, w->summary.id, sizeof(n->id));
    /* The strings move to the node; the rest of the summary goes. */
    n->job = (roar_lineage_job){w->summary.argv,   w->summary.argc,     w->summary.cwd,
                                w->summary.end_ms, w->summary.end_kind, w->summary.end_code};
    w->summary.argv = NULL;
    w->summary.argc = 0;
    w->summary.cwd = NULL;
    roar_job_dispose(&w->summary);
    return 0;
}

/* w->steps = the steps of job_id, kept from the last ask when it was this job's (the
 * walk asks for a producer's part, then expands it). Steps that cannot be read count as
 * none: every input, wider and never wrong. */
static int job_steps(walk *w, const char *job_id)
{
    int error;
    if (!strcmp(w->steps_of, job_id))
        return 0;
    roar_steps_dispose(&w->steps);
    w->steps_of[0] = '\0';
    if ((error = roar_cache_job_steps(&w->steps, w->cache, job_id)) == ROAR_ENOMEM)
        return error;
    roar_error_clear();
    memcpy(w->steps_of, job_id, ROAR_OID_HEXSZ + 1);
    return 0;
}

/* Which part of job `job_id` a walk reaches through its edge (role, path): upstream
 * through an output, the index of that output's step; downstream through an input, the
 * input's position. -1 for the whole job: no steps, or the output in none. Steps that
 * cannot be read count as none (every input: wider, never wrong). */
static int part_of(long *out, walk *w, const char *job_id, roar_role role, const char *path)
{
    const roar_step *step;
    size_t k, pos = 0;
    int error;

    *out = -1;
    if (!w->any_steps)
        return 0;
    if ((error = job_steps(w, job_id)) < 0)
        return error;
    if (!w->steps.count)
        return 0;
    if ((error = roar_cache_job_edges(&w->pedges, w->cache, job_id)) < 0)
        return error;
    for (k = 0; k < w->pedges.count; k++) {
        const roar_cache_edge *e = &w->pedges.items[k];
        if (e->role != role)
            continue;
        if (!strcmp(e->path, path))
            break;
        pos++;
    }
    if (k == w->pedges.count)
        return 0;
    if (role == ROAR_ROLE_IN) {
        *out = (long)pos;
        return 0;
    }
    if ((step = roar_steps_find(&w->steps, pos)) != NULL)
        *out = (long)(step - w->steps.v);
    return 0;
}

/* Whether the part of a job with these steps keeps the edge at position pos of its
 * role: upstream an input of the step; downstream an output in no step or in one that
 * lists the input. */
static bool part_keeps(const roar_steps *steps, long part, roar_role role, size_t pos)
{
    const roar_step *step;
    if (part < 0 || (size_t)part >= (role == ROAR_ROLE_IN ? steps->count : SIZE_MAX))
        return true;
    if (role == ROAR_ROLE_IN)
        return roar_step_has_input(&steps->v[part], pos);
    step = roar_steps_find(steps, pos);
    return !step || roar_step_has_input(step, (size_t)part);
}

/* The node of (path, id). Inputs recorded `-` are distinct nodes each time: nothing
 * says two unknown contents are the same. */
static int artifact_node(size_t *out, walk *w, const char *path, const char *id_or_null,
                         uint64_t size, unsigned depth, size_t via)
{
    roar_lineage_node *n;
    int error;

    if (id_or_null) {
        void *found;
        roar_buf_clear(&w->key);
        /* "p<path>\0<id>" or "n\0<id>": a path may hold any byte but NUL. */
        if (roar_buf_putc(&w->key, path ? 'p' : 'n') < 0 ||
            (path && roar_buf_puts(&w->key, path) < 0) || roar_buf_putc(&w->key, '\0') < 0 ||
            roar_buf_puts(&w->key, id_or_null) < 0)
            return oom();
        if ((found = roar_keymap_get(&w->artifacts, w->key.ptr, w->key.size)) != NULL) {
            *out = (size_t)(uintptr_t)found - 1;
            return 0;
        }
    }
    if ((error = new_node(out, w, ROAR_LINEAGE_ARTIFACT, depth, via)) < 0)
        return error;
    n = &w->g->nodes[*out];
    if (path && !(n->path = strdup(path)))
        return oom();
    if (id_or_null) {
        n->id_known = true;
        memcpy(n->id, id_or_null, ROAR_OID_HEXSZ + 1);
        if (roar_keymap_put(&w->artifacts, w->key.ptr, w->key.size, (void *)(uintptr_t)(*out + 1)) <
            0)
            return oom();
    }
    n->size = size;
    return 0;
}

static bool succeeded(roar_end_kind kind, int code)
{
    return kind == ROAR_END_EXIT && code == 0;
}

/* Whether the depth limit lets the walk take one more job after `depth`. */
static bool may_follow(const walk *w, unsigned depth)
{
    return !w->opts->depth || depth < w->opts->depth;
}

/* Whether the walk may take this job (opts->scope; a failure to decide is a no: the
 * cache error behind it has failed the walk's own queries already). */
static bool in_scope(walk *w, const char *job_id)
{
    bool in = true;
    if (w->opts->scope && roar_scope_has(&in, w->opts->scope, job_id) < 0) {
        roar_error_clear();
        in = false;
    }
    return in;
}

/* Upstream from an artifact: its producer, chosen as lineage.h says. */
static int expand_producer(walk *w, size_t i)
{
    const roar_lineage_node *n = &w->g->nodes[i];
    const roar_lineage_node *reader =
        w->aux[i].via == SIZE_MAX ? NULL : &w->g->nodes[w->aux[i].via];
    const roar_cache_edge *best = NULL;
    int best_score = -1, error;
    size_t k, p;
    unsigned depth = n->depth;

    if (!n->id_known)
        return 0;
    if ((error = roar_cache_blob_edges(&w->edges, w->cache, n->id, ROAR_ROLE_OUT)) < 0)
        return error;
    for (k = 0; k < w->edges.count; k++) {
        const roar_cache_edge *e = &w->edges.items[k];
        int score;
        if (!succeeded(e->end_kind, e->end_code) || (reader && !strcmp(e->job_id, reader->id)) ||
            !in_scope(w, e->job_id))
            continue;
        score = (n->path && !strcmp(e->path, n->path)) * 2 +
                (!reader || e->end_ms <= reader->job.end_ms);
        if (score > best_score) { /* newest first: the first of each score wins */
            best = e;
            best_score = score;
        }
    }
    if (!best)
        return 0;
    if (!may_follow(w, depth)) {
        w->g->nodes[i].truncated = true;
        return 0;
    }
    {
        long part;
        char job_id[ROAR_OID_HEXSZ + 1], *path = strdup(best->path);
        memcpy(job_id, best->job_id, sizeof(job_id));
        if (!path)
            return oom();
        error = part_of(&part, w, job_id, ROAR_ROLE_OUT, path);
        free(path);
        if (error < 0 || (error = job_node(&p, w, job_id, depth + 1, part)) < 0)
            return error;
    }
    return add_edge(w, p, i, ROAR_ROLE_OUT);
}

/* Downstream from an artifact: every job that read this exact content. */
static int expand_consumers(walk *w, size_t i)
{
    const roar_lineage_node *n = &w->g->nodes[i];
    size_t via = w->aux[i].via, k, c;
    unsigned depth = n->depth;
    char writer[ROAR_OID_HEXSZ + 1] = "";
    int error;

    if (!n->id_known)
        return 0;
    if (via != SIZE_MAX)
        memcpy(writer, w->g->nodes[via].id, sizeof(writer));
    if ((error = roar_cache_blob_edges(&w->edges, w->cache, n->id, ROAR_ROLE_IN)) < 0)
        return error;
    for (k = 0; k < w->edges.count; k++) {
        const roar_cache_edge *e = &w->edges.items[k];
        /* The writer reading what it wrote (an in-place edit that changed nothing) is
         * no step further; a job reading one content under two names counts once. */
        if (!strcmp(e->job_id, writer) ||
            (k && !strcmp(e->job_id, w->edges.items[k - 1].job_id)) || !in_scope(w, e->job_id))
            continue;
        if (!may_follow(w, depth)) {
            w->g->nodes[i].truncated = true;
            return 0;
        }
        {
            long part;
            if ((error = part_of(&part, w, e->job_id, ROAR_ROLE_IN, e->path)) < 0 ||
                (error = job_node(&c, w, e->job_id, depth + 1, part)) < 0 ||
                (error = add_edge(w, i, c, ROAR_ROLE_IN)) < 0)
                return error;
        }
    }
    return 0;
}

/* From a job: its inputs (upstream) or, when it succeeded, its outputs (downstream). */
static int expand_job(walk *w, size_t i)
{
    roar_role want = w->opts->down ? ROAR_ROLE_OUT : ROAR_ROLE_IN;
    size_t k, a, pos;
    int error;

    if (w->opts->down &&
        !succeeded(w->g->nodes[i].job.end_kind, w->g->nodes[i].job.end_code))
        return 0;
    if ((error = roar_cache_job_edges(&w->edges, w->cache, w->g->nodes[i].id)) < 0)
        return error;
    if (w->aux[i].part >= 0 && (error = job_steps(w, w->g->nodes[i].id)) < 0)
        return error;
    for (k = 0, pos = 0; k < w->edges.count; k++) {
        const roar_cache_edge *e = &w->edges.items[k];
        if (e->role != want)
            continue;
        if (!part_keeps(&w->steps, w->aux[i].part, want, pos++))
            continue;
        /* By index each time: adding nodes may move the array. */
        if ((error = artifact_node(&a, w, e->path, e->id_known ? e->id : NULL, e->size,
                                   w->g->nodes[i].depth, i)) < 0 ||
            (error = w->opts->down ? add_edge(w, i, a, ROAR_ROLE_OUT)
                                   : add_edge(w, a, i, ROAR_ROLE_IN)) < 0)
            return error;
    }
    return 0;
}

static int walk_all(walk *w)
{
    int error = 0;
    /* The node array is the breadth-first queue: every node is expanded once. */
    for (size_t i = 0; i < w->g->count && !error; i++) {
        if (w->g->nodes[i].kind == ROAR_LINEAGE_JOB)
            error = expand_job(w, i);
        else
            error = w->opts->down ? expand_consumers(w, i) : expand_producer(w, i);
    }
    return error;
}

static void walk_init(walk *w, roar_lineage_graph *out, roar_cache *cache,
                      const roar_lineage_opts *opts)
{
    memset(w, 0, sizeof(*w));
    roar_lineage_graph_dispose(out);
    out->down = opts->down;
    w->cache = cache;
    w->g = out;
    w->opts = opts;
    w->jobs = (roar_keymap)ROAR_KEYMAP_INIT;
    w->artifacts = (roar_keymap)ROAR_KEYMAP_INIT;
    w->edges = (roar_cache_edge_list)ROAR_CACHE_EDGE_LIST_INIT;
    w->pedges = (roar_cache_edge_list)ROAR_CACHE_EDGE_LIST_INIT;
    roar_job_init(&w->summary);
    roar_buf_init(&w->key);
    if (roar_cache_has_steps(&w->any_steps, cache) < 0) {
        roar_error_clear();
        w->any_steps = false; /* the walks' own queries will fail the same way */
    }
}

static int walk_end(walk *w, int error)
{
    free(w->aux);
    roar_keymap_dispose(&w->jobs);
    roar_keymap_dispose(&w->artifacts);
    roar_cache_edge_list_dispose(&w->edges);
    roar_cache_edge_list_dispose(&w->pedges);
    roar_steps_dispose(&w->steps);
    roar_job_dispose(&w->summary);
    roar_buf_dispose(&w->key);
    if (error < 0)
        roar_lineage_graph_dispose(w->g);
    return error;
}

int roar_lineage_from_job(roar_lineage_graph *out, roar_cache *cache, const char *job_id,
                          const roar_lineage_opts *opts)
{
    walk w;
    size_t root;
    int error;

    walk_init(&w, out, cache, opts);
    if ((error = job_node(&root, &w, job_id, 1, -1)) < 0)
        return walk_end(&w, error);
    return walk_end(&w, walk_all(&w));
}

int roar_lineage_from_blobs(roar_lineage_graph *out, roar_cache *cache,
                            const roar_lineage_root *roots, size_t count,
                            const roar_lineage_opts *opts)
{
    walk w;
    size_t root;
    int error = 0;

    walk_init(&w, out, cache, opts);
    for (size_t i = 0; i < count && !error; i++)
        error = artifact_node(&root, &w, roots[i].path, roots[i].id, roots[i].size, 0, SIZE_MAX);
    if (error < 0)
        return walk_end(&w, error);
    out->roots = count ? count : 1;
    return walk_end(&w, walk_all(&w));
}

int roar_lineage_from_blob(roar_lineage_graph *out, roar_cache *cache, const char *path,
                           const char *blob_id, uint64_t size, const roar_lineage_opts *opts)
{
    walk w;
    size_t root;
    int error;

    walk_init(&w, out, cache, opts);
    if ((error = artifact_node(&root, &w, path, blob_id, size, 0, SIZE_MAX)) < 0)
        return walk_end(&w, error);
    return walk_end(&w, walk_all(&w));
}
