/* procs.bpf.h: the process tracepoints: fork (with the open-fd bitmap),
 * exec and exit.
 * Part of roar.bpf.c, included once at its place there: it leans on what the file
 * defines before it, and is no header for anyone else. */
#ifndef ROAR_TRACE_EBPF_PROCS_BPF_H
#define ROAR_TRACE_EBPF_PROCS_BPF_H

/* ---- processes ----------------------------------------------------------------------- */

/* The open fds of `files` (roar_bpf.h, struct roar_bpf_fdset) for tgid and tgid2. Forks
 * and execs are rare next to opens: probe reads, no hot path. Words past the table's
 * size are not read (they are zero: closed). */
static __always_inline void send_fdset(struct files_struct *files, __u32 tgid, __u32 tgid2)
{
    struct fdtable *fdt = BPF_CORE_READ(files, fdt);
    struct roar_bpf_fdset *e;
    __u64 *open;
    __u32 max, n;

    if (!fdt)
        return;
    if (!(e = bpf_ringbuf_reserve(&events, sizeof(*e), 0))) {
        count_lost();
        return;
    }
    __builtin_memset(e->words, 0, sizeof(e->words));
    max = BPF_CORE_READ(fdt, max_fds);
    open = (__u64 *)BPF_CORE_READ(fdt, open_fds);
    n = (max + 63) / 64;
    if (n > ROAR_BPF_FDSET_WORDS)
        n = ROAR_BPF_FDSET_WORDS;
    if (n && bpf_probe_read_kernel(e->words, n * sizeof(__u64), open) != 0) {
        bpf_ringbuf_discard(e, 0); /* a table we cannot read: nothing known, nothing said */
        return;
    }
    e->form = ROAR_BPF_FORM_FDSET;
    e->tgid = tgid;
    e->tgid2 = tgid2;
    e->max_fds = max;
    bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
}

/* Runs in the parent, before the child is first scheduled: the child is traced from its
 * first instruction. Threads share their tgid's entry. */
SEC("raw_tp/sched_process_fork")
int roar_fork(struct bpf_raw_tracepoint_args *ctx)
{
    struct task_struct *parent = (void *)ctx->args[0], *child = (void *)ctx->args[1];
    __u32 ptgid = BPF_CORE_READ(parent, tgid);
    struct roar_bpf_proc *p = traced_proc(ptgid), np;
    struct roar_bpf_event *e;
    __u32 ctgid, cpid, flags = 0;
    int thread;

    if (!p)
        return 0;
    ctgid = BPF_CORE_READ(child, tgid);
    cpid = BPF_CORE_READ(child, pid);
    thread = ctgid == ptgid;
    np.flags = p->flags;
    if (!thread && (bpf_map_update_elem(&traced, &ctgid, &np, BPF_ANY) < 0 ||
                    !set_active(ctgid, np.flags)))
        __sync_fetch_and_add(&untracked, 1);
    if (np.flags & ROAR_BPF_T_WAIT_EXEC)
        return 0;
    if (thread)
        flags |= ROAR_BPF_CLONE_THREAD;
    if (BPF_CORE_READ(child, files) == BPF_CORE_READ(parent, files))
        flags |= ROAR_BPF_CLONE_FILES;
    if (BPF_CORE_READ(child, fs) == BPF_CORE_READ(parent, fs))
        flags |= ROAR_BPF_CLONE_FS;
    if (BPF_CORE_READ(child, mm) == BPF_CORE_READ(parent, mm))
        flags |= ROAR_BPF_CLONE_VM;
    if (!(e = small_take(ROAR_EV_FORK)))
        return 0;
    e->h.tgid = ptgid;
    e->h.tid = BPF_CORE_READ(parent, pid);
    e->h.pid2 = thread ? cpid : ctgid;
    e->h.ret = cpid;
    e->h.flags = flags;
    small_send(e);
    /* a new table, the parent's as it is now: for both of them */
    if (!(flags & (ROAR_BPF_CLONE_THREAD | ROAR_BPF_CLONE_FILES)))
        send_fdset(BPF_CORE_READ(child, files), ptgid, ctgid);
    return 0;
}

