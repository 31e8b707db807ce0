/* `git roar review [--format text|markdown] RANGE`: per commit of A..B, the attached jobs,
 * the changed files a job explains and the data files none does, for pull-request review. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "cli/check.h"
#include "cli/cli.h"
#include "cli/explain.h"
#include "cli/objref.h"
#include "cli/query.h"
#include "gitstore/notes.h"
#include "util/err.h"
#include "util/escape.h"
#include "util/quote.h"
#include "util/wildmatch.h"

/* Hand-written files (SPEC §3 `roar.review.code`): changing them needs no job. Kept in
 * step with docs/queries.md. A pattern without `/` matches the file name anywhere. */
static const char *const default_code_globs[] = {
    "*.c",
    "*.h",
    "*.cc",
    "*.cpp",
    "*.cxx",
    "*.hpp",
    "*.hh",
    "*.py",
    "*.pyx",
    "*.pyi",
    "*.ipynb",
    "*.R",
    "*.r",
    "*.jl",
    "*.m",
    "*.go",
    "*.rs",
    "*.java",
    "*.kt",
    "*.scala",
    "*.js",
    "*.mjs",
    "*.ts",
    "*.tsx",
    "*.jsx",
    "*.rb",
    "*.pl",
    "*.php",
    "*.sh",
    "*.bash",
    "*.zsh",
    "*.sql",
    "*.swift",
    "*.cs",
    "*.lua",
    "*.toml",
    "*.cfg",
    "*.ini",
    "*.mk",
    "*.cmake",
    "Makefile",
    "GNUmakefile",
    "CMakeLists.txt",
    "Dockerfile",
    "*.dockerfile",
    "*.md",
    "*.rst",
    ".gitignore",
    ".gitattributes",
    ".roarignore",
    "LICENSE",
    NULL,
};

typedef struct {
    char **items;
    size_t count, alloc;
} strlist;

static void strlist_add(strlist *l, const char *s)
{
    if (ROAR_ALLOC_GROW(l->items, l->count + 1, l->alloc) < 0 || !(l->items[l->count] = strdup(s)))
        roar_cli_oom();
    l->count++;
}

static void strlist_dispose(strlist *l)
{
    size_t i;
    for (i = 0; i < l->count; i++)
        free(l->items[i]);
    free(l->items);
    memset(l, 0, sizeof(*l));
}

static int add_glob(const git_config_entry *entry, void *payload)
{
    strlist_add(payload, entry->value);
    return 0;
}

/* roar.review.code when set (it replaces the default list), else the default. */
static void load_code_globs(strlist *out, roar_repo *repo)
{
    git_config *cfg = NULL;
    size_t i;
    if (git_repository_config_snapshot(&cfg, roar_repo_git(repo)) == 0)
        git_config_get_multivar_foreach(cfg, "roar.review.code", NULL, add_glob, out);
    git_error_clear();
    git_config_free(cfg);
    if (!out->count)
        for (i = 0; default_code_globs[i]; i++)
            strlist_add(out, default_code_globs[i]);
}

static bool is_code(const strlist *globs, const char *path)
{
    const char *base = strrchr(path, '/');
    size_t i;
    base = base ? base + 1 : path;
    for (i = 0; i < globs->count; i++) {
        const char *g = globs->items[i];
        if (strchr(g, '/') ? roar_wildmatch(g[0] == '/' ? g + 1 : g, path, ROAR_WM_PATHNAME)
                           : roar_wildmatch(g, base, 0))
            return true;
    }
    return false;
}

/* ---- stale outputs as of B ------------------------------------------------------ */

typedef struct {
    char *output; /* the output's path */
    char job[ROAR_OID_HEXSZ + 1];
    char *input;  /* the input whose content at B is not what the job read */
    bool missing; /* the input is gone from B's tree */
} stale_item;

typedef struct {
    stale_item *items;
    size_t count, alloc;
} stale_list;

/* Whether B's tree holds, at `path`, content with one of the job's ids. *present says
 * whether B has the path at all. */
static void content_at(bool *present, bool *same, roar_repo *repo, git_tree *tree,
                       const char *commit, const char *path, const char *id)
{
    git_tree_entry *entry = NULL;
    char blob[ROAR_OID_HEXSZ + 1], wt[ROAR_OID_HEXSZ + 1];

    *present = *same = false;
    if (git_tree_entry_bypath(&entry, tree, path) < 0) {
        git_error_clear();
        return;
    }
    *present = true;
    git_oid_tostr(blob, sizeof(blob), git_tree_entry_id(entry));
    if (!strcmp(blob, id)) {
        *same = true;
    } else if (git_tree_entry_type(entry) == GIT_OBJECT_BLOB &&
               roar_objref_worktree_blob(wt, repo, blob, path, commit) == 0) {
        *same = !strcmp(wt, id);
    }
    roar_error_clear();
    git_tree_entry_free(entry);
}

