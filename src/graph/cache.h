/* The SQLite cache (.git/roar/cache.db, SPEC §6.1): jobs, artifacts, edges,
 * attachments, the stat -> blob-id hash cache, and indexing bookmarks. Derived data. */
#ifndef ROAR_GRAPH_CACHE_H
#define ROAR_GRAPH_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "graph/job.h"
#include "util/buf.h"

typedef struct roar_cache roar_cache;

/* The identity of a file's content as stat(2) sees it (SPEC §4.3). */
typedef struct {
    uint64_t dev;
    uint64_t ino;
    uint64_t size;
    int64_t mtime_ns;
    int64_t ctime_ns;
} roar_stat_key;

/* Opens (creating and migrating as needed) the cache database at `path`; WAL mode,
 * busy timeout. The caller frees *out with roar_cache_free. The directory must exist.
 * Errors: ROAR_EUNSUPPORTED for a database written by a newer schema version;
 * ROAR_EINVALID when the file is not an SQLite database or is corrupt (the message
 * names the path and says to run 'git roar reindex --full'); ROAR_ERROR otherwise.
 * A roar_cache is one SQLite connection: use it from one thread at a time. Any number
 * of processes may open the same path at once; a child process must open its own
 * (SQLite connections do not survive fork). */
int roar_cache_open(roar_cache **out, const char *path);
/* NULL-safe. Rolls back a transaction left open with roar_cache_begin. */
void roar_cache_free(roar_cache *cache);

/* For a command that reads much of a large cache and keeps little (export, a wide
 * lineage walk): a page cache of `cache_kib` and no memory map. With the defaults (a
 * 256 MiB page cache, the whole file mapped), every page such a read touches stays
 * resident: a 100k-job export's memory was the size of the database. Reads then go
 * through pread; cheap when most pages are read once (export: a few MiB will do), dearer
 * for random lookups (lineage: give it more). */
int roar_cache_for_scans(roar_cache *cache, int cache_kib);

/* The schema version this build writes (PRAGMA user_version). */
int roar_cache_schema_version(void);

/* Groups many writes into one transaction (reindex, a status run's hash cache rows).
 * Every write below takes its own transaction otherwise; inside an open one it uses
 * a savepoint, so a failed write is undone alone and the batch can go on. Calls nest. */
int roar_cache_begin(roar_cache *cache);
int roar_cache_commit(roar_cache *cache);
void roar_cache_rollback(roar_cache *cache);
/* The outer transaction for loading many jobs at once (a first or full reindex): like
 * roar_cache_begin, but the secondary indexes are dropped inside it and rebuilt by
 * roar_cache_commit, sorted once instead of updated row by row (on 100k jobs, random
 * index inserts were most of a reindex). A rollback restores them with the rest. Use
 * it only when the jobs to load outnumber those stored: the rebuild costs all rows.
 * With `clear`, every job, edge and attachment is deleted first (in bulk, not job by
 * job); the hash cache and meta stay. Must not nest. */
int roar_cache_begin_bulk(roar_cache *cache, bool clear);
/* A read snapshot for many small reads (a listing): without one, each query takes and
 * drops SQLite's file locks (two fcntl and an fstat), which was most of a long `log`.
 * Inside it every write is refused with an error (callers that only cache, like the
 * hash cache, go on without). Nothing when a transaction is already open. Keep it
 * short: end it before waiting on anything. */
int roar_cache_read_begin(roar_cache *cache);
void roar_cache_read_end(roar_cache *cache);
/* *out = whether no job is stored (a new cache, or one a reindex is about to fill). */
int roar_cache_has_jobs(bool *out, roar_cache *cache);

/* Hash cache rows: identity -> blob id, with the wall-clock time (ns since the epoch)
 * at which the content was hashed, so the caller can apply the racy-timestamp rule.
 * _get returns ROAR_ENOTFOUND when there is no row for exactly this identity. */
int roar_cache_hash_get(roar_cache *cache, const roar_stat_key *key,
                        char out_id[ROAR_OID_HEXSZ + 1], int64_t *out_hashed_at_ns);
/* *out = whether a row exists for the file (dev, ino), whatever its identity: this
 * clone hashed that file before. */
int roar_cache_hash_known(bool *out, roar_cache *cache, uint64_t dev, uint64_t ino);
/* Inserts or replaces the row for key->(dev, ino); a file has one current identity. */
int roar_cache_hash_put(roar_cache *cache, const roar_stat_key *key, const char *id,
                        int64_t hashed_at_ns);

