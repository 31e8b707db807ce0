/* Shared machinery of the query commands: scope (reachable from HEAD + pending),
 * path arguments mapped as the tracer maps paths, and job output in text and JSON. */
#include "cli/query.h"
#include "cli/check.h"
#include "cli/pager.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gitstore/reindex.h"
#include "gitstore/repo.h"
#include "gitstore/history.h"
#include "gitstore/notes.h"
#include "graph/cache_lineage.h"
#include "util/keymap.h"
#include "util/err.h"
#include "util/json.h"
#include "util/escape.h"
#include "util/quote.h"
#include "util/timefmt.h"

struct roar_query {
    roar_cli_ctx *ctx;
    roar_repo *repo;
    roar_cache *cache;
    bool has_head;
    char head[ROAR_OID_HEXSZ + 1];
    roar_history *history; /* HEAD's, once asked */
    roar_scope *scope;     /* SPEC §5.5 at HEAD and the work tree, once asked */
    roar_scope_commit scope_commit;
    roar_cache_jobinfo_list pending;
    bool pending_loaded;
    roar_pathcanon *pc;
    char host[256]; /* gethostname, once asked */
    bool host_loaded;
};

static bool has_sources(roar_repo *repo)
{
    bool has = false;
    if (roar_reindex_has_sources(&has, repo) < 0)
        roar_cli_die_error();
    return has;
}

/* SPEC §5.5: a remote-tracking notes ref ahead of the local one (a plain `git fetch`
 * moved it) is said in one line. Queries see those jobs anyway; an amend or a rebase
 * carries only the local ref's notes, and a push sends only those. */
static void warn_remote_notes_ahead(roar_query *q)
{
    roar_buf ref = ROAR_BUF_INIT, ahead = ROAR_BUF_INIT;
    if (roar_notes_ref(&ref, q->repo) == 0 && roar_notes_remotes_ahead(&ahead, q->repo, ref.ptr) == 0 &&
        ahead.size && !q->ctx->quiet)
        fprintf(stderr, "roar: the notes of %s are ahead of %s; 'git roar fetch' merges them\n",
                ahead.ptr, ref.ptr);
    roar_error_clear();
    roar_buf_dispose(&ref);
    roar_buf_dispose(&ahead);
}

roar_query *roar_query_open(roar_cli_ctx *ctx)
{
    roar_query *q = calloc(1, sizeof(*q));
    roar_buf path = ROAR_BUF_INIT;
    struct stat st;

    if (!q)
        roar_cli_oom();
    q->ctx = ctx;
    q->repo = ctx->repo;
    if (roar_buf_printf(&path, "%s/cache.db", roar_repo_roar_dir(q->repo)) < 0)
        roar_cli_oom();
    /* No cache yet and nothing to build one from (no notes, no pending record) means
     * no job was ever recorded here: not an error, and nothing to create for a
     * read-only question. Otherwise the cache first catches up with the notes refs (a
     * teammate's jobs arrive with a plain `git fetch`) and pending/. */
    int stat_errno = stat(path.ptr, &st) == 0 ? 0 : errno;
    if (!stat_errno || (stat_errno == ENOENT && has_sources(q->repo))) {
        if (roar_reindex_open_cache(&q->cache, q->repo, false) < 0)
            roar_cli_die_error();
        if (roar_reindex_refresh(q->repo, q->cache, roar_cli_warn_reindex_problem, NULL) < 0)
            roar_cli_warning("cannot bring the cache up to date: %s", roar_error_last());
    } else if (stat_errno != ENOENT) {
        roar_cli_die("cannot read '%s': %s", path.ptr, strerror(stat_errno));
    }
    roar_buf_dispose(&path);
    warn_remote_notes_ahead(q);

    if (roar_repo_head(q->head, q->repo) == 0)
        q->has_head = true;
    else if (roar_error_last_code() != ROAR_ENOTFOUND)
        roar_cli_die_error();
    roar_error_clear();
    return q;
}