/* One level deep, judged from B's tree alone: an input that is not in B's tree (a
 * git-ignored data file) cannot be judged from a commit and is skipped. */
static void find_stale(stale_list *out, roar_query *q, roar_repo *repo, const char *b_commit,
                       const strlist *outputs, const strlist *producers)
{
    git_commit *commit = NULL;
    git_tree *tree = NULL;
    roar_query_job j;
    git_oid oid;
    size_t i, e;

    roar_query_job_init(&j);
    if (git_oid_fromstr(&oid, b_commit) < 0 ||
        git_commit_lookup(&commit, roar_repo_git(repo), &oid) < 0 ||
        git_commit_tree(&tree, commit) < 0)
        roar_cli_die("cannot read commit %s: %s", b_commit, git_error_last()->message);
    for (i = 0; i < outputs->count; i++) {
        roar_query_job_load(&j, q, producers->items[i]);
        for (e = 0; e < j.job.edge_count; e++) {
            const roar_edge *edge = &j.job.edges[e];
            bool present, same;
            if (edge->role != ROAR_ROLE_IN || !edge->id_known || edge->path[0] == '/')
                continue;
            content_at(&present, &same, repo, tree, b_commit, edge->path, edge->id);
            if (!present || same)
                continue;
            if (ROAR_ALLOC_GROW(out->items, out->count + 1, out->alloc) < 0)
                roar_cli_oom();
            stale_item *s = &out->items[out->count++];
            memcpy(s->job, j.job.id, sizeof(s->job));
            if (!(s->output = strdup(outputs->items[i])) || !(s->input = strdup(edge->path)))
                roar_cli_oom();
            s->missing = false;
            break;
        }
    }
    roar_query_job_dispose(&j);
    git_tree_free(tree);
    git_commit_free(commit);
}

static void stale_list_dispose(stale_list *l)
{
    size_t i;
    for (i = 0; i < l->count; i++) {
        free(l->items[i].output);
        free(l->items[i].input);
    }
    free(l->items);
}

/* ---- notes freshness ----------------------------------------------------------- */

typedef struct {
    roar_repo *repo;
    const char *local_tip; /* "" when the local notes ref does not exist */
    strlist *behind;       /* remote refs the local notes have not merged */
} notes_check;

static int check_remote_notes(const char *name, void *payload)
{
    notes_check *c = payload;
    git_oid oid;
    char tip[ROAR_OID_HEXSZ + 1];
    bool merged = false;

    if (git_reference_name_to_id(&oid, roar_repo_git(c->repo), name) < 0) {
        git_error_clear();
        return 0;
    }
    git_oid_tostr(tip, sizeof(tip), &oid);
    if (c->local_tip[0] && roar_repo_is_ancestor(&merged, c->repo, tip, c->local_tip) < 0)
        merged = false;
    roar_error_clear();
    if (!merged)
        strlist_add(c->behind, name);
    return 0;
}

/* Remote notes refs (refs/notes/remotes/<r>/roar) not contained in the local notes ref:
 * the jobs a teammate pushed may be missing from this report until `git roar fetch`. */
static void stale_notes(strlist *behind, roar_repo *repo)
{
    roar_buf ref = ROAR_BUF_INIT;
    char tip[ROAR_OID_HEXSZ + 1] = "";
    notes_check c = {repo, tip, behind};
    git_oid oid;

    if (roar_notes_ref(&ref, repo) < 0)
        roar_cli_die_error();
    if (git_reference_name_to_id(&oid, roar_repo_git(repo), ref.ptr) == 0)
        git_oid_tostr(tip, sizeof(tip), &oid);
    git_error_clear();
    git_reference_foreach_glob(roar_repo_git(repo), "refs/notes/remotes/*/roar", check_remote_notes,
                               &c);
    git_error_clear();
    roar_buf_dispose(&ref);
}

/* ---- the report ---------------------------------------------------------------- */

/* Strings from notes and file names: a code span in Markdown (escape.h), else as a
 * path on a terminal. `cell`: the span sits in a table cell. */
static void put_code_in(roar_buf *out, const char *s, bool md, bool cell)
{
    CHECK(md ? roar_escape_md_code_cstr(out, s, cell) : roar_query_put_path(out, s));
}

static void put_code(roar_buf *out, const char *s, bool md)
{
    put_code_in(out, s, md, false);
}

