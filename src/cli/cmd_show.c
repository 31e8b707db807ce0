/* `git roar show [--json] OBJ`: a job's whole record; for a file, `<rev>:<path>` or blob
 * the jobs that produced and consumed that content; for a commit, what explains it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>

#include "cli/check.h"
#include "cli/cli.h"
#include "cli/explain.h"
#include "cli/objref.h"
#include "cli/pager.h"
#include "cli/query.h"
#include "graph/hash.h"
#include "util/err.h"
#include "util/escape.h"
#include "util/keymap.h"
#include "util/timefmt.h"

/* ---- a job -------------------------------------------------------------------- */

static void put_edges(roar_buf *out, const roar_job *job, roar_role role, const char *title)
{
    size_t i, n = 0;
    for (i = 0; i < job->edge_count; i++)
        n += job->edges[i].role == role;
    if (!n)
        return;
    CHECK(roar_buf_printf(out, "\n%s (%zu):\n", title, n));
    for (i = 0; i < job->edge_count; i++) {
        const roar_edge *e = &job->edges[i];
        if (e->role != role)
            continue;
        CHECK(roar_buf_puts(out, "  "));
        if (role != ROAR_ROLE_DEL)
            CHECK(roar_buf_printf(out, "%s %10llu  ", e->id_known ? e->id : "-",
                                  (unsigned long long)e->size));
        CHECK(roar_query_put_path(out, e->path));
        CHECK(roar_buf_putc(out, '\n'));
    }
}

static void put_ids(roar_buf *out, const roar_cache_id_list *l, const char *suffix)
{
    size_t i;
    for (i = 0; i < l->count; i++)
        CHECK(roar_buf_printf(out, "%s%s%s", i ? ", " : "", l->items[i], suffix));
}

static void show_job_text(roar_buf *out, const roar_query_job *j)
{
    const roar_job *job = &j->job;
    size_t i;

    CHECK(roar_buf_printf(out, "job %s\ncommand   ", job->id));
    CHECK(roar_escape_argv(out, (const char *const *)job->argv, job->argc));
    CHECK(roar_buf_puts(out, "\ncwd       "));
    CHECK(roar_query_put_path(out, job->cwd));
    CHECK(roar_buf_puts(out, "\nattached  "));
    put_ids(out, &j->commits, "");
    if (j->other_commits.count) {
        CHECK(roar_buf_puts(out, j->commits.count ? ", " : ""));
        put_ids(out, &j->other_commits, " (not reachable from HEAD)");
    }
    if (j->pending)
        CHECK(roar_buf_puts(out,
                            j->commits.count + j->other_commits.count ? ", pending" : "pending"));
    else if (!j->commits.count && !j->other_commits.count)
        CHECK(roar_buf_puts(out, "nothing"));
    if (job->has_base)
        CHECK(roar_buf_printf(out, "\nbase      %s%s", job->base,
                              job->dirty ? " (dirty: read content HEAD does not hold)" : ""));
    /* Values from a note reach the terminal escaped (SPEC §8). */
    if (job->tracer) {
        CHECK(roar_buf_puts(out, "\ntracer    "));
        CHECK(roar_escape_term_cstr(out, job->tracer));
    }
    if (job->host) {
        CHECK(roar_buf_puts(out, "\nhost      "));
        CHECK(roar_escape_term_cstr(out, job->host));
    }
    if (job->user) {
        CHECK(roar_buf_puts(out, "\nuser      "));
        CHECK(roar_escape_term_cstr(out, job->user));
    }
    CHECK(roar_buf_puts(out, "\nstart     "));
    CHECK(roar_time_format(out, job->start_ms));
    CHECK(roar_buf_puts(out, "\nend       "));
    CHECK(roar_time_format(out, job->end_ms));
    CHECK(roar_buf_printf(out, " (%.3f s)", (double)(job->end_ms - job->start_ms) / 1000.0));
    CHECK(roar_buf_printf(out, "\n%-9s %d\n", job->end_kind == ROAR_END_SIGNAL ? "signal" : "exit",
                          job->end_code));
    for (i = 0; i < job->env_count; i++) {
        CHECK(roar_buf_printf(out, "env       %s=", job->env[i].key));
        CHECK(roar_escape_arg(out, job->env[i].value, strlen(job->env[i].value)));
        CHECK(roar_buf_putc(out, '\n'));
    }
    for (i = 0; i < job->extra_count; i++) {
        size_t at = out->size, width;
        CHECK(roar_escape_term_cstr(out, job->extra[i].key));
        width = out->size - at; /* padded to 9 as "%-9s" did */
        CHECK(roar_buf_printf(out, "%*s ", width < 9 ? (int)(9 - width) : 0, ""));
        CHECK(roar_escape_term_cstr(out, job->extra[i].value));
        CHECK(roar_buf_putc(out, '\n'));
    }
    for (i = 0; i < job->incomplete_count; i++) {
        const roar_incomplete *inc = &job->incomplete[i];
        CHECK(roar_buf_printf(out, "incomplete %s", inc->reason));
        if (inc->has_count)
            CHECK(roar_buf_printf(out, " %llu", (unsigned long long)inc->count));
        if (inc->path) {
            CHECK(roar_buf_putc(out, ' '));
            CHECK(roar_query_put_path(out, inc->path));
        }
        CHECK(roar_buf_putc(out, '\n'));
    }
    put_edges(out, job, ROAR_ROLE_IN, "inputs");
    put_edges(out, job, ROAR_ROLE_OUT, "outputs");
    put_edges(out, job, ROAR_ROLE_DEL, "deleted");
    CHECK(roar_query_text_steps(out, job));
}

