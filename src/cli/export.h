/* What the formats of `git roar export` share: the selected jobs (cmd_export.c picks
 * them) and how a job's times and command are written; one file per larger format. */
#ifndef ROAR_CLI_EXPORT_H
#define ROAR_CLI_EXPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "cli/query.h"
#include "gitstore/repo.h"
#include "util/buf.h"

/* The jobs to export, oldest first (by start, then id). */
typedef struct {
    roar_query_job *items;
    size_t count, alloc;
} roar_export_jobs;

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
