/* The findings of `git roar review` (review.h): one scope at the tip (graph/scope.h)
 * decides which jobs explain a file and which outputs are stale, as everywhere else. */
#include "cli/review.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "cli/check.h"
#include "cli/cli.h"
#include "cli/explain.h"
#include "cli/objref.h"
#include "gitstore/history.h"
#include "gitstore/notes.h"
#include "graph/cache_lineage.h"
#include "graph/scope.h"
#include "util/keymap.h"
#include "util/err.h"
#include "util/flatvalues.h"
#include "util/wildmatch.h"

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
    for (size_t i = 0; i < l->count; i++)
        free(l->items[i]);
    free(l->items);
    memset(l, 0, sizeof(*l));
}

/* Hand-written files (roar.review.code): changing them needs no job. Kept in step with
 * docs/queries.md. A pattern without `/` matches the file name anywhere. */
static const char *const default_code_globs[] = {
    "*.c",    "*.h",      "*.cc",         "*.cpp",        "*.cxx",     "*.hpp",  "*.hh",
    "*.py",   "*.pyx",    "*.pyi",        "*.ipynb",      "*.R",       "*.r",    "*.jl",
    "*.m",    "*.go",     "*.rs",         "*.java",       "*.kt",      "*.scala", "*.js",
    "*.mjs",  "*.ts",     "*.tsx",        "*.jsx",        "*.rb",      "*.pl",   "*.php",
    "*.sh",   "*.bash",   "*.zsh",        "*.sql",        "*.swift",   "*.cs",   "*.lua",
    "*.toml", "*.cfg",    "*.ini",        "*.mk",         "*.cmake",   "Makefile",
    "GNUmakefile",        "CMakeLists.txt", "Dockerfile", "*.dockerfile", "*.md", "*.rst",
    ".gitignore",         ".gitattributes", ".roarignore", "LICENSE",  NULL,
};

/* roar.review.metrics: names containing "metric" or "score", as JSON, YAML or CSV. */
static const char *const default_metric_globs[] = {
    "*metric*.json", "*metric*.yaml", "*metric*.yml", "*metric*.csv", "*score*.json",
    "*score*.yaml",  "*score*.yml",   "*score*.csv",  NULL,
};

/* roar.review.params: params.* and *.params.* */
static const char *const default_param_globs[] = {"params.*", "*.params.*", NULL};

static int add_glob(const git_config_entry *entry, void *payload)
{
    strlist_add(payload, entry->value);
    return 0;
}

/* The values of a multi-valued key when set (they replace the default), else the
 * default list. */
static void load_globs(strlist *out, roar_repo *repo, const char *key,
                       const char *const *dflt)
{
    git_config *cfg = NULL;
    if (git_repository_config_snapshot(&cfg, roar_repo_git(repo)) == 0)
        git_config_get_multivar_foreach(cfg, key, NULL, add_glob, out);
    git_error_clear();
    git_config_free(cfg);
    if (out->count)
        return;
    for (size_t i = 0; dflt[i]; i++)
        strlist_add(out, dflt[i]);
}

static bool matches(const strlist *globs, const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    for (size_t i = 0; i < globs->count; i++) {
        const char *g = globs->items[i];
        if (strchr(g, '/') ? roar_wildmatch(g[0] == '/' ? g + 1 : g, path, ROAR_WM_PATHNAME)
                           : roar_wildmatch(g, base, 0))
            return true;
    }
    return false;
}

void roar_review_init(roar_review *r)
{
    memset(r, 0, sizeof(*r));
    r->jobs = (roar_cache_id_list)ROAR_CACHE_ID_LIST_INIT;
}

void roar_review_dispose(roar_review *r)
{
    size_t i;
    for (i = 0; i < r->file_count; i++)
        free(r->files[i].path);
    for (i = 0; i < r->stale_count; i++) {
        free(r->stale[i].output);
        free(r->stale[i].input);
    }
    for (i = 0; i < r->commits; i++)
        free(r->summaries ? r->summaries[i] : NULL);
    free(r->summaries);
    free(r->commit_ids);
    for (i = 0; i < r->value_count; i++) {
        free(r->values[i].file);
        free(r->values[i].key);
        free(r->values[i].old_value);
        free(r->values[i].new_value);
    }
    free(r->files);
    free(r->stale);
    free(r->values);
    roar_cache_id_list_dispose(&r->jobs);
    roar_review_init(r);
}