void roar_query_free(roar_query *q)
{
    if (!q)
        return;
    if (q->scope && roar_scope_distrusted(q->scope) && !q->ctx->quiet)
        roar_cli_warning("%zu job%s left out: %s times cannot be true (end before start, or "
                         "more than a day ahead); see 'git roar fsck'",
                         roar_scope_distrusted(q->scope),
                         roar_scope_distrusted(q->scope) == 1 ? "" : "s",
                         roar_scope_distrusted(q->scope) == 1 ? "its" : "their");
    roar_cache_free(q->cache);
    roar_scope_free(q->scope);
    roar_history_free(q->history);
    roar_cache_jobinfo_list_dispose(&q->pending);
    roar_pathcanon_free(q->pc);
    free(q);
}

roar_cache *roar_query_cache(roar_query *q)
{
    return q->cache;
}

static int history_reaches(bool *out, const char *commit, void *payload)
{
    return roar_history_reaches(out, payload, commit);
}

static int history_tree_blob(char out[ROAR_OID_HEXSZ + 1], const char *path, void *payload)
{
    return roar_history_tree_blob(out, payload, path);
}

static roar_history *head_history(roar_query *q)
{
    if (!q->history && q->has_head) {
        if (roar_history_open(&q->history, q->repo, q->head) < 0)
            roar_cli_die_error();
        if (q->cache) {
            bool yes;
            roar_history_keep_in(q->history, q->cache);
            /* Bring the kept set up to date now, while writes are allowed (a listing
             * reads inside a read snapshot). */
            if (roar_history_reaches(&yes, q->history, q->head) < 0)
                roar_cli_die_error();
        }
    }
    return q->history;
}

const char *roar_query_host(roar_query *q)
{
    if (!q->host_loaded) {
        q->host_loaded = true;
        if (gethostname(q->host, sizeof(q->host)) < 0)
            q->host[0] = '\0';
        q->host[sizeof(q->host) - 1] = '\0';
    }
    return q->host[0] ? q->host : NULL;
}

roar_scope *roar_query_scope(roar_query *q)
{
    roar_scope_opts opts = {0};

    if (q->scope || !q->cache)
        return q->scope;
    if (head_history(q)) {
        q->scope_commit.reaches = history_reaches;
        q->scope_commit.tree_blob = history_tree_blob;
        q->scope_commit.payload = q->history;
        opts.commit = &q->scope_commit;
    }
    opts.worktree = roar_repo_worktree(q->repo);
    opts.pending_of = roar_repo_gitdir(q->repo);
    opts.now_ms = roar_time_now_ms();
    if (roar_scope_new(&q->scope, q->cache, &opts) < 0)
        roar_cli_die_error();
    return q->scope;
}

struct roar_query_scope_at {
    roar_history *history;
    roar_scope_commit commit;
    roar_scope *scope;
};

roar_scope *roar_query_scope_at_open(roar_query_scope_at **handle, roar_query *q,
                                     const char *commit)
{
    roar_query_scope_at *h = calloc(1, sizeof(*h));
    roar_scope_opts opts = {0};

    if (!h)
        roar_cli_oom();
    *handle = h;
    if (!q->cache)
        return NULL;
    if (roar_history_open(&h->history, q->repo, commit) < 0)
        roar_cli_die_error();
    h->commit.reaches = history_reaches;
    h->commit.tree_blob = history_tree_blob;
    h->commit.payload = h->history;
    opts.commit = &h->commit;
    if (q->has_head && !strcmp(q->head, commit))
        opts.pending_of = roar_repo_gitdir(q->repo);
    opts.now_ms = roar_time_now_ms();
    if (roar_scope_new(&h->scope, q->cache, &opts) < 0)
        roar_cli_die_error();
    return h->scope;
}

roar_history *roar_query_scope_at_history(const roar_query_scope_at *h)
{
    return h ? h->history : NULL;
}

void roar_query_scope_at_free(roar_query_scope_at *h)
{
    if (!h)
        return;
    roar_scope_free(h->scope);
    roar_history_free(h->history);
    free(h);
}

static bool reachable(roar_query *q, const char *commit)
{
    bool is = false;
    if (head_history(q) && roar_history_reaches(&is, q->history, commit) < 0)
        roar_cli_die_error();
    return is;
}

static int jobinfo_by_id(const void *a, const void *b)
{
    return strcmp(((const roar_cache_jobinfo *)a)->id, ((const roar_cache_jobinfo *)b)->id);
}

