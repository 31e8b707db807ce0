/* Private to src/graph/status*.c: the producer graph status.c judges and
 * status_graph.c builds (jobs, their edges as shared atoms, the one-pass load). */
#ifndef ROAR_GRAPH_STATUS_INTERNAL_H
#define ROAR_GRAPH_STATUS_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "graph/cache_lineage.h"
#include "graph/status.h"
#include "util/buf.h"
#include "util/keymap.h"

enum { STATE_UNSEEN = -1, STATE_BUSY = -2 };
enum { PLAN_NONE = 0, PLAN_BUSY, PLAN_DONE, PLAN_SKIPPED };

/* A file's content now, looked up once per path. */
typedef struct {
    bool exists;
    bool unknown; /* it could not be judged: a stat error other than "gone", or a file
                     outside the work tree the stat cache does not vouch for */
    char id[ROAR_OID_HEXSZ + 1];
} current_info;

#define PRODUCER_UNASKED SIZE_MAX

/* One distinct edge (role, id, path). Jobs share them (40k jobs read the same
 * params.yaml), so what status learns of one, the file's content now and the path's
 * producer, is worked out once, and 2M edges cost a pointer each. */
typedef struct {
    char id[ROAR_OID_HEXSZ + 1]; /* when id_known */
    bool id_known;
    unsigned char role;          /* a roar_role */
    const current_info *cur;     /* current(path), once asked */
    size_t producer;             /* producer_of(path): index in outs + 1, 0 for none, or
                                    PRODUCER_UNASKED */
    const char *path;            /* interned (g->paths): one copy per distinct path, so
                                    two atoms name the same path when the pointers match */
} edge_atom;

typedef struct sjob {
    char id[ROAR_OID_HEXSZ + 1];
    int64_t end_ms;
    bool loaded;
    edge_atom **edges; /* record order; the atoms belong to the graph */
    size_t nedges, edges_alloc;
    const char **written;       /* interned paths it wrote or deleted, once asked */
    size_t nwritten;
    roar_keymap written_set;    /* the same, by pointer, when there are many */
    bool written_loaded;
    int state;                  /* a roar_status_state (OK, UNKNOWN, STALE) or STATE_* */
    const char *because;        /* borrowed from edges */
    bool needs_rerun;           /* one of its outputs is missing, modified or stale */
    int plan;                   /* PLAN_* */
    char *host;                 /* its record's host, once asked (job_foreign) */
    bool host_loaded;
    const char *unchecked;      /* an outside input of another host's, its own or one
                                   upstream's (an atom's path), or NULL */
    const char *unchecked_host; /* borrowed from the job whose input it is */
    size_t unchecked_more;      /* that job's other such inputs */
    /* Steps (SPEC §4.9): a job with steps has a view per step, an sjob of its own whose
     * input edges are that step's alone, judged apart; `base` is the job it views
     * (NULL for a job itself). */
    struct sjob *base;
    roar_steps steps;
    bool steps_loaded;
    struct sjob **views; /* steps.count of them, made on first ask */
} sjob;

struct roar_status_graph {
    roar_cache *cache;
    char *worktree;
    char *host; /* this host, or NULL: every job is judged as this host's */
    bool (*in_scope)(const char *job_id, void *payload);
    void *payload;
    roar_scope *scope;
    roar_scope_output_list outs; /* every output in scope and its producer (scope.h) */
    roar_keymap producer;        /* path -> index in outs + 1 */
    roar_keymap jobs;          /* id -> sjob * */
    roar_keymap current;       /* path -> current_info * */
    roar_keymap atoms;         /* role, id, path -> edge_atom * (owned) */
    roar_keymap paths;         /* path -> its one interned copy (owned) */
    sjob **out_jobs;           /* outs.items[i]'s producer, once asked */
    roar_buf atom_key;
    roar_cache_edge_list tmp;  /* producer_before's */
    roar_cache_edge_list jtmp; /* load_edges' */
    roar_buf abs;
    bool any_steps; /* some stored job has steps: views are worth looking for */
    struct state_frame *state_stack; /* job_state's walk, reused */
    size_t state_alloc;
    struct plan_frame *plan_stack; /* plan_visit's walk, reused */
    size_t plan_alloc;
};

/* ROAR_ENOMEM with its message. */
int roar_status__oom(void);
/* Frees the graph and all it owns. NULL is fine. */
void roar_status__graph_free(roar_status_graph *g);
/* The graph's job for id, created (not loaded) on first ask. */
int roar_status__get_job(sjob **out, roar_status_graph *g, const char *id);
/* j's edges, once: from the cache, or already there from the one-pass load. */
int roar_status__load_edges(roar_status_graph *g, sjob *j);
/* Every producer's job (g->out_jobs), and their edges in one pass when they are many. */
int roar_status__load_producer_edges(roar_status_graph *g);
/* The job as it stands behind its output `path` (interned: an atom's path): the view
 * of the step that names the output, or j itself (no steps, or none names it). */
int roar_status__view_for(sjob **out, roar_status_graph *g, sjob *j, const char *path);
/* *out = whether j itself wrote or deleted `path` (interned: an atom's path). */
int roar_status__job_changed(bool *out, sjob *j, const char *path);

#endif
