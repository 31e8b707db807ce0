/* Output states and rerun plans (status.h): producers from the cache's output edges,
 * job states memoised over the producer graph, files read through the stat cache. The
 * walks keep their own stacks: a chain of a million jobs is a note's to make (SPEC §8). */
#include "graph/status.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "graph/cache_lineage.h"
#include "graph/hash.h"
#include "util/keymap.h"
#include "util/buf.h"
#include "util/err.h"

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

typedef struct {
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
    struct state_frame *state_stack; /* job_state's walk, reused */
    size_t state_alloc;
    struct plan_frame *plan_stack; /* plan_visit's walk, reused */
    size_t plan_alloc;
};

static int oom(void)
{
    return roar_error_set(ROAR_ENOMEM, "out of memory");
}

const char *roar_status_state_name(roar_status_state state)
{
    switch (state) {
    case ROAR_STATUS_OK:
        return "ok";
    case ROAR_STATUS_UNKNOWN:
        return "unknown";
    case ROAR_STATUS_STALE:
        return "stale";
    case ROAR_STATUS_MODIFIED:
        return "modified";
    case ROAR_STATUS_MISSING:
        return "missing";
    }
    return "?";
}

/* ---- the graph ----------------------------------------------------------------- */

static void graph_free(roar_status_graph *g)
{
    size_t i;
    if (!g)
        return;
    for (i = 0; i < g->jobs.cap; i++) {
        sjob *j = g->jobs.slots[i].key ? g->jobs.slots[i].value : NULL;
        if (j) {
            free(j->edges);
            free(j->written);
            roar_keymap_dispose(&j->written_set);
            free(j->host);
            free(j);
        }
    }
    for (i = 0; i < g->current.cap; i++)
        if (g->current.slots[i].key)
            free(g->current.slots[i].value);
    for (i = 0; i < g->atoms.cap; i++)
        if (g->atoms.slots[i].key)
            free(g->atoms.slots[i].value);
    roar_keymap_dispose(&g->atoms);
    for (i = 0; i < g->paths.cap; i++)
        if (g->paths.slots[i].key)
            free(g->paths.slots[i].value);
    roar_keymap_dispose(&g->paths);
    free(g->out_jobs);
    roar_buf_dispose(&g->atom_key);
    roar_cache_edge_list_dispose(&g->jtmp);
    roar_keymap_dispose(&g->jobs);
    roar_keymap_dispose(&g->current);
    roar_keymap_dispose(&g->producer);
    roar_scope_output_list_dispose(&g->outs);
    roar_cache_edge_list_dispose(&g->tmp);
    roar_buf_dispose(&g->abs);
    free(g->state_stack);
    free(g->plan_stack);
    free(g->worktree);
    free(g->host);
    free(g);
}

static int get_job(sjob **out, roar_status_graph *g, const char *id)
{
    sjob *j = roar_keymap_gets(&g->jobs, id);
    if (!j) {
        if (!(j = calloc(1, sizeof(*j))))
            return oom();
        memcpy(j->id, id, ROAR_OID_HEXSZ + 1);
        j->state = STATE_UNSEEN;
        if (roar_keymap_puts(&g->jobs, id, j) < 0) {
            free(j);
            return oom();
        }
    }
    *out = j;
    return 0;
}

