/* flow.bpf.h: the data-flow system calls of SPEC §4.9: pipe and socket
 * pairs, shared memory, ptrace, process_vm_*, vmsplice.
 * Part of roar.bpf.c, included once at its place there: it leans on what the file
 * defines before it, and is no header for anyone else. */
#ifndef ROAR_TRACE_EBPF_FLOW_BPF_H
#define ROAR_TRACE_EBPF_FLOW_BPF_H

/* pipe/pipe2/socketpair: the two new fds are in the caller's int[2]. Both are one
 * channel's ends (PAIR) whose reads are seen (READS_SEEN: roar_channel_read). A pipe's
 * two ends share one inode, whose identity the FDNEW carries, the same as every read
 * and write through either end then does; a socket pair's ends are two inodes, so it
 * carries none. Not a hot path: the full record. */
static __always_inline void on_fd_pair(const int *ufds, long ret, bool is_pipe)
{
    struct roar_bpf_event *e;
    int fds[2];

    if (bpf_probe_read_user(fds, sizeof(fds), ufds) != 0)
        return;
    if (!(e = small_take(ROAR_EV_FDNEW)))
        return;
    e->h.ret = ret;
    e->h.fd = fds[0];
    e->h.fd2 = fds[1];
    e->h.flags = ROAR_FDNEW_F_PAIR | ROAR_FDNEW_F_READS_SEEN;
    if (is_pipe)
        put_file_ident(&e->h, fd_file(fds[0]));
    small_send(e);
}

/* mmap: a file's mapping is an MMAP record; shared memory that is no file's (anonymous,
 * or a device's: /dev/zero) is a FLOW that the job's later forks share it. */
/* Shared memory that no file names: once per process until its next exec (which
 * drops the mapping; roar_exec makes it news again), as the preload shim does. System
 * V memory (`named`, shmat) can also be attached by any process that knows its key:
 * SHM_NAMED, sent once per process and image on its own. */
static __always_inline void on_shared_anon(bool named)
{
    if (named) {
        if (!roar_chan_seen(0, 0, SEEN_FLOW_SHM_NAMED))
            send_flow(ROAR_FLOW_SHARED_ANON | ROAR_FLOW_SHM_NAMED, 0);
    } else if (!roar_chan_seen(0, 0, SEEN_FLOW_SHM)) {
        send_flow(ROAR_FLOW_SHARED_ANON, 0);
    }
}

static __always_inline void on_mmap(int fd, __u64 flags, __u64 prot, long ret)
{
    __u64 type = flags & ROAR_BPF_MAP_TYPE, ino = 0;
    bool shared = type == ROAR_BPF_MAP_SHARED || type == ROAR_BPF_MAP_SHARED_VALIDATE;
    struct file *f;

    if (flags & ROAR_BPF_MAP_ANONYMOUS) {
        if (shared)
            on_shared_anon(false);
        return;
    }
    if (fd < 0)
        return;
    on_fd_op(ROAR_EV_MMAP, fd, flags, prot, ret);
    if (shared && (f = fd_file(fd)) && is_channel_mode(file_mode_ino(f, &ino)))
        on_shared_anon(false);
}

/* ptrace: attaching (ATTACH, SEIZE, or TRACEME, whose tracer is the parent) lets one
 * process read and write another's memory: a FLOW naming the other. Later requests need
 * the attachment first, so they send nothing. pid2 is the pid argument (a thread id). */
static __always_inline void on_ptrace(__u64 req, __u64 pid)
{
    if (req == ROAR_BPF_PTRACE_TRACEME)
        send_flow(ROAR_FLOW_PTRACE, BPF_CORE_READ(current_task(), real_parent, tgid));
    else if (req == ROAR_BPF_PTRACE_ATTACH || req == ROAR_BPF_PTRACE_SEIZE)
        send_flow(ROAR_FLOW_PTRACE, (__u32)pid);
}

/* process_vm_readv/writev: the same flow as ptrace's, once per (process, other): a
 * program that copies another's memory does it in loops (MPI's CMA). */
static __always_inline void on_process_vm(__u32 pid)
{
    if (pid == (__u32)(bpf_get_current_pid_tgid() >> 32)) /* its own memory */
        return;
    if (!roar_chan_seen(pid, 0, SEEN_FLOW_VM))
        send_flow(ROAR_FLOW_PTRACE, pid);
}

/* vmsplice: user memory into a pipe (its write end) or out of it (its read end). */
static __always_inline void on_vmsplice(int fd, long ret)
{
    struct file *f = fd_file(fd);
    __u32 fmode;

    if (!f || ret <= 0)
        return;
    fmode = file_btf_id ? ((struct file *)bpf_rdonly_cast(f, file_btf_id))->f_mode
                        : BPF_CORE_READ(f, f_mode);
    if (fmode & ROAR_BPF_FMODE_WRITE)
        first_write(ROAR_EV_WRITE, fd, -1, ret);
    else
        roar_channel_read(fd, ret);
}

#endif
