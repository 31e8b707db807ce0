/* Output states and rerun plans (status.h): producers from the cache's output edges,
 * job states memoised over the producer graph (built by status_graph.c), files read
 * through the stat cache. The walks keep their own stacks: a chain of a million jobs
 * is a note's to make (SPEC §8). */
#include "graph/status_internal.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "graph/cache_lineage.h"
#include "graph/hash.h"
#include "util/keymap.h"
#include "util/buf.h"
#include "util/err.h"

const char *roar_status_state_name(roar_status_state state)
{
    switch (state) {
    case ROAR_STATUS_OK:
        return "ok";
    case ROAR_STATUS_UNKNOWN:
        return "unknown";
    case ROAR_STATUS_STALE:
        return "stale";
    case ROAR_STATUS_MODIFIED:
        return "modified";
    case ROAR_STATUS_MISSING:
        return "missing";
    }
    return "?";
}

static int current(const current_info **out, roar_status_graph *g, const char *path)
{
    current_info *ci = roar_keymap_gets(&g->current, path);
    int error = 0, tries;

    if (ci) {
        *out = ci;
        return 0;
    }
    if (!(ci = calloc(1, sizeof(*ci))))
        return roar_status__oom();
    roar_buf_clear(&g->abs);
    if (path[0] != '/' && roar_buf_printf(&g->abs, "%s/", g->worktree) < 0)
        error = roar_status__oom();
    if (!error && roar_buf_puts(&g->abs, path) < 0)
        error = roar_status__oom();
    if (!error && path[0] == '/') {
        /* Outside the work tree (SPEC §8): a note must not make status hash, or stall
         * on, what this clone's own jobs did not record. A file the stat cache has a row
         * for was hashed here before (by a run or a status) and may be read again; any
         * other is unknown, never read. */
        struct stat st;
        if (stat(g->abs.ptr, &st) < 0) {
            ci->unknown = errno != ENOENT && errno != ENOTDIR;
        } else if (!S_ISREG(st.st_mode)) {
            /* not a regular file: missing */
        } else {
            roar_stat_key key;
            bool known = false;
            roar_stat_key_from_stat(&key, &st);
            if (roar_hash_cache_lookup(ci->id, g->cache, &key) == 0)
                ci->exists = true;
            else if (roar_cache_hash_known(&known, g->cache, key.dev, key.ino) == 0 && known &&
                     roar_hash_file(ci->id, NULL, g->cache, g->abs.ptr, NULL) == 0)
                ci->exists = true; /* a file this clone hashed before: read it again */
            else
                ci->unknown = true;
        }
        roar_error_clear();
        goto done;
    }
    /* A file being rewritten right now changes under the hash: look again. */
    for (tries = 0; !error && tries < 3; tries++) {
        error = roar_hash_file(ci->id, NULL, g->cache, g->abs.ptr, NULL);
        if (error != ROAR_ECHANGED)
            break;
    }
    if (error == 0) {
        ci->exists = true;
    } else if (error == ROAR_ENOTFOUND || error == ROAR_EINVALID) {
        /* Gone, or no longer a regular file (a directory in its place): missing. */
        roar_error_clear();
        error = 0;
    } else if (error != ROAR_ENOMEM) {
        /* ENAMETOOLONG, ELOOP, EACCES, a file that keeps changing: a path from a note
         * that cannot be read is not judged, and the rest of status goes on. */
        roar_error_clear();
        ci->unknown = true;
        error = 0;
    }
done:
    if (!error && roar_keymap_puts(&g->current, path, ci) < 0)
        error = roar_status__oom();
    if (error < 0) {
        free(ci);
        return error;
    }
    *out = ci;
    return 0;
}

static const roar_scope_output *producer_of(roar_status_graph *g, edge_atom *a)
{
    if (a->producer == PRODUCER_UNASKED)
        a->producer = (size_t)(uintptr_t)roar_keymap_gets(&g->producer, a->path);
    return a->producer ? &g->outs.items[a->producer - 1] : NULL;
}

/* The graph's job for the producer producer_of(g, a) returned, remembered per output. */
static int producer_job(sjob **out, roar_status_graph *g, const edge_atom *a)
{
    size_t i = a->producer - 1;
    int error;

    if (!g->out_jobs[i] && (error = roar_status__get_job(&g->out_jobs[i], g, g->outs.items[i].job_id)) < 0)
        return error;
    *out = g->out_jobs[i];
    return 0;
}

/* current() of an edge's path, remembered by the edge. */
static int current_of(const current_info **out, roar_status_graph *g, edge_atom *a)
{
    int error;
    if (!a->cur && (error = current(&a->cur, g, a->path)) < 0)
        return error;
    *out = a->cur;
    return 0;
}

