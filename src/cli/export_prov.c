/* `git roar export --format prov-json`: the selected jobs as one W3C PROV-JSON document
 * (entities = contents, activities = jobs, agents = who ran them). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "cli/check.h"
#include "cli/cli.h"
#include "cli/export.h"
#include "util/json.h"

/* ---- W3C PROV-JSON -------------------------------------------------------------- */

/* An agent's qualified name, as a JSON string whatever bytes the user name holds. */
static void put_agent(roar_buf *out, const char *user)
{
    roar_buf id = ROAR_BUF_INIT;
    CHECK(roar_buf_printf(&id, "agent:%s", user));
    CHECK(roar_json_string(out, id.ptr, id.size, NULL));
    roar_buf_dispose(&id);
}

/* The `used` (inputs, at the job's start) or `wasGeneratedBy` (outputs, at its end)
 * relations of every job's edges whose content is known, numbered on from *n. */
static void put_prov_edges(roar_buf *out, const roar_export_jobs *set, roar_role role, size_t *n)
{
    bool first = true;
    size_t i, e;

    for (i = 0; i < set->count; i++) {
        const roar_job *job = &set->items[i].job;
        for (e = 0; e < job->edge_count; e++) {
            const roar_edge *edge = &job->edges[e];
            if (edge->role != role || !edge->id_known)
                continue;
            if (role == ROAR_ROLE_IN)
                CHECK(roar_buf_printf(out,
                                      "%s\n\"_:u%zu\":{\"prov:activity\":\"job:%s\","
                                      "\"prov:entity\":\"blob:%s\",\"prov:time\":\"",
                                      first ? "" : ",", ++*n, job->id, edge->id));
            else
                CHECK(roar_buf_printf(out,
                                      "%s\n\"_:g%zu\":{\"prov:entity\":\"blob:%s\","
                                      "\"prov:activity\":\"job:%s\",\"prov:time\":\"",
                                      first ? "" : ",", ++*n, edge->id, job->id));
            roar_export_put_time(out, role == ROAR_ROLE_IN ? job->start_ms : job->end_ms);
            CHECK(roar_buf_puts(out, "\",\"roar:path\":"));
            CHECK(roar_json_cstr(out, edge->path));
            CHECK(roar_buf_putc(out, '}'));
            first = false;
        }
    }
}

/* Entities are contents (blob ids): one content read by one job and written by another
 * is one entity, which is what joins the graph. Its label is the first path seen. */
void roar_export_prov(roar_buf *out, const roar_export_jobs *set)
{
    size_t i, e, n = 0;
    bool first = true;

    CHECK(roar_buf_puts(out, "{\"prefix\":{\"roar\":\"https://git-roar.invalid/ns#\","
                             "\"blob\":\"urn:git:blob:\",\"job\":\"urn:git-roar:job:\","
                             "\"agent\":\"urn:git-roar:agent:\"},\n\"entity\":{"));
    /* Each blob once: a linear scan over earlier edges keeps it simple and exact. */
    for (i = 0; i < set->count; i++) {
        const roar_job *job = &set->items[i].job;
        for (e = 0; e < job->edge_count; e++) {
            const roar_edge *edge = &job->edges[e];
            size_t pi, pe;
            bool seen = false;
            if (edge->role == ROAR_ROLE_DEL || !edge->id_known)
                continue;
            for (pi = 0; pi <= i && !seen; pi++) {
                const roar_job *pj = &set->items[pi].job;
                for (pe = 0; pe < (pi == i ? e : pj->edge_count) && !seen; pe++)
                    seen = pj->edges[pe].role != ROAR_ROLE_DEL && pj->edges[pe].id_known &&
                           !strcmp(pj->edges[pe].id, edge->id);
            }
            if (seen)
                continue;
            CHECK(roar_buf_printf(out, "%s\n\"blob:%s\":{\"prov:label\":", first ? "" : ",",
                                  edge->id));
            CHECK(roar_json_cstr(out, edge->path));
            CHECK(roar_buf_printf(out, ",\"roar:size\":%llu,\"prov:type\":\"roar:file\"}",
                                  (unsigned long long)edge->size));
            first = false;
        }
    }
    CHECK(roar_buf_puts(out, "},\n\"activity\":{"));
    for (i = 0; i < set->count; i++) {
        const roar_job *job = &set->items[i].job;
        CHECK(roar_buf_printf(out, "%s\n\"job:%s\":{\"prov:startTime\":\"", i ? "," : "", job->id));
        roar_export_put_time(out, job->start_ms);
        CHECK(roar_buf_puts(out, "\",\"prov:endTime\":\""));
        roar_export_put_time(out, job->end_ms);
        CHECK(roar_buf_puts(out, "\",\"prov:label\":"));
        roar_export_put_command(out, job);
        CHECK(roar_buf_printf(out, ",\"roar:%s\":%d,\"prov:type\":\"roar:job\"}",
                              job->end_kind == ROAR_END_SIGNAL ? "signal" : "exit", job->end_code));
    }
    CHECK(roar_buf_puts(out, "},\n\"agent\":{"));
    first = true;
    for (i = 0; i < set->count; i++) {
        const roar_job *job = &set->items[i].job;
        size_t k;
        bool seen = false;
        if (!job->user)
            continue;
        for (k = 0; k < i && !seen; k++)
            seen = set->items[k].job.user && !strcmp(set->items[k].job.user, job->user);
        if (seen)
            continue;
        CHECK(roar_buf_puts(out, first ? "\n" : ",\n"));
        put_agent(out, job->user);
        CHECK(roar_buf_puts(out, ":{\"prov:type\":\"prov:Person\",\"prov:label\":"));
        CHECK(roar_json_cstr(out, job->user));
        CHECK(roar_buf_putc(out, '}'));
        first = false;
    }
    CHECK(roar_buf_puts(out, "},\n\"used\":{"));
    put_prov_edges(out, set, ROAR_ROLE_IN, &n);
    CHECK(roar_buf_puts(out, "},\n\"wasGeneratedBy\":{"));
    put_prov_edges(out, set, ROAR_ROLE_OUT, &n);
    CHECK(roar_buf_puts(out, "},\n\"wasAssociatedWith\":{"));
    first = true;
    for (i = 0; i < set->count; i++) {
        const roar_job *job = &set->items[i].job;
        if (!job->user)
            continue;
        CHECK(roar_buf_printf(out, "%s\n\"_:a%zu\":{\"prov:activity\":\"job:%s\",\"prov:agent\":",
                              first ? "" : ",", ++n, job->id));
        put_agent(out, job->user);
        CHECK(roar_buf_putc(out, '}'));
        first = false;
    }
    CHECK(roar_buf_puts(out, "}}\n"));
}
