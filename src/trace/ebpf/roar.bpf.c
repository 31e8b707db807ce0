/* roar.bpf.c: the eBPF tracer's kernel side. Four tracepoint programs follow the job's
 * process tree and turn its file syscalls into roar_bpf_event records (roar_bpf.h). */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "trace/ebpf/roar_bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* ---- knobs (set by the loader before load; tests lower them) ------------------------ */

/* Budget for one walked path's names (≤ ROAR_BPF_WALK_MAX). */
const volatile __u32 walk_budget = ROAR_BPF_WALK_MAX;
/* Knobs of roar_sys_exit for benchmarks and tests (roar_bpf.h), in one word so that the
 * hot path loads one; at 0 the verifier drops the branch on it. EMPTY (roar-ebpfdump
 * -E): return at once, to show what the tracepoint costs with an empty program. REFUSE
 * (-R): read above the frame, which the verifier refuses, so that a test can see how a
 * refusal is reported. */
const volatile __u32 syscall_knobs = 0;
/* The running kernel's BTF id of struct file, found by the loader; 0 if it could not. */
const volatile __u32 file_btf_id = 0;

/* Types a plain pointer for fault-checked loads (the verifier turns the call into a
 * move). Weak: a kernel without it leaves file_btf_id 0 and the probe-read way. */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

/* ---- counters (read by the loader through the mmap'ed .bss) ------------------------- */

/* Records that found no room in the ring, or no scratch (never silent: the loader turns
 * each increase into `incomplete events-lost N`). */
__u64 lost = 0;
/* Processes of the job that could not be added to the traced map (it was full): their
 * events are lost too, counted once per process. */
__u64 untracked = 0;

/* ---- the reader's wake-up (written by the loader through the mmap'ed .bss) ---------- */

/* 1 while the loader's reader sleeps between drains (roar_ebpf_wait). Records go out
 * without a wake-up (Transport); the one exception is an open that may be the last
 * chance to read a file's pre-job content (open_wakes), which wakes a sleeping reader
 * once: the xchg to 0 makes it one wake-up per sleep, however many such opens follow. */
__u32 reader_asleep = 0;
/* Set by every such open, asleep or not: a reader about to sleep that finds it set
 * drains again at once instead (one of the two always sees the other's flag: both are
 * exchanged, full barriers, before the other flag is read). */
__u32 wake_pending = 0;

/* ---- maps ---------------------------------------------------------------------------- */

/* The job's processes, by tgid. Filled by the loader (the gated root) and by fork;
 * pruned when a whole thread group exits. */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16384);
    __type(key, __u32);
    __type(value, struct roar_bpf_proc);
} traced SEC(".maps");

/* The fast filter: one bit per pid, set for a traced process that is live (past the
 * gate's exec, not a 32-bit image). Every syscall of every task on the machine tests it
 * (an inlined array access) instead of looking the tgid up in the hash above. The
 * loader sizes it from kernel.pid_max. */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(map_flags, BPF_F_MMAPABLE);
    __uint(max_entries, 65536);
    __type(key, __u32);
    __type(value, __u64);
} active SEC(".maps");

/* First write already reported for an open file, keyed by its struct file: a
 * direct-mapped cache of (file pointer | SEEN_WRITE) words, cleared when an open returns
 * that pointer (a freed file's address is reused). A hash map would do, but an LRU update
 * costs ~200 ns here and this is on every write; a collision only costs one more event.
 * Pointer and bit share one word (struct file is 8-byte aligned), so that two CPUs
 * racing on a slot can never leave one file's pointer with another's bit. */
#define SEEN_WRITE 0x2ull
#define SEEN_SLOTS 4096
struct seen_cache {
    __u64 slot[SEEN_SLOTS];
};
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct seen_cache);
} seen SEC(".maps");

