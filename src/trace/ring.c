/* ring: consumer side of the shared-memory event ring. It creates the job's private
 * directory and the ring (a memfd, or a file in that directory), then reads published
 * records in reservation order. */
#include "trace/ring.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/err.h"

struct roar_ring {
    struct roar_ring_hdr *hdr;
    int fd; /* the ring, close-on-exec, open until roar_ring_free */
    unsigned char *data;
    uint64_t size; /* data area; copied once, never re-read from shared memory */
    size_t map_len;
    uint64_t skipped;     /* slots the consumer gave up on */
    unsigned stall_ms;    /* see roar_ring_set_stall_ms */
    uint64_t stall_pos;   /* position of the slot we are waiting for, if any */
    uint64_t stall_since; /* ms, monotonic; 0 = not stalled */
    /* Last hdr->reserve seen. Producers write that cache line on every record: reading
     * it per record would pull it away from them each time, so a published slot is
     * checked against this copy first, and the real cursor read only when needed. */
    uint64_t reserve_seen;
};

#define DEFAULT_STALL_MS 10000u

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int try_dir(char **out, const char *base)
{
    char tmpl[PATH_MAX];
    struct stat st;

    if (!base || base[0] != '/' || stat(base, &st) < 0 || !S_ISDIR(st.st_mode) ||
        access(base, W_OK | X_OK) < 0)
        return -1;
    if (snprintf(tmpl, sizeof(tmpl), "%s/roar-XXXXXX", base) >= (int)sizeof(tmpl))
        return -1;
    /* mkdtemp creates the directory with mode 0700. */
    if (!mkdtemp(tmpl))
        return -1;
    if (!(*out = strdup(tmpl))) {
        rmdir(tmpl);
        return -1;
    }
    return 0;
}

/* The collector pid a ring directory names: its `pid` file (every directory since the
 * ring became a memfd), else the header of its `ring` file (a named ring: under sudo,
 * and every directory made before). 0 when neither holds a valid one. */
