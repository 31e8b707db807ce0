/* What the query commands (log, show, and later lineage/status/export) share: the
 * cache if there is one, the scope of SPEC §5.3, path arguments, and job output. */
#ifndef ROAR_CLI_QUERY_H
#define ROAR_CLI_QUERY_H

#include <stdbool.h>

#include "cli/cli.h"
#include "graph/cache.h"
#include "graph/job.h"
#include "gitstore/history.h"
#include "graph/scope.h"
#include "trace/pathcanon.h"
#include "util/buf.h"

/* Version of the --json schemas (docs/json.md). Bumped only for incompatible
 * changes; new keys may appear in any version. */
#define ROAR_QUERY_JSON_VERSION 1

/* Abbreviated ids in human output (git's default core.abbrev). */
#define ROAR_QUERY_ABBREV 7

typedef struct roar_query roar_query;

/* Opens what a query needs for ctx->repo: the cache at `<roar dir>/cache.db` when it
 * exists (roar_query_cache() is NULL otherwise: there are no jobs yet), and HEAD.
 * Dies (fatal, 128) when the cache cannot be opened. Free with roar_query_free. */
roar_query *roar_query_open(roar_cli_ctx *ctx);
void roar_query_free(roar_query *q);

/* Borrowed; NULL when no job was ever recorded in this repository. */
roar_cache *roar_query_cache(roar_query *q);

/* One job with what the queries show about it. */
typedef struct {
    roar_job job;                     /* the whole record */
    roar_cache_id_list commits;       /* attachments reachable from HEAD, sorted */
    roar_cache_id_list other_commits; /* attachments HEAD cannot reach, sorted */
    bool pending;
    char *pending_worktree;  /* owned; the git dir that recorded it, when pending */
    roar_scope_reason scope; /* why it answers for HEAD (SPEC §5.5), or ROAR_SCOPE_OUT */
} roar_query_job;

void roar_query_job_init(roar_query_job *j);
void roar_query_job_dispose(roar_query_job *j);

/* Loads a job by full id (dies on a cache error; the job must exist). */
void roar_query_job_load(roar_query_job *out, roar_query *q, const char *id);
/* The same without the job's edges, env lines or unknown keys: for listing lines and
 * JSON without `full`. */
void roar_query_job_load_summary(roar_query_job *out, roar_query *q, const char *id);

/* The one scope of SPEC §5.5 at HEAD and the work tree (graph/scope.h): jobs
 * attached to HEAD or its ancestors, this worktree's pending jobs, and jobs whose
 * outputs HEAD's tree (or, for paths it lacks, the work tree) holds. Borrowed; NULL
 * when there is no cache. Dies on an error. */
roar_scope *roar_query_scope(roar_query *q);

/* The same rule at another commit (a review's tip, a `rev:path`): jobs attached to its
 * history and jobs whose outputs its tree holds; this worktree's pending jobs only when
 * the commit is HEAD; no work-tree check. Free with roar_query_scope_at_free (the scope
 * is borrowed from the handle). Dies on an error; NULL scope without a cache. */
typedef struct roar_query_scope_at roar_query_scope_at;
roar_scope *roar_query_scope_at_open(roar_query_scope_at **handle, roar_query *q,
                                     const char *commit);
void roar_query_scope_at_free(roar_query_scope_at *handle);
/* The commit's history and tree the scope reads (borrowed from the handle; NULL without
 * a cache), for callers that look at the same tree. */
roar_history *roar_query_scope_at_history(const roar_query_scope_at *handle);

/* This machine's name as `git roar run` records it in `host` (gethostname), or NULL
 * when it has none: status judges files outside the work tree only for jobs of this
 * host (SPEC §6.2). */
const char *roar_query_host(roar_query *q);

/* Whether a loaded job is in that scope. */
bool roar_query_job_in_scope(const roar_query_job *j);


/* Maps a path argument (relative to the current directory, or absolute) to the form
 * records use (SPEC §4.2), in `out`; `abs` (may be NULL) receives the absolute path
 * on disk. Dies in a bare repository and for paths inside the git dir. */
void roar_query_map_path(roar_buf *out, roar_buf *abs, roar_query *q, const char *arg);

/* ---- output ------------------------------------------------------------------- */

/* Appends a path for the terminal: as records write it (SPEC §5.1: raw, or C-quoted
 * when needed), C-quoted too when it holds characters a terminal acts on (escape.h). */
int roar_query_put_path(roar_buf *out, const char *path);

/* The one-line summary of a job, without newline:
 * `<id>  <end>  exit N|signal N  <commits>|pending  <command>[  [incomplete]]`. */
int roar_query_job_line(roar_buf *out, const roar_query_job *j);

/* `"<key>":<json string>`, plus `,"<key>_hex":"..."` when the bytes are not UTF-8. */
int roar_query_json_path(roar_buf *out, const char *key, const char *path);

/* The job as a JSON object (docs/json.md): the summary keys, and with `full` the
 * record's details (base, dirty, tracer, host, user, env, extra, inputs, outputs,
 * deleted). */
int roar_query_json_job(roar_buf *out, const roar_query_job *j, bool full);

/* A job's steps (SPEC §4.9), by path (query_steps.c). Text: a "steps" section, one line
 * per step "  OUT, OUT <- IN, IN" (nothing for a job without steps). JSON: the value of
 * a "steps" key, [{"outputs":[path...],"inputs":[path...]}...] ([] without steps). */
int roar_query_text_steps(roar_buf *out, const roar_job *job);
int roar_query_json_steps(roar_buf *out, const roar_job *job);

/* Each job of `ids`, loaded by id, as `<indent><summary line>\n` (dies on a cache error
 * or out of memory). */
void roar_query_put_job_lines(roar_buf *out, roar_query *q, const roar_cache_id_list *ids,
                              const char *indent);

/* The jobs of `ids` as summary JSON objects, comma-separated, without the brackets
 * (dies on a cache error or out of memory). */
void roar_query_put_json_jobs(roar_buf *out, roar_query *q, const roar_cache_id_list *ids);

/* Sorts job ids by end, then id (the order they ran), loading each once; returns how
 * many of them failed (non-zero exit or a signal). Dies on a cache error. */
size_t roar_query_sort_by_end(roar_query *q, roar_cache_id_list *ids);

/* Writes buf to stdout (dies when stdout fails) and empties it. */
void roar_query_flush(roar_buf *buf);

#endif
