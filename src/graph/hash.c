/* Identity-verified streaming blob ids of files and the stat cache policy; see hash.h.
 * The hot loop is pread into one bounded buffer + OpenSSL SHA-1 (big files: pread on a
 * second thread, util/readahead.h); holes cost no reads. */
#include "graph/hash.h"
#include "graph/oid.h"
#include "util/err.h"
#include "util/readahead.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* 128 KiB: measured here on a warm file (bench/README.md), buffers of 32-128 KiB
 * hash at ~1.2 GB/s and 256 KiB-1 MiB at ~0.8: a buffer that stays in the core's L2
 * is read back by SHA-1 from there, not from L3. Syscalls cost ~2% at this size.
 * Measured again for issue 19 (bench/hash_feed_bench.c): 1-4 MiB buffers, huge pages
 * and io_uring reads feed SHA-1 within 2% of this; mmap is 35-50% slower (each page's
 * first touch through a fresh mapping costs ~2 us on this VM). */
#define HASH_BUF_MAX ((size_t)128 << 10)

/* From this size the copy out of the page cache is made on a second thread while SHA-1
 * runs (util/readahead.h): ~15% less wall time from 8 MiB up when a core is free, for
 * ~15% more CPU time. At 1 MiB the thread's start costs more than it saves (6% slower),
 * at 4 MiB it saves 5% for 20% more CPU. */
#define HASH_READAHEAD_MIN ((uint64_t)8 << 20)

/* Holes are fed from here. Not const: it lives in .bss, so reading it maps the kernel's
 * shared zero page instead of adding to every binary's size. */
static unsigned char zero_buf[HASH_BUF_MAX];

static _Atomic uint64_t bytes_hashed;

uint64_t roar_hash_bytes_hashed(void)
{
    return atomic_load_explicit(&bytes_hashed, memory_order_relaxed);
}

void roar_stat_key_from_stat(roar_stat_key *out, const struct stat *st)
{
    out->dev = (uint64_t)st->st_dev;
    out->ino = (uint64_t)st->st_ino;
    out->size = (uint64_t)st->st_size;
    out->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
    out->ctime_ns = (int64_t)st->st_ctim.tv_sec * 1000000000LL + st->st_ctim.tv_nsec;
}

bool roar_stat_key_equal(const roar_stat_key *a, const roar_stat_key *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns;
}

static int fstat_regular(struct stat *st, int fd)
{
    if (fstat(fd, st) < 0)
        return roar_error_set_errno(ROAR_ERROR, "cannot stat fd %d", fd);
    if (!S_ISREG(st->st_mode))
        return roar_error_set(ROAR_EINVALID, "fd %d is not a regular file", fd);
    return 0;
}

int roar_stat_key_of_fd(roar_stat_key *out, int fd)
{
    struct stat st;
    int error = fstat_regular(&st, fd);
    if (error == 0)
        roar_stat_key_from_stat(out, &st);
    return error;
}

int roar_stat_key_of_path(roar_stat_key *out, const char *path)
{
    struct stat st;

    if (stat(path, &st) < 0)
        return roar_error_set_errno(errno == ENOENT || errno == ENOTDIR ? ROAR_ENOTFOUND
                                                                        : ROAR_ERROR,
                                    "cannot stat '%s'", path);
    if (!S_ISREG(st.st_mode))
        return roar_error_set(ROAR_EINVALID, "'%s' is not a regular file", path);
    roar_stat_key_from_stat(out, &st);
    return 0;
}

static int feed(roar_blob_hasher *h, const void *data, size_t len)
{
    atomic_fetch_add_explicit(&bytes_hashed, len, memory_order_relaxed);
    return roar_blob_hasher_update(h, data, len);
}

static int feed_zeros(roar_blob_hasher *h, uint64_t len)
{
    int error = 0;
    while (len && error == 0) {
        size_t n = len < HASH_BUF_MAX ? (size_t)len : HASH_BUF_MAX;
        error = feed(h, zero_buf, n);
        len -= n;
    }
    return error;
}

static int feed_sink(void *h, const void *data, size_t len)
{
    return feed(h, data, len);
}

/* Reads [off, end) with pread, so the caller's file offset is not disturbed. */
static int feed_range(roar_blob_hasher *h, int fd, unsigned char *buf, size_t bufsz, uint64_t off,
                      uint64_t end)
{
    int error = 0;

    while (off < end && error == 0) {
        size_t want = end - off < bufsz ? (size_t)(end - off) : bufsz;
        ssize_t n = pread(fd, buf, want, (off_t)off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return roar_error_set_errno(ROAR_ERROR, "cannot read fd %d", fd);
        }
        if (n == 0) /* shorter than fstat said: truncated under us */
            return roar_error_set(ROAR_ECHANGED, "file shrank while it was being hashed");
        error = feed(h, buf, (size_t)n);
        off += (uint64_t)n;
    }
    return error;
}

