/* Benchmark for bench/hash.sh (feeds): ways of feeding one warm file to the same SHA-1
 * (roar_blob_hasher, OpenSSL EVP), each run RUNS times; prints, per way, the best wall
 * time as GB/s, the best CPU time (user + sys, all threads) and its sys part, and checks
 * that every way gives the same blob id. The "memory" row hashes a 1 MiB buffer over and
 * over, as `openssl speed` does: SHA-1 alone, the floor for the others.
 *   hash_feed_bench FILE [RUNS] [WAY...]   (default: every way) */
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "graph/hash.h"
#include "graph/oid.h"
#include "util/err.h"
#include "util/readahead.h"

#define KIB ((size_t)1 << 10)
#define MIB ((size_t)1 << 20)

static void die(const char *what)
{
    fprintf(stderr, "fatal: %s: %s\n", what, errno ? strerror(errno) : roar_error_last());
    exit(128);
}

static void feed(roar_blob_hasher *h, const void *p, size_t n)
{
    if (roar_blob_hasher_update(h, p, n) < 0)
        die("SHA-1");
}

/* An anonymous buffer, on 2 MiB pages when huge (madvise; THP is "madvise" here). */
static unsigned char *buffer(size_t size, int huge)
{
    size_t align = 2 * MIB, len = (size + align - 1) / align * align;
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        die("mmap buffer");
    (void)madvise(p, len, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
    memset(p, 0, len); /* fault it in before the clock starts: a reused buffer is warm */
    return p;
}

/* The whole file through `buf`, a pread at a time. */
static void pread_all(roar_blob_hasher *h, int fd, uint64_t size, unsigned char *buf, size_t bufsz)
{
    for (uint64_t off = 0; off < size;) {
        ssize_t n = pread(fd, buf, size - off < bufsz ? size - off : bufsz, (off_t)off);
        if (n <= 0)
            die("pread");
        feed(h, buf, (size_t)n);
        off += (uint64_t)n;
    }
}

/* As roar_hash_fd does: a buffer malloc'd per call. */
static void way_pread_malloc(roar_blob_hasher *h, int fd, uint64_t size, size_t bufsz)
{
    unsigned char *buf = malloc(bufsz);
    if (!buf)
        die("malloc");
    pread_all(h, fd, size, buf, bufsz);
    free(buf);
}

static void way_pread(roar_blob_hasher *h, int fd, uint64_t size, size_t bufsz, int huge)
{
    static unsigned char *buf;
    static size_t have;
    static int have_huge = -1;
    if (have != bufsz || have_huge != huge) {
        if (buf)
            munmap(buf, have);
        buf = buffer(bufsz, huge), have = bufsz, have_huge = huge;
    }
    pread_all(h, fd, size, buf, bufsz);
}

#define MAP_PREFETCH 0x40000000 /* not a kernel flag: ours, cleared before mmap */

/* The file mapped in windows of win bytes (the whole file when win is 0). */
static void way_mmap(roar_blob_hasher *h, int fd, uint64_t size, size_t win, int flags, int advice)
{
    if (!win || win > size)
        win = size;
    for (uint64_t off = 0; off < size; off += win) {
        size_t len = size - off < win ? size - off : win;
        unsigned char *p =
            mmap(NULL, len, PROT_READ, MAP_SHARED | (flags & ~MAP_PREFETCH), fd, (off_t)off);
        if (p == MAP_FAILED)
            die("mmap");
        if (advice >= 0)
            (void)madvise(p, len, advice);
        if (!(flags & MAP_PREFETCH)) {
            for (size_t i = 0; i < len; i += MIB) /* slices: as a guarded feed would */
                feed(h, p + i, len - i < MIB ? len - i : MIB);
        } else {
            /* 64 KiB slices, each line of the next one prefetched while this one is hashed:
             * the hardware prefetcher stops at every 4 KiB page */
            for (size_t i = 0; i < len; i += 64 * KIB) {
                for (size_t j = i + 64 * KIB; j < i + 128 * KIB && j < len; j += 64)
                    __builtin_prefetch(p + j);
                feed(h, p + i, len - i < 64 * KIB ? len - i : 64 * KIB);
            }
        }
        munmap(p, len);
    }
}

/* ---- a reader thread: pread on one core while the other hashes --------------------- */

#define SLOTS 8 /* at most */

/* The reader hands each buffer over under a mutex, waiting on condition variables (a
 * spinning hand-off was measured too: no faster, and it burns the second core). */
struct bpipe {
    int fd;
    uint64_t size;
    size_t bufsz;
    unsigned slots;
    unsigned char *buf[SLOTS];
    ssize_t len[SLOTS]; /* -1: empty; under mu */
    pthread_mutex_t mu;
    pthread_cond_t filled, emptied;
};

static void *breader(void *arg)
{
    struct bpipe *p = arg;
    uint64_t off = 0;
    for (unsigned i = 0; off < p->size; i = (i + 1) % p->slots) {
        ssize_t n;
        pthread_mutex_lock(&p->mu);
        while (p->len[i] >= 0)
            pthread_cond_wait(&p->emptied, &p->mu);
        pthread_mutex_unlock(&p->mu);
        n = pread(p->fd, p->buf[i], p->size - off < p->bufsz ? p->size - off : p->bufsz,
                  (off_t)off);
        if (n <= 0)
            die("pread");
        off += (uint64_t)n;
        pthread_mutex_lock(&p->mu);
        p->len[i] = n;
        pthread_cond_signal(&p->filled);
        pthread_mutex_unlock(&p->mu);
    }
    return NULL;
}

static void way_bthread(roar_blob_hasher *h, int fd, uint64_t size, size_t bufsz, unsigned slots)
{
    /* allocated per call, as a library would (malloc: no huge-page or prefault tricks) */
    struct bpipe p = {.fd = fd, .size = size, .bufsz = bufsz, .slots = slots};
    unsigned char *all = malloc(bufsz * slots);
    pthread_t t;
    uint64_t done = 0;
    if (!all)
        die("malloc");
    pthread_mutex_init(&p.mu, NULL);
    pthread_cond_init(&p.filled, NULL);
    pthread_cond_init(&p.emptied, NULL);
    for (unsigned i = 0; i < slots; i++)
        p.buf[i] = all + i * bufsz, p.len[i] = -1;
    if (pthread_create(&t, NULL, breader, &p) != 0)
        die("pthread_create");
    for (unsigned i = 0; done < size; i = (i + 1) % slots) {
        ssize_t n;
        pthread_mutex_lock(&p.mu);
        while ((n = p.len[i]) < 0)
            pthread_cond_wait(&p.filled, &p.mu);
        pthread_mutex_unlock(&p.mu);
        feed(h, p.buf[i], (size_t)n);
        done += (uint64_t)n;
        pthread_mutex_lock(&p.mu);
        p.len[i] = -1;
        pthread_cond_signal(&p.emptied);
        pthread_mutex_unlock(&p.mu);
    }
    pthread_join(t, NULL);
    free(all);
}

/* ---- io_uring through raw syscalls (no liburing): DEPTH reads in flight -------------- */

#define DEPTH 4

struct ring {
    int fd;
    unsigned *sq_head, *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
    struct io_uring_sqe *sqes;
    struct io_uring_cqe *cqes;
};

static void ring_open(struct ring *r)
{
    struct io_uring_params prm;
    unsigned char *sq, *cq;
    memset(&prm, 0, sizeof(prm));
    if ((r->fd = (int)syscall(__NR_io_uring_setup, DEPTH, &prm)) < 0)
        die("io_uring_setup");
    if (!(prm.features & IORING_FEAT_SINGLE_MMAP))
        die("io_uring without IORING_FEAT_SINGLE_MMAP");
    size_t sqsz = prm.sq_off.array + prm.sq_entries * sizeof(unsigned);
    size_t cqsz = prm.cq_off.cqes + prm.cq_entries * sizeof(struct io_uring_cqe);
    sq = mmap(NULL, sqsz > cqsz ? sqsz : cqsz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
              r->fd, IORING_OFF_SQ_RING);
    r->sqes = mmap(NULL, prm.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQES);
    if (sq == MAP_FAILED || r->sqes == MAP_FAILED)
        die("mmap io_uring");
    cq = sq;
    r->sq_head = (unsigned *)(sq + prm.sq_off.head);
    r->sq_tail = (unsigned *)(sq + prm.sq_off.tail);
    r->sq_mask = (unsigned *)(sq + prm.sq_off.ring_mask);
    r->sq_array = (unsigned *)(sq + prm.sq_off.array);
    r->cq_head = (unsigned *)(cq + prm.cq_off.head);
    r->cq_tail = (unsigned *)(cq + prm.cq_off.tail);
    r->cq_mask = (unsigned *)(cq + prm.cq_off.ring_mask);
    r->cqes = (struct io_uring_cqe *)(cq + prm.cq_off.cqes);
}

static void ring_read(struct ring *r, int fd, void *buf, size_t len, uint64_t off, unsigned slot,
                      unsigned flags)
{
    unsigned tail = *r->sq_tail, idx = tail & *r->sq_mask;
    struct io_uring_sqe *sqe = &r->sqes[idx];
    memset(sqe, 0, sizeof(*sqe));
    sqe->opcode = IORING_OP_READ;
    sqe->flags = (unsigned char)flags;
    sqe->fd = fd;
    sqe->addr = (uint64_t)(uintptr_t)buf;
    sqe->len = (unsigned)len;
    sqe->off = off;
    sqe->user_data = slot;
    r->sq_array[idx] = idx;
    __atomic_store_n(r->sq_tail, tail + 1, __ATOMIC_RELEASE);
}

static void way_uring(roar_blob_hasher *h, int fd, uint64_t size, size_t bufsz, unsigned flags)
{
    static struct ring r = {.fd = -1};
    static unsigned char *buf[DEPTH];
    static size_t have;
    ssize_t got[DEPTH];
    uint64_t next = 0, done = 0;
    unsigned submit = 0, head;
    if (r.fd < 0)
        ring_open(&r);
    if (have != bufsz) {
        for (unsigned i = 0; i < DEPTH; i++)
            buf[i] = buffer(bufsz, 0);
        have = bufsz;
    }
    for (unsigned i = 0; i < DEPTH && next < size; i++, submit++) {
        size_t len = size - next < bufsz ? size - next : bufsz;
        ring_read(&r, fd, buf[i], len, next, i, flags);
        got[i] = -1, next += len;
    }
    for (unsigned i = 0; done < size; i = (i + 1) % DEPTH) {
        /* wait (submitting what is queued) until slot i has come back; CQEs may arrive
         * out of order, so each is parked in got[] by slot */
        while (got[i] < 0) {
            if (syscall(__NR_io_uring_enter, r.fd, submit, 1, IORING_ENTER_GETEVENTS, NULL, 0) <
                    0 &&
                errno != EINTR)
                die("io_uring_enter");
            submit = 0;
            head = *r.cq_head;
            while (head != __atomic_load_n(r.cq_tail, __ATOMIC_ACQUIRE)) {
                struct io_uring_cqe *c = &r.cqes[head & *r.cq_mask];
                if (c->res <= 0) {
                    errno = -c->res;
                    die("io_uring read");
                }
                got[c->user_data] = c->res;
                head++;
            }
            __atomic_store_n(r.cq_head, head, __ATOMIC_RELEASE);
        }
        feed(h, buf[i], (size_t)got[i]); /* a short read would misalign: whole 128 KiB+ */
        done += (uint64_t)got[i];
        got[i] = -1;
        if (next < size) {
            size_t len = size - next < bufsz ? size - next : bufsz;
            ring_read(&r, fd, buf[i], len, next, i, flags);
            next += len, submit++;
        }
    }
}

static int sink(void *h, const void *data, size_t len)
{
    feed(h, data, len);
    return 0;
}

static void way_memory(roar_blob_hasher *h, uint64_t size)
{
    static unsigned char *buf;
    if (!buf)
        buf = buffer(MIB, 0);
    for (uint64_t off = 0; off < size; off += MIB)
        feed(h, buf, size - off < MIB ? size - off : MIB);
}

/* ---- the table ----------------------------------------------------------------------- */

enum kind { MEMORY, PREAD, PREAD_MALLOC, MMAP, BTHREAD, URING, READAHEAD };
struct way {
    const char *name, *what;
    enum kind kind;
    size_t bufsz;
    int huge, flags, advice;
};

static const struct way ways[] = {
    {"memory", "SHA-1 of a 1 MiB buffer, over and over (no file)", MEMORY, 0, 0, 0, -1},
    {"pread-128k", "pread, 128 KiB buffer (today's roar_hash_fd)", PREAD, 128 * KIB, 0, 0, -1},
    {"pread-128k-malloc", "pread, 128 KiB buffer malloc'd per file", PREAD_MALLOC, 128 * KIB, 0, 0,
     -1},
    {"pread-1m", "pread, 1 MiB buffer", PREAD, MIB, 0, 0, -1},
    {"pread-4m", "pread, 4 MiB buffer", PREAD, 4 * MIB, 0, 0, -1},
    {"pread-2m-huge", "pread, 2 MiB buffer on a huge page", PREAD, 2 * MIB, 1, 0, -1},
    {"pread-4m-huge", "pread, 4 MiB buffer on huge pages", PREAD, 4 * MIB, 1, 0, -1},
    {"mmap-seq", "mmap whole file, MADV_SEQUENTIAL", MMAP, 0, 0, 0, MADV_SEQUENTIAL},
    {"mmap-willneed", "mmap whole file, MADV_WILLNEED", MMAP, 0, 0, 0, MADV_WILLNEED},
    {"mmap-populate", "mmap whole file, MAP_POPULATE", MMAP, 0, 0, MAP_POPULATE, -1},
    {"mmap-64m-seq", "mmap 64 MiB windows, MADV_SEQUENTIAL", MMAP, 64 * MIB, 0, 0, MADV_SEQUENTIAL},
    {"mmap-64m-populate", "mmap 64 MiB windows, MAP_POPULATE", MMAP, 64 * MIB, 0, MAP_POPULATE, -1},
    {"mmap-4m-populate", "mmap 4 MiB windows, MAP_POPULATE", MMAP, 4 * MIB, 0, MAP_POPULATE, -1},
    {"mmap-populate-pf", "mmap whole file, MAP_POPULATE, software prefetch", MMAP, 0, 0,
     MAP_POPULATE | MAP_PREFETCH, -1},
    {"mmap-seq-pf", "mmap whole file, MADV_SEQUENTIAL, software prefetch", MMAP, 0, 0, MAP_PREFETCH,
     MADV_SEQUENTIAL},
    {"mmap-64m-pop-pf", "mmap 64 MiB windows, MAP_POPULATE, software prefetch", MMAP, 64 * MIB, 0,
     MAP_POPULATE | MAP_PREFETCH, -1},
    {"uring-128k", "io_uring reads (raw syscalls), 4 x 128 KiB in flight", URING, 128 * KIB, 0, 0,
     -1},
    {"uring-1m", "io_uring reads, 4 x 1 MiB in flight", URING, MIB, 0, 0, -1},
    {"uring-128k-async", "io_uring, 4 x 128 KiB, IOSQE_ASYNC (copy by io-wq)", URING, 128 * KIB, 0,
     IOSQE_ASYNC, -1},
    {"thread-4x128k", "pread on a 2nd thread, 4 x 128 KiB, blocking hand-off", BTHREAD, 128 * KIB,
     0, 4, -1},
    {"thread-8x128k", "pread on a 2nd thread, 8 x 128 KiB, blocking hand-off", BTHREAD, 128 * KIB,
     0, 8, -1},
    {"thread-2x256k", "pread on a 2nd thread, 2 x 256 KiB, blocking hand-off", BTHREAD, 256 * KIB,
     0, 2, -1},
    {"thread-4x256k", "pread on a 2nd thread, 4 x 256 KiB, blocking hand-off", BTHREAD, 256 * KIB,
     0, 4, -1},
    {"thread-4x512k", "pread on a 2nd thread, 4 x 512 KiB, blocking hand-off", BTHREAD, 512 * KIB,
     0, 4, -1},
    {"thread-4x1m", "pread on a 2nd thread, 4 x 1 MiB, blocking hand-off", BTHREAD, MIB, 0, 4, -1},
    {"readahead", "roar_readahead (util/readahead.c): what roar_hash_fd does from 8 MiB", READAHEAD,
     0, 0, 0, -1},
};

static double now(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double sys_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void run(const struct way *w, const char *path, int runs, char ref[ROAR_OID_HEXSZ + 1])
{
    double best_wall = 1e9, best_cpu = 1e9, best_sys = 1e9;
    char id[ROAR_OID_HEXSZ + 1];
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0)
        die(path);
    for (int i = 0; i < runs; i++) {
        uint64_t size = (uint64_t)st.st_size;
        roar_blob_hasher *h;
        double w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID), s0 = sys_s();
        if (roar_blob_hasher_new(&h, size) < 0)
            die("SHA-1");
        switch (w->kind) {
        case MEMORY:
            way_memory(h, size);
            break;
        case PREAD:
            way_pread(h, fd, size, w->bufsz, w->huge);
            break;
        case MMAP:
            way_mmap(h, fd, size, w->bufsz, w->flags, w->advice);
            break;
        case PREAD_MALLOC:
            way_pread_malloc(h, fd, size, w->bufsz);
            break;
        case READAHEAD:
            if (roar_readahead(fd, 0, size, ROAR_READAHEAD_AUTO, sink, h) < 0)
                die("roar_readahead");
            break;
        case BTHREAD:
            way_bthread(h, fd, size, w->bufsz, (unsigned)w->flags);
            break;
        case URING:
            way_uring(h, fd, size, w->bufsz, (unsigned)w->flags);
            break;
        }
        if (roar_blob_hasher_final(id, h) < 0)
            die("SHA-1");
        roar_blob_hasher_free(h);
        double wall = now(CLOCK_MONOTONIC) - w0, cpu = now(CLOCK_PROCESS_CPUTIME_ID) - c0;
        double sys = sys_s() - s0;
        best_wall = wall < best_wall ? wall : best_wall;
        best_cpu = cpu < best_cpu ? cpu : best_cpu;
        best_sys = sys < best_sys ? sys : best_sys;
    }
    close(fd);
    if (w->kind != MEMORY) {
        if (!ref[0])
            memcpy(ref, id, sizeof(id));
        else if (strcmp(ref, id) != 0) {
            fprintf(stderr, "fatal: %s gives %s, not %s\n", w->name, id, ref);
            exit(1);
        }
    }
    printf("%-18s %6.2f %8.2f %8.2f %8.2f  %s\n", w->name, (double)st.st_size / best_wall / 1e9,
           best_wall * 1e3, best_cpu * 1e3, best_sys * 1e3, w->what);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    char ref[ROAR_OID_HEXSZ + 1] = "";
    int runs = argc > 2 ? atoi(argv[2]) : 5;
    size_t n = sizeof(ways) / sizeof(ways[0]);

    if (argc < 2 || runs < 1) {
        fprintf(stderr, "usage: hash_feed_bench FILE [RUNS] [WAY...]\n");
        return 129;
    }
    printf("%-18s %6s %8s %8s %8s  (best of %d each)\n", "way", "GB/s", "wall ms", "cpu ms",
           "sys ms", runs);
    for (size_t i = 0; i < n; i++) {
        int wanted = argc <= 3;
        for (int a = 3; a < argc; a++)
            wanted |= strcmp(argv[a], ways[i].name) == 0;
        if (wanted)
            run(&ways[i], argv[1], runs, ref);
    }
    printf("id %s\n", ref);
    return 0;
}
