/* `git roar export --format openlineage`: each selected job as OpenLineage RunEvents
 * (START, then COMPLETE or FAIL), one JSON object per line, per spec 2-0-2. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "cli/check.h"
#include "cli/cli.h"
#include "cli/export.h"
#include "gitstore/remote.h"
#include "util/json.h"
#include "util/redact.h"

#define OL_PRODUCER "https://git-roar.invalid/git-roar/" ROAR_VERSION
#define OL_SCHEMA "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
/* The facets, at the versions of the official schema files (spec/facets/<name>.json); a
 * facet's _schemaURL is its file's $id and the pointer to its definition. */
#define OL_FACET(file, version)                                                                    \
    "https://openlineage.io/spec/facets/" version "/" file ".json#/$defs/" file
#define OL_VERSION_FACET OL_FACET("DatasetVersionDatasetFacet", "1-0-1")
#define OL_LIFECYCLE_FACET OL_FACET("LifecycleStateChangeDatasetFacet", "1-0-1")
#define OL_SOURCE_FACET OL_FACET("SourceCodeLocationJobFacet", "1-1-0")
#define OL_JOBTYPE_FACET OL_FACET("JobTypeJobFacet", "2-0-4")
#define OL_ERROR_FACET OL_FACET("ErrorMessageRunFacet", "1-0-1")

/* What every event of one export shares. */
typedef struct {
    roar_buf ns;       /* the job namespace */
    roar_buf top;      /* the work tree, to make recorded paths absolute ("" if bare) */
    roar_buf repo_url; /* the remote's URL without credentials, or "" */
    roar_buf src_url;  /* the same as a URI (scp-style becomes ssh://), or "" */
} ol_ctx;

static void ol_ctx_dispose(ol_ctx *c)
{
    roar_buf_dispose(&c->ns);
    roar_buf_dispose(&c->top);
    roar_buf_dispose(&c->repo_url);
    roar_buf_dispose(&c->src_url);
}

static void put_facet_head(roar_buf *out, const char *key, const char *schema)
{
    CHECK(roar_buf_printf(out, "\"%s\":{\"_producer\":\"%s\",\"_schemaURL\":\"%s\"", key,
                          OL_PRODUCER, schema));
}

/* Appends s to out with every byte that may not stand in a URI as %XX. A URL keeps
 * its delimiters (`?`, `#`, an escape's `%`); a file path is data, so those are
 * escaped too. */
static void put_uri_bytes(roar_buf *out, const char *s, size_t len, bool path)
{
    const char *keep = path ? "-._~:/@!$&'()*+,;=" : "-._~:/?#[]@!$&'()*+,;=%";
    size_t i;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            (c && strchr(keep, c)))
            CHECK(roar_buf_putc(out, (char)c));
        else
            CHECK(roar_buf_printf(out, "%%%02X", c));
    }
}

/* git's scp-like syntax `[user@]host:path` (no slash before the colon): *host after
 * any user part, *colon at the separator. */
static bool scp_host(const char **host, const char **colon, const char *url)
{
    size_t head = strcspn(url, "/"), i;
    *host = url;
    for (i = 0; i < head; i++)
        if (url[i] == '@')
            *host = url + i + 1;
    *colon = strchr(*host, ':');
    return *colon && *colon != *host && *colon < url + head;
}

/* A remote's URL as the facet shows it: never its credentials (SPEC §8; a token often
 * stands in `https://TOKEN@host/...`), so the user-info part goes, whole, user name
 * included (also in `git@host:path`: not secret, but no part of what names the
 * repository). repo_url gets
 * the URL as git would take it, src_url a URI (sourceCodeLocation.url is format uri):
 * scp-style `host:path` becomes `ssh://host/path`, a local path `file://<absolute>`. */
static void clean_remote_url(ol_ctx *c, const char *url)
{
    const char *scheme = strstr(url, "://"), *slash = strchr(url, '/'), *host, *colon;
    if (scheme && (!slash || scheme < slash)) {
        const char *auth = scheme + 3, *end = auth + strcspn(auth, "/?#"), *at = NULL, *p;
        for (p = auth; p < end; p++)
            if (*p == '@')
                at = p;
        CHECK(roar_buf_put(&c->repo_url, url, (size_t)(auth - url)));
        CHECK(roar_buf_puts(&c->repo_url, at ? at + 1 : auth));
        put_uri_bytes(&c->src_url, c->repo_url.ptr, c->repo_url.size, false);
    } else if (scp_host(&host, &colon, url)) {
        CHECK(roar_buf_puts(&c->repo_url, host));
        CHECK(roar_buf_puts(&c->src_url, "ssh://"));
        put_uri_bytes(&c->src_url, host, (size_t)(colon - host), false);
        CHECK(roar_buf_puts(&c->src_url, colon[1] == '/' ? "" : "/"));
        put_uri_bytes(&c->src_url, colon + 1, strlen(colon + 1), false);
    } else {
        /* git takes a relative path from the top of the work tree. */
        roar_buf path = ROAR_BUF_INIT;
        char *abs;
        if (url[0] != '/' && c->top.size)
            CHECK(roar_buf_printf(&path, "%s/", c->top.ptr));
        CHECK(roar_buf_puts(&path, url));
        abs = realpath(path.ptr, NULL);
        CHECK(roar_buf_puts(&c->repo_url, abs ? abs : path.ptr));
        CHECK(roar_buf_puts(&c->src_url, "file://"));
        put_uri_bytes(&c->src_url, c->repo_url.ptr, c->repo_url.size, true);
        free(abs);
        roar_buf_dispose(&path);
    }
}