static void show_job(roar_query *q, const char *id, bool json)
{
    roar_query_job j;
    roar_buf out = ROAR_BUF_INIT;

    roar_query_job_init(&j);
    roar_query_job_load(&j, q, id);
    if (json) {
        CHECK(roar_buf_printf(
            &out, "{\"version\":%d,\"kind\":\"job\",\"job\":", ROAR_QUERY_JSON_VERSION));
        CHECK(roar_query_json_job(&out, &j, true));
        CHECK(roar_buf_puts(&out, "}\n"));
    } else {
        show_job_text(&out, &j);
    }
    roar_query_flush(&out);
    roar_buf_dispose(&out);
    roar_query_job_dispose(&j);
}

/* ---- a file ------------------------------------------------------------------- */

/* Loads the jobs of `edges` that are in scope (SPEC §5.3), each once, in edge order. */
/* The jobs behind `edges` that are in scope, each once, in the list's order (newest
 * first), with the first of their edges (*firsts): the content may have been written or
 * read under another name. Scope is decided before a job is loaded, and only what a
 * listing line shows is loaded: a file 40k jobs read lists in linear time. */
static size_t scoped_edges(roar_query_job **jobs, const roar_cache_edge ***firsts, roar_query *q,
                           const roar_cache_edge_list *edges)
{
    roar_keymap seen = ROAR_KEYMAP_INIT;
    roar_scope *scope = roar_query_scope(q);
    size_t i, n = 0;
    bool in;

    *jobs = calloc(edges->count ? edges->count : 1, sizeof(**jobs));
    *firsts = calloc(edges->count ? edges->count : 1, sizeof(**firsts));
    if (!*jobs || !*firsts)
        roar_cli_oom();
    /* One read snapshot for the many small reads (cache.h); scope decides first, so
     * HEAD's reachable set is up to date before it starts. */
    if (edges->count && roar_cache_read_begin(roar_query_cache(q)) < 0)
        roar_cli_die_error();
    for (i = 0; i < edges->count; i++) {
        const char *id = edges->items[i].job_id;
        if (roar_keymap_gets(&seen, id))
            continue; /* the job has two edges on this content (one shown) */
        if (roar_keymap_puts(&seen, id, (void *)1) < 0)
            roar_cli_oom();
        /* Edges come only from a cache, and a cache always has a scope. */
        if (roar_scope_has(&in, scope, id) < 0)
            roar_cli_die_error();
        if (!in)
            continue;
        roar_query_job_init(&(*jobs)[n]);
        roar_query_job_load_summary(&(*jobs)[n], q, id);
        (*firsts)[n++] = &edges->items[i];
    }
    if (roar_query_cache(q))
        roar_cache_read_end(roar_query_cache(q));
    roar_keymap_dispose(&seen);
    return n;
}

static void free_jobs(roar_query_job *jobs, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        roar_query_job_dispose(&jobs[i]);
    free(jobs);
}

