/* `git roar lineage [--down] [--depth N] [--format text|json|dot|mermaid] [--outside] OBJ`:
 * what OBJ was derived from (or what was derived from it), as a tree, JSON, dot or mermaid. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/check.h"
#include "cli/cli.h"
#include "cli/objref.h"
#include "cli/query.h"
#include "graph/lineage.h"
#include "util/err.h"
#include "util/escape.h"
#include "util/json.h"
#include "util/quote.h"
#include "util/timefmt.h"

/* SQLite's page cache for a walk: its lookups by content and by job land all over the
 * database, and a page read again from the cache costs nothing, from the file a
 * system call. */
#define LINEAGE_CACHE_KIB (64 * 1024)

/* For each node, the nodes one step further from the root, in the order found. */
typedef struct {
    size_t *items;
    size_t count, alloc;
} child_list;

static child_list *children_of(const roar_lineage_graph *g)
{
    child_list *c = calloc(g->count ? g->count : 1, sizeof(*c));
    size_t i;
    if (!c)
        roar_cli_oom();
    for (i = 0; i < g->edge_count; i++) {
        const roar_lineage_edge *e = &g->edges[i];
        size_t parent = g->down ? e->from : e->to, child = g->down ? e->to : e->from;
        CHECK(ROAR_ALLOC_GROW(c[parent].items, c[parent].count + 1, c[parent].alloc));
        c[parent].items[c[parent].count++] = child;
    }
    return c;
}

static void children_free(child_list *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(c[i].items);
    free(c);
}

static bool failed(const roar_lineage_job *job)
{
    return job->end_kind != ROAR_END_EXIT || job->end_code != 0;
}

/* One line of a node without the tree drawing; `sep` between the parts of a label. */
static void put_label(roar_buf *out, const roar_lineage_node *n, const char *sep)
{
    if (n->kind == ROAR_LINEAGE_JOB) {
        CHECK(roar_buf_printf(out, "job %.*s%s", ROAR_QUERY_ABBREV, n->id, sep));
        CHECK(roar_escape_argv(out, (const char *const *)n->job.argv, n->job.argc));
        if (failed(&n->job))
            CHECK(roar_buf_printf(out, "%s[%s %d]", sep,
                                  n->job.end_kind == ROAR_END_SIGNAL ? "signal" : "exit",
                                  n->job.end_code));
        return;
    }
    if (n->path)
        CHECK(roar_query_put_path(out, n->path));
    else
        CHECK(roar_buf_puts(out, "blob"));
    if (n->id_known)
        CHECK(roar_buf_printf(out, "%s%.*s", sep, ROAR_QUERY_ABBREV, n->id));
    else
        CHECK(roar_buf_printf(out, "%s- (content unknown)", sep));
}

/* ---- text: an indented tree ------------------------------------------------------ */

/* The tree is indented at most this many levels (4 columns each). A node that deep has
 * its subtree drawn from the left margin again, under a line `[depth N] <label>` that
 * names it again (N as in --depth and the JSON: jobs from the root): a chain of a
 * million jobs prints about two million lines, not 10^12 spaces of indentation. */
#define TEXT_MAX_LEVELS 40

/* Output is written past this many bytes: a wide graph prints as it goes, and memory
 * holds the graph, never its printed form. */
#define LINEAGE_FLUSH_AT (64 * 1024)

static void maybe_flush(roar_buf *out)
{
    if (out->size >= LINEAGE_FLUSH_AT)
        roar_query_flush(out);
}

/* A node whose children are being drawn: the next child, the prefix length to return to,
 * and where its children's prefix starts in the prefix buffer (0 but when re-rooted). */
typedef struct {
    size_t node, next, plen, base, level;
} text_frame;

/* Draws node i's line under `prefix` (from `base`). Returns whether its children come
 * next: a shared node (a diamond) is drawn once; later mentions point back. */