/* The default remote's URL (the current branch's remote, else origin), cleaned; with
 * none, the work tree itself as a file:// URI, so each event still names its source. */
static void ol_source(ol_ctx *c, roar_repo *repo, git_config *cfg)
{
    roar_buf remote = ROAR_BUF_INIT, key = ROAR_BUF_INIT;
    git_buf val = GIT_BUF_INIT;

    if (cfg && roar_remote_default(&remote, repo) == 0 &&
        roar_buf_printf(&key, "remote.%s.url", remote.ptr) == 0 &&
        git_config_get_string_buf(&val, cfg, key.ptr) == 0 && val.size) {
        /* Secrets elsewhere in the URL (`?token=...`) go as they go from records. */
        roar_buf safe = ROAR_BUF_INIT;
        CHECK(roar_redact_text(&safe, NULL, val.ptr));
        clean_remote_url(c, safe.ptr);
        roar_buf_dispose(&safe);
    } else if (c->top.size) {
        CHECK(roar_buf_puts(&c->src_url, "file://"));
        put_uri_bytes(&c->src_url, c->top.ptr, c->top.size, true);
    }
    git_error_clear();
    git_buf_dispose(&val);
    roar_buf_dispose(&remote);
    roar_buf_dispose(&key);
}

/* The job namespace names the pipeline, never the datasets (they are `file` + an
 * absolute path, per OpenLineage's naming spec): git config roar.namespace, else the
 * remote's URL (clones of one repository share it, so their runs join), else the work
 * tree's directory name. */
static void ol_ctx_init(ol_ctx *c, roar_repo *repo)
{
    git_config *cfg = NULL;
    git_buf val = GIT_BUF_INIT;
    const char *top = roar_repo_worktree(repo);

    memset(c, 0, sizeof(*c));
    roar_buf_init(&c->ns);
    roar_buf_init(&c->top);
    roar_buf_init(&c->repo_url);
    roar_buf_init(&c->src_url);
    if (top)
        CHECK(roar_buf_puts(&c->top, top));
    if (git_repository_config_snapshot(&cfg, roar_repo_git(repo)) < 0)
        cfg = NULL;
    ol_source(c, repo, cfg);
    if (cfg && git_config_get_string_buf(&val, cfg, "roar.namespace") == 0 && val.size)
        CHECK(roar_buf_puts(&c->ns, val.ptr));
    else if (c->repo_url.size)
        CHECK(roar_buf_puts(&c->ns, c->repo_url.ptr));
    else {
        const char *dir = top ? top : roar_repo_commondir(repo), *base = strrchr(dir, '/');
        CHECK(roar_buf_puts(&c->ns, base && base[1] ? base + 1 : dir));
    }
    git_error_clear();
    git_buf_dispose(&val);
    git_config_free(cfg);
}

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

/* A local file is the dataset `file` + its absolute path (OpenLineage naming spec), so
 * these events join those of Spark or Airflow reading the same file. Records hold
 * paths inside the work tree relative to its top (SPEC §4.2), others absolute. */
static void put_dataset_head(roar_buf *out, const ol_ctx *c, const char *path)
{
    roar_buf abs = ROAR_BUF_INIT;
    if (path[0] != '/' && c->top.size)
        CHECK(roar_buf_printf(&abs, "%s/%s", c->top.ptr, path));
    else
        CHECK(roar_buf_puts(&abs, path));
    CHECK(roar_buf_puts(out, "{\"namespace\":\"file\",\"name\":"));
    CHECK(roar_json_string(out, abs.ptr, abs.size, NULL));
    roar_buf_dispose(&abs);
}

/* Inputs or outputs; outputs include the job's deletions, as a DROP of the dataset. */
static void ol_datasets(roar_buf *out, const ol_ctx *c, const char *key, const roar_job *job,
                        roar_role role)
{
    size_t e;
    bool first = true;
    CHECK(roar_buf_printf(out, ",\"%s\":[", key));
    for (e = 0; e < job->edge_count; e++) {
        const roar_edge *edge = &job->edges[e];
        if (edge->role != role && !(role == ROAR_ROLE_OUT && edge->role == ROAR_ROLE_DEL))
            continue;
        CHECK(roar_buf_puts(out, first ? "" : ","));
        put_dataset_head(out, c, edge->path);
        if (edge->role == ROAR_ROLE_DEL) {
            CHECK(roar_buf_puts(out, ",\"facets\":{"));
            put_facet_head(out, "lifecycleStateChange", OL_LIFECYCLE_FACET);
            CHECK(roar_buf_puts(out, ",\"lifecycleStateChange\":\"DROP\"}}"));
        } else if (edge->id_known) {
            CHECK(roar_buf_puts(out, ",\"facets\":{"));
            put_facet_head(out, "version", OL_VERSION_FACET);
            CHECK(roar_buf_printf(out, ",\"datasetVersion\":\"%s\"}}", edge->id));
        }
        CHECK(roar_buf_putc(out, '}'));
        first = false;
    }
    CHECK(roar_buf_putc(out, ']'));
}