int roar_cmd_review(roar_cli_ctx *ctx)
{
    const char *range = ctx->argv[0];
    bool md = !strcmp(roar_cli_opt_string(ctx, "format", "text"), "markdown");
    git_repository *git = roar_repo_git(ctx->repo);
    roar_query *q = roar_query_open(ctx);
    roar_cache *cache = roar_query_cache(q);
    git_revspec spec;
    git_revwalk *walk = NULL;
    git_oid oid;
    strlist globs = {0}, commits = {0}, outputs = {0}, producers = {0}, behind = {0};
    stale_list stale = {0};
    roar_explain_list files = ROAR_EXPLAIN_LIST_INIT;
    roar_cache_id_list attached = ROAR_CACHE_ID_LIST_INIT;
    roar_buf out = ROAR_BUF_INIT;
    roar_query_job j;
    char b_hex[ROAR_OID_HEXSZ + 1], a_hex[ROAR_OID_HEXSZ + 1] = "";
    size_t i, k, n_expl = 0, n_unexpl = 0, n_code = 0;

    roar_query_job_init(&j);
    load_code_globs(&globs, ctx->repo);

    /* A..B, or a single commit meaning just that commit (as `rev^!`). */
    if (git_revparse(&spec, git, range) < 0)
        roar_cli_die("bad range '%s': %s", range, git_error_last()->message);
    if (git_revwalk_new(&walk, git) < 0)
        roar_cli_die_error();
    git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE);
    if (spec.flags & GIT_REVSPEC_RANGE) {
        if (spec.flags & GIT_REVSPEC_MERGE_BASE)
            roar_cli_die("'%s': use A..B (A...B is not supported)", range);
        git_oid_tostr(a_hex, sizeof(a_hex), git_object_id(spec.from));
        git_oid_tostr(b_hex, sizeof(b_hex), git_object_id(spec.to));
        if (git_revwalk_push(walk, git_object_id(spec.to)) < 0 ||
            git_revwalk_hide(walk, git_object_id(spec.from)) < 0)
            roar_cli_die("bad range '%s': %s", range, git_error_last()->message);
    } else {
        git_object *c = NULL;
        if (git_object_peel(&c, spec.from, GIT_OBJECT_COMMIT) < 0)
            roar_cli_die("'%s' is not a commit or a range A..B", range);
        git_oid_tostr(b_hex, sizeof(b_hex), git_object_id(c));
        git_revwalk_push(walk, git_object_id(c));
        git_object_free(c);
    }
    while (git_revwalk_next(&oid, walk) == 0) {
        char hex[ROAR_OID_HEXSZ + 1];
        git_oid_tostr(hex, sizeof(hex), &oid);
        strlist_add(&commits, hex);
        if (!(spec.flags & GIT_REVSPEC_RANGE))
            break;
    }
    git_error_clear();

    stale_notes(&behind, ctx->repo);
    for (i = 0; i < behind.count; i++)
        roar_cli_warning("%s has notes the local notes ref does not; run 'git roar fetch' "
                         "(this report may miss jobs)",
                         behind.items[i]);

    if (md) {
        CHECK(roar_buf_puts(&out, "## git roar review: "));
        put_code(&out, range, true);
        CHECK(roar_buf_printf(&out, "\n\n%zu commit%s", commits.count,
                              commits.count == 1 ? "" : "s"));
        CHECK(roar_buf_puts(&out, ".\n"));
        for (i = 0; i < behind.count; i++) {
            CHECK(roar_buf_puts(&out, "\n> **Warning:** "));
            put_code(&out, behind.items[i], true);
            CHECK(roar_buf_puts(&out, " has notes not merged locally; this report may miss jobs"
                                      " (`git roar fetch`).\n"));
        }
    } else {
        CHECK(roar_buf_printf(&out, "review %s (%zu commit%s)\n", range, commits.count,
                              commits.count == 1 ? "" : "s"));
    }

    for (i = 0; i < commits.count; i++) {
        const char *c = commits.items[i];
        git_commit *commit = NULL;
        const char *summary = "";
        git_oid cid;

        if (git_oid_fromstr(&cid, c) == 0 && git_commit_lookup(&commit, git, &cid) == 0)
            summary = git_commit_summary(commit);
        if (!summary)
            summary = "";
        if (cache && roar_cache_commit_jobs(&attached, cache, c) < 0)
            roar_cli_die_error();
        if (roar_explain_commit(&files, ctx->repo, cache, c) < 0)
            roar_cli_die_error();

        if (md) {
            CHECK(roar_buf_printf(&out, "\n### `%.*s` ", ROAR_QUERY_ABBREV, c));
            CHECK(roar_escape_md(&out, summary, strlen(summary)));
            CHECK(roar_buf_printf(&out, "\n\n**Jobs attached:** %zu\n", attached.count));
        } else {
            CHECK(roar_buf_printf(&out, "\ncommit %.*s ", ROAR_QUERY_ABBREV, c));
            CHECK(roar_escape_term_cstr(&out, summary));
            CHECK(roar_buf_putc(&out, '\n'));
            if (!attached.count)
                CHECK(roar_buf_puts(&out, "  no jobs attached\n"));
        }
        git_commit_free(commit);
        if (!md)
            roar_query_put_job_lines(&out, q, &attached, "  job ");
        for (k = 0; md && k < attached.count; k++) {
            roar_buf cmd = ROAR_BUF_INIT;
            roar_query_job_load(&j, q, attached.items[k]);
            CHECK(roar_buf_printf(&out, "%s- `%.*s` ", k ? "" : "\n", ROAR_QUERY_ABBREV, j.job.id));
            CHECK(roar_quote_argv(&cmd, (const char *const *)j.job.argv, j.job.argc));
            put_code(&out, cmd.ptr, true);
            CHECK(roar_buf_puts(
                &out, j.job.end_kind == ROAR_END_EXIT && !j.job.end_code ? "" : " (failed)"));
            roar_buf_dispose(&cmd);
            CHECK(roar_buf_putc(&out, '\n'));
        }
        if (md)
            CHECK(roar_buf_puts(&out, "\n| File | Status | Produced by |\n|---|---|---|\n"));
        for (k = 0; k < files.count; k++) {
            const roar_explain_file *f = &files.items[k];
            const char *st;
            if (f->status == 'D') {
                st = "deleted";
            } else if (f->producers.count) {
                st = "explained";
                n_expl++;
                strlist_add(&outputs, f->path);
                strlist_add(&producers, f->producers.items[0]);
            } else if (is_code(&globs, f->path)) {
                st = "code";
                n_code++;
            } else {
                st = "unexplained";
                n_unexpl++;
            }
            if (md) {
                CHECK(roar_buf_puts(&out, "| "));
                put_code_in(&out, f->path, true, true);
                CHECK(roar_buf_printf(&out, " | %s%s | ",
                                      !strcmp(st, "unexplained") ? ":warning: " : "", st));
                if (f->producers.count)
                    CHECK(
                        roar_buf_printf(&out, "`%.*s`", ROAR_QUERY_ABBREV, f->producers.items[0]));
                CHECK(roar_buf_puts(&out, " |\n"));
            } else {
                CHECK(roar_buf_printf(&out, "  %-12s", st));
                CHECK(roar_query_put_path(&out, f->path));
                if (f->producers.count)
                    CHECK(roar_buf_printf(&out, "  by %.*s", ROAR_QUERY_ABBREV,
                                          f->producers.items[0]));
                CHECK(roar_buf_putc(&out, '\n'));
            }
        }
        if (md && !files.count)
            CHECK(roar_buf_puts(&out, "| _no files changed_ | | |\n"));
    }

    if (cache)
        find_stale(&stale, q, ctx->repo, b_hex, &outputs, &producers);
    if (md) {
        CHECK(roar_buf_printf(&out, "\n### Stale outputs as of `%.*s`\n\n", ROAR_QUERY_ABBREV,
                              b_hex));
        if (!stale.count)
            CHECK(roar_buf_puts(&out, "None found.\n"));
    } else {
        CHECK(roar_buf_printf(&out, "\nstale as of %.*s:%s\n", ROAR_QUERY_ABBREV, b_hex,
                              stale.count ? "" : " none found"));
    }
    for (i = 0; i < stale.count; i++) {
        CHECK(roar_buf_puts(&out, md ? "- " : "  "));
        put_code(&out, stale.items[i].output, md);
        CHECK(roar_buf_puts(&out, ": input "));
        put_code(&out, stale.items[i].input, md);
        CHECK(roar_buf_printf(&out, " changed since job %s%.*s%s\n", md ? "`" : "",
                              ROAR_QUERY_ABBREV, stale.items[i].job, md ? "`" : ""));
    }
    CHECK(roar_buf_printf(&out,
                          "\n%ssummary:%s %zu explained, %zu unexplained, %zu code, %zu stale\n",
                          md ? "**" : "", md ? "**" : "", n_expl, n_unexpl, n_code, stale.count));
    if (md)
        CHECK(roar_buf_puts(&out, "\n<sub>Stale: outputs explained in this range whose inputs, "
                                  "as committed at the tip, differ from what the job read "
                                  "(files outside the tip's tree are not judged).</sub>\n"));
    roar_query_flush(&out);

    (void)a_hex;
    roar_query_job_dispose(&j);
    roar_cache_id_list_dispose(&attached);
    roar_explain_list_dispose(&files);
    stale_list_dispose(&stale);
    strlist_dispose(&globs);
    strlist_dispose(&commits);
    strlist_dispose(&outputs);
    strlist_dispose(&producers);
    strlist_dispose(&behind);
    git_revwalk_free(walk);
    git_object_free(spec.from);
    git_object_free(spec.to);
    roar_buf_dispose(&out);
    roar_query_free(q);
    return ROAR_EXIT_OK;
}