/* First read and first write through a channel (a pipe, a FIFO, a socket, a device: any
 * struct file whose inode is not a regular file) already reported by a process: every
 * process's first counts (event.h, ROAR_EV_READ), not only the description's. A
 * direct-mapped cache of 64-bit tags, each a mix of (struct file, its inode number, tgid,
 * SEEN_READ or SEEN_WRITE), slot chosen by the tag: a tag is one word, so two CPUs racing
 * on a slot can never leave half of one key with half of another, and a stale slot
 * (a freed file's address reused by a new pipe) holds the old inode number, so it never
 * matches. A collision costs one more event; a false match needs two keys mixing to the
 * same 64 bits. Kept apart from `seen` so that the writes of a pipeline never push the
 * regular files' words out. */
#define SEEN_READ 0x1ull
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct seen_cache);
} chan_seen SEC(".maps");

/* Records with paths, and the compact open (open_fast: its header and a name shorter
 * than OPEN_FAST_STR), are built here and copied into the ring with their real length.
 * One entry per CPU; the loader sets max_entries to the number of possible CPUs. */
#define OPEN_FAST_STR 128
struct open_fast {
    struct roar_bpf_open o;
    char str[OPEN_FAST_STR];
};
struct scratch {
    union {
        struct {
            struct roar_bpf_event ev;
            char data[ROAR_BPF_DATA_MAX];
        };
        struct open_fast fast; /* the compact open (open_fast) */
    };
    __u32 busy;  /* a program on this CPU is using it (only a preemptible kernel could
                  * interleave two; the second then counts as lost) */
    __u32 off;   /* the record's next write, from the start of data */
    __u32 woff;  /* the walk's next write */
    __u32 wstart; /* where the walk began */
};
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct scratch);
} scratch SEC(".maps");

/* The events. Size set by the loader (default 16 MiB). Records are submitted without a
 * wake-up: the loader drains on a short timer (PLATFORM.md: ~6 µs per wake-up). */
struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 1 << 24);
} events SEC(".maps");

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

/* ---- small records (no paths): reserved straight in the ring ------------------------ */

static __always_inline struct roar_bpf_event *small_take(__u16 type)
{
    struct roar_bpf_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
    if (!e) {
        count_lost();
        return NULL;
    }
    __builtin_memset(e, 0, sizeof(*e));
    hdr_task(&e->h, type);
    e->rec_len = sizeof(*e);
    return e;
}

static __always_inline void small_send(struct roar_bpf_event *e)
{
    bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
}

/* A record in the compact form (roar_bpf.h): every field written, no memset. */
static __always_inline void send_fds(__u16 type, long ret, int fd, int fd2, __u64 flags)
{
    struct roar_bpf_small *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
    __u64 id;

    if (!e) {
        count_lost();
        return;
    }
    id = bpf_get_current_pid_tgid();
    e->ret = ret;
    e->flags = flags;
    e->tgid = (__u32)(id >> 32);
    e->tid = (__u32)id;
    e->fd = fd;
    e->fd2 = fd2;
    e->type = type;
    e->pad[0] = e->pad[1] = e->pad[2] = 0;
    bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
}

static __always_inline void send_incomplete(__u32 reason)
{
    send_fds(ROAR_EV_INCOMPLETE, 0, -1, -1, reason);
}

/* First write through an open file: one record per struct file, with the destination's
 * identity, so that an fd the job's events never named (one inherited) can still be
 * placed; through a channel, one per (process, struct file) (event.h, ROAR_EV_WRITE).
 * A regular file seen before leaves at the `seen` word, as it always did: the inode's
 * mode is read only past it (a file's first write, or any write into a channel). */
static __always_inline void first_write(__u16 type, int fd, int fd2, long ret)
{
    struct file *f = fd_file(type == ROAR_EV_COPY ? fd2 : fd);
    struct roar_bpf_event *e;
    __u64 *slot, ino = 0;

    if (!f || !(slot = seen_slot(f)))
        return;
    if (*slot == ((__u64)f | SEEN_WRITE))
        return;
    if (is_channel_mode(file_mode_ino(f, &ino))) {
        if (roar_chan_seen((__u64)f, ino, SEEN_WRITE))
            return;
    } else {
        *slot = (__u64)f | SEEN_WRITE;
    }
    if (!(e = small_take(type)))
        return;
    e->h.ret = ret;
    e->h.fd = fd;
    e->h.fd2 = fd2;
    put_file_ident(&e->h, f);
    small_send(e);
}

