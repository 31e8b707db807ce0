/* The collector's round trips (SPEC §4.6): the control socket on which shims ask to
 * wait until what they are about to destroy has been hashed, and, in a nested run, the
 * outer job's ring and socket, to which every event is forwarded and every such
 * question asked in turn. */
#include "trace/collector_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/keymap.h"
#include "util/timefmt.h"

static void *const PRESENT = (void *)&PRESENT;

/* Seen-but-unclaimed round-trip records kept at most; past it the set is forgotten (a
 * shim that publishes without ever asking only costs its own waits). */
#define SEEN_MAX 65536
#define MAX_CLIENTS 4096

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
void roar_collector__ctl_record_done(collector *c, uint64_t seq)
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
void roar_collector__ctl_poll(collector *c, int timeout_ms)
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

void roar_collector__ctl_close_all(collector *c)
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

void roar_collector__outer_open(collector *c, char *const *envp)
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

void roar_collector__outer_close(collector *c)
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
    int64_t deadline = roar_time_mono_ms() + c->opts->hash_wait_ms;
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
        int64_t now = roar_time_mono_ms();
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

void roar_collector__forward(collector *c, const roar_event *ev)
{
    struct roar_event_hdr h = ev->h;
    if (!c->forward)
        return;
    if (roar_ringp_publish(&c->outer, &h, ev->path, ev->path2) < 0)
        return; /* counted as lost in the outer ring: the outer job says so */
    if (h.type == ROAR_EV_ABOUT_TO_DESTROY)
        outer_round_trip(c, h.tgid, h.seq);
}