/* The job that produced the content `j` read at `path` and then changed itself: an
 * in-scope, successful writer of exactly that id at that path, other than j, ended
 * no later than j; the newest. *out = NULL when none (a source edited in place). */
static int producer_before(sjob **out, roar_status_graph *g, const sjob *j, const char *path,
                           const char *id)
{
    int error;
    *out = NULL;
    if ((error = roar_cache_blob_edges(&g->tmp, g->cache, id, ROAR_ROLE_OUT)) < 0)
        return error;
    for (size_t i = 0; i < g->tmp.count; i++) {
        const roar_cache_edge *e = &g->tmp.items[i];
        if (e->end_kind != ROAR_END_EXIT || e->end_code != 0 || strcmp(e->path, path) ||
            !strcmp(e->job_id, j->id) || e->end_ms > j->end_ms ||
            !g->in_scope(e->job_id, g->payload))
            continue;
        return roar_status__get_job(out, g, e->job_id);
    }
    return 0;
}

/* Whether j was recorded on another host: its record names one, and not this one. A
 * file outside the work tree it read is that host's, which this one cannot judge. */
static int job_foreign(bool *out, roar_status_graph *g, sjob *j)
{
    int error;
    if (!j->host_loaded) {
        if ((error = roar_cache_job_host(&j->host, g->cache, j->id)) < 0)
            return error;
        j->host_loaded = true;
    }
    *out = g->host && j->host && j->host[0] && strcmp(j->host, g->host) != 0;
    return 0;
}

/* j reads what r produced: r's unchecked inputs stand behind j's outputs too. */
static void inherit_unchecked(sjob *j, const sjob *r)
{
    if (!j->unchecked && r && r->unchecked) {
        j->unchecked = r->unchecked;
        j->unchecked_host = r->unchecked_host;
        j->unchecked_more = r->unchecked_more;
    }
}

static void worsen(sjob *j, int state, const char *because)
{
    if (state > j->state) {
        j->state = state;
        j->because = because;
    }
}

/* A job being judged: the input edge it is at, and what its inputs said so far. */
struct state_frame {
    sjob *j;
    size_t i; /* while a producer is judged: the edge that led to it */
    int state;
    const char *because;
};

/* Marks j as being judged and puts it on the walk's stack. */
static int state_push(roar_status_graph *g, size_t *n, sjob *j)
{
    int error;
    if ((error = roar_status__load_edges(g, j)) < 0)
        return error;
    if (ROAR_ALLOC_GROW(g->state_stack, *n + 1, g->state_alloc) < 0)
        return roar_status__oom();
    g->state_stack[*n] = (struct state_frame){j, 0, ROAR_STATUS_OK, NULL};
    (*n)++;
    j->state = STATE_BUSY;
    return 0;
}

/* OK, UNKNOWN or STALE, from the job's inputs (status.h). A cycle back to a job being
 * judged counts as ok: the cycle's other edges decide. Depth first, one frame per job
 * on an explicit stack: a producer's state is known before its reader goes on. */
