/* Private to src/graph/cache*.c: the connection struct, transactions and error mapping
 * shared by the schema/open code (cache.c) and the job queries (cache_query.c). */
#ifndef ROAR_GRAPH_CACHE_INTERNAL_H
#define ROAR_GRAPH_CACHE_INTERNAL_H

#include <sqlite3.h>
#include <stdbool.h>

#include "graph/cache.h"
#include "util/keymap.h"

/* Statements used often enough (once per file or per job) to keep prepared. */
typedef enum {
    CACHE_STMT_HASH_GET,
    CACHE_STMT_HASH_PUT,
    CACHE_STMT_JOB_PK,
    CACHE_STMT_JOB_INSERT,
    CACHE_STMT_ARTIFACT_INSERT,
    CACHE_STMT_EDGE_INSERT,
    CACHE_STMT_KV_INSERT,
    CACHE_STMT_INCOMPLETE_INSERT,
    CACHE_STMT_ATTACH_INSERT,
    CACHE_STMT_LINEAGE_BY_BLOB, /* cache_lineage.c: once per node of a walk */
    CACHE_STMT_LINEAGE_JOB_EDGES,
    CACHE_STMT_SCOPE_FACTS, /* cache_lineage.c: once per job the scope decides */
    CACHE_STMT_SCOPE_OUTPUTS,
    CACHE_STMT_JOB_HOST, /* cache_lineage.c: once per job status judges outside inputs of */
    CACHE_STMT_JOB_GET,  /* cache_job.c: once per job a listing loads */
    CACHE_STMT_JOB_GET_EDGES,
    CACHE_STMT_JOB_GET_KVS,
    CACHE_STMT_JOB_GET_INCOMPLETE,
    CACHE_STMT_ATTACHMENTS,
    CACHE_STMT_REACH_HAS, /* cache_reach.c: once per commit a scope asks about */
    CACHE_STMT_REACH_ADD,
    CACHE_STMT_REACH_HAS_AT, /* once per commit while the set is asked, not loaded */
    CACHE_STMT_JOB_STEPS,    /* once per producer with steps, in status */
    CACHE_STMT__COUNT
} cache_stmt_id;

/* How long a writer waits for another before SQLITE_BUSY. */
#define CACHE_BUSY_TIMEOUT_MS 10000

/* A hash cache row put inside a read snapshot, written when the snapshot ends. */
typedef struct {
    roar_stat_key key;
    char id[ROAR_OID_HEXSZ + 1];
    int64_t hashed_at_ns;
} cache_deferred_hash;

struct roar_cache {
    sqlite3 *db;
    char *path;   /* owned; for messages */
    int tx_depth; /* 0: no transaction; >1: inner levels are savepoints */
    bool bulk;    /* the outer transaction dropped the secondary indexes */
    /* During a bulk load: the artifact ids stored so far, so that each blob is put once
     * instead of once per edge (an INSERT OR IGNORE per edge was a B-tree descent). */
    roar_keymap bulk_artifacts;
    bool bulk_failed; /* a unit of the bulk load failed: its commit must fail */
    bool read_tx;     /* the outer transaction is a read snapshot: writes are refused */
    cache_deferred_hash *deferred; /* hash cache rows put during read snapshots */
    size_t ndeferred, deferred_alloc;
    sqlite3_stmt *stmts[CACHE_STMT__COUNT];
};

/* Sets the error for a failed SQLite call `rc` during `what` and returns the ROAR_E*
 * code: corruption names the path and the way out, busy says so, others pass on
 * sqlite3_errmsg. */
int roar_cache__error(roar_cache *cache, int rc, const char *what);

/* Prepares `sql` (or resets the kept statement `id` when id < CACHE_STMT__COUNT).
 * Kept statements are borrowed; others the caller finalizes. */
int roar_cache__prepare(sqlite3_stmt **out, roar_cache *cache, int id, const char *sql);
void roar_cache__release(roar_cache *cache, sqlite3_stmt *stmt);

