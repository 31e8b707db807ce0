/* SPEC §8: git roar run as root through sudo acts as the user who ran sudo. The
 * process keeps root only in its saved uid, for the eBPF tracer's few privileged calls;
 * the traced command (and any git we run) drops it for good. Credentials are per process: so is this state. */
#ifndef ROAR_UTIL_PRIVDROP_H
#define ROAR_UTIL_PRIVDROP_H

#include <stdbool.h>

/* Decides from the real/effective uid and SUDO_UID/SUDO_GID (docs/run.md "Under sudo"):
 * not root, or SUDO_UID unset, empty or 0: nothing changes (0). Root with a valid
 * SUDO_UID/SUDO_GID naming an existing user: HOME, USER and LOGNAME become the user's,
 * the supplementary groups, effective gid and effective uid become the user's (files we
 * create are theirs), and, unless `keep_root`, the real and saved ids too (no way back).
 * A SUDO_UID/SUDO_GID that is not a number, a uid without a user, or a failing switch is
 * ROAR_EINVALID/ROAR_ERROR: the caller dies before touching anything. Call once, early,
 * before any thread and before libgit2 reads HOME. */
int roar_privdrop_init(bool keep_root);

/* Whether init switched to a user: the uid, else 0. */
unsigned roar_privdrop_uid(void);

/* Around calls that need root's capabilities (loading eBPF): effective uid 0, then
 * back to the user. No-ops (0) when not active. become_root fails only when the kernel
 * refuses; become_user failing is fatal inside (never go on as root by accident). */
int roar_privdrop_become_root(void);
void roar_privdrop_become_user(void);

/* In a forked child before it execs (the command, git): the user's groups, then real,
 * effective and saved gid and uid, checked. 0, or an errno (the command must not run).
 * Async-signal-safe; a no-op when not active. */
int roar_privdrop_child(void);

#endif
