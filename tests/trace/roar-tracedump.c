/* roar-tracedump: a test-only collector stand-in. It creates the ring and control
 * socket, runs a command under the preload shim, and prints each event as one line. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <linux/close_range.h>
#include <sys/wait.h>
#include <unistd.h>

#include "trace/event.h"
#include "trace/ring.h"
#include "util/err.h"

/* Output is meant to be compared by tests: no pids, seqs or inode numbers. Processes
 * are named p1, p2... in order of first appearance. */
static FILE *out;
static pid_t pids[4096];
static int npids;
static unsigned char *rec;

#define MAX_CLIENTS 256
static int clients[MAX_CLIENTS];
static int nclients;

/* Requests whose ABOUT_TO_DESTROY record has not been read yet. */
static struct {
    int fd;
    struct roar_ctl_req req;
} waiting[MAX_CLIENTS];
static int nwaiting;
static uint64_t answered_upto_seq[1];

static int pname(pid_t pid)
{
    int i;
    for (i = 0; i < npids; i++)
        if (pids[i] == pid)
            return i + 1;
    if (npids < (int)(sizeof(pids) / sizeof(pids[0])))
        pids[npids++] = pid;
    return npids;
}

static void print_flags(unsigned f)
{
    static const struct {
        unsigned bit;
        const char *name;
    } bits[] = {{O_CREAT, "creat"},     {O_EXCL, "excl"},       {O_TRUNC, "trunc"},
                {O_APPEND, "append"},   {O_CLOEXEC, "cloexec"}, {O_DIRECTORY, "directory"},
                {O_NOFOLLOW, "nofollow"}, {O_PATH, "path"}};
    unsigned i;
    fputs((f & O_ACCMODE) == O_RDONLY ? "rdonly" : (f & O_ACCMODE) == O_WRONLY ? "wronly" : "rdwr",
          out);
    if ((f & O_TMPFILE) == O_TMPFILE) {
        fputs("|tmpfile", out);
        f &= ~(unsigned)O_TMPFILE;
    }
    for (i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
        if (f & bits[i].bit)
            fprintf(out, "|%s", bits[i].name);
}

static const char *ftype(const roar_event *ev)
{
    if (!ev->h.has_ident)
        return "?";
    switch (ev->h.mode & S_IFMT) {
    case S_IFREG: return "reg";
    case S_IFDIR: return "dir";
    case S_IFCHR: return "chr";
    case S_IFIFO: return "fifo";
    case S_IFSOCK: return "sock";
    default: return "other";
    }
}

static void print_event(const roar_event *ev)
{
    const struct roar_event_hdr *h = &ev->h;
    int p = pname((pid_t)h->tgid);

    fprintf(out, "p%d %s", p, roar_event_type_name(h->type));
    switch (h->type) {
    case ROAR_EV_OPEN:
        fprintf(out, " %s fd=%d flags=", ev->path, h->fd);
        print_flags((unsigned)h->flags);
        fprintf(out, " created=%u %s", h->created, ftype(ev));
        break;
    case ROAR_EV_CLOSE:
        if (h->fd2 != h->fd)
            fprintf(out, " fd=%d..%d", h->fd, h->fd2);
        else
            fprintf(out, " fd=%d", h->fd);
        if (h->flags & ROAR_CLOSE_F_CLOEXEC)
            fputs(" cloexec", out);
        break;
    case ROAR_EV_DUP:
        fprintf(out, " %d->%d%s", h->fd, h->fd2, (h->flags & O_CLOEXEC) ? " cloexec" : "");
        break;
    case ROAR_EV_SETFD:
        fprintf(out, " fd=%d cloexec=%d", h->fd, (int)(h->flags & FD_CLOEXEC));
        break;
    case ROAR_EV_FORK:
        if (h->ret < 0)
            fputs(" failed", out);
        else
            fprintf(out, " child=p%d", pname((pid_t)h->pid2));
        break;
    case ROAR_EV_EXEC:
        fprintf(out, " %s", ev->path);
        break;
    case ROAR_EV_READ:
    case ROAR_EV_WRITE:
        fprintf(out, " fd=%d", h->fd);
        if (h->type == ROAR_EV_WRITE)
            fprintf(out, " %s", ftype(ev));
        break;
    case ROAR_EV_MMAP:
        fprintf(out, " fd=%d %s%s", h->fd, (h->flags & MAP_SHARED) ? "shared" : "private",
                (h->arg & PROT_WRITE) ? " write" : "");
        break;
    case ROAR_EV_TRUNCATE:
        if (ev->path)
            fprintf(out, " %s", ev->path);
        else
            fprintf(out, " fd=%d", h->fd);
        fprintf(out, " len=%llu", (unsigned long long)h->arg);
        break;
    case ROAR_EV_FALLOCATE:
        fprintf(out, " fd=%d mode=%llu", h->fd, (unsigned long long)h->flags);
        break;
    case ROAR_EV_RENAME:
    case ROAR_EV_LINK:
        if (ev->path)
            fprintf(out, " %s", ev->path);
        else
            fprintf(out, " fd=%d", h->fd);
        fprintf(out, " -> %s", ev->path2);
        if (h->flags & ROAR_RENAME_F_DIR)
            fputs(" dir", out);
        break;
    case ROAR_EV_UNLINK:
        fprintf(out, " %s%s", ev->path, (h->flags & AT_REMOVEDIR) ? " dir" : "");
        break;
    case ROAR_EV_CHDIR:
        fprintf(out, " %s", ev->path);
        break;
    case ROAR_EV_COPY:
        fprintf(out, " fd=%d -> fd=%d", h->fd, h->fd2);
        break;
    case ROAR_EV_ABOUT_TO_DESTROY:
        fprintf(out, " %s", roar_event_type_name((unsigned)h->flags));
        if (ev->path)
            fprintf(out, " %s", ev->path);
        else
            fprintf(out, " fd=%d", h->fd);
        break;
    case ROAR_EV_FDNEW:
        fprintf(out, " fd=%d", h->fd);
        if (h->fd2 >= 0)
            fprintf(out, ",%d", h->fd2);
        break;
    case ROAR_EV_INCOMPLETE:
        fprintf(out, " %s", roar_event_incomplete_name((unsigned)h->flags));
        if (ev->path)
            fprintf(out, " %s", ev->path);
        break;
    default:
        break;
    }
    fputc('\n', out);
}

/* Reads the ring dry; remembers the highest seq seen, for the round trips. */
static void drain(roar_ring *ring, int wait_ms)
{
    for (;;) {
        size_t len = 0, used = 0;
        roar_event ev;
        if (roar_ring_read(ring, rec, ROAR_RING_RECORD_MAX, &len, wait_ms) < 0) {
            fprintf(out, "bad-slot %s\n", roar_error_last());
            continue;
        }
        if (len == 0)
            return;
        if (roar_event_decode(&ev, rec, len, &used) < 0 || used != len) {
            fprintf(out, "bad-record %s\n", roar_error_last());
            continue;
        }
        if (ev.h.seq > answered_upto_seq[0])
            answered_upto_seq[0] = ev.h.seq;
        print_event(&ev);
    }
}

/* Answers each request whose record has been read: immediately (no hashing here). */
static void answer(void)
{
    int i;
    for (i = 0; i < nwaiting;) {
        if (waiting[i].req.seq <= answered_upto_seq[0]) {
            struct roar_ctl_rep rep = {waiting[i].req.seq};
            fprintf(out, "p%d answered\n", pname((pid_t)waiting[i].req.tgid));
            /* a failed send means the process is gone: nothing to do */
            (void)send(waiting[i].fd, &rep, sizeof(rep), MSG_NOSIGNAL);
            waiting[i] = waiting[--nwaiting];
        } else {
            i++;
        }
    }
}

static void serve(int lfd, roar_ring *ring)
{
    struct pollfd pf[MAX_CLIENTS + 1];
    int i, n = 0;

    pf[n++] = (struct pollfd){lfd, POLLIN, 0};
    for (i = 0; i < nclients; i++)
        pf[n++] = (struct pollfd){clients[i], POLLIN, 0};
    if (poll(pf, (nfds_t)n, 2) <= 0)
        return;
    if ((pf[0].revents & POLLIN) && nclients < MAX_CLIENTS) {
        int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (c >= 0)
            clients[nclients++] = c;
    }
    for (i = 1; i < n; i++) {
        struct roar_ctl_req req;
        ssize_t r;
        if (!pf[i].revents)
            continue;
        r = recv(pf[i].fd, &req, sizeof(req), MSG_WAITALL);
        if (r != (ssize_t)sizeof(req) || req.magic != ROAR_CTL_MAGIC) {
            int k;
            close(pf[i].fd);
            for (k = 0; k < nclients; k++)
                if (clients[k] == pf[i].fd)
                    clients[k] = clients[--nclients];
            continue;
        }
        if (nwaiting < MAX_CLIENTS) {
            waiting[nwaiting].fd = pf[i].fd;
            waiting[nwaiting].req = req;
            nwaiting++;
        }
    }
    drain(ring, 0);
    answer();
}

static void usage(void)
{
    fprintf(stderr, "usage: roar-tracedump [-o FILE] [-l LIB] [-n] -- CMD [ARG...]\n"
                    "  -n  no control socket (round trips fail fast)\n");
    exit(129);
}

int main(int argc, char **argv)
{
    const char *lib = getenv("ROAR_PRELOAD_LIB"), *outpath = NULL;
    char *dir = NULL, ringp[4096], sockp[108], ld[8192];
    const char *old;
    roar_ring *ring = NULL;
    struct sockaddr_un sa;
    int opt, lfd = -1, status = 0, rc, nosock = 0;
    pid_t child, w;

    if (!lib)
        lib = ROAR_PRELOAD_PATH;
    while ((opt = getopt(argc, argv, "+o:l:n")) != -1) {
        if (opt == 'o')
            outpath = optarg;
        else if (opt == 'l')
            lib = optarg;
        else if (opt == 'n')
            nosock = 1;
        else
            usage();
    }
    if (optind >= argc)
        usage();
    out = outpath ? fopen(outpath, "we") : stderr;
    if (!out || !(rec = malloc(ROAR_RING_RECORD_MAX))) {
        perror("roar-tracedump");
        return 128;
    }
    if (roar_ring_dir_create(&dir) < 0 ||
        snprintf(ringp, sizeof(ringp), "%s/ring", dir) >= (int)sizeof(ringp) ||
        snprintf(sockp, sizeof(sockp), "%s/ctl", dir) >= (int)sizeof(sockp) ||
        roar_ring_create(&ring, ringp, 0) < 0) {
        fprintf(stderr, "fatal: %s\n", roar_error_last());
        return 128;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    strcpy(sa.sun_path, sockp);
    lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 64) < 0) {
        perror("roar-tracedump: socket");
        return 128;
    }
    if (nosock)
        unlink(sockp);

    old = getenv("LD_PRELOAD");
    snprintf(ld, sizeof(ld), "%s%s%s", old && *old ? old : "", old && *old ? ":" : "", lib);
    setenv("LD_PRELOAD", ld, 1);
    setenv(ROAR_ENV_RING, ringp, 1);
    setenv(ROAR_ENV_SOCK, sockp, 1);
    if (!getenv(ROAR_ENV_HASH_WAIT))
        setenv(ROAR_ENV_HASH_WAIT, "30000", 1);
    prctl(PR_SET_CHILD_SUBREAPER, 1);

    child = fork();
    if (child == 0) {
        /* Stable fd numbers in the expected lines: the harness's own fds stay out. */
        close_range(3, ~0u, 0);
        execvp(argv[optind], argv + optind);
        _exit(errno == ENOENT ? 127 : 126);
    }
    unsetenv("LD_PRELOAD");
    /* Serve until every descendant (reparented to us, the subreaper) has exited. */
    for (;;) {
        serve(lfd, ring);
        w = waitpid(-1, &rc, WNOHANG);
        if (w == child)
            status = rc;
        if (w < 0 && errno == ECHILD)
            break;
    }
    drain(ring, 100);
    answer();
    fprintf(out, "end lost=%llu\n", (unsigned long long)roar_ring_lost(ring));
    if (out != stderr)
        fclose(out);
    roar_ring_free(ring);
    roar_ring_dir_remove(dir);
    free(dir);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}
