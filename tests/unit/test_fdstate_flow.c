/* Unit tests of fdstate's data flow (SPEC §4.9): what each output depends on, through
 * forks, pipes, socket pairs, files the job wrote, shared memory and the fallbacks. */
#include "fdstate_harness.h"

#include <sched.h>

#define CAT_INO 900
#define PIPE_INO 77

/* A pipe or socket pair made by pid (fd, fd2), with the given ROAR_FDNEW_F_* flags; a
 * pipe carries its inode's identity. */
static void ev_pair(uint32_t pid, int fd, int fd2, uint64_t flags, bool pipe)
{
    struct roar_event_hdr h = H(ROAR_EV_FDNEW, pid);
    h.fd = fd;
    h.fd2 = fd2;
    h.flags = flags;
    if (pipe) {
        ident(&h, PIPE_INO, 0);
        h.mode = S_IFIFO | 0600;
    }
    send(h, NULL, NULL);
}

static void ev_opaque(uint32_t pid, int fd)
{
    struct roar_event_hdr h = H(ROAR_EV_FDNEW, pid);
    h.fd = fd;
    h.flags = ROAR_FDNEW_F_OPAQUE;
    send(h, NULL, NULL);
}

static void ev_flow(uint32_t pid, uint64_t flags)
{
    struct roar_event_hdr h = H(ROAR_EV_FLOW, pid);
    h.flags = flags;
    send(h, NULL, NULL);
}

/* A read by identity (fd -1), as the eBPF tracer sends a pipe read. */
static void ev_read_ident(uint32_t pid, uint64_t ino)
{
    struct roar_event_hdr h = H(ROAR_EV_READ, pid);
    h.ret = 1;
    ident(&h, ino, 0);
    h.mode = S_IFIFO | 0600;
    send(h, NULL, NULL);
}

