/* The preload shim's core: start-up (map the ring), event publishing, path building,
 * the hash-before-destroy round trip over the control socket, fork bookkeeping. */
#include "trace/preload/shim.h"

#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct roar_ringp roar_shim_ring;
int roar_shim_on;
pid_t roar_shim_pid;
__thread int roar_shim_guard __attribute__((tls_model("initial-exec")));
__thread pid_t roar_shim_tid __attribute__((tls_model("initial-exec")));
__thread int roar_shim_critical __attribute__((tls_model("initial-exec")));

#define ENV_MAX ROAR_SHIM_ENV_MAX
char roar_shim_env_ring[ENV_MAX];
char roar_shim_env_ring_fd[64];
char roar_shim_env_sock[ENV_MAX];
char roar_shim_env_wait[64];
char roar_shim_preload[ENV_MAX];

static char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static unsigned hash_wait_ms = 30000;

/* The ring as ROAR_ENV_RING_FD names it (fd -1: not given), and the ring this process
 * mapped: its identity, and its owner (a process of another user is in a user switch). */
static int ring_fd = -1;
static uint64_t ring_dev, ring_ino;
static dev_t mapped_dev;
static ino_t mapped_ino;
static uid_t ring_owner;

/* The per-process control connection: lazily connected, O_CLOEXEC, moved >= CONN_MIN
 * so it stays out of the way of programs that assume small fds are theirs. */
#define CONN_MIN 900
int roar_shim_conn_fd = -1;
#define conn_fd roar_shim_conn_fd
static pid_t conn_pid;
static pthread_mutex_t conn_lock = PTHREAD_MUTEX_INITIALIZER;

/* First-read / first-write bits per fd; fds above the table report every call. */
#define FD_TABLE ROAR_FD_TABLE
#define fd_bits roar_shim_fd_bits
unsigned char roar_shim_fd_bits[ROAR_FD_TABLE];

/* Internal I/O goes straight to the kernel: the libc names are ours. */
static long sys_close(int fd)
{
    return syscall(SYS_close, fd);
}

pid_t roar_shim_tid_slow(void)
{
    return roar_shim_tid = (pid_t)syscall(SYS_gettid);
}

