/* `git roar status [--all] [--json] [--exit-code] [PATH...]` (SPEC §6.2): as git status
 * does, the outputs that need attention with the reason, a summary of every state, and
 * the jobs to rerun, in order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/check.h"
#include "cli/cli.h"
#include "cli/pager.h"
#include "cli/query.h"
#include "graph/status.h"
#include "util/err.h"
#include "util/escape.h"
#include "util/json.h"

#define STATE_COUNT (ROAR_STATUS_MISSING + 1)

/* What the command shows: the outputs under the PATH arguments, their counts, and the
 * jobs those outputs need rerun. */
typedef struct {
    bool *selected; /* per output of the roar_status */
    size_t counts[STATE_COUNT];
    size_t total;
    size_t unchecked; /* outputs behind which stand inputs of another host, not checked */
    roar_cache_id_list rerun;
} status_view;

/* Green for ok, yellow for what a rerun fixes, red for what someone changed or lost. */
static roar_color state_color(roar_status_state state)
{
    switch (state) {
    case ROAR_STATUS_OK:
        return ROAR_COLOR_GOOD;
    case ROAR_STATUS_STALE:
    case ROAR_STATUS_UNKNOWN:
        return ROAR_COLOR_WARN;
    default:
        return ROAR_COLOR_BAD;
    }
}

/* Selects the outputs under `paths` (all when none) and, with a path filter, keeps of
 * the rerun list only the jobs that the selected outputs need, in its order. */
static void select_outputs(status_view *v, roar_status *st, roar_buf *paths, size_t npaths)
{
    roar_cache_id_list needed = ROAR_CACHE_ID_LIST_INIT, plan = ROAR_CACHE_ID_LIST_INIT;
    size_t i, k;

    if (!(v->selected = calloc(st->count + 1, sizeof(*v->selected))))
        roar_cli_oom();
    for (i = 0; i < st->count; i++) {
        const roar_status_output *o = &st->outputs[i];
        bool in = npaths == 0;
        for (k = 0; k < npaths && !in; k++)
            in = roar_scope_path_under(o->path, paths[k].ptr);
        if (!in)
            continue;
        v->selected[i] = true;
        v->counts[o->state]++;
        v->total++;
        if (o->unchecked)
            v->unchecked++;
        if (npaths && o->state != ROAR_STATUS_OK) {
            if (roar_status_plan(&plan, st, o->job) < 0)
                roar_cli_die_error();
            for (k = 0; k < plan.count; k++)
                CHECK(roar_cache_id_list_add(&needed, plan.items[k], true));
        }
    }
    for (i = 0; i < st->rerun.count; i++) {
        if (npaths && !roar_cache_id_list_has(&needed, st->rerun.items[i]))
            continue;
        CHECK(roar_cache_id_list_add(&v->rerun, st->rerun.items[i], false));
    }
    roar_cache_id_list_dispose(&needed);
    roar_cache_id_list_dispose(&plan);
}

/* `N outputs: a stale, b missing, c ok`: every state with a count, worst first. */
static void put_summary(roar_buf *out, const status_view *v)
{
    bool first = true;
    CHECK(roar_buf_printf(out, "%zu output%s", v->total, v->total == 1 ? "" : "s"));
    for (int s = ROAR_STATUS_MISSING; s >= ROAR_STATUS_OK; s--) {
        if (!v->counts[s])
            continue;
        CHECK(roar_buf_printf(out, "%s%zu %s", first ? ": " : ", ", v->counts[s],
                              roar_status_state_name((roar_status_state)s)));
        first = false;
    }
    if (v->unchecked)
        CHECK(roar_buf_printf(out, "; %zu with inputs from another host, not checked",
                              v->unchecked));
    CHECK(roar_buf_putc(out, '\n'));
}

/* `  (unchecked: P and N more, recorded on host H)`: inputs outside the work tree that
 * another host's job read, which this host cannot judge (SPEC §6.2). */
static void put_unchecked(roar_buf *out, const roar_status_output *o)
{
    CHECK(roar_buf_puts(out, "  (unchecked: "));
    CHECK(roar_query_put_path(out, o->unchecked));
    if (o->unchecked_more)
        CHECK(roar_buf_printf(out, " and %zu more", o->unchecked_more));
    CHECK(roar_buf_puts(out, ", recorded on host "));
    CHECK(roar_escape_term_cstr(out, o->unchecked_host));
    CHECK(roar_buf_putc(out, ')'));
}

