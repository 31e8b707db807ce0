/* git roar init [--no-hooks] [--no-fetch] [--remote NAME]: the automation around the
 * notes (SPEC §3 init, §7): hooks, notes.rewriteRef, the notes fetch refspec, and the
 * remote's notes fetched once. Idempotent. */
#include <stdio.h>

#include "cli/cli.h"
#include "gitstore/hooks.h"
#include "gitstore/notes.h"
#include "gitstore/reindex.h"
#include "gitstore/remote.h"
#include "util/buf.h"
#include "util/err.h"

static void report_hooks(roar_cli_ctx *ctx, const roar_hooks_result *res)
{
    size_t i;

    if (res->in_worktree) {
        /* A versioned hooks dir (husky, .githooks) belongs to the project: say what to
         * add instead of changing tracked files. */
        roar_cli_info(ctx, "roar: the hooks dir '%s' is part of the work tree; not writing there",
                      res->dir.ptr);
        printf("To let git roar attach and push its notes, add these lines to the hooks in "
               "%s:\n",
               res->dir.ptr);
        for (i = 0; i < ROAR_HOOKS_COUNT; i++)
            printf("\n  %s:\n    %s\n", res->hooks[i].name, res->hooks[i].snippet);
        return;
    }
    for (i = 0; i < ROAR_HOOKS_COUNT; i++) {
        const roar_hook_report *h = &res->hooks[i];
        switch (h->action) {
        case ROAR_HOOK_INSTALLED:
            roar_cli_info(ctx, "roar: installed the %s hook in %s", h->name, res->dir.ptr);
            break;
        case ROAR_HOOK_CHAINED:
            roar_cli_info(ctx,
                          "roar: installed the %s hook in %s; the existing one runs first, as "
                          "%s%s",
                          h->name, res->dir.ptr, h->name, ROAR_HOOKS_CHAINED_SUFFIX);
            break;
        case ROAR_HOOK_UPDATED:
            roar_cli_info(ctx, "roar: updated the %s hook in %s", h->name, res->dir.ptr);
            break;
        case ROAR_HOOK_UNCHANGED:
            roar_cli_info(ctx, "roar: the %s hook is already installed", h->name);
            break;
        case ROAR_HOOK_CONFLICT:
            roar_cli_warning("%s/%s is not git roar's and %s%s exists too; left both alone "
                             "(add '%s' to your hook)",
                             res->dir.ptr, h->name, h->name, ROAR_HOOKS_CHAINED_SUFFIX, h->snippet);
            break;
        case ROAR_HOOK_SKIPPED:
            break;
        }
    }
}

int roar_cmd_init(roar_cli_ctx *ctx)
{
    const char *remote_opt = roar_cli_opt_string(ctx, "remote", NULL);
    const char *remote = remote_opt ? remote_opt : "origin";
    roar_hooks_result hooks;
    roar_buf ref = ROAR_BUF_INIT;
    bool added, exists;

    if (roar_repo_ensure_roar_dir(ctx->repo) < 0 || roar_notes_ref(&ref, ctx->repo) < 0)
        roar_cli_die_error();
    if (remote_opt) {
        if (roar_remote_exists(&exists, ctx->repo, remote) < 0)
            roar_cli_die_error();
        if (!exists)
            roar_cli_die("'%s' is not a remote of this repository", remote);
    }

    if (!roar_cli_opt_set(ctx, "no-hooks")) {
        roar_hooks_result_init(&hooks);
        if (roar_hooks_install(&hooks, ctx->repo) < 0)
            roar_cli_die_error();
        report_hooks(ctx, &hooks);
        roar_hooks_result_dispose(&hooks);
    }

    if (roar_notes_add_rewrite_ref(&added, ctx->repo, ref.ptr) < 0)
        roar_cli_die_error();
    if (added)
        roar_cli_info(ctx, "roar: added %s to notes.rewriteRef (amend and rebase keep notes)",
                      ref.ptr);

    if (roar_remote_exists(&exists, ctx->repo, remote) < 0)
        roar_cli_die_error();
    if (exists) {
        if (roar_remote_add_fetch_refspec(&added, ctx->repo, remote, ref.ptr) < 0)
            roar_cli_die_error();
        if (added)
            roar_cli_info(ctx,
                          "roar: 'git fetch %s' now also fetches its notes into "
                          "refs/notes/remotes/%s/roar",
                          remote, remote);
        /* A clone does not bring notes: without them the first query would say "no
         * jobs" and an amend would carry nothing (SPEC §5.5). */
        if (!roar_cli_opt_set(ctx, "no-fetch") && roar_cli_fetch_notes(ctx, remote, false) == 0)
            roar_cli_refresh_cache(ctx, true);
    } else {
        roar_cli_info(ctx,
                      "roar: no remote '%s' yet; run 'git roar init --remote NAME' once "
                      "there is one",
                      remote);
    }
    roar_buf_dispose(&ref);
    return ROAR_EXIT_OK;
}