static pid_t ring_dir_collector(const char *dir)
{
    struct roar_ring_hdr hdr;
    char path[PATH_MAX], text[24];
    unsigned long pid = 0;
    ssize_t n;
    char *end;
    int fd;

    if (snprintf(path, sizeof(path), "%s/" ROAR_RING_PID_FILE, dir) < (int)sizeof(path) &&
        (fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) >= 0) {
        n = read(fd, text, sizeof(text) - 1);
        close(fd);
        if (n > 0) {
            text[n] = '\0';
            pid = strtoul(text, &end, 10);
            if (*end == '\n' && pid > 0 && pid <= (unsigned long)INT32_MAX)
                return (pid_t)pid;
        }
    }
    if (snprintf(path, sizeof(path), "%s/ring", dir) >= (int)sizeof(path) ||
        (fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
        return 0;
    if (pread(fd, &hdr, sizeof(hdr), 0) == (ssize_t)sizeof(hdr) &&
        hdr.magic == ROAR_RING_MAGIC && hdr.collector_pid > 0 &&
        hdr.collector_pid <= (uint64_t)INT32_MAX)
        pid = (unsigned long)hdr.collector_pid;
    close(fd);
    return (pid_t)pid;
}

/* Whether `dir` (a `roar-XXXXXX` entry of base) is a ring directory of ours whose run
 * is over: ours and private, and it names a collector pid that is gone (or it names
 * none and is over a minute old: a run dies between mkdtemp and the pid file only by
 * a kill, and a live one takes microseconds there). */
static bool ring_dir_is_stale(const char *dir)
{
    struct stat st;
    pid_t pid;

    if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
        (st.st_mode & 077))
        return false;
    if (!(pid = ring_dir_collector(dir)))
        return time(NULL) - st.st_mtime > 60;
    if (pid == getpid())
        return false;
    return kill(pid, 0) < 0 && errno == ESRCH;
}

void roar_ring_reap_stale(void)
{
    const char *bases[] = {"/dev/shm", getenv("TMPDIR"), "/tmp"};
    char dir[PATH_MAX];
    struct dirent *e;
    size_t i;
    DIR *d;
    int saved = errno;

    for (i = 0; i < sizeof(bases) / sizeof(*bases); i++) {
        if (!bases[i] || bases[i][0] != '/' || (i == 1 && !strcmp(bases[1], "/tmp")) ||
            !(d = opendir(bases[i])))
            continue;
        while ((e = readdir(d))) {
            if (strncmp(e->d_name, "roar-", 5) || strlen(e->d_name) != 11 ||
                snprintf(dir, sizeof(dir), "%s/%s", bases[i], e->d_name) >= (int)sizeof(dir))
                continue;
            if (ring_dir_is_stale(dir))
                roar_ring_dir_remove(dir);
        }
        closedir(d);
    }
    errno = saved;
}

/* Writes our pid into dir's pid file, for roar_ring_reap_stale. */
static int write_pid_file(const char *dir)
{
    char path[PATH_MAX], text[24];
    int fd, n, ok;

    if (snprintf(path, sizeof(path), "%s/" ROAR_RING_PID_FILE, dir) >= (int)sizeof(path) ||
        (fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
        return -1;
    n = snprintf(text, sizeof(text), "%d\n", (int)getpid());
    ok = write(fd, text, (size_t)n) == n;
    close(fd);
    return ok ? 0 : -1;
}

int roar_ring_dir_create(char **out)
{
    *out = NULL;
    /* A run killed with -9 leaves its directory (the control socket, the pid file; and
     * a named ring, 16 MiB, under sudo): the next run removes those. */
    roar_ring_reap_stale();
    /* /dev/shm keeps a named ring in memory without a tmpfs mount of our own. */
    if (try_dir(out, "/dev/shm") < 0 && try_dir(out, getenv("TMPDIR")) < 0 &&
        try_dir(out, "/tmp") < 0)
        return roar_error_set_errno(ROAR_ERROR, "cannot create a directory for the event ring");
    if (write_pid_file(*out) < 0) {
        int error = roar_error_set_errno(ROAR_ERROR, "cannot write '%s/" ROAR_RING_PID_FILE "'",
                                         *out);
        roar_ring_dir_remove(*out);
        free(*out);
        *out = NULL;
        return error;
    }
    return 0;
}

void roar_ring_dir_remove(const char *dir)
{
    DIR *d;
    struct dirent *e;
    char p[PATH_MAX];

    if (!dir)
        return;
    /* Only our own private directory: remove whatever is in it, one level. */
    if ((d = opendir(dir))) {
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            if (snprintf(p, sizeof(p), "%s/%s", dir, e->d_name) < (int)sizeof(p))
                unlink(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

/* Sizes the ring behind fd, maps it, initialises its header and takes fd (closed on
 * failure). `what` names it in messages. */
static int ring_from_fd(roar_ring **out, int fd, size_t data_size, const char *what)
{
    roar_ring *r = NULL;
    int error = 0;
    void *map = MAP_FAILED;
    size_t len = ROAR_RING_HDR_SIZE + data_size;

    if (ftruncate(fd, (off_t)len) < 0) {
        error = roar_error_set_errno(ROAR_ERROR, "cannot size ring '%s'", what);
        goto cleanup;
    }
    map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
        error = roar_error_set_errno(ROAR_ERROR, "cannot map ring '%s'", what);
        goto cleanup;
    }
    if (!(r = calloc(1, sizeof(*r)))) {
        error = roar_error_set(ROAR_ENOMEM, "out of memory");
        goto cleanup;
    }
    r->hdr = map;
    r->fd = fd;
    r->data = (unsigned char *)map + ROAR_RING_HDR_SIZE;
    r->size = data_size;
    r->map_len = len;
    r->stall_ms = DEFAULT_STALL_MS;
    r->hdr->version = ROAR_RING_VERSION;
    r->hdr->hdr_size = ROAR_RING_HDR_SIZE;
    r->hdr->data_size = data_size;
    r->hdr->collector_pid = (uint64_t)getpid();
    /* The magic last: a shim that maps a half-initialised file refuses it. */
    __atomic_store_n(&r->hdr->magic, ROAR_RING_MAGIC, __ATOMIC_RELEASE);
    *out = r;
    return 0;

cleanup:
    if (map != MAP_FAILED)
        munmap(map, len);
    close(fd);
    return error;
}

static int check_size(size_t *data_size)
{
    if (*data_size == 0)
        *data_size = ROAR_RING_DEFAULT_DATA;
    if (*data_size < ROAR_RING_MIN_DATA || (*data_size & (*data_size - 1)) ||
        *data_size > ((size_t)1 << 31))
        return roar_error_set(ROAR_EINVALID, "ring size %zu is not a power of two in "
                              "[%u, 2^31]", *data_size, ROAR_RING_MIN_DATA);
    return 0;
}

int roar_ring_create(roar_ring **out, const char *path, size_t data_size)
{
    int fd, error;

    *out = NULL;
    if ((error = check_size(&data_size)) < 0)
        return error;
    if ((fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
        return roar_error_set_errno(ROAR_ERROR, "cannot create ring '%s'", path);
    if ((error = ring_from_fd(out, fd, data_size, path)) < 0)
        unlink(path);
    return error;
}

int roar_ring_create_anon(roar_ring **out, size_t data_size)
{
    int fd, error;

    *out = NULL;
    if ((error = check_size(&data_size)) < 0)
        return error;
    /* No name anywhere: the memory goes when the last fd and mapping do, whoever dies. */
    if ((fd = memfd_create("roar-ring", MFD_CLOEXEC)) < 0)
        return roar_error_set_errno(ROAR_ERROR, "cannot create an anonymous ring");
    return ring_from_fd(out, fd, data_size, "memfd:roar-ring");
}

int roar_ring_fd(const roar_ring *r)
{
    return r->fd;
}

void roar_ring_free(roar_ring *r)
{
    if (!r)
        return;
    munmap(r->hdr, r->map_len);
    close(r->fd);
    free(r);
}

/* Zeroes [from, to) of the data area (cursor positions, may wrap), so that stale bytes
 * can never look like a published slot word to a later pass. */
static void zero_range(roar_ring *r, uint64_t from, uint64_t to)
{
    while (from < to) {
        uint64_t off = from & (r->size - 1), n = r->size - off;
        if (n > to - from)
            n = to - from;
        memset(r->data + off, 0, n);
        from += n;
    }
}

static int word_valid(const roar_ring *r, uint64_t pos, uint64_t word, uint64_t reserve)
{
    uint64_t off = pos & (r->size - 1), len = ROAR_SLOT_LEN(word);

    if (!(word & ROAR_SLOT_PUBLISHED) || (word & 0x3fffffff00000000ull) != ROAR_SLOT_TAG(pos))
        return 0;
    if (len < ROAR_SLOT_WORD || len % ROAR_EVENT_ALIGN || off + len > r->size ||
        pos + len > reserve)
        return 0;
    if (word & ROAR_SLOT_PAD)
        return off + len == r->size;
    return len == ROAR_SLOT_WORD + ROAR_RING_SMALL_SIZE ||
           len >= ROAR_SLOT_WORD + ROAR_EVENT_HDR_SIZE;
}

/* The full record a compact one stands for, into buf[0..cap) (ring_layout.h). The bytes
 * are the traced program's: only the types the shim sends this way are accepted; the
 * decoder then checks the fields as for any record. Returns the record's size or
 * ROAR_EINVALID. */
static int expand_small(void *buf, size_t cap, const struct roar_ring_small *sm, uint64_t seq)
{
    struct roar_event_hdr h;
    size_t n;

    if (sm->type >= 32 || !(ROAR_RING_SMALL_TYPES & (1u << sm->type)) ||
        sm->version != ROAR_EVENT_VERSION)
        return roar_error_set(ROAR_EINVALID, "event ring: compact record of type %u, "
                              "version %u", sm->type, sm->version);
    memset(&h, 0, sizeof(h));
    h.seq = seq;
    h.ret = sm->ret;
    h.flags = sm->flags;
    h.tgid = sm->tgid;
    h.tid = sm->tid;
    h.fd = sm->fd;
    h.fd2 = sm->fd2;
    h.type = sm->type;
    if ((n = roar_event_encode(buf, cap, &h, NULL, NULL)) == 0)
        return roar_error_set(ROAR_EINVALID, "event ring: no room to expand a record");
    return (int)n;
}

/* Skips forward from the consumer cursor to the next slot that looks published and
 * well formed. Returns 1 if it moved. The skipped bytes count as one lost event. */
static int resync(roar_ring *r, uint64_t rd, uint64_t reserve)
{
    uint64_t p;

    for (p = rd + ROAR_SLOT_WORD; p < reserve; p += ROAR_SLOT_WORD) {
        uint64_t w = __atomic_load_n((uint64_t *)(r->data + (p & (r->size - 1))),
                                     __ATOMIC_ACQUIRE);
        if (word_valid(r, p, w, reserve)) {
            zero_range(r, rd, p);
            r->skipped++;
            r->stall_since = 0;
            __atomic_store_n(&r->hdr->read, p, __ATOMIC_RELEASE);
            return 1;
        }
    }
    return 0;
}

int roar_ring_read(roar_ring *r, void *buf, size_t cap, size_t *out_len, int wait_ms)
{
    uint64_t deadline = 0;

    *out_len = 0;
    for (;;) {
        uint64_t rd = __atomic_load_n(&r->hdr->read, __ATOMIC_RELAXED);
        uint64_t off = rd & (r->size - 1), word, len, reserve = r->reserve_seen;

        word = __atomic_load_n((uint64_t *)(r->data + off), __ATOMIC_ACQUIRE);
        /* The copy lags behind, so it can only fail a slot that is good: then the slot
         * is judged against the real cursor, exactly as if no copy were kept. */
        if (word == 0 || !word_valid(r, rd, word, reserve)) {
            reserve = __atomic_load_n(&r->hdr->reserve, __ATOMIC_ACQUIRE);
            /* Producers never hold more than the data area. A cursor past it was
             * written by a program (every traced process can write the mapping, one
             * of another user too: ROAR_ENV_RING_FD): bound the work it can cause,
             * since resync and zero_range walk up to it. */
            if (reserve - rd > r->size)
                reserve = rd + r->size;
            r->reserve_seen = reserve;
        }
        if (reserve == rd)
            return 0;
        if (word == 0) {
            /* Reserved, not yet published: a producer is copying, or died copying. */
            uint64_t now = now_ms();
            if (!r->stall_since || r->stall_pos != rd) {
                r->stall_since = now;
                r->stall_pos = rd;
            } else if (now - r->stall_since >= r->stall_ms && resync(r, rd, reserve)) {
                continue;
            }
            if (!deadline)
                deadline = now + (wait_ms > 0 ? (uint64_t)wait_ms : 0);
            if (now >= deadline)
                return 0;
            {
                struct timespec ts = {0, 50000};
                nanosleep(&ts, NULL);
            }
            continue;
        }
        r->stall_since = 0;
        if (!word_valid(r, rd, word, reserve)) {
            /* Scribbled over (the traced program can write its own mapping). */
            if (!resync(r, rd, reserve)) {
                zero_range(r, rd, reserve);
                r->skipped++;
                __atomic_store_n(&r->hdr->read, reserve, __ATOMIC_RELEASE);
            }
            return roar_error_set(ROAR_EINVALID, "event ring: bad slot header at %llu",
                                  (unsigned long long)rd);
        }
        len = ROAR_SLOT_LEN(word);
        if (word & ROAR_SLOT_PAD) {
            /* Only the word: producers write nothing else there, and the rest was
             * zeroed when it was last consumed (a pad may span most of the area when a
             * producer went back to offset 0 early, ROAR_RING_HOT). */
            zero_range(r, rd, rd + ROAR_SLOT_WORD);
            __atomic_store_n(&r->hdr->read, rd + len, __ATOMIC_RELEASE);
            continue;
        }
        if (len - ROAR_SLOT_WORD == ROAR_RING_SMALL_SIZE) {
            /* Copied out first: the traced program may be writing the slot. */
            struct roar_ring_small sm;
            int n;
            memcpy(&sm, r->data + off + ROAR_SLOT_WORD, sizeof(sm));
            zero_range(r, rd, rd + len);
            __atomic_store_n(&r->hdr->read, rd + len, __ATOMIC_RELEASE);
            if ((n = expand_small(buf, cap, &sm, (rd >> 3) + 1)) < 0) {
                r->skipped++;
                return n;
            }
            *out_len = (size_t)n;
            return 0;
        }
        if (len - ROAR_SLOT_WORD > cap) {
            zero_range(r, rd, rd + len);
            r->skipped++;
            __atomic_store_n(&r->hdr->read, rd + len, __ATOMIC_RELEASE);
            return roar_error_set(ROAR_EINVALID, "event ring: record of %llu bytes over "
                                  "the buffer", (unsigned long long)len);
        }
        memcpy(buf, r->data + off + ROAR_SLOT_WORD, len - ROAR_SLOT_WORD);
        zero_range(r, rd, rd + len);
        __atomic_store_n(&r->hdr->read, rd + len, __ATOMIC_RELEASE);
        *out_len = len - ROAR_SLOT_WORD;
        return 0;
    }
}

uint64_t roar_ring_pending(const roar_ring *r)
{
    return __atomic_load_n(&r->hdr->reserve, __ATOMIC_ACQUIRE) -
           __atomic_load_n(&r->hdr->read, __ATOMIC_ACQUIRE);
}

uint64_t roar_ring_lost(const roar_ring *r)
{
    return __atomic_load_n(&r->hdr->lost, __ATOMIC_RELAXED) + r->skipped;
}

void roar_ring_set_collector(roar_ring *r, pid_t pid)
{
    __atomic_store_n(&r->hdr->collector_pid, (uint64_t)pid, __ATOMIC_RELEASE);
}

void roar_ring_set_stall_ms(roar_ring *r, unsigned ms)
{
    r->stall_ms = ms;
}

struct roar_ring_hdr *roar_ring_header(roar_ring *r)
{
    return r->hdr;
}