/* The pending jobs, sorted by id: a job's lookup is a binary search, so loading every
 * job of a history with many pending ones (export) stays O(n log n). */
static void load_pending(roar_query *q)
{
    if (q->pending_loaded || !q->cache)
        return;
    if (roar_cache_pending_list(&q->pending, q->cache, NULL) < 0)
        roar_cli_die_error();
    if (q->pending.count > 1)
        qsort(q->pending.items, q->pending.count, sizeof(*q->pending.items), jobinfo_by_id);
    q->pending_loaded = true;
}

void roar_query_job_init(roar_query_job *j)
{
    memset(j, 0, sizeof(*j));
    roar_job_init(&j->job);
}

void roar_query_job_dispose(roar_query_job *j)
{
    if (!j)
        return;
    roar_job_dispose(&j->job);
    roar_cache_id_list_dispose(&j->commits);
    roar_cache_id_list_dispose(&j->other_commits);
    free(j->pending_worktree);
    roar_query_job_init(j);
}

static void job_load(roar_query_job *out, roar_query *q, const char *id, bool whole)
{
    roar_cache_id_list all = ROAR_CACHE_ID_LIST_INIT;
    size_t i;

    roar_query_job_dispose(out);
    if (!q->cache)
        roar_cli_die("no job %s: no jobs recorded yet", id);
    if ((whole ? roar_cache_job_get(&out->job, q->cache, id)
               : roar_cache_job_get_summary(&out->job, q->cache, id)) < 0 ||
        roar_cache_attachments(&all, q->cache, id) < 0)
        roar_cli_die_error();
    for (i = 0; i < all.count; i++)
        CHECK(roar_cache_id_list_add(reachable(q, all.items[i]) ? &out->commits
                                                                : &out->other_commits,
                                     all.items[i], false));
    roar_cache_id_list_dispose(&all);

    if (roar_query_scope(q) && roar_scope_reason_of(&out->scope, q->scope, id) < 0)
        roar_cli_die_error();
    load_pending(q);
    if (q->pending.count) {
        roar_cache_jobinfo key;
        const roar_cache_jobinfo *p;
        snprintf(key.id, sizeof(key.id), "%s", id);
        p = bsearch(&key, q->pending.items, q->pending.count, sizeof(key), jobinfo_by_id);
        if (p) {
            out->pending = true;
            if (p->pending_worktree && !(out->pending_worktree = strdup(p->pending_worktree)))
                roar_cli_oom();
        }
    }
}

void roar_query_job_load(roar_query_job *out, roar_query *q, const char *id)
{
    job_load(out, q, id, true);
}

void roar_query_job_load_summary(roar_query_job *out, roar_query *q, const char *id)
{
    job_load(out, q, id, false);
}

bool roar_query_job_in_scope(const roar_query_job *j)
{
    return j->scope != ROAR_SCOPE_OUT;
}

void roar_query_map_path(roar_buf *out, roar_buf *abs, roar_query *q, const char *arg)
{
    roar_buf full = ROAR_BUF_INIT;
    roar_path_kind kind;

    if (!roar_repo_worktree(q->repo))
        roar_cli_die("this operation must be run in a work tree");
    if (!q->pc) {
        const char *gitdirs[2] = {roar_repo_gitdir(q->repo), roar_repo_commondir(q->repo)};
        if (roar_pathcanon_new(&q->pc, roar_repo_worktree(q->repo), gitdirs, 2) < 0)
            roar_cli_die_error();
    }
    if (arg[0] != '/') {
        char *cwd = getcwd(NULL, 0);
        if (!cwd)
            roar_cli_die("unable to get current working directory: %s", strerror(errno));
        if (roar_buf_printf(&full, "%s/%s", cwd, arg) < 0)
            roar_cli_oom();
        free(cwd);
    } else if (roar_buf_puts(&full, arg) < 0) {
        roar_cli_oom();
    }
    if (roar_pathcanon_map(out, &kind, q->pc, full.ptr) < 0)
        roar_cli_die_error();
    if (kind == ROAR_PATH_GITDIR)
        roar_cli_die("'%s' is inside the git directory", arg);
    if (abs && roar_buf_puts(abs, full.ptr) < 0)
        roar_cli_oom();
    roar_buf_dispose(&full);
}

