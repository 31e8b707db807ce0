/* `git roar export --format prov-json|openlineage|dot|json [OBJ|RANGE]`: the jobs in
 * scope (or of OBJ / RANGE) for other lineage tools: W3C PROV-JSON, OpenLineage, dot. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "cli/check.h"
#include "cli/cli.h"
#include "cli/objref.h"
#include "cli/query.h"
#include "util/err.h"
#include "util/escape.h"
#include "util/json.h"
#include "util/quote.h"
#include "util/timefmt.h"

#define OL_PRODUCER "https://git-roar.invalid/git-roar/" ROAR_VERSION
#define OL_SCHEMA "https://openlineage.io/spec/2-0-2/OpenLineage.json#/definitions/RunEvent"
#define OL_FACET_SCHEMA                                                                            \
    "https://openlineage.io/spec/facets/1-0-0/DatasetVersionDatasetFacet.json#/$defs/"             \
    "DatasetVersionDatasetFacet"

typedef struct {
    roar_query_job *items;
    size_t count, alloc;
} job_set;

static void add_job(job_set *set, roar_query *q, const char *id, bool scoped)
{
    size_t i;
    for (i = 0; i < set->count; i++)
        if (!strcmp(set->items[i].job.id, id))
            return;
    if (ROAR_ALLOC_GROW(set->items, set->count + 1, set->alloc) < 0)
        roar_cli_oom();
    roar_query_job_init(&set->items[set->count]);
    roar_query_job_load(&set->items[set->count], q, id);
    if (scoped && !roar_query_job_in_scope(&set->items[set->count]))
        roar_query_job_dispose(&set->items[set->count]);
    else
        set->count++;
}

static void job_set_dispose(job_set *set)
{
    size_t i;
    for (i = 0; i < set->count; i++)
        roar_query_job_dispose(&set->items[i]);
    free(set->items);
}

/* Oldest first: export formats read as a history. */
static int by_start(const void *a, const void *b)
{
    const roar_job *x = &((const roar_query_job *)a)->job, *y = &((const roar_query_job *)b)->job;
    if (x->start_ms != y->start_ms)
        return x->start_ms < y->start_ms ? -1 : 1;
    return strcmp(x->id, y->id);
}

static void add_commit_jobs(job_set *set, roar_query *q, const char *commit)
{
    roar_cache_id_list ids = ROAR_CACHE_ID_LIST_INIT;
    size_t i;
    if (roar_cache_commit_jobs(&ids, roar_query_cache(q), commit) < 0)
        roar_cli_die_error();
    for (i = 0; i < ids.count; i++)
        add_job(set, q, ids.items[i], false);
    roar_cache_id_list_dispose(&ids);
}

static void add_edge_jobs(job_set *set, roar_query *q, const char *blob)
{
    roar_cache_edge_list edges = ROAR_CACHE_EDGE_LIST_INIT;
    size_t i;
    if (roar_cache_producers(&edges, roar_query_cache(q), blob) < 0)
        roar_cli_die_error();
    for (i = 0; i < edges.count; i++)
        add_job(set, q, edges.items[i].job_id, true);
    if (roar_cache_consumers(&edges, roar_query_cache(q), blob) < 0)
        roar_cli_die_error();
    for (i = 0; i < edges.count; i++)
        add_job(set, q, edges.items[i].job_id, true);
    roar_cache_edge_list_dispose(&edges);
}

/* Which jobs: every job in scope; a RANGE's attached jobs; an OBJ's (a job; a commit's
 * attached jobs; the producers and consumers of a file's or blob's content). */
static void select_jobs(job_set *set, roar_query *q, roar_cli_ctx *ctx)
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
            add_job(set, q, all.items[i].id, true);
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
        add_job(set, q, ref.job, false);
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

static bool succeeded(const roar_job *job)
{
    return job->end_kind == ROAR_END_EXIT && job->end_code == 0;
}

