/* `git roar reproduce [-n] [--yes] [--force] [OBJ...|REV]`: plans the jobs that rebuild
 * OBJ (those not current; every output not ok without OBJ; a commit's jobs for REV),
 * asks, reruns each traced as a new job in its recorded cwd, and compares. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/check.h"
#include "cli/cli.h"
#include "cli/objref.h"
#include "cli/query.h"
#include "cli/run.h"
#include "graph/record.h"
#include "graph/status.h"
#include "util/err.h"
#include "util/escape.h"
#include "util/quote.h"
#include "util/redact.h"

/* What to rerun: the jobs the arguments name, and which of them run even if current
 * (--force, or a REV: `datalad rerun` reruns a commit's jobs to check them). */
typedef struct {
    roar_cache_id_list jobs;
    roar_cache_id_list forced;
} targets;

static void add_unique(roar_cache_id_list *l, const char *id)
{
    CHECK(roar_cache_id_list_add(l, id, true));
}

static void add_target(targets *t, const char *id, bool forced)
{
    add_unique(&t->jobs, id);
    if (forced)
        add_unique(&t->forced, id);
}

/* The outputs under `dir` (every one with force, else those not ok), by producer. */
static size_t add_outputs_under(targets *t, const roar_status *st, const char *dir, bool force)
{
    size_t n = 0;
    for (size_t i = 0; i < st->count; i++) {
        const roar_status_output *o = &st->outputs[i];
        if (!roar_scope_path_under(o->path, dir) || (!force && o->state == ROAR_STATUS_OK))
            continue;
        add_target(t, o->job, force);
        n++;
    }
    return n;
}

/* One OBJ or REV argument. A deleted intermediate is the usual target, so a path that
 * no longer exists still counts when an in-scope job produced it. */
static void add_argument(targets *t, roar_query *q, roar_cli_ctx *ctx, const roar_status *st,
                         const char *arg, bool after_dashdash, bool force)
{
    const roar_status_output *o = NULL;
    roar_objref ref;
    roar_buf path = ROAR_BUF_INIT;
    roar_cache_id_list attached = ROAR_CACHE_ID_LIST_INIT;
    size_t i;

    roar_objref_init(&ref);
    if (roar_objref_resolve(&ref, q, ctx->repo, arg,
                            ROAR_OBJREF_CONTENT | ROAR_OBJREF_JOB | ROAR_OBJREF_COMMIT,
                            after_dashdash) < 0) {
        if (roar_error_last_code() != ROAR_ENOTFOUND)
            roar_cli_die_error();
        roar_query_map_path(&path, NULL, q, arg);
        if (!(o = roar_status_find(st, path.ptr)))
            roar_cli_die_error();
        roar_error_clear();
    } else if (ref.kind == ROAR_OBJREF_JOB) {
        add_target(t, ref.job, force);
    } else if (ref.kind == ROAR_OBJREF_COMMIT) {
        if (roar_cache_commit_jobs(&attached, roar_query_cache(q), ref.commit) < 0)
            roar_cli_die_error();
        if (!attached.count)
            roar_cli_die("no job is attached to commit %.7s", ref.commit);
        for (i = attached.count; i-- > 0;) /* newest first: rerun oldest first */
            add_target(t, attached.items[i], true);
    } else if (ref.kind == ROAR_OBJREF_PATH && ref.is_dir) {
        if (!add_outputs_under(t, st, ref.path, force) && !force) {
            bool any = false;
            for (i = 0; i < st->count && !any; i++)
                any = roar_scope_path_under(st->outputs[i].path, ref.path);
            if (!any)
                roar_cli_die("no job in scope produced anything under '%s'", arg);
        }
    } else if (ref.kind == ROAR_OBJREF_BLOB ||
               (ref.kind == ROAR_OBJREF_REVPATH && ref.has_blob)) {
        for (i = 0; i < st->count && !o; i++)
            if (st->outputs[i].id_known && !strcmp(st->outputs[i].id, ref.blob))
                o = &st->outputs[i];
        if (!o)
            roar_cli_die("no job in scope produced blob %s", ref.blob);
    } else if (!(o = roar_status_find(st, ref.path))) {
        roar_cli_die("no job in scope produced '%s'", arg);
    }
    if (o)
        add_target(t, o->job, force);
    roar_cache_id_list_dispose(&attached);
    roar_objref_dispose(&ref);
    roar_buf_dispose(&path);
}

