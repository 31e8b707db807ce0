/* The job: one traced command with its inputs, outputs and deletions (SPEC §5.1).
 * Plain data, shared by the tracer, the record codec, the cache and the queries. */
#ifndef ROAR_GRAPH_JOB_H
#define ROAR_GRAPH_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "graph/steps.h"

#define ROAR_OID_HEXSZ 40

typedef enum {
    ROAR_ROLE_IN = 0,
    ROAR_ROLE_OUT = 1,
    ROAR_ROLE_DEL = 2,
} roar_role;

/* One `in`, `out` or `del` line. */
typedef struct {
    roar_role role;
    char *path;                    /* owned; raw bytes, never contains NUL */
    bool id_known;                 /* false: the record says `-` (and for del) */
    char id[ROAR_OID_HEXSZ + 1];   /* lower-case hex blob id when id_known */
    uint64_t size;                 /* bytes (size at open when id unknown); 0 for del */
} roar_edge;

/* One `incomplete <reason> [N] [path]` line. */
typedef struct {
    char *reason;    /* owned, e.g. "events-lost", "hash-unknown" */
    bool has_count;
    uint64_t count;
    char *path;      /* owned, or NULL */
} roar_incomplete;

/* A `NAME=value` pair (env lines), or an unknown `key value` line kept verbatim. */
typedef struct {
    char *key;   /* owned */
    char *value; /* owned */
} roar_kv;

typedef enum {
    ROAR_END_EXIT = 0,   /* `exit N` */
    ROAR_END_SIGNAL = 1, /* `signal N` */
} roar_end_kind;

typedef struct {
    char id[ROAR_OID_HEXSZ + 1]; /* job id; "" until computed or parsed */

    char **argv;  /* owned, argc elements (+ NULL terminator), each without NUL */
    size_t argc;
    char *cwd;    /* owned; relative to the work tree top ("." for the top) */

    bool has_base;
    char base[ROAR_OID_HEXSZ + 1]; /* HEAD when the job started */
    int dirty;                     /* 0 or 1 */

    char *tracer; /* owned: "ebpf" or "preload" (readers accept others) */
    char *host;   /* owned, may be NULL */
    char *user;   /* owned, may be NULL */

    int64_t start_ms; /* milliseconds since the Unix epoch, UTC */
    int64_t end_ms;

    roar_end_kind end_kind;
    int end_code; /* exit status or signal number */

    roar_kv *env;  /* owned; env lines in order */
    size_t env_count, env_alloc;

    roar_kv *extra; /* owned; unknown keys, kept in the order read (forward compat) */
    size_t extra_count, extra_alloc;

    roar_edge *edges; /* owned; in, out and del lines */
    size_t edge_count, edge_alloc;

    roar_incomplete *incomplete; /* owned */
    size_t incomplete_count, incomplete_alloc;

    /* `step` lines (SPEC §4.9), positions among the in and out edges in record order;
     * empty: every output depends on every input. */
    roar_steps steps;
} roar_job;

void roar_job_init(roar_job *job);

/* Frees everything the job owns and leaves it as after roar_job_init. NULL-safe. */
void roar_job_dispose(roar_job *job);

/* Setters copy their arguments; the job owns the copies. ROAR_ENOMEM on failure. */
int roar_job_set_argv(roar_job *job, const char *const *argv, size_t argc);
int roar_job_add_edge(roar_job *job, roar_role role, const char *path, const char *id_or_null,
                      uint64_t size);
int roar_job_add_env(roar_job *job, const char *name, const char *value);
int roar_job_add_extra(roar_job *job, const char *key, const char *value);
int roar_job_add_incomplete(roar_job *job, const char *reason, bool has_count, uint64_t count,
                            const char *path_or_null);

/* Sorts edges into record order: in, then out, then del; each by path (memcmp). */
void roar_job_sort(roar_job *job);

/* Whether the edges are in record order already (steps name edges by position). */
bool roar_job_edges_sorted(const roar_job *job);

/* Deep equality of everything a record holds (the id included). */
bool roar_job_equal(const roar_job *a, const roar_job *b);

#endif
