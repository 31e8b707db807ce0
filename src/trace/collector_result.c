/* The collector's result: once the job is over, the end-of-job checks, then fdstate's
 * inputs, outputs, deletions and gaps mapped to their recorded form, filtered, hashed
 * where still needed, and handed back as a roar_collector_result. */
#include "trace/collector_internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/keymap.h"
#include "util/err.h"

int roar_collector__gap_add(roar_collector_result *res, const char *reason, bool has_count,
                            uint64_t count, const char *path)
{
    roar_collector_gap *g;
    size_t i;
    for (i = 0; i < res->gap_count; i++) {
        g = &res->gaps[i];
        if (!strcmp(g->reason, reason) &&
            ((!g->path && !path) || (g->path && path && !strcmp(g->path, path))))
            return 0;
    }
    if (ROAR_ALLOC_GROW(res->gaps, res->gap_count + 1, res->gap_alloc) < 0)
        return ROAR_ENOMEM;
    g = &res->gaps[res->gap_count];
    memset(g, 0, sizeof(*g));
    g->has_count = has_count;
    g->count = count;
    if (!(g->reason = strdup(reason)) || (path && !(g->path = strdup(path)))) {
        free(g->reason);
        free(g->path);
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    }
    res->gap_count++;
    return 0;
}

typedef struct {
    roar_collector_file *v;
    size_t n, alloc;
} file_list;

static int file_add(file_list *l, const char *path, bool inside, const char *id, uint64_t size,
                    size_t src)
{
    roar_collector_file *f;
    if (ROAR_ALLOC_GROW(l->v, l->n + 1, l->alloc) < 0)
        return ROAR_ENOMEM;
    f = &l->v[l->n];
    memset(f, 0, sizeof(*f));
    if (!(f->path = strdup(path)))
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    f->inside = inside;
    f->size = size;
    f->src = src;
    if (id) {
        f->id_known = true;
        memcpy(f->id, id, ROAR_FDSTATE_OIDSZ);
    }
    l->n++;
    return 0;
}

static int file_cmp(const void *a, const void *b)
{
    const roar_collector_file *x = a, *y = b;
    size_t lx = strlen(x->path), ly = strlen(y->path);
    int r = memcmp(x->path, y->path, lx < ly ? lx : ly);
    return r ? r : (lx > ly) - (lx < ly);
}

/* Sorted by path (memcmp), one line per path: two fed names may map to one record name. */
/* Sorts and keeps one entry per recorded path. pos_of_src (may be NULL) gets, for each
 * entry's src, its position in the finished list (two fdstate entries recorded under
 * one name share it). */
static void file_finish(file_list *l, size_t *pos_of_src)
{
    size_t i, w = 0;
    if (!l->n)
        return;
    qsort(l->v, l->n, sizeof(*l->v), file_cmp);
    for (i = 0; i < l->n; i++) {
        if (w && !strcmp(l->v[w - 1].path, l->v[i].path)) {
            if (pos_of_src)
                pos_of_src[l->v[i].src] = w - 1;
            free(l->v[i].path);
            continue;
        }
        if (pos_of_src)
            pos_of_src[l->v[i].src] = w;
        l->v[w++] = l->v[i];
    }
    l->n = w;
}

static void file_list_free(file_list *l)
{
    size_t i;
    for (i = 0; i < l->n; i++)
        free(l->v[i].path);
    free(l->v);
}

static const deferred_hash *find_deferred(collector *c, roar_fsfile *file)
{
    size_t i;
    for (i = 0; i < c->ndeferred; i++)
        if (c->deferred[i].file == file)
            return &c->deferred[i];
    return NULL;
}

/* SPEC §4.5: a write-capable open that saw no write changed the file when its content
 * at the end differs from the content at that open. `early`: ids hashed during the job
 * may stand (roar_collector__early_take). */
