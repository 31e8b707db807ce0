/* helpers.bpf.h: the kernel side's helpers: traced processes, the scratch
 * entry, fds and files, the seen caches, identities.
 * Part of roar.bpf.c, included once at its place there: it leans on what the file
 * defines before it, and is no header for anyone else. */
#ifndef ROAR_TRACE_EBPF_HELPERS_BPF_H
#define ROAR_TRACE_EBPF_HELPERS_BPF_H

/* ---- helpers ------------------------------------------------------------------------- */

static __always_inline void count_lost(void)
{
    __sync_fetch_and_add(&lost, 1);
}

static __always_inline struct roar_bpf_proc *traced_proc(__u32 tgid)
{
    return bpf_map_lookup_elem(&traced, &tgid);
}

static __always_inline bool is_active(__u32 tgid)
{
    __u32 k = tgid >> 6;
    __u64 *w = bpf_map_lookup_elem(&active, &k);
    return w && (*w & (1ull << (tgid & 63)));
}

/* Keeps the fast filter in step with a traced process's flags. False when the pid is
 * beyond the filter (a pid_max raised after load): that process cannot be traced. */
static __always_inline bool set_active(__u32 tgid, __u32 flags)
{
    __u32 k = tgid >> 6;
    __u64 *w = bpf_map_lookup_elem(&active, &k), bit = 1ull << (tgid & 63);
    if (!w)
        return false;
    if (flags & (ROAR_BPF_T_WAIT_EXEC | ROAR_BPF_T_COMPAT))
        __sync_fetch_and_and(w, ~bit);
    else
        __sync_fetch_and_or(w, bit);
    return true;
}

/* This CPU's scratch record, marked busy, or NULL (counted lost). Not cleared. */
static __always_inline struct scratch *scratch_claim(void)
{
    __u32 cpu = bpf_get_smp_processor_id();
    struct scratch *s = bpf_map_lookup_elem(&scratch, &cpu);
    if (!s || s->busy) {
        count_lost();
        return NULL;
    }
    s->busy = 1;
    return s;
}

/* Starts a full record in a claimed scratch entry: header cleared, no data yet. */
static __always_inline void scratch_clear(struct scratch *s)
{
    s->off = 0;
    __builtin_memset(&s->ev, 0, sizeof(s->ev));
}

static __always_inline struct scratch *scratch_take(void)
{
    struct scratch *s = scratch_claim();
    if (s)
        scratch_clear(s);
    return s;
}

/* `wake`: BPF_RB_NO_WAKEUP, or BPF_RB_FORCE_WAKEUP (open_wakes). */
static __always_inline void scratch_send_wake(struct scratch *s, __u64 wake)
{
    __u64 size = sizeof(struct roar_bpf_event) + (__u64)s->off;
    if (size > sizeof(struct roar_bpf_event) + ROAR_BPF_DATA_MAX)
        size = sizeof(struct roar_bpf_event) + ROAR_BPF_DATA_MAX;
    s->ev.rec_len = (__u32)size;
    if (bpf_ringbuf_output(&events, s, size, wake) < 0)
        count_lost();
    s->busy = 0;
}

static __always_inline void scratch_send(struct scratch *s)
{
    scratch_send_wake(s, BPF_RB_NO_WAKEUP);
}

/* `id` as bpf_get_current_pid_tgid() gives it: tgid << 32 | tid */
static __always_inline void hdr_task_id(struct roar_event_hdr *h, __u16 type, __u64 id)
{
    h->type = type;
    h->tgid = (__u32)(id >> 32);
    h->tid = (__u32)id;
    h->fd = -1;
    h->fd2 = -1;
}

static __always_inline void hdr_task(struct roar_event_hdr *h, __u16 type)
{
    hdr_task_id(h, type, bpf_get_current_pid_tgid());
}

/* Kernel structures off the hot path (path walks, cwd, exec) are read with BPF_CORE_READ
 * (bpf_probe_read_kernel), not by walking BTF pointers: each pointer walk makes the
 * verifier search the kernel's BTF by name (for its trust rules), ~1 ms apiece, and the
 * load time is part of every `git roar run -t ebpf`. The fd table walk, at every open and
 * first write, is the exception, verified in two places only (roar_fd_file and
 * roar_on_open). */
static __always_inline struct task_struct *current_task(void)
{
    return (struct task_struct *)bpf_get_current_task();
}

/* The 8-byte word at kernel address addr, read with a plain load (the JIT's
 * fault-checked load, 0 if it faults) where a probe read would cost a helper call: the
 * address is typed as a struct file placed so that its f_pos, a loff_t, lies on the word.
 * The word and nothing more is read. */
