/* `git roar export --format prov-json|openlineage|dot|json [OBJ|RANGE]`: the jobs in
 * scope (or of OBJ / RANGE) for other lineage tools: W3C PROV-JSON, OpenLineage, dot. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "cli/check.h"
#include "cli/cli.h"
#include "cli/export.h"
#include "cli/objref.h"
#include "cli/query.h"
#include "util/err.h"
#include "util/escape.h"
#include "util/json.h"
#include "util/keymap.h"
#include "util/quote.h"
#include "util/timefmt.h"

/* A job the selection names, before it is loaded: ids are gathered first, deduplicated,
 * filtered by scope and sorted with what the cache's listings give (start), and only
 * then loaded, one at a time. `scoped`: the job counts only if it is in scope (SPEC
 * §5.5). `start_known`: false for a commit's jobs (their listing has no times). */
/* SQLite's page cache for the passes: each job's rows are read once a pass, in no order
 * the pages share, so a larger cache only holds more of the database in memory. */
#define EXPORT_CACHE_KIB (16 * 1024)

typedef struct {
    char id[ROAR_OID_HEXSZ + 1];
    int64_t start_ms;
    bool start_known;
    bool scoped;
} candidate;

typedef struct {
    candidate *items;
    size_t count, alloc;
} candidates;

static void add_job(candidates *c, const char *id, const int64_t *start_ms, bool scoped)
{
    candidate *it;
    if (ROAR_ALLOC_GROW(c->items, c->count + 1, c->alloc) < 0)
        roar_cli_oom();
    it = &c->items[c->count++];
    snprintf(it->id, sizeof(it->id), "%s", id);
    it->start_known = start_ms != NULL;
    it->start_ms = start_ms ? *start_ms : 0;
    it->scoped = scoped;
}

static int by_id(const void *a, const void *b)
{
    return strcmp(((const candidate *)a)->id, ((const candidate *)b)->id);
}

/* Oldest first: export formats read as a history. */
static int by_start(const void *a, const void *b)
{
    const candidate *x = a, *y = b;
    if (x->start_ms != y->start_ms)
        return x->start_ms < y->start_ms ? -1 : 1;
    return strcmp(x->id, y->id);
}

/* Each named job once; one named without the scope condition (a job, a commit's
 * attached jobs) counts even when also named with it. Scope is decided from the cache
 * without loading the job (graph/scope.h), the start of a commit's job from its
 * summary. Leaves c sorted oldest first and set->ids pointing at nothing yet. */
static void settle_jobs(roar_export_jobs *set, candidates *c)
{
    roar_cache *cache = roar_query_cache(set->q);
    roar_job summary;
    size_t i, j, kept = 0;

    roar_job_init(&summary);
    if (c->count > 1)
        qsort(c->items, c->count, sizeof(*c->items), by_id);
    for (i = 0; i < c->count; i = j) {
        candidate one = c->items[i];
        for (j = i + 1; j < c->count && !strcmp(c->items[j].id, one.id); j++) {
            one.scoped = one.scoped && c->items[j].scoped;
            if (!one.start_known && c->items[j].start_known) {
                one.start_ms = c->items[j].start_ms;
                one.start_known = true;
            }
        }
        if (one.scoped) {
            roar_scope *scope = roar_query_scope(set->q);
            roar_scope_reason why = ROAR_SCOPE_OUT;
            if (scope && roar_scope_reason_of(&why, scope, one.id) < 0)
                roar_cli_die_error();
            if (why == ROAR_SCOPE_OUT)
                continue;
        }
        if (!one.start_known) {
            if (roar_cache_job_get_summary(&summary, cache, one.id) < 0)
                roar_cli_die_error();
            one.start_ms = summary.start_ms;
        }
        c->items[kept++] = one;
    }
    roar_job_dispose(&summary);
    c->count = kept;
    if (c->count > 1)
        qsort(c->items, c->count, sizeof(*c->items), by_start);
    set->count = c->count;
    if (!(set->ids = calloc(c->count + 1, sizeof(*set->ids))))
        roar_cli_oom();
    for (i = 0; i < c->count; i++)
        memcpy(set->ids[i], c->items[i].id, sizeof(set->ids[i]));
}

void roar_export_pass_begin(const roar_export_jobs *set)
{
    roar_cache *cache = roar_query_cache(set->q);
    if (cache && roar_cache_read_begin(cache) < 0)
        roar_cli_die_error();
}

void roar_export_pass_end(const roar_export_jobs *set, roar_buf *out)
{
    roar_cache *cache = roar_query_cache(set->q);
    if (cache)
        roar_cache_read_end(cache);
    roar_query_flush(out);
}

