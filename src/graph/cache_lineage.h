/* Cache queries of the lineage and status walks beyond cache.h: a job's edges without
 * loading its record, every output edge at once, and the commits jobs are attached to. */
#ifndef ROAR_GRAPH_CACHE_LINEAGE_H
#define ROAR_GRAPH_CACHE_LINEAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "graph/cache.h"

/* The in/out/del edges of one job, in record order. Cheaper than roar_cache_job_get
 * (no argv, env or incomplete lines): the walks read many jobs' edges. ROAR_ENOTFOUND
 * when the job is not stored. Replaces the contents of the caller's list. */
int roar_cache_job_edges(roar_cache_edge_list *out, roar_cache *cache, const char *job_id);

/* The `out` (role ROAR_ROLE_OUT: producers) or `in` (ROAR_ROLE_IN: consumers) edges
 * whose blob id is `blob_id`, newest job first: roar_cache_producers/_consumers through
 * a statement kept prepared, for walks that ask once per node. */
int roar_cache_blob_edges(roar_cache_edge_list *out, roar_cache *cache, const char *blob_id,
                          roar_role role);

/* Every edge of `role` (out: what jobs produced; del: what they deleted) of every
 * stored job, ordered by path (memcmp) and, for one path, newest job first (end, then
 * start, then id). With successful_only, only of jobs that exited 0 (SPEC §6.2: jobs
 * that failed produce nothing). Replaces the list's contents. */
int roar_cache_role_edges(roar_cache_edge_list *out, roar_cache *cache, roar_role role,
                          bool successful_only);

/* The `host` a job was recorded on: *out is a malloc'd string, or NULL when the record
 * has none. Status asks it of jobs with inputs outside the work tree (SPEC §6.2).
 * ROAR_ENOTFOUND when the job is not stored. */
int roar_cache_job_host(char **out, roar_cache *cache, const char *job_id);

/* Whether any stored job has steps (SPEC §4.9); without, nobody need look them up. */
int roar_cache_has_steps(bool *out, roar_cache *cache);

/* The job's steps into *out (initialised here; empty for none). ROAR_ENOTFOUND for an
 * unknown job; ROAR_EINVALID for stored steps that do not parse. */
int roar_cache_job_steps(roar_steps *out, roar_cache *cache, const char *job_id);

/* What the scope rule (graph/scope.c) asks of a job before any edge: its times and
 * the commits it is attached to (sorted; replaces the list's contents). Two indexed
 * lookups through kept statements, so deciding a job costs no more than its
 * attachments. ROAR_ENOTFOUND when the job is not stored. */
int roar_cache_job_scope_facts(int64_t *start_ms, int64_t *end_ms, roar_cache_id_list *attached,
                               roar_cache *cache, const char *job_id);

/* The `out` edges of one job whose blob id is known, in record order: the content
 * route of the scope rule needs nothing else. Replaces the list's contents. */
int roar_cache_job_known_outputs(roar_cache_edge_list *out, roar_cache *cache,
                                 const char *job_id);

/* The distinct commits any job is attached to, sorted. Replaces the list's contents. */
int roar_cache_attached_commits(roar_cache_id_list *out, roar_cache *cache);

/* Streaming scans for a walk that needs most jobs (status of a whole history): one
 * pass each instead of one statement per job. Rows are borrowed for the visit only; a
 * non-zero return from visit stops the scan and is returned. Run them inside one
 * transaction or read snapshot so that both see the same jobs. */

/* Every stored job: its row key (roar_cache_edge_row.job_pk), id and end, by row key. */
int roar_cache_scan_jobs(roar_cache *cache,
                         int (*visit)(int64_t pk, const char *id, int64_t end_ms, void *payload),
                         void *payload);

typedef struct {
    int64_t job_pk;
    roar_role role;
    const char *path; /* path_len bytes, not NUL-terminated */
    size_t path_len;
    const char *blob; /* 40 hex digits, or NULL (`-`, or a `del`) */
} roar_cache_edge_row;

/* Every edge of every stored job, by job row key and then in record order. */
int roar_cache_scan_edges(roar_cache *cache,
                          int (*visit)(const roar_cache_edge_row *row, void *payload),
                          void *payload);

/* Every stored job's roar_cache_job_scope_facts, in one pass (by row key): its times
 * and the commits it is attached to (sorted; borrowed for the visit). */
int roar_cache_scan_scope_facts(roar_cache *cache,
                                int (*visit)(const char *job_id, int64_t start_ms,
                                             int64_t end_ms, const roar_cache_id_list *attached,
                                             void *payload),
                                void *payload);

#endif