/* On a terminal (or its pager) a list longer than this shows its newest jobs and a
 * count: a file that 40k jobs read should not print 40k lines at a reader. */
#define SHOW_LIST_MAX 20

static void text_job_list(roar_buf *out, const char *title, const char *none,
                          const roar_query_job *jobs, size_t n,
                          const roar_cache_edge *const *firsts, const char *path, bool all)
{
    size_t i, shown = n;
    if (!n) {
        CHECK(roar_buf_printf(out, "%s %s\n", title, none));
        return;
    }
    if (!all && n > SHOW_LIST_MAX && (isatty(STDOUT_FILENO) || roar_cli_pager_in_use()))
        shown = SHOW_LIST_MAX;
    CHECK(roar_buf_printf(out, "%s\n", title));
    for (i = 0; i < shown; i++) {
        const roar_cache_edge *e = firsts[i];
        CHECK(roar_buf_puts(out, "  "));
        CHECK(roar_query_job_line(out, &jobs[i]));
        CHECK(roar_buf_putc(out, '\n'));
        /* The same content may have been written or read under another name. */
        if (e && strcmp(e->path, path) != 0) {
            CHECK(roar_buf_puts(out, "    as "));
            CHECK(roar_query_put_path(out, e->path));
            CHECK(roar_buf_putc(out, '\n'));
        }
    }
    if (shown < n)
        CHECK(roar_buf_printf(out, "  ... and %zu more (--all lists every one)\n", n - shown));
}

static void json_job_list(roar_buf *out, const char *key, const roar_query_job *jobs, size_t n,
                          const roar_cache_edge *const *firsts)
{
    size_t i;
    CHECK(roar_buf_printf(out, ",\"%s\":[", key));
    for (i = 0; i < n; i++) {
        const roar_cache_edge *e = firsts[i];
        CHECK(roar_buf_puts(out, i ? ",{" : "{"));
        CHECK(roar_query_json_path(out, "path", e ? e->path : ""));
        CHECK(roar_buf_puts(out, ",\"job\":"));
        CHECK(roar_query_json_job(out, &jobs[i], false));
        CHECK(roar_buf_putc(out, '}'));
    }
    CHECK(roar_buf_putc(out, ']'));
}

/* Appends the edges of `src` to `dst`, taking their paths (src keeps none). */
static void move_edges(roar_cache_edge_list *dst, roar_cache_edge_list *src)
{
    size_t i;
    for (i = 0; i < src->count; i++) {
        if (ROAR_ALLOC_GROW(dst->items, dst->count + 1, dst->alloc) < 0)
            roar_cli_oom();
        dst->items[dst->count++] = src->items[i];
        src->items[i].path = NULL;
    }
    roar_cache_edge_list_dispose(src);
}

/* Producers (or consumers) of either id: a committed file's clean and work-tree forms. */
static void edges_of(roar_cache_edge_list *out, roar_cache *cache, const char *id1, const char *id2,
                     bool producers)
{
    roar_cache_edge_list tmp = ROAR_CACHE_EDGE_LIST_INIT;
    const char *ids[2] = {id1, id2 && strcmp(id1, id2) != 0 ? id2 : NULL};
    size_t k;
    for (k = 0; k < 2 && ids[k]; k++) {
        if ((producers ? roar_cache_producers(&tmp, cache, ids[k])
                       : roar_cache_consumers(&tmp, cache, ids[k])) < 0)
            roar_cli_die_error();
        move_edges(out, &tmp);
    }
}

/* A file (current content), `<rev>:<path>` or a blob id: who made and who read this
 * exact content, and if nobody made it, who last wrote the path. */
