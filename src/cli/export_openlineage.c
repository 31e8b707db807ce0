/* `git roar export --format openlineage`: each selected job as OpenLineage RunEvents
 * (START, then COMPLETE or FAIL), one JSON object per line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "cli/check.h"
#include "cli/cli.h"
#include "cli/export.h"
#include "util/json.h"
#include "util/timefmt.h"

#define OL_PRODUCER "https://git-roar.invalid/git-roar/" ROAR_VERSION
#define OL_SCHEMA "https://openlineage.io/spec/2-0-2/OpenLineage.json#/definitions/RunEvent"
#define OL_FACET_SCHEMA                                                                            \
    "https://openlineage.io/spec/facets/1-0-0/DatasetVersionDatasetFacet.json#/$defs/"             \
    "DatasetVersionDatasetFacet"

/* ---- OpenLineage ---------------------------------------------------------------- */

/* A run id must be a UUID; the job id's first 128 bits with the version (5, name-based
 * SHA-1) and variant bits set make it stable: exporting twice gives the same runs. */
static void put_uuid(roar_buf *out, const char *job_id)
{
    char h[33];
    static const char hex[] = "0123456789abcdef";
    int v;
    memcpy(h, job_id, 32);
    h[32] = 0;
    h[12] = '5';
    v = (int)(strchr(hex, h[16]) - hex);
    h[16] = hex[(v & 0x3) | 0x8];
    CHECK(roar_buf_printf(out, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20));
}

static void ol_datasets(roar_buf *out, const char *key, const roar_job *job, roar_role role,
                        const char *ns)
{
    size_t e;
    bool first = true;
    CHECK(roar_buf_printf(out, ",\"%s\":[", key));
    for (e = 0; e < job->edge_count; e++) {
        const roar_edge *edge = &job->edges[e];
        if (edge->role != role)
            continue;
        CHECK(roar_buf_puts(out, first ? "{\"namespace\":" : ",{\"namespace\":"));
        CHECK(roar_json_cstr(out, ns));
        CHECK(roar_buf_puts(out, ",\"name\":"));
        CHECK(roar_json_cstr(out, edge->path));
        if (edge->id_known)
            CHECK(roar_buf_printf(out,
                                  ",\"facets\":{\"version\":{\"_producer\":\"%s\","
                                  "\"_schemaURL\":\"%s\",\"datasetVersion\":\"%s\"}}",
                                  OL_PRODUCER, OL_FACET_SCHEMA, edge->id));
        CHECK(roar_buf_putc(out, '}'));
        first = false;
    }
    CHECK(roar_buf_putc(out, ']'));
}

static void ol_event(roar_buf *out, const roar_job *job, const char *type, int64_t ms,
                     const char *ns)
{
    CHECK(roar_buf_printf(out, "{\"eventType\":\"%s\",\"eventTime\":\"", type));
    roar_export_put_time(out, ms);
    CHECK(roar_buf_printf(out, "\",\"producer\":\"%s\",\"schemaURL\":\"%s\",\"run\":{\"runId\":\"",
                          OL_PRODUCER, OL_SCHEMA));
    put_uuid(out, job->id);
    CHECK(roar_buf_printf(out, "\",\"facets\":{}},\"job\":{\"namespace\":"));
    CHECK(roar_json_cstr(out, ns));
    CHECK(roar_buf_puts(out, ",\"name\":"));
    roar_export_put_command(out, job);
    CHECK(roar_buf_puts(out, ",\"facets\":{}}"));
    ol_datasets(out, "inputs", job, ROAR_ROLE_IN, ns);
    /* Outputs are known when the run ends, not when it starts. */
    if (strcmp(type, "START") != 0)
        ol_datasets(out, "outputs", job, ROAR_ROLE_OUT, ns);
    else
        CHECK(roar_buf_puts(out, ",\"outputs\":[]"));
    CHECK(roar_buf_puts(out, "}\n"));
}

/* The namespace: git config roar.namespace, else the work tree (or git dir) as a URI. */
static void ol_namespace(roar_buf *out, roar_repo *repo)
{
    git_config *cfg = NULL;
    git_buf val = GIT_BUF_INIT;
    if (git_repository_config_snapshot(&cfg, roar_repo_git(repo)) == 0 &&
        git_config_get_string_buf(&val, cfg, "roar.namespace") == 0 && val.size)
        CHECK(roar_buf_puts(out, val.ptr));
    else
        CHECK(roar_buf_printf(out, "file://%s",
                              roar_repo_worktree(repo) ? roar_repo_worktree(repo)
                                                       : roar_repo_commondir(repo)));
    git_error_clear();
    git_buf_dispose(&val);
    git_config_free(cfg);
}

void roar_export_openlineage(roar_buf *out, const roar_export_jobs *set, roar_repo *repo)
{
    roar_buf ns = ROAR_BUF_INIT;
    size_t i;
    ol_namespace(&ns, repo);
    for (i = 0; i < set->count; i++) {
        const roar_job *job = &set->items[i].job;
        ol_event(out, job, "START", job->start_ms, ns.ptr);
        ol_event(out, job, roar_export_succeeded(job) ? "COMPLETE" : "FAIL", job->end_ms, ns.ptr);
    }
    roar_buf_dispose(&ns);
}