/* ---- output ------------------------------------------------------------------- */

int roar_query_put_path(roar_buf *out, const char *path)
{
    return roar_escape_path(out, path, strlen(path));
}

static int put_end(roar_buf *out, const roar_job *job)
{
    return roar_buf_printf(out, "%s %d", job->end_kind == ROAR_END_SIGNAL ? "signal" : "exit",
                           job->end_code);
}

static int put_time(roar_buf *out, int64_t ms)
{
    /* A stored job always has a time the record format can hold; be safe anyway. */
    if (roar_time_format(out, ms) < 0) {
        roar_error_clear();
        return roar_buf_printf(out, "@%lld", (long long)ms);
    }
    return 0;
}

int roar_query_job_line(roar_buf *out, const roar_query_job *j)
{
    int error;
    size_t i;

    if ((error = roar_buf_printf(out, "%s%.*s%s  ", roar_cli_color(ROAR_COLOR_ID),
                                 ROAR_QUERY_ABBREV, j->job.id, roar_cli_color(ROAR_COLOR_RESET))) <
            0 ||
        (error = put_time(out, j->job.end_ms)) < 0 || (error = roar_buf_puts(out, "  ")) < 0 ||
        (error = put_end(out, &j->job)) < 0 || (error = roar_buf_puts(out, "  ")) < 0)
        return error;
    /* A job in scope by its content alone (a squash-merge, a cherry-pick, a clone
     * without the original commits) shows the commits it is attached to. */
    const roar_cache_id_list *shown =
        j->commits.count || j->scope != ROAR_SCOPE_CONTENT ? &j->commits : &j->other_commits;
    for (i = 0; i < shown->count; i++)
        if ((error = roar_buf_printf(out, "%s%.*s", i ? "," : "", ROAR_QUERY_ABBREV,
                                     shown->items[i])) < 0)
            return error;
    /* A job out of scope (shown only when asked for by id) says why. */
    if (shown->count == 0 &&
        (error = roar_buf_puts(out, j->pending               ? "pending"
                                    : j->scope == ROAR_SCOPE_CONTENT ? "unattached"
                                    : j->other_commits.count         ? "not-in-HEAD"
                                                             : "unattached")) < 0)
        return error;
    if ((error = roar_buf_puts(out, "  ")) < 0 ||
        (error = roar_escape_argv(out, (const char *const *)j->job.argv, j->job.argc)) < 0)
        return error;
    if (j->job.incomplete_count && (error = roar_buf_puts(out, "  [incomplete]")) < 0)
        return error;
    return 0;
}

int roar_query_json_path(roar_buf *out, const char *key, const char *path)
{
    bool lossless;
    size_t len = strlen(path);
    int error;
    if ((error = roar_buf_printf(out, "\"%s\":", key)) < 0 ||
        (error = roar_json_string(out, path, len, &lossless)) < 0)
        return error;
    if (!lossless && ((error = roar_buf_printf(out, ",\"%s_hex\":", key)) < 0 ||
                      (error = roar_json_hex(out, path, len)) < 0))
        return error;
    return 0;
}

static int json_id_list(roar_buf *out, const char *key, const roar_cache_id_list *l)
{
    size_t i;
    int error;
    if ((error = roar_buf_printf(out, ",\"%s\":[", key)) < 0)
        return error;
    for (i = 0; i < l->count; i++)
        if ((error = roar_buf_printf(out, "%s\"%s\"", i ? "," : "", l->items[i])) < 0)
            return error;
    return roar_buf_putc(out, ']');
}

