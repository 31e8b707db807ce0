/* The lineage walks of `git roar lineage` (SPEC §3): from a job or a content, upstream
 * through the producer of each input's exact blob id, or downstream through consumers. */
#ifndef ROAR_GRAPH_LINEAGE_H
#define ROAR_GRAPH_LINEAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "graph/cache.h"
#include "graph/job.h"
#include "graph/scope.h"

typedef enum {
    ROAR_LINEAGE_ARTIFACT = 0, /* a content (blob id) at a path */
    ROAR_LINEAGE_JOB = 1,
} roar_lineage_kind;

/* What a job node shows of its job: the stored job's summary, nothing of its edges,
 * environment or host (a wide walk holds tens of thousands of jobs). */
typedef struct {
    char **argv; /* owned, argc elements */
    size_t argc;
    char *cwd; /* owned */
    int64_t end_ms;
    roar_end_kind end_kind;
    int end_code;
} roar_lineage_job;

/* A node of the graph. Plain data, owned by the graph. */
typedef struct {
    roar_lineage_kind kind;
    unsigned depth; /* jobs between the root and this node, this one included */
    /* More lies beyond this node than the depth limit let the walk follow. */
    bool truncated;
    /* ARTIFACT: the path (NULL for a root named by blob id alone), its id (unknown for
     * an input recorded `-`: such a node is never followed) and size. JOB: the job id
     * (id_known), and `job`. */
    char *path;
    bool id_known;
    char id[ROAR_OID_HEXSZ + 1];
    uint64_t size;
    roar_lineage_job job;
} roar_lineage_node;

/* An edge in the direction data flowed: `in` from an artifact to the job that read it,
 * `out` from a job to the artifact it wrote. Indexes into the node array. */
typedef struct {
    size_t from, to;
    roar_role role;
} roar_lineage_edge;

typedef struct {
    roar_lineage_node *nodes; /* nodes[0] is the root; then in breadth-first order */
    size_t count, alloc;
    roar_lineage_edge *edges; /* in the order they were found */
    size_t edge_count, edge_alloc;
    bool down;    /* the direction walked */
    size_t roots; /* nodes[0 .. roots) are the roots (at least one) */
} roar_lineage_graph;
#define ROAR_LINEAGE_GRAPH_INIT                                                                    \
    {                                                                                              \
        NULL, 0, 0, NULL, 0, 0, false, 0                                                           \
    }

typedef struct {
    bool down;      /* follow consumers (what was derived from the root), not producers */
    unsigned depth; /* follow at most this many jobs from the root; 0: no limit */
    roar_scope *scope; /* SPEC §5.5: only jobs in this scope are producers or consumers;
                          NULL: every stored job */
} roar_lineage_opts;

/* Frees everything the graph owns and leaves it as after ROAR_LINEAGE_GRAPH_INIT. */
void roar_lineage_graph_dispose(roar_lineage_graph *g);

/* Walks from a stored job (full id). Upstream: its inputs, the job that produced each
 * input's exact content, their inputs, and so on. Downstream: its outputs, the jobs that
 * read each output's exact content, their outputs, and so on. Rules:
 *   - a job that failed (non-zero exit or a signal) produces nothing (SPEC §6.2): it is
 *     never taken as a producer, and downstream its outputs are not followed;
 *   - an input's producer is, among the successful jobs that wrote that blob id, one
 *     that wrote it at the same path if any, ending no later than the reader ended and
 *     other than the reader (a file updated in place points at its previous writer),
 *     the newest such; a content produced many times (reruns) shows one producer;
 *   - every node appears once (a diamond is a diamond, a cycle ends), at the smallest
 *     depth it was reached at.
 * `out` must be initialised; its previous contents are disposed of. ROAR_ENOTFOUND
 * when the job is not stored. `cache` and `job_id` are borrowed. */
int roar_lineage_from_job(roar_lineage_graph *out, roar_cache *cache, const char *job_id,
                          const roar_lineage_opts *opts);

/* The same walk from a content: `blob_id` at `path` (NULL when only the id is known).
 * The root artifact's producer (upstream) or readers (downstream) need not have used
 * the same path; `size` is shown as given. A content no job wrote or read is a graph
 * of one node. */
/* One root of a walk from several contents (a directory's outputs). */
typedef struct {
    const char *path;
    const char *id;
    uint64_t size;
} roar_lineage_root;

/* The walk of roar_lineage_from_blob from `count` (≥ 1) contents at once: the roots are
 * nodes[0 .. count), in the order given, and what they share appears once. */
int roar_lineage_from_blobs(roar_lineage_graph *out, roar_cache *cache,
                            const roar_lineage_root *roots, size_t count,
                            const roar_lineage_opts *opts);

int roar_lineage_from_blob(roar_lineage_graph *out, roar_cache *cache, const char *path,
                           const char *blob_id, uint64_t size, const roar_lineage_opts *opts);

#endif
