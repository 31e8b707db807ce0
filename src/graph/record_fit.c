/* Making a job fit the record limits (SPEC §5.1) instead of losing it after its command
 * ran (issue 16 item 5): a cut command line, dropped over-long env values, and edges
 * beyond the record size, each marked `incomplete`. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/record.h"
#include "util/err.h"
#include "util/quote.h"

/* Room kept for the marker element and what a line needs besides the value. */
#define FIT_SLACK 256

/* Bytes element i takes once quoted (argv[0] by the argv rule, the others as words). */
static int quoted_len(size_t *out, roar_buf *scratch, const char *const *argv, size_t i, size_t len)
{
    int error;
    roar_buf_clear(scratch);
    if (i == 0 && len == strlen(argv[0]))
        error = roar_quote_argv(scratch, argv, 1);
    else
        error = roar_quote_arg(scratch, argv[i], len);
    *out = scratch->size;
    return error;
}

static int fit_command(size_t *cut, roar_job *job)
{
    const char *const *argv = (const char *const *)job->argv;
    roar_buf scratch = ROAR_BUF_INIT, marker = ROAR_BUF_INIT;
    const char **kept = NULL;
    char *partial = NULL;
    size_t budget = ROAR_RECORD_MAX_LINE - FIT_SLACK, used = 0, k, n, len, lo, hi;
    int error = 0;

    *cut = 0;
    for (k = 0; k < job->argc; k++) {
        if ((error = quoted_len(&n, &scratch, argv, k, strlen(argv[k]))) < 0)
            goto cleanup;
        if (used + (k > 0) + n > budget)
            break;
        used += (k > 0) + n;
    }
    if (k == job->argc)
        goto cleanup; /* it fits */
    /* Element k does not fit whole. A big one (a huge `sh -c` script) keeps its longest
     * prefix that fits; a small one goes whole, since "12" for "12729" would mislead.
     * Then a marker element. */
    lo = 0;
    hi = strlen(argv[k]) > 4096 ? strlen(argv[k]) : 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo + 1) / 2;
        if ((error = quoted_len(&n, &scratch, argv, k == 0 ? 1 : k, mid)) < 0)
            goto cleanup;
        if (used + 1 + n <= budget)
            lo = mid;
        else
            hi = mid - 1;
    }
    len = lo;
    *cut = job->argc - k;
    if (!(kept = calloc(k + 3, sizeof(*kept)))) {
        error = roar_error_set(ROAR_ENOMEM, "out of memory");
        goto cleanup;
    }
    memcpy(kept, argv, k * sizeof(*kept));
    n = k;
    if (len > 0) {
        if (!(partial = strndup(argv[k], len))) {
            error = roar_error_set(ROAR_ENOMEM, "out of memory");
            goto cleanup;
        }
        kept[n++] = partial;
    }
    if ((error = roar_buf_printf(&marker, ROAR_RECORD_CUT_MARKER ", %zu of %zu arguments %s]", *cut,
                                 job->argc, len ? "cut or left out" : "left out")) < 0)
        goto cleanup;
    kept[n++] = marker.ptr;
    error = roar_job_set_argv(job, kept, n);

cleanup:
    free(kept);
    free(partial);
    roar_buf_dispose(&scratch);
    roar_buf_dispose(&marker);
    return error;
}

/* env values are a user's choice (roar.env): one too long for a line is left out. */
static int fit_env(size_t *dropped, roar_job *job)
{
    roar_buf scratch = ROAR_BUF_INIT;
    size_t i = 0;
    int error = 0;

    *dropped = 0;
    while (i < job->env_count) {
        roar_kv *kv = &job->env[i];
        roar_buf_clear(&scratch);
        if (kv->value && (error = roar_quote_arg(&scratch, kv->value, strlen(kv->value))) < 0)
            break;
        if (!kv->key || strlen(kv->key) + scratch.size + FIT_SLACK <= ROAR_RECORD_MAX_LINE) {
            i++;
            continue;
        }
        free(kv->key);
        free(kv->value);
        memmove(kv, kv + 1, (job->env_count - i - 1) * sizeof(*kv));
        job->env_count--;
        (*dropped)++;
    }
    roar_buf_dispose(&scratch);
    return error;
}

/* The bytes of one edge line. */
static int edge_len(size_t *out, roar_buf *scratch, const roar_edge *e)
{
    char num[32];
    int error;

    roar_buf_clear(scratch);
    if ((error = roar_quote_path(scratch, e->path, strlen(e->path))) < 0)
        return error;
    if (e->role == ROAR_ROLE_DEL) {
        *out = 4 + scratch->size + 1;
        return 0;
    }
    snprintf(num, sizeof(num), "%" PRIu64, e->size);
    *out = (e->role == ROAR_ROLE_IN ? 3 : 4) + (e->id_known ? ROAR_OID_HEXSZ : 1) + 1 +
           strlen(num) + 1 + scratch->size + 1;
    return 0;
}

