/* Internals shared by the collector's files:
 *   collector_run.c     the loop: the command, its events, their paths, its exits
 *   collector_hash.c    hashing fdstate's requests and handing back the answers
 *   collector_shim.c    the round trips with the shim, and with an outer job
 *   collector_result.c  building the result at the end
 *   collector_early.c   hashing outputs on worker threads while the job runs
 *   collector_moved.c   listing at the end what the job's renames moved
 *   collector_proc.c    the command's environment, exec (PATH search as execvp does
 *                       it, without the shim's exec wrappers), and /proc lookups
 *   collector_preload.c the preload tracer as an event source */
#ifndef ROAR_TRACE_COLLECTOR_INTERNAL_H
#define ROAR_TRACE_COLLECTOR_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/un.h>

#include "trace/collector.h"
#include "trace/event.h"
#include "trace/fdstate.h"
#include "trace/ring_layout.h"
#include "util/buf.h"
#include "util/keymap.h"
#include "util/pool.h"

typedef struct {
    int fd;
    unsigned char buf[sizeof(struct roar_ctl_req)];
    size_t got;
} ctl_client;

typedef struct {
    int fd;
    uint64_t seq;
} ctl_wait;

/* An output hashed while the job runs (collector_early.c). */
typedef struct early_hash early_hash;

/* A hash request put off because its path is filtered out for now (SPEC §4.8 decides
 * at the end; a python run opens hundreds of library files nobody records). */
typedef struct {
    roar_fsfile *file;
    char *path;
    roar_ident ident;
} deferred_hash;

/* One run of the collector: what its files (collector_run.c, collector_hash.c,
 * collector_shim.c, collector_result.c) share. */
typedef struct {
    const roar_collector_opts *opts;
    roar_trace_source *src;
    roar_collector_result *res;
    roar_fdstate *st;
    roar_keymap known;    /* tgid -> PRESENT: processes fdstate has a table for */
    roar_keymap seen;     /* seq -> PRESENT: round-trip records applied, not yet asked */
    roar_keymap timedout; /* roar_fsfile* -> PRESENT: hashing outlasted roar.hashWait */
    unsigned char *rec;
    roar_buf fed1, fed2, tmp;
    size_t wtlen; /* strlen(opts->worktree), for every fed path inside it */
    uint64_t bad; /* records or events that could not be used */

    int lfd;
    ctl_client *clients;
    size_t nclients, aclients;
    ctl_wait *waiting;
    size_t nwaiting, awaiting;

    deferred_hash *deferred;
    size_t ndeferred, adeferred;

    /* Outputs hashed while the job runs (collector_early.c): every one submitted, and
     * the latest per file. The pool is started at the first. */
    roar_pool *pool;
    early_hash **early;
    size_t nearly, aearly;
    roar_keymap early_by_file; /* roar_fsfile* -> early_hash* */
    bool early_off;            /* the pool could not start: all at the end */
    atomic_bool early_ending;  /* the job is over: hashes not begun give up */

    /* Nested run: the outer job's ring and socket (SPEC §4.1). */
    bool forward;
    struct roar_ringp outer;
    size_t outer_len;
    char outer_sock[sizeof(((struct sockaddr_un *)0)->sun_path)];
    int outer_fd;

    pid_t root;
} collector;

/* ---- collector_hash.c ---------------------------------------------------------- */

/* Serves fdstate's hash requests. `urgent`: a shim is waiting to destroy content, so
 * the pre-job id must be taken now, filtered or not. */
void roar_collector__serve_hashes(collector *c, bool urgent);

/* collector_steps.c: each recorded output's inputs (SPEC §4.9), from fdstate's, through
 * where each fdstate entry landed in the recorded lists (SIZE_MAX: not recorded). */
int roar_collector__deps(roar_collector_deps **out, const roar_fdstate_result *fr,
                         const size_t *in_pos, const size_t *out_pos, size_t nout);

/* Hashes `path`, accepting the id only under `ident` when known (SPEC §4.6). */
int roar_collector__hash_path(collector *c, char id[ROAR_FDSTATE_OIDSZ + 1], uint64_t *size,
                              const char *path, const roar_ident *ident);

/* ---- collector_early.c --------------------------------------------------------- */

/* Takes fdstate's "writers done" files (roar_fdstate_next_written) and hands those the
 * filters keep to the hashing threads. Never waits for a hash. */
void roar_collector__early_queue(collector *c);

/* At the end, once every event is in: the id of the output `e` hashed during the job,
 * into id and *size, if it may stand: the hash is done (waited for, or run here if it
 * had not started), its identity before and after reading was the same, the file's
 * identity now at e->path is exactly that one (SPEC §4.6), and fdstate saw no
 * write-capable open, change or shared mapping of it since. False otherwise: the caller
 * hashes it now, as without early hashing. */
bool roar_collector__early_take(collector *c, const roar_fdstate_entry *e,
                                char id[ROAR_FDSTATE_OIDSZ + 1], uint64_t *size);

/* Drops the hashes not started, waits for the running ones, frees everything. */
void roar_collector__early_dispose(collector *c);

/* ---- collector_shim.c ---------------------------------------------------------- */

/* Waits up to timeout_ms for a request or a connection and takes what arrived. */
void roar_collector__ctl_poll(collector *c, int timeout_ms);
/* The record `seq` of a round trip has been applied and its hashing done. */
void roar_collector__ctl_record_done(collector *c, uint64_t seq);
/* Answers every waiting shim and closes every connection. */
void roar_collector__ctl_close_all(collector *c);

/* A nested run: maps the outer job's ring named in envp, if it is one to trust. */
void roar_collector__outer_open(collector *c, char *const *envp);
void roar_collector__outer_close(collector *c);
/* Publishes ev into the outer job's ring, and asks the outer collector first when ev
 * is about to destroy content. */
void roar_collector__forward(collector *c, const roar_event *ev);

/* ---- collector_result.c -------------------------------------------------------- */

/* Adds a gap (SPEC §4.7) to res, once per (reason, path). */
int roar_collector__gap_add(roar_collector_result *res, const char *reason, bool has_count,
                            uint64_t count, const char *path);
/* Fills c->res once the job is over; `running`: descendants left running untraced. */
int roar_collector__build_result(collector *c, size_t running);

/* ---- collector_proc.c ---------------------------------------------------------- */

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
