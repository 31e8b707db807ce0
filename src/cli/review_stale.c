/* The stale outputs of `git roar review` (review.h): every output in scope at the tip
 * that the tip's tree holds (or whose producer is one of the range's jobs), judged
 * transitively. The unit judged is a job, or for a job with steps (SPEC §4.9) one of
 * its steps: a unit is stale when one of its inputs the tip holds is other content than
 * it read, or when the unit that produced what it read is stale. Staleness spreads from
 * the directly stale units to their consumers breadth-first: no recursion on
 * note-supplied depth, linear in the edges. */
#include "cli/review.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/check.h"
#include "cli/cli.h"
#include "cli/objref.h"
#include "graph/cache_lineage.h"
#include "util/keymap.h"
#include "util/err.h"

/* The content at `path` in the tip's tree is what a job that saw `id` saw: the same
 * blob, or its work-tree form. *present: the tree has a blob there. */
static void tip_holds(bool *present, bool *same, roar_repo *repo, roar_history *h,
                      const char *tip, const char *path, const char *id)
{
    char blob[ROAR_OID_HEXSZ + 1], wt[ROAR_OID_HEXSZ + 1];
    int error = roar_history_tree_blob(blob, h, path);

    *present = *same = false;
    if (error == ROAR_ENOTFOUND) {
        roar_error_clear();
        return;
    }
    if (error < 0)
        roar_cli_die_error();
    *present = true;
    *same = !strcmp(blob, id) ||
            (roar_objref_worktree_blob(wt, repo, blob, path, tip) == 0 && !strcmp(wt, id));
    roar_error_clear();
}

/* A job, or one step of a job with steps. */
typedef struct {
    char id[ROAR_OID_HEXSZ + 1];
    const roar_step *step; /* NULL: every input of the job */
    bool stale;
    char *because; /* owned */
    bool through;
    size_t *consumers;
    size_t nconsumers, consumers_alloc;
} unit;

/* A job's steps, and which step each of its outputs is in, read once per job (a job
 * of many outputs is asked once per output). */
typedef struct {
    roar_steps steps;
    roar_keymap step_of; /* output path -> step index + 1 (absent: every input) */
} job_steps;

typedef struct {
    roar_cache *cache;
    roar_keymap steps;  /* job id -> job_steps* (owned), once asked */
    roar_keymap index;  /* "<id>" or "<id>#<step>" -> unit index + 1 */
    unit *units;
    size_t count, alloc;
    roar_cache_edge_list edges;
} units;

/* The job's steps; unreadable steps count as none (every input: wider, never wrong). */
static const job_steps *steps_of(units *u, const char *id)
{
    job_steps *s = roar_keymap_gets(&u->steps, id);
    const roar_step *step;
    size_t k, pos = 0;
    int error;
    if (s)
        return s;
    if (!(s = calloc(1, sizeof(*s))))
        roar_cli_oom();
    if ((error = roar_cache_job_steps(&s->steps, u->cache, id)) == ROAR_ENOMEM)
        roar_cli_oom();
    roar_error_clear();
    CHECK(roar_keymap_puts(&u->steps, id, s));
    if (!s->steps.count)
        return s;
    if (roar_cache_job_edges(&u->edges, u->cache, id) < 0)
        roar_cli_die_error();
    for (k = 0; k < u->edges.count; k++) {
        const roar_cache_edge *e = &u->edges.items[k];
        if (e->role != ROAR_ROLE_OUT)
            continue;
        if ((step = roar_steps_find(&s->steps, pos++)) != NULL)
            CHECK(roar_keymap_puts(&s->step_of, e->path,
                                   (void *)(uintptr_t)(step - s->steps.v + 1)));
    }
    return s;
}

/* The unit behind output `path` of job `id`. */
static size_t unit_of(units *u, const char *id, const char *path)
{
    const job_steps *s = steps_of(u, id);
    uintptr_t k = s->steps.count ? (uintptr_t)roar_keymap_gets(&s->step_of, path) : 0;
    char key[ROAR_OID_HEXSZ + 24];
    void *found;

    if (k)
        snprintf(key, sizeof(key), "%s#%zu", id, (size_t)(k - 1));
    else
        snprintf(key, sizeof(key), "%s", id);
    if ((found = roar_keymap_gets(&u->index, key)) != NULL)
        return (uintptr_t)found - 1;
    CHECK(ROAR_ALLOC_GROW(u->units, u->count + 1, u->alloc));
    memset(&u->units[u->count], 0, sizeof(u->units[0]));
    memcpy(u->units[u->count].id, id, ROAR_OID_HEXSZ + 1);
    u->units[u->count].step = k ? &s->steps.v[k - 1] : NULL;
    CHECK(roar_keymap_puts(&u->index, key, (void *)(uintptr_t)(u->count + 1)));
    return u->count++;
}

/* The input edges of unit k, into u->edges (all roles; use unit_reads on each). */
static void unit_edges(units *u, size_t k)
{
    if (roar_cache_job_edges(&u->edges, u->cache, u->units[k].id) < 0)
        roar_cli_die_error();
}

/* Whether unit `un` read the input edge at index i of u->edges, `*pos` counting the
 * input edges seen so far. */
static bool unit_reads(const unit *un, const roar_cache_edge *e, size_t *pos)
{
    if (e->role != ROAR_ROLE_IN)
        return false;
    return !un->step || roar_step_has_input(un->step, (*pos)++);
}