/* A read through fd that returned data. Regular files send nothing (docs/ebpf.md,
 * Events: the open decides); a channel sends the first read of each process through
 * each description, with the channel's identity, so that data can be followed from
 * the processes that write into a pipe or socket pair to those that read it (SPEC
 * §4.9). Global: a single verified copy for the reads, receives and copies. */
__noinline int roar_channel_read(int fd, long ret)
{
    struct file *f = fd_file(fd);
    struct roar_bpf_event *e;
    __u64 ino = 0;

    if (!f || !is_channel_mode(file_mode_ino(f, &ino)))
        return 0;
    if (roar_chan_seen((__u64)f, ino, SEEN_READ))
        return 0;
    if (!(e = small_take(ROAR_EV_READ)))
        return 0;
    e->h.ret = ret;
    e->h.fd = fd;
    put_file_ident(&e->h, f);
    small_send(e);
    return 0;
}

/* Data of this process flows where no file event follows it (event.h, ROAR_EV_FLOW). */
static __always_inline void send_flow(__u64 flags, __u32 other)
{
    struct roar_bpf_event *e = small_take(ROAR_EV_FLOW);
    if (!e)
        return;
    e->h.flags = flags;
    e->h.pid2 = other;
    small_send(e);
}

/* ---- syscalls ------------------------------------------------------------------------ */

/* Files whose opens already woke the reader, by identity: a direct-mapped cache of tags
 * (seen_cache's layout; a collision only costs one more wake-up, a stale tag one fewer,
 * never an event). The same unchanged file opened again, as a build's headers are or
 * a loop of opens, wakes nobody. */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct seen_cache);
} woke SEC(".maps");

/* The ring flag for an open's record: BPF_RB_FORCE_WAKEUP when the open made a hash
 * request in the collector that may lose a race (an existing regular file, not
 * truncated: SPEC §4.4 makes it an input, or its content the old one of an edit), the
 * file has not woken the reader before, and the reader sleeps. An in-place editor (sed
 * -i, sort -o) reads, then replaces or rewrites the file within tens of microseconds;
 * on the 2 ms drain alone the collector came too late for nearly every small file
 * (issue 17). The wake-up costs the opener ~6 µs (PLATFORM.md), paid once per file and
 * at most once per sleep of the reader. */
static __always_inline __u64 open_wakes(const struct roar_bpf_ident *id, __u64 flags)
{
    __u32 zero = 0;
    struct seen_cache *c;
    __u64 tag, *slot;

    if (!id->has_ident || id->created || (flags & ROAR_BPF_O_TRUNC) ||
        (id->mode & ROAR_BPF_S_IFMT) != ROAR_BPF_S_IFREG)
        return BPF_RB_NO_WAKEUP;
    if (!(c = bpf_map_lookup_elem(&woke, &zero)))
        return BPF_RB_NO_WAKEUP;
    tag = (id->ino * 0x9e3779b97f4a7c15ull) ^ id->dev ^ (__u64)id->mtime_ns ^
          ((__u64)id->ctime_ns << 1) ^ id->size;
    slot = &c->slot[((id->ino * 0x9e3779b97f4a7c15ull) >> 40) & (SEEN_SLOTS - 1)];
    if (*slot == tag)
        return BPF_RB_NO_WAKEUP;
    *slot = tag;
    __sync_lock_test_and_set(&wake_pending, 1);
    if (!reader_asleep || !__sync_lock_test_and_set(&reader_asleep, 0))
        return BPF_RB_NO_WAKEUP;
    return BPF_RB_FORCE_WAKEUP;
}

/* The open's header fields other than the path's: task, fd, flags, FMODE_CREATED and
 * the file's identity. h must be zeroed. Returns the ring flag (open_wakes). */
