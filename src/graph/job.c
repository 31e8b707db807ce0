/* Construction, ordering and comparison of roar_job; see job.h.
 * Every setter copies, so callers never hand over ownership by accident. */
#include "graph/job.h"
#include "util/buf.h"
#include "util/err.h"

#include <stdlib.h>
#include <string.h>

static char *dup_or_fail(const char *s, int *error)
{
    char *copy;
    if (!s)
        return NULL;
    copy = strdup(s);
    if (!copy)
        *error = roar_error_set(ROAR_ENOMEM, "out of memory");
    return copy;
}

void roar_job_init(roar_job *job)
{
    memset(job, 0, sizeof(*job));
}

static void free_kvs(roar_kv *kv, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(kv[i].key);
        free(kv[i].value);
    }
    free(kv);
}

void roar_job_dispose(roar_job *job)
{
    if (!job)
        return;
    for (size_t i = 0; i < job->argc; i++)
        free(job->argv[i]);
    free(job->argv);
    free(job->cwd);
    free(job->tracer);
    free(job->host);
    free(job->user);
    free_kvs(job->env, job->env_count);
    free_kvs(job->extra, job->extra_count);
    for (size_t i = 0; i < job->edge_count; i++)
        free(job->edges[i].path);
    free(job->edges);
    for (size_t i = 0; i < job->incomplete_count; i++) {
        free(job->incomplete[i].reason);
        free(job->incomplete[i].path);
    }
    free(job->incomplete);
    roar_steps_dispose(&job->steps);
    roar_job_init(job);
}

int roar_job_set_argv(roar_job *job, const char *const *argv, size_t argc)
{
    int error = 0;
    char **copy = calloc(argc + 1, sizeof(*copy));

    if (!copy)
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    for (size_t i = 0; i < argc && !error; i++)
        copy[i] = dup_or_fail(argv[i], &error);
    if (error) {
        for (size_t i = 0; i < argc; i++)
            free(copy[i]);
        free(copy);
        return error;
    }
    for (size_t i = 0; i < job->argc; i++)
        free(job->argv[i]);
    free(job->argv);
    job->argv = copy;
    job->argc = argc;
    return 0;
}

int roar_job_add_edge(roar_job *job, roar_role role, const char *path, const char *id_or_null,
                      uint64_t size)
{
    int error = 0;
    roar_edge *e;

    if (id_or_null && strlen(id_or_null) != ROAR_OID_HEXSZ)
        return roar_error_set(ROAR_EINVALID, "invalid blob id '%s'", id_or_null);
    if ((error = ROAR_ALLOC_GROW(job->edges, job->edge_count + 1, job->edge_alloc)) < 0)
        return error;
    e = &job->edges[job->edge_count];
    memset(e, 0, sizeof(*e));
    e->role = role;
    e->size = size;
    if (id_or_null) {
        e->id_known = true;
        memcpy(e->id, id_or_null, ROAR_OID_HEXSZ + 1);
    }
    if (!(e->path = dup_or_fail(path, &error)))
        return error ? error : roar_error_set(ROAR_EINVALID, "edge without a path");
    job->edge_count++;
    return 0;
}

static int add_kv(roar_kv **arr, size_t *count, size_t *alloc, const char *k, const char *v)
{
    int error = 0;
    roar_kv kv;

    if ((error = ROAR_ALLOC_GROW(*arr, *count + 1, *alloc)) < 0)
        return error;
    kv.key = dup_or_fail(k, &error);
    kv.value = dup_or_fail(v, &error);
    if (error) {
        free(kv.key);
        free(kv.value);
        return error;
    }
    (*arr)[(*count)++] = kv;
    return 0;
}

int roar_job_add_env(roar_job *job, const char *name, const char *value)
{
    return add_kv(&job->env, &job->env_count, &job->env_alloc, name, value);
}

int roar_job_add_extra(roar_job *job, const char *key, const char *value)
{
    return add_kv(&job->extra, &job->extra_count, &job->extra_alloc, key, value);
}

int roar_job_add_incomplete(roar_job *job, const char *reason, bool has_count, uint64_t count,
                            const char *path_or_null)
{
    int error = 0;
    roar_incomplete inc = {0};

    if ((error = ROAR_ALLOC_GROW(job->incomplete, job->incomplete_count + 1,
                                 job->incomplete_alloc)) < 0)
        return error;
    inc.has_count = has_count;
    inc.count = count;
    inc.reason = dup_or_fail(reason, &error);
    inc.path = dup_or_fail(path_or_null, &error);
    if (error || !inc.reason) {
        free(inc.reason);
        free(inc.path);
        return error ? error : roar_error_set(ROAR_EINVALID, "incomplete without a reason");
    }
    job->incomplete[job->incomplete_count++] = inc;
    return 0;
}

static int edge_cmp(const void *pa, const void *pb)
{
    const roar_edge *a = pa, *b = pb;
    size_t la, lb;
    int c;

    if (a->role != b->role)
        return a->role < b->role ? -1 : 1;
    la = strlen(a->path);
    lb = strlen(b->path);
    c = memcmp(a->path, b->path, la < lb ? la : lb);
    if (c)
        return c;
    return la < lb ? -1 : la > lb;
}

bool roar_job_edges_sorted(const roar_job *job)
{
    for (size_t i = 1; i < job->edge_count; i++)
        if (edge_cmp(&job->edges[i - 1], &job->edges[i]) > 0)
            return false;
    return true;
}

void roar_job_sort(roar_job *job)
{
    if (job->edge_count > 1)
        qsort(job->edges, job->edge_count, sizeof(*job->edges), edge_cmp);
}

static bool str_eq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

static bool kvs_eq(const roar_kv *a, size_t na, const roar_kv *b, size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++)
        if (!str_eq(a[i].key, b[i].key) || !str_eq(a[i].value, b[i].value))
            return false;
    return true;
}

bool roar_job_equal(const roar_job *a, const roar_job *b)
{
    if (strcmp(a->id, b->id) || a->argc != b->argc || !str_eq(a->cwd, b->cwd) ||
        a->has_base != b->has_base || (a->has_base && strcmp(a->base, b->base)) ||
        a->dirty != b->dirty || !str_eq(a->tracer, b->tracer) || !str_eq(a->host, b->host) ||
        !str_eq(a->user, b->user) || a->start_ms != b->start_ms || a->end_ms != b->end_ms ||
        a->end_kind != b->end_kind || a->end_code != b->end_code ||
        a->edge_count != b->edge_count || a->incomplete_count != b->incomplete_count ||
        !roar_steps_equal(&a->steps, &b->steps))
        return false;
    for (size_t i = 0; i < a->argc; i++)
        if (!str_eq(a->argv[i], b->argv[i]))
            return false;
    if (!kvs_eq(a->env, a->env_count, b->env, b->env_count) ||
        !kvs_eq(a->extra, a->extra_count, b->extra, b->extra_count))
        return false;
    for (size_t i = 0; i < a->edge_count; i++) {
        const roar_edge *x = &a->edges[i], *y = &b->edges[i];
        if (x->role != y->role || !str_eq(x->path, y->path) || x->id_known != y->id_known ||
            (x->id_known && strcmp(x->id, y->id)) || x->size != y->size)
            return false;
    }
    for (size_t i = 0; i < a->incomplete_count; i++) {
        const roar_incomplete *x = &a->incomplete[i], *y = &b->incomplete[i];
        if (!str_eq(x->reason, y->reason) || x->has_count != y->has_count ||
            (x->has_count && x->count != y->count) || !str_eq(x->path, y->path))
            return false;
    }
    return true;
}
