/* The scope rule of SPEC §5.5 (scope.h): pending, then attachments against C's
 * history, then content against C's tree and the work tree; memoised per job. */
#include "graph/scope.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "graph/cache_lineage.h"
#include "graph/hash.h"
#include "util/keymap.h"
#include "util/buf.h"
#include "util/err.h"

#define COMMIT_YES ((void *)2)
#define COMMIT_NO ((void *)1)

struct roar_scope {
    roar_cache *cache;
    roar_scope_opts opts;
    roar_keymap decided; /* job id -> (void *)(reason + 1) */
    roar_keymap pending; /* job id -> PENDING: this worktree's pending jobs */
    roar_keymap commits; /* commit id -> COMMIT_YES / COMMIT_NO */
    roar_cache_id_list attached;
    roar_cache_edge_list edges;
    roar_buf abs;
    size_t distrusted;
};

static int oom(void)
{
    return roar_error_set(ROAR_ENOMEM, "out of memory");
}

int roar_scope_new(roar_scope **out, roar_cache *cache, const roar_scope_opts *opts)
{
    roar_scope *s = calloc(1, sizeof(*s));
    roar_cache_jobinfo_list pending = ROAR_CACHE_JOBINFO_LIST_INIT;
    int error = 0;

    *out = NULL;
    if (!s)
        return oom();
    s->cache = cache;
    s->opts = *opts;
    s->decided = (roar_keymap)ROAR_KEYMAP_INIT;
    s->pending = (roar_keymap)ROAR_KEYMAP_INIT;
    s->commits = (roar_keymap)ROAR_KEYMAP_INIT;
    s->attached = (roar_cache_id_list)ROAR_CACHE_ID_LIST_INIT;
    s->edges = (roar_cache_edge_list)ROAR_CACHE_EDGE_LIST_INIT;
    roar_buf_init(&s->abs);
    /* The pending jobs up front: reading them costs what they are, not all jobs. */
    if (opts->pending_of) {
        if ((error = roar_cache_pending_list(&pending, cache, opts->pending_of)) < 0)
            goto fail;
        for (size_t i = 0; i < pending.count; i++)
            if (roar_keymap_puts(&s->pending, pending.items[i].id, COMMIT_YES) < 0) {
                error = oom();
                goto fail;
            }
    }
    roar_cache_jobinfo_list_dispose(&pending);
    *out = s;
    return 0;
fail:
    roar_cache_jobinfo_list_dispose(&pending);
    roar_scope_free(s);
    return error;
}

void roar_scope_free(roar_scope *s)
{
    if (!s)
        return;
    roar_keymap_dispose(&s->decided);
    roar_keymap_dispose(&s->pending);
    roar_keymap_dispose(&s->commits);
    roar_cache_id_list_dispose(&s->attached);
    roar_cache_edge_list_dispose(&s->edges);
    roar_buf_dispose(&s->abs);
    free(s);
}

size_t roar_scope_distrusted(const roar_scope *s)
{
    return s->distrusted;
}

static int reaches(bool *out, roar_scope *s, const char *commit)
{
    void *memo = roar_keymap_gets(&s->commits, commit);
    int error;

    if (memo) {
        *out = memo == COMMIT_YES;
        return 0;
    }
    if ((error = s->opts.commit->reaches(out, commit, s->opts.commit->payload)) < 0)
        return error;
    if (roar_keymap_puts(&s->commits, commit, *out ? COMMIT_YES : COMMIT_NO) < 0)
        return oom();
    return 0;
}

/* Whether the output edge `e` (a path and a known blob id) is what C's tree holds at
 * that path, or, where the tree has no such path, what the work tree holds. Only
 * paths inside the work tree are looked at: a note cannot make us hash files
 * elsewhere (SPEC §8). */