void roar_export_maybe_flush(const roar_export_jobs *set, roar_buf *out)
{
    if (out->size < ROAR_EXPORT_FLUSH_AT)
        return;
    roar_export_pass_end(set, out);
    roar_export_pass_begin(set);
}

void roar_export_load(roar_job *job, const roar_export_jobs *set, size_t i, bool edges)
{
    roar_cache *cache = roar_query_cache(set->q);
    if ((edges ? roar_cache_job_get(job, cache, set->ids[i])
               : roar_cache_job_get_summary(job, cache, set->ids[i])) < 0)
        roar_cli_die_error();
}

static void add_commit_jobs(candidates *set, roar_query *q, const char *commit)
{
    roar_cache_id_list ids = ROAR_CACHE_ID_LIST_INIT;
    size_t i;
    if (roar_cache_commit_jobs(&ids, roar_query_cache(q), commit) < 0)
        roar_cli_die_error();
    for (i = 0; i < ids.count; i++)
        add_job(set, ids.items[i], NULL, false);
    roar_cache_id_list_dispose(&ids);
}

static void add_edge_jobs(candidates *set, roar_query *q, const char *blob)
{
    roar_cache_edge_list edges = ROAR_CACHE_EDGE_LIST_INIT;
    size_t i;
    if (roar_cache_producers(&edges, roar_query_cache(q), blob) < 0)
        roar_cli_die_error();
    for (i = 0; i < edges.count; i++)
        add_job(set, edges.items[i].job_id, &edges.items[i].start_ms, true);
    if (roar_cache_consumers(&edges, roar_query_cache(q), blob) < 0)
        roar_cli_die_error();
    for (i = 0; i < edges.count; i++)
        add_job(set, edges.items[i].job_id, &edges.items[i].start_ms, true);
    roar_cache_edge_list_dispose(&edges);
}

/* Which jobs: every job in scope; a RANGE's attached jobs; an OBJ's (a job; a commit's
 * attached jobs; the producers and consumers of a file's or blob's content). */
static void select_jobs(candidates *set, roar_query *q, roar_cli_ctx *ctx)
{
    const char *arg = ctx->argc ? ctx->argv[0] : NULL;
    roar_cache *cache = roar_query_cache(q);
    git_repository *git = roar_repo_git(ctx->repo);
    roar_objref ref;

    if (!cache)
        return;
    if (!arg) {
        roar_cache_jobinfo_list all = ROAR_CACHE_JOBINFO_LIST_INIT;
        size_t i;
        if (roar_cache_job_list(&all, cache, NULL) < 0)
            roar_cli_die_error();
        for (i = 0; i < all.count; i++)
            add_job(set, all.items[i].id, &all.items[i].start_ms, true);
        roar_cache_jobinfo_list_dispose(&all);
        return;
    }
    if (ctx->dashdash != 0 && strstr(arg, "..")) {
        git_revspec spec;
        git_revwalk *walk = NULL;
        git_oid oid;
        char hex[ROAR_OID_HEXSZ + 1];
        if (git_revparse(&spec, git, arg) < 0 || !(spec.flags & GIT_REVSPEC_RANGE))
            roar_cli_die("bad range '%s': %s", arg,
                         git_error_last() ? git_error_last()->message : "not A..B");
        if (git_revwalk_new(&walk, git) < 0 || git_revwalk_push(walk, git_object_id(spec.to)) < 0 ||
            git_revwalk_hide(walk, git_object_id(spec.from)) < 0)
            roar_cli_die("bad range '%s': %s", arg, git_error_last()->message);
        while (git_revwalk_next(&oid, walk) == 0) {
            git_oid_tostr(hex, sizeof(hex), &oid);
            add_commit_jobs(set, q, hex);
        }
        git_error_clear();
        git_revwalk_free(walk);
        git_object_free(spec.from);
        git_object_free(spec.to);
        return;
    }
    roar_objref_init(&ref);
    if (roar_objref_resolve(&ref, q, ctx->repo, arg, ROAR_OBJREF_ANY, ctx->dashdash == 0) < 0)
        roar_cli_die_error();
    switch (ref.kind) {
    case ROAR_OBJREF_JOB:
        add_job(set, ref.job, NULL, false);
        break;
    case ROAR_OBJREF_COMMIT:
        add_commit_jobs(set, q, ref.commit);
        break;
    case ROAR_OBJREF_REVPATH: {
        char wt[ROAR_OID_HEXSZ + 1];
        add_edge_jobs(set, q, ref.blob);
        if (roar_objref_revpath_worktree_blob(wt, ctx->repo, &ref) == 0 &&
            strcmp(wt, ref.blob) != 0)
            add_edge_jobs(set, q, wt);
        break;
    }
    default:
        if (!ref.has_blob)
            roar_cli_die("'%s' has no content to export the lineage of", arg);
        add_edge_jobs(set, q, ref.blob);
        break;
    }
    roar_objref_dispose(&ref);
}

