/* Outputs hashed while the job runs (issue 19): as soon as fdstate says the job's
 * writers are done with a file, a worker thread hashes it, so that the end of a job
 * costs no more than its last files. The end decides whether each such id stands
 * (roar_collector__early_take); when in doubt it does not, and the file is hashed then,
 * as it always was. */
#include "trace/collector_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/err.h"

/* A file stamped within this much of the coarse clock is waited for at most this long
 * before its hash (see settle_ns); past it, it is left to the end. */
#define SETTLE_MAX_NS 50000000LL /* 50 ms */

struct early_hash {
    roar_pool_task task; /* first: the pool hands it back as this struct */
    const roar_collector_opts *opts;
    /* Set once the job is over (roar_collector__early_take): a hash not begun by then
     * is not begun at all, the end hashes the file itself (no settling is needed once
     * every process of the job is gone, and waiting a tick for it costs a small job
     * more than its hash). */
    atomic_bool *ending;
    roar_fsfile *file;
    char *path;
    uint64_t dev, ino, write_gen;
    /* the worker's answer, read only after roar_pool_wait */
    int rc;
    char id[ROAR_FDSTATE_OIDSZ + 1];
    roar_ident ident; /* the identity before and after reading */
};

static int64_t ts_ns(const struct timespec *t)
{
    return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

/* How long to wait before hashing a file whose stamps are st's, 0 for none, or -1 never
 * to: a hash must not be able to miss a write that leaves the identity as it is.
 *
 * The kernel stamps mtime and ctime from its coarse clock (CLOCK_REALTIME_COARSE, the
 * same clock we read), or finer. Once that clock has moved past both stamps, any later
 * write stamps the file later than they are, so the identity taken now changes with any
 * write that follows. Until then, a write in the same tick could leave it as it is:
 * wait for the tick to pass (a few ms). Whole-second stamps (both nanosecond parts 0: a
 * file system that keeps seconds only, or a rare coincidence) would need a second or
 * more: left to the end. */
static int64_t settle_ns(const struct stat *st)
{
    struct timespec now;
    int64_t stamp =
        ts_ns(&st->st_mtim) > ts_ns(&st->st_ctim) ? ts_ns(&st->st_mtim) : ts_ns(&st->st_ctim);
    if (st->st_mtim.tv_nsec == 0 && st->st_ctim.tv_nsec == 0)
        return -1;
    if (clock_gettime(CLOCK_REALTIME_COARSE, &now) < 0)
        return -1;
    return ts_ns(&now) > stamp ? 0 : stamp - ts_ns(&now) + 1;
}

static void ident_of(roar_ident *out, const struct stat *st)
{
    memset(out, 0, sizeof(*out));
    out->known = true;
    out->dev = (uint64_t)st->st_dev;
    out->ino = (uint64_t)st->st_ino;
    out->size = (uint64_t)st->st_size;
    out->mtime_ns = ts_ns(&st->st_mtim);
    out->ctime_ns = ts_ns(&st->st_ctim);
    out->mode = st->st_mode;
}

/* On a worker thread: hash h->path if it is still the file fdstate named (dev, ino)
 * and its stamps are settled (settle_ns). h->rc 0 and h->id, h->ident on success. */
/* Sleeps ns, in slices of at most 1 ms, so that the end of the job never waits for a
 * sleeper; false when the job ended meanwhile. */
static bool settle_sleep(early_hash *h, int64_t ns)
{
    while (ns > 0 && !atomic_load(h->ending)) {
        int64_t slice = ns < 1000000 ? ns : 1000000;
        struct timespec ts = {0, (long)slice};
        nanosleep(&ts, NULL); /* EINTR: only wakes us early */
        ns -= slice;
    }
    return !atomic_load(h->ending);
}

static void early_run(roar_pool_task *task)
{
    early_hash *h = (early_hash *)task;
    struct timespec res = {0, 4000000};
    struct stat st;
    int64_t wait, waited = 0;
    int fd;

    /* the coarse clock moves a tick at a time: sleeping less than a tick past a
     * fine-grained stamp would find it still ahead */
    clock_getres(CLOCK_REALTIME_COARSE, &res);
    h->rc = ROAR_ECHANGED;
    while (!atomic_load(h->ending)) {
        /* O_NONBLOCK: never hang on a FIFO put there since */
        if ((fd = open(h->path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)) < 0) {
            h->rc = ROAR_ENOTFOUND; /* moved or removed since: the end will see */
            break;
        }
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_dev != h->dev ||
            (uint64_t)st.st_ino != h->ino || (wait = settle_ns(&st)) < 0) {
            close(fd);
            break;
        }
        if (wait > 0) {
            close(fd);
            wait += ts_ns(&res);
            if ((waited += wait) > SETTLE_MAX_NS || !settle_sleep(h, wait))
                break;
            continue;
        }
        ident_of(&h->ident, &st);
        h->rc = h->opts->hash_fd(h->id, fd, &h->ident);
        close(fd);
        break;
    }
    if (h->rc < 0)
        h->id[0] = '\0';
    roar_error_clear(); /* this thread's own message: nobody reads it */
}