/* Appends the edge (role, path, id or NULL) to j's, through the graph's atom. */
static int add_edge(roar_status_graph *g, sjob *j, roar_role role, const char *path,
                    size_t path_len, const char *id)
{
    roar_buf *key = &g->atom_key;
    edge_atom *a;

    roar_buf_clear(key);
    if (roar_buf_putc(key, (char)('0' + role)) < 0 ||
        roar_buf_put(key, id ? id : "-", id ? ROAR_OID_HEXSZ : 1) < 0 ||
        roar_buf_put(key, path, path_len) < 0)
        return oom();
    if (!(a = roar_keymap_get(&g->atoms, key->ptr, key->size))) {
        char *interned = roar_keymap_get(&g->paths, path, path_len);
        if (!interned) {
            if (!(interned = malloc(path_len + 1)))
                return oom();
            memcpy(interned, path, path_len);
            interned[path_len] = '\0';
            if (roar_keymap_put(&g->paths, path, path_len, interned) < 0) {
                free(interned);
                return oom();
            }
        }
        if (!(a = calloc(1, sizeof(*a))))
            return oom();
        a->id_known = id != NULL;
        if (id)
            memcpy(a->id, id, ROAR_OID_HEXSZ + 1);
        a->role = (unsigned char)role;
        a->producer = PRODUCER_UNASKED;
        a->path = interned;
        if (roar_keymap_put(&g->atoms, key->ptr, key->size, a) < 0) {
            free(a);
            return oom();
        }
    }
    if (ROAR_ALLOC_GROW(j->edges, j->nedges + 1, j->edges_alloc) < 0)
        return oom();
    j->edges[j->nedges++] = a;
    return 0;
}

static int load_edges(roar_status_graph *g, sjob *j)
{
    int error;
    size_t i;

    if (j->loaded)
        return 0;
    if ((error = roar_cache_job_edges(&g->jtmp, g->cache, j->id)) < 0)
        return error;
    for (i = 0; i < g->jtmp.count; i++) {
        const roar_cache_edge *e = &g->jtmp.items[i];
        if ((error = add_edge(g, j, e->role, e->path, strlen(e->path),
                              e->id_known ? e->id : NULL)) < 0)
            return error;
    }
    if (g->jtmp.count)
        j->end_ms = g->jtmp.items[0].end_ms;
    j->loaded = true;
    return 0;
}

/* ---- the producers' edges in one pass ---------------------------------------------- */

/* Status of a whole history asks for nearly every job's edges: one statement per job
 * cost 100k lookups at 100k jobs. When the producers are at least 1/BULK_SHARE of the
 * stored jobs (and BULK_MIN_JOBS or more), their edges are read in one pass over the
 * table instead; a narrow status (few producers) keeps the lookups. */
#define BULK_MIN_JOBS 512
#define BULK_SHARE 8
#define BULK_MAX_PK ((int64_t)1 << 30) /* row keys past this: per-job lookups */

typedef struct {
    roar_status_graph *g;
    sjob **by_pk; /* job row key -> the graph's job whose edges are wanted, or NULL */
    size_t by_pk_len;
    size_t jobs, wanted;
} bulk_load;

static int bulk_job(int64_t pk, const char *id, int64_t end_ms, void *payload)
{
    bulk_load *b = payload;
    sjob *j;

    b->jobs++;
    if (!(j = roar_keymap_gets(&b->g->jobs, id)) || j->loaded)
        return 0;
    if (pk < 0 || pk > BULK_MAX_PK)
        return 1; /* not this way */
    if ((size_t)pk >= b->by_pk_len) {
        size_t n = b->by_pk_len ? b->by_pk_len : 1024;
        sjob **grown;
        while (n <= (size_t)pk)
            n *= 2;
        if (!(grown = realloc(b->by_pk, n * sizeof(*grown))))
            return oom();
        memset(grown + b->by_pk_len, 0, (n - b->by_pk_len) * sizeof(*grown));
        b->by_pk = grown;
        b->by_pk_len = n;
    }
    b->by_pk[pk] = j;
    j->end_ms = end_ms;
    b->wanted++;
    return 0;
}

static int bulk_edge(const roar_cache_edge_row *row, void *payload)
{
    bulk_load *b = payload;
    sjob *j;

    if (row->job_pk < 0 || (size_t)row->job_pk >= b->by_pk_len || !(j = b->by_pk[row->job_pk]))
        return 0;
    return add_edge(b->g, j, row->role, row->path, row->path_len, row->blob);
}