static int json_edges(roar_buf *out, const char *key, const roar_job *job, roar_role role)
{
    size_t i;
    bool first = true;
    int error;
    if ((error = roar_buf_printf(out, ",\"%s\":[", key)) < 0)
        return error;
    for (i = 0; i < job->edge_count; i++) {
        const roar_edge *e = &job->edges[i];
        if (e->role != role)
            continue;
        if ((error = roar_buf_puts(out, first ? "{" : ",{")) < 0 ||
            (error = roar_query_json_path(out, "path", e->path)) < 0)
            return error;
        first = false;
        if (role != ROAR_ROLE_DEL &&
            (error = e->id_known ? roar_buf_printf(out, ",\"id\":\"%s\",\"size\":%llu}", e->id,
                                                   (unsigned long long)e->size)
                                 : roar_buf_printf(out, ",\"id\":null,\"size\":%llu}",
                                                   (unsigned long long)e->size)) < 0)
            return error;
        if (role == ROAR_ROLE_DEL && (error = roar_buf_putc(out, '}')) < 0)
            return error;
    }
    return roar_buf_putc(out, ']');
}

static int json_kvs(roar_buf *out, const char *key, const char *kname, const roar_kv *kv, size_t n)
{
    size_t i;
    int error;
    if ((error = roar_buf_printf(out, ",\"%s\":[", key)) < 0)
        return error;
    for (i = 0; i < n; i++) {
        if ((error = roar_buf_printf(out, "%s{\"%s\":", i ? "," : "", kname)) < 0 ||
            (error = roar_json_cstr(out, kv[i].key)) < 0 ||
            (error = roar_buf_puts(out, ",\"value\":")) < 0 ||
            (error = roar_json_cstr(out, kv[i].value)) < 0 || (error = roar_buf_putc(out, '}')) < 0)
            return error;
    }
    return roar_buf_putc(out, ']');
}

int roar_query_json_job(roar_buf *out, const roar_query_job *j, bool full)
{
    const roar_job *job = &j->job;
    roar_buf command = ROAR_BUF_INIT;
    size_t i;
    int error;

    if ((error = roar_quote_argv(&command, (const char *const *)job->argv, job->argc)) < 0)
        goto cleanup;
    if ((error = roar_buf_printf(out, "{\"id\":\"%s\",\"command\":", job->id)) < 0 ||
        (error = roar_json_cstr(out, command.ptr)) < 0 ||
        (error = roar_buf_puts(out, ",\"argv\":[")) < 0)
        goto cleanup;
    for (i = 0; i < job->argc; i++)
        if ((i && (error = roar_buf_putc(out, ',')) < 0) ||
            (error = roar_json_cstr(out, job->argv[i])) < 0)
            goto cleanup;
    if ((error = roar_buf_puts(out, "],")) < 0 ||
        (error = roar_query_json_path(out, "cwd", job->cwd)) < 0 ||
        (error = roar_buf_puts(out, ",\"start\":\"")) < 0 ||
        (error = put_time(out, job->start_ms)) < 0 ||
        (error = roar_buf_puts(out, "\",\"end\":\"")) < 0 ||
        (error = put_time(out, job->end_ms)) < 0 ||
        (error = job->end_kind == ROAR_END_SIGNAL
                     ? roar_buf_printf(out, "\",\"exit\":null,\"signal\":%d", job->end_code)
                     : roar_buf_printf(out, "\",\"exit\":%d,\"signal\":null", job->end_code)) < 0 ||
        (error = json_id_list(out, "commits", &j->commits)) < 0 ||
        (error = json_id_list(out, "other_commits", &j->other_commits)) < 0 ||
        (error = roar_buf_printf(
             out, ",\"pending\":%s,\"pending_worktree\":", j->pending ? "true" : "false")) < 0 ||
        (error = roar_json_cstr(out, j->pending_worktree)) < 0 ||
        (error = roar_buf_puts(out, ",\"incomplete\":[")) < 0)
        goto cleanup;
    for (i = 0; i < job->incomplete_count; i++) {
        const roar_incomplete *inc = &job->incomplete[i];
        if ((error = roar_buf_printf(out, "%s{\"reason\":", i ? "," : "")) < 0 ||
            (error = roar_json_cstr(out, inc->reason)) < 0 ||
            (error = inc->has_count
                         ? roar_buf_printf(out, ",\"count\":%llu,", (unsigned long long)inc->count)
                         : roar_buf_puts(out, ",\"count\":null,")) < 0)
            goto cleanup;
        if (inc->path)
            error = roar_query_json_path(out, "path", inc->path);
        else
            error = roar_buf_puts(out, "\"path\":null");
        if (error < 0 || (error = roar_buf_putc(out, '}')) < 0)
            goto cleanup;
    }
    if ((error = roar_buf_putc(out, ']')) < 0)
        goto cleanup;

    if (full) {
        if ((error = job->has_base ? roar_buf_printf(out, ",\"base\":\"%s\"", job->base)
                                   : roar_buf_puts(out, ",\"base\":null")) < 0 ||
            (error = roar_buf_printf(
                 out, ",\"dirty\":%s,\"tracer\":", job->dirty ? "true" : "false")) < 0 ||
            (error = roar_json_cstr(out, job->tracer)) < 0 ||
            (error = roar_buf_puts(out, ",\"host\":")) < 0 ||
            (error = roar_json_cstr(out, job->host)) < 0 ||
            (error = roar_buf_puts(out, ",\"user\":")) < 0 ||
            (error = roar_json_cstr(out, job->user)) < 0 ||
            (error = json_kvs(out, "env", "name", job->env, job->env_count)) < 0 ||
            (error = json_kvs(out, "extra", "key", job->extra, job->extra_count)) < 0 ||
            (error = json_edges(out, "inputs", job, ROAR_ROLE_IN)) < 0 ||
            (error = json_edges(out, "outputs", job, ROAR_ROLE_OUT)) < 0 ||
            (error = json_edges(out, "deleted", job, ROAR_ROLE_DEL)) < 0 ||
            (error = roar_buf_puts(out, ",\"steps\":")) < 0 ||
            (error = roar_query_json_steps(out, job)) < 0)
            goto cleanup;
    }
    error = roar_buf_putc(out, '}');

cleanup:
    roar_buf_dispose(&command);
    return error;
}