static void ev_exit(uint32_t pid)
{
    struct roar_event_hdr h = H(ROAR_EV_EXIT, pid);
    send(h, NULL, NULL);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The inputs the output `path` depends on, as "a,b" (base names, sorted), "ALL" or
 * "?". */
static const char *deps(const char *path)
{
    static char buf[512];
    const char *names[32];
    size_t i, j;
    buf[0] = '\0';
    assert_true(res.steps_known);
    for (i = 0; i < res.output_count; i++) {
        const roar_fdstate_entry *o = &res.outputs[i];
        if (strcmp(o->path, path) != 0)
            continue;
        if (o->deps_all)
            return "ALL";
        assert_true(o->dep_count <= 32);
        for (j = 0; j < o->dep_count; j++) {
            const char *in = res.inputs[o->deps[j]].path, *base = strrchr(in, '/');
            names[j] = base ? base + 1 : in;
            if (j)
                assert_true(o->deps[j - 1] < o->deps[j]); /* sorted, unique */
        }
        qsort(names, o->dep_count, sizeof(names[0]), cmp_str);
        for (j = 0; j < o->dep_count; j++) {
            if (j)
                strcat(buf, ",");
            strcat(buf, names[j]);
        }
        return buf;
    }
    return "?";
}

/* `cat in > out` in process pid, forked from parent: the child opens its output
 * (the shell's redirection), execs cat, reads in, exits. */
static void cat_to(uint32_t parent, uint32_t pid, const char *in, uint64_t in_ino,
                   const char *out)
{
    ev_fork(parent, pid, 0);
    ev_open(pid, 1, out, O_WRONLY | O_CREAT | O_TRUNC, true, 0, 0);
    ev_exec(pid, "/bin/cat", CAT_INO);
    ev_open(pid, 3, in, O_RDONLY, false, in_ino, 5);
    ev_write(pid, 1, 5);
    ev_exit(pid);
}

/* sh -c 'cat a | sort > a.out; cat b > b.out', as dash runs it. */
static void shell_pipeline(uint64_t pair_flags, bool reads_by_ident)
{
    ev_pair(ROOT, 3, 4, pair_flags, true);
    ev_fork(ROOT, 101, 0); /* cat a */
    ev_dup(101, 4, 1, 0);
    ev_close(101, 3);
    ev_close(101, 4);
    ev_exec(101, "/bin/cat", CAT_INO);
    ev_open(101, 3, "/w/a", O_RDONLY, false, 10, 5);
    ev_write(101, 1, 5);
    ev_fork(ROOT, 102, 0); /* sort > a.out */
    ev_dup(102, 3, 0, 0);
    ev_close(102, 3);
    ev_close(102, 4);
    ev_open(102, 1, "/w/a.out", O_WRONLY | O_CREAT | O_TRUNC, true, 0, 0);
    ev_exec(102, "/usr/bin/sort", 901);
    if (reads_by_ident)
        ev_read_ident(102, PIPE_INO);
    else
        ev_read(102, 0, 5);
    ev_write(102, 1, 5);
    ev_close(ROOT, 3);
    ev_close(ROOT, 4);
    ev_exit(101);
    ev_exit(102);
    cat_to(ROOT, 103, "/w/b", 11, "/w/b.out");
}

static void test_pipeline_and_separate_step(void **state)
{
    (void)state;
    shell_pipeline(ROAR_FDNEW_F_PAIR | ROAR_FDNEW_F_READS_SEEN, false);
    result();
    OUT("/w/a.out", "/w/b.out");
    assert_string_equal(deps("/w/a.out"), "a,cat,sort");
    assert_string_equal(deps("/w/b.out"), "b,cat");
}

/* The eBPF tracer's pipe reads come by identity, without the fd. */
static void test_pipeline_reads_by_identity(void **state)
{
    (void)state;
    shell_pipeline(ROAR_FDNEW_F_PAIR | ROAR_FDNEW_F_READS_SEEN, true);
    result();
    assert_string_equal(deps("/w/a.out"), "a,cat,sort");
    assert_string_equal(deps("/w/b.out"), "b,cat");
}

/* The shim's first write through a pipe carries the pipe's identity: the end stays the
 * channel it is (it was once taken for a stale entry and replaced, losing the flow). */
static void test_write_with_pipe_identity_keeps_the_channel(void **state)
{
    struct roar_event_hdr h;
    (void)state;
    ev_pair(ROOT, 3, 4, ROAR_FDNEW_F_PAIR | ROAR_FDNEW_F_READS_SEEN, true);
    ev_fork(ROOT, 101, 0);
    ev_close(101, 4);
    ev_read(101, 3, 5);
    ev_open(101, 5, "/w/out", O_WRONLY | O_CREAT | O_TRUNC, true, 0, 0);
    ev_exit(101);
    h = H(ROAR_EV_WRITE, ROOT);
    h.fd = 4;
    h.ret = 5;
    ident(&h, PIPE_INO, 0);
    h.mode = S_IFIFO | 0600;
    send(h, NULL, NULL);
    ev_open(ROOT, 6, "/w/a", O_RDONLY, false, 10, 5); /* still holding the write end */
    ev_close(ROOT, 4);
    ev_exit(ROOT);
    result();
    assert_string_equal(deps("/w/out"), "a");
}

/* Without reads reported, the shell holding the read end may have read it: what it
 * forks afterwards gets the pipe's data. Wider, never narrower. */
static void test_pipeline_reads_unseen_is_conservative(void **state)
{
    (void)state;
    shell_pipeline(ROAR_FDNEW_F_PAIR, false);
    result();
    assert_string_equal(deps("/w/a.out"), "a,cat,sort");
    assert_string_equal(deps("/w/b.out"), "a,b,cat");
}

/* A parent's reads after a fork are not the child's; the child's are its own. */
static void test_fork_takes_what_was_read_before(void **state)
{
    (void)state;
    ev_open(ROOT, 3, "/w/before", O_RDONLY, false, 10, 5);
    ev_fork(ROOT, 101, 0);
    ev_open(ROOT, 4, "/w/after", O_RDONLY, false, 11, 5);
    ev_open(101, 5, "/w/out", O_WRONLY | O_CREAT | O_TRUNC, true, 0, 0);
    ev_write(101, 5, 1);
    ev_exit(101);
    ev_open(ROOT, 6, "/w/root.out", O_WRONLY | O_CREAT | O_TRUNC, true, 0, 0);
    ev_write(ROOT, 6, 1);
    result();
    assert_string_equal(deps("/w/out"), "before");
    /* the root still holds root.out at the end: everything it read reaches it */
    assert_string_equal(deps("/w/root.out"), "after,before");
}

/* An input read after the output was let go of is not a dependency; read while the
 * output is still held (the eBPF tracer sees no close) it is. */
static void test_read_after_write(void **state)
{
    (void)state;
    ev_open(ROOT, 3, "/w/first", O_RDONLY, false, 10, 5);
    ev_open(ROOT, 4, "/w/out1", O_WRONLY | O_CREAT | O_TRUNC, true, 0, 0);
    ev_write(ROOT, 4, 1);
    ev_close(ROOT, 4);
    ev_open(ROOT, 5, "/w/late", O_RDONLY, false, 11, 5);
    ev_open(ROOT, 6, "/w/out2", O_WRONLY | O_CREAT | O_TRUNC, true, 0, 0);
    ev_write(ROOT, 6, 1);
    ev_open(ROOT, 7, "/w/later", O_RDONLY, false, 12, 5);
    ev_exit(ROOT);
    result();
    assert_string_equal(deps("/w/out1"), "first");
    assert_string_equal(deps("/w/out2"), "first,late,later");
}

/* The eBPF tracer sends no close: a reused fd number lets go of the old file. */
static void test_fd_reuse_lets_go(void **state)
{
    (void)state;
    ev_open(ROOT, 3, "/w/out", O_WRONLY | O_CREAT | O_TRUNC, true, 0, 0);
    ev_write(ROOT, 3, 1);
    ev_open(ROOT, 3, "/w/late", O_RDONLY, false, 11, 5);
    ev_exit(ROOT);
    result();
    assert_string_equal(deps("/w/out"), "");
}

/* Data through a file the job wrote and read (a temporary), then deleted. */
static void test_through_a_temporary(void **state)
{
    (void)state;
    cat_to(ROOT, 101, "/w/a", 10, "/tmp/t");
    ev_fork(ROOT, 102, 0);
    ev_exec(102, "/bin/cat", CAT_INO);
    ev_open(102, 3, "/tmp/t", O_RDONLY, false, 0, 0);
    ev_open(102, 4, "/w/out", O_WRONLY | O_CREAT | O_TRUNC, true, 0, 0);
    ev_write(102, 4, 5);
    ev_exit(102);
    ev_unlink("/tmp/t");
    cat_to(ROOT, 103, "/w/b", 11, "/w/other");
    result();
    OUT("/w/other", "/w/out");
    assert_string_equal(deps("/w/out"), "a,cat");
    assert_string_equal(deps("/w/other"), "b,cat");
}

/* An edit in place depends on the file's own old content. */
static void test_in_place_edit_depends_on_itself(void **state)
{
    (void)state;
    ev_open(ROOT, 3, "/w/f", O_RDWR, false, 10, 5);
    ev_write(ROOT, 3, 5);
    ev_exit(ROOT);
    result();
    assert_string_equal(deps("/w/f"), "f");
}

/* Shared anonymous memory mapped before the forks: the children count as one. */
static void test_shared_anonymous_memory(void **state)
{
    (void)state;
    ev_flow(ROOT, ROAR_FLOW_SHARED_ANON);
    cat_to(ROOT, 101, "/w/a", 10, "/w/a.out");
    cat_to(ROOT, 102, "/w/b", 11, "/w/b.out");
    result();
    assert_string_equal(deps("/w/a.out"), "a,b,cat");
    assert_string_equal(deps("/w/b.out"), "a,b,cat");
}

/* Processes holding opaque ends (sockets) count as one; the others stay apart. */
static void test_opaque_ends(void **state)
{
    (void)state;
    ev_fork(ROOT, 101, 0);
    ev_opaque(101, 9);
    ev_open(101, 3, "/w/a", O_RDONLY, false, 10, 5);
    ev_open(101, 4, "/w/a.out", O_WRONLY | O_CREAT | O_TRUNC, true, 0, 0);
    ev_exit(101);
    ev_fork(ROOT, 102, 0);
    ev_opaque(102, 9);
    ev_open(102, 3, "/w/b", O_RDONLY, false, 11, 5);
    ev_open(102, 4, "/w/b.out", O_WRONLY | O_CREAT | O_TRUNC, true, 0, 0);
    ev_exit(102);
    cat_to(ROOT, 103, "/w/c", 12, "/w/c.out");
    result();
    assert_string_equal(deps("/w/a.out"), "a,b");
    assert_string_equal(deps("/w/b.out"), "a,b");
    assert_string_equal(deps("/w/c.out"), "c,cat");
}

/* A socket pair whose reads are not reported: both ends hold everything. */
static void test_socket_pair_without_reads(void **state)
{
    (void)state;
    ev_pair(ROOT, 3, 4, ROAR_FDNEW_F_PAIR, false);
    ev_fork(ROOT, 101, 0);
    ev_open(101, 5, "/w/a", O_RDONLY, false, 10, 5);
    ev_exit(101);
    ev_open(ROOT, 6, "/w/out", O_WRONLY | O_CREAT | O_TRUNC, true, 0, 0);
    ev_exit(ROOT);
    result();
    assert_string_equal(deps("/w/out"), "a");
}

/* clone(CLONE_VM): one address space until the child execs or exits; what the child
 * read before reaches the parent, what it reads after does not (vfork, posix_spawn). */
static void test_clone_vm_until_exec(void **state)
{
    (void)state;
    ev_fork(ROOT, 101, CLONE_VM);
    ev_open(101, 3, "/w/before-exec", O_RDONLY, false, 10, 5);
    ev_exec(101, "/bin/cat", CAT_INO);
    ev_open(101, 4, "/w/after-exec", O_RDONLY, false, 11, 5);
    ev_exit(101);
    ev_fork(ROOT, 102, CLONE_VM);
    ev_open(102, 3, "/w/before-exit", O_RDONLY, false, 12, 5);
    ev_exit(102);
    ev_open(ROOT, 4, "/w/out", O_WRONLY | O_CREAT | O_TRUNC, true, 0, 0);
    ev_exit(ROOT);
    result();
    assert_string_equal(deps("/w/out"), "before-exec,before-exit");
}

/* A pipe the job never saw made (popen's): reading or writing it counts as an opaque
 * end; so does attaching SysV shared memory, which any process may attach by name. */
static void test_unknown_channels_and_named_shm(void **state)
{
    struct roar_event_hdr h;
    (void)state;
    ev_fork(ROOT, 101, 0);
    ev_open(101, 3, "/w/a", O_RDONLY, false, 10, 5);
    h = H(ROAR_EV_WRITE, 101); /* a write to fd 1, which fstat says is a pipe */
    h.fd = 1;
    h.ret = 5;
    ident(&h, 555, 0);
    h.mode = S_IFIFO | 0600;
    send(h, NULL, NULL);
    ev_exit(101);
    ev_read(ROOT, 7, 5); /* an fd the job never saw */
    ev_open(ROOT, 4, "/w/out", O_WRONLY | O_CREAT | O_TRUNC, true, 0, 0);
    ev_exit(ROOT);
    cat_to(ROOT + 1, 102, "/w/b", 11, "/w/b.out"); /* apart from both */
    result();
    assert_string_equal(deps("/w/out"), "a");
    assert_string_equal(deps("/w/b.out"), "b,cat");

    teardown(NULL);
    setup(NULL);
    ev_fork(ROOT, 101, 0);
    ev_flow(101, ROAR_FLOW_SHARED_ANON | ROAR_FLOW_SHM_NAMED);
    ev_open(101, 3, "/w/a", O_RDONLY, false, 10, 5);
    ev_exit(101);
    ev_fork(ROOT, 102, 0);
    ev_flow(102, ROAR_FLOW_SHARED_ANON | ROAR_FLOW_SHM_NAMED);
    ev_open(102, 4, "/w/out", O_WRONLY | O_CREAT | O_TRUNC, true, 0, 0);
    ev_exit(102);
    result();
    assert_string_equal(deps("/w/out"), "a");
}

/* Fallbacks: ptrace, lost events, any gap: no steps at all. */
static void test_fallbacks_have_no_steps(void **state)
{
    struct roar_event_hdr h;
    (void)state;
    cat_to(ROOT, 101, "/w/a", 10, "/w/a.out");
    result();
    assert_true(res.steps_known);
    ev_flow(ROOT, ROAR_FLOW_PTRACE);
    result();
    assert_false(res.steps_known);

    teardown(NULL);
    setup(NULL);
    cat_to(ROOT, 101, "/w/a", 10, "/w/a.out");
    h = H(ROAR_EV_INCOMPLETE, ROOT);
    h.flags = ROAR_INC_EVENTS_LOST;
    h.arg = 3;
    send(h, NULL, NULL);
    result();
    assert_false(res.steps_known);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown_res)
    const struct CMUnitTest tests[] = {
        T(test_pipeline_and_separate_step),
        T(test_pipeline_reads_by_identity),
        T(test_pipeline_reads_unseen_is_conservative),
        T(test_write_with_pipe_identity_keeps_the_channel),
        T(test_fork_takes_what_was_read_before),
        T(test_read_after_write),
        T(test_fd_reuse_lets_go),
        T(test_through_a_temporary),
        T(test_in_place_edit_depends_on_itself),
        T(test_shared_anonymous_memory),
        T(test_opaque_ends),
        T(test_socket_pair_without_reads),
        T(test_clone_vm_until_exec),
        T(test_unknown_channels_and_named_shm),
        T(test_fallbacks_have_no_steps),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
