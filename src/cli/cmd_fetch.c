/* git roar fetch|push|sync [REMOTE]: share the notes through a remote (SPEC §3, §5.4);
 * the three commands share this file since sync is fetch then push. */
#include <stdio.h>

#include "cli/cli.h"
#include "gitstore/remote.h"
#include "util/buf.h"
#include "util/err.h"

static int warn_note_problem(const roar_notes_problem *p, void *payload)
{
    (void)payload;
    roar_cli_warning("note on %s: %s (kept as is; see 'git roar fsck')", p->object, p->message);
    return 0;
}

/* The REMOTE argument, or the current branch's remote, or origin. */
static void remote_of(roar_buf *out, roar_cli_ctx *ctx)
{
    roar_buf_clear(out);
    if (ctx->argc > 0 ? roar_buf_puts(out, ctx->argv[0]) : roar_remote_default(out, ctx->repo))
        roar_cli_die_error();
}

/* The cache follows the notes refs; a failure leaves the notes right and is a warning. */
int roar_cli_fetch_notes(roar_cli_ctx *ctx, const char *remote, bool fatal)
{
    roar_fetch_result res;

    if (roar_remote_fetch(&res, ctx->repo, remote, warn_note_problem, NULL) < 0) {
        if (fatal)
            roar_cli_die_error();
        roar_cli_warning("cannot fetch the notes of %s: %s; run 'git roar fetch %s' later",
                         remote, roar_error_last(), remote);
        return -1;
    }
    if (!res.remote_has_notes) {
        roar_cli_info(ctx, "roar: %s has no notes yet", remote);
        return 0;
    }
    switch (res.merge.kind) {
    case ROAR_NOTES_UP_TO_DATE:
        roar_cli_info(ctx, "roar: notes from %s: already up to date", remote);
        break;
    case ROAR_NOTES_FAST_FORWARD:
        roar_cli_info(ctx, "roar: notes from %s: fast-forward", remote);
        break;
    case ROAR_NOTES_MERGED:
        roar_cli_info(ctx, "roar: notes from %s: merged (%zu note%s changed)", remote,
                      res.merge.notes_changed, res.merge.notes_changed == 1 ? "" : "s");
        break;
    }
    return 0;
}

static void do_push(roar_cli_ctx *ctx, const char *remote)
{
    roar_push_result res;

    if (roar_remote_push(&res, ctx->repo, remote, warn_note_problem, NULL) < 0)
        roar_cli_die_error();
    if (res.nothing_to_push)
        roar_cli_info(ctx, "roar: no notes to push");
    else if (res.up_to_date)
        roar_cli_info(ctx, "roar: notes on %s: already up to date", remote);
    else if (res.merges)
        roar_cli_info(ctx, "roar: pushed notes to %s (after merging theirs %u time%s)", remote,
                      res.merges, res.merges == 1 ? "" : "s");
    else
        roar_cli_info(ctx, "roar: pushed notes to %s", remote);
}

int roar_cmd_fetch(roar_cli_ctx *ctx)
{
    roar_buf remote = ROAR_BUF_INIT;
    remote_of(&remote, ctx);
    roar_cli_fetch_notes(ctx, remote.ptr, true);
    roar_cli_refresh_cache(ctx, true);
    roar_buf_dispose(&remote);
    return ROAR_EXIT_OK;
}

int roar_cmd_push(roar_cli_ctx *ctx)
{
    roar_buf remote = ROAR_BUF_INIT;
    remote_of(&remote, ctx);
    do_push(ctx, remote.ptr);
    roar_cli_refresh_cache(ctx, true);
    roar_buf_dispose(&remote);
    return ROAR_EXIT_OK;
}

int roar_cmd_sync(roar_cli_ctx *ctx)
{
    roar_buf remote = ROAR_BUF_INIT;
    remote_of(&remote, ctx);
    roar_cli_fetch_notes(ctx, remote.ptr, true);
    do_push(ctx, remote.ptr);
    roar_cli_refresh_cache(ctx, true);
    roar_buf_dispose(&remote);
    return ROAR_EXIT_OK;
}