/* Whether the fed path would be recorded (the filters only ever drop more as the job
 * goes on), and is not in a git dir. */
static bool worth_hashing(collector *c, const char *fed)
{
    roar_path_kind kind;
    if (roar_pathcanon_map(&c->tmp, &kind, c->opts->canon, fed) < 0) {
        roar_error_clear();
        return false;
    }
    return kind != ROAR_PATH_GITDIR && roar_pathfilter_keep(c->opts->filter, c->tmp.ptr, kind);
}

static void early_free(early_hash *h)
{
    if (h) {
        free(h->path);
        free(h);
    }
}

void roar_collector__early_queue(collector *c)
{
    roar_fdstate_written w;
    early_hash *h;

    while (roar_fdstate_next_written(c->st, &w)) {
        if (!c->opts->hash_fd || !c->opts->hash_threads || c->early_off ||
            !worth_hashing(c, w.path))
            continue;
        if (!c->pool && roar_pool_new(&c->pool, c->opts->hash_threads) < 0) {
            roar_error_clear(); /* no threads: everything is hashed at the end */
            c->early_off = true;
            continue;
        }
        if (ROAR_ALLOC_GROW(c->early, c->nearly + 1, c->aearly) < 0 ||
            !(h = calloc(1, sizeof(*h)))) {
            roar_error_clear();
            continue; /* not hashed early: hashed at the end */
        }
        if (!(h->path = strdup(w.path))) {
            early_free(h);
            continue;
        }
        h->task.run = early_run;
        h->opts = c->opts;
        h->ending = &c->early_ending;
        h->file = w.file;
        h->dev = w.dev;
        h->ino = w.ino;
        h->write_gen = w.write_gen;
        /* The latest request for a file is the one the end looks at; older ones stay
         * listed so that dispose can wait for them. */
        if (roar_keymap_put(&c->early_by_file, &h->file, sizeof(h->file), h) < 0) {
            early_free(h);
            roar_error_clear();
            continue;
        }
        c->early[c->nearly++] = h;
        roar_pool_submit(c->pool, &h->task);
    }
}

bool roar_collector__early_take(collector *c, const roar_fdstate_entry *e,
                                char id[ROAR_FDSTATE_OIDSZ + 1], uint64_t *size)
{
    early_hash *h;
    struct stat st;
    roar_ident now;

    if (!c->pool || !e->file ||
        !(h = roar_keymap_get(&c->early_by_file, &e->file, sizeof(e->file))))
        return false;
    /* Every event is in: hashes not begun give up (a queued one run here does at once,
     * a settling one within a ms); only those already reading are waited for. */
    atomic_store(&c->early_ending, true);
    roar_pool_wait(c->pool, &h->task);
    if (h->rc < 0 || !roar_fdstate_unwritten_since(e->file, h->write_gen))
        return false;
    if (stat(e->path, &st) < 0 || !S_ISREG(st.st_mode))
        return false;
    ident_of(&now, &st);
    if (now.dev != h->ident.dev || now.ino != h->ident.ino || now.size != h->ident.size ||
        now.mtime_ns != h->ident.mtime_ns || now.ctime_ns != h->ident.ctime_ns)
        return false;
    memcpy(id, h->id, ROAR_FDSTATE_OIDSZ + 1);
    *size = h->ident.size;
    return true;
}

void roar_collector__early_dispose(collector *c)
{
    size_t i;
    atomic_store(&c->early_ending, true); /* sleepers wake within a ms */
    roar_pool_free(c->pool);              /* the queued are dropped, the running waited for */
    c->pool = NULL;
    for (i = 0; i < c->nearly; i++)
        early_free(c->early[i]);
    free(c->early);
    c->early = NULL;
    c->nearly = c->aearly = 0;
    roar_keymap_dispose(&c->early_by_file);
}