typedef struct {
    int64_t end_ms;
    char id[ROAR_OID_HEXSZ + 1];
} end_key;

static int by_end_then_id(const void *a, const void *b)
{
    const end_key *x = a, *y = b;
    if (x->end_ms != y->end_ms)
        return x->end_ms < y->end_ms ? -1 : 1;
    return strcmp(x->id, y->id);
}

size_t roar_query_sort_by_end(roar_query *q, roar_cache_id_list *ids)
{
    end_key *keys = calloc(ids->count + 1, sizeof(*keys));
    roar_query_job j;
    size_t i, failed = 0;

    if (!keys)
        roar_cli_oom();
    roar_query_job_init(&j);
    for (i = 0; i < ids->count; i++) {
        roar_query_job_load(&j, q, ids->items[i]);
        keys[i].end_ms = j.job.end_ms;
        memcpy(keys[i].id, ids->items[i], sizeof(keys[i].id));
        failed += j.job.end_kind != ROAR_END_EXIT || j.job.end_code != 0;
    }
    roar_query_job_dispose(&j);
    qsort(keys, ids->count, sizeof(*keys), by_end_then_id);
    for (i = 0; i < ids->count; i++)
        memcpy(ids->items[i], keys[i].id, sizeof(keys[i].id));
    free(keys);
    return failed;
}

void roar_query_put_job_lines(roar_buf *out, roar_query *q, const roar_cache_id_list *ids,
                              const char *indent)
{
    roar_query_job j;
    size_t i;

    roar_query_job_init(&j);
    for (i = 0; i < ids->count; i++) {
        roar_query_job_load(&j, q, ids->items[i]);
        CHECK(roar_buf_puts(out, indent));
        CHECK(roar_query_job_line(out, &j));
        CHECK(roar_buf_putc(out, '\n'));
    }
    roar_query_job_dispose(&j);
}

void roar_query_put_json_jobs(roar_buf *out, roar_query *q, const roar_cache_id_list *ids)
{
    roar_query_job j;
    size_t i;

    roar_query_job_init(&j);
    for (i = 0; i < ids->count; i++) {
        roar_query_job_load(&j, q, ids->items[i]);
        if (i)
            CHECK(roar_buf_putc(out, ','));
        CHECK(roar_query_json_job(out, &j, false));
    }
    roar_query_job_dispose(&j);
}

void roar_query_flush(roar_buf *buf)
{
    if (buf->size && fwrite(buf->ptr, 1, buf->size, stdout) != buf->size)
        roar_cli_die("unable to write to standard output");
    roar_buf_clear(buf);
}
