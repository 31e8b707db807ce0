/* A job's steps (SPEC §4.9) as `show` prints them: the step lines' positions turned
 * back into the paths of the job's `out` and `in` edges. */
#include "cli/query.h"

#include <stdlib.h>

#include "util/err.h"
#include "util/json.h"

/* The edges of one role, in record order (a step's positions index them). */
typedef struct {
    const roar_edge **v;
    size_t n;
} role_edges;

static int edges_of(role_edges *out, const roar_job *job, roar_role role)
{
    size_t i;
    out->n = 0;
    if (!(out->v = malloc((job->edge_count + 1) * sizeof(*out->v))))
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    for (i = 0; i < job->edge_count; i++)
        if (job->edges[i].role == role)
            out->v[out->n++] = &job->edges[i];
    return 0;
}

/* The paths at the spans' positions: text (", " between) or a JSON array. */
static int put_spans(roar_buf *out, const roar_span *s, size_t n, const role_edges *e, bool json)
{
    size_t i, k, count = 0;
    int error;
    if (json && (error = roar_buf_putc(out, '[')) < 0)
        return error;
    for (i = 0; i < n; i++)
        for (k = s[i].lo; k <= s[i].hi && k < e->n; k++) {
            if (count++ && (error = roar_buf_puts(out, json ? "," : ", ")) < 0)
                return error;
            if ((error = json ? roar_json_cstr(out, e->v[k]->path)
                              : roar_query_put_path(out, e->v[k]->path)) < 0)
                return error;
        }
    if (!json && !count)
        return roar_buf_puts(out, "(no input)");
    return json ? roar_buf_putc(out, ']') : 0;
}

static int put_steps(roar_buf *out, const roar_job *job, bool json)
{
    role_edges ins = {0}, outs = {0};
    size_t i;
    int error = 0;

    if (json && !job->steps.count)
        return roar_buf_puts(out, "[]");
    if (!job->steps.count)
        return 0;
    if ((error = edges_of(&ins, job, ROAR_ROLE_IN)) < 0 ||
        (error = edges_of(&outs, job, ROAR_ROLE_OUT)) < 0)
        goto done;
    error = json ? roar_buf_putc(out, '[')
                 : roar_buf_printf(out, "\nsteps (%zu): what each output depends on\n",
                                   job->steps.count);
    for (i = 0; i < job->steps.count && error >= 0; i++) {
        const roar_step *s = &job->steps.v[i];
        if ((error = roar_buf_puts(out, json ? (i ? ",{\"outputs\":" : "{\"outputs\":") : "  ")) <
                0 ||
            (error = put_spans(out, s->outs, s->nouts, &outs, json)) < 0 ||
            (error = roar_buf_puts(out, json ? ",\"inputs\":" : "  <-  ")) < 0 ||
            (error = put_spans(out, s->ins, s->nins, &ins, json)) < 0)
            break;
        error = roar_buf_puts(out, json ? "}" : "\n");
    }
    if (error >= 0)
        error = json ? roar_buf_putc(out, ']')
                     : roar_buf_puts(out, "  (any other output: every input)\n");
done:
    free(ins.v);
    free(outs.v);
    return error < 0 ? error : 0;
}

int roar_query_text_steps(roar_buf *out, const roar_job *job)
{
    return put_steps(out, job, false);
}

int roar_query_json_steps(roar_buf *out, const roar_job *job)
{
    return put_steps(out, job, true);
}
