/* Unit tests of fdstate: each SPEC §4 rule and each event-expressible pattern of the
 * tracer fixture list, fed through the wire encoder and decoder, with exact results.
 * Renames are in test_fdstate_rename.c, fd tables in test_fdstate_fdtable.c. */
#include "fdstate_harness.h"

/* ---- §4.4 inputs ---------------------------------------------------------- */

/* Pattern 1: open O_RDONLY + read -> in; hashed at once under the open's identity. */
static void test_read_only_open_is_input(void **state)
{
    roar_fdstate_hashreq r = {0};
    char path[256];
    (void)state;
    ev_open(ROOT, 3, "/w/a", O_RDONLY, false, 11, 6);
    assert_int_equal(drain(&r, path, sizeof(path)), 1);
    assert_int_equal(r.reason, ROAR_HASH_INPUT);
    assert_string_equal(path, "/w/a");
    assert_true(r.ident.known);
    assert_int_equal(r.ident.ino, 11);
    assert_int_equal(r.ident.size, 6);
    roar_fdstate_set_preimage(st, r.file, OLD_ID, 6);
    ev_read(ROOT, 3, 6);
    ev_close(ROOT, 3);
    result();
    IN("/w/a");
    OUT(NONE);
    DEL(NONE);
    CHECKS(NONE);
    assert_true(res.inputs[0].id_known);
    assert_string_equal(res.inputs[0].id, OLD_ID);
    assert_int_equal(res.inputs[0].ident.ino, 11);
}

/* An input whose hash never arrived is recorded with id unknown, size at open. */
static void test_input_without_hash_has_unknown_id(void **state)
{
    (void)state;
    ev_open(ROOT, 3, "/w/a", O_RDONLY, false, 11, 77);
    drain(NULL, NULL, 0);
    result();
    IN("/w/a");
    assert_false(res.inputs[0].id_known);
    assert_int_equal(res.inputs[0].ident.size, 77);
}

/* Pattern 2: O_WRONLY|O_CREAT|O_TRUNC + write -> out. */
static void test_create_write_is_output(void **state)
{
    (void)state;
    ev_open(ROOT, 3, "/w/out", O_WRONLY | O_CREAT | O_TRUNC, true, 12, 0);
    assert_int_equal(drain(NULL, NULL, 0), 0);
    ev_write(ROOT, 3, 100);
    result();
    IN(NONE);
    OUT("/w/out");
    DEL(NONE);
}

/* Pattern 3 (np.savez): O_RDWR|O_CREAT|O_TRUNC + write -> out only, never in, both when
 * it creates the file and when the file already existed. */
static void test_rdwr_creat_trunc_is_output_only(void **state)
{
    (void)state;
    ev_open(ROOT, 3, "/w/new.npz", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, true, 13, 0);
    ev_write(ROOT, 3, 10);
    ev_open(ROOT, 4, "/w/old.npz", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, false, 14, 500);
    assert_int_equal(drain(NULL, NULL, 0), 0);
    ev_read(ROOT, 4, 0);
    ev_write(ROOT, 4, 10);
    result();
    IN(NONE);
    OUT("/w/new.npz", "/w/old.npz");
    DEL(NONE);
}

/* Patterns 4 and 5: O_RDWR|O_TRUNC then read() or mmap(PROT_READ) -> out only. */
static void test_rdwr_trunc_then_read_or_mmap_is_output_only(void **state)
{
    (void)state;
    ev_open(ROOT, 3, "/w/a", O_RDWR | O_TRUNC, false, 15, 100);
    ev_read(ROOT, 3, 0);
    ev_open(ROOT, 4, "/w/b", O_RDWR | O_TRUNC, false, 16, 100);
    ev_ftruncate(ROOT, 4, 4096);
    ev_mmap(ROOT, 4, PROT_READ, MAP_SHARED);
    result();
    IN(NONE);
    OUT("/w/a", "/w/b");
}

/* Pattern 6: O_RDWR without O_TRUNC, read then write in place -> in (pre-job id, hashed
 * at the open, before any write) and out. */
static void test_read_then_inplace_write_is_in_and_out(void **state)
{
    roar_fdstate_hashreq r = {0};
    (void)state;
    ev_open(ROOT, 3, "/w/cfg.json", O_RDWR, false, 17, 40);
    assert_int_equal(drain(&r, NULL, 0), 1);
    assert_int_equal(r.reason, ROAR_HASH_INPUT);
    roar_fdstate_set_preimage(st, r.file, OLD_ID, 40);
    ev_read(ROOT, 3, 40);
    ev_write(ROOT, 3, 45);
    result();
    IN("/w/cfg.json");
    OUT("/w/cfg.json");
    assert_true(res.inputs[0].id_known);
    assert_string_equal(res.inputs[0].id, OLD_ID);
    CHECKS(NONE);
}

