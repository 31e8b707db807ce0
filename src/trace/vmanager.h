/* Version managers (pyenv, rbenv, nodenv, asdf, nvm, conda) recognised by their layout
 * on disk, so that their own shims, scripts and state are treated like an interpreter's
 * library (SPEC §4.8; docs/filters.md, "Version managers"). */
#ifndef ROAR_TRACE_VMANAGER_H
#define ROAR_TRACE_VMANAGER_H

#include <stdbool.h>

typedef enum {
    ROAR_VMANAGER_NONE = 0,
    ROAR_VMANAGER_VERSIONS, /* a shim manager's root: all its own but versions/ */
    ROAR_VMANAGER_INSTALLS, /* asdf's data dir: all its own but installs/ */
    ROAR_VMANAGER_CONDA,    /* a conda prefix: conda-meta/, activation scripts, commands */
} roar_vmanager_kind;

/* What the directory `dir` (absolute) is, from a few stats of names inside it:
 *   - `shims/` and `versions/` (pyenv, rbenv, nodenv, goenv and the like), or
 *     `libexec/pyenv|rbenv|nodenv`, or `nvm.sh` and `versions/` (nvm): VERSIONS;
 *   - `shims/` and `installs/` (asdf): INSTALLS;
 *   - `conda-meta/` (a conda base or environment): CONDA. */
roar_vmanager_kind roar_vmanager_classify(const char *dir);

/* Whether `rest`, a path below a directory of that kind (relative, non-empty), is the
 * manager's own file rather than an installed interpreter or data. */
bool roar_vmanager_owns(roar_vmanager_kind kind, const char *rest);

#endif