static bool check_changed(collector *c, const roar_fdstate_entry *e, bool early)
{
    struct stat st;
    char id[ROAR_FDSTATE_OIDSZ + 1];
    uint64_t size;

    if (stat(e->path, &st) < 0 || !S_ISREG(st.st_mode))
        return false; /* gone or replaced by something else: not an output of this name */
    if (e->id_known) {
        if (early && roar_collector__early_take(c, e, id, &size)) {
            c->res->hashed_early++;
            return strcmp(id, e->id) != 0;
        }
        c->res->hashed_end++;
        if (c->opts->hash(id, &size, e->path, NULL, c->opts->hash_payload) < 0) {
            roar_error_clear();
            return false;
        }
        return strcmp(id, e->id) != 0;
    }
    if (!e->ident.known)
        return false;
    return (uint64_t)st.st_size != e->ident.size ||
           (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec != e->ident.mtime_ns;
}

/* The recorded form of a fed path, and whether the filters keep it. */
static bool record_form(collector *c, const char *fed, bool *inside)
{
    roar_path_kind kind;
    if (roar_pathcanon_map(&c->tmp, &kind, c->opts->canon, fed) < 0) {
        roar_error_clear();
        return false;
    }
    *inside = kind == ROAR_PATH_WORKTREE;
    return roar_pathfilter_keep(c->opts->filter, c->tmp.ptr, kind);
}

int roar_collector__build_result(collector *c, size_t running)
{
    roar_collector_result *res = c->res;
    roar_fdstate_result fr;
    file_list in = {0}, out = {0}, del = {0};
    size_t *in_pos = NULL, *out_pos = NULL;
    uint64_t lost;
    size_t i;
    bool inside, resolved = false, every_write_seen, early;
    int error;

    if ((error = roar_fdstate_result_get(&fr, c->st)) < 0)
        return error;
    /* A tracer that sees every write saw none on these files: no change, even when the
     * mtime moved (`touch`) and the open-time id is unknown (SPEC §4.5; issue 17). Not
     * when something may have gone unseen: lost events, I/O no tracer sees, processes
     * still running untraced. */
    every_write_seen = c->src->sees_every_write && !c->src->lost(c->src->self) && !c->bad &&
                       fr.incomplete_count == 0 && !running;
    /* Ids hashed during the job lean on fdstate having seen every write-capable open
     * and mapping of the job: not when events were lost, a process went untraced (a
     * gap), or some still run. Then every output is hashed now, as it always was. */
    early = !c->src->lost(c->src->self) && !c->bad && fr.incomplete_count == 0 && !running;
    for (i = 0; i < fr.check_count; i++) {
        const roar_fdstate_entry *e = &fr.checks[i];
        if (every_write_seen && !e->unseen_writes)
            continue;
        if (!record_form(c, e->path, &inside))
            continue; /* never recorded: not worth reading */
        if (check_changed(c, e, early)) {
            roar_fdstate_resolve_check(c->st, e->file);
            resolved = true;
        }
    }
    if (resolved) {
        roar_fdstate_result_dispose(&fr);
        if ((error = roar_fdstate_result_get(&fr, c->st)) < 0)
            return error;
    }

    for (i = 0; i < fr.input_count; i++) {
        const roar_fdstate_entry *e = &fr.inputs[i];
        const deferred_hash *d;
        char id[ROAR_FDSTATE_OIDSZ + 1];
        uint64_t size = e->ident.size;
        const char *name;
        const char *idp = NULL;

        if (!record_form(c, e->path, &inside))
            continue;
        if (e->id_known) {
            memcpy(id, e->id, sizeof(id));
            idp = id;
            size = e->id_size;
        } else if ((d = find_deferred(c, e->file)) &&
                   c->opts->hash(id, &size, d->path, d->ident.known ? &d->ident : NULL,
                                 c->opts->hash_payload) == 0) {
            idp = id; /* put off while filtered, wanted now: unchanged since, verified */
        } else if (e->ident.known && (name = roar_fdstate_file_name(e->file)) &&
                   roar_collector__hash_path(c, id, &size, name, &e->ident) == 0) {
            /* Not hashed in time (eBPF): gone from its name by then (a directory
             * renamed right after the read), but still the content seen at open. */
            idp = id;
        } else {
            roar_error_clear();
            size = e->ident.size;
        }
        if ((error = file_add(&in, c->tmp.ptr, inside, idp, size, i)) < 0)
            goto cleanup;
        if (!idp) {
            bool late = roar_keymap_get(&c->timedout, &e->file, sizeof(e->file)) != NULL;
            if ((error = roar_collector__gap_add(res, late ? "hash-timeout" : "hash-unknown", false,
                                                 0, c->tmp.ptr)) < 0)
                goto cleanup;
        }
    }
    for (i = 0; i < fr.output_count; i++) {
        const roar_fdstate_entry *e = &fr.outputs[i];
        char id[ROAR_FDSTATE_OIDSZ + 1];
        uint64_t size = 0;
        int rc;
        struct stat st;

        if (!record_form(c, e->path, &inside))
            continue;
        if (early && roar_collector__early_take(c, e, id, &size)) {
            rc = 0;
            res->hashed_early++;
        } else {
            rc = c->opts->hash(id, &size, e->path, NULL, c->opts->hash_payload);
            res->hashed_end++;
        }
        if (rc == ROAR_ENOTFOUND || (rc < 0 && (stat(e->path, &st) < 0 || !S_ISREG(st.st_mode)))) {
            roar_error_clear();
            continue; /* gone (or never a file): not an output */
        }
        if (rc < 0) {
            roar_error_clear();
            size = (uint64_t)st.st_size;
            if ((error = roar_collector__gap_add(res, "hash-unknown", false, 0, c->tmp.ptr)) < 0)
                goto cleanup;
        }
        /* hashing may have used c->tmp: map again for the name */
        if (!record_form(c, e->path, &inside))
            continue;
        if ((error = file_add(&out, c->tmp.ptr, inside, rc == 0 ? id : NULL, size, i)) < 0)
            goto cleanup;
    }
    for (i = 0; i < fr.deletion_count; i++) {
        if (!record_form(c, fr.deletions[i].path, &inside))
            continue;
        if ((error = file_add(&del, c->tmp.ptr, inside, NULL, 0, i)) < 0)
            goto cleanup;
    }

    lost = c->src->lost(c->src->self) + c->bad;
    for (i = 0; i < fr.incomplete_count; i++) {
        const roar_fdstate_incomplete *g = &fr.incomplete[i];
        const char *path = NULL;
        roar_path_kind kind;
        if (!strcmp(g->reason, "events-lost")) {
            lost += g->count;
            continue;
        }
        if (g->path && roar_pathcanon_map(&c->tmp, &kind, c->opts->canon, g->path) == 0)
            path = c->tmp.ptr;
        else if (g->path)
            path = g->path;
        roar_error_clear();
        if ((error = roar_collector__gap_add(res, g->reason, false, 0, path)) < 0)
            goto cleanup;
    }
    if (lost && (error = roar_collector__gap_add(res, "events-lost", true, lost, NULL)) < 0)
        goto cleanup;
    if (running &&
        (error = roar_collector__gap_add(res, "running-descendants", true, running, NULL)) < 0)
        goto cleanup;

    if (!(in_pos = malloc((fr.input_count + 1) * sizeof(*in_pos))) ||
        !(out_pos = malloc((fr.output_count + 1) * sizeof(*out_pos)))) {
        error = roar_error_set(ROAR_ENOMEM, "out of memory");
        goto cleanup;
    }
    memset(in_pos, 0xff, (fr.input_count + 1) * sizeof(*in_pos)); /* SIZE_MAX: not recorded */
    memset(out_pos, 0xff, (fr.output_count + 1) * sizeof(*out_pos));
    file_finish(&in, in_pos);
    file_finish(&out, out_pos);
    file_finish(&del, NULL);
    /* Steps only when the flow was followed whole: any gap, and every output depends
     * on every input (SPEC §4.9). */
    if (c->src->reports_flow && fr.steps_known && res->gap_count == 0 &&
        (error = roar_collector__deps(&res->deps, &fr, in_pos, out_pos, out.n)) < 0)
        goto cleanup;
    res->inputs = in.v;
    res->input_count = in.n;
    res->outputs = out.v;
    res->output_count = out.n;
    res->deletions = del.v;
    res->deletion_count = del.n;
    memset(&in, 0, sizeof(in));
    memset(&out, 0, sizeof(out));
    memset(&del, 0, sizeof(del));

cleanup:
    free(in_pos);
    free(out_pos);
    file_list_free(&in);
    file_list_free(&out);
    file_list_free(&del);
    roar_fdstate_result_dispose(&fr);
    return error;
}

void roar_collector_result_dispose(roar_collector_result *res)
{
    size_t i;
    if (!res)
        return;
    for (i = 0; i < res->input_count; i++)
        free(res->inputs[i].path);
    for (i = 0; i < res->output_count; i++)
        free(res->outputs[i].path);
    for (i = 0; i < res->deletion_count; i++)
        free(res->deletions[i].path);
    for (i = 0; i < res->gap_count; i++) {
        free(res->gaps[i].reason);
        free(res->gaps[i].path);
    }
    for (i = 0; res->deps && i < res->output_count; i++)
        free(res->deps[i].ins);
    free(res->deps);
    free(res->inputs);
    free(res->outputs);
    free(res->deletions);
    free(res->gaps);
    memset(res, 0, sizeof(*res));
}
