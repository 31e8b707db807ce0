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
 * redacted (SPEC §8), dirty from the inputs inside the work tree, exit or signal,
 * in/out/del and incomplete lines. */
int roar_run_job_build(roar_job *job, roar_repo *repo, const roar_run_meta *meta,
                       const roar_collector_result *res);

#endif
