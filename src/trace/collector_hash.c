/* The collector's hashing: fdstate's requests for pre-job content (SPEC §4.6), served
 * at once through the process's fd or by path, put off while the path is filtered out,
 * or taken as an append-only prefix, and the answers handed back to fdstate. */
#include "trace/collector_internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/keymap.h"
#include "util/err.h"
#include "util/timefmt.h"

static void *const PRESENT = (void *)&PRESENT;

/* Whether the fed path would be recorded by the filters as they stand now (they only
 * ever drop more: executables add prefixes), and whether it is in a git dir. */
static bool keep_now(collector *c, const char *fed, bool *gitdir)
{
    roar_path_kind kind;
    *gitdir = false;
    if (roar_pathcanon_map(&c->tmp, &kind, c->opts->canon, fed) < 0) {
        roar_error_clear();
        return true;
    }
    *gitdir = kind == ROAR_PATH_GITDIR;
    return roar_pathfilter_keep(c->opts->filter, c->tmp.ptr, kind);
}

/* Whether st is the file `ident` names with the same content: equal identity, or one
 * whose ctime alone moved (a rename, link or unlink of the inode; a write moves mtime). */
static bool same_content(const struct stat *st, const roar_ident *ident)
{
    return S_ISREG(st->st_mode) && (uint64_t)st->st_dev == ident->dev &&
           (uint64_t)st->st_ino == ident->ino && (uint64_t)st->st_size == ident->size &&
           (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec == ident->mtime_ns;
}

/* SPEC §4.6: the eBPF tracer cannot hold the program back, so an input is hashed
 * through the process's own fd while that still names the content seen at open (the
 * file may be renamed over or unlinked by then; the fd keeps the old inode). The fd is
 * reopened through /proc, non-blocking (it may name a FIFO by now), and hashed only if
 * its identity is the one captured at open, its ctime aside (see same_content). 0 and
 * the id, or an error: then the caller goes on by path. */
static int hash_via_fd(collector *c, char id[ROAR_FDSTATE_OIDSZ + 1], uint64_t *size, uint32_t tgid,
                       int fd, const roar_ident *ident)
{
    char proc[64], self[64];
    struct stat st;
    roar_ident now;
    int pfd, rc;

    if (fd < 0 || !tgid || !ident || !ident->known)
        return ROAR_ENOTFOUND;
    snprintf(proc, sizeof(proc), "/proc/%u/fd/%d", (unsigned)tgid, fd);
    /* stat first: never open what is no longer that regular file (a device, a FIFO) */
    if (stat(proc, &st) < 0 || !same_content(&st, ident))
        return ROAR_ECHANGED;
    if ((pfd = open(proc, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)) < 0)
        return ROAR_ENOTFOUND;
    if (fstat(pfd, &st) < 0 || !same_content(&st, ident)) {
        close(pfd);
        return ROAR_ECHANGED;
    }
    now = *ident;
    now.ctime_ns = (int64_t)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;
    snprintf(self, sizeof(self), "/proc/self/fd/%d", pfd);
    rc = c->opts->hash(id, size, self, &now, c->opts->hash_payload);
    close(pfd);
    roar_error_clear();
    return rc;
}

/* Hashes `path`, accepting the id only under `ident` when known (SPEC §4.6). A rename
 * or link source is hashed at its new name after the call, and both calls change the
 * inode's ctime: a ctime that alone moved is the same content (a write would have
 * moved mtime too). */
int roar_collector__hash_path(collector *c, char id[ROAR_FDSTATE_OIDSZ + 1], uint64_t *size,
                              const char *path, const roar_ident *ident)
{
    struct stat st;
    int rc =
        c->opts->hash(id, size, path, ident && ident->known ? ident : NULL, c->opts->hash_payload);
    if (rc == ROAR_ECHANGED && ident && ident->known && stat(path, &st) == 0 &&
        same_content(&st, ident)) {
        roar_ident now = *ident;
        now.ctime_ns = (int64_t)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;
        roar_error_clear();
        rc = c->opts->hash(id, size, path, &now, c->opts->hash_payload);
    }
    return rc;
}

/* Whether st is the inode `ident` names, at least as long as it was then. */
static bool same_inode_grown(const struct stat *st, const roar_ident *ident)
{
    return S_ISREG(st->st_mode) && (uint64_t)st->st_dev == ident->dev &&
           (uint64_t)st->st_ino == ident->ino && (uint64_t)st->st_size >= ident->size;
}

/* The file changed before we could hash it (eBPF: `>>` writes at once). If the job only
 * appended to it, its old content is its first ident->size bytes: hash those, through
 * the process's fd, else the path, and let fdstate decide at the end whether the job
 * was append-only (roar_fdstate_set_prefix). A writer outside the job can change the
 * bytes meanwhile, as for every hash made after the open (docs/ebpf.md). */
static void hash_prefix(collector *c, roar_fsfile *file, const char *path, const roar_ident *ident,
                        uint32_t tgid, int fd)
{
    char proc[64], id[ROAR_FDSTATE_OIDSZ + 1];
    const char *cand[2] = {NULL, path};
    struct stat st;
    int i, pfd;

    if (!c->opts->hash_prefix || !ident || !ident->known || !ident->size)
        return;
    if (fd >= 0 && tgid) {
        snprintf(proc, sizeof(proc), "/proc/%u/fd/%d", (unsigned)tgid, fd);
        cand[0] = proc;
    }
    for (i = 0; i < 2; i++) {
        /* stat first: never open what is no longer that regular file (a FIFO) */
        if (!cand[i] || stat(cand[i], &st) < 0 || !same_inode_grown(&st, ident))
            continue;
        if ((pfd = open(cand[i], O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)) < 0)
            continue;
        if (fstat(pfd, &st) == 0 && same_inode_grown(&st, ident) &&
            c->opts->hash_prefix(id, pfd, ident->size) == 0) {
            close(pfd);
            roar_fdstate_set_prefix(c->st, file, id, ident->size);
            return;
        }
        close(pfd);
        roar_error_clear();
    }
}

/* `waited`: a shim is blocked on this hash (a round trip), so content that changed
 * before we could read it means the shim stopped waiting: roar.hashWait ran out. */
static void hash_now(collector *c, roar_fsfile *file, const char *path, const roar_ident *ident,
                     uint32_t tgid, int fd, bool waited)
{
    char id[ROAR_FDSTATE_OIDSZ + 1];
    uint64_t size = 0;
    int64_t t0 = roar_time_mono_ms();
    int rc;

    if (hash_via_fd(c, id, &size, tgid, fd, ident) == 0) {
        roar_fdstate_set_preimage(c->st, file, id, size);
        return;
    }
    rc = roar_collector__hash_path(c, id, &size, path, ident);
    if (rc == 0) {
        roar_fdstate_set_preimage(c->st, file, id, size);
        return;
    }
    roar_fdstate_set_preimage(c->st, file, NULL, ident ? ident->size : 0);
    if (rc == ROAR_ECHANGED && !waited)
        hash_prefix(c, file, path, ident, tgid, fd);
    /* The shim stopped waiting after roar.hashWait and went on changing the file:
     * during a hash that outlasted the wait, or before a late collector began it. */
    if (rc == ROAR_ECHANGED &&
        (waited || roar_time_mono_ms() - t0 >= (int64_t)c->opts->hash_wait_ms) &&
        roar_keymap_put(&c->timedout, &file, sizeof(file), PRESENT) < 0)
        c->bad++;
    roar_error_clear();
}

static void defer_hash(collector *c, const roar_fdstate_hashreq *rq)
{
    deferred_hash *d;
    if (ROAR_ALLOC_GROW(c->deferred, c->ndeferred + 1, c->adeferred) < 0) {
        c->bad++;
        return;
    }
    d = &c->deferred[c->ndeferred];
    if (!(d->path = strdup(rq->path))) {
        c->bad++;
        return;
    }
    d->file = rq->file;
    d->ident = rq->ident;
    c->ndeferred++;
}

/* Serves fdstate's hash requests. `urgent`: a shim is waiting to destroy content, so
 * the pre-job id must be taken now, filtered or not. */
void roar_collector__serve_hashes(collector *c, bool urgent)
{
    roar_fdstate_hashreq rq;
    bool gitdir;
    while (roar_fdstate_next_hash(c->st, &rq)) {
        bool keep = keep_now(c, rq.path, &gitdir);
        if (gitdir)
            /* Never recorded: a nested git roar's cache.db is not worth a read. */
            roar_fdstate_set_preimage(c->st, rq.file, NULL, rq.ident.size);
        else if (!urgent && !keep)
            defer_hash(c, &rq);
        else
            hash_now(c, rq.file, rq.path, &rq.ident, rq.tgid, rq.fd, urgent);
    }
}