static __always_inline __u64 open_hdr(struct roar_event_hdr *h, __u64 id, struct file *f,
                                     __u64 flags, __u64 mode, long ret)
{
    struct roar_bpf_ident fid = {};

    hdr_task_id(h, ROAR_EV_OPEN, id);
    h->ret = ret;
    h->fd = (int)ret;
    h->flags = flags;
    h->arg = mode;
    put_file_ident_created(&fid, f, true);
    roar_bpf_ident_to_hdr(h, &fid);
    return open_wakes(&fid, flags);
}

/* The common open, in the compact form (roar_bpf.h, struct roar_bpf_open): a name
 * relative to the cwd or absolute, shorter than OPEN_FAST_STR, not under /proc. Built in
 * the scratch record (not on the stack: docs/ebpf.md, Stack), every field written, no
 * clearing, and copied into the ring at its real length by one helper call (docs/ebpf.md,
 * Cost). False when the open is not such a one (nothing was sent): the caller takes the
 * general way. */
static __always_inline bool open_fast(struct scratch *s, __u64 id, __u64 upath, struct file *f,
                                      __u64 flags, __u64 mode, long ret)
{
    struct open_fast *r = &s->fast;
    long n = bpf_probe_read_user_str(r->str, OPEN_FAST_STR, (const void *)upath);

    if (n <= 0 || n >= OPEN_FAST_STR ||
        (r->str[0] == '/' && r->str[1] == 'p' && r->str[2] == 'r' && r->str[3] == 'o' &&
         r->str[4] == 'c' && r->str[5] == '/'))
        return false;
    r->o.form = ROAR_BPF_FORM_OPEN;
    r->o.str_len = (__u32)n;
    r->o.ret = ret;
    r->o.flags = flags;
    r->o.arg = mode;
    __builtin_memset(&r->o.id, 0, sizeof(r->o.id));
    put_file_ident_created(&r->o.id, f, true);
    r->o.tgid = (__u32)(id >> 32);
    r->o.tid = (__u32)id;
    r->o.pflags = ROAR_BPF_P_STR | (r->str[0] == '/' ? 0 : ROAR_BPF_P_CWD);
    r->o.pad[0] = r->o.pad[1] = r->o.pad[2] = 0;
    if (bpf_ringbuf_output(&events, r, sizeof(r->o) + (__u64)n, open_wakes(&r->o.id, flags)) <
        0)
        count_lost();
    return true;
}

/* An open of any kind that returned fd `ret`. Global: five call sites. */
__noinline int roar_on_open(int dfd, __u64 upath, __u64 flags, __u64 mode, long ret)
{
    /* the task pointer serves the fd lookup and the ids: no helper calls for either */
    struct task_struct *task = bpf_get_current_task_btf();
    struct file *f = (struct file *)task_fd_file(task, (int)ret);
    __u64 id = ((__u64)(__u32)task->tgid << 32) | (__u32)task->pid;
    struct scratch *s;
    __u64 *slot, wake;

    if (!f)
        return 0;
    /* A new open file at this address: its writes are news again. */
    if ((slot = seen_slot(f)))
        *slot = 0;
    if (!(s = scratch_claim()))
        return 0;
    if (upath && dfd == ROAR_BPF_AT_FDCWD && open_fast(s, id, upath, f, flags, mode, ret)) {
        __u32 m = s->fast.o.id.mode;
        __u64 ino = s->fast.o.id.ino;
        s->busy = 0;
        /* a FIFO or a device: a new description, whose first read and write are news
         * (one compare on the regular file's way) */
        if (is_channel_mode(m))
            roar_chan_forget((__u64)f, ino);
        return 0;
    }
    scratch_clear(s);
    wake = open_hdr(&s->ev.h, id, f, flags, mode, ret);
    /* path: the name the program used, made absolute (SPEC §4.2). The file's own
     * canonical path (its dentries, walked up) only where that name cannot serve: no
     * name at all (open_by_handle_at), or a /proc magic link (it names a file of the
     * opener, which means another one in the collector). The collector canonicalises
     * the rest itself, as it does for the preload tracer. */
    if (upath)
        roar_put_name(0, upath, dfd);
    if (!upath || (s->ev.str_len[0] > 6 && s->data[0] == '/' && s->data[1] == 'p' &&
                   s->data[2] == 'r' && s->data[3] == 'o' && s->data[4] == 'c' &&
                   s->data[5] == '/'))
        roar_put_walk(1, (__u64)f + bpf_core_field_offset(struct file, f_path));
    if (is_channel_mode(s->ev.h.mode))
        roar_chan_forget((__u64)f, s->ev.h.ino);
    scratch_send_wake(s, wake);
    return 0;
}

