/* Internals shared by the collector's files: the command's environment, exec (PATH
 * search as execvp does it, without the shim's exec wrappers), and /proc lookups. */
#ifndef ROAR_TRACE_COLLECTOR_INTERNAL_H
#define ROAR_TRACE_COLLECTOR_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "trace/event.h"
#include "trace/fdstate.h"
#include "util/buf.h"

/* Builds the command's environment: a malloc'd NULL-terminated array (free it with
 * roar_collector__env_free) of `base` with every NAME of `vars` ("NAME=value") replaced
 * or added, and LD_PRELOAD = the user's entries minus any libroar-preload.so (a nested
 * run's outer shim: two copies would report every call twice), plus `token` when not
 * NULL. Without a token and without user entries, LD_PRELOAD is removed. */
int roar_collector__env_build(char ***out, char *const *base, const char *const *vars,
                              const char *token);
void roar_collector__env_free(char **envp);

/* The value of NAME in envp, or NULL. */
const char *roar_collector__env_get(char *const *envp, const char *name);

/* The file execvp would run for `file` with this PATH (NULL: "/bin:/usr/bin"), into out;
 * ROAR_ENOTFOUND when there is none. */
int roar_collector__resolve(roar_buf *out, const char *file, const char *path_env);

/* 0 when the preload library can load into the program at `path`, else the ROAR_INC_*
 * reason: no PT_INTERP (static), setuid/setgid for another user (the loader's secure
 * mode), another ELF class or machine. A script is judged by its #! interpreter. */
unsigned roar_collector__exec_check(const char *path);

/* In the forked child: execs argv[0] searched in PATH (from envp) as execvp does,
 * through the raw system call (a nested run's outer shim would put its own ring back
 * into the environment), including the sh fallback for ENOEXEC. Returns only on
 * failure, with the errno to report. No allocation. */
int roar_collector__child_exec(char *const argv[], char *const envp[]);

/* How many processes descend from `self` (children, grandchildren...), from /proc. */
size_t roar_collector__count_descendants(pid_t self);

/* One fd the command inherits that names a regular file, for ROAR_EV_INHERIT. */
typedef struct {
    int fd;
    unsigned flags; /* O_ACCMODE bits + O_APPEND */
    roar_ident ident;
    char *path; /* owned, absolute (the kernel's name for it) */
} roar_collector__inherited;

/* Lists this process's fds without FD_CLOEXEC that name regular files with a name
 * (unlinked ones are skipped): what a child forked now would hand to its exec. The
 * caller frees with roar_collector__inherited_free. */
int roar_collector__inherited_list(roar_collector__inherited **out, size_t *count);
void roar_collector__inherited_free(roar_collector__inherited *list, size_t count);

/* Once every event of the job is in: the regular files its renames moved that no event
 * showed, listed and handed to fdstate (roar_fdstate_renamed_names). Failures count in
 * *bad (the job's events-lost). The hash requests it makes are the caller's to serve. */
void roar_collector__add_moved(roar_fdstate *fs, uint64_t *bad);

#endif
