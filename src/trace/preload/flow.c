/* Data that flows between the job's processes where the shim cannot follow it (SPEC
 * §4.9): shared memory and one process reaching into another. ROAR_EV_FLOW tells
 * fdstate to count the processes concerned as one. */
#include "trace/preload/shim.h"

#include <stdarg.h>
#include <sys/ptrace.h>
#include <sys/shm.h>
#include <sys/uio.h>

/* Once per process is enough: fdstate groups this process with what it forks from the
 * first event on (shared memory), or the whole job (ptrace). A fork child inherits the
 * flag with the parent's state, which fdstate already applies to it. */
static int shared_anon_sent;
static int shm_named_sent;
static int ptrace_sent;

static void flow(unsigned flags, pid_t other)
{
    struct roar_event_hdr h;
    roar_shim_hdr(&h, ROAR_EV_FLOW);
    h.flags = flags;
    h.pid2 = other > 0 ? (uint32_t)other : 0;
    roar_shim_emit(&h, NULL, NULL);
}

void roar_shim_flow_shared_anon(void)
{
    if (__atomic_exchange_n(&shared_anon_sent, 1, __ATOMIC_RELAXED))
        return;
    flow(ROAR_FLOW_SHARED_ANON, 0);
}

static void flow_ptrace(pid_t other)
{
    if (other == roar_shim_pid || __atomic_exchange_n(&ptrace_sent, 1, __ATOMIC_RELAXED))
        return;
    flow(ROAR_FLOW_PTRACE, other);
}

/* SysV shared memory: mapped like shared anonymous memory, and attachable by any
 * process that knows its key: fdstate counts every process that attaches one as one. */
ROAR_EXPORT void *shmat(int id, const void *addr, int flags)
{
    int saved;
    void *p;
    ROAR_REAL(shmat);
    if (!roar_shim_enter(&saved))
        return real_shmat(id, addr, flags);
    errno = saved;
    p = real_shmat(id, addr, flags);
    saved = errno;
    if (p != (void *)-1 && !__atomic_exchange_n(&shm_named_sent, 1, __ATOMIC_RELAXED))
        flow(ROAR_FLOW_SHARED_ANON | ROAR_FLOW_SHM_NAMED, 0);
    roar_shim_leave(saved);
    return p;
}

/* glibc reads pid, addr and data with va_arg whatever the request; so do we. */
ROAR_EXPORT long ptrace(enum __ptrace_request req, ...)
{
    va_list ap;
    pid_t pid;
    void *addr, *data;
    long rc;
    int saved;
    ROAR_REAL(ptrace);

    va_start(ap, req);
    pid = va_arg(ap, pid_t);
    addr = va_arg(ap, void *);
    data = va_arg(ap, void *);
    va_end(ap);
    if (!roar_shim_enter(&saved))
        return real_ptrace(req, pid, addr, data);
    errno = saved;
    rc = real_ptrace(req, pid, addr, data);
    saved = errno;
    /* The requests that start tracing, or write another process (peeks need one of
     * the first three before). */
    if (rc == 0 &&
        (req == PTRACE_TRACEME || req == PTRACE_ATTACH || req == PTRACE_SEIZE ||
         req == PTRACE_POKETEXT || req == PTRACE_POKEDATA || req == PTRACE_POKEUSER))
        flow_ptrace(req == PTRACE_TRACEME ? (pid_t)syscall(SYS_getppid) : pid);
    roar_shim_leave(saved);
    return rc;
}

#define VM_BODY(pid, CALL)                                                                \
    do {                                                                                  \
        int saved;                                                                        \
        ssize_t n;                                                                        \
        if (!roar_shim_enter(&saved))                                                     \
            return CALL;                                                                  \
        errno = saved;                                                                    \
        n = CALL;                                                                         \
        saved = errno;                                                                    \
        if (n >= 0)                                                                       \
            flow_ptrace(pid);                                                             \
        roar_shim_leave(saved);                                                           \
        return n;                                                                         \
    } while (0)

ROAR_EXPORT ssize_t process_vm_readv(pid_t pid, const struct iovec *local, unsigned long nl,
                                     const struct iovec *remote, unsigned long nr,
                                     unsigned long flags)
{
    ROAR_REAL(process_vm_readv);
    VM_BODY(pid, real_process_vm_readv(pid, local, nl, remote, nr, flags));
}

ROAR_EXPORT ssize_t process_vm_writev(pid_t pid, const struct iovec *local, unsigned long nl,
                                      const struct iovec *remote, unsigned long nr,
                                      unsigned long flags)
{
    ROAR_REAL(process_vm_writev);
    VM_BODY(pid, real_process_vm_writev(pid, local, nl, remote, nr, flags));
}
