/* Unit tests of fdstate's renames (SPEC §4.4, §4.5): files and directories moved,
 * exchanged, renamed over, and what the job's renames moved listed at the end. */
#include "fdstate_harness.h"

/* ---- renames --------------------------------------------------------------- */

/* The names roar_fdstate_renamed_names reports, sorted, joined by spaces. */
static char renamed[1024];

static int renamed_cb(const char *path, void *payload)
{
    (void)payload;
    if (renamed[0])
        strcat(renamed, " ");
    strcat(renamed, path);
    return 0;
}

static const char *renamed_names(void)
{
    char *v[32], *tok, *save = NULL, copy[sizeof(renamed)];
    size_t n = 0, i, j;
    renamed[0] = '\0';
    assert_int_equal(roar_fdstate_renamed_names(st, renamed_cb, NULL), 0);
    strcpy(copy, renamed);
    for (tok = strtok_r(copy, " ", &save); tok && n < 32; tok = strtok_r(NULL, " ", &save))
        v[n++] = tok;
    for (i = 1; i < n; i++)
        for (j = i; j > 0 && strcmp(v[j - 1], v[j]) > 0; j--) {
            char *t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    renamed[0] = '\0';
    for (i = 0; i < n; i++)
        renamed_cb(v[i], NULL);
    return renamed;
}

static roar_ident reg_ident(uint64_t ino)
{
    roar_ident id = {.known = true, .dev = DEV, .ino = ino, .size = 3, .mode = S_IFREG | 0644};
    return id;
}

/* rename with the identity the preload shim takes before the call */
static void ev_rename_ident(const char *a, const char *b, uint64_t ino, uint32_t mode)
{
    struct roar_event_hdr h = H(ROAR_EV_RENAME, ROOT);
    ident(&h, ino, 3);
    h.mode = mode;
    h.flags = S_ISDIR(mode) ? ROAR_RENAME_F_DIR : ROAR_RENAME_F_FILE;
    send(h, a, b);
}

/* Pattern 32: mv a b of an untouched file, its identity taken at the call (preload) ->
 * in a, out b, del a; hashed at b at once. */
static void test_mv_untouched_file(void **state)
{
    roar_fdstate_hashreq r = {0};
    char path[256];
    (void)state;
    ev_rename_ident("/w/a", "/w/b", 33, S_IFREG | 0644);
    assert_int_equal(drain(&r, path, sizeof(path)), 1);
    assert_int_equal(r.reason, ROAR_HASH_INPUT);
    assert_string_equal(path, "/w/b");
    assert_int_equal(r.ident.ino, 33);
    assert_string_equal(renamed_names(), "");
    result();
    IN("/w/a");
    OUT("/w/b");
    DEL("/w/a");
}

/* The same without an identity (eBPF: the kernel side cannot look the name up, and one
 * read later may be the job's next write's): nothing is hashed at the rename; the
 * collector's listing at the end finds the file where it went. */
static void test_mv_untouched_file_resolved_at_the_end(void **state)
{
    roar_fdstate_hashreq r = {0};
    roar_ident b = reg_ident(34);
    char path[256];
    (void)state;
    ev_path2(ROAR_EV_RENAME, "/w/a", "/w/b", ROAR_RENAME_F_FILE);
    assert_int_equal(drain(NULL, NULL, 0), 0);
    assert_string_equal(renamed_names(), "/w/b");
    assert_int_equal(roar_fdstate_add_moved(st, "/w/b", &b), 0);
    assert_int_equal(drain(&r, path, sizeof(path)), 1);
    assert_int_equal(r.reason, ROAR_HASH_INPUT);
    assert_string_equal(path, "/w/b");
    assert_int_equal(r.ident.ino, 34);
    result();
    IN("/w/a");
    OUT("/w/b");
    DEL("/w/a");
    assert_int_equal(res.inputs[0].ident.ino, 34);
}

/* eBPF, `mv a b && echo x > b`: the truncation comes in after the rename; the pre-job
 * content is gone, so the input is `-` (never the new content's id). */
static void test_mv_then_truncate_is_unknown_input(void **state)
{
    (void)state;
    ev_path2(ROAR_EV_RENAME, "/w/a", "/w/b", ROAR_RENAME_F_FILE);
    ev_open(ROOT, 3, "/w/b", O_WRONLY | O_CREAT | O_TRUNC, false, 35, 0);
    ev_write(ROOT, 3, 2);
    assert_int_equal(drain(NULL, NULL, 0), 0);
    result();
    IN("/w/a");
    OUT("/w/b");
    DEL("/w/a");
    assert_false(res.inputs[0].id_known);
    assert_false(res.inputs[0].ident.known);
}

/* Pattern 32: a directory renamed by the job renames every path beneath it; untouched
 * files the collector finds beneath the new name at the end move the same way. */
static void test_directory_rename(void **state)
{
    roar_ident z = reg_ident(38), x = reg_ident(36);
    (void)state;
    ev_open(ROOT, 3, "/w/d/x", O_RDONLY, false, 36, 3);
    ev_close(ROOT, 3);
    ev_open(ROOT, 3, "/w/d/sub/y", O_WRONLY | O_CREAT, true, 37, 0);
    ev_write(ROOT, 3, 3);
    ev_close(ROOT, 3);
    ev_path2(ROAR_EV_RENAME, "/w/d", "/w/e", ROAR_RENAME_F_DIR);
    assert_string_equal(renamed_names(), "/w/e");
    assert_int_equal(roar_fdstate_add_moved(st, "/w/e/z", &z), 0);
    /* already known by identity: left alone */
    assert_int_equal(roar_fdstate_add_moved(st, "/w/e/x", &x), 0);
    result();
    IN("/w/d/x", "/w/d/z");
    OUT("/w/e/sub/y", "/w/e/x", "/w/e/z");
    DEL("/w/d/x", "/w/d/z");
    assert_null(roar_fdstate_lookup_path(st, "/w/d/x"));
}

/* Issue 17, the reduced cases: events the job made after a directory rename, which
 * reach fdstate before anything has listed the directory. */
static void test_directory_rename_then_unlink(void **state)
{
    (void)state;
    ev_path2(ROAR_EV_RENAME, "/w/d1", "/w/d2", ROAR_RENAME_F_DIR);
    ev_unlink("/w/d2/f5");
    result();
    IN("/w/d1/f5"); /* the source of the move; its content is gone: `-` */
    OUT(NONE);
    DEL("/w/d1/f5");
    assert_false(res.inputs[0].id_known);
    /* a name that went is not the moved file if it appears again */
    roar_ident again = reg_ident(50);
    assert_int_equal(roar_fdstate_add_moved(st, "/w/d2/f5", &again), 0);
    result();
    IN("/w/d1/f5");
    OUT(NONE);
}

static void test_directory_rename_then_file_rename(void **state)
{
    roar_fdstate_hashreq r = {0};
    char path[256];
    (void)state;
    ev_path2(ROAR_EV_RENAME, "/w/d1", "/w/d2", ROAR_RENAME_F_DIR);
    ev_path2(ROAR_EV_RENAME, "/w/d2/f5", "/w/d2/g5", ROAR_RENAME_F_FILE);
    ev_rename_ident("/w/d2/f6", "/w/d2/g6", 51, S_IFREG | 0644); /* preload */
    assert_int_equal(drain(&r, path, sizeof(path)), 1);
    assert_string_equal(path, "/w/d2/g6");
    result();
    IN("/w/d1/f6");
    OUT("/w/d2/g6");
    DEL("/w/d1/f6");
    /* the listing at the end: the file renamed unresolved is found under its last name */
    assert_string_equal(renamed_names(), "/w/d2");
    roar_ident g5 = reg_ident(52);
    assert_int_equal(roar_fdstate_add_moved(st, "/w/d2/g5", &g5), 0);
    assert_int_equal(drain(&r, path, sizeof(path)), 1);
    assert_string_equal(path, "/w/d2/g5");
    result();
    IN("/w/d1/f5", "/w/d1/f6");
    OUT("/w/d2/g5", "/w/d2/g6");
    DEL("/w/d1/f5", "/w/d1/f6");
}

static void test_directory_rename_then_create(void **state)
{
    roar_ident made = reg_ident(53), f6 = reg_ident(54);
    (void)state;
    ev_path2(ROAR_EV_RENAME, "/w/d1", "/w/d2", ROAR_RENAME_F_DIR);
    ev_open(ROOT, 3, "/w/d2/new.txt", O_WRONLY | O_CREAT | O_TRUNC, true, 53, 0);
    ev_write(ROOT, 3, 4);
    ev_close(ROOT, 3);
    /* an O_TRUNC open of a moved file: an input whose content is gone, no hash */
    ev_open(ROOT, 3, "/w/d2/f5", O_WRONLY | O_CREAT | O_TRUNC, false, 55, 0);
    ev_write(ROOT, 3, 4);
    ev_close(ROOT, 3);
    /* a read of a moved file: hashed through the reader's fd */
    ev_open(ROOT, 4, "/w/d2/f7", O_RDONLY, false, 56, 3);
    roar_fdstate_hashreq r = {0};
    char path[256];
    assert_int_equal(drain(&r, path, sizeof(path)), 1);
    assert_string_equal(path, "/w/d2/f7");
    assert_int_equal(r.fd, 4);
    assert_int_equal(r.ident.ino, 56);
    assert_int_equal(roar_fdstate_add_moved(st, "/w/d2/new.txt", &made), 0);
    assert_int_equal(roar_fdstate_add_moved(st, "/w/d2/f6", &f6), 0);
    result();
    IN("/w/d1/f5", "/w/d1/f6", "/w/d1/f7");
    OUT("/w/d2/f5", "/w/d2/f6", "/w/d2/f7", "/w/d2/new.txt");
    DEL("/w/d1/f5", "/w/d1/f6", "/w/d1/f7");
    assert_false(res.inputs[0].ident.known);
    assert_int_equal(res.inputs[2].ident.ino, 56);
}

/* After the rename, a name under the old directory is not the moved file; a chain of
 * renames is followed to the last name; a name moved away is not listed. */
static void test_directory_rename_chain(void **state)
{
    roar_ident f = reg_ident(57), g = reg_ident(58), h = reg_ident(59);
    (void)state;
    ev_path2(ROAR_EV_RENAME, "/w/d1", "/w/d2", ROAR_RENAME_F_DIR);
    ev_open(ROOT, 3, "/w/d1/x", O_RDONLY, false, 60, 3); /* a new d1, by someone else */
    ev_path2(ROAR_EV_RENAME, "/w/d2", "/w/d3", ROAR_RENAME_F_DIR);
    ev_path2(ROAR_EV_RENAME, "/w/d3/sub", "/w/s", ROAR_RENAME_F_DIR);
    assert_string_equal(renamed_names(), "/w/d3 /w/s");
    assert_int_equal(roar_fdstate_add_moved(st, "/w/d3/f", &f), 0);
    assert_int_equal(roar_fdstate_add_moved(st, "/w/s/g", &g), 0);
    assert_int_equal(roar_fdstate_add_moved(st, "/w/elsewhere/h", &h), 0); /* not moved */
    result();
    IN("/w/d1/f", "/w/d1/sub/g", "/w/d1/x");
    OUT("/w/d3/f", "/w/s/g");
    DEL("/w/d1/f", "/w/d1/sub/g");
}

/* RENAME_EXCHANGE of two directories swaps what is beneath them. */
static void test_directory_exchange(void **state)
{
    roar_ident f = reg_ident(61), g = reg_ident(62);
    (void)state;
    ev_path2(ROAR_EV_RENAME, "/w/a", "/w/b", RENAME_EXCHANGE | ROAR_RENAME_F_DIR);
    assert_string_equal(renamed_names(), "/w/a /w/b");
    assert_int_equal(roar_fdstate_add_moved(st, "/w/a/g", &g), 0);
    assert_int_equal(roar_fdstate_add_moved(st, "/w/b/f", &f), 0);
    result();
    IN("/w/a/f", "/w/b/g");
    OUT("/w/a/g", "/w/b/f");
    DEL("/w/a/f", "/w/b/g");
}

/* Without a hint from the tracer, the known paths beneath a name still move with it. */
static void test_directory_rename_inferred(void **state)
{
    (void)state;
    ev_open(ROOT, 3, "/w/d/x", O_WRONLY | O_CREAT, true, 39, 0);
    ev_write(ROOT, 3, 3);
    ev_rename("/w/d", "/w/e");
    result();
    IN(NONE);
    OUT("/w/e/x");
    DEL(NONE);
}

/* rename over an existing untouched file the shim stat'ed: out, no del, no in; rename
 * over a file the job read: in (its old content) and out. */
static void test_rename_over_existing(void **state)
{
    (void)state;
    ev_destroy(ROAR_EV_RENAME, 0, "/w/b", 40);
    assert_false(last_wait);
    ev_open(ROOT, 3, "/w/b.tmp", O_WRONLY | O_CREAT | O_EXCL, true, 41, 0);
    ev_write(ROOT, 3, 5);
    ev_rename("/w/b.tmp", "/w/b");

    ev_open(ROOT, 4, "/w/c", O_RDONLY, false, 42, 5);
    ev_destroy(ROAR_EV_RENAME, 0, "/w/c", 42);
    assert_true(last_wait); /* an input without an id yet: hash before the rename */
    ev_open(ROOT, 5, "/w/c.tmp", O_WRONLY | O_CREAT | O_EXCL, true, 43, 0);
    ev_write(ROOT, 5, 5);
    ev_rename("/w/c.tmp", "/w/c");
    result();
    IN("/w/c");
    OUT("/w/b", "/w/c");
    DEL(NONE);
}

/* Pattern 20: a zero-byte write is not a change; the write-capable open is a check. */

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown_res)
    const struct CMUnitTest tests[] = {
        T(test_mv_untouched_file),
        T(test_mv_untouched_file_resolved_at_the_end),
        T(test_mv_then_truncate_is_unknown_input),
        T(test_directory_rename),
        T(test_directory_rename_then_unlink),
        T(test_directory_rename_then_file_rename),
        T(test_directory_rename_then_create),
        T(test_directory_rename_chain),
        T(test_directory_exchange),
        T(test_directory_rename_inferred),
        T(test_rename_over_existing),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