/* Runs a statement without results. */
int roar_cache__exec(roar_cache *cache, const char *sql);

/* A write transaction: BEGIN IMMEDIATE (retried on SQLITE_BUSY) at the outer level,
 * a savepoint inside an open one; _end commits when error == 0, else rolls back. */
int roar_cache__tx_begin(roar_cache *cache);
int roar_cache__tx_end(roar_cache *cache, int error);

/* During a bulk load: 1 when artifact `id` was already stored by this load, else 0
 * (and it counts as stored from now on); 0 outside a bulk load; ROAR_ENOMEM. Only a
 * job's unit stores artifacts, and a failed unit fails the whole load, so nothing this
 * remembers is ever rolled back alone. */
int roar_cache__bulk_artifact_stored(roar_cache *cache, const char *id);

/* One job's rows: a transaction (or a savepoint inside one), except inside a bulk load,
 * where a savepoint per job cost ~7% of a reindex; there a failed unit fails the
 * whole load (roar_cache_commit refuses, so the caller rolls it back). */
int roar_cache__unit_begin(roar_cache *cache);
int roar_cache__unit_end(roar_cache *cache, int error);

/* ROAR_EINVALID (with a message) unless id is 40 lower-case hex; `what` names it. */
int roar_cache__check_id(const char *id, const char *what);
/* Binds a C string as a blob (paths and argv are raw bytes); NULL binds SQL NULL. */
int roar_cache__bind_str(sqlite3_stmt *stmt, int i, const char *s);
/* A malloc'd NUL-terminated copy of column i, NULL for SQL NULL; *error on OOM. */
char *roar_cache__col_strdup(sqlite3_stmt *stmt, int i, int *error);
/* Copies a 40-hex id column into out; anything else means a damaged file. */
int roar_cache__col_id(char out[ROAR_OID_HEXSZ + 1], roar_cache *cache, sqlite3_stmt *stmt, int i);
/* Steps a bound write statement to SQLITE_DONE. */
int roar_cache__step_done(roar_cache *cache, sqlite3_stmt *stmt, const char *what);
/* The row key of a stored job; ROAR_ENOTFOUND (with a message) when absent. */
int roar_cache__job_pk(sqlite3_int64 *out, roar_cache *cache, const char *id);

/* The columns roar_cache__collect_edges reads, and the join they come from: an edge
 * with its job's id and end. Shared by cache_query.c and cache_lineage.c. */
#define EDGE_COLUMNS                                                                               \
    "j.id, j.end_ms, j.end_kind, j.end_code, e.role, e.path, e.blob, e.size, j.start_ms "
#define EDGE_FROM "FROM edges e JOIN jobs j ON j.pk = e.job "
/* Runs a bound statement selecting EDGE_COLUMNS and replaces the list's contents with
 * its rows. */
int roar_cache__collect_edges(roar_cache_edge_list *out, roar_cache *cache, sqlite3_stmt *stmt);

/* The columns roar_cache__collect_jobinfos reads, in its order: a job with its pending
 * work tree (so the query joins jobs j with pending p). Shared by cache_query.c and
 * cache_blob.c. */
#define JOBINFO_COLUMNS                                                                            \
    "j.id, j.start_ms, j.end_ms, j.end_kind, j.end_code, j.incomplete, p.worktree "
/* Steps a bound statement selecting JOBINFO_COLUMNS and appends its rows to the list
 * (the list owns each pending_worktree); `what` names the query in an SQLite error.
 * The statement stays the caller's to finalize. */
int roar_cache__collect_jobinfos(roar_cache_jobinfo_list *out, roar_cache *cache,
                                 sqlite3_stmt *stmt, const char *what);

/* Writes the hash cache rows deferred by puts inside read snapshots (cache_hash.c),
 * without waiting for another writer: they are a shortcut, kept for a later try when
 * the lock is busy. Outside any transaction only; errors are dropped. */
void roar_cache__hash_flush(roar_cache *cache);

#endif
