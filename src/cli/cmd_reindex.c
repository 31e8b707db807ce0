/* git roar reindex [--full]: bring the cache up to date from the notes refs and pending/,
 * or rebuild it from scratch (SPEC §3, §6.1). */
#include <stdio.h>

#include "cli/cli.h"
#include "gitstore/reindex.h"
#include "util/buf.h"
#include "util/err.h"

int roar_cli_warn_reindex_problem(const roar_reindex_problem *p, void *payload)
{
    roar_buf line = ROAR_BUF_INIT;
    (void)payload;
    if (roar_reindex_problem_format(&line, p) == 0)
        roar_cli_warning("%s", line.ptr);
    roar_buf_dispose(&line);
    return 0;
}

int roar_cmd_reindex(roar_cli_ctx *ctx)
{
    bool full = roar_cli_opt_set(ctx, "full");
    roar_reindex_stats stats;
    roar_cache *cache = NULL;

    if (roar_reindex_open_cache(&cache, ctx->repo, full) < 0)
        roar_cli_die_error();
    if (roar_reindex_update(&stats, ctx->repo, cache, full, roar_cli_warn_reindex_problem, NULL) <
        0) {
        roar_cache_free(cache);
        roar_cli_die_error();
    }
    roar_cache_free(cache);
    roar_cli_info(ctx, "roar: read %zu note%s from %zu ref%s; %zu pending job%s added",
                  stats.notes_read, stats.notes_read == 1 ? "" : "s", stats.refs_indexed,
                  stats.refs_indexed == 1 ? "" : "s", stats.pending_marked,
                  stats.pending_marked == 1 ? "" : "s");
    if (stats.problems)
        roar_cli_info(ctx, "roar: %zu unreadable record%s skipped; see 'git roar fsck'",
                      stats.problems, stats.problems == 1 ? "" : "s");
    return ROAR_EXIT_OK;
}

void roar_cli_refresh_cache(roar_cli_ctx *ctx, bool report_problems)
{
    roar_cache *cache = NULL;
    /* The notes and pending/ are the durable copies: the cache only follows them. */
    if (roar_reindex_open_cache(&cache, ctx->repo, false) < 0 ||
        roar_reindex_refresh(ctx->repo, cache,
                             report_problems ? roar_cli_warn_reindex_problem : NULL, NULL) < 0)
        roar_cli_warning("cannot update the cache: %s; 'git roar reindex' will", roar_error_last());
    roar_cache_free(cache);
}
