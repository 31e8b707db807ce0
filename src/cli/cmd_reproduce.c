/* `git roar reproduce [-n] [--yes] OBJ`: plans the jobs that rebuild OBJ (those not
 * current), asks, reruns each traced as a new job in its recorded cwd, and compares. */
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
#include "graph/status.h"
#include "util/err.h"
#include "util/quote.h"
#include "util/redact.h"

/* The job whose outputs OBJ names. A deleted intermediate is the usual target, so a
 * path that no longer exists still counts when an in-scope job produced it. */
static void target_job(char out[ROAR_OID_HEXSZ + 1], roar_query *q, roar_cli_ctx *ctx,
                       const roar_status *st)
{
    const char *arg = ctx->argv[0];
    const roar_status_output *o = NULL;
    roar_objref ref;
    roar_buf path = ROAR_BUF_INIT;
    size_t i;

    roar_objref_init(&ref);
    if (roar_objref_resolve(&ref, q, ctx->repo, arg, ROAR_OBJREF_CONTENT | ROAR_OBJREF_JOB,
                            ctx->dashdash == 0) < 0) {
        if (roar_error_last_code() != ROAR_ENOTFOUND)
            roar_cli_die_error();
        roar_query_map_path(&path, NULL, q, arg);
        if (!(o = roar_status_find(st, path.ptr)))
            roar_cli_die_error();
        roar_error_clear();
    } else if (ref.kind == ROAR_OBJREF_JOB) {
        memcpy(out, ref.job, ROAR_OID_HEXSZ + 1);
    } else if (ref.kind == ROAR_OBJREF_BLOB) {
        for (i = 0; i < st->count && !o; i++)
            if (st->outputs[i].id_known && !strcmp(st->outputs[i].id, ref.blob))
                o = &st->outputs[i];
        if (!o)
            roar_cli_die("no job in scope produced blob %s", ref.blob);
    } else if (!(o = roar_status_find(st, ref.path))) {
        roar_cli_die("no job in scope produced '%s'", arg);
    }
    if (o)
        memcpy(out, o->job, ROAR_OID_HEXSZ + 1);
    roar_objref_dispose(&ref);
    roar_buf_dispose(&path);
}

/* argv from the record's `command` line: the text others wrote, parsed by the same
 * strict parser as any record (never a shell). */
static void command_argv(char ***argv, size_t *argc, roar_cache *cache, const char *id)
{
    roar_buf rec = ROAR_BUF_INIT;
    const char *line, *end;

    if (roar_cache_job_record(&rec, cache, id) < 0)
        roar_cli_die_error();
    for (line = rec.ptr; line && *line; line = end ? end + 1 : NULL) {
        end = strchr(line, '\n');
        if (!strncmp(line, "command ", 8))
            break;
    }
    if (!line || !*line)
        roar_cli_die("job %s has no command", id);
    line += 8;
    if (roar_quote_argv_parse(argv, argc, line, end ? (size_t)(end - line) : strlen(line)) < 0)
        roar_cli_die("job %.7s: cannot parse its command: %s", id, roar_error_last());
    roar_buf_dispose(&rec);
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

/* Per output of the original job: the new job wrote the same content, other content,
 * or nothing at that path. Returns how many differ. */
static size_t compare(roar_buf *out, const roar_job *old, const roar_job *new)
{
    size_t i, k, differ = 0;
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
    char target[ROAR_OID_HEXSZ + 1];
    int here, rc = ROAR_EXIT_OK;
    size_t i;

    if (!cache)
        roar_cli_die("no jobs recorded yet");
    if (roar_status_compute(&st, cache, roar_repo_worktree(ctx->repo), roar_query_status_scope, q) <
        0)
        roar_cli_die_error();
    target_job(target, q, ctx, &st);
    if (roar_status_plan(&plan, &st, target) < 0)
        roar_cli_die_error();
    if (!plan.count) {
        if (!ctx->quiet)
            printf("'%s' is up to date: nothing to reproduce\n", ctx->argv[0]);
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
        CHECK(roar_buf_printf(&out, "  %.*s  in ", ROAR_QUERY_ABBREV, j.job.id));
        CHECK(roar_query_put_path(&out, j.job.cwd));
        CHECK(roar_buf_puts(&out, ": "));
        CHECK(roar_quote_argv(&out, (const char *const *)j.job.argv, j.job.argc));
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
        char **argv = NULL;
        size_t argc = 0;
        int status, sig;

        command_argv(&argv, &argc, cache, old->id);
        if (redacted(argv, argc))
            roar_cli_die("job %.7s's command was recorded with a secret redacted (%s); "
                         "it cannot be rerun as recorded",
                         old->id, ROAR_REDACTED);
        roar_buf_clear(&dir);
        if (old->cwd[0] == '/')
            CHECK(roar_buf_puts(&dir, old->cwd));
        else
            CHECK(roar_buf_printf(&dir, "%s/%s", roar_repo_worktree(ctx->repo), old->cwd));
        if (chdir(dir.ptr) < 0)
            roar_cli_die("cannot enter '%s' to rerun job %.7s: %s", dir.ptr, old->id,
                         strerror(errno));
        fflush(stdout);
        roar_job_init(&new);
        status = roar_run_traced(&new, &sig, ctx->repo, roar_run_tracer_choice(NULL, ctx->repo), argv,
                                 argc, ctx->quiet);
        if (fchdir(here) < 0)
            roar_cli_die("cannot return to the starting directory: %s", strerror(errno));
        roar_quote_argv_free(argv, argc);
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
    roar_cache_id_list_dispose(&plan);
    roar_status_dispose(&st);
    roar_buf_dispose(&out);
    roar_buf_dispose(&dir);
    roar_query_free(q);
    return rc;
}
