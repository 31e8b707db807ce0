/* Opening the SQLite cache: pragmas, schema migrations, transactions, error mapping,
 * and meta. The hash cache is cache_hash.c; job queries live in cache_query.c. */
#include "graph/cache.h"
#include "graph/cache_internal.h"
#include "graph/oid.h"
#include "util/buf.h"
#include "util/err.h"

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Each migration takes the schema from version i to i + 1, inside one transaction
 * with the user_version bump, so a crash leaves the previous version intact. */
/* clang-format off: the column comments line up as a table. */
static const char *const migrations[] = {
    /* v1 */
    "CREATE TABLE jobs ("
    "  pk INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL UNIQUE," /* 40 lower-case hex */
    "  start_ms INTEGER NOT NULL,"
    "  end_ms INTEGER NOT NULL,"
    "  end_kind INTEGER NOT NULL," /* roar_end_kind */
    "  end_code INTEGER NOT NULL,"
    "  argv BLOB NOT NULL," /* each element followed by a NUL */
    "  argc INTEGER NOT NULL,"
    "  cwd BLOB NOT NULL,"
    "  base TEXT," /* NULL: no commits when the job started */
    "  dirty INTEGER NOT NULL,"
    "  tracer BLOB,"
    "  host BLOB,"
    "  user BLOB,"
    "  incomplete INTEGER NOT NULL," /* number of incomplete lines */
    "  record BLOB NOT NULL"         /* the record text, byte for byte */
    ");"
    "CREATE INDEX jobs_by_end ON jobs(end_ms, id);"
    "CREATE TABLE artifacts ("
    "  id TEXT PRIMARY KEY,"
    "  size INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE TABLE edges ("
    "  job INTEGER NOT NULL REFERENCES jobs(pk) ON DELETE CASCADE,"
    "  seq INTEGER NOT NULL,"  /* position in the record */
    "  role INTEGER NOT NULL," /* roar_role: 0 in, 1 out, 2 del */
    "  path BLOB NOT NULL,"
    "  blob TEXT REFERENCES artifacts(id)," /* NULL: unknown (`-`) or del */
    "  size INTEGER NOT NULL,"
    "  PRIMARY KEY (job, seq)"
    ") WITHOUT ROWID;"
    "CREATE INDEX edges_by_blob ON edges(blob, role);"
    "CREATE INDEX edges_by_path ON edges(path, role);"
    "CREATE TABLE job_kv (" /* env lines (kind 0), unknown keys (kind 1) */
    "  job INTEGER NOT NULL REFERENCES jobs(pk) ON DELETE CASCADE,"
    "  kind INTEGER NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  key BLOB NOT NULL,"
    "  value BLOB NOT NULL,"
    "  PRIMARY KEY (job, kind, seq)"
    ") WITHOUT ROWID;"
    "CREATE TABLE job_incomplete ("
    "  job INTEGER NOT NULL REFERENCES jobs(pk) ON DELETE CASCADE,"
    "  seq INTEGER NOT NULL,"
    "  reason BLOB NOT NULL,"
    "  count INTEGER," /* NULL: no count */
    "  path BLOB,"
    "  PRIMARY KEY (job, seq)"
    ") WITHOUT ROWID;"
    "CREATE TABLE attachments ("
    "  job INTEGER NOT NULL REFERENCES jobs(pk) ON DELETE CASCADE,"
    "  commit_id TEXT NOT NULL,"
    "  PRIMARY KEY (job, commit_id)"
    ") WITHOUT ROWID;"
    "CREATE INDEX attachments_by_commit ON attachments(commit_id);"
    "CREATE TABLE pending ("
    "  job INTEGER PRIMARY KEY REFERENCES jobs(pk) ON DELETE CASCADE,"
    "  worktree BLOB NOT NULL" /* the git dir of the worktree that recorded it */
    ");"
    "CREATE TABLE hash_cache ("
    "  dev INTEGER NOT NULL,"
    "  ino INTEGER NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  mtime_ns INTEGER NOT NULL,"
    "  ctime_ns INTEGER NOT NULL,"
    "  blob TEXT NOT NULL,"
    "  hashed_at_ns INTEGER NOT NULL,"
    "  PRIMARY KEY (dev, ino)"
    ") WITHOUT ROWID;"
    "CREATE TABLE meta ("
    "  key TEXT PRIMARY KEY,"
    "  value BLOB NOT NULL"
    ") WITHOUT ROWID;",
    /* v2: the commits one tip reaches (cache_reach.c), so that the scope rule does not
     * walk the whole history at every command. */
    "CREATE TABLE reach ("
    "  commit_id TEXT PRIMARY KEY"
    ") WITHOUT ROWID;"
    /* Listings order by (end, start, id): with start in the index, a listing streams
     * in index order instead of sorting every job first. */
    "DROP INDEX jobs_by_end;"
    "CREATE INDEX jobs_by_end ON jobs(end_ms, start_ms, id);"
    /* Role first: status and every listing of producers read the out (or del) edges in
     * path order, which was a scan of every edge; a lookup by path alone names the
     * three roles (role IN (0, 1, 2)). */
    "DROP INDEX edges_by_path;"
    "CREATE INDEX edges_by_path ON edges(role, path);",
};
/* clang-format on */