static void show_file(roar_query *q, roar_repo *repo, const roar_objref *ref, bool json,
                      bool all)
{
    roar_buf out = ROAR_BUF_INIT;
    roar_cache_edge_list producers = ROAR_CACHE_EDGE_LIST_INIT;
    roar_cache_edge_list consumers = ROAR_CACHE_EDGE_LIST_INIT;
    roar_cache_edge_list writes = ROAR_CACHE_EDGE_LIST_INIT;
    roar_query_job *prod_jobs = NULL, *cons_jobs = NULL, *writer_jobs = NULL;
    const roar_cache_edge **prod_firsts = NULL, **cons_firsts = NULL, **writer_firsts = NULL;
    size_t nprod = 0, ncons = 0, nwriter = 0, i;
    const roar_cache_edge *writer = NULL;
    roar_cache *cache = roar_query_cache(q);
    const char *path = ref->path; /* NULL for a bare blob id */
    char wt[ROAR_OID_HEXSZ + 1] = "";
    bool exists = ref->exists && ref->has_blob;
    const char *kind = ref->kind == ROAR_OBJREF_PATH ? "file" : "blob";

    /* A committed blob is clean bytes; jobs saw the work-tree form (SPEC §4.6). */
    if (ref->kind == ROAR_OBJREF_REVPATH && roar_objref_revpath_worktree_blob(wt, repo, ref) < 0)
        roar_cli_die_error();

    if (cache) {
        if (exists) {
            edges_of(&producers, cache, ref->blob, wt[0] ? wt : NULL, true);
            edges_of(&consumers, cache, ref->blob, wt[0] ? wt : NULL, false);
        }
        nprod = scoped_edges(&prod_jobs, &prod_firsts, q, &producers);
        ncons = scoped_edges(&cons_jobs, &cons_firsts, q, &consumers);
        if (!nprod && path) {
            /* Nobody made this content: who last wrote this path, and what? */
            roar_cache_edge_list all = ROAR_CACHE_EDGE_LIST_INIT;
            if (roar_cache_path_edges(&all, cache, path) < 0)
                roar_cli_die_error();
            for (i = 0; i < all.count; i++) {
                if (all.items[i].role != ROAR_ROLE_OUT)
                    continue;
                /* Move one edge into `writes` (newest first, so the first in scope wins). */
                if (ROAR_ALLOC_GROW(writes.items, writes.count + 1, writes.alloc) < 0)
                    roar_cli_oom();
                writes.items[writes.count++] = all.items[i];
                all.items[i].path = NULL;
            }
            roar_cache_edge_list_dispose(&all);
            nwriter = scoped_edges(&writer_jobs, &writer_firsts, q, &writes);
            if (nwriter)
                writer = writer_firsts[0];
        }
    }

    if (json) {
        CHECK(roar_buf_printf(&out, "{\"version\":%d,\"kind\":\"%s\",", ROAR_QUERY_JSON_VERSION,
                              kind));
        if (path)
            CHECK(roar_query_json_path(&out, "path", path));
        else
            CHECK(roar_buf_puts(&out, "\"path\":null"));
        if (ref->kind != ROAR_OBJREF_PATH) {
            /* Always present for kind "blob" (docs/json.md): null for a bare blob id. */
            if (ref->commit[0])
                CHECK(roar_buf_printf(&out, ",\"commit\":\"%s\"", ref->commit));
            else
                CHECK(roar_buf_puts(&out, ",\"commit\":null"));
            if (wt[0])
                CHECK(roar_buf_printf(&out, ",\"worktree_id\":\"%s\"", wt));
            else
                CHECK(roar_buf_puts(&out, ",\"worktree_id\":null"));
        }
        if (exists)
            CHECK(roar_buf_printf(&out, ",\"exists\":true,\"id\":\"%s\",\"size\":%llu", ref->blob,
                                  (unsigned long long)ref->size));
        else
            CHECK(roar_buf_puts(&out, ",\"exists\":false,\"id\":null,\"size\":null"));
        json_job_list(&out, "produced_by", prod_jobs, nprod, prod_firsts);
        json_job_list(&out, "consumed_by", cons_jobs, ncons, cons_firsts);
        CHECK(roar_buf_puts(&out, ",\"latest_writer\":"));
        if (writer) {
            CHECK(roar_buf_puts(&out, "{"));
            CHECK(roar_query_json_path(&out, "path", writer->path));
            if (writer->id_known)
                CHECK(roar_buf_printf(&out, ",\"id\":\"%s\"", writer->id));
            else
                CHECK(roar_buf_puts(&out, ",\"id\":null"));
            CHECK(
                roar_buf_printf(&out, ",\"size\":%llu,\"job\":", (unsigned long long)writer->size));
            CHECK(roar_query_json_job(&out, &writer_jobs[0], false));
            CHECK(roar_buf_putc(&out, '}'));
        } else {
            CHECK(roar_buf_puts(&out, "null"));
        }
        CHECK(roar_buf_puts(&out, "}\n"));
        roar_query_flush(&out);
        goto cleanup;
    }

    if (path) {
        CHECK(roar_buf_puts(&out, "file "));
        CHECK(roar_query_put_path(&out, path));
        if (ref->kind == ROAR_OBJREF_REVPATH)
            CHECK(roar_buf_printf(&out, " at %s", ref->commit[0] ? ref->commit : "the index"));
        CHECK(roar_buf_putc(&out, '\n'));
    }
    if (exists) {
        CHECK(roar_buf_printf(&out, "blob %s (%llu bytes)\n", ref->blob,
                              (unsigned long long)ref->size));
        if (wt[0] && strcmp(wt, ref->blob) != 0)
            CHECK(roar_buf_printf(&out, "work-tree form %s (after git's filters)\n", wt));
    } else {
        CHECK(roar_buf_puts(&out, "missing: the file does not exist\n"));
    }
    if (!cache) {
        CHECK(roar_buf_puts(&out, "\nno jobs recorded yet\n"));
        roar_query_flush(&out);
        goto cleanup;
    }
    if (exists) {
        CHECK(roar_buf_putc(&out, '\n'));
        text_job_list(&out, "produced by:", "no job produced this content", prod_jobs, nprod,
                      prod_firsts, path ? path : "", all);
        text_job_list(&out, "consumed by:", "no job read this content", cons_jobs, ncons,
                      cons_firsts, path ? path : "", all);
    }
    if (!nprod && path) {
        CHECK(roar_buf_putc(&out, '\n'));
        if (!writer) {
            CHECK(roar_buf_puts(&out, "no job wrote "));
            CHECK(roar_query_put_path(&out, path));
            CHECK(roar_buf_putc(&out, '\n'));
        } else {
            CHECK(roar_buf_puts(&out, "latest job that wrote "));
            CHECK(roar_query_put_path(&out, path));
            CHECK(roar_buf_puts(&out, ":\n  "));
            CHECK(roar_query_job_line(&out, &writer_jobs[0]));
            CHECK(roar_buf_puts(&out, "\n  content differs: the job wrote "));
            if (writer->id_known)
                CHECK(roar_buf_printf(&out, "%s", writer->id));
            else
                CHECK(roar_buf_puts(&out, "content of unknown id"));
            CHECK(roar_buf_printf(&out, " (%llu bytes)", (unsigned long long)writer->size));
            if (exists)
                CHECK(roar_buf_printf(&out, "; the file is now %s (%llu bytes)\n", ref->blob,
                                      (unsigned long long)ref->size));
            else
                CHECK(roar_buf_puts(&out, "; the file is now missing\n"));
        }
    }
    roar_query_flush(&out);

cleanup:
    free_jobs(prod_jobs, nprod);
    free_jobs(cons_jobs, ncons);
    free_jobs(writer_jobs, nwriter);
    free(prod_firsts);
    free(cons_firsts);
    free(writer_firsts);
    roar_cache_edge_list_dispose(&producers);
    roar_cache_edge_list_dispose(&consumers);
    roar_cache_edge_list_dispose(&writes);
    roar_buf_dispose(&out);
}