static int output_current(bool *out, roar_scope *s, const roar_cache_edge *e)
{
    char id[ROAR_OID_HEXSZ + 1];
    int error = ROAR_ENOTFOUND;

    *out = false;
    if (e->path[0] == '/')
        return 0;
    if (s->opts.commit) {
        error = s->opts.commit->tree_blob(id, e->path, s->opts.commit->payload);
        if (error == 0) {
            *out = !strcmp(id, e->id);
            return 0;
        }
        if (error != ROAR_ENOTFOUND)
            return error;
    }
    if (!s->opts.worktree)
        return 0;
    roar_buf_clear(&s->abs);
    if (roar_buf_printf(&s->abs, "%s/%s", s->opts.worktree, e->path) < 0)
        return oom();
    error = roar_hash_file(id, NULL, s->cache, s->abs.ptr, NULL);
    if (error < 0) {
        /* Gone, unreadable or changing right now: it holds nothing to match. */
        roar_error_clear();
        return 0;
    }
    *out = !strcmp(id, e->id);
    return 0;
}

/* What a job's times and attachments settle (*settled), before its outputs are looked
 * at: for most jobs they are enough, and they cost two index lookups where the outputs
 * cost as many rows as the job wrote. */
static int decide_by_facts(roar_scope_reason *out, bool *settled, roar_scope *s,
                           const char *job_id, int64_t start_ms, int64_t end_ms,
                           const roar_cache_id_list *attached)
{
    size_t i;
    int error;
    bool yes;

    *out = ROAR_SCOPE_OUT;
    *settled = true;
    /* A record whose times cannot be true is not believed (SPEC §8): a year-9999 end
     * would make it the producer of every path it names. */
    if (end_ms > s->opts.now_ms + ROAR_SCOPE_CLOCK_SKEW_MS || end_ms < start_ms) {
        s->distrusted++;
        return 0;
    }
    if (roar_keymap_gets(&s->pending, job_id)) {
        *out = ROAR_SCOPE_PENDING;
        return 0;
    }
    if (s->opts.commit) {
        for (i = 0; i < attached->count; i++) {
            if ((error = reaches(&yes, s, attached->items[i])) < 0)
                return error;
            if (yes) {
                *out = ROAR_SCOPE_ATTACHED;
                return 0;
            }
        }
    }
    *settled = false;
    return 0;
}

/* The content route: an output of the job is what C's tree or the work tree holds. */
static int decide_by_content(roar_scope_reason *out, roar_scope *s, const char *job_id)
{
    size_t i;
    int error;
    bool yes;

    *out = ROAR_SCOPE_OUT;
    if ((error = roar_cache_job_known_outputs(&s->edges, s->cache, job_id)) < 0)
        return error;
    for (i = 0; i < s->edges.count; i++) {
        if ((error = output_current(&yes, s, &s->edges.items[i])) < 0)
            return error;
        if (yes) {
            *out = ROAR_SCOPE_CONTENT;
            return 0;
        }
    }
    return 0;
}

static int decide(roar_scope_reason *out, roar_scope *s, const char *job_id)
{
    int64_t start_ms = 0, end_ms = 0;
    bool settled;
    int error;

    if ((error = roar_cache_job_scope_facts(&start_ms, &end_ms, &s->attached, s->cache,
                                            job_id)) < 0 ||
        (error = decide_by_facts(out, &settled, s, job_id, start_ms, end_ms, &s->attached)) < 0)
        return error;
    return settled ? 0 : decide_by_content(out, s, job_id);
}

static int remember(roar_scope *s, const char *job_id, roar_scope_reason reason)
{
    if (roar_keymap_puts(&s->decided, job_id, (void *)(uintptr_t)(reason + 1)) < 0)
        return oom();
    return 0;
}

/* Facts of every job in one pass: what they settle is remembered, the rest is decided
 * by content when asked. For a question about every job (the producers of a whole
 * history), where a lookup per job cost 100k statements at 100k jobs. */
static int prefetch_visit(const char *job_id, int64_t start_ms, int64_t end_ms,
                          const roar_cache_id_list *attached, void *payload)
{
    roar_scope *s = payload;
    roar_scope_reason reason;
    bool settled;
    int error;

    if (roar_keymap_gets(&s->decided, job_id))
        return 0;
    if ((error = decide_by_facts(&reason, &settled, s, job_id, start_ms, end_ms, attached)) < 0)
        return error;
    return settled ? remember(s, job_id, reason) : 0;
}

int roar_scope_reason_of(roar_scope_reason *out, roar_scope *s, const char *job_id)
{
    void *memo = roar_keymap_gets(&s->decided, job_id);
    int error;

    if (memo) {
        *out = (roar_scope_reason)((uintptr_t)memo - 1);
        return 0;
    }
    if ((error = decide(out, s, job_id)) < 0)
        return error;
    return remember(s, job_id, *out);
}