/* rename/link: two names; unlink/truncate: one; flags and arg per event.h. */
static __always_inline void on_names(__u16 type, int dfd1, const char *p1, int dfd2,
                                     const char *p2, __u64 flags, __u64 arg, long ret)
{
    struct scratch *s = scratch_take();

    if (!s)
        return;
    hdr_task(&s->ev.h, type);
    s->ev.h.ret = ret;
    s->ev.h.flags = flags;
    s->ev.h.arg = arg;
    if (p1)
        roar_put_name(0, (__u64)p1, dfd1);
    if (p2)
        roar_put_name(1, (__u64)p2, dfd2);
    scratch_send(s);
}

static __always_inline void on_linkat(int odfd, const char *op, int ndfd, const char *np,
                                      __u64 flags, long ret)
{
    char c = 1;

    /* linkat(fd, "", ..., AT_EMPTY_PATH): the source is the file behind fd (O_TMPFILE) */
    if ((flags & ROAR_BPF_AT_EMPTY_PATH) && bpf_probe_read_user(&c, 1, op) == 0 && c == 0) {
        struct scratch *s = scratch_take();
        if (!s)
            return;
        hdr_task(&s->ev.h, ROAR_EV_LINK);
        s->ev.h.ret = ret;
        s->ev.h.fd = odfd;
        s->ev.h.flags = flags;
        put_file_ident(&s->ev.h, fd_file(odfd)); /* confirms the collector's fd entry */
        roar_put_name(1, (__u64)np, ndfd);
        scratch_send(s);
        return;
    }
    on_names(ROAR_EV_LINK, odfd, op, ndfd, np, flags, 0, ret);
}

static __always_inline void on_chdir(int fd, long ret, __u64 flags)
{
    struct task_struct *task = current_task();
    struct scratch *s = scratch_take();

    if (!s)
        return;
    hdr_task(&s->ev.h, ROAR_EV_CHDIR);
    s->ev.h.ret = ret;
    s->ev.h.fd = fd;
    s->ev.h.flags = flags;
    roar_put_walk(0, cwd_path(task));
    scratch_send(s);
}

static __always_inline void on_fd_op(__u16 type, int fd, __u64 flags, __u64 arg, long ret)
{
    struct roar_bpf_event *e = small_take(type);
    if (!e)
        return;
    e->h.ret = ret;
    e->h.fd = fd;
    e->h.flags = flags;
    e->h.arg = arg;
    put_file_ident(&e->h, fd_file(fd));
    small_send(e);
}

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

/* Every syscall exit of every task passes here: the reads and closes leave at once (a
 * register load), every other call after the fast filter's bit test, so untraced tasks
 * pay one helper call and one array load at most. Arguments are read back from
 * the saved user registers (x86_64: di, si, dx, r10, r8, r9), which the syscalls handled
 * here never modify; that is why no sys_enter program is needed (one link less to
 * detach, and no per-call stash).
 *
 * A tp_btf program: the registers arrive as a typed pointer, read with plain loads (the
 * JIT's fault-checked loads) instead of a bpf_probe_read_kernel helper call, which costs
 * ~40 ns on every traced system call here (docs/ebpf.md, Cost). libbpf needs the kernel's
 * own BTF to find the attach point (~5-15 ms at load); the sched programs below stay raw
 * tracepoints, relocated against the small BTF subset the build extracts. */
