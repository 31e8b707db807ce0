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

#include "event_text.h"

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