int roar_scope_has(bool *out, roar_scope *s, const char *job_id)
{
    roar_scope_reason reason;
    int error = roar_scope_reason_of(&reason, s, job_id);
    *out = !error && reason != ROAR_SCOPE_OUT;
    return error;
}

/* ---- producers ------------------------------------------------------------------ */

void roar_scope_output_list_dispose(roar_scope_output_list *list)
{
    for (size_t i = 0; i < list->count; i++)
        free(list->items[i].path);
    free(list->items);
    *list = (roar_scope_output_list)ROAR_SCOPE_OUTPUT_LIST_INIT;
}

bool roar_scope_path_under(const char *path, const char *dir)
{
    size_t n;
    if (!dir)
        return true;
    if (!strcmp(dir, "."))
        return path[0] != '/';
    n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    return !strncmp(path, dir, n) && (path[n] == '\0' || path[n] == '/');
}

/* Whether an in-scope job that ended after the producer deleted `path`. `*d` walks
 * dels, sorted by path as the output edges are, so the whole pass is one merge. */
static int retired(bool *out, roar_scope *s, const roar_cache_edge_list *dels, size_t *d,
                   const char *path, const roar_cache_edge *producer)
{
    int error;
    *out = false;
    while (*d < dels->count && strcmp(dels->items[*d].path, path) < 0)
        (*d)++;
    for (size_t k = *d; k < dels->count && !strcmp(dels->items[k].path, path); k++) {
        const roar_cache_edge *e = &dels->items[k];
        if (e->end_ms < producer->end_ms ||
            (e->end_ms == producer->end_ms && !strcmp(e->job_id, producer->job_id)))
            break; /* newest first: the rest are older still */
        if ((error = roar_scope_has(out, s, e->job_id)) < 0 || *out)
            return error;
    }
    return 0;
}

int roar_scope_outputs(roar_scope_output_list *out, roar_scope *s, const char *prefix)
{
    roar_cache_edge_list outs = ROAR_CACHE_EDGE_LIST_INIT, dels = ROAR_CACHE_EDGE_LIST_INIT;
    size_t i = 0, k, d = 0;
    bool in, gone;
    int error;

    roar_scope_output_list_dispose(out);
    /* Every producer of every path is asked about: the whole history's facts at once.
     * A prefix narrows the question to few jobs, asked one by one. */
    if (!prefix && (error = roar_cache_scan_scope_facts(s->cache, prefetch_visit, s)) < 0)
        goto cleanup;
    if ((error = roar_cache_role_edges(&outs, s->cache, ROAR_ROLE_OUT, true)) < 0 ||
        (error = roar_cache_role_edges(&dels, s->cache, ROAR_ROLE_DEL, true)) < 0)
        goto cleanup;
    /* The edges come grouped by path, newest first: the first in-scope one produced it. */
    while (i < outs.count) {
        const char *path = outs.items[i].path;
        for (k = i; k < outs.count && !strcmp(outs.items[k].path, path); k++)
            ;
        for (; i < k && roar_scope_path_under(path, prefix); i++) {
            const roar_cache_edge *e = &outs.items[i];
            roar_scope_output *o;
            if ((error = roar_scope_has(&in, s, e->job_id)) < 0)
                goto cleanup;
            if (!in)
                continue;
            if ((error = retired(&gone, s, &dels, &d, path, e)) < 0)
                goto cleanup;
            if (gone)
                break;
            if (ROAR_ALLOC_GROW(out->items, out->count + 1, out->alloc) < 0) {
                error = oom();
                goto cleanup;
            }
            o = &out->items[out->count];
            memset(o, 0, sizeof(*o));
            if (!(o->path = strdup(path))) {
                error = oom();
                goto cleanup;
            }
            out->count++;
            memcpy(o->job_id, e->job_id, sizeof(o->job_id));
            o->end_ms = e->end_ms;
            o->id_known = e->id_known;
            memcpy(o->id, e->id, sizeof(o->id));
            o->size = e->size;
            break;
        }
        i = k;
    }
cleanup:
    roar_cache_edge_list_dispose(&outs);
    roar_cache_edge_list_dispose(&dels);
    return error;
}