/* ---- a commit ----------------------------------------------------------------- */

static const char *status_word(char status)
{
    switch (status) {
    case 'A':
        return "added";
    case 'D':
        return "deleted";
    case 'R':
        return "renamed";
    case 'T':
        return "typechange";
    default:
        return "modified";
    }
}

/* The jobs attached to the commit, and for each file it changed whether a recorded
 * job produced the new content. */
static void show_commit(roar_query *q, roar_repo *repo, const char *commit, bool json)
{
    roar_cache *cache = roar_query_cache(q);
    roar_cache_id_list attached = ROAR_CACHE_ID_LIST_INIT;
    roar_explain_list files = ROAR_EXPLAIN_LIST_INIT;
    roar_buf out = ROAR_BUF_INIT;
    size_t i, k, produced = 0;

    if (cache && roar_cache_commit_jobs(&attached, cache, commit) < 0)
        roar_cli_die_error();
    if (roar_explain_commit(&files, repo, cache, commit) < 0)
        roar_cli_die_error();
    for (i = 0; i < files.count; i++)
        produced += files.items[i].producers.count > 0;

    if (json) {
        CHECK(roar_buf_printf(&out,
                              "{\"version\":%d,\"kind\":\"commit\",\"commit\":\"%s\",\"jobs\":[",
                              ROAR_QUERY_JSON_VERSION, commit));
        roar_query_put_json_jobs(&out, q, &attached);
        CHECK(roar_buf_puts(&out, "],\"files\":["));
        for (i = 0; i < files.count; i++) {
            const roar_explain_file *f = &files.items[i];
            CHECK(roar_buf_puts(&out, i ? ",{" : "{"));
            CHECK(roar_query_json_path(&out, "path", f->path));
            CHECK(roar_buf_printf(&out, ",\"status\":\"%s\"", status_word(f->status)));
            if (f->status == 'D')
                CHECK(roar_buf_puts(&out, ",\"id\":null,\"worktree_id\":null"));
            else
                CHECK(roar_buf_printf(&out, ",\"id\":\"%s\",\"worktree_id\":\"%s\"", f->blob,
                                      f->worktree_blob));
            CHECK(roar_buf_printf(&out, ",\"produced\":%s,\"produced_by\":[",
                                  f->producers.count ? "true" : "false"));
            for (k = 0; k < f->producers.count; k++)
                CHECK(roar_buf_printf(&out, "%s\"%s\"", k ? "," : "", f->producers.items[k]));
            CHECK(roar_buf_puts(&out, "]}"));
        }
        CHECK(roar_buf_puts(&out, "]}\n"));
        roar_query_flush(&out);
        goto cleanup;
    }

    CHECK(roar_buf_printf(&out, "commit %s\n\njobs attached (%zu):\n", commit, attached.count));
    if (!attached.count)
        CHECK(roar_buf_puts(&out, "  none\n"));
    roar_query_put_job_lines(&out, q, &attached, "  ");
    CHECK(roar_buf_printf(&out, "\nfiles changed (%zu, %zu produced by a recorded job):\n",
                          files.count, produced));
    for (i = 0; i < files.count; i++) {
        const roar_explain_file *f = &files.items[i];
        CHECK(roar_buf_printf(&out, "  %-10s ",
                              f->status == 'D'     ? "deleted"
                              : f->producers.count ? "produced"
                                                   : "unproduced"));
        CHECK(roar_query_put_path(&out, f->path));
        if (f->producers.count) {
            CHECK(roar_buf_puts(&out, "  by "));
            for (k = 0; k < f->producers.count; k++)
                CHECK(roar_buf_printf(&out, "%s%.*s", k ? "," : "", ROAR_QUERY_ABBREV,
                                      f->producers.items[k]));
        }
        CHECK(roar_buf_putc(&out, '\n'));
    }
    roar_query_flush(&out);

cleanup:
    roar_cache_id_list_dispose(&attached);
    roar_explain_list_dispose(&files);
    roar_buf_dispose(&out);
}

