/* Seeding the stat cache from git's index; see index_seed.h for the rules.
 * Every test here errs towards not seeding: a missing row costs one hash, a wrong one a lie. */
#include "gitstore/index_seed.h"
#include "graph/hash.h"
#include "util/buf.h"
#include "util/err.h"

#include <errno.h>
#include <string.h>
#include <strings.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* Attributes under which git stores something other than the work-tree bytes. `crlf` is
 * the old spelling of `text` (crlf=input: eol=lf). */
static const char *const conversion_attrs[] = {
    "filter", "text", "eol", "ident", "working-tree-encoding", "crlf",
};
#define NCONVERSION_ATTRS (sizeof(conversion_attrs) / sizeof(conversion_attrs[0]))

static int libgit2_error(const char *what)
{
    const git_error *e = git_error_last();
    return roar_error_set(ROAR_ERROR, "%s: %s", what,
                          e && e->message ? e->message : "unknown error");
}

/* True when core.autocrlf makes git convert line endings on add (true, input), or its
 * value is not one we understand: then no index id can be trusted to be of work-tree
 * bytes. */
static int autocrlf_converts(bool *out, git_repository *repo)
{
    git_config *cfg = NULL;
    git_buf value = {0};
    int error, b = 0;

    *out = true;
    if (git_repository_config_snapshot(&cfg, repo) < 0)
        return libgit2_error("cannot read the git config");
    error = git_config_get_string_buf(&value, cfg, "core.autocrlf");
    if (error == GIT_ENOTFOUND) {
        *out = false;
        error = 0;
    } else if (error < 0) {
        error = libgit2_error("cannot read core.autocrlf");
    } else if (strcasecmp(value.ptr, "input") != 0 && git_config_parse_bool(&b, value.ptr) == 0) {
        *out = b != 0;
    } else {
        git_error_clear(); /* "input" or garbage: convert (or refuse) => do not seed */
    }
    git_buf_dispose(&value);
    git_config_free(cfg);
    return error;
}

static int path_has_conversion(bool *out, git_repository *repo, const char *path)
{
    const char *values[NCONVERSION_ATTRS];
    git_attr_value_t v;

    *out = true;
    if (git_attr_get_many(values, repo, GIT_ATTR_CHECK_FILE_THEN_INDEX, path, NCONVERSION_ATTRS,
                          (const char **)conversion_attrs) < 0)
        return libgit2_error("cannot read attributes");
    *out = false;
    for (size_t i = 0; i < NCONVERSION_ATTRS; i++) {
        v = git_attr_value(values[i]);
        /* Set or given a value converts; unset (-text) and unspecified do not. */
        if (v == GIT_ATTR_VALUE_TRUE || v == GIT_ATTR_VALUE_STRING)
            *out = true;
    }
    return 0;
}

/* Racy entries (git's rule) hashed at a seed, at most: git checks out files and then
 * writes the index, so those written in the index's own clock tick are racy; git
 * re-reads them at its next refresh, and so does the seed, which they would otherwise
 * leave for an in-place editor to race (issue 17). Bounded, as a tick's worth of files
 * is: a file system with coarse stamps (whole seconds) can make far more racy. */
#define RACY_HASH_MAX_FILES 256
#define RACY_HASH_MAX_BYTES (64u << 20)

/* A stamp of the kernel's file clock now: the mtime of a file created for it in `dir`
 * (git's dir: the same file system as the index, whose mtime git's rule compares). Any
 * write after it stamps a file at or after it. 0 when none could be taken. */