void roar_shim_ident(struct roar_event_hdr *h, const struct stat *st)
{
    h->has_ident = 1;
    h->dev = (uint64_t)st->st_dev;
    h->ino = (uint64_t)st->st_ino;
    h->size = (uint64_t)st->st_size;
    h->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
    h->ctime_ns = (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec;
    h->mode = (uint32_t)st->st_mode;
}

void roar_shim_emit(struct roar_event_hdr *h, const char *path, const char *path2)
{
    if (!roar_shim_on)
        return;
    roar_shim_critical++;
    roar_ringp_publish(&roar_shim_ring, h, path, path2);
    roar_shim_critical--;
}

void roar_shim_emit_len(struct roar_event_hdr *h, const char *path, size_t len)
{
    if (!roar_shim_on)
        return;
    roar_shim_critical++;
    roar_ringp_publish_len(&roar_shim_ring, h, path, len, NULL, 0);
    roar_shim_critical--;
}

void roar_shim_emit_small(unsigned type, int fd, int fd2, int64_t ret, uint32_t flags)
{
    pid_t tid = roar_shim_tid;
    struct roar_ring_small sm = {.ret = ret, .flags = flags, .fd = fd, .fd2 = fd2,
                                 .type = (uint16_t)type};

    if (!roar_shim_on)
        return;
    sm.tgid = (uint32_t)roar_shim_pid;
    sm.tid = (uint32_t)(tid ? tid : roar_shim_tid_slow());
    roar_shim_critical++;
    roar_ringp_publish_small(&roar_shim_ring, &sm);
    roar_shim_critical--;
}

void roar_shim_incomplete(unsigned reason, const char *path)
{
    struct roar_event_hdr h;
    roar_shim_hdr(&h, ROAR_EV_INCOMPLETE);
    h.flags = reason;
    h.arg = 1;
    roar_shim_emit(&h, path, NULL);
}

/* Lexical normalisation in place of an absolute path: ".", "..", "//" (SPEC §4.2).
 * The output never overtakes the input (each "/component" written was consumed), so
 * one buffer serves both. */
static void normalise(char *p)
{
    const char *in = p + 1;
    size_t w = 0;

    while (*in) {
        size_t n = strcspn(in, "/");
        if (n == 0 || (n == 1 && in[0] == '.')) {
            /* nothing to keep */
        } else if (n == 2 && in[0] == '.' && in[1] == '.') {
            while (w > 0 && p[--w] != '/')
                ;
        } else {
            p[w++] = '/';
            memmove(p + w, in, n);
            w += n;
        }
        in += n;
        if (*in == '/')
            in++;
    }
    if (w == 0)
        p[w++] = '/';
    p[w] = '\0';
}

/* ---- the cwd cache --------------------------------------------------------------------
 * getcwd() was a system call per relative open (~0.5 us, a third of the shim's cost in
 * bench/run.sh's loop). The cwd is cached under a generation: cwd_gen moves after every
 * cwd change this process makes through us (chdir, fchdir, chroot) and while glibc may
 * change it behind our back (nftw with FTW_CHDIR, fts); the ring header's names_gen moves
 * after every rename by any traced process (renaming a directory above a cwd changes what
 * getcwd() says). The cached value is used only if both generations are the ones it was
 * read under. A seqlock (cwd_seq odd while written) lets threads and signal handlers read
 * it without locks: a reader that races a writer just calls getcwd(). fork keeps the
 * cache (same cwd); exec starts from an empty one. */
static unsigned cwd_gen = 1; /* 0 never matches: cwd_cached_gen 0 = nothing cached */
static unsigned cwd_nocache; /* > 0: inside a glibc call that may chdir internally */
static unsigned cwd_seq;
static unsigned cwd_cached_gen;
static uint64_t cwd_cached_names;
static size_t cwd_len;
static char cwd_buf[ROAR_SHIM_PATH];

void roar_shim_cwd_changed(void)
{
    __atomic_add_fetch(&cwd_gen, 1, __ATOMIC_SEQ_CST);
}

void roar_shim_cwd_nocache(int delta)
{
    __atomic_add_fetch(&cwd_nocache, (unsigned)delta, __ATOMIC_SEQ_CST);
    roar_shim_cwd_changed();
}

void roar_shim_names_changed(void)
{
    if (roar_shim_on)
        __atomic_add_fetch(&roar_shim_ring.hdr->names_gen, 1, __ATOMIC_SEQ_CST);
}

static uint64_t names_gen(void)
{
    return roar_shim_on ? __atomic_load_n(&roar_shim_ring.hdr->names_gen, __ATOMIC_ACQUIRE)
                        : 0;
}

/* The cwd into out[ROAR_SHIM_PATH]; returns its length, or -1 with getcwd's errno. */
static long cwd_get(char *out)
{
    unsigned g = __atomic_load_n(&cwd_gen, __ATOMIC_ACQUIRE), s;
    uint64_t ng = names_gen();
    size_t n;

    if (!__atomic_load_n(&cwd_nocache, __ATOMIC_ACQUIRE)) {
        s = __atomic_load_n(&cwd_seq, __ATOMIC_ACQUIRE);
        n = __atomic_load_n(&cwd_len, __ATOMIC_RELAXED);
        if (!(s & 1) && __atomic_load_n(&cwd_cached_gen, __ATOMIC_RELAXED) == g &&
            __atomic_load_n(&cwd_cached_names, __ATOMIC_RELAXED) == ng && n < ROAR_SHIM_PATH) {
            memcpy(out, cwd_buf, n);
            __atomic_thread_fence(__ATOMIC_ACQUIRE);
            if (__atomic_load_n(&cwd_seq, __ATOMIC_RELAXED) == s) {
                out[n] = '\0';
                return (long)n;
            }
        }
    }
    if (!getcwd(out, ROAR_SHIM_PATH))
        return -1;
    n = strlen(out);
    /* Cache it under the generations read before getcwd: a change since then leaves
     * an entry that no reader accepts. A busy writer (another thread, or the code this
     * signal handler interrupted) means we just do not cache this time. */
    s = __atomic_load_n(&cwd_seq, __ATOMIC_RELAXED);
    if (!(s & 1) && !__atomic_load_n(&cwd_nocache, __ATOMIC_ACQUIRE) &&
        __atomic_compare_exchange_n(&cwd_seq, &s, s + 1, 0, __ATOMIC_ACQUIRE,
                                    __ATOMIC_RELAXED)) {
        memcpy(cwd_buf, out, n + 1);
        __atomic_store_n(&cwd_len, n, __ATOMIC_RELAXED);
        __atomic_store_n(&cwd_cached_gen, g, __ATOMIC_RELAXED);
        __atomic_store_n(&cwd_cached_names, ng, __ATOMIC_RELAXED);
        __atomic_store_n(&cwd_seq, s + 2, __ATOMIC_RELEASE);
    }
    return (long)n;
}

/* Whether normalise(p) would change p: only a "//", a component starting with a dot or
 * a trailing slash can make it differ, and a clean path (the usual case: a cwd from the
 * kernel joined with "file") skips the per-component pass. */
static int needs_normalise(const char *p, size_t len)
{
    size_t i;
    /* A plain loop: glibc picks a generic strstr on some CPUs, slower than this. */
    for (i = 0; i + 1 < len; i++)
        if (p[i] == '/' && (p[i + 1] == '/' || p[i + 1] == '.'))
            return 1;
    return len > 1 && p[len - 1] == '/';
}

int roar_shim_abspath_len(char *out, int dirfd, const char *path, size_t *len)
{
    size_t base = 0, n, from = 0;
    long cwd_len;

    if (!path)
        return -2;
    n = strlen(path);
    if (path[0] != '/') {
        if (dirfd == AT_FDCWD) {
            if ((cwd_len = cwd_get(out)) < 0)
                goto too_long_or_unknown;
            base = (size_t)cwd_len;
        } else {
            char link[32];
            ssize_t r;
            snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
            r = readlink(link, out, ROAR_SHIM_PATH - 1);
            if (r <= 0 || out[0] != '/')
                return -2;
            out[r] = '\0';
            base = (size_t)r;
        }
        if (base + 1 + n + 1 > ROAR_SHIM_PATH)
            goto too_long;
        /* The base comes from the kernel (getcwd, /proc/self/fd): no "//", no "." or
         * ".." component, no trailing slash but the root's. Only the join and the
         * program's part can need normalising: scan from the base's last byte on. */
        from = base ? base - 1 : 0;
        out[base++] = '/';
    } else if (n + 1 > ROAR_SHIM_PATH) {
        goto too_long;
    }
    memcpy(out + base, path, n + 1);
    *len = base + n;
    if (needs_normalise(out + from, base + n - from)) {
        normalise(out);
        *len = strlen(out);
    }
    return 0;

too_long_or_unknown:
    if (errno != ERANGE && errno != ENAMETOOLONG)
        return -2;
too_long:
    roar_shim_incomplete(ROAR_INC_PATH_TOO_LONG, NULL);
    return -1;
}

/* ---- fd bookkeeping ----------------------------------------------------------------- */

void roar_shim_fd_reset_range(int lo, int hi)
{
    int fd;
    if (lo < 0)
        lo = 0;
    for (fd = lo; fd <= hi && fd < FD_TABLE; fd++)
        __atomic_store_n(&fd_bits[fd], 0, __ATOMIC_RELAXED);
}

/* Returns 1 the first time `bit` is set on fd since its last reset. */
int roar_shim_fd_first(int fd, unsigned bit)
{
    if (fd < 0 || fd >= FD_TABLE)
        return 1;
    /* A plain load first: after the first call the bit is set, and a locked RMW per
     * read() or write() would cost more than the check. */
    if (__atomic_load_n(&fd_bits[fd], __ATOMIC_RELAXED) & bit)
        return 0;
    return !(__atomic_fetch_or(&fd_bits[fd], (unsigned char)bit, __ATOMIC_RELAXED) & bit);
}

/* ---- control connection ------------------------------------------------------------- */

static int conn_open(void)
{
    struct sockaddr_un sa;
    int fd, hi;

    if (!sock_path[0])
        return -1;
    fd = (int)syscall(SYS_socket, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        sys_close(fd);
        return -1;
    }
    hi = (int)syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, CONN_MIN);
    if (hi >= 0) {
        sys_close(fd);
        fd = hi;
    }
    return fd;
}