static int load_producer_edges(roar_status_graph *g)
{
    bulk_load b = {g, NULL, 0, 0, 0};
    int error = 0;
    size_t i;

    for (i = 0; i < g->outs.count && !error; i++)
        error = get_job(&g->out_jobs[i], g, g->outs.items[i].job_id);
    if (error < 0 || g->jobs.count < BULK_MIN_JOBS)
        return error;
    error = roar_cache_scan_jobs(g->cache, bulk_job, &b);
    if (error == 0 && b.wanted >= BULK_MIN_JOBS && b.wanted * BULK_SHARE >= b.jobs) {
        if ((error = roar_cache_scan_edges(g->cache, bulk_edge, &b)) == 0)
            for (i = 0; i < b.by_pk_len; i++)
                if (b.by_pk[i])
                    b.by_pk[i]->loaded = true;
    }
    free(b.by_pk);
    return error > 0 ? 0 : error;
}

/* Past this many paths a job wrote, job_changed looks them up in a map. */
#define WRITTEN_SCAN_MAX 16

/* Whether the job itself wrote or deleted `path` (interned: an atom's path). Most jobs
 * write a few files, compared by pointer; one that wrote many gets a map, since a scan
 * per input was quadratic in a job's edges (250k inputs took minutes). */
static int job_changed(bool *out, sjob *j, const char *path)
{
    size_t i;

    if (!j->written_loaded) {
        for (i = 0; i < j->nedges; i++) {
            if (j->edges[i]->role == ROAR_ROLE_IN)
                continue;
            if (!(j->nwritten & (j->nwritten + 1))) { /* 0, 1, 3, 7...: double */
                const char **grown = realloc(j->written, (j->nwritten * 2 + 1) * sizeof(*grown));
                if (!grown)
                    return oom();
                j->written = grown;
            }
            j->written[j->nwritten++] = j->edges[i]->path;
            if (j->nwritten > WRITTEN_SCAN_MAX &&
                roar_keymap_put(&j->written_set, &j->edges[i]->path, sizeof(const char *),
                                (void *)1) < 0)
                return oom();
        }
        /* The first ones went in before the count said a map was needed. */
        for (i = 0; j->nwritten > WRITTEN_SCAN_MAX && i <= WRITTEN_SCAN_MAX; i++)
            if (roar_keymap_put(&j->written_set, &j->written[i], sizeof(const char *),
                                (void *)1) < 0)
                return oom();
        j->written_loaded = true;
    }
    if (j->nwritten > WRITTEN_SCAN_MAX) {
        *out = roar_keymap_get(&j->written_set, &path, sizeof(path)) != NULL;
        return 0;
    }
    for (i = 0; i < j->nwritten; i++)
        if (j->written[i] == path) {
            *out = true;
            return 0;
        }
    *out = false;
    return 0;
}