void roar_review__find_stale(roar_review *r, roar_cache *cache, roar_scope *scope,
                             roar_repo *repo, roar_history *h)
{
    roar_scope_output_list outs = ROAR_SCOPE_OUTPUT_LIST_INIT;
    roar_keymap by_path = ROAR_KEYMAP_INIT;
    units u = {cache, ROAR_KEYMAP_INIT, ROAR_KEYMAP_INIT, NULL, 0, 0,
               ROAR_CACHE_EDGE_LIST_INIT};
    size_t *out_unit = NULL, *queue = NULL, qhead = 0, qlen = 0, i, k;

    if (roar_scope_outputs(&outs, scope, NULL) < 0)
        roar_cli_die_error();
    if (!(out_unit = calloc(outs.count + 1, sizeof(*out_unit))))
        roar_cli_oom();
    for (i = 0; i < outs.count; i++) {
        CHECK(roar_keymap_puts(&by_path, outs.items[i].path, (void *)(uintptr_t)(i + 1)));
        out_unit[i] = unit_of(&u, outs.items[i].job_id, outs.items[i].path);
    }
    if (!(queue = calloc(u.count + 1, sizeof(*queue))))
        roar_cli_oom();
    /* Direct staleness, and who consumes whose output. */
    for (k = 0; k < u.count; k++) {
        size_t pos = 0;
        unit_edges(&u, k);
        for (i = 0; i < u.edges.count; i++) {
            const roar_cache_edge *e = &u.edges.items[i];
            void *found;
            bool present, same;
            if (!unit_reads(&u.units[k], e, &pos) || !e->id_known || e->path[0] == '/')
                continue;
            tip_holds(&present, &same, repo, h, r->tip, e->path, e->id);
            if (present && !same && !u.units[k].stale) {
                u.units[k].stale = true;
                if (!(u.units[k].because = strdup(e->path)))
                    roar_cli_oom();
                queue[qlen++] = k;
            }
            found = roar_keymap_gets(&by_path, e->path);
            if (found) {
                const roar_scope_output *p = &outs.items[(uintptr_t)found - 1];
                size_t pi = out_unit[(uintptr_t)found - 1];
                if (strcmp(p->job_id, u.units[k].id) && p->id_known && !strcmp(p->id, e->id)) {
                    unit *pu = &u.units[pi];
                    CHECK(ROAR_ALLOC_GROW(pu->consumers, pu->nconsumers + 1, pu->consumers_alloc));
                    pu->consumers[pu->nconsumers++] = k;
                }
            }
        }
    }
    /* Spread to consumers. */
    while (qhead < qlen) {
        size_t ji = queue[qhead++];
        for (i = 0; i < u.units[ji].nconsumers; i++) {
            size_t ci = u.units[ji].consumers[i], pos = 0;
            unit *c = &u.units[ci];
            if (c->stale)
                continue;
            c->stale = true;
            c->through = true;
            /* Name the input through which it became stale: an output of j it read. */
            unit_edges(&u, ci);
            c = &u.units[ci];
            for (k = 0; k < u.edges.count && !c->because; k++) {
                const roar_cache_edge *e = &u.edges.items[k];
                void *found = unit_reads(c, e, &pos) ? roar_keymap_gets(&by_path, e->path)
                                                     : NULL;
                if (found && out_unit[(uintptr_t)found - 1] == ji &&
                    !(c->because = strdup(e->path)))
                    roar_cli_oom();
            }
            queue[qlen++] = ci;
        }
    }
    /* Stale outputs: those the tip holds, or the range's jobs wrote. */
    for (i = 0; i < outs.count; i++) {
        const roar_scope_output *o = &outs.items[i];
        unit *j = &u.units[out_unit[i]];
        bool present, same, ours = false;
        roar_review_stale *s;
        if (!j->stale)
            continue;
        for (k = 0; k < r->jobs.count && !ours; k++)
            ours = !strcmp(r->jobs.items[k], o->job_id);
        tip_holds(&present, &same, repo, h, r->tip, o->path, o->id_known ? o->id : "");
        if (!(present && same) && !ours)
            continue;
        CHECK(ROAR_ALLOC_GROW(r->stale, r->stale_count + 1, r->stale_alloc));
        s = &r->stale[r->stale_count++];
        memset(s, 0, sizeof(*s));
        memcpy(s->job, o->job_id, sizeof(s->job));
        s->through = j->through;
        if (!(s->output = strdup(o->path)) || !(s->input = strdup(j->because ? j->because : "?")))
            roar_cli_oom();
    }
    for (k = 0; k < u.count; k++) {
        free(u.units[k].because);
        free(u.units[k].consumers);
    }
    for (i = 0; i < u.steps.cap; i++)
        if (u.steps.slots[i].key) {
            job_steps *js = u.steps.slots[i].value;
            roar_steps_dispose(&js->steps);
            roar_keymap_dispose(&js->step_of);
            free(js);
        }
    roar_keymap_dispose(&u.steps);
    roar_keymap_dispose(&u.index);
    free(u.units);
    free(out_unit);
    free(queue);
    roar_keymap_dispose(&by_path);
    roar_cache_edge_list_dispose(&u.edges);
    roar_scope_output_list_dispose(&outs);
}