bool roar_export_succeeded(const roar_job *job)
{
    return job->end_kind == ROAR_END_EXIT && job->end_code == 0;
}

void roar_export_put_time(roar_buf *out, int64_t ms)
{
    if (roar_time_format(out, ms) < 0)
        roar_cli_die_error();
}

void roar_export_put_command(roar_buf *out, const roar_job *job)
{
    roar_buf cmd = ROAR_BUF_INIT;
    CHECK(roar_quote_argv(&cmd, (const char *const *)job->argv, job->argc));
    CHECK(roar_json_string(out, cmd.ptr, cmd.size, NULL));
    roar_buf_dispose(&cmd);
}

/* ---- json ------------------------------------------------------------------------ */

/* Each job whole, with its commits and scope (what `show --json` gives). */
static void export_json(roar_buf *out, const roar_export_jobs *set)
{
    roar_query_job j;
    size_t i;

    roar_query_job_init(&j);
    CHECK(roar_buf_printf(out, "{\"version\":%d,\"jobs\":[", ROAR_QUERY_JSON_VERSION));
    roar_export_pass_begin(set);
    for (i = 0; i < set->count; i++) {
        roar_query_job_load(&j, set->q, set->ids[i]);
        CHECK(roar_buf_puts(out, i ? "," : ""));
        CHECK(roar_query_json_job(out, &j, true));
        roar_export_maybe_flush(set, out);
    }
    roar_query_job_dispose(&j);
    CHECK(roar_buf_puts(out, "]}\n"));
    roar_export_pass_end(set, out);
}

/* ---- dot ------------------------------------------------------------------------ */

/* A quoted dot ID or label; a newline in it is a line break, control bytes show. */
static void dot_string(roar_buf *out, const char *s)
{
    CHECK(roar_buf_putc(out, '"'));
    CHECK(roar_escape_dot(out, s, strlen(s)));
    CHECK(roar_buf_putc(out, '"'));
}

/* Records hold paths inside the work tree relative to its top, and paths outside it
 * absolute (SPEC §4.2). */
static bool outside_path(const char *path)
{
    return path[0] == '/';
}

/* Artifact nodes are keyed by (path, blob id), as lineage keys them: the same content
 * at two paths is two files, and one path holding two contents is two versions. Node
 * ids are numbers given in order of appearance, never the path: escaped text is not an
 * injective name (a `\033` typed in a path and an ESC byte escape alike). */
typedef struct {
    roar_keymap nodes;   /* "<path>\0<id>" -> node number */
    roar_keymap written; /* "<path>\0<id>" of the outputs outside the work tree */
    size_t count;
    roar_buf key;
} dot_graph;

/* Sets d->key to the key of an edge with a known id. */
static void dot_key(dot_graph *d, const roar_edge *edge)
{
    roar_buf_clear(&d->key);
    CHECK(roar_buf_puts(&d->key, edge->path));
    CHECK(roar_buf_putc(&d->key, '\0'));
    CHECK(roar_buf_puts(&d->key, edge->id));
}

/* Whether an input is drawn as its own node: inside the work tree, with `--outside`, or
 * written outside the work tree by a job of the set (it links two jobs then). */
static bool dot_drawn(dot_graph *d, const roar_edge *edge, bool all_outside)
{
    if (all_outside || edge->role != ROAR_ROLE_IN || !outside_path(edge->path))
        return true;
    if (!edge->id_known)
        return false;
    dot_key(d, edge);
    return roar_keymap_get(&d->written, d->key.ptr, d->key.size) != NULL;
}

/* The node of an edge's file, declared the first time it is met; an unknown content
 * (recorded `-`) is a node of its own each time, as nothing says two are the same. */
static size_t dot_artifact(roar_buf *out, dot_graph *d, const roar_edge *edge)
{
    roar_buf label = ROAR_BUF_INIT;
    size_t node;

    if (edge->id_known) {
        void *hit;
        dot_key(d, edge);
        if ((hit = roar_keymap_get(&d->nodes, d->key.ptr, d->key.size)) != NULL)
            return (size_t)(uintptr_t)hit;
    }
    node = ++d->count;
    if (edge->id_known)
        CHECK(roar_keymap_put(&d->nodes, d->key.ptr, d->key.size, (void *)(uintptr_t)node));
    CHECK(roar_buf_printf(&label, "%s\n%.7s", edge->path, edge->id_known ? edge->id : "-"));
    CHECK(roar_buf_printf(out, "  a%zu [shape=ellipse,label=", node));
    dot_string(out, label.ptr);
    CHECK(roar_buf_puts(out, "];\n"));
    roar_buf_dispose(&label);
    return node;
}

