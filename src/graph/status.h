/* `git roar status` (SPEC §6.2): each recorded output's state against the work tree,
 * and the jobs to rerun, in topological order; also the plan of `git roar reproduce`. */
#ifndef ROAR_GRAPH_STATUS_H
#define ROAR_GRAPH_STATUS_H

#include <stdbool.h>
#include <stddef.h>

#include "graph/cache.h"
#include "graph/job.h"
#include "graph/scope.h"

/* In increasing precedence: an output has the greatest state that applies. */
typedef enum {
    ROAR_STATUS_OK = 0,
    ROAR_STATUS_UNKNOWN,  /* an id along its lineage is `-`: nothing shows it is current */
    ROAR_STATUS_STALE,    /* an input (transitively) is now other content, or missing */
    ROAR_STATUS_MODIFIED, /* the file is not what its producer wrote */
    ROAR_STATUS_MISSING,  /* the file is gone */
} roar_status_state;

/* "ok", "unknown", "stale", "modified", "missing". */
const char *roar_status_state_name(roar_status_state state);


/* One output path and its state. Plain data, owned by the roar_status. */
typedef struct {
    char *path; /* relative to the top (or absolute outside it) */
    roar_status_state state;
    char job[ROAR_OID_HEXSZ + 1];     /* its producer */
    bool id_known;                    /* the producer's id for it is not `-` */
    char id[ROAR_OID_HEXSZ + 1];      /* what the producer wrote */
    bool current_known;               /* the file exists and was read (modified) */
    char current[ROAR_OID_HEXSZ + 1]; /* its id now */
    const char *because;              /* stale/unknown: an input path of the job that
                                         is stale, changed, missing or `-` (borrowed
                                         from the roar_status); NULL otherwise */
    /* Inputs outside the work tree recorded on another host are not checked (SPEC §6.2):
     * this host cannot judge them. One such input of its producer, or of a job upstream
     * whose output it read (borrowed; NULL when none), that job's host, and how many
     * more that job has. */
    const char *unchecked;
    const char *unchecked_host;
    size_t unchecked_more;
} roar_status_output;

typedef struct roar_status_graph roar_status_graph;

typedef struct {
    roar_status_output *outputs; /* sorted by path (memcmp) */
    size_t count, alloc;
    roar_cache_id_list rerun; /* jobs to rerun, dependencies first */
    roar_status_graph *graph; /* private: what roar_status_plan walks */
} roar_status;
#define ROAR_STATUS_INIT                                                                           \
    {                                                                                              \
        NULL, 0, 0, ROAR_CACHE_ID_LIST_INIT, NULL                                                  \
    }

/* Computes the state of every output (SPEC §6.2), with the jobs `scope` (borrowed)
 * holds in scope:
 *   - producer of a path: roar_scope_outputs (the in-scope job with the greatest end
 *     that has it as an `out`; jobs with a non-zero exit or a signal produce nothing; a
 *     later in-scope deletion retires the path);
 *   - missing > modified > stale > unknown > ok, where a job is stale when one of its
 *     inputs is now missing or other content than it read, or was produced by a job
 *     that is stale; unknown when an input (or, transitively, its producer's) is `-`;
 *   - an input the same job also wrote (or deleted) is judged through the job that
 *     produced the content read, not through the file, which the job itself changed;
 *   - an input outside the work tree (an absolute path) of a job whose record names a
 *     host other than `host` is not checked at all: that file is another machine's
 *     (its pyenv, its /opt). It is reported in the output's `unchecked` fields. A job
 *     without a host, or `host` NULL, is judged as one of this host's.
 * Files are read through the stat cache (`cache` gets rows for files it hashes):
 * unchanged files are not rehashed. `worktree` is the top of the work tree; paths
 * recorded relative to it are looked up below it. The rerun list holds every job that
 * must run again to make every output ok (producers of outputs not ok, and the
 * previous writers of files they update in place when those no longer hold what was
 * read), each after the jobs whose outputs it reads.
 * `out` must be initialised (ROAR_STATUS_INIT); its previous contents are disposed of.
 * The caller disposes of it. */
int roar_status_compute(roar_status *out, roar_cache *cache, const char *worktree,
                        roar_scope *scope, const char *host);

void roar_status_dispose(roar_status *st);

/* The output at `path`, or NULL when no in-scope job produced it. Borrowed. */
const roar_status_output *roar_status_find(const roar_status *st, const char *path);

/* The jobs to rerun to bring `job_id`'s outputs up to date, dependencies first: the job
 * itself when its outputs are not ok, and upstream, through the producers of its
 * inputs, every job that is not current. Empty when everything it needs is current.
 * Replaces the contents of `out`. ROAR_ENOTFOUND when the job is not stored. */
int roar_status_plan(roar_cache_id_list *out, roar_status *st, const char *job_id);

#endif