/* Meta: small named values, e.g. "notes-indexed:<ref>" -> the last indexed notes commit.
 * _get replaces the contents of `out` (the caller's buffer) or returns ROAR_ENOTFOUND.
 * _set with value NULL deletes the key. */
int roar_cache_meta_get(roar_buf *out, roar_cache *cache, const char *key);

/* job_kv rows of this kind hold a job's step lines (SPEC §4.9), one per row in order;
 * kinds 0 and 1 are env lines and unknown keys. The meta key is set once any job with
 * steps was stored. */
#define ROAR_CACHE_KV_STEP 2
#define ROAR_CACHE_META_STEPS "steps"
int roar_cache_meta_set(roar_cache *cache, const char *key, const char *value_or_null);

/* ---- jobs ----------------------------------------------------------------------
 * Ids (jobs, blobs, commits) are 40 lower-case hex digits; a malformed one is
 * ROAR_EINVALID. A job id that is not in the cache is ROAR_ENOTFOUND. All string
 * arguments are borrowed. Results come in caller-owned lists, initialised with the
 * matching _INIT and freed with the matching _dispose; a query replaces (not appends
 * to) the list's contents. Jobs come newest first: by end, then start, then id. */

/* Stores `job` in one transaction: the job row, its edges, the artifacts of its known
 * blob ids, its env, unknown keys and incomplete lines. job->id must be set. Putting a
 * job that is already stored is not an error and changes nothing: the id is the hash
 * of the record, so the content is the same. The record text itself is not kept: its
 * durable copy is the note or the pending file, no query needs it, and at team scale
 * it was a third of the cache (the `record` column stays, empty, in schema v1). */
int roar_cache_job_put(roar_cache *cache, const roar_job *job);

/* Fills `out` with the stored job (everything roar_job holds; equal, by
 * roar_job_equal, to what was put). `out` must be initialised (roar_job_init); its
 * previous contents are disposed of. The caller disposes of it. */
int roar_cache_job_get(roar_job *out, roar_cache *cache, const char *id);
/* The same without edges, env lines or unknown keys (left empty): what a listing line
 * shows, at a fraction of the cost when jobs have many files. */
int roar_cache_job_get_summary(roar_job *out, roar_cache *cache, const char *id);

/* Resolves an abbreviated job id (4 to 40 hex digits, either case) to the full id.
 * ROAR_EINVALID for a malformed prefix, ROAR_ENOTFOUND when nothing matches,
 * ROAR_EAMBIGUOUS (the message lists the candidates) when several do. */
int roar_cache_job_resolve(char out[ROAR_OID_HEXSZ + 1], roar_cache *cache, const char *prefix);

/* Removes the job with its edges, attachments and pending mark. Artifacts stay: other
 * jobs may name the same blob, and a row costs little. */
int roar_cache_job_delete(roar_cache *cache, const char *id);

/* ---- attachments and pending -------------------------------------------------- */

typedef struct {
    char (*items)[ROAR_OID_HEXSZ + 1];
    size_t count, alloc;
} roar_cache_id_list;
#define ROAR_CACHE_ID_LIST_INIT {NULL, 0, 0}
void roar_cache_id_list_dispose(roar_cache_id_list *list);
/* Whether `id` is in the list (a linear scan: for the short lists of plans and reviews). */
bool roar_cache_id_list_has(const roar_cache_id_list *list, const char *id);
/* Appends a copy of `id` (40 hex digits), unless `unique` and it is there already.
 * ROAR_ENOMEM. */
int roar_cache_id_list_add(roar_cache_id_list *list, const char *id, bool unique);

/* Records that the job's note is on commit_id; attaching twice is not an error. A job
 * may be attached to several commits. Attaching does not unmark pending: callers that
 * move a pending job to a commit do both, in one roar_cache_begin/commit. */
int roar_cache_attach(roar_cache *cache, const char *job_id, const char *commit_id);
/* ROAR_ENOTFOUND when the job is not attached to that commit. */
int roar_cache_detach(roar_cache *cache, const char *job_id, const char *commit_id);
/* The commits a job is attached to, sorted by commit id. */
int roar_cache_attachments(roar_cache_id_list *out, roar_cache *cache, const char *job_id);
/* The jobs attached to a commit, newest first. */
int roar_cache_commit_jobs(roar_cache_id_list *out, roar_cache *cache, const char *commit_id);

/* Marks the job as pending, recorded by the worktree whose git dir is `worktree`
 * (marking again replaces the worktree). _unmark: ROAR_ENOTFOUND when not pending. */
int roar_cache_pending_mark(roar_cache *cache, const char *job_id, const char *worktree);
int roar_cache_pending_unmark(roar_cache *cache, const char *job_id);

/* ---- listing and lineage queries --------------------------------------------- */

