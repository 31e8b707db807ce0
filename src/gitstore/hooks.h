/* The git hooks `git roar init` installs (SPEC §7): post-commit attaches, post-rewrite
 * carries pending jobs to rewritten commits, pre-push pushes the notes; a hook already
 * there is chained, never replaced. Scripts live in hooks/. */
#ifndef ROAR_GITSTORE_HOOKS_H
#define ROAR_GITSTORE_HOOKS_H

#include <stdbool.h>
#include <stddef.h>

#include "gitstore/repo.h"
#include "util/buf.h"

/* A user's hook found in place is renamed to `<name>` ROAR_HOOKS_CHAINED_SUFFIX and run
 * first by ours, with the original stdin and arguments. */
#define ROAR_HOOKS_CHAINED_SUFFIX ".roar-chained"

typedef enum {
    ROAR_HOOK_INSTALLED = 0, /* there was no hook: ours is in place */
    ROAR_HOOK_CHAINED,       /* the user's hook was kept as <name>.roar-chained */
    ROAR_HOOK_UPDATED,       /* an older version of ours was replaced */
    ROAR_HOOK_UNCHANGED,     /* ours was already there */
    ROAR_HOOK_CONFLICT,      /* a foreign hook AND a <name>.roar-chained: left alone */
    ROAR_HOOK_SKIPPED,       /* the hooks dir is in the work tree: nothing written */
} roar_hook_action;

typedef struct {
    const char *name; /* "post-commit", "pre-push", "post-rewrite" (static) */
    roar_hook_action action;
    const char *snippet; /* static: the lines to add to a hook managed in the work tree */
} roar_hook_report;

#define ROAR_HOOKS_COUNT 3

typedef struct {
    roar_buf dir;     /* the hooks dir, absolute */
    bool in_worktree; /* inside the work tree (husky, .githooks): nothing was written */
    roar_hook_report hooks[ROAR_HOOKS_COUNT];
} roar_hooks_result;

void roar_hooks_result_init(roar_hooks_result *r);
void roar_hooks_result_dispose(roar_hooks_result *r);

/* Replaces out's contents with the hooks dir git uses: core.hooksPath (`~/` expanded;
 * relative to the top of the work tree, or to the git dir in a bare repository, as git
 * runs hooks from there), else `<common dir>/hooks`. *in_worktree: the dir lies inside the
 * work tree (and not inside a git dir), i.e. it is versioned with the project. */
int roar_hooks_dir(roar_buf *out, bool *in_worktree, roar_repo *repo);

/* Installs post-commit, pre-push and post-rewrite into roar_hooks_dir (created when missing), each per
 * roar_hook_action; idempotent. A hooks dir inside the work tree gets nothing: each
 * report then carries the snippet to add by hand. Scripts are written atomically
 * (temp file + rename), mode 0755. */
int roar_hooks_install(roar_hooks_result *out, roar_repo *repo);

/* The script text `init` installs for `name` (the content of hooks/<name>), or NULL. */
const char *roar_hooks_script(const char *name);

#endif
