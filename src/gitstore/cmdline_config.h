/* `git -c KEY=VALUE roar ...` and `git --config-env`: git hands such settings to the
 * commands it runs in the environment (GIT_CONFIG_COUNT with GIT_CONFIG_KEY_<n> and
 * GIT_CONFIG_VALUE_<n>, then GIT_CONFIG_PARAMETERS), which libgit2 1.5 does not read.
 * This module reads them as git does and lays them over a repository's configuration. */
#ifndef ROAR_GITSTORE_CMDLINE_CONFIG_H
#define ROAR_GITSTORE_CMDLINE_CONFIG_H

#include <git2.h>

#include "util/buf.h"

/* Appends the command-line settings found in the environment to out as git config
 * file text (one `[section "subsection"]` block per setting, later settings after
 * earlier ones, so the last one wins as with git). A setting without a value (`git -c
 * flag.name`) is written bare, which git reads as true. Nothing is appended when
 * neither variable is set. ROAR_EINVALID, with git's wording, for a malformed
 * GIT_CONFIG_PARAMETERS, a bad count, a missing key or value variable, or an invalid
 * key; ROAR_ENOMEM. */
int roar_cmdline_config_text(roar_buf *out);

/* Adds the command-line settings to `git`'s configuration at the highest level
 * (GIT_CONFIG_LEVEL_APP), so every later read or snapshot of it sees them above the
 * repository's, the user's and the system's files. The text lives in an anonymous
 * memory file kept open for the life of the process (nothing is written to disk). A
 * no-op when there are none. Errors as roar_cmdline_config_text, or ROAR_ERROR. */
int roar_cmdline_config_apply(git_repository *git);

#endif
