/* Unit tests of fdstate's fd tables: fd reuse, stale entries, dup, fork, threads,
 * close-on-exec, inherited fds and pipelines. */
#include "fdstate_harness.h"

/* ---- fd tables ------------------------------------------------------------ */

/* Pattern 12: read A, close, pipe()/socket() reuse the fd number, write it -> A is not
 * an output. Also when the close was not seen (glibc-internal close in fclose). */
static void test_fd_reuse_by_pipe_or_socket(void **state)
{
    (void)state;
    ev_open(ROOT, 3, "/w/a", O_RDONLY, false, 50, 5);
    ev_read(ROOT, 3, 5);
    ev_close(ROOT, 3);
    ev_fdnew(ROOT, 3, 4); /* pipe */
    ev_write(ROOT, 3, 10);
    ev_write(ROOT, 4, 10);

    ev_open(ROOT, 5, "/w/b", O_RDONLY, false, 51, 5);
    ev_fdnew(ROOT, 5, -1); /* socket, no close event seen */
    ev_write(ROOT, 5, 10);
    assert_true(roar_fdstate_fd_is_open(st, ROOT, 5));
    assert_null(roar_fdstate_lookup_fd(st, ROOT, 5));
    result();
    IN("/w/a", "/w/b");
    OUT(NONE);
}

/* The shim's fstat on first write catches a reuse it missed: the identity wins. */
static void test_write_identity_overrides_stale_fd(void **state)
{
    struct roar_event_hdr h = H(ROAR_EV_WRITE, ROOT);
    (void)state;
    ev_open(ROOT, 3, "/w/a", O_RDONLY, false, 52, 5);
    h.fd = 3;
    h.ret = 10;
    ident(&h, 53, 0);
    send(h, "/w/b", NULL);
    result();
    IN("/w/a");
    OUT("/w/b");
}

/* The eBPF tracer sends no close records, so a closed fd's entry stays in the table:
 * a write whose identity is a pipe's, or a file the job never named, is not the stale
 * entry's file (nor is a linkat of that fd). */
static void test_stale_fd_write_to_pipe(void **state)
{
    struct roar_event_hdr h = H(ROAR_EV_WRITE, ROOT);
    (void)state;
    ev_open(ROOT, 3, "/w/a", O_RDONLY, false, 60, 5);
    h.fd = 3;
    h.ret = 10;
    ident(&h, 61, 0);
    h.mode = S_IFIFO | 0600;
    send(h, NULL, NULL);
    assert_null(roar_fdstate_lookup_fd(st, ROOT, 3));
    result();
    IN("/w/a");
    OUT(NONE);
}

static void test_stale_fd_write_to_unnamed_file(void **state)
{
    struct roar_event_hdr h = H(ROAR_EV_WRITE, ROOT);
    (void)state;
    ev_open(ROOT, 3, "/w/a", O_RDONLY, false, 62, 5);
    h.fd = 3;
    h.ret = 10;
    ident(&h, 63, 0);
    send(h, NULL, NULL);
    result();
    IN("/w/a");
    OUT(NONE);
}

static void test_stale_fd_linkat(void **state)
{
    struct roar_event_hdr h = H(ROAR_EV_LINK, ROOT);
    (void)state;
    ev_open(ROOT, 3, "/w/a", O_RDONLY, false, 64, 5);
    h.fd = 3;
    h.flags = AT_EMPTY_PATH;
    ident(&h, 65, 0);
    send(h, NULL, "/w/made");
    result();
    IN("/w/a");
    OUT(NONE);
}

/* Pattern 13: dup2 onto a closed fd number, then write -> the right file; a dup'd fd
 * shares the open file description. */
static void test_dup2_then_write(void **state)
{
    (void)state;
    ev_open(ROOT, 3, "/w/in", O_RDONLY, false, 54, 5);
    ev_close(ROOT, 1);
    ev_open(ROOT, 4, "/w/out", O_WRONLY | O_CREAT | O_TRUNC, true, 55, 0);
    ev_dup(ROOT, 4, 1, 0);
    ev_close(ROOT, 4);
    ev_write(ROOT, 1, 10);
    /* dup2 over an fd naming a read file: the read file is not charged */
    ev_dup(ROOT, 1, 3, 0);
    ev_write(ROOT, 3, 10);
    result();
    IN("/w/in");
    OUT("/w/out");
}

/* fork copies the table: a close in the parent does not close the child's fd. */
static void test_fork_copies_table(void **state)
{
    (void)state;
    ev_open(ROOT, 4, "/w/out", O_WRONLY | O_CREAT | O_TRUNC, true, 56, 0);
    ev_fork(ROOT, 200, 0);
    ev_close(ROOT, 4);
    assert_false(roar_fdstate_fd_is_open(st, ROOT, 4));
    assert_true(roar_fdstate_fd_is_open(st, 200, 4));
    ev_open(200, 5, "/w/child-only", O_RDONLY, false, 57, 1);
    assert_false(roar_fdstate_fd_is_open(st, ROOT, 5));
    ev_write(200, 4, 10);
    result();
    IN("/w/child-only");
    OUT("/w/out");
}