static void put_time(roar_buf *out, int64_t ms)
{
    if (roar_time_format(out, ms) < 0)
        roar_cli_die_error();
}

static void put_command(roar_buf *out, const roar_job *job)
{
    roar_buf cmd = ROAR_BUF_INIT;
    CHECK(roar_quote_argv(&cmd, (const char *const *)job->argv, job->argc));
    CHECK(roar_json_string(out, cmd.ptr, cmd.size, NULL));
    roar_buf_dispose(&cmd);
}

/* ---- json ------------------------------------------------------------------------ */

static void export_json(roar_buf *out, const job_set *set)
{
    size_t i;
    CHECK(roar_buf_printf(out, "{\"version\":%d,\"jobs\":[", ROAR_QUERY_JSON_VERSION));
    for (i = 0; i < set->count; i++) {
        CHECK(roar_buf_puts(out, i ? "," : ""));
        CHECK(roar_query_json_job(out, &set->items[i], true));
    }
    CHECK(roar_buf_puts(out, "]}\n"));
}

/* ---- W3C PROV-JSON -------------------------------------------------------------- */

/* An agent's qualified name, as a JSON string whatever bytes the user name holds. */
static void put_agent(roar_buf *out, const char *user)
{
    roar_buf id = ROAR_BUF_INIT;
    CHECK(roar_buf_printf(&id, "agent:%s", user));
    CHECK(roar_json_string(out, id.ptr, id.size, NULL));
    roar_buf_dispose(&id);
}

/* The `used` (inputs, at the job's start) or `wasGeneratedBy` (outputs, at its end)
 * relations of every job's edges whose content is known, numbered on from *n. */
static void put_prov_edges(roar_buf *out, const job_set *set, roar_role role, size_t *n)
{
    bool first = true;
    size_t i, e;

    for (i = 0; i < set->count; i++) {
        const roar_job *job = &set->items[i].job;
        for (e = 0; e < job->edge_count; e++) {
            const roar_edge *edge = &job->edges[e];
            if (edge->role != role || !edge->id_known)
                continue;
            if (role == ROAR_ROLE_IN)
                CHECK(roar_buf_printf(out,
                                      "%s\n\"_:u%zu\":{\"prov:activity\":\"job:%s\","
                                      "\"prov:entity\":\"blob:%s\",\"prov:time\":\"",
                                      first ? "" : ",", ++*n, job->id, edge->id));
            else
                CHECK(roar_buf_printf(out,
                                      "%s\n\"_:g%zu\":{\"prov:entity\":\"blob:%s\","
                                      "\"prov:activity\":\"job:%s\",\"prov:time\":\"",
                                      first ? "" : ",", ++*n, edge->id, job->id));
            put_time(out, role == ROAR_ROLE_IN ? job->start_ms : job->end_ms);
            CHECK(roar_buf_puts(out, "\",\"roar:path\":"));
            CHECK(roar_json_cstr(out, edge->path));
            CHECK(roar_buf_putc(out, '}'));
            first = false;
        }
    }
}

/* Entities are contents (blob ids): one content read by one job and written by another
 * is one entity, which is what joins the graph. Its label is the first path seen. */
