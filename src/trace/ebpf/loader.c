/* The eBPF tracer's loader: open -> knobs -> load -> attach -> consume -> one cleanup;
 * the records it reads are turned into event.h records by convert.c. */
#include "trace/ebpf/loader.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "trace/ebpf/roar_bpf.h"
#include "trace/ring_layout.h"
#include "util/buf.h"
#include "util/err.h"

#ifdef ROAR_HAVE_EBPF

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/capability.h>
#include <sys/mman.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/syscall.h>

#include "roar.skel.h"
#include "roar_btf.h"

#define DEFAULT_RING (16u << 20)
#define DEFAULT_DRAIN_MS 2u

struct roar_ebpf {
    struct roar_bpf *skel;
    struct ring_buffer *rb;
    /* Edge-triggered on the ring: ready only when the kernel side forces a wake-up
     * (roar_ebpf_wait). libbpf's own epoll fd is level-triggered: once woken, it would
     * report every record sent without a wake-up as well, and the reader would stop
     * batching its drains. -1 when it could not be made: then the reader sleeps. */
    int wake_ep;
    roar_ebpf_conv *conv;
    unsigned drain_ms;
    uint64_t bad; /* records that did not convert */
    /* the consumer's target while ring_buffer__consume runs */
    roar_ebpf_record_cb cb;
    void *payload;
    int cb_error;
    int delivered;
    /* roar_ebpf_read's queue of converted records */
    roar_buf queue;
    size_t qpos;
    roar_ebpf_timing timing;
};

bool roar_ebpf_built(void)
{
    return true;
}

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* When the running kernel is the one roar.bpf.o was built against (the same ELF notes,
 * hence the same build id), the BTF subset embedded at build time can stand in for the
 * kernel's whole BTF in CO-RE relocation: libbpf then does not relocate against 5 MB of
 * it on each run (it still parses it once, for the tp_btf attach point and the kfunc).
 * Returns an fd of a memfd holding it (*path names it), or -1: relocate against
 * /sys/kernel/btf/vmlinux as usual. */
static int min_btf_fd(char path[64])
{
    unsigned char notes[4096];
    ssize_t n = -1;
    int fd;

    if (roar_min_btf_len == 0 || roar_build_notes_len == 0 ||
        roar_build_notes_len > sizeof(notes))
        return -1;
    if ((fd = open("/sys/kernel/notes", O_RDONLY | O_CLOEXEC)) >= 0) {
        n = read(fd, notes, sizeof(notes));
        close(fd);
    }
    if (n != (ssize_t)roar_build_notes_len || memcmp(notes, roar_build_notes, (size_t)n) != 0)
        return -1;
    if ((fd = memfd_create("roar-btf", MFD_CLOEXEC)) < 0)
        return -1;
    if (write(fd, roar_min_btf, roar_min_btf_len) != (ssize_t)roar_min_btf_len) {
        close(fd);
        return -1;
    }
    snprintf(path, 64, "/proc/self/fd/%d", fd);
    return fd;
}

/* The running kernel's BTF id of struct file, for the program's typed loads (roar.bpf.c,
 * file_btf_id): the one found at build time when the kernel is that one (have_min_btf),
 * else looked up in the kernel's BTF (a few ms; libbpf then parses it for relocation
 * anyway). 0 if not found: the program reads the file with probe reads instead. */
static uint32_t file_btf_id(bool have_min_btf)
{
    struct btf *btf;
    int id;

    if (have_min_btf)
        return roar_file_btf_id;
    if (!(btf = btf__load_vmlinux_btf()))
        return 0;
    id = btf__find_by_name_kind(btf, "file", BTF_KIND_STRUCT);
    btf__free(btf);
    return id > 0 ? (uint32_t)id : 0;
}

/* libbpf talks through a process-wide print callback. While we load, its first warning
 * is kept for our error message (the CLI prints, not a library); ROAR_EBPF_DEBUG=1 shows
 * everything, verifier logs included, on stderr. */
static char libbpf_first[512];
/* The verifier's reason for refusing a program: the last line of its log before the
 * statistics ("processed N insns ..."). */
static char verifier_reason[256];
static bool libbpf_debug;

