/* Benchmark driver for bench/hash.sh: hashes one file N times with roar_hash_path (the
 * code path inputs take) and prints the id and the throughput of the best run. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "graph/hash.h"
#include "util/err.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    char id[ROAR_OID_HEXSZ + 1];
    double best = 0;
    int runs = argc > 2 ? atoi(argv[2]) : 3;

    if (argc < 2 || runs < 1) {
        fprintf(stderr, "usage: hash_bench FILE [RUNS]\n");
        return 129;
    }
    for (int i = 0; i < runs; i++) {
        uint64_t before = roar_hash_bytes_hashed();
        double t0 = now_s(), dt;
        if (roar_hash_path(id, NULL, argv[1], NULL) < 0) {
            fprintf(stderr, "fatal: %s\n", roar_error_last());
            return 128;
        }
        dt = now_s() - t0;
        if (dt > 0 && (double)(roar_hash_bytes_hashed() - before) / dt / 1e9 > best)
            best = (double)(roar_hash_bytes_hashed() - before) / dt / 1e9;
    }
    printf("%s %.2f\n", id, best);
    return 0;
}
