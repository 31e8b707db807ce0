/* roar-ebpfdump: a test-only collector stand-in for the eBPF tracer. It loads the
 * tracer, runs a command gated on a pipe, and prints each event as roar-tracedump does. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <linux/close_range.h>
#include <time.h>
#include <unistd.h>

#include "trace/ebpf/loader.h"
#include "trace/event.h"
#include "util/err.h"

/* Exit status when the tracer cannot load here (not built, not root, no BTF): the
 * tests skip on it, visibly. */
#define EXIT_UNAVAILABLE 77

/* Output is meant to be compared by tests, and with roar-tracedump's: no pids, seqs or
 * inode numbers. Processes are named p1, p2... in order of first appearance. */
static FILE *out;
static pid_t pids[4096];
static int npids;
static int bad_records;
static int show_ident; /* -i: identities too (they differ from run to run) */

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

/* The same text as roar-tracedump's print_event, plus what only eBPF sends: the
 * canonical name of an open (" canon=..."), fork flags, exits. */
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
        if (ev->path2)
            fprintf(out, " canon=%s", ev->path2);
        if (show_ident && h->has_ident)
            fprintf(out, " ident=%llu:%llu:%llu:%lld:%lld", (unsigned long long)h->dev,
                    (unsigned long long)h->ino, (unsigned long long)h->size,
                    (long long)h->mtime_ns, (long long)h->ctime_ns);
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
        if (h->flags & 0x10000 /* CLONE_THREAD */)
            fputs(" thread", out);
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
        if (ev->path)
            fprintf(out, " %s", ev->path);
        break;
    case ROAR_EV_COPY:
        fprintf(out, " fd=%d -> fd=%d", h->fd, h->fd2);
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

static int on_record(const void *rec, size_t len, void *payload)
{
    roar_event ev;
    size_t used = 0;
    (void)payload;
    /* the decoder is the collector's: what it refuses, the collector would lose */
    if (roar_event_decode(&ev, rec, len, &used) < 0 || used != len) {
        fprintf(out, "bad-record %s\n", roar_error_last());
        bad_records++;
        return 0;
    }
    print_event(&ev);
    return 0;
}

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void usage(void)
{
    fprintf(stderr, "usage: roar-ebpfdump [-o FILE] [-r RING_BYTES] [-d DRAIN_MS] [-w WALK_BUDGET]\n"
                    "                     [-i] [-T] [-q] -- CMD [ARG...]\n"
                    "  -i  print the identity of opened files (dev:ino:size:mtime_ns:ctime_ns)\n"
                    "  -T  print the tracer's load/attach/detach times on stderr\n"
                    "  -q  print nothing but the last line (end lost=N)\n");
    exit(129);
}

int main(int argc, char **argv)
{
    roar_ebpf_opts opts;
    roar_ebpf *t = NULL;
    roar_ebpf_timing tm;
    const char *outpath = NULL;
    int opt, status = 0, rc, gate[2], timing = 0, quiet = 0;
    uint64_t t0, detach_us;
    pid_t child, w;

    memset(&opts, 0, sizeof(opts));
    while ((opt = getopt(argc, argv, "+o:r:d:w:iTq")) != -1) {
        if (opt == 'o')
            outpath = optarg;
        else if (opt == 'r')
            opts.ring_bytes = strtoul(optarg, NULL, 0);
        else if (opt == 'd')
            opts.drain_ms = (unsigned)strtoul(optarg, NULL, 0);
        else if (opt == 'w')
            opts.walk_budget = (uint32_t)strtoul(optarg, NULL, 0);
        else if (opt == 'i')
            show_ident = 1;
        else if (opt == 'T')
            timing = 1;
        else if (opt == 'q')
            quiet = 1;
        else
            usage();
    }
    if (optind >= argc)
        usage();
    out = quiet ? fopen("/dev/null", "we") : outpath ? fopen(outpath, "we") : stderr;
    if (!out) {
        perror("roar-ebpfdump");
        return 128;
    }

    t0 = now_us();
    if (roar_ebpf_open(&t, &opts) < 0) {
        fprintf(stderr, "roar-ebpfdump: unavailable: %s\n", roar_error_last());
        return EXIT_UNAVAILABLE;
    }
    if (timing) {
        roar_ebpf_timing_get(&tm, t);
        fprintf(stderr, "timing open=%lluus load=%lluus attach=%lluus total=%lluus\n",
                (unsigned long long)tm.open_us, (unsigned long long)tm.load_us,
                (unsigned long long)tm.attach_us, (unsigned long long)(now_us() - t0));
    }
    if (pipe2(gate, O_CLOEXEC) < 0 || prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
        perror("roar-ebpfdump");
        return 128;
    }

    child = fork();
    if (child == 0) {
        char c;
        /* Gate: wait until our pid is in the traced map, so the first open is seen. */
        close(gate[1]);
        while (read(gate[0], &c, 1) < 0 && errno == EINTR)
            ;
        /* Stable fd numbers in the expected lines: the harness's own fds stay out. */
        close_range(3, ~0u, 0);
        execvp(argv[optind], argv + optind);
        _exit(errno == ENOENT ? 127 : 126);
    }
    if (child < 0 || roar_ebpf_start(t, child) < 0) {
        fprintf(stderr, "roar-ebpfdump: %s\n", child < 0 ? strerror(errno) : roar_error_last());
        if (child > 0)
            kill(child, SIGKILL);
        return 128;
    }
    close(gate[0]);
    if (write(gate[1], "g", 1) != 1) {
        perror("roar-ebpfdump: gate");
        return 128;
    }
    close(gate[1]);

    /* Drain until every descendant (reparented to us, the subreaper) has exited. */
    for (;;) {
        struct timespec ts = {0, (long)roar_ebpf_drain_ms(t) * 1000000L};
        if (roar_ebpf_consume(t, on_record, NULL) < 0)
            fprintf(out, "consume-error %s\n", roar_error_last());
        w = waitpid(-1, &rc, WNOHANG);
        if (w == child)
            status = rc;
        if (w < 0 && errno == ECHILD)
            break;
        if (w == 0)
            nanosleep(&ts, NULL);
    }
    /* A process's last events are in the ring before it can be reaped. */
    if (roar_ebpf_consume(t, on_record, NULL) < 0)
        fprintf(out, "consume-error %s\n", roar_error_last());
    if (quiet) {
        fclose(out);
        out = outpath ? fopen(outpath, "we") : stderr;
        if (!out)
            out = stderr;
    }
    fprintf(out, "end lost=%llu\n", (unsigned long long)roar_ebpf_lost(t));
    if (out != stderr)
        fclose(out);
    t0 = now_us();
    roar_ebpf_free(t);
    detach_us = now_us() - t0;
    if (timing)
        fprintf(stderr, "timing detach=%lluus\n", (unsigned long long)detach_us);
    if (bad_records)
        return 125;
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}