static int current(const current_info **out, roar_status_graph *g, const char *path)
{
    current_info *ci = roar_keymap_gets(&g->current, path);
    int error = 0, tries;

    if (ci) {
        *out = ci;
        return 0;
    }
    if (!(ci = calloc(1, sizeof(*ci))))
        return oom();
    roar_buf_clear(&g->abs);
    if (path[0] != '/' && roar_buf_printf(&g->abs, "%s/", g->worktree) < 0)
        error = oom();
    if (!error && roar_buf_puts(&g->abs, path) < 0)
        error = oom();
    if (!error && path[0] == '/') {
        /* Outside the work tree (SPEC §8): a note must not make status hash, or stall
         * on, what this clone's own jobs did not record. A file the stat cache has a row
         * for was hashed here before (by a run or a status) and may be read again; any
         * other is unknown, never read. */
        struct stat st;
        if (stat(g->abs.ptr, &st) < 0) {
            ci->unknown = errno != ENOENT && errno != ENOTDIR;
        } else if (!S_ISREG(st.st_mode)) {
            /* not a regular file: missing */
        } else {
            roar_stat_key key;
            bool known = false;
            roar_stat_key_from_stat(&key, &st);
            if (roar_hash_cache_lookup(ci->id, g->cache, &key) == 0)
                ci->exists = true;
            else if (roar_cache_hash_known(&known, g->cache, key.dev, key.ino) == 0 && known &&
                     roar_hash_file(ci->id, NULL, g->cache, g->abs.ptr, NULL) == 0)
                ci->exists = true; /* a file this clone hashed before: read it again */
            else
                ci->unknown = true;
        }
        roar_error_clear();
        goto done;
    }
    /* A file being rewritten right now changes under the hash: look again. */
    for (tries = 0; !error && tries < 3; tries++) {
        error = roar_hash_file(ci->id, NULL, g->cache, g->abs.ptr, NULL);
        if (error != ROAR_ECHANGED)
            break;
    }
    if (error == 0) {
        ci->exists = true;
    } else if (error == ROAR_ENOTFOUND || error == ROAR_EINVALID) {
        /* Gone, or no longer a regular file (a directory in its place): missing. */
        roar_error_clear();
        error = 0;
    } else if (error != ROAR_ENOMEM) {
        /* ENAMETOOLONG, ELOOP, EACCES, a file that keeps changing: a path from a note
         * that cannot be read is not judged, and the rest of status goes on. */
        roar_error_clear();
        ci->unknown = true;
        error = 0;
    }
done:
    if (!error && roar_keymap_puts(&g->current, path, ci) < 0)
        error = oom();
    if (error < 0) {
        free(ci);
        return error;
    }
    *out = ci;
    return 0;
}

static const roar_scope_output *producer_of(roar_status_graph *g, edge_atom *a)
{
    if (a->producer == PRODUCER_UNASKED)
        a->producer = (size_t)(uintptr_t)roar_keymap_gets(&g->producer, a->path);
    return a->producer ? &g->outs.items[a->producer - 1] : NULL;
}

/* The graph's job for the producer producer_of(g, a) returned, remembered per output. */
static int producer_job(sjob **out, roar_status_graph *g, const edge_atom *a)
{
    size_t i = a->producer - 1;
    int error;

    if (!g->out_jobs[i] && (error = get_job(&g->out_jobs[i], g, g->outs.items[i].job_id)) < 0)
        return error;
    *out = g->out_jobs[i];
    return 0;
}

/* current() of an edge's path, remembered by the edge. */
static int current_of(const current_info **out, roar_status_graph *g, edge_atom *a)
{
    int error;
    if (!a->cur && (error = current(&a->cur, g, a->path)) < 0)
        return error;
    *out = a->cur;
    return 0;
}

/* The job that produced the content `j` read at `path` and then changed itself: an
 * in-scope, successful writer of exactly that id at that path, other than j, ended
 * no later than j; the newest. *out = NULL when none (a source edited in place). */
static int producer_before(sjob **out, roar_status_graph *g, const sjob *j, const char *path,
                           const char *id)
{
    int error;
    *out = NULL;
    if ((error = roar_cache_blob_edges(&g->tmp, g->cache, id, ROAR_ROLE_OUT)) < 0)
        return error;
    for (size_t i = 0; i < g->tmp.count; i++) {
        const roar_cache_edge *e = &g->tmp.items[i];
        if (e->end_kind != ROAR_END_EXIT || e->end_code != 0 || strcmp(e->path, path) ||
            !strcmp(e->job_id, j->id) || e->end_ms > j->end_ms ||
            !g->in_scope(e->job_id, g->payload))
            continue;
        return get_job(out, g, e->job_id);
    }
    return 0;
}

/* Whether j was recorded on another host: its record names one, and not this one. A
 * file outside the work tree it read is that host's, which this one cannot judge. */
static int job_foreign(bool *out, roar_status_graph *g, sjob *j)
{
    int error;
    if (!j->host_loaded) {
        if ((error = roar_cache_job_host(&j->host, g->cache, j->id)) < 0)
            return error;
        j->host_loaded = true;
    }
    *out = g->host && j->host && j->host[0] && strcmp(j->host, g->host) != 0;
    return 0;
}

