/* git roar attach [REV]: the pending jobs of this worktree become the note of REV (SPEC §3,
 * §5.3); run by the post-commit hook as `git roar attach -q`. */
#include <stdio.h>

#include "cli/check.h"
#include "cli/cli.h"
#include "gitstore/attach.h"
#include "gitstore/reindex.h"
#include "util/err.h"
#include "util/redact.h"

/* A record of the note being rewritten that does not parse: kept, and said once. */
static int warn_note_problem(const roar_notes_problem *p, void *payload)
{
    (void)payload;
    roar_cli_warning("note on %s: %s (kept as is; see 'git roar fsck')", p->object, p->message);
    return 0;
}

/* `attach --rewritten`, from the post-rewrite hook: git's "old new" list on stdin. */
static int attach_rewritten(roar_cli_ctx *ctx)
{
    roar_buf list = ROAR_BUF_INIT;
    char chunk[8192];
    size_t n, attached = 0;

    if (ctx->argc > 0)
        roar_cli_usage_error(ctx->cmd, "--rewritten takes no REV");
    while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
        if (roar_buf_put(&list, chunk, n) < 0)
            roar_cli_oom();
    if (roar_attach_rewritten(&attached, ctx->repo, list.ptr, warn_note_problem, NULL) < 0)
        roar_cli_die_error();
    if (attached)
        roar_cli_info(ctx, "roar: %zu pending job%s followed the rewritten commit%s", attached,
                      attached == 1 ? "" : "s", attached == 1 ? "" : "s");
    roar_buf_dispose(&list);
    roar_cli_refresh_cache(ctx, false);
    return ROAR_EXIT_OK;
}

int roar_cmd_attach(roar_cli_ctx *ctx)
{
    roar_attach_opts opts = ROAR_ATTACH_OPTS_INIT;
    roar_attach_result res;

    if (roar_cli_opt_set(ctx, "rewritten"))
        return attach_rewritten(ctx);

    opts.rev = ctx->argc > 0 ? ctx->argv[0] : NULL;
    opts.explicit_head = !opts.rev;
    if (roar_attach_pending(&res, ctx->repo, &opts, warn_note_problem, NULL) < 0)
        roar_cli_die_error();
    if (res.busy) {
        roar_cli_info(ctx, "roar: a %s is in progress; pending jobs stay pending", res.busy);
        return ROAR_EXIT_OK;
    }
    if (res.restored)
        roar_cli_info(ctx, "roar: put back %zu pending job%s left by an interrupted attach",
                      res.restored, res.restored == 1 ? "" : "s");
    if (res.unreadable)
        roar_cli_warning(
            "%zu pending record%s of this worktree cannot be read; see 'git roar fsck'",
            res.unreadable, res.unreadable == 1 ? "" : "s");
    if (res.attached)
        roar_cli_info(ctx, "roar: attached %zu job%s to %.7s", res.attached,
                      res.attached == 1 ? "" : "s", res.commit);
    else
        roar_cli_info(ctx, "roar: no pending jobs to attach to %.7s", res.commit);
    if (res.left_pending)
        roar_cli_info(ctx,
                      "roar: %zu pending job%s of this worktree did not start on %.7s's history "
                      "and stay%s pending",
                      res.left_pending, res.left_pending == 1 ? "" : "s", res.commit,
                      res.left_pending == 1 ? "s" : "");

    roar_cli_refresh_cache(ctx, false);
    return ROAR_EXIT_OK;
}

int roar_cli_run_commit(roar_cli_ctx *ctx, const roar_job *job, int status)
{
    roar_commit_result res;
    roar_buf msg = ROAR_BUF_INIT;
    const char *message = roar_cli_opt_string(ctx, "message", NULL);
    size_t redacted = 0;

    /* A failed command's outputs are not something to commit; its job is kept. */
    if (job->end_kind != ROAR_END_EXIT || job->end_code != 0) {
        roar_cli_warning("not committing: the command failed; job %.7s stays pending", job->id);
        return status;
    }
    /* The commit is pushed with the notes: its message is redacted as the command is
     * (SPEC §8); the default message is made of the command already redacted. */
    if (message) {
        if (roar_redact_text(&msg, &redacted, message) < 0)
            roar_cli_die_error();
        message = msg.ptr;
        if (redacted)
            roar_cli_info(ctx, "roar: redacted %zu secret value%s from the commit message",
                          redacted, redacted == 1 ? "" : "s");
    }
    if (roar_attach_commit_job(&res, ctx->repo, job, message, warn_note_problem, NULL) < 0) {
        roar_cli_error("%s", roar_error_last());
        roar_buf_dispose(&msg);
        return status ? status : ROAR_EXIT_NEGATIVE;
    }
    roar_buf_dispose(&msg);
    if (res.paths)
        roar_cli_info(ctx, "roar: committed %zu path%s as %.7s and attached job %.7s to it",
                      res.paths, res.paths == 1 ? "" : "s", res.commit, job->id);
    else
        roar_cli_info(ctx,
                      "roar: nothing to commit (every output is ignored or unchanged); "
                      "attached job %.7s to HEAD %.7s",
                      job->id, res.commit);
    roar_cli_refresh_cache(ctx, false);
    return status;
}