static bool text_line(roar_buf *out, const roar_lineage_graph *g, const child_list *kids,
                      bool *shown, size_t i, const roar_buf *prefix, size_t base, bool root,
                      bool last)
{
    CHECK(roar_buf_put(out, prefix->ptr + base, prefix->size - base));
    if (!root)
        CHECK(roar_buf_puts(out, last ? "`-- " : "|-- "));
    put_label(out, &g->nodes[i], "  ");
    if (shown[i] && kids[i].count) {
        CHECK(roar_buf_puts(out, "  (see above)\n"));
        return false;
    }
    if (g->nodes[i].truncated)
        CHECK(roar_buf_puts(out, "  ..."));
    CHECK(roar_buf_putc(out, '\n'));
    shown[i] = true;
    return true;
}

/* Depth first from the root, on an explicit stack (the depth comes from notes). */
static void put_text_tree(roar_buf *out, const roar_lineage_graph *g, const child_list *kids,
                          bool *shown, size_t root)
{
    text_frame *stack = NULL;
    size_t n = 0, alloc = 0;
    roar_buf prefix = ROAR_BUF_INIT;

    if (!text_line(out, g, kids, shown, root, &prefix, 0, true, true))
        return;
    CHECK(ROAR_ALLOC_GROW(stack, 1, alloc));
    stack[n++] = (text_frame){root, 0, 0, 0, 0};
    while (n) {
        text_frame *f = &stack[n - 1];
        size_t child, base = f->base, level = f->level + 1;
        bool last;

        if (f->next == kids[f->node].count) {
            roar_buf_truncate(&prefix, f->plen);
            n--;
            continue;
        }
        child = kids[f->node].items[f->next++];
        last = f->next == kids[f->node].count;
        if (!text_line(out, g, kids, shown, child, &prefix, base, false, last) ||
            !kids[child].count)
            continue;
        CHECK(ROAR_ALLOC_GROW(stack, n + 1, alloc));
        stack[n] = (text_frame){child, 0, prefix.size, base, level};
        CHECK(roar_buf_puts(&prefix, last ? "    " : "|   "));
        if (level % TEXT_MAX_LEVELS == 0) {
            CHECK(roar_buf_printf(out, "[depth %u] ", g->nodes[child].depth));
            put_label(out, &g->nodes[child], "  ");
            CHECK(roar_buf_putc(out, '\n'));
            stack[n].base = prefix.size;
        }
        n++;
        maybe_flush(out);
    }
    free(stack);
    roar_buf_dispose(&prefix);
}

static void put_text(roar_buf *out, const roar_lineage_graph *g)
{
    child_list *kids = children_of(g);
    bool *shown = calloc(g->count, sizeof(*shown));

    if (!shown)
        roar_cli_oom();
    for (size_t r = 0; r < (g->roots ? g->roots : 1) && r < g->count; r++)
        put_text_tree(out, g, kids, shown, r);
    if (g->count == 1 && g->nodes[0].kind == ROAR_LINEAGE_ARTIFACT)
        CHECK(roar_buf_puts(out, g->down ? "no recorded job read this content\n"
                                         : "no recorded job produced this content\n"));
    free(shown);
    children_free(kids, g->count);
}

/* ---- json ------------------------------------------------------------------------ */

static void put_time(roar_buf *out, int64_t ms)
{
    if (roar_time_format(out, ms) < 0) {
        roar_error_clear();
        CHECK(roar_buf_printf(out, "@%lld", (long long)ms));
    }
}