/* `all_outside`: draw every input outside the work tree; by default those no job of the
 * set wrote are one "N outside files" node per job (toolchains read dozens). */
static void export_dot(roar_buf *out, const roar_export_jobs *set, bool all_outside)
{
    dot_graph d = {ROAR_KEYMAP_INIT, ROAR_KEYMAP_INIT, 0, ROAR_BUF_INIT};
    roar_job job;
    size_t i, e;

    roar_job_init(&job);

    /* A first pass, for the outputs outside the work tree only: whether an input
     * outside it is drawn depends on whether any job of the set wrote it, later ones
     * included. */
    roar_export_pass_begin(set);
    for (i = 0; i < set->count && !all_outside; i++) {
        roar_export_load(&job, set, i, true);
        for (e = 0; e < job.edge_count; e++) {
            if (job.edges[e].role != ROAR_ROLE_OUT || !job.edges[e].id_known ||
                !outside_path(job.edges[e].path))
                continue;
            dot_key(&d, &job.edges[e]);
            CHECK(roar_keymap_put(&d.written, d.key.ptr, d.key.size, (void *)1));
        }
    }
    CHECK(roar_buf_puts(out, "digraph roar {\n  rankdir=LR;\n"));
    for (i = 0; i < set->count; i++) {
        roar_buf label = ROAR_BUF_INIT;
        size_t outside = 0;
        roar_export_load(&job, set, i, true);
        CHECK(roar_buf_printf(&label, "%.7s\n", job.id));
        CHECK(roar_escape_argv(&label, (const char *const *)job.argv, job.argc));
        CHECK(roar_buf_printf(out, "  \"job:%s\" [shape=box,label=", job.id));
        dot_string(out, label.ptr);
        CHECK(roar_buf_puts(out, roar_export_succeeded(&job) ? "];\n" : ",color=red];\n"));
        roar_buf_dispose(&label);
        for (e = 0; e < job.edge_count; e++) {
            const roar_edge *edge = &job.edges[e];
            size_t node;
            if (edge->role == ROAR_ROLE_DEL)
                continue;
            if (!dot_drawn(&d, edge, all_outside)) {
                outside++;
                continue;
            }
            node = dot_artifact(out, &d, edge);
            if (edge->role == ROAR_ROLE_IN)
                CHECK(roar_buf_printf(out, "  a%zu -> \"job:%s\";\n", node, job.id));
            else
                CHECK(roar_buf_printf(out, "  \"job:%s\" -> a%zu;\n", job.id, node));
        }
        if (outside)
            CHECK(roar_buf_printf(out,
                                  "  \"outside:%s\" [shape=ellipse,style=dashed,"
                                  "label=\"%zu outside file%s\"];\n"
                                  "  \"outside:%s\" -> \"job:%s\";\n",
                                  job.id, outside, outside == 1 ? "" : "s", job.id, job.id));
        roar_export_maybe_flush(set, out);
    }
    CHECK(roar_buf_puts(out, "}\n"));
    roar_export_pass_end(set, out);
    roar_job_dispose(&job);
    roar_keymap_dispose(&d.nodes);
    roar_keymap_dispose(&d.written);
    roar_buf_dispose(&d.key);
}

int roar_cmd_export(roar_cli_ctx *ctx)
{
    const char *format = roar_cli_opt_string(ctx, "format", NULL);
    roar_export_jobs set = {0};
    candidates named = {0};
    roar_buf out = ROAR_BUF_INIT;

    if (!format)
        roar_cli_usage_error(ctx->cmd, "--format is required");
    set.q = roar_query_open(ctx);
    /* Memory follows one job, not the database the passes read through. */
    if (roar_query_cache(set.q) &&
        roar_cache_for_scans(roar_query_cache(set.q), EXPORT_CACHE_KIB) < 0)
        roar_cli_die_error();
    select_jobs(&named, set.q, ctx);
    /* The scope and HEAD's reachable set are brought up to date here, while the cache
     * may still be written: the passes read inside snapshots. */
    if (roar_query_cache(set.q))
        roar_query_scope(set.q);
    settle_jobs(&set, &named);
    free(named.items);

    if (!strcmp(format, "json"))
        export_json(&out, &set);
    else if (!strcmp(format, "prov-json"))
        roar_export_prov(&out, &set);
    else if (!strcmp(format, "openlineage"))
        roar_export_openlineage(&out, &set, ctx->repo);
    else
        export_dot(&out, &set, roar_cli_opt_set(ctx, "outside"));
    roar_query_flush(&out);

    roar_buf_dispose(&out);
    free(set.ids);
    roar_query_free(set.q);
    return ROAR_EXIT_OK;
}