static void export_prov(roar_buf *out, const job_set *set)
{
    size_t i, e, n = 0;
    bool first = true;

    CHECK(roar_buf_puts(out, "{\"prefix\":{\"roar\":\"https://git-roar.invalid/ns#\","
                             "\"blob\":\"urn:git:blob:\",\"job\":\"urn:git-roar:job:\","
                             "\"agent\":\"urn:git-roar:agent:\"},\n\"entity\":{"));
    /* Each blob once: a linear scan over earlier edges keeps it simple and exact. */
    for (i = 0; i < set->count; i++) {
        const roar_job *job = &set->items[i].job;
        for (e = 0; e < job->edge_count; e++) {
            const roar_edge *edge = &job->edges[e];
            size_t pi, pe;
            bool seen = false;
            if (edge->role == ROAR_ROLE_DEL || !edge->id_known)
                continue;
            for (pi = 0; pi <= i && !seen; pi++) {
                const roar_job *pj = &set->items[pi].job;
                for (pe = 0; pe < (pi == i ? e : pj->edge_count) && !seen; pe++)
                    seen = pj->edges[pe].role != ROAR_ROLE_DEL && pj->edges[pe].id_known &&
                           !strcmp(pj->edges[pe].id, edge->id);
            }
            if (seen)
                continue;
            CHECK(roar_buf_printf(out, "%s\n\"blob:%s\":{\"prov:label\":", first ? "" : ",",
                                  edge->id));
            CHECK(roar_json_cstr(out, edge->path));
            CHECK(roar_buf_printf(out, ",\"roar:size\":%llu,\"prov:type\":\"roar:file\"}",
                                  (unsigned long long)edge->size));
            first = false;
        }
    }
    CHECK(roar_buf_puts(out, "},\n\"activity\":{"));
    for (i = 0; i < set->count; i++) {
        const roar_job *job = &set->items[i].job;
        CHECK(roar_buf_printf(out, "%s\n\"job:%s\":{\"prov:startTime\":\"", i ? "," : "", job->id));
        put_time(out, job->start_ms);
        CHECK(roar_buf_puts(out, "\",\"prov:endTime\":\""));
        put_time(out, job->end_ms);
        CHECK(roar_buf_puts(out, "\",\"prov:label\":"));
        put_command(out, job);
        CHECK(roar_buf_printf(out, ",\"roar:%s\":%d,\"prov:type\":\"roar:job\"}",
                              job->end_kind == ROAR_END_SIGNAL ? "signal" : "exit", job->end_code));
    }
    CHECK(roar_buf_puts(out, "},\n\"agent\":{"));
    first = true;
    for (i = 0; i < set->count; i++) {
        const roar_job *job = &set->items[i].job;
        size_t k;
        bool seen = false;
        if (!job->user)
            continue;
        for (k = 0; k < i && !seen; k++)
            seen = set->items[k].job.user && !strcmp(set->items[k].job.user, job->user);
        if (seen)
            continue;
        CHECK(roar_buf_puts(out, first ? "\n" : ",\n"));
        put_agent(out, job->user);
        CHECK(roar_buf_puts(out, ":{\"prov:type\":\"prov:Person\",\"prov:label\":"));
        CHECK(roar_json_cstr(out, job->user));
        CHECK(roar_buf_putc(out, '}'));
        first = false;
    }
    CHECK(roar_buf_puts(out, "},\n\"used\":{"));
    put_prov_edges(out, set, ROAR_ROLE_IN, &n);
    CHECK(roar_buf_puts(out, "},\n\"wasGeneratedBy\":{"));
    put_prov_edges(out, set, ROAR_ROLE_OUT, &n);
    CHECK(roar_buf_puts(out, "},\n\"wasAssociatedWith\":{"));
    first = true;
    for (i = 0; i < set->count; i++) {
        const roar_job *job = &set->items[i].job;
        if (!job->user)
            continue;
        CHECK(roar_buf_printf(out, "%s\n\"_:a%zu\":{\"prov:activity\":\"job:%s\",\"prov:agent\":",
                              first ? "" : ",", ++n, job->id));
        put_agent(out, job->user);
        CHECK(roar_buf_putc(out, '}'));
        first = false;
    }
    CHECK(roar_buf_puts(out, "}}\n"));
}

/* ---- OpenLineage ---------------------------------------------------------------- */

/* A run id must be a UUID; the job id's first 128 bits with the version (5, name-based
 * SHA-1) and variant bits set make it stable: exporting twice gives the same runs. */
