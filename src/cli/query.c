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
#include "graph/cache_lineage.h"
#include "trace/keymap.h"
#include "util/err.h"
#include "util/json.h"
#include "util/quote.h"
#include "util/timefmt.h"

#define REACHABLE ((void *)2)
#define UNREACHABLE ((void *)1)

struct roar_query {
    roar_cli_ctx *ctx;
    roar_repo *repo;
    roar_cache *cache;
    bool has_head;
    char head[ROAR_OID_HEXSZ + 1];
    roar_keymap reach; /* commit id -> REACHABLE / UNREACHABLE from HEAD */
    roar_cache_jobinfo_list pending;
    bool pending_loaded;
    roar_pathcanon *pc;
    roar_keymap status_scope; /* job id -> REACHABLE, once loaded */
    bool status_scope_loaded;
};

static bool has_sources(roar_repo *repo)
{
    bool has = false;
    if (roar_reindex_has_sources(&has, repo) < 0)
        roar_cli_die_error();
    return has;
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
    roar_cache_free(q->cache);
    roar_keymap_dispose(&q->reach);
    roar_keymap_dispose(&q->status_scope);
    roar_cache_jobinfo_list_dispose(&q->pending);
    roar_pathcanon_free(q->pc);
    free(q);
}

roar_cache *roar_query_cache(roar_query *q)
{
    return q->cache;
}

static bool reachable(roar_query *q, const char *commit)
{
    void *memo;
    bool is;
    int error;

    if (!q->has_head)
        return false;
    if ((memo = roar_keymap_gets(&q->reach, commit)) != NULL)
        return memo == REACHABLE;
    error = roar_repo_is_ancestor(&is, q->repo, commit, q->head);
    if (error == ROAR_ENOTFOUND) {
        is = false; /* HEAD itself unreadable would have failed earlier */
    } else if (error < 0) {
        /* A commit we do not have (not fetched, or pruned) is not reachable. */
        is = false;
    }
    roar_error_clear();
    if (roar_keymap_puts(&q->reach, commit, is ? REACHABLE : UNREACHABLE) < 0)
        roar_cli_oom();
    return is;
}

static void load_pending(roar_query *q)
{
    if (q->pending_loaded || !q->cache)
        return;
    if (roar_cache_pending_list(&q->pending, q->cache, NULL) < 0)
        roar_cli_die_error();
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

static void id_list_add(roar_cache_id_list *l, const char *id)
{
    if (ROAR_ALLOC_GROW(l->items, l->count + 1, l->alloc) < 0)
        roar_cli_oom();
    memcpy(l->items[l->count++], id, ROAR_OID_HEXSZ + 1);
}

void roar_query_job_load(roar_query_job *out, roar_query *q, const char *id)
{
    roar_cache_id_list all = ROAR_CACHE_ID_LIST_INIT;
    size_t i;

    roar_query_job_dispose(out);
    if (!q->cache)
        roar_cli_die("no job %s: no jobs recorded yet", id);
    if (roar_cache_job_get(&out->job, q->cache, id) < 0 ||
        roar_cache_attachments(&all, q->cache, id) < 0)
        roar_cli_die_error();
    for (i = 0; i < all.count; i++)
        id_list_add(reachable(q, all.items[i]) ? &out->commits : &out->other_commits, all.items[i]);
    roar_cache_id_list_dispose(&all);

    load_pending(q);
    for (i = 0; i < q->pending.count; i++) {
        if (!strcmp(q->pending.items[i].id, id)) {
            out->pending = true;
            if (q->pending.items[i].pending_worktree &&
                !(out->pending_worktree = strdup(q->pending.items[i].pending_worktree)))
                roar_cli_oom();
            break;
        }
    }
}

bool roar_query_job_in_scope(const roar_query_job *j)
{
    return j->pending || j->commits.count > 0;
}

static void load_status_scope(roar_query *q)
{
    roar_cache_id_list commits = ROAR_CACHE_ID_LIST_INIT, jobs = ROAR_CACHE_ID_LIST_INIT;
    roar_cache_jobinfo_list pending = ROAR_CACHE_JOBINFO_LIST_INIT;
    size_t i, k;

    q->status_scope_loaded = true;
    if (!q->cache)
        return;
    /* By commit, not by job: a commit's reachability is one walk, shared by its jobs. */
    if (roar_cache_attached_commits(&commits, q->cache) < 0)
        roar_cli_die_error();
    for (i = 0; i < commits.count; i++) {
        if (!reachable(q, commits.items[i]))
            continue;
        if (roar_cache_commit_jobs(&jobs, q->cache, commits.items[i]) < 0)
            roar_cli_die_error();
        for (k = 0; k < jobs.count; k++)
            if (roar_keymap_puts(&q->status_scope, jobs.items[k], REACHABLE) < 0)
                roar_cli_oom();
    }
    if (roar_cache_pending_list(&pending, q->cache, roar_repo_gitdir(q->repo)) < 0)
        roar_cli_die_error();
    for (i = 0; i < pending.count; i++)
        if (roar_keymap_puts(&q->status_scope, pending.items[i].id, REACHABLE) < 0)
            roar_cli_oom();
    roar_cache_id_list_dispose(&commits);
    roar_cache_id_list_dispose(&jobs);
    roar_cache_jobinfo_list_dispose(&pending);
}

bool roar_query_status_scope(const char *job_id, void *payload)
{
    roar_query *q = payload;
    if (!q->status_scope_loaded)
        load_status_scope(q);
    return roar_keymap_gets(&q->status_scope, job_id) != NULL;
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
    return roar_quote_path(out, path, strlen(path));
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
    for (i = 0; i < j->commits.count; i++)
        if ((error = roar_buf_printf(out, "%s%.*s", i ? "," : "", ROAR_QUERY_ABBREV,
                                     j->commits.items[i])) < 0)
            return error;
    /* A job out of scope (shown only when asked for by id) says why. */
    if (j->commits.count == 0 &&
        (error = roar_buf_puts(out, j->pending               ? "pending"
                                    : j->other_commits.count ? "not-in-HEAD"
                                                             : "unattached")) < 0)
        return error;
    if ((error = roar_buf_puts(out, "  ")) < 0 ||
        (error = roar_quote_argv(out, (const char *const *)j->job.argv, j->job.argc)) < 0)
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
            (error = json_edges(out, "deleted", job, ROAR_ROLE_DEL)) < 0)
            goto cleanup;
    }
    error = roar_buf_putc(out, '}');

cleanup:
    roar_buf_dispose(&command);
    return error;
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