/* Threads share the table (their events carry the tgid); CLONE_FILES processes too. */
static void test_threads_and_clone_files_share(void **state)
{
    struct roar_event_hdr h;
    (void)state;
    ev_fork(ROOT, 101, CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD);
    h = H(ROAR_EV_OPEN, ROOT);
    h.tid = 101; /* opened in the second thread */
    h.fd = h.ret = 3;
    h.flags = O_RDONLY;
    ident(&h, 58, 5);
    send(h, "/w/a", NULL);
    ev_read(ROOT, 3, 5); /* read in the main thread */
    assert_non_null(roar_fdstate_lookup_fd(st, ROOT, 3));

    ev_fork(ROOT, 300, CLONE_FILES);
    ev_close(300, 3);
    assert_false(roar_fdstate_fd_is_open(st, ROOT, 3));
    result();
    IN("/w/a");
}

/* exec drops close-on-exec fds (O_CLOEXEC, F_SETFD, dup3 O_CLOEXEC), keeps the rest,
 * and unshares a CLONE_FILES table first. */
static void test_exec_drops_cloexec(void **state)
{
    struct roar_event_hdr h = H(ROAR_EV_SETFD, ROOT);
    (void)state;
    ev_open(ROOT, 3, "/w/a", O_RDONLY | O_CLOEXEC, false, 59, 5);
    ev_open(ROOT, 4, "/w/b", O_RDONLY, false, 60, 5);
    ev_open(ROOT, 5, "/w/c", O_RDONLY, false, 61, 5);
    h.fd = 5;
    h.flags = FD_CLOEXEC;
    send(h, NULL, NULL);
    ev_dup(ROOT, 4, 6, O_CLOEXEC);
    ev_fork(ROOT, 400, CLONE_FILES);
    ev_exec(ROOT, "/usr/bin/prog", 62);
    assert_false(roar_fdstate_fd_is_open(st, ROOT, 3));
    assert_true(roar_fdstate_fd_is_open(st, ROOT, 4));
    assert_false(roar_fdstate_fd_is_open(st, ROOT, 5));
    assert_false(roar_fdstate_fd_is_open(st, ROOT, 6));
    /* the process that shared the table before the exec keeps all four */
    assert_true(roar_fdstate_fd_is_open(st, 400, 3));
    assert_true(roar_fdstate_fd_is_open(st, 400, 6));
    result();
    IN("/usr/bin/prog", "/w/a", "/w/b", "/w/c");
}

/* Pattern 16 / §4.1: fds inherited by the root count as opens; `exec 3<f; cat <&3`
 * follows the fd through fork, dup2 and exec; `> out` redirection (the shell truncated
 * out before the job) gives out only, `>> log` gives in and out. */
static void test_inherited_fds(void **state)
{
    (void)state;
    ev_inherit(ROOT, 0, "/w/raw.csv", O_RDONLY, 63, 100);
    ev_inherit(ROOT, 1, "/w/data.csv", O_WRONLY, 64, 0);
    ev_inherit(ROOT, 2, "/w/log", O_WRONLY | O_APPEND, 65, 50);
    ev_write(ROOT, 1, 10);
    ev_write(ROOT, 2, 10);
    ev_open(ROOT, 3, "/w/f", O_RDONLY, false, 66, 5);
    ev_fork(ROOT, 500, 0);
    ev_dup(500, 3, 0, 0);
    ev_exec(500, "/usr/bin/cat", 67);
    assert_ptr_equal(roar_fdstate_lookup_fd(st, 500, 0), roar_fdstate_lookup_path(st, "/w/f"));
    ev_read(500, 0, 5);
    result();
    IN("/usr/bin/cat", "/w/f", "/w/log", "/w/raw.csv");
    OUT("/w/data.csv", "/w/log");
}

/* Pattern 15: `cat a | tr a-z A-Z | sort > out` as fork/pipe/dup2/exec events. */
static void test_pipeline(void **state)
{
    (void)state;
    ev_fdnew(ROOT, 3, 4);
    ev_fdnew(ROOT, 5, 6);
    ev_fork(ROOT, 601, 0);
    ev_dup(601, 4, 1, 0);
    ev_exec(601, "/usr/bin/cat", 70);
    ev_open(601, 7, "/w/a", O_RDONLY, false, 71, 5);
    ev_read(601, 7, 5);
    ev_write(601, 1, 5);
    ev_fork(ROOT, 602, 0);
    ev_dup(602, 3, 0, 0);
    ev_dup(602, 6, 1, 0);
    ev_exec(602, "/usr/bin/tr", 72);
    ev_read(602, 0, 5);
    ev_write(602, 1, 5);
    ev_open(ROOT, 8, "/w/out", O_WRONLY | O_CREAT | O_TRUNC, true, 73, 0);
    ev_fork(ROOT, 603, 0);
    ev_dup(603, 5, 0, 0);
    ev_dup(603, 8, 1, 0);
    ev_exec(603, "/usr/bin/sort", 74);
    ev_read(603, 0, 5);
    ev_write(603, 1, 5);
    result();
    IN("/usr/bin/cat", "/usr/bin/sort", "/usr/bin/tr", "/w/a");
    OUT("/w/out");
}

