/* `git roar status [--json] [--exit-code]` (SPEC §6.2): every recorded output with its
 * state (ok, unknown, stale, modified, missing), then the jobs to rerun, in order. */
#include <stdio.h>
#include <string.h>

#include "cli/check.h"
#include "cli/cli.h"
#include "cli/pager.h"
#include "cli/query.h"
#include "graph/status.h"
#include "util/err.h"
#include "util/json.h"

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

static void put_text(roar_buf *out, roar_query *q, const roar_status *st)
{
    size_t i;

    if (!st->count) {
        CHECK(roar_buf_puts(out, "no recorded outputs\n"));
        return;
    }
    for (i = 0; i < st->count; i++) {
        const roar_status_output *o = &st->outputs[i];
        CHECK(roar_buf_printf(out, "%s%-9s%s ", roar_cli_color(state_color(o->state)),
                              roar_status_state_name(o->state), roar_cli_color(ROAR_COLOR_RESET)));
        CHECK(roar_query_put_path(out, o->path));
        if (o->because) {
            CHECK(roar_buf_puts(out, "  (input "));
            CHECK(roar_query_put_path(out, o->because));
            CHECK(roar_buf_putc(out, ')'));
        }
        CHECK(roar_buf_putc(out, '\n'));
    }
    if (!st->rerun.count)
        return;
    CHECK(roar_buf_printf(out, "\njobs to rerun, in order (%zu):\n", st->rerun.count));
    roar_query_put_job_lines(out, q, &st->rerun, "  ");
}

static void put_json(roar_buf *out, roar_query *q, const roar_status *st)
{
    size_t i;

    CHECK(roar_buf_printf(out, "{\"version\":%d,\"outputs\":[", ROAR_QUERY_JSON_VERSION));
    for (i = 0; i < st->count; i++) {
        const roar_status_output *o = &st->outputs[i];
        CHECK(roar_buf_puts(out, i ? ",{" : "{"));
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
        CHECK(roar_buf_putc(out, '}'));
    }
    CHECK(roar_buf_puts(out, "],\"rerun\":["));
    roar_query_put_json_jobs(out, q, &st->rerun);
    CHECK(roar_buf_puts(out, "]}\n"));
}

int roar_cmd_status(roar_cli_ctx *ctx)
{
    bool json = roar_cli_opt_set(ctx, "json");
    roar_status st = ROAR_STATUS_INIT;
    roar_buf out = ROAR_BUF_INIT;
    roar_query *q = roar_query_open(ctx);
    int status = ROAR_EXIT_OK;
    size_t i;

    if (roar_query_cache(q) &&
        roar_status_compute(&st, roar_query_cache(q), roar_repo_worktree(ctx->repo),
                            roar_query_status_scope, q) < 0)
        roar_cli_die_error();
    if (json)
        put_json(&out, q, &st);
    else if (!ctx->quiet)
        put_text(&out, q, &st);
    roar_query_flush(&out);
    for (i = 0; i < st.count; i++)
        if (st.outputs[i].state != ROAR_STATUS_OK && roar_cli_opt_set(ctx, "exit-code"))
            status = ROAR_EXIT_NEGATIVE;
    roar_status_dispose(&st);
    roar_buf_dispose(&out);
    roar_query_free(q);
    return status;
}
