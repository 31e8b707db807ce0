/* Micro benchmark of the tracer's per-call cost: N times open(O_RDONLY) + read + close of
 * one small file, by relative path (the common case: a cwd join in the shim). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "small.txt";
    long n = argc > 2 ? strtol(argv[2], NULL, 10) : 1000000, i;
    char buf[256];
    struct timespec a, b, ca, cb;

    if (n <= 0) {
        fprintf(stderr, "usage: micro_openloop [FILE [N]]\n");
        return 2;
    }
    clock_gettime(CLOCK_MONOTONIC, &a);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ca);
    for (i = 0; i < n; i++) {
        int fd = open(path, O_RDONLY);
        if (fd < 0) {
            perror(path);
            return 1;
        }
        if (read(fd, buf, sizeof(buf)) < 0) {
            perror("read");
            return 1;
        }
        close(fd);
    }
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cb);
    clock_gettime(CLOCK_MONOTONIC, &b);
    /* ns per iteration, wall clock and this process's CPU time (user + system: robust
     * on a busy machine, where the wall clock also counts waiting for a core) */
    printf("%.1f %.1f\n",
           ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / (double)n,
           ((double)(cb.tv_sec - ca.tv_sec) * 1e9 + (double)(cb.tv_nsec - ca.tv_nsec)) /
               (double)n);
    return 0;
}