/* Keeps the edges that fit in `room` bytes: outputs and deletions first (what status
 * and lineage ask about), then inputs, each in path order; drops the others. */
static int fit_edges(size_t *dropped, roar_job *job, size_t room)
{
    roar_buf scratch = ROAR_BUF_INIT;
    size_t *lens = NULL, used = 0, i, w;
    bool *keep = NULL;
    int pass, error = 0;

    *dropped = 0;
    if (!(lens = calloc(job->edge_count + 1, sizeof(*lens))) ||
        !(keep = calloc(job->edge_count + 1, sizeof(*keep)))) {
        error = roar_error_set(ROAR_ENOMEM, "out of memory");
        goto cleanup;
    }
    for (i = 0; i < job->edge_count; i++)
        if ((error = edge_len(&lens[i], &scratch, &job->edges[i])) < 0)
            goto cleanup;
    for (pass = 0; pass < 2; pass++)
        for (i = 0; i < job->edge_count; i++) {
            bool is_in = job->edges[i].role == ROAR_ROLE_IN;
            if (is_in != (pass == 1) || used + lens[i] > room)
                continue;
            used += lens[i];
            keep[i] = true;
        }
    for (i = w = 0; i < job->edge_count; i++) {
        if (keep[i]) {
            job->edges[w++] = job->edges[i];
            continue;
        }
        free(job->edges[i].path);
        (*dropped)++;
    }
    job->edge_count = w;

cleanup:
    free(lens);
    free(keep);
    roar_buf_dispose(&scratch);
    return error;
}

int roar_record_fit(roar_record_fit_result *out, roar_job *job)
{
    roar_buf text = ROAR_BUF_INIT, scratch = ROAR_BUF_INIT;
    roar_record_fit_result r;
    roar_steps steps = {0};
    size_t edges, i, len, total = 0;
    int error;

    memset(&r, 0, sizeof(r));
    if ((error = fit_command(&r.command_cut, job)) < 0 ||
        (r.command_cut && (error = roar_job_add_incomplete(job, "command-truncated", true,
                                                           r.command_cut, NULL)) < 0) ||
        (error = fit_env(&r.env_dropped, job)) < 0 ||
        (r.env_dropped &&
         (error = roar_job_add_incomplete(job, "env-truncated", true, r.env_dropped, NULL)) < 0))
        goto cleanup;

    /* The steps name edges by position: a step line too long for a line, or any edge
     * left out below, and the job goes without steps (every output depends on every
     * input: wider, never wrong). Out of the job while the rest is measured. */
    steps = job->steps;
    memset(&job->steps, 0, sizeof(job->steps));
    for (i = 0; i < steps.count; i++) {
        roar_buf_clear(&scratch);
        if ((error = roar_steps_format_value(&scratch, &steps.v[i])) < 0)
            goto cleanup;
        if (scratch.size + sizeof("step \n") > ROAR_RECORD_MAX_LINE) {
            roar_steps_dispose(&steps);
            total = 0;
            break;
        }
        total += scratch.size + sizeof("step \n") - 1;
    }

    /* The record without its edges, then the edges' own lines: over the limit, the
     * edges that do not fit go, counted in `incomplete record-truncated N`. */
    for (i = 0; i < job->edge_count; i++) {
        if ((error = edge_len(&len, &scratch, &job->edges[i])) < 0)
            goto cleanup;
        total += len;
    }
    edges = job->edge_count;
    job->edge_count = 0;
    error = roar_record_serialize(&text, job);
    job->edge_count = edges;
    if (error < 0)
        goto cleanup;
    if (text.size + total <= ROAR_RECORD_MAX_RECORD) {
        job->steps = steps; /* everything fits, the steps too */
        memset(&steps, 0, sizeof(steps));
        goto cleanup;
    }
    if (text.size + FIT_SLACK >= ROAR_RECORD_MAX_RECORD) {
        error = roar_error_set(ROAR_ELIMIT,
                               "the record would be over the %zu-byte limit "
                               "even without its inputs and outputs",
                               ROAR_RECORD_MAX_RECORD);
        goto cleanup;
    }
    if ((error = fit_edges(&r.edges_dropped, job, ROAR_RECORD_MAX_RECORD - text.size - FIT_SLACK)) <
            0 ||
        (error = roar_job_add_incomplete(job, "record-truncated", true, r.edges_dropped, NULL)) < 0)
        goto cleanup;

cleanup:
    roar_steps_dispose(&steps);
    job->id[0] = '\0';
    if (out)
        *out = r;
    roar_buf_dispose(&text);
    roar_buf_dispose(&scratch);
    return error;
}
