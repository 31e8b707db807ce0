/* The recording filters of SPEC §4.8: built-in defaults, per-executable prefix
 * subtrees, git config roar.exclude / roar.include and a .roarignore file. */
#ifndef ROAR_TRACE_PATHFILTER_H
#define ROAR_TRACE_PATHFILTER_H

#include <stdbool.h>
#include <stddef.h>

#include "trace/pathcanon.h"

typedef struct roar_pathfilter roar_pathfilter;

/* Everything a filter is built from. All borrowed for the duration of _new only. */
typedef struct {
    const char *worktree_real; /* realpath of the top (required) */
    const char *home;          /* $HOME or NULL */
    const char *tmpdir;        /* $TMPDIR or NULL */
    const char *const *exclude;
    size_t nexclude; /* git config roar.exclude (globs) */
    const char *const *include;
    size_t ninclude; /* git config roar.include (globs) */
    const char *roarignore;
    size_t roarignore_len; /* <top>/.roarignore contents, or NULL */
} roar_pathfilter_opts;

/* Builds a filter (see docs/filters.md for the exact rules). $HOME and $TMPDIR are
 * used both as given (normalised) and resolved with realpath. The caller frees *out
 * with roar_pathfilter_free. ROAR_EINVALID when worktree_real is not absolute;
 * ROAR_ENOMEM. Not thread-safe (it caches directory lookups). */
int roar_pathfilter_new(roar_pathfilter **out, const roar_pathfilter_opts *opts);

/* NULL-safe. */
void roar_pathfilter_free(roar_pathfilter *pf);

/* An executable the job ran, canonical absolute. When it is `<prefix>/bin/<name>`
 * outside the work tree, the outside subtrees `<prefix>/lib*`, `<prefix>/include` and
 * `<prefix>/share` stop being recorded (SPEC §4.8: an interpreter's own library, never
 * the whole prefix). Anything else is ignored. Adding one twice is harmless. */
int roar_pathfilter_add_exec(roar_pathfilter *pf, const char *program_path);

/* Whether a recorded path (as roar_pathcanon_map produced it, with its kind) is
 * recorded. In this order: GITDIR never; a path matching roar.include always; then
 * the *everywhere* defaults (site-packages/, dist-packages/, __pycache__/ components,
 * *.pyc, anything under a directory holding pyvenv.cfg), then for WORKTREE paths
 * .roarignore and for OUTSIDE paths the outside defaults, exec prefixes and version
 * managers' own files (a root recognised by its layout on disk, vmanager.h), then
 * roar.exclude, exclude; everything else is kept. May stat directories (pyvenv.cfg,
 * a manager's layout), each at most once per filter. */
bool roar_pathfilter_keep(roar_pathfilter *pf, const char *recorded_path, roar_path_kind kind);

#endif
