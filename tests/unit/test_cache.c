/* Unit tests of the SQLite cache (src/graph/cache*.c), each in a fresh temp directory:
 * open/migrate/refuse, the hash cache, meta, jobs and every query, and concurrency. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "graph/cache.h"
#include "graph/job.h"
#include "graph/oid.h"
#include "util/buf.h"
#include "util/err.h"

typedef struct {
    char dir[64];
    char path[128];
    roar_cache *cache;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    strcpy(f->dir, "/tmp/roar-test-cache-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof(f->path), "%s/cache.db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[128];
    roar_cache_free(f->cache);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

static void open_cache(fixture *f)
{
    int error = roar_cache_open(&f->cache, f->path);
    if (error < 0)
        fail_msg("open: %s", roar_error_last());
}

/* ---- open, schema, refusals --------------------------------------------------- */

static void test_open_creates_wal_db_with_schema_version(void **state)
{
    fixture *f = *state;
    sqlite3 *db;
    sqlite3_stmt *stmt;

    open_cache(f);
    roar_cache_free(f->cache);
    f->cache = NULL;

    /* Look at the file with plain SQLite, not through the code under test. */
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(stmt, 0), "wal");
    sqlite3_finalize(stmt);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(stmt, 0), roar_cache_schema_version());
    assert_true(roar_cache_schema_version() >= 1);
    sqlite3_finalize(stmt);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT count(*) FROM sqlite_master WHERE type='table' "
                                        "AND name IN ('jobs','artifacts','edges','attachments',"
                                        "'pending','hash_cache','meta')",
                                        -1, &stmt, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(stmt, 0), 7);
    sqlite3_finalize(stmt);
    sqlite3_close(db);

    /* Reopening an up-to-date database works and changes nothing. */
    open_cache(f);
}

static void test_open_refuses_newer_schema(void **state)
{
    fixture *f = *state;
    sqlite3 *db;
    char sql[64];

    open_cache(f);
    roar_cache_free(f->cache);
    f->cache = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", roar_cache_schema_version() + 1);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    assert_int_equal(roar_cache_open(&f->cache, f->path), ROAR_EUNSUPPORTED);
    assert_null(f->cache);
    assert_non_null(strstr(roar_error_last(), f->path));
    assert_non_null(strstr(roar_error_last(), "schema version"));
}

static void write_file(const char *path, const char *data, size_t len)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

static void test_open_refuses_garbage_file(void **state)
{
    fixture *f = *state;
    char junk[8192];

    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (char)("not a database\n"[i % 15]);
    write_file(f->path, junk, sizeof(junk));
    assert_int_equal(roar_cache_open(&f->cache, f->path), ROAR_EINVALID);
    assert_null(f->cache);
    assert_non_null(strstr(roar_error_last(), f->path));
    assert_non_null(strstr(roar_error_last(), "corrupt"));
    assert_non_null(strstr(roar_error_last(), "reindex --full"));

    /* A short non-database file too. */
    write_file(f->path, "hello\n", 6);
    assert_int_equal(roar_cache_open(&f->cache, f->path), ROAR_EINVALID);
    assert_non_null(strstr(roar_error_last(), "corrupt"));
}

static void test_open_missing_directory_fails(void **state)
{
    fixture *f = *state;
    char path[200];

    snprintf(path, sizeof(path), "%s/no/such/dir/cache.db", f->dir);
    assert_true(roar_cache_open(&f->cache, path) < 0);
    assert_null(f->cache);
    assert_non_null(strstr(roar_error_last(), path));
}

/* ---- hash cache ------------------------------------------------------------------- */

static const char ID_EMPTY[] = "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391";
static const char ID_HELLO[] = "ce013625030ba8dba906f756967f9e9ca394464a";

