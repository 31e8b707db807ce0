/* What the formats of `git roar export` share: the selected jobs (cmd_export.c picks
 * them) and how a job's times and command are written; one file per larger format. */
#ifndef ROAR_CLI_EXPORT_H
#define ROAR_CLI_EXPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "cli/query.h"
#include "gitstore/repo.h"
#include "util/buf.h"

/* The jobs to export, oldest first (by start, then id): only their ids. A format
 * loads, writes and frees one job at a time (roar_export_load) in passes over them,
 * so memory follows one job and what the format must remember, never the output. */
typedef struct {
    roar_query *q;
    char (*ids)[ROAR_OID_HEXSZ + 1];
    size_t count;
} roar_export_jobs;

/* A pass over the jobs runs inside a read snapshot (one lock for many small reads),
 * which a flush ends and reopens: the output never waits on the cache's locks. */
void roar_export_pass_begin(const roar_export_jobs *set);
void roar_export_pass_end(const roar_export_jobs *set, roar_buf *out);

/* Writes out to stdout once it holds ROAR_EXPORT_FLUSH_AT bytes or more. */
#define ROAR_EXPORT_FLUSH_AT (64 * 1024)
void roar_export_maybe_flush(const roar_export_jobs *set, roar_buf *out);

/* Loads job i into *job (disposing of what it held): the whole record with `edges`,
 * else its summary (times, command, exit, user: no edges, env or unknown keys). */
void roar_export_load(roar_job *job, const roar_export_jobs *set, size_t i, bool edges);

/* Whether the job exited 0. */
bool roar_export_succeeded(const roar_job *job);

/* Appends an RFC 3339 UTC time (dies on failure, as all of these do). */
void roar_export_put_time(roar_buf *out, int64_t ms);

/* Appends the job's command (SPEC §5.1 quoting) as a JSON string. */
void roar_export_put_command(roar_buf *out, const roar_job *job);

/* W3C PROV-JSON: one document (export_prov.c). */
void roar_export_prov(roar_buf *out, const roar_export_jobs *set);

/* OpenLineage RunEvents as JSON lines (export_openlineage.c); repo gives the namespace. */
void roar_export_openlineage(roar_buf *out, const roar_export_jobs *set, roar_repo *repo);

#endif