static void put_uuid(roar_buf *out, const char *job_id)
{
    char h[33];
    static const char hex[] = "0123456789abcdef";
    int v;
    memcpy(h, job_id, 32);
    h[32] = 0;
    h[12] = '5';
    v = (int)(strchr(hex, h[16]) - hex);
    h[16] = hex[(v & 0x3) | 0x8];
    CHECK(roar_buf_printf(out, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20));
}

static void ol_datasets(roar_buf *out, const char *key, const roar_job *job, roar_role role,
                        const char *ns)
{
    size_t e;
    bool first = true;
    CHECK(roar_buf_printf(out, ",\"%s\":[", key));
    for (e = 0; e < job->edge_count; e++) {
        const roar_edge *edge = &job->edges[e];
        if (edge->role != role)
            continue;
        CHECK(roar_buf_puts(out, first ? "{\"namespace\":" : ",{\"namespace\":"));
        CHECK(roar_json_cstr(out, ns));
        CHECK(roar_buf_puts(out, ",\"name\":"));
        CHECK(roar_json_cstr(out, edge->path));
        if (edge->id_known)
            CHECK(roar_buf_printf(out,
                                  ",\"facets\":{\"version\":{\"_producer\":\"%s\","
                                  "\"_schemaURL\":\"%s\",\"datasetVersion\":\"%s\"}}",
                                  OL_PRODUCER, OL_FACET_SCHEMA, edge->id));
        CHECK(roar_buf_putc(out, '}'));
        first = false;
    }
    CHECK(roar_buf_putc(out, ']'));
}

static void ol_event(roar_buf *out, const roar_job *job, const char *type, int64_t ms,
                     const char *ns)
{
    CHECK(roar_buf_printf(out, "{\"eventType\":\"%s\",\"eventTime\":\"", type));
    put_time(out, ms);
    CHECK(roar_buf_printf(out, "\",\"producer\":\"%s\",\"schemaURL\":\"%s\",\"run\":{\"runId\":\"",
                          OL_PRODUCER, OL_SCHEMA));
    put_uuid(out, job->id);
    CHECK(roar_buf_printf(out, "\",\"facets\":{}},\"job\":{\"namespace\":"));
    CHECK(roar_json_cstr(out, ns));
    CHECK(roar_buf_puts(out, ",\"name\":"));
    put_command(out, job);
    CHECK(roar_buf_puts(out, ",\"facets\":{}}"));
    ol_datasets(out, "inputs", job, ROAR_ROLE_IN, ns);
    /* Outputs are known when the run ends, not when it starts. */
    if (strcmp(type, "START") != 0)
        ol_datasets(out, "outputs", job, ROAR_ROLE_OUT, ns);
    else
        CHECK(roar_buf_puts(out, ",\"outputs\":[]"));
    CHECK(roar_buf_puts(out, "}\n"));
}

/* The namespace: git config roar.namespace, else the work tree (or git dir) as a URI. */
static void ol_namespace(roar_buf *out, roar_repo *repo)
{
    git_config *cfg = NULL;
    git_buf val = GIT_BUF_INIT;
    if (git_repository_config_snapshot(&cfg, roar_repo_git(repo)) == 0 &&
        git_config_get_string_buf(&val, cfg, "roar.namespace") == 0 && val.size)
        CHECK(roar_buf_puts(out, val.ptr));
    else
        CHECK(roar_buf_printf(out, "file://%s",
                              roar_repo_worktree(repo) ? roar_repo_worktree(repo)
                                                       : roar_repo_commondir(repo)));
    git_error_clear();
    git_buf_dispose(&val);
    git_config_free(cfg);
}

static void export_openlineage(roar_buf *out, const job_set *set, roar_repo *repo)
{
    roar_buf ns = ROAR_BUF_INIT;
    size_t i;
    ol_namespace(&ns, repo);
    for (i = 0; i < set->count; i++) {
        const roar_job *job = &set->items[i].job;
        ol_event(out, job, "START", job->start_ms, ns.ptr);
        ol_event(out, job, succeeded(job) ? "COMPLETE" : "FAIL", job->end_ms, ns.ptr);
    }
    roar_buf_dispose(&ns);
}