static int job_state(int *out, roar_status_graph *g, sjob *root)
{
    size_t n = 0;
    int error, sub = ROAR_STATUS_OK;
    bool have_sub = false, foreign, changed;
    sjob *sub_job = NULL;

    if (root->state == STATE_BUSY) {
        *out = ROAR_STATUS_OK;
        return 0;
    }
    if (root->state != STATE_UNSEEN) {
        *out = root->state;
        return 0;
    }
    if ((error = state_push(g, &n, root)) < 0)
        return error;
    while (n) {
        struct state_frame *f = &g->state_stack[n - 1];
        sjob *j = f->j, *r = NULL;

        if (have_sub) { /* the producer behind edge i was judged */
            inherit_unchecked(j, sub_job);
            if (sub > f->state) {
                f->state = sub;
                f->because = j->edges[f->i]->path;
            }
            f->i++;
            have_sub = false;
        }
        for (; f->i < j->nedges && f->state != ROAR_STATUS_STALE; f->i++) {
            edge_atom *e = j->edges[f->i];
            const roar_scope_output *pe;
            const current_info *ci;

            if (e->role != ROAR_ROLE_IN)
                continue;
            if (e->path[0] == '/') {
                if ((error = job_foreign(&foreign, g, j)) < 0)
                    goto fail;
                if (foreign) { /* another host's file: not checked (SPEC §6.2) */
                    if (j->unchecked && j->unchecked_host == j->host) {
                        j->unchecked_more++;
                    } else { /* its own come before any upstream's */
                        j->unchecked = e->path;
                        j->unchecked_host = j->host;
                        j->unchecked_more = 0;
                    }
                    continue;
                }
            }
            if (!e->id_known) {
                if (f->state < ROAR_STATUS_UNKNOWN) {
                    f->state = ROAR_STATUS_UNKNOWN;
                    f->because = e->path;
                }
                continue;
            }
            r = NULL;
            if ((error = roar_status__job_changed(&changed, j, e->path)) < 0)
                goto fail;
            if (changed) {
                if ((error = producer_before(&r, g, j, e->path, e->id)) < 0 ||
                    (r && (error = roar_status__view_for(&r, g, r, e->path)) < 0))
                    goto fail;
            } else {
                if ((error = current_of(&ci, g, e)) < 0)
                    goto fail;
                if (ci->unknown) {
                    if (f->state < ROAR_STATUS_UNKNOWN) {
                        f->state = ROAR_STATUS_UNKNOWN;
                        f->because = e->path;
                    }
                    continue;
                }
                if (!ci->exists || strcmp(ci->id, e->id)) {
                    f->state = ROAR_STATUS_STALE;
                    f->because = e->path;
                    break;
                }
                /* The file holds what was read: whether that is current depends on the
                 * job that wrote it, when that job's output is exactly this content. */
                pe = producer_of(g, e);
                if (pe && strcmp(pe->job_id, j->id) && pe->id_known && !strcmp(pe->id, e->id) &&
                    ((error = producer_job(&r, g, e)) < 0 ||
                     (error = roar_status__view_for(&r, g, r, e->path)) < 0))
                    goto fail;
            }
            if (!r)
                continue;
            if (r->state == STATE_UNSEEN)
                break; /* judge r first, then come back to this edge */
            sub = r->state == STATE_BUSY ? ROAR_STATUS_OK : r->state;
            inherit_unchecked(j, r);
            if (sub > f->state) {
                f->state = sub;
                f->because = e->path;
            }
            r = NULL;
        }
        if (r) {
            if ((error = state_push(g, &n, r)) < 0)
                goto fail;
            continue;
        }
        j->state = STATE_UNSEEN;
        worsen(j, f->state, f->because);
        sub = j->state;
        sub_job = j;
        have_sub = true;
        n--;
    }
    *out = sub;
    return 0;
fail:
    while (n)
        g->state_stack[--n].j->state = STATE_UNSEEN;
    return error;
}

/* ---- plans ------------------------------------------------------------------- */


/* A job whose inputs' producers are being planned: the next input edge to look at. */
struct plan_frame {
    sjob *j;
    size_t i;
};

/* Whether j is to be planned now (*push): not already done or under way, and needing a
 * rerun or `forced`. Marks it under way; a job that needs nothing is marked skipped. */
static int plan_enter(bool *push, roar_status_graph *g, sjob *j, bool forced)
{
    int error;

    *push = false;
    if (j->plan == PLAN_BUSY || j->plan == PLAN_DONE || (j->plan == PLAN_SKIPPED && !forced))
        return 0;
    if (!forced && !j->needs_rerun) {
        j->plan = PLAN_SKIPPED;
        return 0;
    }
    if ((error = roar_status__load_edges(g, j)) < 0)
        return error;
    j->plan = PLAN_BUSY;
    *push = true;
    return 0;
}

/* Post-order over the producers of j's inputs: dependencies land in `out` first.
 * `forced`: j must run whatever its outputs say (it restores what a later job read
 * and then updated in place). Depth first on an explicit stack, one frame per job. */
static int plan_visit(roar_cache_id_list *out, roar_status_graph *g, sjob *root, bool forced)
{
    size_t n = 0;
    bool push;
    int error;

    if ((error = plan_enter(&push, g, root, forced)) < 0 || !push)
        return error;
    if (ROAR_ALLOC_GROW(g->plan_stack, 1, g->plan_alloc) < 0)
        return roar_status__oom();
    g->plan_stack[n++] = (struct plan_frame){root, 0};
    while (n) {
        struct plan_frame *f = &g->plan_stack[n - 1];
        sjob *j = f->j, *r = NULL;
        bool r_forced = false, changed;

        while (f->i < j->nedges && !r) {
            edge_atom *e = j->edges[f->i++];
            const roar_scope_output *pe;
            const current_info *ci;

            r_forced = false;
            if (e->role != ROAR_ROLE_IN)
                continue;
            if (e->id_known && (error = roar_status__job_changed(&changed, j, e->path)) < 0)
                return error;
            if (e->id_known && changed) {
                if ((error = current_of(&ci, g, e)) < 0)
                    return error;
                if (ci->exists && !strcmp(ci->id, e->id))
                    continue; /* what it read is there again */
                if ((error = producer_before(&r, g, j, e->path, e->id)) < 0)
                    return error;
                r_forced = true;
                continue;
            }
            if ((pe = producer_of(g, e)) != NULL && strcmp(pe->job_id, j->id) &&
                (error = producer_job(&r, g, e)) < 0)
                return error;
        }
        if (r) {
            if ((error = plan_enter(&push, g, r, r_forced)) < 0)
                return error;
            if (push) {
                if (ROAR_ALLOC_GROW(g->plan_stack, n + 1, g->plan_alloc) < 0)
                    return roar_status__oom();
                g->plan_stack[n++] = (struct plan_frame){r, 0};
            }
            continue;
        }
        j->plan = PLAN_DONE;
        n--;
        if ((error = roar_cache_id_list_add(out, j->id, false)) < 0)
            return error;
    }
    return 0;
}