/* The secondary indexes of the current schema, as roar_cache_begin_bulk drops and
 * rebuilds them. They must match what the migrations above create: a new migration
 * that adds, drops or changes an index changes this list too. */
static const struct {
    const char *name, *create;
} secondary_indexes[] = {
    {"jobs_by_end", "CREATE INDEX jobs_by_end ON jobs(end_ms, start_ms, id)"},
    {"edges_by_blob", "CREATE INDEX edges_by_blob ON edges(blob, role)"},
    {"edges_by_path", "CREATE INDEX edges_by_path ON edges(role, path)"},
    {"attachments_by_commit", "CREATE INDEX attachments_by_commit ON attachments(commit_id)"},
};

#define CACHE_SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* How long a writer waits for another one. SQLite's busy handler covers most waits;
 * the deadline bounds our own retries of the cases it does not cover (a BEGIN
 * IMMEDIATE or a WAL recovery that reports SQLITE_BUSY without calling the handler). */
/* The WAL size from which a close checkpoints it (and, as the last connection, removes
 * it). Kept small: every process that opens the cache first replays the whole WAL
 * (~0.3 ms per 400 KiB), and SQLite's auto-checkpoint cannot restart a WAL that a
 * new process recovered, so only a checkpointing close keeps it from growing. */
#define CACHE_WAL_CLOSE_BYTES (512 * 1024)
/* The page cache of a connection, as PRAGMA cache_size takes it (negative: KiB). */
#define CACHE_PAGE_CACHE_SIZE "-262144"
#define CACHE_RETRY_DEADLINE_MS 30000

static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void nap(void)
{
    /* A few ms, jittered so that retrying processes do not stay in lock step. */
    struct timespec ts = {0,
                          1000000 + (long)(((int64_t)getpid() * 7919 + monotonic_ms()) % 4000000)};
    nanosleep(&ts, NULL);
}

int roar_cache__error(roar_cache *cache, int rc, const char *what)
{
    const char *path = cache && cache->path ? cache->path : "(unknown)";
    const char *msg = cache && cache->db ? sqlite3_errmsg(cache->db) : sqlite3_errstr(rc);

    switch (rc & 0xff) {
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
        return roar_error_set(
            ROAR_EINVALID, "cache '%s' is corrupt (%s); run 'git roar reindex --full'", path, msg);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return roar_error_set(ROAR_ERROR, "cache '%s' is busy (%s): %s", path, what, msg);
    case SQLITE_NOMEM:
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    default:
        return roar_error_set(ROAR_ERROR, "cache '%s': %s: %s", path, what, msg);
    }
}

int roar_cache__prepare(sqlite3_stmt **out, roar_cache *cache, int id, const char *sql)
{
    int rc;

    if (id >= 0 && id < CACHE_STMT__COUNT && cache->stmts[id]) {
        sqlite3_reset(cache->stmts[id]);
        sqlite3_clear_bindings(cache->stmts[id]);
        *out = cache->stmts[id];
        return 0;
    }
    rc = sqlite3_prepare_v2(cache->db, sql, -1, out, NULL);
    if (rc != SQLITE_OK) {
        *out = NULL;
        return roar_cache__error(cache, rc, "prepare");
    }
    if (id >= 0 && id < CACHE_STMT__COUNT)
        cache->stmts[id] = *out;
    return 0;
}