static __always_inline __u64 kernel_word(__u64 addr)
{
    __u64 w = 0;

    if (file_btf_id) {
        struct file *f =
            bpf_rdonly_cast((void *)(addr - bpf_core_field_offset(struct file, f_pos)),
                            file_btf_id);
        return (__u64)f->f_pos;
    }
    bpf_probe_read_kernel(&w, sizeof(w), (void *)addr);
    return w;
}

/* The struct file behind fd in task's fd table, or 0: the table walked with plain loads
 * through the task's BTF pointer, the array slot, an untyped pointer, read as a word. */
static __always_inline __u64 task_fd_file(struct task_struct *task, int fd)
{
    struct fdtable *fdt;

    if (fd < 0)
        return 0;
    fdt = task->files->fdt;
    if ((unsigned)fd >= fdt->max_fds)
        return 0;
    return kernel_word((__u64)fdt->fd + (__u64)(unsigned)fd * sizeof(struct file *));
}

/* The same in the current task. Global, so that the verifier checks the walk from the
 * trusted task pointer once for a dozen call sites (roar_on_open has its own copy: it
 * reuses the task pointer for the ids). */
__noinline __u64 roar_fd_file(int fd)
{
    return task_fd_file(bpf_get_current_task_btf(), fd);
}

static __always_inline struct file *fd_file(int fd)
{
    return (struct file *)roar_fd_file(fd);
}

static __always_inline __u64 *seen_slot(struct file *f)
{
    __u32 zero = 0;
    struct seen_cache *c = bpf_map_lookup_elem(&seen, &zero);
    if (!c)
        return NULL;
    return &c->slot[(((__u64)f * 0x9e3779b97f4a7c15ull) >> 40) & (SEEN_SLOTS - 1)];
}