/* The plan: for each target, the jobs not current that it needs (roar_status_plan),
 * dependencies first, and the target itself when it is forced. Targets are taken in
 * the order they first ran, so that the plan stays topological across targets. */
static void make_plan(roar_cache_id_list *plan, roar_query *q, roar_status *st, targets *t)
{
    roar_cache_id_list one = ROAR_CACHE_ID_LIST_INIT;
    size_t i, k;

    roar_query_sort_by_end(q, &t->jobs);
    for (i = 0; i < t->jobs.count; i++) {
        if (roar_status_plan(&one, st, t->jobs.items[i]) < 0)
            roar_cli_die_error();
        for (k = 0; k < one.count; k++)
            add_unique(plan, one.items[k]);
        if (roar_cache_id_list_has(&t->forced, t->jobs.items[i]))
            add_unique(plan, t->jobs.items[i]);
    }
    roar_cache_id_list_dispose(&one);
}

/* SPEC §8: a note's cwd is where its command will run. It must be relative and stay
 * inside the work tree, symbolic links included. Dies otherwise, before anything ran. */
static void rerun_dir(roar_buf *out, const char *worktree, const roar_job *job)
{
    const char *c = job->cwd;
    char *real;
    size_t n = strlen(worktree);
    roar_buf shown = ROAR_BUF_INIT; /* the cwd for messages: it comes from a note */

    CHECK(roar_escape_path(&shown, c, strlen(c)));
    if (c[0] == '/')
        roar_cli_die("job %.7s's recorded cwd '%s' is absolute; refusing to run it", job->id,
                     shown.ptr);
    for (const char *p = c; *p; p = strchr(p, '/') ? strchr(p, '/') + 1 : p + strlen(p))
        if (!strncmp(p, "..", 2) && (p[2] == '/' || p[2] == '\0'))
            roar_cli_die("job %.7s's recorded cwd '%s' leads out of the work tree; refusing to "
                         "run it",
                         job->id, shown.ptr);
    roar_buf_clear(out);
    CHECK(roar_buf_printf(out, "%s/%s", worktree, c));
    if ((real = realpath(out->ptr, NULL)) != NULL) {
        if (strncmp(real, worktree, n) || (real[n] != '\0' && real[n] != '/'))
            roar_cli_die("job %.7s's recorded cwd '%s' resolves outside the work tree; "
                         "refusing to run it",
                         job->id, shown.ptr);
        free(real);
    }
    roar_buf_dispose(&shown);
}

static bool redacted(char *const *argv, size_t argc)
{
    for (size_t i = 0; i < argc; i++)
        if (strstr(argv[i], ROAR_REDACTED))
            return true;
    return false;
}

static bool confirm(size_t n)
{
    char answer[64];

    fprintf(stderr, "Run %s %zu command%s, traced? [y/N] ", n == 1 ? "this" : "these", n,
            n == 1 ? "" : "s");
    fflush(stderr);
    if (!fgets(answer, sizeof(answer), stdin))
        return false;
    return !strcmp(answer, "y\n") || !strcmp(answer, "yes\n") || !strcmp(answer, "Y\n");
}

/* Why the new run's outputs may differ: an input whose content is not what the
 * original run read (or that it no longer read). NULL when every input matched, which
 * makes a differing output a sign of non-determinism. `*unknown`: some original input
 * id was `-`, so nothing can be said. */
static const char *changed_input(bool *unknown, const roar_job *old, const roar_job *new)
{
    *unknown = false;
    for (size_t i = 0; i < old->edge_count; i++) {
        const roar_edge *o = &old->edges[i];
        const roar_edge *n = NULL;
        if (o->role != ROAR_ROLE_IN)
            continue;
        if (!o->id_known) {
            *unknown = true;
            continue;
        }
        for (size_t k = 0; k < new->edge_count && !n; k++)
            if (new->edges[k].role == ROAR_ROLE_IN && !strcmp(new->edges[k].path, o->path))
                n = &new->edges[k];
        if (!n || !n->id_known || strcmp(n->id, o->id))
            return o->path;
    }
    return NULL;
}