/* §4.4: write-capable open without O_TRUNC, then an append -> in and out; the open asked
 * for the pre-image while it was intact. */
static void test_append_is_in_and_out(void **state)
{
    roar_fdstate_hashreq r = {0};
    (void)state;
    ev_open(ROOT, 3, "/w/log", O_WRONLY | O_APPEND, false, 18, 10);
    assert_int_equal(drain(&r, NULL, 0), 1);
    assert_int_equal(r.reason, ROAR_HASH_PREIMAGE);
    assert_int_equal(r.ident.size, 10);
    ev_write(ROOT, 3, 5);
    result();
    IN("/w/log");
    OUT("/w/log");
    assert_int_equal(res.inputs[0].ident.size, 10);
}

/* §4.4 exception: the first change is truncation to 0 -> out only. */
static void test_truncate_to_zero_first_is_output_only(void **state)
{
    (void)state;
    ev_open(ROOT, 3, "/w/a", O_WRONLY, false, 19, 10);
    ev_ftruncate(ROOT, 3, 0);
    ev_write(ROOT, 3, 5);
    result();
    IN(NONE);
    OUT("/w/a");
}

/* Truncation to a non-zero length keeps old bytes: after a write-capable open it is
 * an in-place change. */
static void test_truncate_nonzero_after_write_open_is_in_and_out(void **state)
{
    (void)state;
    ev_open(ROOT, 3, "/w/a", O_WRONLY, false, 20, 10);
    ev_ftruncate(ROOT, 3, 4);
    result();
    IN("/w/a");
    OUT("/w/a");
}

/* §4.4: a file read after the job wrote it is not an input. */
static void test_read_after_own_write_is_not_input(void **state)
{
    (void)state;
    ev_open(ROOT, 3, "/w/mid", O_WRONLY | O_CREAT | O_TRUNC, true, 21, 0);
    ev_write(ROOT, 3, 5);
    ev_close(ROOT, 3);
    ev_open(ROOT, 3, "/w/mid", O_RDONLY, false, 21, 5);
    assert_int_equal(drain(NULL, NULL, 0), 0);
    ev_read(ROOT, 3, 5);
    result();
    IN(NONE);
    OUT("/w/mid");
}

/* §4.4 + pattern 23: an executed program or script is an input, unless the job made it. */
static void test_exec_is_input_unless_created(void **state)
{
    (void)state;
    ev_exec(ROOT, "/w/run.sh", 22);
    ev_open(ROOT, 3, "/w/tool", O_WRONLY | O_CREAT | O_TRUNC, true, 23, 0);
    ev_write(ROOT, 3, 100);
    ev_close(ROOT, 3);
    ev_fork(ROOT, 101, 0);
    ev_exec(101, "/w/tool", 23);
    result();
    IN("/w/run.sh");
    OUT("/w/tool");
}

/* Pattern 24: sendfile/copy_file_range -> in source, out destination; a zero-byte copy
 * changes nothing. */
static void test_copy_into_fd(void **state)
{
    struct roar_event_hdr h = H(ROAR_EV_COPY, ROOT);
    (void)state;
    ev_open(ROOT, 3, "/w/src", O_RDONLY, false, 24, 10);
    ev_open(ROOT, 4, "/w/dst", O_WRONLY | O_CREAT | O_EXCL, true, 25, 0);
    ev_open(ROOT, 5, "/w/other", O_WRONLY, false, 26, 10);
    h.fd = 3;
    h.fd2 = 5;
    h.ret = 0;
    send(h, NULL, NULL);
    h.fd2 = 4;
    h.ret = 10;
    send(h, NULL, NULL);
    result();
    IN("/w/src");
    OUT("/w/dst");
    CHECKS("/w/other");
}

/* ---- §4.5 outputs --------------------------------------------------------- */