/* ---- early hashing (issue 19): when the job's writers are done with a file ---- */

static bool next_written(const char *path, roar_fdstate_written *w)
{
    if (!roar_fdstate_next_written(st, w))
        return false;
    assert_string_equal(w->path, path);
    return true;
}

/* Only the last write-capable description's end queues the file: a dup and a forked
 * child keep it open; the child's exit ends it. A read-only open never queues. */
static void test_written_after_last_writer(void **state)
{
    roar_fdstate_written w;
    struct roar_event_hdr h;
    (void)state;
    ev_open(ROOT, 3, "/w/in", O_RDONLY, false, 70, 5);
    ev_close(ROOT, 3);
    assert_false(roar_fdstate_next_written(st, &w));
    ev_open(ROOT, 4, "/w/out", O_WRONLY | O_CREAT | O_TRUNC, true, 71, 0);
    ev_write(ROOT, 4, 10);
    ev_dup(ROOT, 4, 5, 0);
    ev_fork(ROOT, 200, 0);
    ev_close(ROOT, 4);
    ev_close(ROOT, 5);
    assert_false(roar_fdstate_next_written(st, &w));
    h = H(ROAR_EV_EXIT, 200);
    send(h, NULL, NULL);
    assert_true(next_written("/w/out", &w));
    assert_int_equal(w.ino, 71);
    assert_true(roar_fdstate_unwritten_since(w.file, w.write_gen));
    assert_false(roar_fdstate_next_written(st, &w));
}

/* A reopen for writing (or a truncate by name) after the hash makes it stale; the
 * second close queues the file again. */
static void test_written_reopen_is_stale(void **state)
{
    roar_fdstate_written w, again;
    (void)state;
    ev_open(ROOT, 4, "/w/out", O_WRONLY | O_CREAT | O_TRUNC, true, 72, 0);
    ev_write(ROOT, 4, 10);
    ev_close(ROOT, 4);
    assert_true(next_written("/w/out", &w));
    ev_open(ROOT, 4, "/w/out", O_WRONLY | O_APPEND, false, 72, 10);
    assert_false(roar_fdstate_unwritten_since(w.file, w.write_gen));
    ev_close(ROOT, 4);
    assert_false(roar_fdstate_unwritten_since(w.file, w.write_gen));
    assert_true(next_written("/w/out", &again));
    assert_true(roar_fdstate_unwritten_since(again.file, again.write_gen));
    ev_path2(ROAR_EV_TRUNCATE, "/w/out", NULL, 0);
    assert_false(roar_fdstate_unwritten_since(again.file, again.write_gen));
}

/* The eBPF tracer sends no closes: an open that takes the fd's number ends the old
 * description, and with it the old file's writer. */
static void test_written_on_fd_reuse(void **state)
{
    roar_fdstate_written w;
    (void)state;
    ev_open(ROOT, 3, "/w/shard-1", O_WRONLY | O_CREAT | O_TRUNC, true, 73, 0);
    ev_write(ROOT, 3, 10);
    ev_open(ROOT, 3, "/w/shard-2", O_WRONLY | O_CREAT | O_TRUNC, true, 74, 0);
    assert_true(next_written("/w/shard-1", &w));
    assert_false(roar_fdstate_next_written(st, &w));
}

/* A shared mapping through a write-capable fd writes on after every close: never
 * queued, and an earlier request stops standing. */
static void test_written_never_when_mapped_shared(void **state)
{
    roar_fdstate_written w, none;
    (void)state;
    ev_open(ROOT, 4, "/w/out", O_RDWR | O_CREAT | O_TRUNC, true, 75, 0);
    ev_write(ROOT, 4, 10);
    ev_close(ROOT, 4);
    assert_true(next_written("/w/out", &w));
    ev_open(ROOT, 4, "/w/out", O_RDWR, false, 75, 10);
    ev_mmap(ROOT, 4, PROT_READ | PROT_WRITE, MAP_SHARED);
    ev_close(ROOT, 4);
    assert_false(roar_fdstate_next_written(st, &none));
    assert_false(roar_fdstate_unwritten_since(w.file, w.write_gen));
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown_res)
    const struct CMUnitTest tests[] = {
        T(test_fd_reuse_by_pipe_or_socket),
        T(test_write_identity_overrides_stale_fd),
        T(test_stale_fd_write_to_pipe),
        T(test_stale_fd_write_to_unnamed_file),
        T(test_stale_fd_linkat),
        T(test_dup2_then_write),
        T(test_fork_copies_table),
        T(test_threads_and_clone_files_share),
        T(test_exec_drops_cloexec),
        T(test_inherited_fds),
        T(test_pipeline),
        T(test_written_after_last_writer),
        T(test_written_reopen_is_stale),
        T(test_written_on_fd_reuse),
        T(test_written_never_when_mapped_shared),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