static void keep_verifier_reason(const char *msg)
{
    const char *log = strstr(msg, "-- BEGIN PROG LOAD LOG --\n"), *line, *end, *reason = NULL;
    size_t reason_len = 0;

    if (!log)
        return;
    for (line = log + strlen("-- BEGIN PROG LOAD LOG --\n"); *line; line = end + 1) {
        if (!(end = strchr(line, '\n')))
            break;
        if (!strncmp(line, "processed ", 10) || !strncmp(line, "verification time ", 18) ||
            !strncmp(line, "-- END PROG LOAD LOG --", 23))
            break;
        if (end > line) {
            reason = line;
            reason_len = (size_t)(end - line);
        }
    }
    if (reason && !verifier_reason[0])
        snprintf(verifier_reason, sizeof(verifier_reason), "%.*s", (int)reason_len, reason);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
    char *msg = NULL;

    if (libbpf_debug) {
        vfprintf(stderr, fmt, ap);
        return 0;
    }
    /* Whole: a verifier log gives its reason at the end, after up to megabytes of trace. */
    if (level != LIBBPF_WARN || vasprintf(&msg, fmt, ap) < 0)
        return 0;
    keep_verifier_reason(msg);
    if (!libbpf_first[0]) {
        size_t n;
        snprintf(libbpf_first, sizeof(libbpf_first), "%.*s", (int)sizeof(libbpf_first) - 1,
                 msg);
        n = strlen(libbpf_first);
        while (n && libbpf_first[n - 1] == '\n')
            libbpf_first[--n] = '\0';
    }
    free(msg);
    return 0;
}

/* Whether this process may load and attach the programs: CAP_BPF and CAP_PERFMON, or
 * CAP_SYS_ADMIN (kernels before 5.8 know only that one). Asked before loading, so that a
 * refusal afterwards is the kernel's, not a matter of privileges. */
static bool has_bpf_privileges(void)
{
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2] = {{0}};
    uint64_t eff;

    if (syscall(SYS_capget, &hdr, data) < 0)
        return geteuid() == 0;
    eff = (uint64_t)data[1].effective << 32 | data[0].effective;
    if (eff & (1ull << CAP_SYS_ADMIN))
        return true;
    return (eff & (1ull << 39 /* CAP_BPF */)) && (eff & (1ull << 38 /* CAP_PERFMON */));
}

/* Words of the fast filter (one bit per pid): kernel.pid_max rounded up, 4M pids by
 * default (512 KiB). */
static uint32_t active_words(void)
{
    unsigned long pid_max = 4194304;
    FILE *f = fopen("/proc/sys/kernel/pid_max", "re");
    if (f) {
        if (fscanf(f, "%lu", &pid_max) != 1 || pid_max == 0 || pid_max > (1ul << 30))
            pid_max = 4194304;
        fclose(f);
    }
    return (uint32_t)((pid_max + 63) / 64);
}

static int needs_root(void)
{
    return roar_error_set(ROAR_EUNSUPPORTED,
                          "the eBPF tracer needs root (CAP_BPF and CAP_PERFMON): run it "
                          "as root or through sudo, or use '-t preload'");
}

static int unsupported(int err, const char *what)
{
    err = err < 0 ? -err : err;
    return roar_error_set(ROAR_EUNSUPPORTED, "the eBPF tracer cannot %s: %s%s%s", what,
                          strerror(err), libbpf_first[0] ? ": " : "", libbpf_first);
}

/* The programs did not load, with the privileges to load them. EPERM is the kernel's
 * policy (lockdown, a security module): nothing to do here. Anything else is the
 * verifier refusing our programs on this kernel: a bug of ours, never a reason for the
 * tests to skip, so not ROAR_EUNSUPPORTED. */
static int load_failed(int err)
{
    err = err < 0 ? -err : err;
    if (err == EPERM)
        return unsupported(err, "load its programs (the kernel's policy forbids it)");
    if (verifier_reason[0])
        return roar_error_set(ROAR_ERROR,
                              "the kernel's verifier refused the eBPF tracer's programs: %s; "
                              "a bug in git roar, please report it; use '-t preload'",
                              verifier_reason);
    return roar_error_set(ROAR_ERROR, "the eBPF tracer cannot load its programs: %s%s%s",
                          strerror(err), libbpf_first[0] ? ": " : "", libbpf_first);
}

/* Hands one converted record to the consumer's callback, remembering its refusal. */
static int deliver(const void *rec, size_t len, void *payload)
{
    roar_ebpf *t = payload;
    int error = t->cb(rec, len, t->payload);
    if (error < 0)
        t->cb_error = error;
    else
        t->delivered++;
    return error;
}

static int on_sample(void *ctx, void *data, size_t size)
{
    roar_ebpf *t = ctx;
    int error = roar_ebpf_conv_record(t->conv, data, size, deliver, t);

    if (error < 0 && t->cb_error == 0) {
        /* not the callback: a record we could not read is a lost one */
        t->bad++;
        roar_error_clear();
        return 0;
    }
    return error;
}