static void add_job(roar_cache_id_list *l, const char *id)
{
    CHECK(roar_cache_id_list_add(l, id, true));
}

/* ---- the range ----------------------------------------------------------------- */

/* base, tip and the number of commits: A..B as git means it, a single revision as that
 * commit alone (against its first parent). */
static void parse_range(roar_review *r, roar_cache_id_list *commits, roar_repo *repo,
                        const char *range)
{
    git_repository *git = roar_repo_git(repo);
    git_revspec spec;
    git_revwalk *walk = NULL;
    git_object *tip = NULL;
    git_oid oid;

    snprintf(r->range, sizeof(r->range), "%s", range);
    if (git_revparse(&spec, git, range) < 0)
        roar_cli_die("bad revision or range '%s': %s", range, git_error_last()->message);
    if (git_revwalk_new(&walk, git) < 0)
        roar_cli_die("cannot walk the history: %s", git_error_last()->message);
    if (spec.flags & GIT_REVSPEC_RANGE) {
        git_object *base = NULL;
        if (spec.flags & GIT_REVSPEC_MERGE_BASE)
            roar_cli_die("'%s': use A..B (A...B is not supported)", range);
        if (git_object_peel(&base, spec.from, GIT_OBJECT_COMMIT) < 0 ||
            git_object_peel(&tip, spec.to, GIT_OBJECT_COMMIT) < 0)
            roar_cli_die("'%s' does not name two commits", range);
        git_oid_tostr(r->base, sizeof(r->base), git_object_id(base));
        if (git_revwalk_push(walk, git_object_id(tip)) < 0 ||
            git_revwalk_hide(walk, git_object_id(base)) < 0)
            roar_cli_die("bad range '%s': %s", range, git_error_last()->message);
        while (git_revwalk_next(&oid, walk) == 0) {
            char hex[ROAR_OID_HEXSZ + 1];
            git_oid_tostr(hex, sizeof(hex), &oid);
            add_job(commits, hex);
        }
        git_object_free(base);
    } else {
        git_commit *parent = NULL;
        if (git_object_peel(&tip, spec.from, GIT_OBJECT_COMMIT) < 0)
            roar_cli_die("'%s' is not a commit or a range A..B", range);
        if (git_commit_parentcount((git_commit *)tip) > 0 &&
            git_commit_parent(&parent, (git_commit *)tip, 0) == 0)
            git_oid_tostr(r->base, sizeof(r->base), git_commit_id(parent));
        git_commit_free(parent);
        add_job(commits, git_oid_tostr_s(git_object_id(tip)));
    }
    git_error_clear();
    git_oid_tostr(r->tip, sizeof(r->tip), git_object_id(tip));
    /* The commits oldest first, with their subjects (the walk gave newest first). */
    r->commit_ids = calloc(commits->count + 1, sizeof(*r->commit_ids));
    r->summaries = calloc(commits->count + 1, sizeof(*r->summaries));
    if (!r->commit_ids || !r->summaries)
        roar_cli_oom();
    for (size_t i = 0; i < commits->count; i++) {
        const char *hex = commits->items[commits->count - 1 - i];
        git_commit *c = NULL;
        const char *summary = NULL;
        memcpy(r->commit_ids[i], hex, ROAR_OID_HEXSZ + 1);
        if (git_oid_fromstr(&oid, hex) == 0 && git_commit_lookup(&c, git, &oid) == 0)
            summary = git_commit_summary(c);
        if (!(r->summaries[i] = strdup(summary ? summary : "")))
            roar_cli_oom();
        git_commit_free(c);
        r->commits = i + 1;
    }
    git_error_clear();
    git_object_free(tip);
    git_object_free(spec.from);
    git_object_free(spec.to);
    git_revwalk_free(walk);
}

/* ---- the scope at the tip -------------------------------------------------------- */

static bool in_scope(roar_scope *scope, const char *job)
{
    bool in = false;
    if (roar_scope_has(&in, scope, job) < 0)
        roar_cli_die_error();
    return in;
}

/* ---- metric and parameter values -------------------------------------------------- */