void roar_shim_conn_move(int lo, int hi)
{
    int fd = __atomic_load_n(&conn_fd, __ATOMIC_ACQUIRE), moved = -1;

    if (fd < 0 || fd < lo || fd > hi || conn_pid != roar_shim_pid)
        return;
    roar_shim_critical++;
    /* Move it out of the way first, so that the program's call does exactly what it
     * would have done without us (EBADF for a close of a number it never opened). */
    if (hi < INT_MAX - 1)
        moved = (int)syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, hi + 1 > CONN_MIN ? hi + 1
                                                                                : CONN_MIN);
    if (moved >= 0 && moved >= lo && moved <= hi) {
        sys_close(moved);
        moved = -1;
    }
    sys_close(fd);
    /* No room: drop it; the next round trip reconnects. */
    __atomic_store_n(&conn_fd, moved, __ATOMIC_RELEASE);
    roar_shim_critical--;
}

static uint64_t now_ms(void)
{
    return roar_ringp_now_ms();
}

static int round_trip(uint64_t seq)
{
    struct roar_ctl_req req = {ROAR_CTL_MAGIC, (uint32_t)roar_shim_pid, seq};
    struct roar_ctl_rep rep;
    uint64_t deadline = now_ms() + hash_wait_ms;
    size_t got = 0;

    if (conn_fd < 0 || conn_pid != roar_shim_pid) {
        conn_fd = conn_open();
        conn_pid = roar_shim_pid;
        if (conn_fd < 0)
            return -1;
    }
    if (send(conn_fd, &req, sizeof(req), MSG_NOSIGNAL) != (ssize_t)sizeof(req))
        goto broken;
    for (;;) {
        struct pollfd pfd = {conn_fd, POLLIN, 0};
        uint64_t now = now_ms();
        ssize_t r;
        if (now >= deadline)
            return -1; /* the collector records hash-timeout; keep the connection */
        if (poll(&pfd, 1, (int)(deadline - now)) < 0) {
            if (errno == EINTR)
                continue;
            goto broken;
        }
        if (!(pfd.revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        r = recv(conn_fd, (char *)&rep + got, sizeof(rep) - got, MSG_DONTWAIT);
        if (r < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (r <= 0)
            goto broken;
        got += (size_t)r;
        if (got < sizeof(rep))
            continue;
        got = 0;
        if (rep.seq == seq)
            return 0;
        /* A late answer to an earlier request that timed out: skip it. */
    }
broken:
    sys_close(conn_fd);
    conn_fd = -1;
    return -1;
}

void roar_shim_destroy_wait(unsigned call, uint64_t arg, const char *path, int fd,
                            const struct stat *st)
{
    struct roar_event_hdr h;

    roar_shim_hdr(&h, ROAR_EV_ABOUT_TO_DESTROY);
    h.flags = call;
    h.arg = arg;
    h.fd = fd;
    if (st)
        roar_shim_ident(&h, st);
    if (!roar_shim_on)
        return;
    roar_shim_critical++;
    /* A handler that interrupted this thread in a critical part must not wait: the code
     * it interrupted may hold conn_lock, or a reserved slot that the collector reads
     * before this record. It publishes and goes on; the collector hashes what it still
     * can, and says when it could not (hash-timeout). */
    if (roar_ringp_publish(&roar_shim_ring, &h, path, NULL) == 0 && !roar_shim_in_handler) {
        pthread_mutex_lock(&conn_lock);
        round_trip(h.seq);
        pthread_mutex_unlock(&conn_lock);
    }
    roar_shim_critical--;
}

/* ---- fork ----------------------------------------------------------------------------- */

void roar_shim_after_fork_child(void)
{
    roar_shim_pid = (pid_t)syscall(SYS_getpid);
    roar_shim_tid = 0;
    roar_shim_critical = 0; /* the parent's slot and lock are the parent's */
    /* The parent's connection is the parent's: a child reconnects on demand. */
    if (conn_fd >= 0)
        sys_close(conn_fd);
    conn_fd = -1;
    conn_pid = 0;
    pthread_mutex_init(&conn_lock, NULL);
    roar_shim_channels_after_fork(); /* behind the fork record the parent publishes */
}

void roar_shim_fork_begin(struct roar_shim_forkslot *fs)
{
    fs->ok = roar_shim_on &&
             roar_ringp_reserve(&fs->slot, &roar_shim_ring,
                                roar_event_wire_size(0, 0, 0, 0)) == 0;
    if (roar_shim_on && !fs->ok)
        roar_ringp_lose(&roar_shim_ring);
    if (fs->ok)
        roar_shim_critical++; /* until fork_end publishes the slot */
}

void roar_shim_fork_end(struct roar_shim_forkslot *fs, pid_t child, int err)
{
    struct roar_event_hdr h;
    if (!fs->ok)
        return;
    roar_shim_hdr(&h, ROAR_EV_FORK);
    h.ret = child > 0 ? child : -err;
    h.pid2 = child > 0 ? (uint32_t)child : 0;
    h.seq = roar_ringp_slot_seq(&fs->slot);
    roar_event_encode(fs->slot.rec, fs->slot.len - ROAR_SLOT_WORD, &h, NULL, NULL);
    roar_ringp_commit(&fs->slot);
    roar_shim_critical--;
}

pid_t roar_shim_fork(pid_t (*real_fork)(void))
{
    struct roar_shim_forkslot fs;
    int saved;
    pid_t pid;

    if (!real_fork) {
        errno = ENOSYS;
        return -1;
    }
    if (!roar_shim_enter(&saved))
        return real_fork();
    roar_shim_fork_begin(&fs);
    errno = saved;
    pid = real_fork();
    saved = errno;
    if (pid == 0) {
        /* The reserved slot belongs to the parent, which publishes it. */
        roar_shim_after_fork_child();
    } else {
        roar_shim_fork_end(&fs, pid, saved);
    }
    roar_shim_leave(saved);
    return pid;
}

static void atfork_child(void)
{
    /* Forks that bypass our wrapper but run the handlers still get a fresh pid. */
    roar_shim_pid = (pid_t)syscall(SYS_getpid);
    roar_shim_tid = 0;
    roar_shim_critical = 0;
    roar_shim_channels_after_fork();
}

/* ---- start-up ----------------------------------------------------------------------- */

static int copy_env(char *dst, size_t cap, const char *name)
{
    const char *v = getenv(name);
    if (!v || snprintf(dst, cap, "%s=%s", name, v) >= (int)cap)
        return -1;
    return 0;
}

/* Whether fd is a ring we can use: checks of its header and size as for any ring. */
static int ring_usable(int fd, struct stat *st, struct roar_ring_hdr *hdr)
{
    return roar_shim_fstat(fd, st) == 0 && S_ISREG(st->st_mode) &&
           pread(fd, hdr, sizeof(*hdr), 0) == (ssize_t)sizeof(*hdr) &&
           hdr->magic == ROAR_RING_MAGIC && hdr->version == ROAR_RING_VERSION &&
           hdr->hdr_size == ROAR_RING_HDR_SIZE && hdr->data_size >= ROAR_RING_MIN_DATA &&
           !(hdr->data_size & (hdr->data_size - 1)) &&
           (uint64_t)st->st_size == hdr->hdr_size + hdr->data_size;
}

static int map_ring_fd(int fd, const struct stat *st, const struct roar_ring_hdr *hdr)
{
    void *map = (void *)syscall(SYS_mmap, NULL, (size_t)st->st_size, PROT_READ | PROT_WRITE,
                                MAP_SHARED, fd, (off_t)0);
    if (map == MAP_FAILED)
        return -1;
    roar_shim_ring.hdr = map;
    roar_shim_ring.data = (unsigned char *)map + ROAR_RING_HDR_SIZE;
    roar_shim_ring.size = hdr->data_size;
    roar_shim_ring.full_wait_ms = 10000;
    ring_owner = st->st_uid;
    mapped_dev = st->st_dev;
    mapped_ino = st->st_ino;
    return 0;
}

/* ROAR_ENV_RING_FD: "<fd>:<dev>:<ino>", or empty. */
static void parse_ring_fd(const char *v)
{
    char *end;
    unsigned long fd;
    if (!v || !*v ||
        copy_env(roar_shim_env_ring_fd, sizeof(roar_shim_env_ring_fd), ROAR_ENV_RING_FD) < 0)
        return;
    fd = strtoul(v, &end, 10);
    if (*end != ':' || fd > INT_MAX)
        return;
    ring_dev = strtoull(end + 1, &end, 10);
    if (*end != ':')
        return;
    ring_ino = strtoull(end + 1, &end, 10);
    if (*end == '\0')
        ring_fd = (int)fd;
}

/* The inherited fd still names the ring of ROAR_ENV_RING_FD, and an exec keeps it. */
static int ring_fd_inherited(struct stat *st, struct roar_ring_hdr *hdr)
{
    int flags;
    return ring_fd >= 0 && (flags = (int)syscall(SYS_fcntl, ring_fd, F_GETFD)) >= 0 &&
           !(flags & FD_CLOEXEC) && ring_usable(ring_fd, st, hdr) &&
           (uint64_t)st->st_dev == ring_dev && (uint64_t)st->st_ino == ring_ino;
}

/* Maps the ring by its path, a file of our own; else, in a process that switched to
 * another user (runuser, su, setpriv) and cannot open that path, through the fd the
 * job inherited, once it shows the dev/ino the collector announced. That fd stays open
 * (not close-on-exec) for the programs this one runs. The path is followed: it is
 * usually /proc/<collector>/fd/<n>, a link (the checks after the open hold either way). */
static int map_ring(const char *path)
{
    struct stat st;
    struct roar_ring_hdr hdr;
    int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDWR | O_CLOEXEC), rc;

    if (fd >= 0) {
        rc = ring_usable(fd, &st, &hdr) && st.st_uid == geteuid() ? map_ring_fd(fd, &st, &hdr) : -1;
        sys_close(fd); /* the mapping stays, and fork inherits it */
        return rc;
    }
    if (ring_fd_inherited(&st, &hdr))
        return map_ring_fd(ring_fd, &st, &hdr);
    return -1;
}

int roar_shim_next_image_unreachable(void)
{
    struct stat st;
    struct roar_ring_hdr hdr;
    uid_t euid = geteuid();
    int fd, ok;

    /* Opened as the next image's constructor will (map_ring), on every exec: the path
     * is a /proc magic link, which a chroot, a new pid namespace with its own /proc or
     * other ids may have made unreachable since this image started. The same ring, by
     * identity: a /proc of another pid namespace may show another process's fd there. */
    fd = (int)syscall(SYS_openat, AT_FDCWD, roar_shim_env_ring + sizeof(ROAR_ENV_RING),
                      O_RDWR | O_CLOEXEC);
    ok = 0;
    if (fd >= 0) {
        ok = roar_shim_fstat(fd, &st) == 0 && st.st_dev == mapped_dev &&
             st.st_ino == mapped_ino && st.st_uid == euid;
        sys_close(fd);
    }
    if (!ok)
        ok = ring_fd_inherited(&st, &hdr);
    /* And the library itself: out of a chroot's reach, or unreadable after a switch,
     * the loader says only "cannot be preloaded: ignored". */
    if (ok && roar_shim_preload[0] == '/' &&
        syscall(SYS_faccessat, AT_FDCWD, roar_shim_preload, R_OK) < 0)
        ok = 0;
    if (ok)
        return 0;
    return euid == ring_owner ? ROAR_INC_UNTRACED : ROAR_INC_SETUID;
}

/* The LD_PRELOAD token exec wrappers insert: ROAR_PRELOAD if the collector set it,
 * else our own file, through a symlink in the job's directory (the control socket's:
 * the ring's path is usually /proc/<collector>/fd/<n>) when its path has a space or a
 * colon (LD_PRELOAD splits on both). */
static void find_self(const char *sock)
{
    Dl_info info;
    const char *self;
    const char *v = getenv(ROAR_ENV_PRELOAD);

    if (v && *v && !strpbrk(v, " :") && strlen(v) < sizeof(roar_shim_preload)) {
        strcpy(roar_shim_preload, v);
        return;
    }
    if (!dladdr((void *)find_self, &info) || !info.dli_fname)
        return;
    self = info.dli_fname;
    if (!strpbrk(self, " :")) {
        snprintf(roar_shim_preload, sizeof(roar_shim_preload), "%s", self);
        return;
    }
    {
        const char *slash = strrchr(sock, '/');
        char link[ENV_MAX];
        if (!slash || slash - sock + 32 > (long)sizeof(link))
            return;
        snprintf(link, sizeof(link), "%.*s/libroar-preload.so", (int)(slash - sock), sock);
        if (strpbrk(link, " :"))
            return;
        if (symlink(self, link) == 0 || errno == EEXIST)
            snprintf(roar_shim_preload, sizeof(roar_shim_preload), "%s", link);
    }
}

static void announce_exec(void)
{
    struct roar_event_hdr h;
    struct stat st;
    char exe[ROAR_SHIM_PATH];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

    if (n <= 0 || exe[0] != '/')
        return;
    exe[n] = '\0';
    roar_shim_hdr(&h, ROAR_EV_EXEC);
    /* pid2 = the parent: a process made by a clone we cannot see (system, popen,
     * posix_spawn's own clone, a raw clone) announces itself here first. */
    h.pid2 = (uint32_t)getppid();
    if (stat(exe, &st) == 0)
        roar_shim_ident(&h, &st);
    roar_shim_emit(&h, exe, NULL);
}

__attribute__((constructor)) static void roar_shim_init(void)
{
    const char *ring = getenv(ROAR_ENV_RING), *sock = getenv(ROAR_ENV_SOCK);
    const char *wait = getenv(ROAR_ENV_HASH_WAIT);
    int saved = errno;

    roar_shim_guard++;
    if (!ring || ring[0] != '/' || copy_env(roar_shim_env_ring, ENV_MAX, ROAR_ENV_RING) < 0)
        goto out;
    if (sock && sock[0] == '/' && strlen(sock) < sizeof(sock_path) &&
        copy_env(roar_shim_env_sock, ENV_MAX, ROAR_ENV_SOCK) == 0)
        strcpy(sock_path, sock);
    if (wait && *wait) {
        char *end;
        unsigned long ms = strtoul(wait, &end, 10);
        if (*end == '\0' && ms <= 24ul * 3600 * 1000)
            hash_wait_ms = (unsigned)ms;
    }
    snprintf(roar_shim_env_wait, sizeof(roar_shim_env_wait), "%s=%u", ROAR_ENV_HASH_WAIT,
             hash_wait_ms);
    parse_ring_fd(getenv(ROAR_ENV_RING_FD));
    if (map_ring(ring) < 0)
        goto out;
    find_self(sock_path); /* "" when no socket: then no symlink */
    roar_shim_pid = (pid_t)syscall(SYS_getpid);
    pthread_atfork(NULL, NULL, atfork_child);
    roar_shim_on = 1;
    announce_exec();
    roar_shim_channels_at_start(); /* its reads follow the EXEC */
out:
    roar_shim_guard--;
    errno = saved;
}