int roar_ebpf_open(roar_ebpf **out, const roar_ebpf_opts *opts)
{
    roar_ebpf_opts o = {0};
    libbpf_print_fn_t old_print;
    LIBBPF_OPTS(bpf_object_open_opts, oopts);
    const char *debug;
    char btf_path[64];
    int btf_fd = -1;
    roar_ebpf *t;
    uint64_t t0;
    int error = 0, err, ncpu;

    *out = NULL;
    if (opts)
        o = *opts;
    if (!o.ring_bytes)
        o.ring_bytes = DEFAULT_RING;
    if (!o.drain_ms)
        o.drain_ms = DEFAULT_DRAIN_MS;
    if (!o.walk_budget || o.walk_budget > ROAR_BPF_WALK_MAX)
        o.walk_budget = ROAR_BPF_WALK_MAX;
    if (o.ring_bytes < 4096 || (o.ring_bytes & (o.ring_bytes - 1)) || o.ring_bytes > (1u << 30))
        return roar_error_set(ROAR_EINVALID, "eBPF ring size %zu is not a power of two "
                                             "between 4 KiB and 1 GiB",
                              o.ring_bytes);
    if (access("/sys/kernel/btf/vmlinux", R_OK) < 0)
        return roar_error_set(ROAR_EUNSUPPORTED,
                              "the eBPF tracer needs a kernel with BTF "
                              "(/sys/kernel/btf/vmlinux): use '-t preload'");

    if (!has_bpf_privileges())
        return needs_root();

    if (!(t = calloc(1, sizeof(*t))))
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    roar_buf_init(&t->queue);
    t->wake_ep = -1;
    t->drain_ms = o.drain_ms;
    if ((error = roar_ebpf_conv_new(&t->conv)) < 0) {
        free(t);
        return error;
    }

    libbpf_first[0] = verifier_reason[0] = '\0';
    debug = getenv("ROAR_EBPF_DEBUG");
    libbpf_debug = debug && *debug;
    old_print = libbpf_set_print(libbpf_print);

    t0 = now_us();
    if ((btf_fd = min_btf_fd(btf_path)) >= 0)
        oopts.btf_custom_path = btf_path;
    if (!(t->skel = roar_bpf__open_opts(&oopts))) {
        error = unsupported(errno, "open its programs");
        goto cleanup;
    }
    ncpu = libbpf_num_possible_cpus();
    if (ncpu <= 0) {
        error = unsupported(ncpu, "count the CPUs");
        goto cleanup;
    }
    if ((err = bpf_map__set_max_entries(t->skel->maps.events, (uint32_t)o.ring_bytes)) < 0 ||
        (err = bpf_map__set_max_entries(t->skel->maps.scratch, (uint32_t)ncpu)) < 0 ||
        (err = bpf_map__set_max_entries(t->skel->maps.active, active_words())) < 0) {
        error = unsupported(err, "size its maps");
        goto cleanup;
    }
    t->skel->rodata->walk_budget = o.walk_budget;
    t->skel->rodata->syscall_knobs = (o.empty_syscalls ? ROAR_BPF_KNOB_EMPTY : 0) |
                                     (o.verifier_refusal ? ROAR_BPF_KNOB_REFUSE : 0);
    t->skel->rodata->file_btf_id = o.probe_reads ? 0 : file_btf_id(btf_fd >= 0);
    /* ROAR_EBPF_DEBUG=2: the verifier's statistics for each program, even when it
     * accepts it (each function's stack depth: their sum along a call chain must stay
     * within 512 bytes). */
    if (libbpf_debug && !strcmp(debug, "2")) {
        struct bpf_program *prog;
        bpf_object__for_each_program(prog, t->skel->obj)
            bpf_program__set_log_level(prog, 4 /* BPF_LOG_STATS */);
    }
    t->timing.open_us = now_us() - t0;

    t0 = now_us();
    if ((err = roar_bpf__load(t->skel)) < 0) {
        error = load_failed(err);
        goto cleanup;
    }
    t->timing.load_us = now_us() - t0;

    t0 = now_us();
    if ((err = roar_bpf__attach(t->skel)) < 0) {
        error = unsupported(err, "attach to the kernel's tracepoints");
        goto cleanup;
    }
    t->rb = ring_buffer__new(bpf_map__fd(t->skel->maps.events), on_sample, t, NULL);
    if (!t->rb) {
        error = unsupported(errno, "read its ring buffer");
        goto cleanup;
    }
    if ((t->wake_ep = epoll_create1(EPOLL_CLOEXEC)) >= 0) {
        struct epoll_event ev = {.events = EPOLLIN | EPOLLET};
        if (epoll_ctl(t->wake_ep, EPOLL_CTL_ADD, bpf_map__fd(t->skel->maps.events), &ev) < 0) {
            close(t->wake_ep);
            t->wake_ep = -1;
        }
    }
    t->timing.attach_us = now_us() - t0;

cleanup:
    libbpf_set_print(old_print);
    if (btf_fd >= 0)
        close(btf_fd);
    if (error < 0) {
        roar_ebpf_free(t);
        return error;
    }
    *out = t;
    return 0;
}