static void put_json(roar_buf *out, const roar_lineage_graph *g, unsigned depth)
{
    roar_buf cmd = ROAR_BUF_INIT;
    size_t i;

    CHECK(roar_buf_printf(out, "{\"version\":%d,\"direction\":\"%s\",\"depth\":",
                          ROAR_QUERY_JSON_VERSION, g->down ? "down" : "up"));
    CHECK(depth ? roar_buf_printf(out, "%u", depth) : roar_buf_puts(out, "null"));
    CHECK(roar_buf_puts(out, ",\"root\":0,\"roots\":[0"));
    for (i = 1; i < g->roots && i < g->count; i++)
        CHECK(roar_buf_printf(out, ",%zu", i));
    CHECK(roar_buf_puts(out, "],\"nodes\":["));
    for (i = 0; i < g->count; i++) {
        const roar_lineage_node *n = &g->nodes[i];
        CHECK(roar_buf_printf(out, "%s{\"index\":%zu,\"kind\":\"%s\",\"depth\":%u,", i ? "," : "",
                              i, n->kind == ROAR_LINEAGE_JOB ? "job" : "artifact", n->depth));
        if (n->kind == ROAR_LINEAGE_JOB) {
            roar_buf_clear(&cmd);
            CHECK(roar_quote_argv(&cmd, (const char *const *)n->job.argv, n->job.argc));
            CHECK(roar_buf_printf(out, "\"id\":\"%s\",\"command\":", n->id));
            CHECK(roar_json_cstr(out, cmd.ptr));
            CHECK(roar_buf_putc(out, ','));
            CHECK(roar_query_json_path(out, "cwd", n->job.cwd));
            CHECK(roar_buf_puts(out, ",\"end\":\""));
            put_time(out, n->job.end_ms);
            CHECK(n->job.end_kind == ROAR_END_SIGNAL
                      ? roar_buf_printf(out, "\",\"exit\":null,\"signal\":%d", n->job.end_code)
                      : roar_buf_printf(out, "\",\"exit\":%d,\"signal\":null", n->job.end_code));
        } else {
            if (n->path)
                CHECK(roar_query_json_path(out, "path", n->path));
            else
                CHECK(roar_buf_puts(out, "\"path\":null"));
            CHECK(n->id_known ? roar_buf_printf(out, ",\"id\":\"%s\"", n->id)
                              : roar_buf_puts(out, ",\"id\":null"));
            CHECK(roar_buf_printf(out, ",\"size\":%llu", (unsigned long long)n->size));
        }
        CHECK(roar_buf_printf(out, ",\"truncated\":%s}", n->truncated ? "true" : "false"));
        maybe_flush(out);
    }
    CHECK(roar_buf_puts(out, "],\"edges\":["));
    for (i = 0; i < g->edge_count; i++) {
        CHECK(roar_buf_printf(out, "%s{\"from\":%zu,\"to\":%zu,\"role\":\"%s\"}", i ? "," : "",
                              g->edges[i].from, g->edges[i].to,
                              g->edges[i].role == ROAR_ROLE_IN ? "in" : "out"));
        maybe_flush(out);
    }
    CHECK(roar_buf_puts(out, "]}\n"));
    roar_buf_dispose(&cmd);
}

/* ---- dot and mermaid ---------------------------------------------------------------- */

/* A node's label in the target syntax: its terminal form (paths C-quoted, commands
 * shell-quoted), its lines joined by the target's line break (escape.h). */
static void put_escaped_label(roar_buf *out, const roar_lineage_node *n, bool mermaid)
{
    roar_buf raw = ROAR_BUF_INIT;
    put_label(&raw, n, "\n");
    CHECK(mermaid ? roar_escape_mermaid(out, raw.ptr, raw.size)
                  : roar_escape_dot(out, raw.ptr, raw.size));
    roar_buf_dispose(&raw);
}

/* What the picture folds: by default an input outside the work tree (an absolute path,
 * SPEC §4.2) that is no root, has no producer drawn and nothing cut off beyond it is
 * not drawn; each job shows how many such inputs it read as one "N outside files" node
 * (toolchains read dozens). Anything outside that leads further stays. folded[i]: node
 * i is not drawn; outside[j]: job j's count. NULL arrays when nothing folds. */
typedef struct {
    bool *folded;
    size_t *outside;
} fold;

static fold fold_outside(const roar_lineage_graph *g, bool all_outside)
{
    fold f = {NULL, NULL};
    size_t i, roots = g->roots ? g->roots : 1;

    if (all_outside || !g->count)
        return f;
    if (!(f.folded = calloc(g->count, sizeof(*f.folded))) ||
        !(f.outside = calloc(g->count, sizeof(*f.outside))))
        roar_cli_oom();
    for (i = roots; i < g->count; i++) {
        const roar_lineage_node *n = &g->nodes[i];
        f.folded[i] =
            n->kind == ROAR_LINEAGE_ARTIFACT && n->path && n->path[0] == '/' && !n->truncated;
    }
    for (i = 0; i < g->edge_count; i++)
        if (g->edges[i].role == ROAR_ROLE_OUT)
            f.folded[g->edges[i].to] = false;
    for (i = 0; i < g->edge_count; i++)
        if (f.folded[g->edges[i].from])
            f.outside[g->edges[i].to]++;
    return f;
}