/* Per output of the original job: the new job wrote the same content, other content,
 * or nothing at that path; a difference says whether an input explains it. Returns
 * how many differ. */
static size_t compare(roar_buf *out, const roar_job *old, const roar_job *new)
{
    size_t i, k, differ = 0;
    bool unknown;
    const char *changed = changed_input(&unknown, old, new);

    for (i = 0; i < old->edge_count; i++) {
        const roar_edge *o = &old->edges[i];
        const roar_edge *n = NULL;
        const char *word;
        if (o->role != ROAR_ROLE_OUT)
            continue;
        for (k = 0; k < new->edge_count && !n; k++)
            if (new->edges[k].role == ROAR_ROLE_OUT && !strcmp(new->edges[k].path, o->path))
                n = &new->edges[k];
        if (!n)
            word = "not-written";
        else if (o->id_known && n->id_known && !strcmp(o->id, n->id))
            word = "reproduced";
        else
            word = "differs";
        differ += strcmp(word, "reproduced") != 0;
        CHECK(roar_buf_printf(out, "  %-11s ", word));
        CHECK(roar_query_put_path(out, o->path));
        if (!strcmp(word, "differs")) {
            if (changed) {
                CHECK(roar_buf_puts(out, "  (input "));
                CHECK(roar_query_put_path(out, changed));
                CHECK(roar_buf_puts(out, " differs from the original run)"));
            } else if (unknown) {
                CHECK(roar_buf_puts(out, "  (the original inputs are not all known)"));
            } else {
                CHECK(roar_buf_puts(out, "  (same inputs: not deterministic)"));
            }
        }
        CHECK(roar_buf_putc(out, '\n'));
    }
    return differ;
}