void roar_ebpf_free(roar_ebpf *t)
{
    if (!t)
        return;
    if (t->wake_ep >= 0)
        close(t->wake_ep);
    ring_buffer__free(t->rb);
    roar_bpf__destroy(t->skel);
    roar_ebpf_conv_free(t->conv);
    roar_buf_dispose(&t->queue);
    free(t);
}

int roar_ebpf_start(roar_ebpf *t, pid_t root)
{
    struct roar_bpf_proc v = {ROAR_BPF_T_WAIT_EXEC};
    uint32_t key = (uint32_t)root;

    if (bpf_map__update_elem(t->skel->maps.traced, &key, sizeof(key), &v, sizeof(v), BPF_ANY) <
        0)
        return roar_error_set_errno(ROAR_ERROR, "cannot trace process %d", (int)root);
    return 0;
}

int roar_ebpf_consume(roar_ebpf *t, roar_ebpf_record_cb cb, void *payload)
{
    int n;

    t->cb = cb;
    t->payload = payload;
    t->cb_error = 0;
    t->delivered = 0;
    n = ring_buffer__consume(t->rb);
    if (t->cb_error < 0)
        return t->cb_error;
    if (n < 0)
        return roar_error_set(ROAR_ERROR, "cannot read the eBPF ring buffer: %s", strerror(-n));
    return t->delivered;
}

static int queue_record(const void *rec, size_t len, void *payload)
{
    return roar_buf_put(&((roar_ebpf *)payload)->queue, rec, len);
}

int roar_ebpf_read(roar_ebpf *t, void *buf, size_t cap, size_t *out_len, int wait_ms)
{
    /* Read the clock only once the ring is empty, not for each of a build's ~100k records. */
    uint64_t deadline = 0;
    int error;

    *out_len = 0;
    for (;;) {
        if (t->qpos < t->queue.size) {
            struct roar_event_hdr h;
            /* records in the queue were encoded here: their lengths are right */
            memcpy(&h, t->queue.ptr + t->qpos, sizeof(h));
            if (h.len > cap)
                return roar_error_set(ROAR_ELIMIT, "ebpf: record of %u bytes", h.len);
            memcpy(buf, t->queue.ptr + t->qpos, h.len);
            *out_len = h.len;
            t->qpos += h.len;
            return 0;
        }
        roar_buf_clear(&t->queue);
        t->qpos = 0;
        if ((error = roar_ebpf_consume(t, queue_record, t)) < 0)
            return error;
        if (t->queue.size)
            continue;
        {
            uint64_t now, step = (uint64_t)t->drain_ms * 1000u;
            struct timespec ts;
            if (wait_ms <= 0)
                return 0;
            now = now_us();
            if (!deadline)
                deadline = now + (uint64_t)wait_ms * 1000u;
            if (now >= deadline)
                return 0;
            if (step > deadline - now)
                step = deadline - now;
            ts.tv_sec = (time_t)(step / 1000000u);
            ts.tv_nsec = (long)(step % 1000000u) * 1000;
            nanosleep(&ts, NULL);
        }
    }
}

void roar_ebpf_wait(roar_ebpf *t, int timeout_ms)
{
    struct epoll_event ev;

    if (t->wake_ep < 0) {
        poll(NULL, 0, timeout_ms);
        return;
    }
    /* An open that would have woken us came while we were reading: read again now. */
    __atomic_store_n(&t->skel->bss->reader_asleep, 1, __ATOMIC_SEQ_CST);
    if (!__atomic_exchange_n(&t->skel->bss->wake_pending, 0, __ATOMIC_SEQ_CST))
        epoll_wait(t->wake_ep, &ev, 1, timeout_ms);
    __atomic_store_n(&t->skel->bss->reader_asleep, 0, __ATOMIC_RELAXED);
}