/* ---- dot ------------------------------------------------------------------------ */

/* A quoted dot ID or label; a newline in it is a line break, control bytes show. */
static void dot_string(roar_buf *out, const char *s)
{
    CHECK(roar_buf_putc(out, '"'));
    CHECK(roar_escape_dot(out, s, strlen(s)));
    CHECK(roar_buf_putc(out, '"'));
}

static void export_dot(roar_buf *out, const job_set *set)
{
    size_t i, e;
    CHECK(roar_buf_puts(out, "digraph roar {\n  rankdir=LR;\n"));
    for (i = 0; i < set->count; i++) {
        const roar_job *job = &set->items[i].job;
        roar_buf label = ROAR_BUF_INIT;
        CHECK(roar_buf_printf(&label, "%.7s\n", job->id));
        CHECK(roar_escape_argv(&label, (const char *const *)job->argv, job->argc));
        CHECK(roar_buf_printf(out, "  \"job:%s\" [shape=box,label=", job->id));
        dot_string(out, label.ptr);
        CHECK(roar_buf_puts(out, succeeded(job) ? "];\n" : ",color=red];\n"));
        roar_buf_dispose(&label);
        for (e = 0; e < job->edge_count; e++) {
            const roar_edge *edge = &job->edges[e];
            roar_buf node = ROAR_BUF_INIT;
            if (edge->role == ROAR_ROLE_DEL)
                continue;
            /* Content nodes: a blob id joins a producer to its consumers. */
            if (edge->id_known)
                CHECK(roar_buf_printf(&node, "blob:%s", edge->id));
            else
                CHECK(roar_buf_printf(&node, "unknown:%s:%zu", job->id, e));
            CHECK(roar_buf_puts(out, "  "));
            dot_string(out, node.ptr);
            CHECK(roar_buf_puts(out, " [shape=ellipse,label="));
            roar_buf_clear(&label);
            CHECK(roar_buf_printf(&label, "%s\n%.7s", edge->path, edge->id_known ? edge->id : "-"));
            dot_string(out, label.ptr);
            CHECK(roar_buf_puts(out, "];\n  "));
            if (edge->role == ROAR_ROLE_IN) {
                dot_string(out, node.ptr);
                CHECK(roar_buf_printf(out, " -> \"job:%s\";\n", job->id));
            } else {
                CHECK(roar_buf_printf(out, "\"job:%s\" -> ", job->id));
                dot_string(out, node.ptr);
                CHECK(roar_buf_puts(out, ";\n"));
            }
            roar_buf_dispose(&node);
            roar_buf_dispose(&label);
        }
    }
    CHECK(roar_buf_puts(out, "}\n"));
}

int roar_cmd_export(roar_cli_ctx *ctx)
{
    const char *format = roar_cli_opt_string(ctx, "format", NULL);
    roar_query *q;
    job_set set = {0};
    roar_buf out = ROAR_BUF_INIT;

    if (!format)
        roar_cli_usage_error(ctx->cmd, "--format is required");
    q = roar_query_open(ctx);
    select_jobs(&set, q, ctx);
    if (set.count > 1)
        qsort(set.items, set.count, sizeof(*set.items), by_start);

    if (!strcmp(format, "json"))
        export_json(&out, &set);
    else if (!strcmp(format, "prov-json"))
        export_prov(&out, &set);
    else if (!strcmp(format, "openlineage"))
        export_openlineage(&out, &set, ctx->repo);
    else
        export_dot(&out, &set);
    roar_query_flush(&out);

    roar_buf_dispose(&out);
    job_set_dispose(&set);
    roar_query_free(q);
    return ROAR_EXIT_OK;
}
