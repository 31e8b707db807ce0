/* Unit tests of the eBPF tracer's contract with the kernel that need no BPF: the record
 * layouts and the kernel constants roar_bpf.h spells out (its kernel side cannot include
 * the C library's headers), and a build without the tracer saying so. The conversion of
 * kernel records is test_ebpf.c's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <fcntl.h>
#include <linux/close_range.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "trace/ebpf/loader.h"
#include "trace/ebpf/roar_bpf.h"
#include "trace/event.h"
#include "util/err.h"

/* ---- the constants ----------------------------------------------------------------- */

static void test_layout(void **state)
{
    (void)state;
    assert_int_equal(sizeof(struct roar_bpf_event), ROAR_BPF_EVENT_SIZE);
    assert_int_equal(sizeof(struct roar_bpf_fdset), ROAR_BPF_FDSET_SIZE);
    assert_int_equal(offsetof(struct roar_bpf_event, h), 0);
    assert_int_equal(sizeof(struct roar_bpf_event) % 8, 0);
}

static void test_kernel_values(void **state)
{
    (void)state;
    assert_int_equal(ROAR_BPF_AT_FDCWD, AT_FDCWD);
    assert_int_equal(ROAR_BPF_AT_EMPTY_PATH, AT_EMPTY_PATH);
    assert_int_equal(ROAR_BPF_AT_REMOVEDIR, AT_REMOVEDIR);
    assert_int_equal(ROAR_BPF_O_WRONLY, O_WRONLY);
    assert_int_equal(ROAR_BPF_O_CREAT, O_CREAT);
    assert_int_equal(ROAR_BPF_O_TRUNC, O_TRUNC);
    assert_int_equal(ROAR_BPF_O_CLOEXEC, O_CLOEXEC);
    assert_int_equal(ROAR_BPF_FD_CLOEXEC, FD_CLOEXEC);
    assert_int_equal(ROAR_BPF_F_DUPFD, F_DUPFD);
    assert_int_equal(ROAR_BPF_F_SETFD, F_SETFD);
    assert_int_equal(ROAR_BPF_F_DUPFD_CLOEXEC, F_DUPFD_CLOEXEC);
    assert_int_equal(ROAR_BPF_F_SETFL, F_SETFL);
    assert_int_equal(ROAR_BPF_O_APPEND, O_APPEND);
    assert_int_equal(ROAR_BPF_RWF_NOAPPEND, RWF_NOAPPEND);
    assert_int_equal(ROAR_BPF_MAP_ANONYMOUS, MAP_ANONYMOUS);
    assert_int_equal(ROAR_BPF_MAP_SHARED, MAP_SHARED);
    assert_int_equal(ROAR_BPF_MAP_SHARED_VALIDATE, MAP_SHARED_VALIDATE);
    assert_int_equal(ROAR_BPF_MAP_TYPE, MAP_TYPE);
    assert_int_equal(ROAR_BPF_PTRACE_TRACEME, PTRACE_TRACEME);
    assert_int_equal(ROAR_BPF_PTRACE_ATTACH, PTRACE_ATTACH);
    assert_int_equal(ROAR_BPF_PTRACE_SEIZE, PTRACE_SEIZE);
    assert_int_equal(ROAR_BPF_CLOSE_RANGE_CLOEXEC, CLOSE_RANGE_CLOEXEC);
    assert_int_equal(ROAR_BPF_CLONE_VM, CLONE_VM);
    assert_int_equal(ROAR_BPF_CLONE_FS, CLONE_FS);
    assert_int_equal(ROAR_BPF_CLONE_FILES, CLONE_FILES);
    assert_int_equal(ROAR_BPF_CLONE_VFORK, CLONE_VFORK);
    assert_int_equal(ROAR_BPF_CLONE_THREAD, CLONE_THREAD);
    assert_int_equal(ROAR_BPF_S_IFMT, S_IFMT);
    assert_int_equal(ROAR_BPF_S_IFREG, S_IFREG);
}

static void test_syscall_numbers(void **state)
{
    static const struct {
        int ours, libc;
        const char *name;
    } nr[] = {
#define NR(x) {ROAR_NR_##x, SYS_##x, #x}
        NR(read),          NR(write),          NR(open),          NR(close),
        NR(mmap),          NR(pread64),        NR(pwrite64),      NR(readv),
        NR(writev),        NR(pipe),           NR(dup),           NR(dup2),
        NR(sendfile),      NR(socket),         NR(accept),        NR(socketpair),
        NR(fcntl),         NR(truncate),       NR(ftruncate),     NR(chdir),
        NR(fchdir),        NR(rename),         NR(rmdir),         NR(creat),
        NR(link),          NR(unlink),         NR(epoll_create),  NR(inotify_init),
        NR(openat),        NR(unlinkat),       NR(renameat),      NR(linkat),
        NR(splice),        NR(signalfd),       NR(timerfd_create), NR(eventfd),
        NR(fallocate),     NR(accept4),        NR(signalfd4),     NR(eventfd2),
        NR(epoll_create1), NR(dup3),           NR(pipe2),         NR(inotify_init1),
        NR(preadv),        NR(pwritev),        NR(perf_event_open), NR(fanotify_init),
        NR(open_by_handle_at), NR(renameat2),  NR(memfd_create),  NR(userfaultfd),
        NR(copy_file_range), NR(preadv2),      NR(pwritev2),      NR(io_uring_setup), NR(io_setup),
        NR(pidfd_open),    NR(close_range),    NR(openat2),       NR(pidfd_getfd),
        NR(memfd_secret),  NR(shmat),          NR(sendto),        NR(recvfrom),
        NR(sendmsg),       NR(recvmsg),        NR(ptrace),        NR(tee),
        NR(vmsplice),      NR(recvmmsg),       NR(sendmmsg),      NR(process_vm_readv),
        NR(process_vm_writev),
#undef NR
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(nr) / sizeof(nr[0]); i++) {
        if (nr[i].ours != nr[i].libc)
            fail_msg("syscall %s: roar_bpf.h says %d, the C library %d", nr[i].name, nr[i].ours,
                     nr[i].libc);
    }
}

static void test_not_loadable_without_the_build(void **state)
{
    roar_ebpf *t = (roar_ebpf *)1;
    (void)state;
    if (roar_ebpf_built())
        skip();
    assert_int_equal(roar_ebpf_open(&t, NULL), ROAR_EUNSUPPORTED);
    assert_null(t);
    assert_non_null(strstr(roar_error_last(), "not built"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_kernel_values),
        cmocka_unit_test(test_syscall_numbers),
        cmocka_unit_test(test_not_loadable_without_the_build),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