/* j reads what r produced: r's unchecked inputs stand behind j's outputs too. */
static void inherit_unchecked(sjob *j, const sjob *r)
{
    if (!j->unchecked && r && r->unchecked) {
        j->unchecked = r->unchecked;
        j->unchecked_host = r->unchecked_host;
        j->unchecked_more = r->unchecked_more;
    }
}

static void worsen(sjob *j, int state, const char *because)
{
    if (state > j->state) {
        j->state = state;
        j->because = because;
    }
}

/* A job being judged: the input edge it is at, and what its inputs said so far. */
struct state_frame {
    sjob *j;
    size_t i; /* while a producer is judged: the edge that led to it */
    int state;
    const char *because;
};

/* Marks j as being judged and puts it on the walk's stack. */
static int state_push(roar_status_graph *g, size_t *n, sjob *j)
{
    int error;
    if ((error = load_edges(g, j)) < 0)
        return error;
    if (ROAR_ALLOC_GROW(g->state_stack, *n + 1, g->state_alloc) < 0)
        return oom();
    g->state_stack[*n] = (struct state_frame){j, 0, ROAR_STATUS_OK, NULL};
    (*n)++;
    j->state = STATE_BUSY;
    return 0;
}

/* OK, UNKNOWN or STALE, from the job's inputs (status.h). A cycle back to a job being
 * judged counts as ok: the cycle's other edges decide. Depth first, one frame per job
 * on an explicit stack: a producer's state is known before its reader goes on. */
static int job_state(int *out, roar_status_graph *g, sjob *root)
{
    size_t n = 0;
    int error, sub = ROAR_STATUS_OK;
    bool have_sub = false, foreign, changed;
    sjob *sub_job = NULL;

    if (root->state == STATE_BUSY) {
        *out = ROAR_STATUS_OK;
        return 0;
    }
    if (root->state != STATE_UNSEEN) {
        *out = root->state;
        return 0;
    }
    if ((error = state_push(g, &n, root)) < 0)
        return error;
    while (n) {
        struct state_frame *f = &g->state_stack[n - 1];
        sjob *j = f->j, *r = NULL;

        if (have_sub) { /* the producer behind edge i was judged */
            inherit_unchecked(j, sub_job);
            if (sub > f->state) {
                f->state = sub;
                f->because = j->edges[f->i]->path;
            }
            f->i++;
            have_sub = false;
        }
        for (; f->i < j->nedges && f->state != ROAR_STATUS_STALE; f->i++) {
            edge_atom *e = j->edges[f->i];
            const roar_scope_output *pe;
            const current_info *ci;

            if (e->role != ROAR_ROLE_IN)
                continue;
            if (e->path[0] == '/') {
                if ((error = job_foreign(&foreign, g, j)) < 0)
                    goto fail;
                if (foreign) { /* another host's file: not checked (SPEC §6.2) */
                    if (j->unchecked && j->unchecked_host == j->host) {
                        j->unchecked_more++;
                    } else { /* its own come before any upstream's */
                        j->unchecked = e->path;
                        j->unchecked_host = j->host;
                        j->unchecked_more = 0;
                    }
                    continue;
                }
            }
            if (!e->id_known) {
                if (f->state < ROAR_STATUS_UNKNOWN) {
                    f->state = ROAR_STATUS_UNKNOWN;
                    f->because = e->path;
                }
                continue;
            }
            r = NULL;
            if ((error = job_changed(&changed, j, e->path)) < 0)
                goto fail;
            if (changed) {
                if ((error = producer_before(&r, g, j, e->path, e->id)) < 0)
                    goto fail;
            } else {
                if ((error = current_of(&ci, g, e)) < 0)
                    goto fail;
                if (ci->unknown) {
                    if (f->state < ROAR_STATUS_UNKNOWN) {
                        f->state = ROAR_STATUS_UNKNOWN;
                        f->because = e->path;
                    }
                    continue;
                }
                if (!ci->exists || strcmp(ci->id, e->id)) {
                    f->state = ROAR_STATUS_STALE;
                    f->because = e->path;
                    break;
                }
                /* The file holds what was read: whether that is current depends on the
                 * job that wrote it, when that job's output is exactly this content. */
                pe = producer_of(g, e);
                if (pe && strcmp(pe->job_id, j->id) && pe->id_known && !strcmp(pe->id, e->id) &&
                    (error = producer_job(&r, g, e)) < 0)
                    goto fail;
            }
            if (!r)
                continue;
            if (r->state == STATE_UNSEEN)
                break; /* judge r first, then come back to this edge */
            sub = r->state == STATE_BUSY ? ROAR_STATUS_OK : r->state;
            inherit_unchecked(j, r);
            if (sub > f->state) {
                f->state = sub;
                f->because = e->path;
            }
            r = NULL;
        }
        if (r) {
            if ((error = state_push(g, &n, r)) < 0)
                goto fail;
            continue;
        }
        j->state = STATE_UNSEEN;
        worsen(j, f->state, f->because);
        sub = j->state;
        sub_job = j;
        have_sub = true;
        n--;
    }
    *out = sub;
    return 0;
fail:
    while (n)
        g->state_stack[--n].j->state = STATE_UNSEEN;
    return error;
}