static void plan_reset(roar_status_graph *g)
{
    for (size_t i = 0; i < g->jobs.cap; i++)
        if (g->jobs.slots[i].key)
            ((sjob *)g->jobs.slots[i].value)->plan = PLAN_NONE;
}

int roar_status_plan(roar_cache_id_list *out, roar_status *st, const char *job_id)
{
    roar_status_graph *g = st->graph;
    sjob *j;
    int error;

    out->count = 0;
    plan_reset(g);
    if ((error = roar_status__get_job(&j, g, job_id)) < 0 || (error = roar_status__load_edges(g, j)) < 0)
        return error;
    return plan_visit(out, g, j, false);
}

/* ---- status ------------------------------------------------------------------ */

void roar_status_dispose(roar_status *st)
{
    if (!st)
        return;
    for (size_t i = 0; i < st->count; i++)
        free(st->outputs[i].path);
    free(st->outputs);
    roar_cache_id_list_dispose(&st->rerun);
    roar_status__graph_free(st->graph);
    *st = (roar_status)ROAR_STATUS_INIT;
}

const roar_status_output *roar_status_find(const roar_status *st, const char *path)
{
    size_t lo = 0, hi = st->count;
    while (lo < hi) { /* outputs are sorted by path, as memcmp orders them */
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(st->outputs[mid].path, path);
        if (!c)
            return &st->outputs[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Producers (scope.h: the newest in-scope writer of each path, deletions retiring
 * paths), one output each. */
static int find_producers(roar_status *st, roar_status_graph *g)
{
    int error;
    size_t i;

    if ((error = roar_scope_outputs(&g->outs, g->scope, NULL)) < 0)
        return error;
    for (i = 0; i < g->outs.count; i++) {
        const roar_scope_output *e = &g->outs.items[i];
        roar_status_output *o;
        if (roar_keymap_puts(&g->producer, e->path, (void *)(uintptr_t)(i + 1)) < 0 ||
            ROAR_ALLOC_GROW(st->outputs, st->count + 1, st->alloc) < 0)
            return roar_status__oom();
        o = &st->outputs[st->count];
        memset(o, 0, sizeof(*o));
        if (!(o->path = strdup(e->path)))
            return roar_status__oom();
        st->count++;
        memcpy(o->job, e->job_id, sizeof(o->job));
        o->id_known = e->id_known;
        memcpy(o->id, e->id, sizeof(o->id));
    }
    return 0;
}

/* o's state; j is its producer. */
static int judge(roar_status_output *o, sjob *j, roar_status_graph *g)
{
    const current_info *ci;
    int error, state;

    if ((error = current(&ci, g, o->path)) < 0)
        return error;
    if (ci->unknown) {
        o->state = ROAR_STATUS_UNKNOWN; /* cannot be read: nothing shows it is current */
    } else if (!ci->exists) {
        o->state = ROAR_STATUS_MISSING;
    } else if (o->id_known && strcmp(ci->id, o->id)) {
        o->state = ROAR_STATUS_MODIFIED;
        o->current_known = true;
        memcpy(o->current, ci->id, sizeof(o->current));
    } else {
        /* the output's own step, when its job has steps (its edges intern the path) */
        if (g->any_steps &&
            ((error = roar_status__load_edges(g, j)) < 0 ||
             (error = roar_status__view_for(&j, g, j, roar_keymap_gets(&g->paths, o->path))) <
                 0))
            return error;
        if ((error = job_state(&state, g, j)) < 0)
            return error;
        o->state = (roar_status_state)state;
        o->because = j->because;
        o->unchecked = j->unchecked;
        o->unchecked_host = j->unchecked_host;
        o->unchecked_more = j->unchecked_more;
        if (!o->id_known && o->state < ROAR_STATUS_UNKNOWN)
            o->state = ROAR_STATUS_UNKNOWN;
    }
    if (ci->exists && !o->current_known) {
        o->current_known = true;
        memcpy(o->current, ci->id, sizeof(o->current));
    }
    if (o->state >= ROAR_STATUS_STALE)
        (j->base ? j->base : j)->needs_rerun = true; /* the whole command reruns */
    return 0;
}

static int by_end(const void *a, const void *b)
{
    const sjob *x = *(sjob *const *)a, *y = *(sjob *const *)b;
    if (x->end_ms != y->end_ms)
        return x->end_ms < y->end_ms ? -1 : 1;
    return strcmp(x->id, y->id);
}

/* Every job that needs to run, in the order they first ran, each after its inputs'
 * producers (a depth-first post-order is a topological order). */
static int rerun_list(roar_status *st, roar_status_graph *g)
{
    sjob **todo = NULL;
    size_t n = 0, i;
    int error = 0;

    if (!(todo = calloc(g->jobs.count + 1, sizeof(*todo))))
        return roar_status__oom();
    for (i = 0; i < g->jobs.cap; i++) {
        sjob *j = g->jobs.slots[i].key ? g->jobs.slots[i].value : NULL;
        if (j && j->needs_rerun && (error = roar_status__load_edges(g, j)) >= 0)
            todo[n++] = j;
        if (error < 0)
            goto done;
    }
    qsort(todo, n, sizeof(*todo), by_end);
    plan_reset(g);
    for (i = 0; i < n && !error; i++)
        error = plan_visit(&st->rerun, g, todo[i], false);
done:
    free(todo);
    return error;
}

/* The scope as the walks ask it: a failure to decide counts as out of scope (the
 * cache errors behind it would have failed the producers already). */
static bool scope_has(const char *job_id, void *payload)
{
    bool in = false;
    if (roar_scope_has(&in, payload, job_id) < 0) {
        roar_error_clear();
        return false;
    }
    return in;
}

int roar_status_compute(roar_status *out, roar_cache *cache, const char *worktree,
                        roar_scope *scope, const char *host)
{
    roar_status_graph *g;
    int error;
    size_t i;

    roar_status_dispose(out);
    if (!(g = calloc(1, sizeof(*g))) || !(g->worktree = strdup(worktree))) {
        free(g);
        return roar_status__oom();
    }
    out->graph = g;
    if (host && host[0] && !(g->host = strdup(host))) {
        roar_status_dispose(out);
        return roar_status__oom();
    }
    g->cache = cache;
    g->scope = scope;
    g->in_scope = scope_has;
    g->payload = scope;
    g->producer = (roar_keymap)ROAR_KEYMAP_INIT;
    g->jobs = (roar_keymap)ROAR_KEYMAP_INIT;
    g->current = (roar_keymap)ROAR_KEYMAP_INIT;
    g->atoms = (roar_keymap)ROAR_KEYMAP_INIT;
    g->paths = (roar_keymap)ROAR_KEYMAP_INIT;
    roar_buf_init(&g->atom_key);
    g->jtmp = (roar_cache_edge_list)ROAR_CACHE_EDGE_LIST_INIT;
    g->outs = (roar_scope_output_list)ROAR_SCOPE_OUTPUT_LIST_INIT;
    g->tmp = (roar_cache_edge_list)ROAR_CACHE_EDGE_LIST_INIT;
    roar_buf_init(&g->abs);

    /* One transaction for the stat cache rows of the files hashed on the way. */
    if ((error = roar_cache_begin(cache)) < 0)
        goto fail;
    if ((error = find_producers(out, g)) < 0)
        goto rollback;
    if (!(g->out_jobs = calloc(g->outs.count + 1, sizeof(*g->out_jobs)))) {
        error = roar_status__oom();
        goto rollback;
    }
    if ((error = roar_cache_has_steps(&g->any_steps, cache)) < 0 ||
        (error = roar_status__load_producer_edges(g)) < 0)
        goto rollback;
    for (i = 0; i < out->count; i++)
        if ((error = judge(&out->outputs[i], g->out_jobs[i], g)) < 0)
            goto rollback;
    if ((error = rerun_list(out, g)) < 0)
        goto rollback;
    if (roar_cache_commit(cache) < 0)
        roar_error_clear(); /* only the stat cache rows are lost: derived data */
    return 0;

rollback:
    roar_cache_rollback(cache);
fail:
    roar_status_dispose(out);
    return error;
}