void roar_cache__release(roar_cache *cache, sqlite3_stmt *stmt)
{
    if (!stmt)
        return;
    for (int i = 0; i < CACHE_STMT__COUNT; i++) {
        if (cache->stmts[i] == stmt) {
            /* Kept: reset so it holds no read snapshot open between calls. */
            sqlite3_reset(stmt);
            return;
        }
    }
    sqlite3_finalize(stmt);
}

int roar_cache__exec(roar_cache *cache, const char *sql)
{
    int rc = sqlite3_exec(cache->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : roar_cache__error(cache, rc, sql);
}

/* Runs sql, retrying on SQLITE_BUSY until the deadline. For statements that take a
 * lock up front (BEGIN IMMEDIATE, journal mode changes, migrations). */
static int exec_retry(roar_cache *cache, const char *sql)
{
    int64_t deadline = monotonic_ms() + CACHE_RETRY_DEADLINE_MS;
    int rc;

    for (;;) {
        rc = sqlite3_exec(cache->db, sql, NULL, NULL, NULL);
        if ((rc & 0xff) != SQLITE_BUSY || monotonic_ms() >= deadline)
            break;
        nap();
    }
    return rc == SQLITE_OK ? 0 : roar_cache__error(cache, rc, sql);
}

int roar_cache__tx_begin(roar_cache *cache)
{
    int error;

    /* Upgrading a read snapshot to a writer would hold the write lock until the
     * snapshot ends (while a pager waits on the reader, say), or fail on a stale one. */
    if (cache->read_tx)
        return roar_error_set(ROAR_ERROR, "cache '%s': no writes inside a read snapshot",
                              cache->path);

    if (cache->tx_depth == 0)
        error = exec_retry(cache, "BEGIN IMMEDIATE");
    else
        error = roar_cache__exec(cache, "SAVEPOINT roar_inner");
    if (error == 0)
        cache->tx_depth++;
    return error;
}

int roar_cache__tx_end(roar_cache *cache, int error)
{
    int rc;

    if (cache->tx_depth <= 0)
        return error;
    cache->tx_depth--;
    if (cache->tx_depth > 0) {
        if (error)
            sqlite3_exec(cache->db, "ROLLBACK TO roar_inner", NULL, NULL, NULL);
        rc = sqlite3_exec(cache->db, "RELEASE roar_inner", NULL, NULL, NULL);
        if (!error && rc != SQLITE_OK)
            error = roar_cache__error(cache, rc, "RELEASE");
        return error;
    }
    if (!error) {
        rc = sqlite3_exec(cache->db, "COMMIT", NULL, NULL, NULL);
        if (rc == SQLITE_OK)
            return 0;
        error = roar_cache__error(cache, rc, "COMMIT");
    }
    /* Keep the failure's message: the rollback's own outcome adds nothing. */
    if (!sqlite3_get_autocommit(cache->db))
        sqlite3_exec(cache->db, "ROLLBACK", NULL, NULL, NULL);
    return error;
}

int roar_cache__unit_begin(roar_cache *cache)
{
    if (cache->bulk && cache->tx_depth > 0)
        return 0;
    return roar_cache__tx_begin(cache);
}

int roar_cache__unit_end(roar_cache *cache, int error)
{
    if (!(cache->bulk && cache->tx_depth > 0))
        return roar_cache__tx_end(cache, error);
    if (error < 0)
        cache->bulk_failed = true;
    return error;
}

int roar_cache_begin(roar_cache *cache)
{
    return roar_cache__tx_begin(cache);
}

/* Foreign keys back on after a bulk load; a failure is reported unless one already is. */
static void keys_on(roar_cache *cache, int *error)
{
    int e = roar_cache__exec(cache, "PRAGMA foreign_keys = ON");
    if (e < 0 && *error >= 0)
        *error = e;
}

int roar_cache_begin_bulk(roar_cache *cache, bool clear)
{
    /* Children first: with foreign keys on, deleting jobs first would cascade row by
     * row. An artifact row only names a blob's size: without edges none is needed. */
    static const char *const clear_sql[] = {
        "DELETE FROM edges",       "DELETE FROM job_kv",  "DELETE FROM job_incomplete",
        "DELETE FROM attachments", "DELETE FROM pending", "DELETE FROM jobs",
        "DELETE FROM artifacts",
    };
    char sql[128];
    size_t i;
    int error;

    if (cache->tx_depth != 0)
        return roar_error_set(ROAR_ERROR, "cache '%s': bulk load inside a transaction",
                              cache->path);
    /* Foreign keys off for the load: checking every edge's blob against artifacts was
     * ~40% of it, and nothing a load does leans on them (roar_cache_job_delete deletes
     * a job's rows itself). The pragma is a no-op inside a transaction: set it first. */
    if ((error = roar_cache__exec(cache, "PRAGMA foreign_keys = OFF")) < 0)
        return error;
    if ((error = roar_cache__tx_begin(cache)) < 0)
        goto fail_keys;
    /* Indexes first: a table emptied with its indexes in place has every index's
     * pages cleared too, only for the index to be dropped next. */
    for (i = 0; i < sizeof(secondary_indexes) / sizeof(secondary_indexes[0]); i++) {
        snprintf(sql, sizeof(sql), "DROP INDEX IF EXISTS %s", secondary_indexes[i].name);
        if ((error = roar_cache__exec(cache, sql)) < 0)
            goto fail;
    }
    for (i = 0; clear && i < sizeof(clear_sql) / sizeof(clear_sql[0]); i++)
        if ((error = roar_cache__exec(cache, clear_sql[i])) < 0)
            goto fail;
    cache->bulk = true;
    return 0;
fail:
    roar_cache__tx_end(cache, error);
fail_keys:
    roar_cache__exec(cache, "PRAGMA foreign_keys = ON");
    return error;
}

int roar_cache_read_begin(roar_cache *cache)
{
    int error;

    if (cache->tx_depth != 0)
        return 0;
    if ((error = roar_cache__exec(cache, "BEGIN")) < 0)
        return error;
    cache->tx_depth = 1;
    cache->read_tx = true;
    return 0;
}

void roar_cache_read_end(roar_cache *cache)
{
    if (!cache->read_tx)
        return;
    cache->read_tx = false;
    cache->tx_depth = 0;
    sqlite3_exec(cache->db, "COMMIT", NULL, NULL, NULL);
    roar_cache__hash_flush(cache);
}

int roar_cache_has_jobs(bool *out, roar_cache *cache)
{
    sqlite3_stmt *stmt = NULL;
    int error, rc;

    if ((error = roar_cache__prepare(&stmt, cache, -1, "SELECT 1 FROM jobs LIMIT 1")) < 0)
        return error;
    rc = sqlite3_step(stmt);
    *out = rc == SQLITE_ROW;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        error = roar_cache__error(cache, rc, "looking for jobs");
    sqlite3_finalize(stmt);
    return error;
}

int roar_cache__bulk_artifact_stored(roar_cache *cache, const char *id)
{
    if (!cache->bulk)
        return 0;
    if (roar_keymap_get(&cache->bulk_artifacts, id, ROAR_OID_HEXSZ))
        return 1;
    if (roar_keymap_put(&cache->bulk_artifacts, id, ROAR_OID_HEXSZ, (void *)1) < 0)
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    return 0;
}

/* A bulk load is over (committed or rolled back): what it tracked goes. */
static void bulk_end(roar_cache *cache)
{
    cache->bulk = false;
    cache->bulk_failed = false;
    roar_keymap_dispose(&cache->bulk_artifacts);
    cache->bulk_artifacts = (roar_keymap)ROAR_KEYMAP_INIT;
}

/* After the index builds of a bulk load: the settings every connection opens with. */
static void sort_settings_restore(roar_cache *cache, int *error)
{
    int e = roar_cache__exec(cache, "PRAGMA cache_size = " CACHE_PAGE_CACHE_SIZE);
    if (!e)
        e = roar_cache__exec(cache, "PRAGMA temp_store = MEMORY");
    if (!e)
        e = roar_cache__exec(cache, "PRAGMA threads = 0");
    if (e < 0 && *error >= 0)
        *error = e;
}

int roar_cache_commit(roar_cache *cache)
{
    int error = 0;

    if (cache->tx_depth == 0)
        return roar_error_set(ROAR_ERROR, "cache '%s': commit without roar_cache_begin",
                              cache->path);
    if (cache->tx_depth == 1 && cache->bulk) {
        /* A unit that failed partway left its rows: only a rollback undoes them. */
        if (cache->bulk_failed)
            error =
                roar_error_set(ROAR_ERROR, "cache '%s': a bulk load failed partway", cache->path);
        bulk_end(cache);
        /* SQLite's sorter builds an index fastest from runs the size of a small page
         * cache, spilled to a temporary file and merged by two threads: measured on the
         * 2M edges of 100,000 jobs, edges_by_blob took 2.0 s so against 4.4 s with the
         * 256 MiB cache and temporary data in memory (bench/README.md, team scale). */
        if (!error)
            error = roar_cache__exec(cache, "PRAGMA cache_size = -16384");
        if (!error)
            error = roar_cache__exec(cache, "PRAGMA temp_store = FILE");
        if (!error)
            error = roar_cache__exec(cache, "PRAGMA threads = 2");
        for (size_t i = 0; !error && i < sizeof(secondary_indexes) / sizeof(secondary_indexes[0]);
             i++)
            error = roar_cache__exec(cache, secondary_indexes[i].create);
        sort_settings_restore(cache, &error);
        error = roar_cache__tx_end(cache, error);
        keys_on(cache, &error);
        return error;
    }
    return roar_cache__tx_end(cache, error);
}

void roar_cache_rollback(roar_cache *cache)
{
    bool bulk = cache->tx_depth == 1 && cache->bulk;
    int error = ROAR_ERROR;

    if (bulk)
        bulk_end(cache); /* the rollback restores the indexes */
    roar_cache__tx_end(cache, error);
    if (bulk)
        keys_on(cache, &error);
}

static int read_user_version(int *out, roar_cache *cache)
{
    sqlite3_stmt *stmt = NULL;
    int error, rc;
    int64_t deadline = monotonic_ms() + CACHE_RETRY_DEADLINE_MS;

    if ((error = roar_cache__prepare(&stmt, cache, -1, "PRAGMA user_version")) < 0)
        return error;
    while ((rc = sqlite3_step(stmt)) == SQLITE_BUSY && monotonic_ms() < deadline) {
        sqlite3_reset(stmt);
        nap();
    }
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int(stmt, 0);
    else
        error = roar_cache__error(cache, rc, "reading the schema version");
    sqlite3_finalize(stmt);
    return error;
}

static int refuse_newer(roar_cache *cache, int version)
{
    return roar_error_set(ROAR_EUNSUPPORTED,
                          "cache '%s' has schema version %d, but this git roar knows only up "
                          "to %d; upgrade git roar (or remove the file to rebuild it)",
                          cache->path, version, CACHE_SCHEMA_VERSION);
}

static int migrate(roar_cache *cache)
{
    int version = 0, error;
    char sql[64];

    if ((error = read_user_version(&version, cache)) < 0)
        return error;
    if (version > CACHE_SCHEMA_VERSION)
        return refuse_newer(cache, version);
    if (version == CACHE_SCHEMA_VERSION)
        return 0;

    if ((error = roar_cache__tx_begin(cache)) < 0)
        return error;
    /* Another process may have migrated while we waited for the lock. */
    if ((error = read_user_version(&version, cache)) < 0)
        goto done;
    if (version > CACHE_SCHEMA_VERSION) {
        error = refuse_newer(cache, version);
        goto done;
    }
    for (; version < CACHE_SCHEMA_VERSION; version++) {
        if ((error = roar_cache__exec(cache, migrations[version])) < 0) {
            roar_error_prefix("migrating cache '%s' to version %d", cache->path, version + 1);
            goto done;
        }
    }
    snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", CACHE_SCHEMA_VERSION);
    error = roar_cache__exec(cache, sql);
done:
    return roar_cache__tx_end(cache, error);
}

static int set_wal(roar_cache *cache)
{
    sqlite3_stmt *stmt = NULL;
    int64_t deadline = monotonic_ms() + CACHE_RETRY_DEADLINE_MS;
    int error, rc;

    /* The first statement that reads the file: a non-database fails here. */
    if ((error = roar_cache__prepare(&stmt, cache, -1, "PRAGMA journal_mode = WAL")) < 0)
        return error;
    while ((rc = sqlite3_step(stmt)) == SQLITE_BUSY && monotonic_ms() < deadline) {
        sqlite3_reset(stmt);
        nap();
    }
    if (rc != SQLITE_ROW)
        error = roar_cache__error(cache, rc, "setting WAL mode");
    else if (strcmp((const char *)sqlite3_column_text(stmt, 0), "wal") != 0)
        error =
            roar_error_set(ROAR_EUNSUPPORTED,
                           "cache '%s': the file system does not support WAL mode", cache->path);
    sqlite3_finalize(stmt);
    return error;
}

static bool wal_is_large(const roar_cache *cache)
{
    char wal[PATH_MAX];
    struct stat st;

    return (size_t)snprintf(wal, sizeof(wal), "%s-wal", cache->path) < sizeof(wal) &&
           stat(wal, &st) == 0 && st.st_size >= CACHE_WAL_CLOSE_BYTES;
}

void roar_cache_free(roar_cache *cache)
{
    if (!cache)
        return;
    if (cache->db && cache->tx_depth == 0)
        roar_cache__hash_flush(cache);
    free(cache->deferred);
    roar_keymap_dispose(&cache->bulk_artifacts);
    for (int i = 0; i < CACHE_STMT__COUNT; i++)
        sqlite3_finalize(cache->stmts[i]);
    if (cache->db && wal_is_large(cache))
        sqlite3_db_config(cache->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 0, NULL);
    /* _v2 so that a statement leaked by a bug delays the close instead of failing it. */
    sqlite3_close_v2(cache->db);
    free(cache->path);
    free(cache);
}

/* SQLite's allocation statistics take a global mutex around every malloc and free
 * (~3% of a reindex); nothing reads them. Only possible before SQLite initialises:
 * later the call fails harmlessly. */
static void sqlite_configure(void)
{
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int roar_cache_open(roar_cache **out, const char *path)
{
    static pthread_once_t configured = PTHREAD_ONCE_INIT;
    roar_cache *cache;
    int error = 0, rc;

    *out = NULL;
    pthread_once(&configured, sqlite_configure);
    cache = calloc(1, sizeof(*cache));
    if (!cache || !(cache->path = strdup(path))) {
        free(cache);
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    }
    /* NOMUTEX: a connection is used by one thread, so SQLite's per-call mutexes (~7% of a
     * reindex) buy nothing. */
    rc = sqlite3_open_v2(path, &cache->db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        error = roar_error_set(ROAR_ERROR, "cannot open cache '%s': %s", path,
                               cache->db ? sqlite3_errmsg(cache->db) : sqlite3_errstr(rc));
        goto cleanup;
    }
    sqlite3_extended_result_codes(cache->db, 1);
    sqlite3_busy_timeout(cache->db, CACHE_BUSY_TIMEOUT_MS);

    if ((error = set_wal(cache)) < 0)
        goto cleanup;
    /* WAL with synchronous=NORMAL stays consistent on power loss and only may lose the
     * last commits: fine for a cache whose durable copy is the pending record/notes. */
    if ((error = roar_cache__exec(cache, "PRAGMA synchronous = NORMAL")) < 0 ||
        (error = roar_cache__exec(cache, "PRAGMA foreign_keys = ON")) < 0 ||
        (error = roar_cache__exec(cache, "PRAGMA cache_size = " CACHE_PAGE_CACHE_SIZE)) < 0 ||
        (error = roar_cache__exec(cache, "PRAGMA temp_store = MEMORY")) < 0 ||
        (error = roar_cache__exec(cache, "PRAGMA mmap_size = 4294967296")) < 0)
        goto cleanup;
    /* A checkpoint at each close costs two fdatasyncs (~2 ms of every `git roar run`):
     * roar_cache_free does it only once the WAL has grown. */
    sqlite3_db_config(cache->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
    if ((error = migrate(cache)) < 0)
        goto cleanup;

cleanup:
    if (error < 0) {
        roar_cache_free(cache);
        return error;
    }
    *out = cache;
    return 0;
}

int roar_cache_for_scans(roar_cache *cache, int cache_kib)
{
    char sql[64];
    int error;
    snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%d", cache_kib);
    if ((error = roar_cache__exec(cache, sql)) < 0)
        return error;
    return roar_cache__exec(cache, "PRAGMA mmap_size = 0");
}

int roar_cache_schema_version(void)
{
    return CACHE_SCHEMA_VERSION;
}

/* ---- helpers shared by cache_job.c and cache_query.c ------------------------ */

int roar_cache__check_id(const char *id, const char *what)
{
    if (!id || !roar_oid_is_hex(id))
        return roar_error_set(ROAR_EINVALID, "not a %s id: '%s'", what, id ? id : "(null)");
    return 0;
}

int roar_cache__bind_str(sqlite3_stmt *stmt, int i, const char *s)
{
    /* Blobs, not text: paths and argv are raw bytes that need not be UTF-8. */
    if (!s)
        return sqlite3_bind_null(stmt, i);
    return sqlite3_bind_blob(stmt, i, s, (int)strlen(s), SQLITE_STATIC);
}

/* A malloc'd NUL-terminated copy of column i (NULL for SQL NULL). Sets *error on OOM. */
char *roar_cache__col_strdup(sqlite3_stmt *stmt, int i, int *error)
{
    const void *data;
    int len;
    char *copy;

    if (sqlite3_column_type(stmt, i) == SQLITE_NULL)
        return NULL;
    data = sqlite3_column_blob(stmt, i);
    len = sqlite3_column_bytes(stmt, i);
    copy = malloc((size_t)len + 1);
    if (!copy) {
        *error = roar_error_set(ROAR_ENOMEM, "out of memory");
        return NULL;
    }
    if (len)
        memcpy(copy, data, (size_t)len);
    copy[len] = '\0';
    return copy;
}

/* Copies a 40-hex column into out; anything else there means a damaged file. */
int roar_cache__col_id(char out[ROAR_OID_HEXSZ + 1], roar_cache *cache, sqlite3_stmt *stmt, int i)
{
    const char *s = (const char *)sqlite3_column_text(stmt, i);
    if (!s || !roar_oid_is_hex(s))
        return roar_error_set(ROAR_EINVALID,
                              "cache '%s' is corrupt (bad id); run 'git roar reindex --full'",
                              cache->path);
    memcpy(out, s, ROAR_OID_HEXSZ + 1);
    return 0;
}

/* Runs a prepared write statement to completion. */
int roar_cache__step_done(roar_cache *cache, sqlite3_stmt *stmt, const char *what)
{
    int rc = sqlite3_step(stmt);
    return rc == SQLITE_DONE ? 0 : roar_cache__error(cache, rc, what);
}

/* The row key of a job; ROAR_ENOTFOUND (with a message) when it is not stored. */
int roar_cache__job_pk(sqlite3_int64 *out, roar_cache *cache, const char *id)
{
    sqlite3_stmt *stmt = NULL;
    int error, rc;

    if ((error = roar_cache__check_id(id, "job")) < 0)
        return error;
    if ((error = roar_cache__prepare(&stmt, cache, CACHE_STMT_JOB_PK,
                                     "SELECT pk FROM jobs WHERE id = ?1")) < 0)
        return error;
    sqlite3_bind_text(stmt, 1, id, ROAR_OID_HEXSZ, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(stmt, 0);
    else if (rc == SQLITE_DONE)
        error = roar_error_set(ROAR_ENOTFOUND, "no job %s in the cache", id);
    else
        error = roar_cache__error(cache, rc, "looking up a job");
    roar_cache__release(cache, stmt);
    return error;
}

/* ---- meta -------------------------------------------------------------------- */

int roar_cache_meta_get(roar_buf *out, roar_cache *cache, const char *key)
{
    sqlite3_stmt *stmt = NULL;
    int error, rc;

    if ((error = roar_cache__prepare(&stmt, cache, -1, "SELECT value FROM meta WHERE key = ?1")) <
        0)
        return error;
    sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        roar_buf_clear(out);
        error =
            roar_buf_put(out, sqlite3_column_blob(stmt, 0), (size_t)sqlite3_column_bytes(stmt, 0));
    } else if (rc == SQLITE_DONE) {
        error = roar_error_set(ROAR_ENOTFOUND, "no cache meta value '%s'", key);
    } else {
        error = roar_cache__error(cache, rc, "reading meta");
    }
    roar_cache__release(cache, stmt);
    return error;
}

int roar_cache_meta_set(roar_cache *cache, const char *key, const char *value_or_null)
{
    sqlite3_stmt *stmt = NULL;
    int error, rc;

    if ((error = roar_cache__tx_begin(cache)) < 0)
        return error;
    if ((error = roar_cache__prepare(&stmt, cache, -1,
                                     value_or_null ? "INSERT OR REPLACE INTO meta (key, value) "
                                                     "VALUES (?1, ?2)"
                                                   : "DELETE FROM meta WHERE key = ?1")) < 0)
        goto done;
    sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
    if (value_or_null)
        sqlite3_bind_blob(stmt, 2, value_or_null, (int)strlen(value_or_null), SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE)
        error = roar_cache__error(cache, rc, "writing meta");
    roar_cache__release(cache, stmt);
done:
    return roar_cache__tx_end(cache, error);
}