/* The text of `path` at commit `hex` ("" when absent) into out. */
static void blob_text(roar_buf *out, roar_repo *repo, const char *hex, const char *path)
{
    git_repository *git = roar_repo_git(repo);
    git_commit *commit = NULL;
    git_tree *tree = NULL;
    git_tree_entry *entry = NULL;
    git_blob *blob = NULL;
    git_oid id;

    roar_buf_clear(out);
    if (hex[0] && git_oid_fromstr(&id, hex) == 0 && git_commit_lookup(&commit, git, &id) == 0 &&
        git_commit_tree(&tree, commit) == 0 && git_tree_entry_bypath(&entry, tree, path) == 0 &&
        git_blob_lookup(&blob, git, git_tree_entry_id(entry)) == 0 &&
        git_blob_rawsize(blob) <= 4 * 1024 * 1024) /* bounded: a note cannot make it huge */
        CHECK(roar_buf_put(out, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob)));
    git_error_clear();
    git_blob_free(blob);
    git_tree_entry_free(entry);
    git_tree_free(tree);
    git_commit_free(commit);
}

/* Flattened "key\tvalue\n" text (no NUL in it: flatvalues.h) split in place into
 * "key\0value\0" pairs, indexed key -> value (the first of equal keys wins); returns
 * where the split pairs end. The review looks each key up on both sides: a scan of the
 * text per lookup made a file of 10,000 keys cost 10^8 line steps (3 s for 1 MB). */
static const char *index_pairs(roar_keymap *map, roar_buf *flat)
{
    char *p = flat->ptr, *end = flat->ptr + flat->size;

    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p)), *tab;
        if (!nl || !(tab = memchr(p, '\t', (size_t)(nl - p))))
            break; /* the flattener writes neither; stop as a scan would */
        *tab = '\0';
        *nl = '\0';
        if (!roar_keymap_get(map, p, (size_t)(tab - p)))
            CHECK(roar_keymap_put(map, p, (size_t)(tab - p), tab + 1));
        p = nl + 1;
    }
    return p;
}

/* The pair after the split pair at `p` ("key\0value\0"). */
static const char *next_pair(const char *p)
{
    p += strlen(p) + 1;
    return p + strlen(p) + 1;
}

/* The value of `key` in an index_pairs map, copied for the caller, or NULL. */
static char *value_of(const roar_keymap *map, const char *key)
{
    const char *v = roar_keymap_gets(map, key);
    char *copy;
    if (!v)
        return NULL;
    if (!(copy = strdup(v)))
        roar_cli_oom();
    return copy;
}

static void add_value(roar_review *r, const char *file, const char *key, char *old_value,
                      char *new_value, bool metric)
{
    roar_review_value *v;
    if (old_value && new_value && !strcmp(old_value, new_value)) {
        free(old_value);
        free(new_value);
        return;
    }
    CHECK(ROAR_ALLOC_GROW(r->values, r->value_count + 1, r->value_alloc));
    v = &r->values[r->value_count++];
    v->metric = metric;
    v->old_value = old_value;
    v->new_value = new_value;
    if (!(v->file = strdup(file)) || !(v->key = strdup(key)))
        roar_cli_oom();
}

/* Each key whose value differs between the base's and the tip's version of `path`: the
 * tip's keys in their order, then the keys the tip dropped. */
static void diff_values(roar_review *r, roar_repo *repo, const char *path, bool metric)
{
    roar_buf text = ROAR_BUF_INIT, old_flat = ROAR_BUF_INIT, new_flat = ROAR_BUF_INIT;
    roar_keymap old_map = ROAR_KEYMAP_INIT, new_map = ROAR_KEYMAP_INIT;
    const char *p, *old_end, *new_end;

    blob_text(&text, repo, r->base, path);
    CHECK(roar_flatten_values(&old_flat, path, text.ptr, text.size));
    blob_text(&text, repo, r->tip, path);
    CHECK(roar_flatten_values(&new_flat, path, text.ptr, text.size));
    old_end = index_pairs(&old_map, &old_flat);
    new_end = index_pairs(&new_map, &new_flat);
    for (p = new_flat.ptr; p < new_end; p = next_pair(p))
        add_value(r, path, p, value_of(&old_map, p), value_of(&new_map, p), metric);
    for (p = old_flat.ptr; p < old_end; p = next_pair(p))
        if (!roar_keymap_gets(&new_map, p))
            add_value(r, path, p, value_of(&old_map, p), NULL, metric);
    roar_keymap_dispose(&old_map);
    roar_keymap_dispose(&new_map);
    roar_buf_dispose(&text);
    roar_buf_dispose(&old_flat);
    roar_buf_dispose(&new_flat);
}

