/* The collector's loop: fork the command gated, drain the source, canonicalise paths,
 * apply events to fdstate, hash at once what must be hashed, answer round trips. */
#include "trace/collector.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "trace/collector_internal.h"
#include "util/privdrop.h"
#include "util/keymap.h"
#include "trace/ring_layout.h"
#include "util/err.h"
#include "util/timefmt.h"

extern char **environ;

/* How often the loop wakes up without a request: the ring has no wake-ups (a syscall
 * per event would cost the traced program ~6 µs), so the collector polls it. */
#define TICK_MS 2
#define REAP_TICKS 50
/* Seen-but-unclaimed round-trip records kept at most; past it the set is forgotten (a
 * shim that publishes without ever asking only costs its own waits). */
#define SEEN_MAX 65536
#define MAX_CLIENTS 4096

typedef struct {
    int fd;
    unsigned char buf[sizeof(struct roar_ctl_req)];
    size_t got;
} ctl_client;

typedef struct {
    int fd;
    uint64_t seq;
} ctl_wait;

/* A hash request put off because its path is filtered out for now (SPEC §4.8 decides
 * at the end; a python run opens hundreds of library files nobody records). */
typedef struct {
    roar_fsfile *file;
    char *path;
    roar_ident ident;
} deferred_hash;

typedef struct {
    const roar_collector_opts *opts;
    roar_trace_source *src;
    roar_collector_result *res;
    roar_fdstate *st;
    roar_keymap known;    /* tgid -> PRESENT: processes fdstate has a table for */
    roar_keymap seen;     /* seq -> PRESENT: round-trip records applied, not yet asked */
    roar_keymap timedout; /* roar_fsfile* -> PRESENT: hashing outlasted roar.hashWait */
    unsigned char *rec;
    roar_buf fed1, fed2, tmp;
    size_t wtlen; /* strlen(opts->worktree), for every fed path inside it */
    uint64_t bad; /* records or events that could not be used */

    int lfd;
    ctl_client *clients;
    size_t nclients, aclients;
    ctl_wait *waiting;
    size_t nwaiting, awaiting;

    deferred_hash *deferred;
    size_t ndeferred, adeferred;

    /* Nested run: the outer job's ring and socket (SPEC §4.1). */
    bool forward;
    struct roar_ringp outer;
    size_t outer_len;
    char outer_sock[sizeof(((struct sockaddr_un *)0)->sun_path)];
    int outer_fd;

    pid_t root;
} collector;

static void *const PRESENT = (void *)&PRESENT;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- paths ---------------------------------------------------------------------------- */

/* The form fdstate is fed: canonical absolute (SPEC §4.2), i.e. `<top>/<rel>` inside the
 * work tree, the resolved path outside, the normalised path in a git dir. One form for
 * every event, so that fdstate's byte comparisons mean "same name"; hashing can open
 * it as is, and mapping it again at the end gives the recorded form. */
static const char *feed_path(collector *c, roar_buf *out, const char *path, roar_path_kind *kind)
{
    roar_path_kind k;
    if (!kind)
        kind = &k;
    if (roar_pathcanon_map(&c->tmp, kind, c->opts->canon, path) < 0) {
        c->bad++;
        return path;
    }
    roar_buf_clear(out);
    if (*kind == ROAR_PATH_WORKTREE) {
        if (roar_buf_put(out, c->opts->worktree, c->wtlen) < 0 ||
            (strcmp(c->tmp.ptr, ".") != 0 &&
             (roar_buf_putc(out, '/') < 0 || roar_buf_put(out, c->tmp.ptr, c->tmp.size) < 0)))
            return path;
    } else if (roar_buf_put(out, c->tmp.ptr, c->tmp.size) < 0) {
        return path;
    }
    return out->ptr;
}

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