/* ---- plans ------------------------------------------------------------------- */


/* A job whose inputs' producers are being planned: the next input edge to look at. */
struct plan_frame {
    sjob *j;
    size_t i;
};

/* Whether j is to be planned now (*push): not already done or under way, and needing a
 * rerun or `forced`. Marks it under way; a job that needs nothing is marked skipped. */
static int plan_enter(bool *push, roar_status_graph *g, sjob *j, bool forced)
{
    int error;

    *push = false;
    if (j->plan == PLAN_BUSY || j->plan == PLAN_DONE || (j->plan == PLAN_SKIPPED && !forced))
        return 0;
    if (!forced && !j->needs_rerun) {
        j->plan = PLAN_SKIPPED;
        return 0;
    }
    if ((error = load_edges(g, j)) < 0)
        return error;
    j->plan = PLAN_BUSY;
    *push = true;
    return 0;
}

/* Post-order over the producers of j's inputs: dependencies land in `out` first.
 * `forced`: j must run whatever its outputs say (it restores what a later job read
 * and then updated in place). Depth first on an explicit stack, one frame per job. */
static int plan_visit(roar_cache_id_list *out, roar_status_graph *g, sjob *root, bool forced)
{
    size_t n = 0;
    bool push;
    int error;

    if ((error = plan_enter(&push, g, root, forced)) < 0 || !push)
        return error;
    if (ROAR_ALLOC_GROW(g->plan_stack, 1, g->plan_alloc) < 0)
        return oom();
    g->plan_stack[n++] = (struct plan_frame){root, 0};
    while (n) {
        struct plan_frame *f = &g->plan_stack[n - 1];
        sjob *j = f->j, *r = NULL;
        bool r_forced = false, changed;

        while (f->i < j->nedges && !r) {
            edge_atom *e = j->edges[f->i++];
            const roar_scope_output *pe;
            const current_info *ci;

            r_forced = false;
            if (e->role != ROAR_ROLE_IN)
                continue;
            if (e->id_known && (error = job_changed(&changed, j, e->path)) < 0)
                return error;
            if (e->id_known && changed) {
                if ((error = current_of(&ci, g, e)) < 0)
                    return error;
                if (ci->exists && !strcmp(ci->id, e->id))
                    continue; /* what it read is there again */
                if ((error = producer_before(&r, g, j, e->path, e->id)) < 0)
                    return error;
                r_forced = true;
                continue;
            }
            if ((pe = producer_of(g, e)) != NULL && strcmp(pe->job_id, j->id) &&
                (error = producer_job(&r, g, e)) < 0)
                return error;
        }
        if (r) {
            if ((error = plan_enter(&push, g, r, r_forced)) < 0)
                return error;
            if (push) {
                if (ROAR_ALLOC_GROW(g->plan_stack, n + 1, g->plan_alloc) < 0)
                    return oom();
                g->plan_stack[n++] = (struct plan_frame){r, 0};
            }
            continue;
        }
        j->plan = PLAN_DONE;
        n--;
        if ((error = roar_cache_id_list_add(out, j->id, false)) < 0)
            return error;
    }
    return 0;
}