static void put_text(roar_buf *out, roar_query *q, const roar_status *st, const status_view *v,
                     bool all)
{
    size_t i, listed = 0;

    if (!v->total) {
        CHECK(roar_buf_puts(out, st->count ? "no recorded outputs under the given paths\n"
                                           : "no recorded outputs\n"));
        return;
    }
    for (i = 0; i < st->count; i++) {
        const roar_status_output *o = &st->outputs[i];
        if (!v->selected[i] || (o->state == ROAR_STATUS_OK && !all))
            continue;
        CHECK(roar_buf_printf(out, "%s%-9s%s ", roar_cli_color(state_color(o->state)),
                              roar_status_state_name(o->state), roar_cli_color(ROAR_COLOR_RESET)));
        CHECK(roar_query_put_path(out, o->path));
        if (o->because) {
            CHECK(roar_buf_puts(out, "  (input "));
            CHECK(roar_query_put_path(out, o->because));
            CHECK(roar_buf_putc(out, ')'));
        }
        if (o->unchecked)
            put_unchecked(out, o);
        CHECK(roar_buf_putc(out, '\n'));
        listed++;
        if (listed % 256 == 0)
            roar_query_flush(out); /* stream a long list */
    }
    if (listed)
        CHECK(roar_buf_putc(out, '\n'));
    put_summary(out, v);
    if (!v->rerun.count)
        return;
    CHECK(roar_buf_printf(out, "\njobs to rerun, in order (%zu):\n", v->rerun.count));
    roar_query_put_job_lines(out, q, &v->rerun, "  ");
}

static void put_json(roar_buf *out, roar_query *q, const roar_status *st, const status_view *v,
                     bool all)
{
    size_t i, n = 0;

    CHECK(roar_buf_printf(out, "{\"version\":%d,\"outputs\":[", ROAR_QUERY_JSON_VERSION));
    for (i = 0; i < st->count; i++) {
        const roar_status_output *o = &st->outputs[i];
        if (!v->selected[i] || (o->state == ROAR_STATUS_OK && !all))
            continue;
        CHECK(roar_buf_puts(out, n++ ? ",{" : "{"));
        CHECK(roar_query_json_path(out, "path", o->path));
        CHECK(roar_buf_printf(out, ",\"state\":\"%s\",\"job\":\"%s\",\"id\":",
                              roar_status_state_name(o->state), o->job));
        CHECK(o->id_known ? roar_buf_printf(out, "\"%s\"", o->id) : roar_buf_puts(out, "null"));
        CHECK(roar_buf_puts(out, ",\"current\":"));
        CHECK(o->current_known ? roar_buf_printf(out, "\"%s\"", o->current)
                               : roar_buf_puts(out, "null"));
        CHECK(roar_buf_putc(out, ','));
        if (o->because)
            CHECK(roar_query_json_path(out, "because", o->because));
        else
            CHECK(roar_buf_puts(out, "\"because\":null"));
        CHECK(roar_buf_puts(out, ",\"unchecked\":"));
        if (o->unchecked) {
            CHECK(roar_buf_putc(out, '{'));
            CHECK(roar_query_json_path(out, "path", o->unchecked));
            CHECK(roar_buf_printf(out, ",\"more\":%zu,\"host\":", o->unchecked_more));
            CHECK(roar_json_cstr(out, o->unchecked_host));
            CHECK(roar_buf_putc(out, '}'));
        } else {
            CHECK(roar_buf_puts(out, "null"));
        }
        CHECK(roar_buf_putc(out, '}'));
    }
    CHECK(roar_buf_printf(out, "],\"summary\":{\"total\":%zu", v->total));
    for (int s = ROAR_STATUS_OK; s < STATE_COUNT; s++)
        CHECK(roar_buf_printf(out, ",\"%s\":%zu", roar_status_state_name((roar_status_state)s),
                              v->counts[s]));
    CHECK(roar_buf_printf(out, ",\"unchecked\":%zu", v->unchecked));
    CHECK(roar_buf_puts(out, "},\"rerun\":["));
    roar_query_put_json_jobs(out, q, &v->rerun);
    CHECK(roar_buf_puts(out, "]}\n"));
}

int roar_cmd_status(roar_cli_ctx *ctx)
{
    bool json = roar_cli_opt_set(ctx, "json"), all = roar_cli_opt_set(ctx, "all");
    roar_status st = ROAR_STATUS_INIT;
    status_view view = {0};
    roar_buf out = ROAR_BUF_INIT;
    roar_buf *paths = NULL;
    roar_query *q = roar_query_open(ctx);
    int status = ROAR_EXIT_OK;
    size_t i, npaths = ctx->argc > 0 ? (size_t)ctx->argc : 0;

    if (npaths && !(paths = calloc(npaths, sizeof(*paths))))
        roar_cli_oom();
    for (i = 0; i < npaths; i++) {
        roar_buf_init(&paths[i]);
        roar_query_map_path(&paths[i], NULL, q, ctx->argv[i]);
    }
    if (roar_query_cache(q) &&
        roar_status_compute(&st, roar_query_cache(q), roar_repo_worktree(ctx->repo),
                            roar_query_scope(q), roar_query_host(q)) < 0)
        roar_cli_die_error();
    select_outputs(&view, &st, paths, npaths);
    if (json)
        put_json(&out, q, &st, &view, all);
    else if (!ctx->quiet)
        put_text(&out, q, &st, &view, all);
    roar_query_flush(&out);
    if (roar_cli_opt_set(ctx, "exit-code") && view.counts[ROAR_STATUS_OK] != view.total)
        status = ROAR_EXIT_NEGATIVE;
    for (i = 0; i < npaths; i++)
        roar_buf_dispose(&paths[i]);
    free(paths);
    free(view.selected);
    roar_cache_id_list_dispose(&view.rerun);
    roar_status_dispose(&st);
    roar_buf_dispose(&out);
    roar_query_free(q);
    return status;
}