/* ---- a directory: every recorded output beneath it ------------------------------ */

/* One line (or JSON object) per output in scope under the directory: its path, what its
 * producer wrote, that producer, and whether the file still holds it (`ok`,
 * `modified`, `missing`; the content only: status judges the inputs too). */
static void show_dir(roar_query *q, roar_repo *repo, const roar_objref *ref, bool json)
{
    roar_scope_output_list outs = ROAR_SCOPE_OUTPUT_LIST_INIT;
    roar_scope *scope = roar_query_scope(q);
    roar_buf out = ROAR_BUF_INIT, abs = ROAR_BUF_INIT;
    roar_query_job j;
    size_t i;

    roar_query_job_init(&j);
    if (scope && roar_scope_outputs(&outs, scope, ref->path) < 0)
        roar_cli_die_error();
    if (json) {
        CHECK(roar_buf_printf(&out, "{\"version\":%d,\"kind\":\"directory\",",
                              ROAR_QUERY_JSON_VERSION));
        CHECK(roar_query_json_path(&out, "path", ref->path));
        CHECK(roar_buf_puts(&out, ",\"outputs\":["));
    } else {
        CHECK(roar_buf_puts(&out, "directory "));
        CHECK(roar_query_put_path(&out, ref->path));
        CHECK(roar_buf_printf(&out, " (%zu recorded output%s)\n", outs.count,
                              outs.count == 1 ? "" : "s"));
    }
    for (i = 0; i < outs.count; i++) {
        const roar_scope_output *o = &outs.items[i];
        char now[ROAR_OID_HEXSZ + 1];
        const char *state;

        roar_buf_clear(&abs);
        CHECK(o->path[0] == '/'
                  ? roar_buf_puts(&abs, o->path)
                  : roar_buf_printf(&abs, "%s/%s", roar_repo_worktree(repo), o->path));
        if (roar_hash_file(now, NULL, roar_query_cache(q), abs.ptr, NULL) < 0) {
            roar_error_clear();
            state = "missing";
        } else {
            state = o->id_known && !strcmp(now, o->id) ? "ok" : "modified";
        }
        roar_query_job_load(&j, q, o->job_id);
        if (json) {
            CHECK(roar_buf_puts(&out, i ? ",{" : "{"));
            CHECK(roar_query_json_path(&out, "path", o->path));
            CHECK(o->id_known ? roar_buf_printf(&out, ",\"id\":\"%s\"", o->id)
                              : roar_buf_puts(&out, ",\"id\":null"));
            CHECK(roar_buf_printf(&out, ",\"content\":\"%s\",\"job\":", state));
            CHECK(roar_query_json_job(&out, &j, false));
            CHECK(roar_buf_putc(&out, '}'));
        } else {
            CHECK(roar_buf_puts(&out, "  "));
            CHECK(roar_query_put_path(&out, o->path));
            CHECK(roar_buf_printf(&out, "  %.*s  %s\n    produced by ", ROAR_QUERY_ABBREV,
                                  o->id_known ? o->id : "-", state));
            CHECK(roar_query_job_line(&out, &j));
            CHECK(roar_buf_putc(&out, '\n'));
        }
        roar_query_flush(&out);
    }
    if (json)
        CHECK(roar_buf_puts(&out, "]}\n"));
    roar_query_flush(&out);
    roar_query_job_dispose(&j);
    roar_scope_output_list_dispose(&outs);
    roar_buf_dispose(&out);
    roar_buf_dispose(&abs);
}