/* A successful exec (the failed PATH probes of execvp never get here). bprm->file is the
 * program finally run (for a script, its interpreter, as /proc/self/exe says). */
SEC("raw_tp/sched_process_exec")
int roar_exec(struct bpf_raw_tracepoint_args *ctx)
{
    struct task_struct *task = (void *)ctx->args[0];
    struct linux_binprm *bprm = (void *)ctx->args[2];
    __u32 tgid = BPF_CORE_READ(task, tgid);
    struct roar_bpf_proc *p = traced_proc(tgid);
    struct file *f;
    struct scratch *s;
    unsigned char elf[5] = {};
    __u64 fpath;
    int compat;

    if (!p)
        return 0;
    p->flags &= ~ROAR_BPF_T_WAIT_EXEC;
    /* the new image maps no shared memory yet */
    chan_unsee(0, 0, SEEN_FLOW_SHM);
    chan_unsee(0, 0, SEEN_FLOW_SHM_NAMED);
    bpf_probe_read_kernel(elf, sizeof(elf),
                          (char *)bprm + bpf_core_field_offset(struct linux_binprm, buf));
    compat = elf[0] == 0x7f && elf[1] == 'E' && elf[2] == 'L' && elf[3] == 'F' && elf[4] == 1;
    if (compat)
        p->flags |= ROAR_BPF_T_COMPAT;
    else
        p->flags &= ~ROAR_BPF_T_COMPAT;
    if (!set_active(tgid, p->flags))
        __sync_fetch_and_add(&untracked, 1);
    f = BPF_CORE_READ(bprm, file); /* a plain value: global functions take no pointers */
    fpath = (__u64)f + bpf_core_field_offset(struct file, f_path);
    if (!(s = scratch_take()))
        return 0;
    hdr_task(&s->ev.h, ROAR_EV_EXEC);
    s->ev.h.tgid = tgid;
    s->ev.h.tid = BPF_CORE_READ(task, pid);
    /* as the preload shim does: the parent, so a process born of an unseen clone can
     * still be placed */
    s->ev.h.pid2 = BPF_CORE_READ(task, real_parent, tgid);
    put_file_ident(&s->ev.h, f);
    roar_put_walk(0, fpath);
    /* the cwd the new image starts in: the loader resolves relative names with it */
    roar_put_walk(1, cwd_path(current_task()));
    scratch_send(s);
    /* the table the new image starts with, close-on-exec done */
    send_fdset(BPF_CORE_READ(task, files), tgid, 0);
    if (compat) {
        /* the same path again, as the job's foreign-arch line */
        if (!(s = scratch_take()))
            return 0;
        hdr_task(&s->ev.h, ROAR_EV_INCOMPLETE);
        s->ev.h.flags = ROAR_INC_FOREIGN_ARCH;
        roar_put_walk(0, fpath);
        scratch_send(s);
    }
    return 0;
}

/* Fires once per exiting thread; the process is gone when its live count is 0. Deleting
 * the map entry decides which of two racing last threads reports the exit. */
SEC("raw_tp/sched_process_exit")
int roar_exit(struct bpf_raw_tracepoint_args *ctx)
{
    struct task_struct *task = (void *)ctx->args[0];
    __u32 tgid = BPF_CORE_READ(task, tgid);
    struct roar_bpf_event *e;

    if (!traced_proc(tgid))
        return 0;
    if (BPF_CORE_READ(task, signal, live.counter) != 0)
        return 0;
    if (bpf_map_delete_elem(&traced, &tgid) != 0)
        return 0;
    set_active(tgid, ROAR_BPF_T_WAIT_EXEC); /* clears the bit */
    if (!(e = small_take(ROAR_EV_EXIT)))
        return 0;
    e->h.tgid = tgid;
    e->h.tid = BPF_CORE_READ(task, pid);
    e->h.ret = BPF_CORE_READ(task, exit_code);
    small_send(e);
    return 0;
}

#endif