static void fold_dispose(fold *f)
{
    free(f->folded);
    free(f->outside);
}

static void put_dot(roar_buf *out, const roar_lineage_graph *g, bool all_outside)
{
    fold f = fold_outside(g, all_outside);
    size_t i;
    CHECK(roar_buf_puts(out, "digraph lineage {\n  rankdir=LR;\n"));
    for (i = 0; i < g->count; i++) {
        if (f.folded && f.folded[i])
            continue;
        CHECK(roar_buf_printf(out, "  n%zu [shape=%s, label=\"", i,
                              g->nodes[i].kind == ROAR_LINEAGE_JOB ? "box" : "ellipse"));
        put_escaped_label(out, &g->nodes[i], false);
        CHECK(roar_buf_puts(out, "\"];\n"));
        if (f.outside && f.outside[i])
            CHECK(roar_buf_printf(out,
                                  "  o%zu [shape=ellipse, style=dashed, "
                                  "label=\"%zu outside file%s\"];\n",
                                  i, f.outside[i], f.outside[i] == 1 ? "" : "s"));
        maybe_flush(out);
    }
    for (i = 0; i < g->edge_count; i++) {
        if (!f.folded || !f.folded[g->edges[i].from])
            CHECK(roar_buf_printf(out, "  n%zu -> n%zu;\n", g->edges[i].from, g->edges[i].to));
        maybe_flush(out);
    }
    for (i = 0; f.outside && i < g->count; i++) {
        if (f.outside[i])
            CHECK(roar_buf_printf(out, "  o%zu -> n%zu;\n", i, i));
        maybe_flush(out);
    }
    CHECK(roar_buf_puts(out, "}\n"));
    fold_dispose(&f);
}

static void put_mermaid(roar_buf *out, const roar_lineage_graph *g, bool all_outside)
{
    fold f = fold_outside(g, all_outside);
    size_t i;
    CHECK(roar_buf_puts(out, "flowchart LR\n"));
    for (i = 0; i < g->count; i++) {
        bool job = g->nodes[i].kind == ROAR_LINEAGE_JOB;
        if (f.folded && f.folded[i])
            continue;
        CHECK(roar_buf_printf(out, "  n%zu%s\"", i, job ? "[" : "(["));
        put_escaped_label(out, &g->nodes[i], true);
        CHECK(roar_buf_printf(out, "\"%s\n", job ? "]" : "])"));
        maybe_flush(out);
    }
    for (i = 0; i < g->edge_count; i++) {
        if (!f.folded || !f.folded[g->edges[i].from])
            CHECK(roar_buf_printf(out, "  n%zu --> n%zu\n", g->edges[i].from, g->edges[i].to));
        maybe_flush(out);
    }
    for (i = 0; f.outside && i < g->count; i++) {
        if (f.outside[i])
            CHECK(roar_buf_printf(out, "  o%zu([\"%zu outside file%s\"]) --> n%zu\n", i,
                                  f.outside[i], f.outside[i] == 1 ? "" : "s", i));
        maybe_flush(out);
    }
    fold_dispose(&f);
}