/* ---- all of it ----------------------------------------------------------------------- */

void roar_review_compute(roar_review *out, roar_query *q, roar_repo *repo, const char *range)
{
    roar_cache *cache = roar_query_cache(q);
    roar_cache_id_list commits = ROAR_CACHE_ID_LIST_INIT, attached = ROAR_CACHE_ID_LIST_INIT;
    roar_explain_list files = ROAR_EXPLAIN_LIST_INIT;
    strlist code = {0}, metrics = {0}, params = {0};
    roar_history *h = NULL;
    roar_scope *scope = NULL;
    roar_query_scope_at *at = NULL;
    roar_buf ref = ROAR_BUF_INIT, ahead = ROAR_BUF_INIT;
    size_t i, k;

    parse_range(out, &commits, repo, range);
    load_globs(&code, repo, "roar.review.code", default_code_globs);
    load_globs(&metrics, repo, "roar.review.metrics", default_metric_globs);
    load_globs(&params, repo, "roar.review.params", default_param_globs);

    /* No notes at all: say so rather than call every data file unexplained. */
    out->no_notes = !cache;
    if (roar_notes_ref(&ref, repo) == 0 && roar_notes_remotes_ahead(&ahead, repo, ref.ptr) == 0)
        snprintf(out->behind, sizeof(out->behind), "%s", ahead.ptr);
    roar_error_clear();

    if (cache) {
        /* The tip's scope; its tree also answers the stale question below. */
        scope = roar_query_scope_at_open(&at, q, out->tip);
        h = roar_query_scope_at_history(at);
        for (i = 0; i < commits.count; i++) {
            if (roar_cache_commit_jobs(&attached, cache, commits.items[i]) < 0)
                roar_cli_die_error();
            for (k = 0; k < attached.count; k++)
                add_job(&out->jobs, attached.items[k]);
        }
    }

    if (roar_explain_range(&files, repo, cache, out->base, out->tip) < 0)
        roar_cli_die_error();
    for (i = 0; i < files.count; i++) {
        const roar_explain_file *f = &files.items[i];
        roar_review_file *rf;
        CHECK(ROAR_ALLOC_GROW(out->files, out->file_count + 1, out->file_alloc));
        rf = &out->files[out->file_count++];
        memset(rf, 0, sizeof(*rf));
        if (!(rf->path = strdup(f->path)))
            roar_cli_oom();
        rf->status = f->status;
        if (f->status == 'D') {
            rf->kind = ROAR_REVIEW_DELETED;
        } else {
            for (k = 0; scope && k < f->producers.count && !rf->producer[0]; k++)
                if (in_scope(scope, f->producers.items[k]))
                    memcpy(rf->producer, f->producers.items[k], ROAR_OID_HEXSZ + 1);
            if (rf->producer[0]) {
                rf->kind = ROAR_REVIEW_EXPLAINED;
                add_job(&out->jobs, rf->producer);
            } else if (matches(&code, f->path) || matches(&params, f->path)) {
                /* Parameters are edited by hand, like code: their values are listed. */
                rf->kind = ROAR_REVIEW_CODE;
            } else {
                rf->kind = out->no_notes ? ROAR_REVIEW_UNJUDGED : ROAR_REVIEW_UNEXPLAINED;
            }
        }
        out->counts[rf->kind]++;
        if (f->status != 'D' && (matches(&metrics, f->path) || matches(&params, f->path)))
            diff_values(out, repo, f->path, matches(&metrics, f->path));
    }

    /* The range's jobs, oldest first, and which failed. */
    out->failed = roar_query_sort_by_end(q, &out->jobs);

    if (scope)
        roar_review__find_stale(out, cache, scope, repo, h);

    roar_query_scope_at_free(at);
    roar_cache_id_list_dispose(&commits);
    roar_cache_id_list_dispose(&attached);
    roar_explain_list_dispose(&files);
    strlist_dispose(&code);
    strlist_dispose(&metrics);
    strlist_dispose(&params);
    roar_buf_dispose(&ref);
    roar_buf_dispose(&ahead);
}