/* Pattern 7: mmap PROT_WRITE + MAP_SHARED is a write; MAP_PRIVATE is not. */
static void test_mmap_shared_write_is_output(void **state)
{
    (void)state;
    ev_open(ROOT, 3, "/w/m", O_RDWR | O_CREAT, true, 27, 0);
    ev_ftruncate(ROOT, 3, 4096);
    ev_mmap(ROOT, 3, PROT_READ | PROT_WRITE, MAP_SHARED);
    ev_open(ROOT, 4, "/w/p", O_RDONLY, false, 28, 4096);
    ev_mmap(ROOT, 4, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    ev_open(ROOT, 5, "/w/s", O_RDWR, false, 29, 4096);
    ev_mmap(ROOT, 5, PROT_READ | PROT_WRITE, MAP_SHARED);
    result();
    IN("/w/p", "/w/s");
    OUT("/w/m", "/w/s");
}

/* Pattern 8: write temp + rename -> out = final name only. */
static void test_temp_then_rename_is_final_only(void **state)
{
    (void)state;
    ev_open(ROOT, 3, "/tmp/x.tmp", O_WRONLY | O_CREAT | O_EXCL, true, 30, 0);
    ev_write(ROOT, 3, 10);
    ev_close(ROOT, 3);
    ev_rename("/tmp/x.tmp", "/w/final");
    result();
    IN(NONE);
    OUT("/w/final");
    DEL(NONE);
    assert_string_equal(roar_fdstate_file_name(roar_fdstate_lookup_path(st, "/w/final")),
                        "/w/final");
}

/* Pattern 9: write temp + link final + unlink temp -> out = final. */
static void test_temp_link_unlink_is_final(void **state)
{
    (void)state;
    ev_open(ROOT, 3, "/w/.tmp1", O_WRONLY | O_CREAT | O_EXCL, true, 31, 0);
    ev_write(ROOT, 3, 10);
    ev_link("/w/.tmp1", "/w/final");
    ev_unlink("/w/.tmp1");
    result();
    IN(NONE);
    OUT("/w/final");
    DEL(NONE);
}

/* §4.5: O_TMPFILE + linkat(fd, "", AT_EMPTY_PATH) names the file: out. */
static void test_tmpfile_then_linkat(void **state)
{
    struct roar_event_hdr h = H(ROAR_EV_LINK, ROOT);
    (void)state;
    ev_open(ROOT, 3, "/w/dir", O_TMPFILE | O_WRONLY, false, 32, 0);
    ev_write(ROOT, 3, 10);
    h.fd = 3;
    send(h, NULL, "/w/dir/made");
    result();
    IN(NONE);
    OUT("/w/dir/made");
}

/* Pattern 10: create + unlink -> a temporary, nothing recorded. */
static void test_create_then_unlink_is_nothing(void **state)
{
    (void)state;
    ev_open(ROOT, 3, "/w/scratch", O_RDWR | O_CREAT | O_TRUNC, true, 33, 0);
    ev_write(ROOT, 3, 10);
    ev_read(ROOT, 3, 10);
    ev_close(ROOT, 3);
    ev_unlink("/w/scratch");
    result();
    IN(NONE);
    OUT(NONE);
    DEL(NONE);
}

/* Pattern 11: unlink a pre-existing file the job never opened -> del. */
static void test_unlink_preexisting_is_del(void **state)
{
    (void)state;
    ev_unlink("/w/old.tmp");
    result();
    IN(NONE);
    OUT(NONE);
    DEL("/w/old.tmp");
}

/* A file read then removed: in and del. Removed then re-created: out, not del. */
static void test_read_unlink_and_recreate(void **state)
{
    (void)state;
    ev_open(ROOT, 3, "/w/a", O_RDONLY, false, 34, 5);
    ev_close(ROOT, 3);
    ev_unlink("/w/a");
    ev_unlink("/w/b");
    ev_open(ROOT, 3, "/w/b", O_WRONLY | O_CREAT, true, 35, 0);
    result();
    IN("/w/a");
    OUT("/w/b");
    DEL("/w/a");
}

static void test_zero_byte_write_is_not_output(void **state)
{
    (void)state;
    ev_open(ROOT, 3, "/w/a", O_WRONLY, false, 44, 10);
    ev_write(ROOT, 3, 0);
    result();
    IN(NONE);
    OUT(NONE);
    CHECKS("/w/a");
}

/* Pattern 20: `: > f` on a non-empty file -> out; `touch f` (open O_WRONLY|O_CREAT of an
 * existing file, then utimensat) -> no in, no out, only an end-of-job check. */
static void test_colon_redirect_and_touch(void **state)
{
    (void)state;
    ev_open(ROOT, 3, "/w/f", O_WRONLY | O_CREAT | O_TRUNC, false, 45, 10);
    ev_close(ROOT, 3);
    ev_open(ROOT, 3, "/w/t", O_WRONLY | O_CREAT | O_NOCTTY | O_NONBLOCK, false, 46, 10);
    ev_close(ROOT, 3);
    result();
    IN(NONE);
    OUT("/w/f");
    CHECKS("/w/t");
    assert_false(res.checks[0].unseen_writes);
}

/* A shared read-only mapping through a write-capable fd: mprotect may make it writable
 * without any event, so even a tracer that sees every write must check the file. */
static void test_shared_mapping_of_writable_fd_needs_the_check(void **state)
{
    (void)state;
    ev_open(ROOT, 3, "/w/m", O_RDWR, false, 63, 10);
    ev_mmap(ROOT, 3, PROT_READ, MAP_SHARED);
    ev_open(ROOT, 4, "/w/p", O_RDWR, false, 64, 10);
    ev_mmap(ROOT, 4, PROT_READ, MAP_PRIVATE);
    result();
    IN("/w/m", "/w/p");
    OUT(NONE);
    CHECKS("/w/m", "/w/p");
    assert_true(res.checks[0].unseen_writes);
    assert_false(res.checks[1].unseen_writes);
}

/* Issue 3 brief: a write-capable open with no visible write (stdio, fopen "a") is a
 * check candidate carrying its open-time id; when the collector finds it changed it
 * becomes in (old id) and out. */
static void test_invisible_write_check(void **state)
{
    roar_fdstate_hashreq r = {0};
    (void)state;
    ev_open(ROOT, 3, "/w/log", O_WRONLY | O_CREAT | O_APPEND, false, 47, 10);
    assert_int_equal(drain(&r, NULL, 0), 1);
    assert_int_equal(r.reason, ROAR_HASH_PREIMAGE);
    roar_fdstate_set_preimage(st, r.file, OLD_ID, 10);
    ev_close(ROOT, 3);
    result();
    IN(NONE);
    OUT(NONE);
    CHECKS("/w/log");
    assert_true(res.checks[0].id_known);
    assert_string_equal(res.checks[0].id, OLD_ID);
    assert_int_equal(res.checks[0].ident.ino, 47);

    roar_fdstate_resolve_check(st, res.checks[0].file);
    result();
    IN("/w/log");
    OUT("/w/log");
    CHECKS(NONE);
    assert_string_equal(res.inputs[0].id, OLD_ID);
}

/* ---- §4.2 names ----------------------------------------------------------- */

/* A file reached by two names is one file, recorded under the first name used. */
static void test_two_names_one_file(void **state)
{
    (void)state;
    ev_open(ROOT, 3, "/w/data/x.csv", O_RDONLY, false, 48, 5);
    ev_open(ROOT, 4, "/mnt/disk/x.csv", O_RDONLY, false, 48, 5);
    assert_ptr_equal(roar_fdstate_lookup_fd(st, ROOT, 3), roar_fdstate_lookup_fd(st, ROOT, 4));
    ev_open(ROOT, 5, "/mnt/disk/y.csv", O_RDWR, false, 49, 5);
    ev_open(ROOT, 6, "/w/data/y.csv", O_RDWR, false, 49, 5);
    ev_write(ROOT, 6, 3);
    result();
    IN("/mnt/disk/y.csv", "/w/data/x.csv");
    OUT("/mnt/disk/y.csv");
}

/* ---- §4.6 the preload round trip ------------------------------------------ */

static void test_about_to_destroy(void **state)
{
    roar_fdstate_hashreq r = {0};
    char path[256];
    (void)state;
    /* An input whose id is not known yet: wait. */
    ev_open(ROOT, 3, "/w/in", O_RDONLY, false, 80, 5);
    ev_destroy(ROAR_EV_OPEN, O_WRONLY | O_TRUNC, "/w/in", 80);
    assert_true(last_wait);
    drain(&r, NULL, 0);
    roar_fdstate_set_preimage(st, r.file, OLD_ID, 5);
    ev_destroy(ROAR_EV_OPEN, O_WRONLY | O_TRUNC, "/w/in", 80);
    assert_false(last_wait);

    /* Untouched files about to be truncated, unlinked or renamed over: no need. */
    ev_destroy(ROAR_EV_OPEN, O_WRONLY | O_TRUNC, "/w/x", 81);
    assert_false(last_wait);
    ev_destroy(ROAR_EV_UNLINK, 0, "/w/y", 82);
    assert_false(last_wait);
    assert_int_equal(drain(NULL, NULL, 0), 0);

    /* A write-capable open without O_TRUNC of an existing file: hash its pre-image. */
    ev_destroy(ROAR_EV_OPEN, O_WRONLY | O_APPEND, "/w/z", 83);
    assert_true(last_wait);
    assert_int_equal(drain(&r, path, sizeof(path)), 1);
    assert_int_equal(r.reason, ROAR_HASH_PREIMAGE);
    assert_string_equal(path, "/w/z");
    assert_int_equal(r.ident.ino, 83);

    /* A file the job created: its content is not pre-job, never wait. */
    ev_open(ROOT, 4, "/w/new", O_RDWR | O_CREAT, true, 84, 0);
    ev_destroy(ROAR_EV_TRUNCATE, 0, "/w/new", 84);
    assert_false(last_wait);
}

/* ---- §4.7 incomplete, and failed calls ------------------------------------ */

static void test_incomplete_and_failures(void **state)
{
    struct roar_event_hdr h = H(ROAR_EV_INCOMPLETE, ROOT);
    (void)state;
    h.flags = ROAR_INC_EVENTS_LOST;
    h.arg = 3;
    send(h, NULL, NULL);
    h.arg = 2;
    send(h, NULL, NULL);
    h.flags = ROAR_INC_STATIC_BINARY;
    h.arg = 0;
    send(h, "/bin/busybox", NULL);
    send(h, "/bin/busybox", NULL);

    h = H(ROAR_EV_OPEN, ROOT);
    h.ret = -2; /* ENOENT */
    h.flags = O_RDONLY;
    send(h, NULL, NULL);
    h = H(ROAR_EV_UNLINK, ROOT);
    h.ret = -13;
    send(h, "/w/kept", NULL);
    result();
    IN(NONE);
    OUT(NONE);
    DEL(NONE);
    assert_int_equal(res.incomplete_count, 2);
    assert_string_equal(res.incomplete[0].reason, "events-lost");
    assert_int_equal(res.incomplete[0].count, 5);
    assert_string_equal(res.incomplete[1].reason, "static-binary");
    assert_string_equal(res.incomplete[1].path, "/bin/busybox");
}

/* Only regular files count: directories, O_PATH and devices just occupy the fd. */
static void test_non_regular_opens(void **state)
{
    struct roar_event_hdr h = H(ROAR_EV_OPEN, ROOT);
    (void)state;
    ev_open(ROOT, 3, "/w/dir", O_RDONLY | O_DIRECTORY, false, 90, 0);
    ev_open(ROOT, 4, "/w/file", O_PATH, false, 91, 5);
    h.fd = h.ret = 5;
    h.flags = O_RDWR;
    ident(&h, 92, 0);
    h.mode = S_IFCHR | 0666;
    send(h, "/dev/null", NULL);
    ev_write(ROOT, 5, 10);
    assert_true(roar_fdstate_fd_is_open(st, ROOT, 3));
    assert_null(roar_fdstate_lookup_fd(st, ROOT, 3));
    result();
    IN(NONE);
    OUT(NONE);
    DEL(NONE);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown_res)
    const struct CMUnitTest tests[] = {
        T(test_read_only_open_is_input),
        T(test_input_without_hash_has_unknown_id),
        T(test_create_write_is_output),
        T(test_rdwr_creat_trunc_is_output_only),
        T(test_rdwr_trunc_then_read_or_mmap_is_output_only),
        T(test_read_then_inplace_write_is_in_and_out),
        T(test_append_is_in_and_out),
        T(test_truncate_to_zero_first_is_output_only),
        T(test_truncate_nonzero_after_write_open_is_in_and_out),
        T(test_read_after_own_write_is_not_input),
        T(test_exec_is_input_unless_created),
        T(test_copy_into_fd),
        T(test_mmap_shared_write_is_output),
        T(test_temp_then_rename_is_final_only),
        T(test_temp_link_unlink_is_final),
        T(test_tmpfile_then_linkat),
        T(test_create_then_unlink_is_nothing),
        T(test_unlink_preexisting_is_del),
        T(test_read_unlink_and_recreate),
        T(test_zero_byte_write_is_not_output),
        T(test_colon_redirect_and_touch),
        T(test_shared_mapping_of_writable_fd_needs_the_check),
        T(test_invisible_write_check),
        T(test_two_names_one_file),
        T(test_about_to_destroy),
        T(test_incomplete_and_failures),
        T(test_non_regular_opens),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