uint64_t roar_ebpf_lost(roar_ebpf *t)
{
    return __atomic_load_n(&t->skel->bss->lost, __ATOMIC_RELAXED) +
           __atomic_load_n(&t->skel->bss->untracked, __ATOMIC_RELAXED) + t->bad +
           roar_ebpf_conv_unnamed(t->conv);
}

unsigned roar_ebpf_drain_ms(const roar_ebpf *t)
{
    return t->drain_ms;
}

void roar_ebpf_timing_get(roar_ebpf_timing *out, const roar_ebpf *t)
{
    *out = t->timing;
}

/* ---- the collector's source ---- */

static int es_start(void *self, pid_t root)
{
    return roar_ebpf_start(self, root);
}

static int es_read(void *self, void *buf, size_t cap, size_t *out_len, int wait_ms)
{
    return roar_ebpf_read(self, buf, cap, out_len, wait_ms);
}

static uint64_t es_lost(void *self)
{
    return roar_ebpf_lost(self);
}

/* Descendants still running past roar.waitDescendants stop being traced (SPEC §4.1). */
static void es_stop(void *self)
{
    roar_ebpf *t = self;
    size_t len = (size_t)bpf_map__max_entries(t->skel->maps.active) * sizeof(uint64_t);
    int fd = bpf_map__fd(t->skel->maps.traced), afd = bpf_map__fd(t->skel->maps.active);
    uint32_t key, next;
    void *bits;

    /* the fast filter first: from here on no syscall of the job is looked at */
    bits = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, afd, 0);
    if (bits != MAP_FAILED) {
        memset(bits, 0, len);
        munmap(bits, len);
    }
    while (bpf_map_get_next_key(fd, NULL, &next) == 0) {
        key = next;
        if (bpf_map_delete_elem(fd, &key) < 0)
            break;
    }
}

static void es_wait(void *self, int timeout_ms)
{
    roar_ebpf_wait(self, timeout_ms);
}

static void es_free(void *self)
{
    roar_ebpf_free(self);
}

int roar_ebpf_source_new(roar_trace_source *out, const roar_ebpf_opts *opts)
{
    roar_ebpf *t;
    int error;

    memset(out, 0, sizeof(*out));
    if ((error = roar_ebpf_open(&t, opts)) < 0)
        return error;
    out->name = "ebpf";
    out->self = t;
    out->sees_every_write = true;
    out->reports_flow = true; /* channel reads, pipes' identity, flows: docs/ebpf.md */
    out->start = es_start;
    out->read = es_read;
    out->wait = es_wait;
    out->lost = es_lost;
    out->stop = es_stop;
    out->free = es_free;
    return 0;
}

#else /* !ROAR_HAVE_EBPF */

/* Built without the tracer: every entry point says so, in words the CLI can print. */
struct roar_ebpf {
    int unused;
};

bool roar_ebpf_built(void)
{
    return false;
}

static int not_built(void)
{
    return roar_error_set(ROAR_EUNSUPPORTED,
                          "the eBPF tracer is not built in (clang, bpftool, libbpf or the "
                          "kernel's BTF was missing at build time): use '-t preload'");
}

int roar_ebpf_open(roar_ebpf **out, const roar_ebpf_opts *opts)
{
    (void)opts;
    *out = NULL;
    return not_built();
}

void roar_ebpf_free(roar_ebpf *t)
{
    (void)t;
}

int roar_ebpf_start(roar_ebpf *t, pid_t root)
{
    (void)t;
    (void)root;
    return not_built();
}

int roar_ebpf_consume(roar_ebpf *t, roar_ebpf_record_cb cb, void *payload)
{
    (void)t;
    (void)cb;
    (void)payload;
    return not_built();
}

int roar_ebpf_read(roar_ebpf *t, void *buf, size_t cap, size_t *out_len, int wait_ms)
{
    (void)t;
    (void)buf;
    (void)cap;
    (void)wait_ms;
    *out_len = 0;
    return not_built();
}

void roar_ebpf_wait(roar_ebpf *t, int timeout_ms)
{
    (void)t;
    (void)timeout_ms;
}

uint64_t roar_ebpf_lost(roar_ebpf *t)
{
    (void)t;
    return 0;
}

unsigned roar_ebpf_drain_ms(const roar_ebpf *t)
{
    (void)t;
    return 0;
}

void roar_ebpf_timing_get(roar_ebpf_timing *out, const roar_ebpf *t)
{
    (void)t;
    memset(out, 0, sizeof(*out));
}

int roar_ebpf_source_new(roar_trace_source *out, const roar_ebpf_opts *opts)
{
    (void)opts;
    memset(out, 0, sizeof(*out));
    return not_built();
}

#endif /* ROAR_HAVE_EBPF */