int roar_cmd_lineage(roar_cli_ctx *ctx)
{
    const char *format = roar_cli_opt_set(ctx, "json") ? "json"
                                                       : roar_cli_opt_string(ctx, "format", "text");
    roar_lineage_opts opts = {roar_cli_opt_set(ctx, "down"), 0, NULL};
    roar_scope_output_list outs = ROAR_SCOPE_OUTPUT_LIST_INIT;
    roar_lineage_root *roots = NULL;
    roar_query_scope_at *at = NULL;
    size_t nroots = 0;
    roar_lineage_graph g = ROAR_LINEAGE_GRAPH_INIT;
    roar_buf out = ROAR_BUF_INIT;
    roar_objref ref;
    roar_query *q;
    roar_cache *cache;
    char wt[ROAR_OID_HEXSZ + 1];
    int error;

    if (roar_cli_opt_set(ctx, "depth")) {
        long depth = roar_cli_opt_int(ctx, "depth", 0);
        if (depth < 1 || depth > 1000000)
            roar_cli_usage_error(ctx->cmd, "--depth must be between 1 and 1000000");
        opts.depth = (unsigned)depth;
    }
    q = roar_query_open(ctx);
    cache = roar_query_cache(q);
    roar_objref_init(&ref);
    if (roar_objref_resolve(&ref, q, ctx->repo, ctx->argv[0], ROAR_OBJREF_CONTENT | ROAR_OBJREF_JOB,
                            ctx->dashdash == 0) < 0)
        roar_cli_die_error();
    if (ref.kind == ROAR_OBJREF_PATH && !ref.exists)
        roar_cli_die("'%s' does not exist; lineage follows content", ctx->argv[0]);
    if (!cache) {
        if (!ctx->quiet)
            printf("no jobs recorded yet\n");
        goto done;
    }
    /* A wide walk reads much of the cache once: memory holds the graph, not the pages
     * read on the way. */
    if (roar_cache_for_scans(cache, LINEAGE_CACHE_KIB) < 0)
        roar_cli_die_error();

    /* SPEC §5.5: the producers and consumers that answer are those in scope, at HEAD,
     * or at the commit a `rev:path` names. */
    if (ref.kind == ROAR_OBJREF_REVPATH && ref.commit[0])
        opts.scope = roar_query_scope_at_open(&at, q, ref.commit);
    else
        opts.scope = roar_query_scope(q);

    if (ref.kind == ROAR_OBJREF_PATH && ref.is_dir) {
        /* A directory: every recorded output beneath it, as its producer wrote it. */
        if (roar_scope_outputs(&outs, opts.scope, ref.path) < 0)
            roar_cli_die_error();
        if (!(roots = calloc(outs.count + 1, sizeof(*roots))))
            roar_cli_oom();
        for (size_t i = 0; i < outs.count; i++)
            if (outs.items[i].id_known)
                roots[nroots++] = (roar_lineage_root){outs.items[i].path, outs.items[i].id,
                                                      outs.items[i].size};
        if (!nroots)
            roar_cli_die("no job in scope produced anything under '%s'", ctx->argv[0]);
    } else if (ref.kind == ROAR_OBJREF_REVPATH) {
        /* A committed blob is clean bytes; jobs saw the work-tree form (SPEC §4.6). */
        if (roar_objref_revpath_worktree_blob(wt, ctx->repo, &ref) < 0)
            roar_cli_die_error();
    }

    /* One read snapshot for the walk's many small reads (cache.h); printing waits
     * outside it. */
    if (roar_cache_read_begin(cache) < 0)
        roar_cli_die_error();
    if (ref.kind == ROAR_OBJREF_JOB)
        error = roar_lineage_from_job(&g, cache, ref.job, &opts);
    else if (nroots)
        error = roar_lineage_from_blobs(&g, cache, roots, nroots, &opts);
    else
        error = roar_lineage_from_blob(&g, cache, ref.path,
                                       ref.kind == ROAR_OBJREF_REVPATH ? wt : ref.blob, ref.size,
                                       &opts);
    roar_cache_read_end(cache);
    if (error < 0)
        roar_cli_die_error();

    if (!strcmp(format, "json"))
        put_json(&out, &g, opts.depth);
    else if (!strcmp(format, "dot"))
        put_dot(&out, &g, roar_cli_opt_set(ctx, "outside"));
    else if (!strcmp(format, "mermaid"))
        put_mermaid(&out, &g, roar_cli_opt_set(ctx, "outside"));
    else
        put_text(&out, &g);
    roar_query_flush(&out);

done:
    free(roots);
    roar_scope_output_list_dispose(&outs);
    roar_query_scope_at_free(at);
    roar_buf_dispose(&out);
    roar_lineage_graph_dispose(&g);
    roar_objref_dispose(&ref);
    roar_query_free(q);
    return ROAR_EXIT_OK;
}