/* ---- dispatch ----------------------------------------------------------------- */

int roar_cmd_show(roar_cli_ctx *ctx)
{
    const char *arg = ctx->argv[0];
    bool json = roar_cli_opt_set(ctx, "json");
    bool after_dashdash = ctx->dashdash == 0;
    roar_query *q = roar_query_open(ctx);
    roar_objref ref;
    int error;

    roar_objref_init(&ref);
    error = roar_objref_resolve(&ref, q, ctx->repo, arg, ROAR_OBJREF_ANY, after_dashdash);
    if (error == ROAR_ENOTFOUND && roar_objref_is_hex(arg, 4, ROAR_OID_HEXSZ) &&
        !roar_query_cache(q)) {
        /* Not an error: a job id, but nothing was ever recorded here. */
        if (json)
            printf("{\"version\":%d,\"kind\":\"none\"}\n", ROAR_QUERY_JSON_VERSION);
        else if (!ctx->quiet)
            printf("no jobs recorded yet\n");
        goto done;
    }
    if (error == ROAR_ENOTFOUND && roar_objref_is_hex(arg, 4, ROAR_OID_HEXSZ))
        roar_cli_die("no job matches '%s', and it is not a file, a commit or a blob", arg);
    if (error < 0)
        roar_cli_die_error();

    switch (ref.kind) {
    case ROAR_OBJREF_PATH:
        if (ref.is_dir)
            show_dir(q, ctx->repo, &ref, json);
        else
            show_file(q, ctx->repo, &ref, json, roar_cli_opt_set(ctx, "all"));
        break;
    case ROAR_OBJREF_REVPATH:
    case ROAR_OBJREF_BLOB:
        show_file(q, ctx->repo, &ref, json, roar_cli_opt_set(ctx, "all"));
        break;
    case ROAR_OBJREF_JOB:
        show_job(q, ref.job, json);
        break;
    case ROAR_OBJREF_COMMIT:
        show_commit(q, ctx->repo, ref.commit, json);
        break;
    }

done:
    roar_objref_dispose(&ref);
    roar_query_free(q);
    return ROAR_EXIT_OK;
}