int roar_cmd_reproduce(roar_cli_ctx *ctx)
{
    roar_status st = ROAR_STATUS_INIT;
    roar_cache_id_list plan = ROAR_CACHE_ID_LIST_INIT;
    roar_buf out = ROAR_BUF_INIT, dir = ROAR_BUF_INIT;
    roar_query *q = roar_query_open(ctx);
    roar_cache *cache = roar_query_cache(q);
    roar_query_job j;
    roar_job *jobs;
    targets t = {ROAR_CACHE_ID_LIST_INIT, ROAR_CACHE_ID_LIST_INIT};
    bool force = roar_cli_opt_set(ctx, "force");
    int here, rc = ROAR_EXIT_OK;
    size_t i;

    if (!cache)
        roar_cli_die("no jobs recorded yet");
    if (roar_status_compute(&st, cache, roar_repo_worktree(ctx->repo), roar_query_scope(q),
                            roar_query_host(q)) < 0)
        roar_cli_die_error();
    if (ctx->argc == 0)
        add_outputs_under(&t, &st, NULL, force); /* as `dvc repro`: whatever is not ok */
    for (i = 0; i < (size_t)ctx->argc; i++)
        add_argument(&t, q, ctx, &st, ctx->argv[i],
                     ctx->dashdash >= 0 && (int)i >= ctx->dashdash, force);
    make_plan(&plan, q, &st, &t);
    if (!plan.count) {
        if (!ctx->quiet && ctx->argc == 1)
            printf("'%s' is up to date: nothing to reproduce\n", ctx->argv[0]);
        else if (!ctx->quiet)
            printf("everything is up to date: nothing to reproduce\n");
        goto done;
    }

    /* The plan: what will run, where, exactly as the notes say. */
    if (!(jobs = calloc(plan.count, sizeof(*jobs))))
        roar_cli_oom();
    roar_query_job_init(&j);
    CHECK(roar_buf_printf(&out, "plan: %zu job%s to rerun, in order:\n", plan.count,
                          plan.count == 1 ? "" : "s"));
    for (i = 0; i < plan.count; i++) {
        roar_query_job_load(&j, q, plan.items[i]);
        roar_job_init(&jobs[i]);
        if (roar_cache_job_get(&jobs[i], cache, plan.items[i]) < 0)
            roar_cli_die_error();
        rerun_dir(&dir, roar_repo_worktree(ctx->repo), &jobs[i]);
        CHECK(roar_buf_printf(&out, "  %.*s  in ", ROAR_QUERY_ABBREV, j.job.id));
        CHECK(roar_query_put_path(&out, j.job.cwd));
        CHECK(roar_buf_puts(&out, ": "));
        CHECK(roar_escape_argv(&out, (const char *const *)j.job.argv, j.job.argc));
        CHECK(roar_buf_putc(&out, '\n'));
    }
    roar_query_job_dispose(&j);
    roar_query_flush(&out);
    fflush(stdout);
    if (roar_cli_opt_set(ctx, "dry-run"))
        goto free_jobs;
    if (!roar_cli_opt_set(ctx, "yes")) {
        if (!isatty(STDIN_FILENO))
            roar_cli_die("these commands come from recorded jobs; not running them without "
                         "confirmation (no terminal): use --yes");
        if (!confirm(plan.count)) {
            fprintf(stderr, "aborted\n");
            rc = ROAR_EXIT_NEGATIVE;
            goto free_jobs;
        }
    }

    if ((here = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        roar_cli_die("cannot open the current directory: %s", strerror(errno));
    for (i = 0; i < plan.count && rc == ROAR_EXIT_OK; i++) {
        const roar_job *old = &jobs[i];
        roar_job new;
        /* The stored argv is the record's `command` line as the strict record parser
         * read it (never a shell). */
        char **argv = old->argv;
        size_t argc = old->argc;
        int status, sig;

        if (redacted(argv, argc))
            roar_cli_die("job %.7s's command was recorded with a secret redacted (%s); "
                         "it cannot be rerun as recorded",
                         old->id, ROAR_REDACTED);
        /* roar_record_fit's marker: the command line was over the line limit. */
        if (argc && !strncmp(argv[argc - 1], ROAR_RECORD_CUT_MARKER,
                             strlen(ROAR_RECORD_CUT_MARKER)))
            roar_cli_die("job %.7s's command line was too long to record whole (incomplete "
                         "command-truncated); it cannot be rerun as recorded",
                         old->id);
        rerun_dir(&dir, roar_repo_worktree(ctx->repo), old);
        if (chdir(dir.ptr) < 0) {
            roar_buf shown = ROAR_BUF_INIT;
            int err = errno;
            CHECK(roar_escape_path(&shown, dir.ptr, dir.size));
            roar_cli_die("cannot enter '%s' to rerun job %.7s: %s", shown.ptr, old->id,
                         strerror(err));
        }
        fflush(stdout);
        roar_job_init(&new);
        status = roar_run_traced(&new, &sig, ctx->repo, roar_run_tracer_choice(NULL, ctx->repo), argv,
                                 argc, ctx->quiet);
        if (fchdir(here) < 0)
            roar_cli_die("cannot return to the starting directory: %s", strerror(errno));
        if (sig) {
            roar_job_dispose(&new);
            roar_run_reraise(sig);
        }
        CHECK(roar_buf_printf(&out, "job %.*s -> %.*s:\n", ROAR_QUERY_ABBREV, old->id,
                              ROAR_QUERY_ABBREV, new.id));
        if (status != 0) {
            roar_query_flush(&out);
            rc = roar_cli_error("job %.7s failed again (exit %d); stopping", old->id, status);
            rc = ROAR_EXIT_NEGATIVE;
        } else {
            compare(&out, old, &new);
        }
        roar_query_flush(&out);
        fflush(stdout);
        roar_job_dispose(&new);
    }
    close(here);

free_jobs:
    for (i = 0; i < plan.count; i++)
        roar_job_dispose(&jobs[i]);
    free(jobs);
done:
    roar_cache_id_list_dispose(&t.jobs);
    roar_cache_id_list_dispose(&t.forced);
    roar_cache_id_list_dispose(&plan);
    roar_status_dispose(&st);
    roar_buf_dispose(&out);
    roar_buf_dispose(&dir);
    roar_query_free(q);
    return rc;
}
