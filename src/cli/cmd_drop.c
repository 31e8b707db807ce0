/* git roar drop [--from-notes] JOB...: discard pending jobs (a mistaken run), and with
 * --from-notes remove attached jobs from the local notes too (SPEC §3). */
#include <stdio.h>

#include "cli/cli.h"
#include "gitstore/attach.h"
#include "gitstore/reindex.h"
#include "util/err.h"

static int warn_note_problem(const roar_notes_problem *p, void *payload)
{
    (void)payload;
    roar_cli_warning("note on %s: %s (kept as is; see 'git roar fsck')", p->object, p->message);
    return 0;
}

int roar_cmd_drop(roar_cli_ctx *ctx)
{
    roar_drop_result res = ROAR_DROP_RESULT_INIT;
    roar_cache *cache = NULL;
    bool from_notes = roar_cli_opt_set(ctx, "from-notes");
    size_t i;

    /* Attachments are looked up in the cache, so it must have seen the notes. */
    if (roar_reindex_open_cache(&cache, ctx->repo, false) < 0 ||
        roar_reindex_refresh(ctx->repo, cache, NULL, NULL) < 0) {
        if (from_notes)
            roar_cli_die("cannot read the cache: %s", roar_error_last());
        roar_cli_warning("cannot read the cache: %s", roar_error_last());
        roar_cache_free(cache);
        cache = NULL;
    }
    if (roar_attach_drop(&res, ctx->repo, cache, (const char *const *)ctx->argv, (size_t)ctx->argc,
                         from_notes, warn_note_problem, NULL) < 0) {
        roar_cache_free(cache);
        roar_drop_result_dispose(&res);
        roar_cli_die_error();
    }
    for (i = 0; i < res.count; i++) {
        const roar_drop_item *it = &res.items[i];
        if (it->notes_removed)
            roar_cli_info(ctx, "roar: dropped job %.7s%s and removed it from %zu note%s", it->id,
                          it->was_pending ? " (pending)" : "", it->notes_removed,
                          it->notes_removed == 1 ? "" : "s");
        else if (it->was_pending)
            roar_cli_info(ctx, "roar: dropped pending job %.7s", it->id);
        else
            roar_cli_info(ctx, "roar: job %.7s is neither pending nor in the local notes", it->id);
    }
    if (cache) {
        roar_cache_id_list left = ROAR_CACHE_ID_LIST_INIT;
        if (roar_reindex_refresh(ctx->repo, cache, NULL, NULL) < 0)
            roar_cli_warning("cannot update the cache: %s; 'git roar reindex' will",
                             roar_error_last());
        for (i = 0; i < res.count; i++)
            if (roar_cache_attachments(&left, cache, res.items[i].id) == 0 && left.count)
                roar_cli_warning("job %.7s is still in the notes of a remote (e.g. on %.7s); "
                                 "it goes from there when you push",
                                 res.items[i].id, left.items[0]);
        roar_cache_id_list_dispose(&left);
    }
    roar_cache_free(cache);
    roar_drop_result_dispose(&res);
    return ROAR_EXIT_OK;
}