/* One job in a listing. */
typedef struct {
    char id[ROAR_OID_HEXSZ + 1];
    int64_t start_ms;
    int64_t end_ms;
    roar_end_kind end_kind;
    int end_code;
    size_t incomplete_count;
    char *pending_worktree; /* owned by the list; NULL when the job is not pending */
} roar_cache_jobinfo;

typedef struct {
    roar_cache_jobinfo *items;
    size_t count, alloc;
} roar_cache_jobinfo_list;
#define ROAR_CACHE_JOBINFO_LIST_INIT {NULL, 0, 0}
void roar_cache_jobinfo_list_dispose(roar_cache_jobinfo_list *list);

typedef struct {
    size_t limit;             /* at most this many jobs; 0: all */
    const char *const *paths; /* only jobs with an in/out/del edge on one of these paths */
    size_t path_count;        /*   or below them (a directory); relative to the top of
                                 the work tree, where "." is the top itself (matches all);
                                 0: no path filter */
    bool pending_only;        /* only pending jobs ... */
    const char *worktree;     /*   ... of this worktree git dir, when not NULL */
    const roar_cache_jobinfo *after; /* only jobs listed after this one (older): the
                                        next page of a listing read in pages */
} roar_cache_list_opts;
#define ROAR_CACHE_LIST_OPTS_INIT {0, NULL, 0, false, NULL, NULL}

/* Jobs newest first, filtered by `opts` (NULL: all jobs). */
int roar_cache_job_list(roar_cache_jobinfo_list *out, roar_cache *cache,
                        const roar_cache_list_opts *opts);

/* One edge of a stored job, with what queries need of the job itself. */
typedef struct {
    char job_id[ROAR_OID_HEXSZ + 1];
    int64_t start_ms;
    int64_t end_ms;
    roar_end_kind end_kind;
    int end_code;
    roar_role role;
    char *path; /* owned by the list (or by the roar_cache_edge for _latest_writer) */
    bool id_known;
    char id[ROAR_OID_HEXSZ + 1]; /* blob id when id_known */
    uint64_t size;
} roar_cache_edge;

typedef struct {
    roar_cache_edge *items;
    size_t count, alloc;
} roar_cache_edge_list;
#define ROAR_CACHE_EDGE_LIST_INIT {NULL, 0, 0}
void roar_cache_edge_list_dispose(roar_cache_edge_list *list);
/* Frees edge->path; NULL-safe. */
void roar_cache_edge_dispose(roar_cache_edge *edge);

/* The `out` edges whose blob id is `blob_id`: who produced this exact content.
 * Jobs that failed are included; end_kind/end_code let the caller judge (SPEC §6.2). */
int roar_cache_producers(roar_cache_edge_list *out, roar_cache *cache, const char *blob_id);
/* The `in` edges whose blob id is `blob_id`: who consumed this exact content. */
int roar_cache_consumers(roar_cache_edge_list *out, roar_cache *cache, const char *blob_id);
/* Every in/out/del edge on exactly `path` (relative to the work tree top), newest first. */
int roar_cache_path_edges(roar_cache_edge_list *out, roar_cache *cache, const char *path);
/* The newest `out` edge on `path`; with successful_only, only of jobs that exited 0.
 * ROAR_ENOTFOUND when no job wrote it. The caller disposes of *out. */
int roar_cache_path_latest_writer(roar_cache_edge *out, roar_cache *cache, const char *path,
                                  bool successful_only);

/* ---- lookups from the small side (cache_blob.c) -------------------------------- */

/* A blob id that an edge of a stored job names, with its size. */
typedef struct {
    char id[ROAR_OID_HEXSZ + 1];
    uint64_t size;
} roar_cache_blob;

/* Fills out[0 .. *count) with the distinct blob ids that start with `prefix` (4 to 40
 * hex digits, either case) and that an `in` or `out` edge of a stored job names, in id
 * order, at most `max` of them (`out` is the caller's array of `max` entries). A range
 * scan of the artifacts key: the cost follows the matches, not the number of jobs.
 * ROAR_EINVALID for a malformed prefix; no match is 0 with *count == 0. */
int roar_cache_blob_resolve(roar_cache_blob *out, size_t *count, size_t max, roar_cache *cache,
                            const char *prefix);

/* The pending jobs (only those of worktree git dir `worktree` when not NULL), newest
 * first: what roar_cache_job_list gives with pending_only, read from the pending marks
 * outwards, so the cost follows the pending jobs, not all jobs. */
int roar_cache_pending_list(roar_cache_jobinfo_list *out, roar_cache *cache, const char *worktree);

#endif
