/* pread on a second thread into a ring of buffers, consumed in order; see readahead.h. */
#include "util/readahead.h"
#include "util/err.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* 8 x 128 KiB: measured on a warm 1 GiB file (bench/README.md), this ring kept the
 * reader ahead of SHA-1 in every run, while 4 x 256 KiB sometimes fell back to the
 * speed of a single thread. 1 MiB in flight also stays in the L2/L3 caches. */
#define SLOTS 8
#define SLOT_SIZE ((size_t)128 << 10)

typedef struct {
    int fd;
    uint64_t off, end;  /* the reader's next offset, and where it stops */
    unsigned char *buf; /* SLOTS x SLOT_SIZE */
    pthread_mutex_t mu;
    pthread_cond_t filled, emptied;
    /* under mu */
    ssize_t len[SLOTS]; /* bytes in slot i, or -1 while it is the reader's */
    bool stop;          /* the consumer is done (it failed): the reader quits */
    bool ended;         /* the reader is done: at `end`, or at `err`/short */
    int read_errno;     /* a read failed with this */
    bool short_read;    /* the file ended before `end` */
} ring;

static size_t want(const ring *r)
{
    return r->end - r->off < SLOT_SIZE ? (size_t)(r->end - r->off) : SLOT_SIZE;
}

static ssize_t pread_retry(int fd, void *buf, size_t len, uint64_t off)
{
    ssize_t n;
    while ((n = pread(fd, buf, len, (off_t)off)) < 0 && errno == EINTR)
        ;
    return n;
}

static void *reader(void *arg)
{
    ring *r = arg;
    for (unsigned i = 0; r->off < r->end; i = (i + 1) % SLOTS) {
        ssize_t n;
        pthread_mutex_lock(&r->mu);
        while (r->len[i] >= 0 && !r->stop)
            pthread_cond_wait(&r->emptied, &r->mu);
        if (r->stop) {
            pthread_mutex_unlock(&r->mu);
            break;
        }
        pthread_mutex_unlock(&r->mu);

        n = pread_retry(r->fd, r->buf + i * SLOT_SIZE, want(r), r->off);

        pthread_mutex_lock(&r->mu);
        if (n > 0) {
            r->len[i] = n;
            r->off += (uint64_t)n;
        } else {
            r->read_errno = n < 0 ? errno : 0;
            r->short_read = n == 0;
            r->end = r->off; /* stop here */
        }
        pthread_cond_signal(&r->filled);
        pthread_mutex_unlock(&r->mu);
    }
    pthread_mutex_lock(&r->mu);
    r->ended = true;
    pthread_cond_signal(&r->filled);
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

static int read_failed(int fd, int read_errno)
{
    if (read_errno == 0)
        return roar_error_set(ROAR_ECHANGED, "file shrank while it was being read");
    errno = read_errno;
    return roar_error_set_errno(ROAR_ERROR, "cannot read fd %d", fd);
}

/* The caller's thread alone: what a single CPU or a failed thread start leaves. */
static int read_inline(int fd, uint64_t off, uint64_t end, roar_readahead_sink sink, void *arg)
{
    unsigned char *buf = malloc(SLOT_SIZE);
    int error = 0;

    if (!buf)
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    while (off < end && error == 0) {
        ssize_t n =
            pread_retry(fd, buf, end - off < SLOT_SIZE ? (size_t)(end - off) : SLOT_SIZE, off);
        if (n <= 0)
            error = read_failed(fd, n < 0 ? errno : 0);
        else if ((error = sink(arg, buf, (size_t)n)) == 0)
            off += (uint64_t)n;
    }
    free(buf);
    return error;
}

/* Whether a CPU we may run on is idle now: the reader only pays when it runs beside the
 * consumer. With every CPU busy it makes the same copy plus the hand-offs and the
 * cache traffic between cores: measured ~6-15% slower than reading inline, at load
 * 2.5 on 2 CPUs. The running count of /proc/loadavg ("R/T", the caller included) is
 * a snapshot, so this is a guess, but a cheap one (~10 us against the >= 5 ms a file
 * big enough for the reader takes to hash). */
static bool idle_cpu(void)
{
    cpu_set_t set;
    unsigned running = 0, total = 0;
    char line[128];
    ssize_t n;
    int fd;

    if (sched_getaffinity(0, sizeof(set), &set) < 0 || CPU_COUNT(&set) < 2)
        return false;
    if ((fd = open("/proc/loadavg", O_RDONLY | O_CLOEXEC)) < 0)
        return true; /* no /proc: several CPUs is all we know */
    n = read(fd, line, sizeof(line) - 1);
    close(fd);
    if (n <= 0)
        return true;
    line[n] = '\0';
    if (sscanf(line, "%*s %*s %*s %u/%u", &running, &total) != 2)
        return true;
    return running < (unsigned)CPU_COUNT(&set);
}

/* Starts the reader with every signal blocked, so that none meant for the process is
 * handled on it (the caller's mask is put back for the caller). */
static bool start_reader(pthread_t *t, ring *r)
{
    sigset_t all, old;
    bool ok;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    ok = pthread_create(t, NULL, reader, r) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return ok;
}

int roar_readahead(int fd, uint64_t off, uint64_t end, roar_readahead_mode mode,
                   roar_readahead_sink sink, void *arg)
{
    ring r = {.fd = fd, .off = off, .end = end};
    pthread_t thread;
    uint64_t done = off;
    int error = 0;

    if (end <= off)
        return 0;
    if (mode == ROAR_READAHEAD_INLINE || end - off <= SLOT_SIZE ||
        (mode == ROAR_READAHEAD_AUTO && !idle_cpu()))
        return read_inline(fd, off, end, sink, arg);
    if (!(r.buf = malloc(SLOTS * SLOT_SIZE)))
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    for (unsigned i = 0; i < SLOTS; i++)
        r.len[i] = -1;
    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.filled, NULL);
    pthread_cond_init(&r.emptied, NULL);
    if (!start_reader(&thread, &r)) {
        error = read_inline(fd, off, end, sink, arg);
        goto cleanup;
    }

    for (unsigned i = 0; done < end && error == 0; i = (i + 1) % SLOTS) {
        ssize_t n;
        pthread_mutex_lock(&r.mu);
        while ((n = r.len[i]) < 0 && !r.ended)
            pthread_cond_wait(&r.filled, &r.mu);
        if (n < 0) /* the reader stopped short of `end` */
            error = read_failed(fd, r.read_errno);
        pthread_mutex_unlock(&r.mu);
        if (error == 0 && (error = sink(arg, r.buf + i * SLOT_SIZE, (size_t)n)) == 0) {
            done += (uint64_t)n;
            pthread_mutex_lock(&r.mu);
            r.len[i] = -1;
            pthread_cond_signal(&r.emptied);
            pthread_mutex_unlock(&r.mu);
        }
    }
    pthread_mutex_lock(&r.mu);
    r.stop = true; /* a no-op when the reader is done; else it quits at its next slot */
    pthread_cond_signal(&r.emptied);
    pthread_mutex_unlock(&r.mu);
    pthread_join(thread, NULL);

cleanup:
    pthread_cond_destroy(&r.emptied);
    pthread_cond_destroy(&r.filled);
    pthread_mutex_destroy(&r.mu);
    free(r.buf);
    return error;
}