static void plan_reset(roar_status_graph *g)
{
    for (size_t i = 0; i < g->jobs.cap; i++)
        if (g->jobs.slots[i].key)
            ((sjob *)g->jobs.slots[i].value)->plan = PLAN_NONE;
}

int roar_status_plan(roar_cache_id_list *out, roar_status *st, const char *job_id)
{
    roar_status_graph *g = st->graph;
    sjob *j;
    int error;

    out->count = 0;
    plan_reset(g);
    if ((error = get_job(&j, g, job_id)) < 0 || (error = load_edges(g, j)) < 0)
        return error;
    return plan_visit(out, g, j, false);
}

/* ---- status ------------------------------------------------------------------ */

void roar_status_dispose(roar_status *st)
{
    if (!st)
        return;
    for (size_t i = 0; i < st->count; i++)
        free(st->outputs[i].path);
    free(st->outputs);
    roar_cache_id_list_dispose(&st->rerun);
    graph_free(st->graph);
    *st = (roar_status)ROAR_STATUS_INIT;
}

const roar_status_output *roar_status_find(const roar_status *st, const char *path)
{
    size_t lo = 0, hi = st->count;
    while (lo < hi) { /* outputs are sorted by path, as memcmp orders them */
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(st->outputs[mid].path, path);
        if (!c)
            return &st->outputs[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Producers (scope.h: the newest in-scope writer of each path, deletions retiring
 * paths), one output each. */
static int find_producers(roar_status *st, roar_status_graph *g)
{
    int error;
    size_t i;

    if ((error = roar_scope_outputs(&g->outs, g->scope, NULL)) < 0)
        return error;
    for (i = 0; i < g->outs.count; i++) {
        const roar_scope_output *e = &g->outs.items[i];
        roar_status_output *o;
        if (roar_keymap_puts(&g->producer, e->path, (void *)(uintptr_t)(i + 1)) < 0 ||
            ROAR_ALLOC_GROW(st->outputs, st->count + 1, st->alloc) < 0)
            return oom();
        o = &st->outputs[st->count];
        memset(o, 0, sizeof(*o));
        if (!(o->path = strdup(e->path)))
            return oom();
        st->count++;
        memcpy(o->job, e->job_id, sizeof(o->job));
        o->id_known = e->id_known;
        memcpy(o->id, e->id, sizeof(o->id));
    }
    return 0;
}

/* o's state; j is its producer. */
static int judge(roar_status_output *o, sjob *j, roar_status_graph *g)
{
    const current_info *ci;
    int error, state;

    if ((error = current(&ci, g, o->path)) < 0)
        return error;
    if (ci->unknown) {
        o->state = ROAR_STATUS_UNKNOWN; /* cannot be read: nothing shows it is current */
    } else if (!ci->exists) {
        o->state = ROAR_STATUS_MISSING;
    } else if (o->id_known && strcmp(ci->id, o->id)) {
        o->state = ROAR_STATUS_MODIFIED;
        o->current_known = true;
        memcpy(o->current, ci->id, sizeof(o->current));
    } else {
        if ((error = job_state(&state, g, j)) < 0)
            return error;
        o->state = (roar_status_state)state;
        o->because = j->because;
        o->unchecked = j->unchecked;
        o->unchecked_host = j->unchecked_host;
        o->unchecked_more = j->unchecked_more;
        if (!o->id_known && o->state < ROAR_STATUS_UNKNOWN)
            o->state = ROAR_STATUS_UNKNOWN;
    }
    if (ci->exists && !o->current_known) {
        o->current_known = true;
        memcpy(o->current, ci->id, sizeof(o->current));
    }
    if (o->state >= ROAR_STATUS_STALE)
        j->needs_rerun = true;
    return 0;
}

static int by_end(const void *a, const void *b)
{
    const sjob *x = *(sjob *const *)a, *y = *(sjob *const *)b;
    if (x->end_ms != y->end_ms)
        return x->end_ms < y->end_ms ? -1 : 1;
    return strcmp(x->id, y->id);
}

/* Every job that needs to run, in the order they first ran, each after its inputs'
 * producers (a depth-first post-order is a topological order). */
static int rerun_list(roar_status *st, roar_status_graph *g)
{
    sjob **todo = NULL;
    size_t n = 0, i;
    int error = 0;

    if (!(todo = calloc(g->jobs.count + 1, sizeof(*todo))))
        return oom();
    for (i = 0; i < g->jobs.cap; i++) {
        sjob *j = g->jobs.slots[i].key ? g->jobs.slots[i].value : NULL;
        if (j && j->needs_rerun && (error = load_edges(g, j)) >= 0)
            todo[n++] = j;
        if (error < 0)
            goto done;
    }
    qsort(todo, n, sizeof(*todo), by_end);
    plan_reset(g);
    for (i = 0; i < n && !error; i++)
        error = plan_visit(&st->rerun, g, todo[i], false);
done:
    free(todo);
    return error;
}

/* The scope as the walks ask it: a failure to decide counts as out of scope (the
 * cache errors behind it would have failed the producers already). */
static bool scope_has(const char *job_id, void *payload)
{
    bool in = false;
    if (roar_scope_has(&in, payload, job_id) < 0) {
        roar_error_clear();
        return false;
    }
    return in;
}

int roar_status_compute(roar_status *out, roar_cache *cache, const char *worktree,
                        roar_scope *scope, const char *host)
{
    roar_status_graph *g;
    int error;
    size_t i;

    roar_status_dispose(out);
    if (!(g = calloc(1, sizeof(*g))) || !(g->worktree = strdup(worktree))) {
        free(g);
        return oom();
    }
    out->graph = g;
    if (host && host[0] && !(g->host = strdup(host))) {
        roar_status_dispose(out);
        return oom();
    }
    g->cache = cache;
    g->scope = scope;
    g->in_scope = scope_has;
    g->payload = scope;
    g->producer = (roar_keymap)ROAR_KEYMAP_INIT;
    g->jobs = (roar_keymap)ROAR_KEYMAP_INIT;
    g->current = (roar_keymap)ROAR_KEYMAP_INIT;
    g->atoms = (roar_keymap)ROAR_KEYMAP_INIT;
    g->paths = (roar_keymap)ROAR_KEYMAP_INIT;
    roar_buf_init(&g->atom_key);
    g->jtmp = (roar_cache_edge_list)ROAR_CACHE_EDGE_LIST_INIT;
    g->outs = (roar_scope_output_list)ROAR_SCOPE_OUTPUT_LIST_INIT;
    g->tmp = (roar_cache_edge_list)ROAR_CACHE_EDGE_LIST_INIT;
    roar_buf_init(&g->abs);

    /* One transaction for the stat cache rows of the files hashed on the way. */
    if ((error = roar_cache_begin(cache)) < 0)
        goto fail;
    if ((error = find_producers(out, g)) < 0)
        goto rollback;
    if (!(g->out_jobs = calloc(g->outs.count + 1, sizeof(*g->out_jobs)))) {
        error = oom();
        goto rollback;
    }
    if ((error = load_producer_edges(g)) < 0)
        goto rollback;
    for (i = 0; i < out->count; i++)
        if ((error = judge(&out->outputs[i], g->out_jobs[i], g)) < 0)
            goto rollback;
    if ((error = rerun_list(out, g)) < 0)
        goto rollback;
    if (roar_cache_commit(cache) < 0)
        roar_error_clear(); /* only the stat cache rows are lost: derived data */
    return 0;

rollback:
    roar_cache_rollback(cache);
fail:
    roar_status_dispose(out);
    return error;
}
