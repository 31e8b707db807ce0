/* git roar fsck: every note of every notes ref and every pending record parsed, job ids
 * recomputed; each problem named with its commit (or file) and line; exit 1 if any. */
#include <stdio.h>

#include "cli/cli.h"
#include "gitstore/reindex.h"
#include "util/buf.h"

static int print_problem(const roar_reindex_problem *p, void *payload)
{
    roar_buf line = ROAR_BUF_INIT;
    (void)payload;
    if (roar_reindex_problem_format(&line, p) == 0)
        roar_cli_error("%s", line.ptr);
    roar_buf_dispose(&line);
    return 0;
}

int roar_cmd_fsck(roar_cli_ctx *ctx)
{
    roar_reindex_check_stats stats;

    if (roar_reindex_check(&stats, ctx->repo, print_problem, NULL) < 0)
        roar_cli_die_error();
    roar_cli_info(ctx,
                  "roar: checked %zu note%s in %zu ref%s (%zu record%s) and %zu pending "
                  "record%s: %zu problem%s",
                  stats.notes, stats.notes == 1 ? "" : "s", stats.refs, stats.refs == 1 ? "" : "s",
                  stats.records, stats.records == 1 ? "" : "s", stats.pending,
                  stats.pending == 1 ? "" : "s", stats.problems, stats.problems == 1 ? "" : "s");
    return stats.problems ? ROAR_EXIT_NEGATIVE : ROAR_EXIT_OK;
}