/* Sparse files: SEEK_DATA/SEEK_HOLE walk the extents; holes become zeros without a read.
 * Where the file system cannot say (EINVAL), the rest is read as data. */
static int feed_sparse(roar_blob_hasher *h, int fd, unsigned char *buf, size_t bufsz, uint64_t size)
{
    uint64_t pos = 0;
    int error = 0;

    while (pos < size && error == 0) {
        off_t data = lseek(fd, (off_t)pos, SEEK_DATA), hole;
        if (data < 0) {
            if (errno == ENXIO) /* no data past pos: a trailing hole */
                data = (off_t)size;
            else if (errno == EINVAL || errno == EOPNOTSUPP)
                return feed_range(h, fd, buf, bufsz, pos, size);
            else
                return roar_error_set_errno(ROAR_ERROR, "cannot seek fd %d", fd);
        }
        if ((uint64_t)data > size)
            data = (off_t)size;
        if ((error = feed_zeros(h, (uint64_t)data - pos)) < 0)
            break;
        pos = (uint64_t)data;
        if (pos >= size)
            break;
        hole = lseek(fd, (off_t)pos, SEEK_HOLE);
        if (hole < 0 || (uint64_t)hole > size)
            hole = (off_t)size;
        if (hole <= data) /* shrank between the two seeks; the size check will tell */
            hole = (off_t)size;
        error = feed_range(h, fd, buf, bufsz, pos, (uint64_t)hole);
        pos = (uint64_t)hole;
    }
    return error;
}

int roar_hash_fd(char out[ROAR_OID_HEXSZ + 1], roar_stat_key *out_key, int fd,
                 const roar_stat_key *expected)
{
    roar_blob_hasher *h = NULL;
    unsigned char *buf = NULL;
    roar_stat_key before, after;
    struct stat st;
    off_t saved_offset = -1;
    size_t bufsz;
    bool sparse;
    int error;

    out[0] = '\0';
    if ((error = fstat_regular(&st, fd)) < 0)
        goto cleanup;
    roar_stat_key_from_stat(&before, &st);
    if (expected && !roar_stat_key_equal(expected, &before)) {
        error = roar_error_set(ROAR_ECHANGED, "file changed since it was opened");
        goto cleanup;
    }
    if ((error = roar_blob_hasher_new(&h, before.size)) < 0)
        goto cleanup;

    if (before.size > HASH_BUF_MAX)
        (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL); /* a hint; failure is fine */

    /* Fewer allocated blocks than the size needs: there are holes worth skipping. */
    sparse = (uint64_t)st.st_blocks * 512 < before.size;
    if (!sparse && before.size >= HASH_READAHEAD_MIN) {
        /* a short read (truncated meanwhile) is ROAR_ECHANGED, as in feed_range */
        if ((error = roar_readahead(fd, 0, before.size, ROAR_READAHEAD_AUTO, feed_sink, h)) < 0)
            goto cleanup;
    } else {
        bufsz = before.size < HASH_BUF_MAX ? (size_t)before.size : HASH_BUF_MAX;
        if (bufsz && !(buf = malloc(bufsz))) {
            error = roar_error_set(ROAR_ENOMEM, "out of memory");
            goto cleanup;
        }
        if (sparse) {
            saved_offset = lseek(fd, 0, SEEK_CUR);
            error = feed_sparse(h, fd, buf, bufsz, before.size);
        } else {
            error = feed_range(h, fd, buf, bufsz, 0, before.size);
        }
        if (error < 0)
            goto cleanup;
    }

    if ((error = roar_stat_key_of_fd(&after, fd)) < 0)
        goto cleanup;
    if (!roar_stat_key_equal(&before, &after)) {
        error = roar_error_set(ROAR_ECHANGED, "file changed while it was being hashed");
        goto cleanup;
    }
    if ((error = roar_blob_hasher_final(out, h)) < 0)
        goto cleanup;
    if (out_key)
        *out_key = before;

cleanup:
    if (saved_offset >= 0)
        (void)lseek(fd, saved_offset, SEEK_SET);
    if (error < 0)
        out[0] = '\0';
    roar_blob_hasher_free(h);
    free(buf);
    return error;
}

int roar_hash_fd_prefix(char out[ROAR_OID_HEXSZ + 1], int fd, uint64_t len)
{
    roar_blob_hasher *h = NULL;
    unsigned char *buf = NULL;
    struct stat st;
    size_t bufsz = len < HASH_BUF_MAX ? (size_t)len : HASH_BUF_MAX;
    int error;

    out[0] = '\0';
    if ((error = fstat_regular(&st, fd)) < 0)
        return error;
    if ((uint64_t)st.st_size < len)
        return roar_error_set(ROAR_ECHANGED, "file shorter than the prefix to hash");
    if ((error = roar_blob_hasher_new(&h, len)) < 0)
        return error;
    if (bufsz && !(buf = malloc(bufsz)))
        error = roar_error_set(ROAR_ENOMEM, "out of memory");
    if (error == 0)
        error = feed_range(h, fd, buf, bufsz, 0, len);
    /* shrunk meanwhile: the bytes read may be anything */
    if (error == 0 && (error = fstat_regular(&st, fd)) == 0 && (uint64_t)st.st_size < len)
        error = roar_error_set(ROAR_ECHANGED, "file shrank while it was being hashed");
    if (error == 0)
        error = roar_blob_hasher_final(out, h);
    if (error < 0)
        out[0] = '\0';
    roar_blob_hasher_free(h);
    free(buf);
    return error;
}