/* ---- hashing -------------------------------------------------------------------------- */

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
static int hash_via_fd(collector *c, char id[ROAR_FDSTATE_OIDSZ + 1], uint64_t *size,
                       uint32_t tgid, int fd, const roar_ident *ident)
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
static int hash_path(collector *c, char id[ROAR_FDSTATE_OIDSZ + 1], uint64_t *size,
                     const char *path, const roar_ident *ident)
{
    struct stat st;
    int rc = c->opts->hash(id, size, path, ident && ident->known ? ident : NULL,
                           c->opts->hash_payload);
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
static void hash_prefix(collector *c, roar_fsfile *file, const char *path,
                        const roar_ident *ident, uint32_t tgid, int fd)
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
    int64_t t0 = mono_ms();
    int rc;

    if (hash_via_fd(c, id, &size, tgid, fd, ident) == 0) {
        roar_fdstate_set_preimage(c->st, file, id, size);
        return;
    }
    rc = hash_path(c, id, &size, path, ident);
    if (rc == 0) {
        roar_fdstate_set_preimage(c->st, file, id, size);
        return;
    }
    roar_fdstate_set_preimage(c->st, file, NULL, ident ? ident->size : 0);
    if (rc == ROAR_ECHANGED && !waited)
        hash_prefix(c, file, path, ident, tgid, fd);
    /* The shim stopped waiting after roar.hashWait and went on changing the file:
     * during a hash that outlasted the wait, or before a late collector began it. */
    if (rc == ROAR_ECHANGED && (waited || mono_ms() - t0 >= (int64_t)c->opts->hash_wait_ms) &&
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
static void serve_hashes(collector *c, bool urgent)
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

/* ---- control socket (SPEC §4.6 round trip) ---------------------------------------------- */

static void ctl_answer(int fd, uint64_t seq)
{
    struct roar_ctl_rep rep = {seq};
    /* A failed send means the process is gone or stopped listening: nothing to do. */
    (void)send(fd, &rep, sizeof(rep), MSG_NOSIGNAL | MSG_DONTWAIT);
}

static void ctl_drop_client(collector *c, size_t i)
{
    size_t j;
    int fd = c->clients[i].fd;
    for (j = 0; j < c->nwaiting;)
        if (c->waiting[j].fd == fd)
            c->waiting[j] = c->waiting[--c->nwaiting];
        else
            j++;
    close(fd);
    c->clients[i] = c->clients[--c->nclients];
}

static void ctl_request(collector *c, int fd, uint64_t seq)
{
    if (roar_keymap_remove(&c->seen, &seq, sizeof(seq))) {
        ctl_answer(fd, seq);
        return;
    }
    if (ROAR_ALLOC_GROW(c->waiting, c->nwaiting + 1, c->awaiting) < 0) {
        ctl_answer(fd, seq); /* cannot keep it: let the shim go rather than time out */
        c->bad++;
        return;
    }
    c->waiting[c->nwaiting].fd = fd;
    c->waiting[c->nwaiting].seq = seq;
    c->nwaiting++;
}

/* The record `seq` of a round trip has been applied and its hashing done. */
static void ctl_record_done(collector *c, uint64_t seq)
{
    size_t i;
    for (i = 0; i < c->nwaiting; i++)
        if (c->waiting[i].seq == seq) {
            ctl_answer(c->waiting[i].fd, seq);
            c->waiting[i] = c->waiting[--c->nwaiting];
            return;
        }
    if (c->seen.count >= SEEN_MAX)
        roar_keymap_dispose(&c->seen);
    if (roar_keymap_put(&c->seen, &seq, sizeof(seq), PRESENT) < 0)
        c->bad++;
}

static void ctl_read_client(collector *c, size_t i)
{
    ctl_client *cl = &c->clients[i];
    for (;;) {
        ssize_t r = recv(cl->fd, cl->buf + cl->got, sizeof(cl->buf) - cl->got, MSG_DONTWAIT);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (r <= 0) {
            ctl_drop_client(c, i);
            return;
        }
        cl->got += (size_t)r;
        if (cl->got == sizeof(cl->buf)) {
            struct roar_ctl_req req;
            memcpy(&req, cl->buf, sizeof(req));
            cl->got = 0;
            if (req.magic != ROAR_CTL_MAGIC) {
                ctl_drop_client(c, i);
                return;
            }
            ctl_request(c, cl->fd, req.seq);
            cl = &c->clients[i];
        }
    }
}

/* Waits up to timeout_ms for a request or a connection and takes what arrived. */
static void ctl_poll(collector *c, int timeout_ms)
{
    struct pollfd pf[MAX_CLIENTS + 1];
    size_t n = 0, i;

    if (c->lfd < 0) {
        poll(NULL, 0, timeout_ms);
        return;
    }
    pf[n++] = (struct pollfd){c->lfd, POLLIN, 0};
    for (i = 0; i < c->nclients && n < MAX_CLIENTS + 1; i++)
        pf[n++] = (struct pollfd){c->clients[i].fd, POLLIN, 0};
    if (poll(pf, n, timeout_ms) <= 0)
        return;
    /* Clients first, in reverse: dropping one moves the last into its place. */
    for (i = n; i-- > 1;)
        if (pf[i].revents)
            ctl_read_client(c, i - 1);
    if (pf[0].revents & POLLIN) {
        for (;;) {
            int fd = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
            if (fd < 0)
                break;
            if (c->nclients >= MAX_CLIENTS ||
                ROAR_ALLOC_GROW(c->clients, c->nclients + 1, c->aclients) < 0) {
                close(fd); /* the shim proceeds without waiting: never a deadlock */
                continue;
            }
            c->clients[c->nclients].fd = fd;
            c->clients[c->nclients].got = 0;
            c->nclients++;
            ctl_read_client(c, c->nclients - 1);
        }
    }
}

static void ctl_close_all(collector *c)
{
    size_t i;
    for (i = 0; i < c->nwaiting; i++)
        ctl_answer(c->waiting[i].fd, c->waiting[i].seq);
    c->nwaiting = 0;
    for (i = 0; i < c->nclients; i++)
        close(c->clients[i].fd);
    c->nclients = 0;
}

/* ---- nested runs: forwarding to the outer job ---------------------------------------------- */

static void outer_open(collector *c, char *const *envp)
{
    const char *ring = roar_collector__env_get(envp, ROAR_ENV_RING);
    const char *sock = roar_collector__env_get(envp, ROAR_ENV_SOCK);
    struct roar_ring_hdr hdr;
    struct stat st;
    void *map;
    int fd;

    c->outer_fd = -1;
    if (!ring || ring[0] != '/')
        return;
    /* Followed, as the shim does: usually /proc/<outer collector>/fd/<n> (ring.h). */
    if ((fd = open(ring, O_RDWR | O_CLOEXEC)) < 0)
        return;
    /* The same checks as the shim's: a ring that is not what it claims is ignored. */
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
        pread(fd, &hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr) || hdr.magic != ROAR_RING_MAGIC ||
        hdr.version != ROAR_RING_VERSION || hdr.hdr_size != ROAR_RING_HDR_SIZE ||
        hdr.data_size < ROAR_RING_MIN_DATA || (hdr.data_size & (hdr.data_size - 1)) ||
        (uint64_t)st.st_size != hdr.hdr_size + hdr.data_size) {
        close(fd);
        return;
    }
    map = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
        return;
    c->outer.hdr = map;
    c->outer.data = (unsigned char *)map + ROAR_RING_HDR_SIZE;
    c->outer.size = hdr.data_size;
    c->outer.full_wait_ms = 10000;
    c->outer_len = (size_t)st.st_size;
    c->forward = true;
    if (sock && sock[0] == '/' && strlen(sock) < sizeof(c->outer_sock))
        strcpy(c->outer_sock, sock);
}

static void outer_close(collector *c)
{
    if (c->forward)
        munmap(c->outer.hdr, c->outer_len);
    if (c->outer_fd >= 0)
        close(c->outer_fd);
    c->forward = false;
    c->outer_fd = -1;
}

/* Asks the outer collector to take the pre-job id of what the record names before we
 * let our own command destroy it: we are the outer job's shim for our descendants. */
static void outer_round_trip(collector *c, uint32_t tgid, uint64_t seq)
{
    struct roar_ctl_req req = {ROAR_CTL_MAGIC, tgid, seq};
    struct roar_ctl_rep rep;
    int64_t deadline = mono_ms() + c->opts->hash_wait_ms;
    size_t got = 0;

    if (!c->outer_sock[0])
        return;
    if (c->outer_fd < 0) {
        struct sockaddr_un sa;
        memset(&sa, 0, sizeof(sa));
        sa.sun_family = AF_UNIX;
        strcpy(sa.sun_path, c->outer_sock);
        c->outer_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (c->outer_fd < 0)
            return;
        if (connect(c->outer_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
            goto broken;
    }
    if (send(c->outer_fd, &req, sizeof(req), MSG_NOSIGNAL) != (ssize_t)sizeof(req))
        goto broken;
    for (;;) {
        struct pollfd pfd = {c->outer_fd, POLLIN, 0};
        int64_t now = mono_ms();
        ssize_t r;
        if (now >= deadline)
            return;
        if (poll(&pfd, 1, (int)(deadline - now)) < 0 && errno != EINTR)
            goto broken;
        if (!(pfd.revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        r = recv(c->outer_fd, (char *)&rep + got, sizeof(rep) - got, MSG_DONTWAIT);
        if (r < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (r <= 0)
            goto broken;
        if ((got += (size_t)r) < sizeof(rep))
            continue;
        got = 0;
        if (rep.seq == seq)
            return;
    }
broken:
    close(c->outer_fd);
    c->outer_fd = -1;
}

static void forward(collector *c, const roar_event *ev)
{
    struct roar_event_hdr h = ev->h;
    if (!c->forward)
        return;
    if (roar_ringp_publish(&c->outer, &h, ev->path, ev->path2) < 0)
        return; /* counted as lost in the outer ring: the outer job says so */
    if (h.type == ROAR_EV_ABOUT_TO_DESTROY)
        outer_round_trip(c, h.tgid, h.seq);
}

/* ---- events ---------------------------------------------------------------------------- */

static bool is_known(collector *c, uint32_t tgid)
{
    return roar_keymap_get(&c->known, &tgid, sizeof(tgid)) != NULL;
}

static void set_known(collector *c, uint32_t tgid, bool known)
{
    if (!known)
        roar_keymap_remove(&c->known, &tgid, sizeof(tgid));
    else if (roar_keymap_put(&c->known, &tgid, sizeof(tgid), PRESENT) < 0)
        c->bad++;
}

static void apply(collector *c, const roar_event *ev)
{
    if (roar_fdstate_apply(c->st, ev, NULL) < 0) {
        c->bad++;
        roar_error_clear();
    }
    c->res->events++;
}

/* Applies one decoded event: paths canonicalised, processes made by clones the shim
 * cannot see derived from their parent, executables fed to the filter. */
static void process(collector *c, const roar_event *in)
{
    roar_event ev = *in;
    roar_path_kind kind = ROAR_PATH_OUTSIDE;

    if (ev.path)
        ev.path = feed_path(c, &c->fed1, ev.path, &kind);
    if (ev.path2)
        ev.path2 = feed_path(c, &c->fed2, ev.path2, NULL);

    switch (ev.h.type) {
    case ROAR_EV_FORK:
        if (ev.h.ret >= 0 && !(ev.h.flags & CLONE_THREAD))
            set_known(c, ev.h.pid2, true);
        break;
    case ROAR_EV_EXEC:
        /* glibc's system/popen/posix_spawn clone without our fork wrapper: the new
         * image announces itself with pid2 = its parent; derive it from there. */
        if (!is_known(c, ev.h.tgid) && ev.h.pid2 && is_known(c, ev.h.pid2)) {
            roar_event fk;
            memset(&fk, 0, sizeof(fk));
            fk.h.type = ROAR_EV_FORK;
            fk.h.version = ROAR_EVENT_VERSION;
            fk.h.tgid = ev.h.pid2;
            fk.h.tid = ev.h.pid2;
            fk.h.pid2 = ev.h.tgid;
            fk.h.ret = ev.h.tgid;
            fk.h.fd = fk.h.fd2 = -1;
            apply(c, &fk);
        }
        set_known(c, ev.h.tgid, true);
        if (kind == ROAR_PATH_OUTSIDE && ev.path && ev.h.ret >= 0 &&
            roar_pathfilter_add_exec(c->opts->filter, ev.path) < 0)
            c->bad++;
        break;
    case ROAR_EV_EXIT:
        set_known(c, ev.h.tgid, false);
        break;
    default:
        break;
    }

    apply(c, &ev);

    serve_hashes(c, ev.h.type == ROAR_EV_ABOUT_TO_DESTROY);
    if (ev.h.type == ROAR_EV_ABOUT_TO_DESTROY)
        ctl_record_done(c, ev.h.seq);
}

/* Reads the source dry. */
static void drain(collector *c, int wait_ms)
{
    for (;;) {
        size_t len = 0, used = 0;
        roar_event ev;
        if (c->src->read(c->src->self, c->rec, ROAR_RING_RECORD_MAX, &len, wait_ms) < 0) {
            roar_error_clear(); /* the source counted it as lost */
            continue;
        }
        if (len == 0)
            return;
        if (roar_event_decode(&ev, c->rec, len, &used) < 0 || used != len) {
            /* Bytes from inside arbitrary programs: a bad record is counted, not fatal. */
            roar_error_clear();
            c->bad++;
            continue;
        }
        forward(c, &ev);
        process(c, &ev);
    }
}

/* ---- the command ------------------------------------------------------------------------ */

static volatile sig_atomic_t forward_to;

static void forward_signal(int sig)
{
    pid_t pid = (pid_t)forward_to;
    int saved = errno;
    if (pid > 0)
        kill(pid, sig);
    errno = saved;
}

/* Set on every SIGCHLD: the loop calls waitpid only then, not on each 2 ms tick. */
static volatile sig_atomic_t child_exited = 1;

static void wake_on_child(int sig)
{
    (void)sig; /* it also interrupts poll(), which SA_RESTART never restarts */
    child_exited = 1;
}

typedef struct {
    struct sigaction intr, quit, term, hup, chld;
} saved_signals;

static void signals_take(saved_signals *s)
{
    struct sigaction ign, fwd, dfl;
    memset(&ign, 0, sizeof(ign));
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    memset(&fwd, 0, sizeof(fwd));
    fwd.sa_handler = forward_signal;
    sigemptyset(&fwd.sa_mask);
    fwd.sa_flags = SA_RESTART;
    /* As system() does: the terminal's ^C and ^\ go to the whole process group, so
     * the command gets them; we must survive to record the job. */
    sigaction(SIGINT, &ign, &s->intr);
    sigaction(SIGQUIT, &ign, &s->quit);
    sigaction(SIGTERM, &fwd, &s->term);
    sigaction(SIGHUP, &fwd, &s->hup);
    /* With SIGCHLD ignored the kernel reaps our children itself and waitpid would
     * never report the command's status; the command still gets the caller's setting.
     * A handler (not SIG_DFL) so that an exit interrupts the loop's poll at once
     * instead of at the next tick; SA_RESTART keeps the other calls going. */
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = wake_on_child;
    sigemptyset(&dfl.sa_mask);
    dfl.sa_flags = SA_RESTART;
    sigaction(SIGCHLD, &dfl, &s->chld);
}

static void signals_restore(const saved_signals *s)
{
    sigaction(SIGINT, &s->intr, NULL);
    sigaction(SIGQUIT, &s->quit, NULL);
    sigaction(SIGTERM, &s->term, NULL);
    sigaction(SIGHUP, &s->hup, NULL);
    sigaction(SIGCHLD, &s->chld, NULL);
}

/* In the child: the dispositions the user gave git roar, then wait for the gate. */
static void child_main(int gate, int report, const saved_signals *s, char *const argv[],
                       char *const envp[], int inherit_fd)
{
    struct sigaction dfl;
    char go = 0;
    int err;
    ssize_t r;

    signals_restore(s);
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    /* A handler of ours would not survive exec anyway; make that explicit. */
    if (s->term.sa_handler != SIG_IGN)
        sigaction(SIGTERM, &dfl, NULL);
    if (s->hup.sa_handler != SIG_IGN)
        sigaction(SIGHUP, &dfl, NULL);
    /* SPEC §8: under sudo, the user's ids before anything of the command can run. */
    if ((err = roar_privdrop_child()) != 0) {
        static const char msg[] = "roar: cannot drop root's privileges for the command\n";
        if (write(2, msg, sizeof(msg) - 1) < 0) {
        }
    }
    /* The source's fd for processes that switch users (the preload ring): only a
     * command that starts as root can switch to another user without a setuid program
     * (for which the shim gives up anyway), so only then does it get one more fd. */
    if (!err && inherit_fd >= 0 && geteuid() == 0)
        fcntl(inherit_fd, F_SETFD, 0);
    do
        r = read(gate, &go, 1);
    while (r < 0 && errno == EINTR);
    if (r != 1 || go != 'g')
        _exit(126); /* the collector gave up before releasing us */
    if (!err)
        err = roar_collector__child_exec(argv, envp);
    while (write(report, &err, sizeof(err)) < 0 && errno == EINTR)
        ;
    _exit(err == ENOENT || err == ENOTDIR ? 127 : 126);
}

/* SPEC §4.1: the regular files behind the fds the command inherits, as opens of its own. */
static int record_inherited(collector *c)
{
    roar_collector__inherited *v;
    size_t n, i;
    int error;

    if ((error = roar_collector__inherited_list(&v, &n)) < 0)
        return error;
    for (i = 0; i < n; i++) {
        roar_event ev;
        memset(&ev, 0, sizeof(ev));
        ev.h.type = ROAR_EV_INHERIT;
        ev.h.version = ROAR_EVENT_VERSION;
        ev.h.tgid = ev.h.tid = (uint32_t)c->root;
        ev.h.fd = v[i].fd;
        ev.h.fd2 = -1;
        ev.h.ret = v[i].fd;
        ev.h.flags = v[i].flags;
        ev.h.has_ident = 1;
        ev.h.dev = v[i].ident.dev;
        ev.h.ino = v[i].ident.ino;
        ev.h.size = v[i].ident.size;
        ev.h.mtime_ns = v[i].ident.mtime_ns;
        ev.h.ctime_ns = v[i].ident.ctime_ns;
        ev.h.mode = v[i].ident.mode;
        ev.path = v[i].path;
        process(c, &ev);
    }
    roar_collector__inherited_free(v, n);
    return 0;
}

static void apply_exit(collector *c, pid_t pid, int status)
{
    roar_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.h.type = ROAR_EV_EXIT;
    ev.h.version = ROAR_EVENT_VERSION;
    ev.h.tgid = ev.h.tid = (uint32_t)pid;
    ev.h.ret = status;
    ev.h.fd = ev.h.fd2 = -1;
    process(c, &ev);
}

/* ---- the result ------------------------------------------------------------------------- */

static int gap_add(roar_collector_result *res, const char *reason, bool has_count, uint64_t count,
                   const char *path)
{
    roar_collector_gap *g;
    size_t i;
    for (i = 0; i < res->gap_count; i++) {
        g = &res->gaps[i];
        if (!strcmp(g->reason, reason) &&
            ((!g->path && !path) || (g->path && path && !strcmp(g->path, path))))
            return 0;
    }
    if (ROAR_ALLOC_GROW(res->gaps, res->gap_count + 1, res->gap_alloc) < 0)
        return ROAR_ENOMEM;
    g = &res->gaps[res->gap_count];
    memset(g, 0, sizeof(*g));
    g->has_count = has_count;
    g->count = count;
    if (!(g->reason = strdup(reason)) || (path && !(g->path = strdup(path)))) {
        free(g->reason);
        free(g->path);
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    }
    res->gap_count++;
    return 0;
}

typedef struct {
    roar_collector_file *v;
    size_t n, alloc;
} file_list;

static int file_add(file_list *l, const char *path, bool inside, const char *id, uint64_t size)
{
    roar_collector_file *f;
    if (ROAR_ALLOC_GROW(l->v, l->n + 1, l->alloc) < 0)
        return ROAR_ENOMEM;
    f = &l->v[l->n];
    memset(f, 0, sizeof(*f));
    if (!(f->path = strdup(path)))
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    f->inside = inside;
    f->size = size;
    if (id) {
        f->id_known = true;
        memcpy(f->id, id, ROAR_FDSTATE_OIDSZ);
    }
    l->n++;
    return 0;
}

static int file_cmp(const void *a, const void *b)
{
    const roar_collector_file *x = a, *y = b;
    size_t lx = strlen(x->path), ly = strlen(y->path);
    int r = memcmp(x->path, y->path, lx < ly ? lx : ly);
    return r ? r : (lx > ly) - (lx < ly);
}

/* Sorted by path (memcmp), one line per path: two fed names may map to one record name. */
static void file_finish(file_list *l)
{
    size_t i, w = 0;
    if (!l->n)
        return;
    qsort(l->v, l->n, sizeof(*l->v), file_cmp);
    for (i = 0; i < l->n; i++) {
        if (w && !strcmp(l->v[w - 1].path, l->v[i].path)) {
            free(l->v[i].path);
            continue;
        }
        l->v[w++] = l->v[i];
    }
    l->n = w;
}

static void file_list_free(file_list *l)
{
    size_t i;
    for (i = 0; i < l->n; i++)
        free(l->v[i].path);
    free(l->v);
}

static const deferred_hash *find_deferred(collector *c, roar_fsfile *file)
{
    size_t i;
    for (i = 0; i < c->ndeferred; i++)
        if (c->deferred[i].file == file)
            return &c->deferred[i];
    return NULL;
}

/* SPEC §4.5: a write-capable open that saw no write changed the file when its content
 * at the end differs from the content at that open. */
static bool check_changed(collector *c, const roar_fdstate_entry *e)
{
    struct stat st;
    char id[ROAR_FDSTATE_OIDSZ + 1];
    uint64_t size;

    if (stat(e->path, &st) < 0 || !S_ISREG(st.st_mode))
        return false; /* gone or replaced by something else: not an output of this name */
    if (e->id_known) {
        if (c->opts->hash(id, &size, e->path, NULL, c->opts->hash_payload) < 0) {
            roar_error_clear();
            return false;
        }
        return strcmp(id, e->id) != 0;
    }
    if (!e->ident.known)
        return false;
    return (uint64_t)st.st_size != e->ident.size ||
           (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec != e->ident.mtime_ns;
}

/* The recorded form of a fed path, and whether the filters keep it. */
static bool record_form(collector *c, const char *fed, bool *inside)
{
    roar_path_kind kind;
    if (roar_pathcanon_map(&c->tmp, &kind, c->opts->canon, fed) < 0) {
        roar_error_clear();
        return false;
    }
    *inside = kind == ROAR_PATH_WORKTREE;
    return roar_pathfilter_keep(c->opts->filter, c->tmp.ptr, kind);
}

static int build_result(collector *c, size_t running)
{
    roar_collector_result *res = c->res;
    roar_fdstate_result fr;
    file_list in = {0}, out = {0}, del = {0};
    uint64_t lost;
    size_t i;
    bool inside, resolved = false, every_write_seen;
    int error;

    if ((error = roar_fdstate_result_get(&fr, c->st)) < 0)
        return error;
    /* A tracer that sees every write saw none on these files: no change, even when the
     * mtime moved (`touch`) and the open-time id is unknown (SPEC §4.5; issue 17). Not
     * when something may have gone unseen: lost events, I/O no tracer sees, processes
     * still running untraced. */
    every_write_seen = c->src->sees_every_write && !c->src->lost(c->src->self) && !c->bad &&
                       fr.incomplete_count == 0 && !running;
    for (i = 0; i < fr.check_count; i++) {
        const roar_fdstate_entry *e = &fr.checks[i];
        if (every_write_seen && !e->unseen_writes)
            continue;
        if (!record_form(c, e->path, &inside))
            continue; /* never recorded: not worth reading */
        if (check_changed(c, e)) {
            roar_fdstate_resolve_check(c->st, e->file);
            resolved = true;
        }
    }
    if (resolved) {
        roar_fdstate_result_dispose(&fr);
        if ((error = roar_fdstate_result_get(&fr, c->st)) < 0)
            return error;
    }

    for (i = 0; i < fr.input_count; i++) {
        const roar_fdstate_entry *e = &fr.inputs[i];
        const deferred_hash *d;
        char id[ROAR_FDSTATE_OIDSZ + 1];
        uint64_t size = e->ident.size;
        const char *name;
        const char *idp = NULL;

        if (!record_form(c, e->path, &inside))
            continue;
        if (e->id_known) {
            memcpy(id, e->id, sizeof(id));
            idp = id;
            size = e->id_size;
        } else if ((d = find_deferred(c, e->file)) &&
                   c->opts->hash(id, &size, d->path, d->ident.known ? &d->ident : NULL,
                                 c->opts->hash_payload) == 0) {
            idp = id; /* put off while filtered, wanted now: unchanged since, verified */
        } else if (e->ident.known && (name = roar_fdstate_file_name(e->file)) &&
                   hash_path(c, id, &size, name, &e->ident) == 0) {
            /* Not hashed in time (eBPF): gone from its name by then (a directory
             * renamed right after the read), but still the content seen at open. */
            idp = id;
        } else {
            roar_error_clear();
            size = e->ident.size;
        }
        if ((error = file_add(&in, c->tmp.ptr, inside, idp, size)) < 0)
            goto cleanup;
        if (!idp) {
            bool late = roar_keymap_get(&c->timedout, &e->file, sizeof(e->file)) != NULL;
            if ((error = gap_add(res, late ? "hash-timeout" : "hash-unknown", false, 0,
                                 c->tmp.ptr)) < 0)
                goto cleanup;
        }
    }
    for (i = 0; i < fr.output_count; i++) {
        const roar_fdstate_entry *e = &fr.outputs[i];
        char id[ROAR_FDSTATE_OIDSZ + 1];
        uint64_t size = 0;
        int rc;
        struct stat st;

        if (!record_form(c, e->path, &inside))
            continue;
        rc = c->opts->hash(id, &size, e->path, NULL, c->opts->hash_payload);
        if (rc == ROAR_ENOTFOUND || (rc < 0 && (stat(e->path, &st) < 0 || !S_ISREG(st.st_mode)))) {
            roar_error_clear();
            continue; /* gone (or never a file): not an output */
        }
        if (rc < 0) {
            roar_error_clear();
            size = (uint64_t)st.st_size;
            if ((error = gap_add(res, "hash-unknown", false, 0, c->tmp.ptr)) < 0)
                goto cleanup;
        }
        /* hashing may have used c->tmp: map again for the name */
        if (!record_form(c, e->path, &inside))
            continue;
        if ((error = file_add(&out, c->tmp.ptr, inside, rc == 0 ? id : NULL, size)) < 0)
            goto cleanup;
    }
    for (i = 0; i < fr.deletion_count; i++) {
        if (!record_form(c, fr.deletions[i].path, &inside))
            continue;
        if ((error = file_add(&del, c->tmp.ptr, inside, NULL, 0)) < 0)
            goto cleanup;
    }

    lost = c->src->lost(c->src->self) + c->bad;
    for (i = 0; i < fr.incomplete_count; i++) {
        const roar_fdstate_incomplete *g = &fr.incomplete[i];
        const char *path = NULL;
        roar_path_kind kind;
        if (!strcmp(g->reason, "events-lost")) {
            lost += g->count;
            continue;
        }
        if (g->path && roar_pathcanon_map(&c->tmp, &kind, c->opts->canon, g->path) == 0)
            path = c->tmp.ptr;
        else if (g->path)
            path = g->path;
        roar_error_clear();
        if ((error = gap_add(res, g->reason, false, 0, path)) < 0)
            goto cleanup;
    }
    if (lost && (error = gap_add(res, "events-lost", true, lost, NULL)) < 0)
        goto cleanup;
    if (running && (error = gap_add(res, "running-descendants", true, running, NULL)) < 0)
        goto cleanup;

    file_finish(&in);
    file_finish(&out);
    file_finish(&del);
    res->inputs = in.v;
    res->input_count = in.n;
    res->outputs = out.v;
    res->output_count = out.n;
    res->deletions = del.v;
    res->deletion_count = del.n;
    memset(&in, 0, sizeof(in));
    memset(&out, 0, sizeof(out));
    memset(&del, 0, sizeof(del));

cleanup:
    file_list_free(&in);
    file_list_free(&out);
    file_list_free(&del);
    roar_fdstate_result_dispose(&fr);
    return error;
}

void roar_collector_result_dispose(roar_collector_result *res)
{
    size_t i;
    if (!res)
        return;
    for (i = 0; i < res->input_count; i++)
        free(res->inputs[i].path);
    for (i = 0; i < res->output_count; i++)
        free(res->outputs[i].path);
    for (i = 0; i < res->deletion_count; i++)
        free(res->deletions[i].path);
    for (i = 0; i < res->gap_count; i++) {
        free(res->gaps[i].reason);
        free(res->gaps[i].path);
    }
    free(res->inputs);
    free(res->outputs);
    free(res->deletions);
    free(res->gaps);
    memset(res, 0, sizeof(*res));
}

/* ---- the run ------------------------------------------------------------------------------ */

static void collector_dispose(collector *c)
{
    size_t i;
    ctl_close_all(c);
    free(c->clients);
    free(c->waiting);
    for (i = 0; i < c->ndeferred; i++)
        free(c->deferred[i].path);
    free(c->deferred);
    outer_close(c);
    roar_keymap_dispose(&c->known);
    roar_keymap_dispose(&c->seen);
    roar_keymap_dispose(&c->timedout);
    roar_fdstate_free(c->st);
    roar_buf_dispose(&c->fed1);
    roar_buf_dispose(&c->fed2);
    roar_buf_dispose(&c->tmp);
    free(c->rec);
}

int roar_collector_run(roar_collector_result *out, const roar_collector_opts *opts,
                       roar_trace_source *source, char *const argv[])
{
    collector c;
    char *const *base = opts->envp ? opts->envp : environ;
    char **envp = NULL;
    const char *token = source->preload_token ? source->preload_token(source->self) : NULL;
    roar_buf prog = ROAR_BUF_INIT;
    saved_signals sigs;
    int gate[2] = {-1, -1}, report[2] = {-1, -1}, error = 0, status = 0;
    bool root_done = false, signals_set = false, subreaper = false;
    int64_t root_exit = 0;
    size_t running = 0, nexits = 0, aexits = 0;
    unsigned ticks = 0;
    struct {
        pid_t pid;
        int status;
    } *exits = NULL;
    unsigned why;

    memset(out, 0, sizeof(*out));
    memset(&c, 0, sizeof(c));
    c.opts = opts;
    c.src = source;
    c.res = out;
    c.wtlen = opts->worktree ? strlen(opts->worktree) : 0;
    c.lfd = source->control_fd ? source->control_fd(source->self) : -1;
    c.outer_fd = -1;
    roar_buf_init(&c.fed1);
    roar_buf_init(&c.fed2);
    roar_buf_init(&c.tmp);
    if ((error = roar_fdstate_new(&c.st)) < 0)
        goto cleanup;
    if (!(c.rec = malloc(ROAR_RING_RECORD_MAX))) {
        error = roar_error_set(ROAR_ENOMEM, "out of memory");
        goto cleanup;
    }
    outer_open(&c, environ);

    /* SPEC §8: a program the shim cannot load into runs without it, and the job says
     * so; its children (a static busybox sh starting dynamic programs) are lost too.
     * Only a source with a shim to load (a token) has this gap: eBPF sees them all. */
    if (token &&
        roar_collector__resolve(&prog, argv[0], roar_collector__env_get(base, "PATH")) == 0 &&
        (why = roar_collector__exec_check(prog.ptr)) != 0) {
        roar_path_kind kind;
        const char *p = prog.ptr;
        char *abs = realpath(prog.ptr, NULL);
        if (abs && roar_pathcanon_map(&c.tmp, &kind, opts->canon, abs) == 0)
            p = c.tmp.ptr;
        error = gap_add(out, roar_event_incomplete_name(why), false, 0, p);
        free(abs);
        if (error < 0)
            goto cleanup;
        token = NULL;
    }
    roar_error_clear();
    if ((error = roar_collector__env_build(
             &envp, base, source->child_env ? source->child_env(source->self) : NULL, token)) < 0)
        goto cleanup;

    if (pipe2(gate, O_CLOEXEC) < 0 || pipe2(report, O_CLOEXEC) < 0) {
        error = roar_error_set_errno(ROAR_ERROR, "cannot create a pipe");
        goto cleanup;
    }
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
        error = roar_error_set_errno(ROAR_ERROR, "cannot become a child subreaper");
        goto cleanup;
    }
    subreaper = true;
    signals_take(&sigs);
    signals_set = true;
    child_exited = 1;

    out->start_ms = roar_time_now_ms();
    c.root = fork();
    if (c.root < 0) {
        error = roar_error_set_errno(ROAR_ERROR, "cannot fork");
        goto cleanup;
    }
    if (c.root == 0)
        child_main(gate[0], report[1], &sigs, argv, envp,
                   source->child_fd ? source->child_fd(source->self) : -1);
    forward_to = c.root;
    close(gate[0]);
    close(report[1]);
    gate[0] = report[1] = -1;

    set_known(&c, (uint32_t)c.root, true);
    if ((error = record_inherited(&c)) < 0 || (error = source->start(source->self, c.root)) < 0) {
        kill(c.root, SIGKILL);
        waitpid(c.root, NULL, 0);
        goto cleanup;
    }

    /* Release the command; the report pipe closes on a successful exec. */
    {
        char go = 'g';
        int err = 0;
        ssize_t r;
        while (write(gate[1], &go, 1) < 0 && errno == EINTR)
            ;
        close(gate[1]);
        gate[1] = -1;
        do
            r = read(report[0], &err, sizeof(err));
        while (r < 0 && errno == EINTR);
        if (r == (ssize_t)sizeof(err))
            out->exec_errno = err;
        close(report[0]);
        report[0] = -1;
    }

    for (;;) {
        pid_t pid;
        int st;
        bool none_left = false, reap;
        size_t i;

        ctl_poll(&c, TICK_MS);
        drain(&c, c.nwaiting ? TICK_MS : 0);
        /* Orphans come to us (subreaper): every exit of the job is ours to see. */
        nexits = 0;
        /* Only after a SIGCHLD (cleared first: an exit after the last waitpid sets it
         * again), and every REAP_TICKS anyway in case the caller blocked SIGCHLD. */
        reap = child_exited || ++ticks % REAP_TICKS == 0;
        child_exited = 0;
        while (reap && (pid = waitpid(-1, &st, WNOHANG)) != 0) {
            if (pid < 0) {
                if (errno == EINTR)
                    continue;
                none_left = errno == ECHILD;
                break;
            }
            if (pid == c.root) {
                status = st;
                root_done = true;
                root_exit = mono_ms();
                forward_to = 0;
            }
            if (ROAR_ALLOC_GROW(exits, nexits + 1, aexits) < 0) {
                c.bad++;
                continue;
            }
            exits[nexits].pid = pid;
            exits[nexits++].status = st;
        }
        if (nexits) {
            /* A process's last events are in the ring before its exit: take them first. */
            drain(&c, 0);
            for (i = 0; i < nexits; i++)
                apply_exit(&c, exits[i].pid, exits[i].status);
        }
        if (none_left)
            break;
        if (root_done && mono_ms() - root_exit >= (int64_t)opts->wait_descendants_ms) {
            /* SPEC §4.1: still running after roar.waitDescendants: stop tracing them. */
            running = roar_collector__count_descendants(getpid());
            break;
        }
    }
    out->end_ms = roar_time_now_ms();
    out->wait_status = status;
    if (source->stop)
        source->stop(source->self);
    drain(&c, running ? 0 : 5);
    ctl_close_all(&c);
    roar_collector__add_moved(c.st, &c.bad);
    serve_hashes(&c, false);
    error = build_result(&c, running);

cleanup:
    forward_to = 0;
    if (signals_set)
        signals_restore(&sigs);
    if (subreaper)
        prctl(PR_SET_CHILD_SUBREAPER, 0);
    if (gate[0] >= 0)
        close(gate[0]);
    if (gate[1] >= 0)
        close(gate[1]);
    if (report[0] >= 0)
        close(report[0]);
    if (report[1] >= 0)
        close(report[1]);
    roar_collector__env_free(envp);
    roar_buf_dispose(&prog);
    free(exits);
    collector_dispose(&c);
    if (error < 0)
        roar_collector_result_dispose(out);
    return error;
}