static void test_hash_cache_roundtrip(void **state)
{
    fixture *f = *state;
    roar_stat_key key = {UINT64_MAX - 1, (uint64_t)1 << 63, 6, 1700000000123456789,
                         1700000000223456789};
    roar_stat_key other = key;
    char id[ROAR_OID_HEXSZ + 1];
    int64_t at = 0;

    open_cache(f);
    assert_int_equal(roar_cache_hash_get(f->cache, &key, id, &at), ROAR_ENOTFOUND);
    assert_int_equal(roar_cache_hash_put(f->cache, &key, ID_HELLO, 1700000001000000000), 0);
    assert_int_equal(roar_cache_hash_get(f->cache, &key, id, &at), 0);
    assert_string_equal(id, ID_HELLO);
    assert_int_equal(at, 1700000001000000000);

    /* Any other field of the identity differing means no answer. */
    other.size = 7;
    assert_int_equal(roar_cache_hash_get(f->cache, &other, id, &at), ROAR_ENOTFOUND);
    other = key;
    other.mtime_ns++;
    assert_int_equal(roar_cache_hash_get(f->cache, &other, id, &at), ROAR_ENOTFOUND);
    other = key;
    other.ctime_ns++;
    assert_int_equal(roar_cache_hash_get(f->cache, &other, id, &at), ROAR_ENOTFOUND);
    other = key;
    other.ino++;
    assert_int_equal(roar_cache_hash_get(f->cache, &other, id, &at), ROAR_ENOTFOUND);

    /* A put for the same (dev, ino) replaces the row: one identity per file. */
    other = key;
    other.size = 0;
    other.mtime_ns += 5;
    assert_int_equal(roar_cache_hash_put(f->cache, &other, ID_EMPTY, 42), 0);
    assert_int_equal(roar_cache_hash_get(f->cache, &key, id, &at), ROAR_ENOTFOUND);
    assert_int_equal(roar_cache_hash_get(f->cache, &other, id, &at), 0);
    assert_string_equal(id, ID_EMPTY);
    assert_int_equal(at, 42);

    assert_int_equal(roar_cache_hash_put(f->cache, &key, "not-an-id", 1), ROAR_EINVALID);
}

static void test_hash_cache_survives_reopen(void **state)
{
    fixture *f = *state;
    roar_stat_key key = {1, 2, 3, 4, 5};
    char id[ROAR_OID_HEXSZ + 1];

    open_cache(f);
    assert_int_equal(roar_cache_hash_put(f->cache, &key, ID_HELLO, 9), 0);
    roar_cache_free(f->cache);
    f->cache = NULL;
    open_cache(f);
    assert_int_equal(roar_cache_hash_get(f->cache, &key, id, NULL), 0);
    assert_string_equal(id, ID_HELLO);
}

/* ---- meta ------------------------------------------------------------------------ */

static void test_meta_get_set_delete(void **state)
{
    fixture *f = *state;
    roar_buf buf = ROAR_BUF_INIT;

    open_cache(f);
    assert_int_equal(roar_cache_meta_get(&buf, f->cache, "notes-indexed:refs/notes/roar"),
                     ROAR_ENOTFOUND);
    assert_int_equal(roar_cache_meta_set(f->cache, "notes-indexed:refs/notes/roar", ID_HELLO), 0);
    assert_int_equal(roar_cache_meta_get(&buf, f->cache, "notes-indexed:refs/notes/roar"), 0);
    assert_string_equal(buf.ptr, ID_HELLO);
    assert_int_equal(roar_cache_meta_set(f->cache, "notes-indexed:refs/notes/roar", ID_EMPTY), 0);
    assert_int_equal(roar_cache_meta_get(&buf, f->cache, "notes-indexed:refs/notes/roar"), 0);
    assert_string_equal(buf.ptr, ID_EMPTY);
    assert_int_equal(roar_cache_meta_set(f->cache, "notes-indexed:refs/notes/roar", NULL), 0);
    assert_int_equal(roar_cache_meta_get(&buf, f->cache, "notes-indexed:refs/notes/roar"),
                     ROAR_ENOTFOUND);
    roar_buf_dispose(&buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_creates_wal_db_with_schema_version, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_open_refuses_newer_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_refuses_garbage_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_missing_directory_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hash_cache_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hash_cache_survives_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_meta_get_set_delete, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