static int64_t file_clock_now(const char *dir)
{
    roar_buf path = ROAR_BUF_INIT;
    struct stat st;
    int64_t stamp = 0;
    int fd;

    if (roar_buf_printf(&path, "%s/roar-stamp-XXXXXX", dir) < 0) {
        roar_error_clear();
        return 0;
    }
    if ((fd = mkstemp(path.ptr)) >= 0) {
        if (fstat(fd, &st) == 0)
            stamp = (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
        unlink(path.ptr);
        close(fd);
    }
    roar_buf_dispose(&path);
    return stamp;
}

static bool entry_is_candidate(const git_index_entry *e)
{
    if (GIT_INDEX_ENTRY_STAGE(e) != 0)
        return false;
    if (e->flags & GIT_INDEX_ENTRY_VALID) /* assume-unchanged: git stopped looking */
        return false;
    if (e->flags_extended & (GIT_INDEX_ENTRY_SKIP_WORKTREE | GIT_INDEX_ENTRY_INTENT_TO_ADD))
        return false;
    return e->mode == GIT_FILEMODE_BLOB || e->mode == GIT_FILEMODE_BLOB_EXECUTABLE;
}

/* The index keeps 32 bits of seconds, size, inode and device: compare what it has. */
static bool stat_matches_entry(const struct stat *st, const git_index_entry *e)
{
    return (uint32_t)st->st_mtim.tv_sec == (uint32_t)e->mtime.seconds &&
           (uint32_t)st->st_mtim.tv_nsec == e->mtime.nanoseconds &&
           (uint32_t)st->st_ctim.tv_sec == (uint32_t)e->ctime.seconds &&
           (uint32_t)st->st_ctim.tv_nsec == e->ctime.nanoseconds &&
           (uint32_t)st->st_size == e->file_size && (uint32_t)st->st_ino == e->ino &&
           (uint32_t)st->st_dev == e->dev;
}

int roar_index_seed_cache(size_t *out_seeded, roar_cache *cache, git_repository *repo,
                          const char *workdir)
{
    git_index *index = NULL;
    roar_buf path = ROAR_BUF_INIT;
    const git_index_entry *e;
    const char *index_path;
    char id[ROAR_OID_HEXSZ + 1], have[ROAR_OID_HEXSZ + 1];
    struct stat st;
    roar_stat_key key;
    int64_t index_mtime_ns, stamp = 0, row_time;
    uint64_t racy_bytes = 0;
    size_t seeded = 0, prefix_len, count, racy_files = 0;
    bool converts, in_tx = false;
    int error = 0;

    if (out_seeded)
        *out_seeded = 0;
    if (!workdir || !*workdir)
        return roar_error_set(ROAR_EINVALID, "cannot seed the stat cache without a work tree");
    if ((error = autocrlf_converts(&converts, repo)) < 0 || converts)
        return error;

    if (git_repository_index(&index, repo) < 0 || git_index_read(index, 0) < 0) {
        error = libgit2_error("cannot read the index");
        goto cleanup;
    }
    /* No index file (fresh repository): nothing tracked, nothing to seed. */
    if (!(index_path = git_index_path(index)) || stat(index_path, &st) < 0)
        goto cleanup;
    index_mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;

    if ((error = roar_buf_puts(&path, workdir)) < 0 ||
        (path.size && path.ptr[path.size - 1] != '/' && (error = roar_buf_putc(&path, '/')) < 0))
        goto cleanup;
    prefix_len = path.size;

    if ((error = roar_cache_begin(cache)) < 0)
        goto cleanup;
    in_tx = true;
    count = git_index_entrycount(index);
    for (size_t i = 0; i < count; i++) {
        bool skip, racy;

        if (!(e = git_index_get_byindex(index, i)) || !entry_is_candidate(e))
            continue;
        roar_buf_truncate(&path, prefix_len);
        if ((error = roar_buf_puts(&path, e->path)) < 0)
            goto cleanup;
        if (lstat(path.ptr, &st) < 0 || !S_ISREG(st.st_mode) || !stat_matches_entry(&st, e))
            continue;
        roar_stat_key_from_stat(&key, &st);
        racy = roar_hash_is_racy_at_stamp(&key, index_mtime_ns);
        if (racy && (racy_files >= RACY_HASH_MAX_FILES ||
                     racy_bytes + key.size > RACY_HASH_MAX_BYTES))
            continue;
        if ((error = path_has_conversion(&skip, repo, e->path)) < 0)
            goto cleanup;
        if (skip)
            continue;
        if (roar_hash_cache_lookup(have, cache, &key) == 0)
            continue; /* already trusted; rewriting would only age its hashing time */
        roar_error_clear();
        if (racy) {
            /* git's refresh: read it again, under a stamp taken before the read (the
             * identity is checked before and after: a write meanwhile is no row) */
            if (!stamp && !(stamp = file_clock_now(git_repository_path(repo))))
                stamp = -1;
            if (stamp < 0 || roar_hash_is_racy_at_stamp(&key, stamp))
                continue;
            racy_files++;
            racy_bytes += key.size;
            if (roar_hash_path(id, NULL, path.ptr, &key) < 0) {
                roar_error_clear();
                continue;
            }
            row_time = roar_hash_stamp_row_time(stamp);
        } else {
            git_oid_tostr(id, sizeof(id), &e->id);
            row_time = roar_hash_stamp_row_time(index_mtime_ns);
        }
        if ((error = roar_cache_hash_put(cache, &key, id, row_time)) < 0)
            goto cleanup;
        seeded++;
    }
    in_tx = false;
    if ((error = roar_cache_commit(cache)) < 0)
        goto cleanup;
    if (out_seeded)
        *out_seeded = seeded;

cleanup:
    if (in_tx)
        roar_cache_rollback(cache);
    roar_buf_dispose(&path);
    git_index_free(index);
    return error;
}
