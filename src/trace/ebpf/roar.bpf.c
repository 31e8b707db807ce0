/* roar.bpf.c: the eBPF tracer's kernel side. Four tracepoint programs follow the job's
 * process tree and turn its file syscalls into roar_bpf_event records (roar_bpf.h).
 * One translation unit in parts, included in order: helpers.bpf.h, paths.bpf.h (path
 * walking), this file's small records and open, flow.bpf.h (SPEC §4.9's calls), the
 * system call program, procs.bpf.h (fork, exec, exit). */
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

#include "trace/ebpf/helpers.bpf.h"
#include "trace/ebpf/paths.bpf.h"

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

#include "trace/ebpf/flow.bpf.h"

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

#include "trace/ebpf/procs.bpf.h"
