/* Helpers of `git roar run` (cmd_run.c): configuration, the job built from the
 * collector's result, and where the preload library lives. CLI-internal. */
#ifndef ROAR_CLI_RUN_H
#define ROAR_CLI_RUN_H

#include <stdbool.h>
#include <stddef.h>

#include <git2.h>

#include "gitstore/repo.h"
#include "graph/job.h"
#include "trace/collector.h"
#include "util/buf.h"

/* What `run` reads from git config and the work tree (SPEC §3, §4.8, §5.1). */
typedef struct {
    unsigned wait_descendants_ms; /* roar.waitDescendants, default 2 s */
    unsigned hash_wait_ms;        /* roar.hashWait, default 30 s */
    unsigned hash_threads;        /* roar.hashThreads, default nproc; 0: hash at the end */
    char **env;                   /* roar.env names, owned */
    size_t nenv;
    char **exclude; /* roar.exclude globs, owned */
    size_t nexclude;
    char **include; /* roar.include globs, owned */
    size_t ninclude;
    roar_buf roarignore; /* <top>/.roarignore, empty when absent */
    bool has_roarignore;
} roar_run_config;

/* Reads the configuration. A malformed duration is ROAR_EINVALID naming the key; the
 * caller disposes *out either way. Durations are a number of seconds, optionally with
 * a fraction, or a number followed by `ms`, `s` or `m`. */
int roar_run_config_read(roar_run_config *out, roar_repo *repo);
void roar_run_config_dispose(roar_run_config *cfg);

/* Parses a duration as above into milliseconds. */
int roar_run_parse_duration(unsigned *out, const char *s);

/* The absolute path of libroar-preload.so next to the running executable:
 * `<exe dir>/lib/roar/` (build tree), else `<exe dir>/../lib/roar/` (installed).
 * ROAR_ENOTFOUND naming both places when neither holds it. */
int roar_run_find_preload(roar_buf *out);

/* What the job says besides the files. All borrowed. */
typedef struct {
    const char *const *argv;
    size_t argc;
    const char *cwd;  /* relative to the top, or absolute outside it */
    const char *base; /* HEAD, or NULL without commits */
    const char *tracer;
    const char *host; /* may be NULL */
    const char *user; /* may be NULL */
    const roar_run_config *cfg;
} roar_run_meta;

/* Fills `job` (initialised by the caller) from the collector's result: argv and env
 * redacted (SPEC §8; *redacted gets how many values were), dirty from the inputs inside
 * the work tree, exit or signal, in/out/del and incomplete lines. */
int roar_run_job_build(roar_job *job, size_t *redacted, roar_repo *repo, const roar_run_meta *meta,
                       const roar_collector_result *res);

/* What roar_run_traced can do before libgit2 is ready, for `git roar run`: main calls it
 * while libgit2 initialises (cli/gitinit.h). Loads the tracer `tracer` asks for (its
 * error, if any, is reported by the next roar_run_traced with that tracer, as without
 * it) and warms OpenSSL's digests. Calls no libgit2 function. */
void roar_run_prepare(const char *tracer);

/* The tracer to use: `option` (the -t value) when not NULL, else git config
 * roar.tracer (auto|ebpf|preload; another value is fatal), else "auto". Static storage
 * or `option`. */
const char *roar_run_tracer_choice(const char *option, roar_repo *repo);

/* Runs argv (NULL-terminated, argc elements) traced in the current directory, exactly
 * as `git roar run` does (SPEC §3): records the job as a pending record and in the
 * cache, prints the summary line unless `quiet` and a warning per incomplete line.
 * `tracer` is "auto", "ebpf" or "preload". Fills `job` (initialised by the caller, who
 * disposes of it) with the recorded job. Returns the command's status as a shell
 * reports it (the exit code, 127/126 when it cannot run, 128 + N for signal N) and
 * sets *out_signal to N, else 0: the caller re-raises it (roar_run_reraise) once it
 * has done its own bookkeeping. Dies (fatal) when the job cannot be recorded. Used by
 * `run` and by `reproduce`, which reruns recorded commands as new jobs. */
int roar_run_traced(roar_job *job, int *out_signal, roar_repo *repo, const char *tracer,
                    char **argv, size_t argc, bool quiet);

/* Dies of signal `sig` as the traced command did, without a core dump of our own. */
void roar_run_reraise(int sig) __attribute__((noreturn));

#endif