int roar_hash_path(char out[ROAR_OID_HEXSZ + 1], roar_stat_key *out_key, const char *path,
                   const roar_stat_key *expected)
{
    /* O_NONBLOCK: should the path have been swapped for a FIFO, do not hang on it. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    int error;

    out[0] = '\0';
    if (fd < 0)
        return roar_error_set_errno(errno == ENOENT || errno == ENOTDIR ? ROAR_ENOTFOUND
                                                                        : ROAR_ERROR,
                                    "cannot open '%s'", path);
    if ((error = roar_hash_fd(out, out_key, fd, expected)) < 0)
        roar_error_prefix("cannot hash '%s'", path);
    close(fd);
    return error;
}

/* ---- the stat cache ------------------------------------------------------------ */

bool roar_hash_is_racy(const roar_stat_key *key, int64_t hashed_at_ns)
{
    int64_t trusted_before = hashed_at_ns - ROAR_HASH_RACY_MARGIN_NS;
    return !(key->mtime_ns < trusted_before && key->ctime_ns < trusted_before);
}

bool roar_hash_is_racy_at_stamp(const roar_stat_key *key, int64_t stamp_ns)
{
    return !(key->mtime_ns < stamp_ns && key->ctime_ns < stamp_ns);
}

int64_t roar_hash_stamp_row_time(int64_t stamp_ns)
{
    return stamp_ns + ROAR_HASH_RACY_MARGIN_NS;
}

int64_t roar_hash_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int roar_hash_cache_lookup(char out[ROAR_OID_HEXSZ + 1], roar_cache *cache,
                           const roar_stat_key *key)
{
    int64_t hashed_at = 0;
    int error;

    out[0] = '\0';
    if (!cache)
        return ROAR_ENOTFOUND;
    if ((error = roar_cache_hash_get(cache, key, out, &hashed_at)) < 0)
        return error;
    if (roar_hash_is_racy(key, hashed_at)) {
        out[0] = '\0';
        return ROAR_ENOTFOUND;
    }
    return 0;
}

/* A lookup failure other than "no trusted row" must not stop hashing: the cache is
 * only derived data. Returns true when `out` holds a trusted id. */
static bool lookup_trusted(char out[ROAR_OID_HEXSZ + 1], roar_cache *cache,
                           const roar_stat_key *key)
{
    if (roar_hash_cache_lookup(out, cache, key) == 0)
        return true;
    roar_error_clear();
    return false;
}

static void store(roar_cache *cache, const roar_stat_key *key, const char *id, int64_t hashed_at)
{
    if (cache && roar_cache_hash_put(cache, key, id, hashed_at) < 0)
        roar_error_clear(); /* the id is still right; only the shortcut is lost */
}

int roar_hash_file(char out[ROAR_OID_HEXSZ + 1], roar_stat_key *out_key, roar_cache *cache,
                   const char *path, const roar_stat_key *expected)
{
    roar_stat_key key;
    int64_t hashed_at;
    int error;

    out[0] = '\0';
    if ((error = roar_stat_key_of_path(&key, path)) < 0)
        return error;
    if (expected && !roar_stat_key_equal(expected, &key))
        return roar_error_set(ROAR_ECHANGED, "'%s' changed since it was opened", path);
    if (!lookup_trusted(out, cache, &key)) {
        /* Taken before the first byte is read: any later write stamps the file at or
         * after this (within the coarse-clock lag the margin absorbs). */
        hashed_at = roar_hash_now_ns();
        if ((error = roar_hash_path(out, NULL, path, &key)) < 0)
            return error;
        store(cache, &key, out, hashed_at);
    }
    if (out_key)
        *out_key = key;
    return 0;
}

int roar_hash_file_fd(char out[ROAR_OID_HEXSZ + 1], roar_stat_key *out_key, roar_cache *cache,
                      int fd, const roar_stat_key *expected)
{
    roar_stat_key key;
    int64_t hashed_at;
    int error;

    out[0] = '\0';
    if ((error = roar_stat_key_of_fd(&key, fd)) < 0)
        return error;
    if (expected && !roar_stat_key_equal(expected, &key))
        return roar_error_set(ROAR_ECHANGED, "file changed since it was opened");
    if (!lookup_trusted(out, cache, &key)) {
        hashed_at = roar_hash_now_ns();
        if ((error = roar_hash_fd(out, NULL, fd, &key)) < 0)
            return error;
        store(cache, &key, out, hashed_at);
    }
    if (out_key)
        *out_key = key;
    return 0;
}