/* What failed, in words: the record holds an exit status or a signal, nothing more (no
 * stderr, no stack), and no programming language: the command may be anything. */
static void ol_error_facet(roar_buf *out, const roar_job *job)
{
    roar_buf msg = ROAR_BUF_INIT;
    if (job->end_kind == ROAR_END_SIGNAL) {
        const char *name = strsignal(job->end_code);
        CHECK(roar_buf_printf(&msg, "killed by signal %d", job->end_code));
        if (name)
            CHECK(roar_buf_printf(&msg, " (%s)", name));
    } else {
        CHECK(roar_buf_printf(&msg, "exit status %d", job->end_code));
    }
    put_facet_head(out, "errorMessage", OL_ERROR_FACET);
    CHECK(roar_buf_puts(out, ",\"message\":"));
    CHECK(roar_json_string(out, msg.ptr, msg.size, NULL));
    CHECK(roar_buf_puts(out, ",\"programmingLanguage\":\"unknown\"}"));
    roar_buf_dispose(&msg);
}

static void ol_job_facets(roar_buf *out, const ol_ctx *c, const roar_job *job)
{
    CHECK(roar_buf_puts(out, ",\"facets\":{"));
    put_facet_head(out, "jobType", OL_JOBTYPE_FACET);
    CHECK(roar_buf_puts(out, ",\"processingType\":\"BATCH\",\"integration\":\"GIT_ROAR\","
                             "\"jobType\":\"COMMAND\"}"));
    if (c->src_url.size) {
        CHECK(roar_buf_putc(out, ','));
        put_facet_head(out, "sourceCodeLocation", OL_SOURCE_FACET);
        CHECK(roar_buf_puts(out, ",\"type\":\"git\",\"url\":"));
        CHECK(roar_json_string(out, c->src_url.ptr, c->src_url.size, NULL));
        if (c->repo_url.size) {
            CHECK(roar_buf_puts(out, ",\"repoUrl\":"));
            CHECK(roar_json_string(out, c->repo_url.ptr, c->repo_url.size, NULL));
        }
        /* The commit the job ran on: its code, modulo `dirty`. */
        if (job->has_base)
            CHECK(roar_buf_printf(out, ",\"version\":\"%s\"", job->base));
        CHECK(roar_buf_putc(out, '}'));
    }
    CHECK(roar_buf_putc(out, '}'));
}

static void ol_event(roar_buf *out, const ol_ctx *c, const roar_job *job, bool start)
{
    bool ok = roar_export_succeeded(job);
    const char *type = ok ? "COMPLETE" : "FAIL";
    CHECK(roar_buf_printf(out, "{\"eventType\":\"%s\",\"eventTime\":\"", start ? "START" : type));
    roar_export_put_time(out, start ? job->start_ms : job->end_ms);
    CHECK(roar_buf_printf(out, "\",\"producer\":\"%s\",\"schemaURL\":\"%s\",\"run\":{\"runId\":\"",
                          OL_PRODUCER, OL_SCHEMA));
    put_uuid(out, job->id);
    CHECK(roar_buf_puts(out, "\",\"facets\":{"));
    if (!start && !ok)
        ol_error_facet(out, job);
    CHECK(roar_buf_puts(out, "}},\"job\":{\"namespace\":"));
    CHECK(roar_json_string(out, c->ns.ptr, c->ns.size, NULL));
    CHECK(roar_buf_puts(out, ",\"name\":"));
    roar_export_put_command(out, job);
    ol_job_facets(out, c, job);
    CHECK(roar_buf_putc(out, '}'));
    ol_datasets(out, c, "inputs", job, ROAR_ROLE_IN);
    /* Outputs are known when the run ends, not when it starts. */
    if (start)
        CHECK(roar_buf_puts(out, ",\"outputs\":[]"));
    else
        ol_datasets(out, c, "outputs", job, ROAR_ROLE_OUT);
    CHECK(roar_buf_puts(out, "}\n"));
}

/* One job at a time: the events stream, memory stays that of one job. */
void roar_export_openlineage(roar_buf *out, const roar_export_jobs *set, roar_repo *repo)
{
    ol_ctx c;
    roar_job job;
    size_t i;

    ol_ctx_init(&c, repo);
    roar_job_init(&job);
    roar_export_pass_begin(set);
    for (i = 0; i < set->count; i++) {
        roar_export_load(&job, set, i, true);
        ol_event(out, &c, &job, true);
        ol_event(out, &c, &job, false);
        roar_export_maybe_flush(set, out);
    }
    roar_export_pass_end(set, out);
    roar_job_dispose(&job);
    ol_ctx_dispose(&c);
}