/* splitmix64's finaliser: a bijection of 64-bit words that spreads every input bit */
static __always_inline __u64 mix64(__u64 x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* The chan_seen tag of (a, b, the current process, kind); never 0 (an empty slot). One
 * mix of the three spread by odd multipliers: a struct file address (64-byte aligned,
 * in a few GiB) differs from another by far fewer patterns than the products of inode
 * numbers and pids, so two live keys meeting on all 64 bits is not a case to design for,
 * and the mix is on every read of a pipe. */
static __always_inline __u64 chan_tag(__u64 a, __u64 b, __u64 kind)
{
    __u64 who = (bpf_get_current_pid_tgid() >> 32) << 8 | kind;
    __u64 tag = mix64(a ^ (b * 0x9e3779b97f4a7c15ull) ^ (who * 0xc2b2ae3d27d4eb4full));
    return tag ? tag : 1;
}

static __always_inline __u64 *chan_slot(__u64 tag)
{
    __u32 zero = 0;
    struct seen_cache *c = bpf_map_lookup_elem(&chan_seen, &zero);
    if (!c)
        return NULL;
    return &c->slot[(tag >> 52) & (SEEN_SLOTS - 1)];
}

/* True when this process already reported `kind` (SEEN_READ, SEEN_WRITE, or a FLOW
 * kind) for (a, b): a struct file and its inode number, or another process. Marks it
 * reported otherwise. Global: verified once for its half dozen callers. */
__noinline int roar_chan_seen(__u64 a, __u64 b, __u64 kind)
{
    __u64 tag = chan_tag(a, b, kind), *slot = chan_slot(tag);
    if (!slot)
        return 0;
    if (*slot == tag)
        return 1;
    *slot = tag;
    return 0;
}

/* Makes (a, b, kind) of this process news again. */
static __always_inline void chan_unsee(__u64 a, __u64 b, __u64 kind)
{
    __u64 tag = chan_tag(a, b, kind), *slot = chan_slot(tag);
    if (slot && *slot == tag)
        *slot = 0;
}

/* A new description of a channel at address f (an open of a FIFO or a device): the
 * opener's first read and write through it are news again, even if a description it
 * closed lay at the same address on the same inode. */
__noinline int roar_chan_forget(__u64 f, __u64 ino)
{
    chan_unsee(f, ino, SEEN_READ);
    chan_unsee(f, ino, SEEN_WRITE);
    return 0;
}

/* FLOW kinds in chan_seen, with (0, 0) or (the other pid, 0) as the key */
#define SEEN_FLOW_VM 0x4ull  /* process_vm_readv/writev, per other process */
#define SEEN_FLOW_SHM 0x8ull /* shared memory mapped, once per process and image */
#define SEEN_FLOW_SHM_NAMED 0x10ull /* SysV shm attached, the same */

/* userspace's st_dev encoding of a kernel dev_t (new_encode_dev) */
static __always_inline __u64 encode_dev(__u32 dev)
{
    __u32 major = dev >> 20, minor = dev & 0xfffff;
    return (__u64)((minor & 0xff) | (major << 8) | ((minor & ~0xffu) << 12));
}

/* The identity's device and times, as stat reports them, from the kernel's fields; the
 * identity is complete after it. */
static __always_inline void put_dev_times(struct roar_bpf_ident *h, __u32 s_dev, __s64 ms,
                                          __u32 mn, __s64 cs, __u32 cn)
{
    h->dev = encode_dev(s_dev);
    h->mtime_ns = ms * 1000000000ll + mn;
    h->ctime_ns = cs * 1000000000ll + (cn & ~ROAR_BPF_CTIME_QUERIED);
    h->has_ident = 1;
}

/* Identity of an inode as fstat would report it (SPEC §4.3), field by field with probe
 * reads: the way of a kernel whose BTF id of struct file is unknown (kernels before 6.2
 * have no bpf_rdonly_cast). No block read into a stack buffer: the stack of a whole
 * call chain must stay within 512 bytes (docs/ebpf.md, Stack). */
static __always_inline void put_ident(struct roar_bpf_ident *h, struct inode *ino)
{
    __s64 ms = 0, cs = 0;
    __u32 mn = 0, cn = 0;

    if (!ino)
        return;
    h->ino = BPF_CORE_READ(ino, i_ino);
    h->size = (__u64)BPF_CORE_READ(ino, i_size);
    h->mode = BPF_CORE_READ(ino, i_mode);
    if (bpf_core_field_exists(ino->i_mtime_sec)) {
        ms = BPF_CORE_READ(ino, i_mtime_sec);
        cs = BPF_CORE_READ(ino, i_ctime_sec);
        mn = BPF_CORE_READ(ino, i_mtime_nsec);
        cn = BPF_CORE_READ(ino, i_ctime_nsec);
    }
    put_dev_times(h, BPF_CORE_READ(ino, i_sb, s_dev), ms, mn, cs, cn);
}

/* The same from the inode behind a struct file, read with plain loads through the file
 * pointer made typed (bpf_rdonly_cast): no helper call at all, against three probe reads
 * (file, inode block, superblock) at every open. Sets created from FMODE_CREATED if
 * asked. The probe-read way where the loader found no BTF id. h must be zeroed. */
static __always_inline void put_file_ident_created(struct roar_bpf_ident *h, struct file *f,
                                                   bool created)
{
    if (!f)
        return;
    if (file_btf_id) {
        struct file *tf = bpf_rdonly_cast(f, file_btf_id);
        struct inode *ino = tf->f_inode;
        __s64 ms = 0, cs = 0;
        __u32 mn = 0, cn = 0;

        if (created)
            h->created = (tf->f_mode & ROAR_BPF_FMODE_CREATED) ? 1 : 0;
        if (!ino)
            return;
        h->mode = ino->i_mode;
        h->ino = ino->i_ino;
        h->size = (__u64)ino->i_size;
        if (bpf_core_field_exists(ino->i_mtime_sec)) {
            ms = ino->i_mtime_sec;
            cs = ino->i_ctime_sec;
            mn = ino->i_mtime_nsec;
            cn = ino->i_ctime_nsec;
        }
        put_dev_times(h, ino->i_sb->s_dev, ms, mn, cs, cn);
        return;
    }
    if (created)
        h->created = (BPF_CORE_READ(f, f_mode) & ROAR_BPF_FMODE_CREATED) ? 1 : 0;
    put_ident(h, BPF_CORE_READ(f, f_inode));
}

static __always_inline void put_file_ident(struct roar_event_hdr *h, struct file *f)
{
    struct roar_bpf_ident id = {};
    put_file_ident_created(&id, f, false);
    roar_bpf_ident_to_hdr(h, &id);
}

/* The mode of the inode behind f (0 if none), and its number in *ino: what tells a
 * channel from a regular file, in two loads (typed, or probe reads without the BTF id). */
static __always_inline __u32 file_mode_ino(struct file *f, __u64 *ino)
{
    struct inode *in;

    if (file_btf_id) {
        struct file *tf = bpf_rdonly_cast(f, file_btf_id);
        in = tf->f_inode;
        if (!in)
            return 0;
        *ino = in->i_ino;
        return in->i_mode;
    }
    in = BPF_CORE_READ(f, f_inode);
    if (!in)
        return 0;
    *ino = BPF_CORE_READ(in, i_ino);
    return BPF_CORE_READ(in, i_mode);
}

/* A channel, for the first-read and first-write rules: an inode that is not a regular
 * file (a pipe, FIFO, socket or device). */
static __always_inline bool is_channel_mode(__u32 mode)
{
    return mode && (mode & ROAR_BPF_S_IFMT) != ROAR_BPF_S_IFREG;
}

#endif
