/* paths.bpf.h: walking a path from a dentry up to the task's root, across mounts.
 * Part of roar.bpf.c, included once at its place there: it leans on what the file
 * defines before it, and is no header for anyone else. */
#ifndef ROAR_TRACE_EBPF_PATHS_BPF_H
#define ROAR_TRACE_EBPF_PATHS_BPF_H

/* ---- path walking -------------------------------------------------------------------- */

/* State of one walk from a dentry up to the task's root, across mounts, as the kernel's
 * d_path does (without bpf_d_path, which tracepoints cannot call). Each name is written
 * where the previous ended. The write offset lives in the scratch map, not here: the
 * verifier tracks a stack counter precisely, so the states of successive steps never
 * converge and it gives up; a value loaded from a map is just "some u32", bounded by
 * the check against constants before each write. */
struct roar_walk {
    struct dentry *dentry;
    struct vfsmount *vfsmnt;
    struct mount *mnt;
    struct dentry *mnt_root;
    struct dentry *root_dentry;
    struct vfsmount *root_mnt;
    __u32 cpu;
    __u32 end; /* 0 walking, 1 at the root, 2 too long, 3 unreached */
};

static long walk_step(__u32 i, void *data)
{
    (void)i;
    struct roar_walk *w = data;
    struct dentry *d = w->dentry, *parent;
    struct scratch *s;
    const unsigned char *name;
    __u32 off;
    long n;

    if (d == w->root_dentry && w->vfsmnt == w->root_mnt) {
        w->end = 1;
        return 1;
    }
    parent = BPF_CORE_READ(d, d_parent);
    if (d == w->mnt_root || d == parent) {
        /* (locals: a CO-RE read must not start from a field of our own struct) */
        struct mount *mnt = w->mnt, *up = BPF_CORE_READ(mnt, mnt_parent);
        struct vfsmount *vm;
        if (d != w->mnt_root) {
            /* a root that is not its mount's root: a pseudo file or a detached tree */
            w->end = 3;
            return 1;
        }
        if (up == mnt || !up) {
            w->end = 1; /* the namespace's root */
            return 1;
        }
        w->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
        w->mnt = up;
        vm = (struct vfsmount *)((char *)up + bpf_core_field_offset(struct mount, mnt));
        w->vfsmnt = vm;
        w->mnt_root = BPF_CORE_READ(vm, mnt_root);
        return 0;
    }
    s = bpf_map_lookup_elem(&scratch, &w->cpu);
    if (!s) {
        w->end = 3;
        return 1;
    }
    off = s->woff;
    if (off - s->wstart > walk_budget || off > ROAR_BPF_DATA_MAX - ROAR_BPF_NAME_MAX) {
        w->end = 2;
        return 1;
    }
    name = BPF_CORE_READ(d, d_name.name);
    n = bpf_probe_read_kernel_str(&s->data[off], ROAR_BPF_NAME_MAX, name);
    if (n <= 0) {
        w->end = 3;
        return 1;
    }
    s->woff = off + (__u32)n;
    w->dentry = parent;
    return 0;
}

/* Kernel address of the task's cwd (struct path), as a plain value for the global
 * functions below, which take no pointers. */
static __always_inline __u64 cwd_path(struct task_struct *task)
{
    struct fs_struct *fs = BPF_CORE_READ(task, fs);
    return (__u64)fs + bpf_core_field_offset(struct fs_struct, pwd);
}

/* The scratch record of this CPU, taken by the running program (scratch_take). */
static __always_inline struct scratch *scratch_mine(void)
{
    __u32 cpu = bpf_get_smp_processor_id();
    return bpf_map_lookup_elem(&scratch, &cpu);
}

/* Appends the walk of the struct path at kernel address `path` as piece i of this CPU's
 * scratch record. Global functions (not static) are verified once, not at every call
 * site: this keeps the load time of the program (part of every `git roar run`) low. */
__noinline int roar_put_walk(__u32 i, __u64 path)
{
    struct task_struct *task = current_task();
    struct path *pp = (struct path *)path;
    struct vfsmount *vm = BPF_CORE_READ(pp, mnt);
    struct scratch *s = scratch_mine();
    struct roar_walk w = {};

    if (!s)
        return 0;
    i &= 1;
    s->ev.pflags[i] |= ROAR_BPF_P_WALK;
    w.dentry = BPF_CORE_READ(pp, dentry);
    w.vfsmnt = vm;
    if (!w.dentry || !vm) {
        s->ev.pflags[i] |= ROAR_BPF_P_UNREACHED;
        return 0;
    }
    w.mnt = (struct mount *)((char *)vm - bpf_core_field_offset(struct mount, mnt));
    w.mnt_root = BPF_CORE_READ(vm, mnt_root);
    w.root_dentry = BPF_CORE_READ(task, fs, root.dentry);
    w.root_mnt = BPF_CORE_READ(task, fs, root.mnt);
    w.cpu = bpf_get_smp_processor_id();
    s->woff = s->wstart = s->off;
    bpf_loop(ROAR_BPF_DEPTH_MAX, walk_step, &w, 0);
    s->ev.walk_len[i] = s->woff - s->wstart;
    if (w.end == 0 || w.end == 2)
        s->ev.pflags[i] |= ROAR_BPF_P_LONG;
    else if (w.end == 3)
        s->ev.pflags[i] |= ROAR_BPF_P_UNREACHED;
    s->off = s->woff;
    return 0;
}

/* Appends the user string at uptr as piece i and, when it is relative, the walk of its
 * base directory: the cwd, or the directory open on dfd. Read at syscall exit: the
 * kernel has just copied it, so its page is in (PLATFORM.md: read at entry, it was once
 * garbled). */
__noinline int roar_put_name(__u32 i, __u64 uptr, int dfd)
{
    struct scratch *s = scratch_mine();
    struct file *f;
    __u32 o;
    long n;

    if (!s)
        return 0;
    i &= 1;
    s->ev.pflags[i] |= ROAR_BPF_P_STR;
    o = s->off;
    if (o > ROAR_BPF_DATA_MAX - ROAR_BPF_STR_MAX) {
        s->ev.pflags[i] |= ROAR_BPF_P_LONG;
        return 0;
    }
    n = bpf_probe_read_user_str(&s->data[o], ROAR_BPF_STR_MAX, (const void *)uptr);
    if (n <= 0) {
        s->ev.pflags[i] |= ROAR_BPF_P_UNREACHED;
        return 0;
    }
    s->ev.str_len[i] = (__u32)n;
    s->off = o + (__u32)n;
    if (s->data[o] == '/')
        return 0;
    /* Relative to the cwd: the loader knows each process's cwd (from its exec, chdirs
     * and forks), which saves a dentry walk at every relative open. */
    if (dfd == ROAR_BPF_AT_FDCWD) {
        s->ev.pflags[i] |= ROAR_BPF_P_CWD;
        return 0;
    }
    f = fd_file(dfd);
    if (!f) {
        s->ev.pflags[i] |= ROAR_BPF_P_WALK | ROAR_BPF_P_UNREACHED;
        return 0;
    }
    return roar_put_walk(i, (__u64)f + bpf_core_field_offset(struct file, f_path));
}

#endif
