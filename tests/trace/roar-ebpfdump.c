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

#include "event_text.h"

/* Exit status when the tracer cannot load here (not built, not root, no BTF, a kernel
 * policy): the tests skip on it, visibly. A verifier refusing the programs is exit 1:
 * that is a bug, and the tests fail on it. */
#define EXIT_UNAVAILABLE 77

static int bad_records;

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
                    "                     [-i] [-P] [-E] [-R] [-T] [-q] -- CMD [ARG...]\n"
                    "  -i  print identities (dev:ino:size:mtime_ns:ctime_ns): opens, reads, writes, fdnew\n"
                    "  -P  read identities with probe reads, not typed loads\n"
                    "  -E  bench only: the system call program returns at once (no file events)\n"
                    "  -R  test only: load a program the verifier refuses\n"
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
    while ((opt = getopt(argc, argv, "+o:r:d:w:iPERTq")) != -1) {
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
        else if (opt == 'P')
            opts.probe_reads = true;
        else if (opt == 'E')
            opts.empty_syscalls = true;
        else if (opt == 'R')
            opts.verifier_refusal = true;
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
        if (roar_error_last_code() != ROAR_EUNSUPPORTED) {
            fprintf(stderr, "roar-ebpfdump: %s\n", roar_error_last());
            return 1;
        }
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