SEC("tp_btf/sys_exit")
int BPF_PROG(roar_sys_exit, struct pt_regs *regs, long ret)
{
    __u64 id;
    long nr;

    if (syscall_knobs || ret < 0) {
        if (syscall_knobs & ROAR_BPF_KNOB_REFUSE)
            asm volatile("r0 = *(u64 *)(r10 + 8)" ::: "r0");
        return 0;
    }
    nr = regs->orig_ax;
    /* The commonest calls, which send nothing (docs/ebpf.md, Events), leave before the
     * filter's helper call: every call and return is dear here. */
    switch (nr) {
    case ROAR_NR_pread64: /* no channel reads at an offset: pipes and sockets refuse it */
    case ROAR_NR_preadv:
    case ROAR_NR_close:
        return 0;
    default:
        break;
    }
    id = bpf_get_current_pid_tgid();
    if (!is_active((__u32)(id >> 32)))
        return 0;
    /* each case loads the registers it uses, no more */
    switch (nr) {
    case ROAR_NR_read:
    case ROAR_NR_readv:
    case ROAR_NR_preadv2: /* (at offset -1, it reads pipes too) */
        /* a regular file leaves after the fd table and the inode's mode (docs/ebpf.md,
         * Events: channel reads) */
        if (ret > 0)
            roar_channel_read((int)regs->di, ret);
        return 0;
    case ROAR_NR_write:
    case ROAR_NR_pwrite64:
    case ROAR_NR_writev:
    case ROAR_NR_pwritev:
        if (ret > 0) /* a zero-byte write is not a change: keep the first real one */
            first_write(ROAR_EV_WRITE, (int)regs->di, -1, ret);
        return 0;
    case ROAR_NR_dup:
        send_fds(ROAR_EV_DUP, ret, (int)regs->di, (int)ret, 0);
        return 0;
    default:
        break;
    }
    switch (nr) {
    case ROAR_NR_open:
        roar_on_open(ROAR_BPF_AT_FDCWD, regs->di, regs->si, regs->dx, ret);
        break;
    case ROAR_NR_creat:
        roar_on_open(ROAR_BPF_AT_FDCWD, regs->di,
                ROAR_BPF_O_WRONLY | ROAR_BPF_O_CREAT | ROAR_BPF_O_TRUNC, regs->si, ret);
        break;
    case ROAR_NR_openat:
        roar_on_open((int)regs->di, regs->si, regs->dx, regs->r10, ret);
        break;
    case ROAR_NR_openat2: {
        struct open_how how = {};
        bpf_probe_read_user(&how, sizeof(how), (void *)regs->dx);
        roar_on_open((int)regs->di, regs->si, how.flags, how.mode, ret);
        break;
    }
    case ROAR_NR_open_by_handle_at:
        roar_on_open(ROAR_BPF_AT_FDCWD, 0, regs->dx, 0, ret);
        break;

    case ROAR_NR_pwritev2:
        /* RWF_NOAPPEND writes anywhere through an O_APPEND fd: always news (fdstate) */
        if (regs->r9 & ROAR_BPF_RWF_NOAPPEND)
            on_fd_op(ROAR_EV_WRITE, (int)regs->di, ROAR_WRITE_F_NOAPPEND, 0, ret);
        else if (ret > 0)
            first_write(ROAR_EV_WRITE, (int)regs->di, -1, ret);
        break;
    case ROAR_NR_sendfile:
        if (ret > 0)
            first_write(ROAR_EV_COPY, (int)regs->si, (int)regs->di, ret);
        break;
    case ROAR_NR_copy_file_range:
    case ROAR_NR_splice:
    case ROAR_NR_tee:
        /* the source may be a pipe or a socket: its read is a channel read too */
        if (ret > 0) {
            first_write(ROAR_EV_COPY, (int)regs->di, (int)regs->dx, ret);
            roar_channel_read((int)regs->di, ret);
        }
        break;
    case ROAR_NR_vmsplice:
        on_vmsplice((int)regs->di, ret);
        break;
    case ROAR_NR_recvfrom:
    case ROAR_NR_recvmsg:
    case ROAR_NR_recvmmsg:
        if (ret > 0)
            roar_channel_read((int)regs->di, ret);
        break;
    case ROAR_NR_sendto:
    case ROAR_NR_sendmsg:
    case ROAR_NR_sendmmsg:
        if (ret > 0)
            first_write(ROAR_EV_WRITE, (int)regs->di, -1, ret);
        break;
    case ROAR_NR_mmap:
        on_mmap((int)regs->r8, regs->r10, regs->dx, ret);
        break;
    case ROAR_NR_shmat: /* System V shared memory: no fd, no file */
        on_shared_anon(true);
        break;
    case ROAR_NR_ptrace:
        on_ptrace(regs->di, regs->si);
        break;
    case ROAR_NR_process_vm_readv:
    case ROAR_NR_process_vm_writev:
        on_process_vm((__u32)regs->di);
        break;
    case ROAR_NR_ftruncate:
        on_fd_op(ROAR_EV_TRUNCATE, (int)regs->di, 0, regs->si, ret);
        break;
    case ROAR_NR_fallocate:
        on_fd_op(ROAR_EV_FALLOCATE, (int)regs->di, regs->si, 0, ret);
        break;

    case ROAR_NR_close_range: {
        __u32 lo = (__u32)regs->di, hi = (__u32)regs->si;
        if (lo > 0x7fffffff)
            break;
        if (hi > 0x7fffffff)
            hi = 0x7fffffff;
        send_fds(ROAR_EV_CLOSE, ret, (int)lo, (int)hi,
                 (regs->dx & ROAR_BPF_CLOSE_RANGE_CLOEXEC) ? ROAR_CLOSE_F_CLOEXEC : 0);
        break;
    }
    case ROAR_NR_dup2:
        if ((int)regs->di != (int)ret)
            send_fds(ROAR_EV_DUP, ret, (int)regs->di, (int)ret, 0);
        break;
    case ROAR_NR_dup3:
        send_fds(ROAR_EV_DUP, ret, (int)regs->di, (int)ret, regs->dx & ROAR_BPF_O_CLOEXEC);
        break;
    case ROAR_NR_fcntl: {
        int cmd = (int)regs->si;
        if (cmd == ROAR_BPF_F_DUPFD)
            send_fds(ROAR_EV_DUP, ret, (int)regs->di, (int)ret, 0);
        else if (cmd == ROAR_BPF_F_DUPFD_CLOEXEC)
            send_fds(ROAR_EV_DUP, ret, (int)regs->di, (int)ret, ROAR_BPF_O_CLOEXEC);
        else if (cmd == ROAR_BPF_F_SETFD)
            send_fds(ROAR_EV_SETFD, ret, (int)regs->di, -1, regs->dx & ROAR_BPF_FD_CLOEXEC);
        else if (cmd == ROAR_BPF_F_SETFL && !(regs->dx & ROAR_BPF_O_APPEND))
            /* dropping O_APPEND: a zero-byte write that says so (fdstate) */
            on_fd_op(ROAR_EV_WRITE, (int)regs->di, ROAR_WRITE_F_NOAPPEND, 0, 0);
        break;
    }

    case ROAR_NR_rename:
        on_names(ROAR_EV_RENAME, ROAR_BPF_AT_FDCWD, (const char *)regs->di, ROAR_BPF_AT_FDCWD,
                 (const char *)regs->si, 0, 0, ret);
        break;
    case ROAR_NR_renameat:
    case ROAR_NR_renameat2:
        on_names(ROAR_EV_RENAME, (int)regs->di, (const char *)regs->si, (int)regs->dx,
                 (const char *)regs->r10, nr == ROAR_NR_renameat2 ? (__u32)regs->r8 : 0, 0,
                 ret);
        break;
    case ROAR_NR_link:
        on_names(ROAR_EV_LINK, ROAR_BPF_AT_FDCWD, (const char *)regs->di, ROAR_BPF_AT_FDCWD,
                 (const char *)regs->si, 0, 0, ret);
        break;
    case ROAR_NR_linkat:
        on_linkat((int)regs->di, (const char *)regs->si, (int)regs->dx,
                  (const char *)regs->r10, (__u32)regs->r8, ret);
        break;
    case ROAR_NR_unlink:
        on_names(ROAR_EV_UNLINK, ROAR_BPF_AT_FDCWD, (const char *)regs->di, 0, NULL, 0, 0,
                 ret);
        break;
    case ROAR_NR_rmdir:
        on_names(ROAR_EV_UNLINK, ROAR_BPF_AT_FDCWD, (const char *)regs->di, 0, NULL,
                 ROAR_BPF_AT_REMOVEDIR, 0, ret);
        break;
    case ROAR_NR_unlinkat:
        on_names(ROAR_EV_UNLINK, (int)regs->di, (const char *)regs->si, 0, NULL,
                 regs->dx & ROAR_BPF_AT_REMOVEDIR, 0, ret);
        break;
    case ROAR_NR_truncate:
        on_names(ROAR_EV_TRUNCATE, ROAR_BPF_AT_FDCWD, (const char *)regs->di, 0, NULL, 0,
                 regs->si, ret);
        break;
    case ROAR_NR_chdir:
        on_chdir(-1, ret, 0);
        break;
    case ROAR_NR_fchdir:
        on_chdir((int)regs->di, ret, 0);
        break;
    case ROAR_NR_unshare:
        /* a cwd shared with other processes (CLONE_FS) is now this one's own */
        if (regs->di & ROAR_BPF_CLONE_FS)
            on_chdir(-1, ret, ROAR_BPF_CHDIR_UNSHARED);
        break;

    case ROAR_NR_pipe:
    case ROAR_NR_pipe2:
        on_fd_pair((const int *)regs->di, ret, true);
        break;
    case ROAR_NR_socketpair:
        on_fd_pair((const int *)regs->r10, ret, false);
        break;
    case ROAR_NR_io_setup:
        /* native AIO: io_submit reads and writes without the syscalls traced here. An
         * AIO context is not inherited (fork, exec), so every io_submit follows an
         * io_setup of its own process, and io_setup is the rarer call. */
        send_incomplete(ROAR_INC_AIO);
        break;
    case ROAR_NR_io_uring_setup:
        /* its reads and writes bypass the syscalls traced here */
        send_incomplete(ROAR_INC_IO_URING);
        send_fds(ROAR_EV_FDNEW, ret, (int)ret, -1, 0);
        break;
    /* an end whose other side cannot be named (event.h, ROAR_FDNEW_F_OPAQUE): a socket
     * (connected to whoever), shared memory (memfd), a counter any holder signals, another
     * process's fd (pidfd_getfd), another's page faults served (userfaultfd) */
    case ROAR_NR_socket:
    case ROAR_NR_accept:
    case ROAR_NR_accept4:
    case ROAR_NR_eventfd:
    case ROAR_NR_eventfd2:
    case ROAR_NR_memfd_create:
    case ROAR_NR_memfd_secret:
    case ROAR_NR_userfaultfd:
    case ROAR_NR_pidfd_getfd:
        send_fds(ROAR_EV_FDNEW, ret, (int)ret, -1, ROAR_FDNEW_F_OPAQUE);
        break;
    /* no data between processes */
    case ROAR_NR_epoll_create:
    case ROAR_NR_epoll_create1:
    case ROAR_NR_signalfd:
    case ROAR_NR_signalfd4:
    case ROAR_NR_timerfd_create:
    case ROAR_NR_inotify_init:
    case ROAR_NR_inotify_init1:
    case ROAR_NR_fanotify_init:
    case ROAR_NR_perf_event_open:
    case ROAR_NR_pidfd_open:
        send_fds(ROAR_EV_FDNEW, ret, (int)ret, -1, 0);
        break;
    default:
        break;
    }
    return 0;
}

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
