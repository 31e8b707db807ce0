/* `git roar export --format prov-json`: the selected jobs as one W3C PROV-JSON document
 * (activities = jobs; entities = each written file and each content; agents = users). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/check.h"
#include "cli/cli.h"
#include "cli/export.h"
#include "util/json.h"

/* Output flushes to stdout past this many bytes: the document streams. */
#define PROV_FLUSH_AT (64 * 1024)

/* A string pair -> job index map, open addressing, keys borrowed from the jobs (they
 * outlive it). It makes every lookup of the export O(1): the issue behind this file
 * was a quadratic scan that took minutes at 1e5 jobs. */
typedef struct {
    const char *a, *b; /* a == NULL: empty */
    uint64_t hash;
    size_t job;
} pair_slot;

typedef struct {
    pair_slot *slots;
    size_t cap, count; /* cap a power of two, kept at most half full */
} pair_map;

static uint64_t pair_hash(const char *a, const char *b)
{
    uint64_t h = 14695981039346656037ULL; /* FNV-1a, 64 bits */
    for (; *a; a++)
        h = (h ^ (unsigned char)*a) * 1099511628211ULL;
    h = (h ^ 0xff) * 1099511628211ULL; /* a separator no path byte equals (NUL-free) */
    for (; *b; b++)
        h = (h ^ (unsigned char)*b) * 1099511628211ULL;
    return h;
}

static pair_slot *pair_find(const pair_map *m, const char *a, const char *b, uint64_t h)
{
    size_t i = (size_t)h & (m->cap - 1);
    for (;; i = (i + 1) & (m->cap - 1)) {
        pair_slot *s = &m->slots[i];
        if (!s->a || (s->hash == h && !strcmp(s->a, a) && !strcmp(s->b, b)))
            return s;
    }
}

/* The value stored for (a, b), or NULL. */
static const size_t *pair_get(const pair_map *m, const char *a, const char *b)
{
    pair_slot *s;
    if (!m->cap)
        return NULL;
    s = pair_find(m, a, b, pair_hash(a, b));
    return s->a ? &s->job : NULL;
}

/* Sets (a, b) to job; *added (may be NULL) says whether the key is new. */
static void pair_put(pair_map *m, const char *a, const char *b, size_t job, bool *added)
{
    uint64_t h = pair_hash(a, b);
    pair_slot *s;
    if (2 * (m->count + 1) > m->cap) {
        pair_map bigger = {NULL, m->cap ? 2 * m->cap : 1024, 0};
        size_t i;
        if (!(bigger.slots = calloc(bigger.cap, sizeof(*bigger.slots))))
            roar_cli_oom();
        for (i = 0; i < m->cap; i++)
            if (m->slots[i].a)
                *pair_find(&bigger, m->slots[i].a, m->slots[i].b, m->slots[i].hash) = m->slots[i];
        bigger.count = m->count;
        free(m->slots);
        *m = bigger;
    }
    s = pair_find(m, a, b, h);
    if (added)
        *added = !s->a;
    if (!s->a) {
        s->a = a;
        s->b = b;
        s->hash = h;
        m->count++;
    }
    s->job = job;
}

static void maybe_flush(roar_buf *out)
{
    if (out->size >= PROV_FLUSH_AT)
        roar_query_flush(out);
}

/* A qualified name `prefix:local`, as a JSON string: the local part is the bytes of s
 * with every byte outside [A-Za-z0-9._~/-] as %XX, so any path or user name (spaces,
 * quotes, invalid UTF-8) makes a valid PROV-N local name, and the same one each time. */
static void put_qname(roar_buf *out, const char *prefix, const char *s)
{
    CHECK(roar_buf_printf(out, "\"%s:", prefix));
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            strchr("._~/-", c))
            CHECK(roar_buf_putc(out, (char)c));
        else
            CHECK(roar_buf_printf(out, "%%%02X", c));
    }
    CHECK(roar_buf_putc(out, '"'));
}

/* The entity of what a job wrote at a path: `out:<job id>/<path>`. */
static void put_output_id(roar_buf *out, const roar_job *job, const char *path)
{
    roar_buf local = ROAR_BUF_INIT;
    CHECK(roar_buf_printf(&local, "%s/%s", job->id, path));
    put_qname(out, "out", local.ptr);
    roar_buf_dispose(&local);
}

/* prov:type values are qualified names, typed as such: a plain string would be read
 * as an xsd:string literal. */
static void put_type(roar_buf *out, const char *qname)
{
    CHECK(roar_buf_printf(out, ",\"prov:type\":{\"$\":\"%s\",\"type\":\"prov:QUALIFIED_NAME\"}",
                          qname));
}

static bool known(const roar_edge *edge, roar_role role)
{
    return edge->role == role && edge->id_known;
}

/* Separator before the next member of a JSON object. */
static void put_sep(roar_buf *out, bool *first)
{
    CHECK(roar_buf_puts(out, *first ? "\n" : ",\n"));
    *first = false;
}

/* Which output entity each known input used (SIZE_MAX: none, the content's entity):
 * the latest output of that path with that content by a job of the set that ended by
 * the time this job started. A sweep over starts and ends in time order with one
 * hash lookup per edge: linear in the edges after one sort of 2 x jobs events. At
 * equal times a start comes first: a job never uses what it writes itself. */
typedef struct {
    int64_t ms;
    int end; /* 0 start, 1 end */
    size_t job;
} sweep_event;

static int by_time(const void *pa, const void *pb)
{
    const sweep_event *a = pa, *b = pb;
    if (a->ms != b->ms)
        return a->ms < b->ms ? -1 : 1;
    if (a->end != b->end)
        return a->end - b->end;
    return a->job < b->job ? -1 : a->job > b->job;
}

/* *out[i] points into one array of per-edge producers (one slot per edge of job i). */
static size_t **resolve_used(const roar_export_jobs *set)
{
    sweep_event *ev = calloc(2 * set->count + 1, sizeof(*ev));
    size_t **res = calloc(set->count + 1, sizeof(*res));
    size_t i, e, edges = 0, *all;
    pair_map latest = {0};

    for (i = 0; i < set->count; i++)
        edges += set->items[i].job.edge_count;
    all = malloc((edges + 1) * sizeof(*all));
    if (!ev || !res || !all)
        roar_cli_oom();
    res[0] = all; /* what free_used frees, even for no jobs */
    for (i = 0, edges = 0; i < set->count; i++) {
        const roar_job *job = &set->items[i].job;
        res[i] = all + edges;
        edges += job->edge_count;
        for (e = 0; e < job->edge_count; e++)
            res[i][e] = SIZE_MAX;
        ev[2 * i] = (sweep_event){job->start_ms, 0, i};
        ev[2 * i + 1] = (sweep_event){job->end_ms, 1, i};
    }
    qsort(ev, 2 * set->count, sizeof(*ev), by_time);
    for (i = 0; i < 2 * set->count; i++) {
        const roar_job *job = &set->items[ev[i].job].job;
        for (e = 0; e < job->edge_count; e++) {
            const roar_edge *edge = &job->edges[e];
            const size_t *k;
            if (ev[i].end && known(edge, ROAR_ROLE_OUT))
                pair_put(&latest, edge->path, edge->id, ev[i].job, NULL);
            else if (!ev[i].end && known(edge, ROAR_ROLE_IN) &&
                     (k = pair_get(&latest, edge->path, edge->id)))
                res[ev[i].job][e] = *k;
        }
    }
    free(latest.slots);
    free(ev);
    return res;
}

static void free_used(size_t **res)
{
    if (res)
        free(res[0]);
    free(res);
}

/* Entities: each content once (`blob:<id>`, a roar:blob), and each output once per job
 * (`out:<job>/<path>`, a roar:file, specializationOf its content): a content written
 * by several jobs, or at several paths, is one general entity with no generation, and
 * each of its writings an entity generated exactly once (PROV-CONSTRAINTS: unique
 * generation). */
static void put_entities(roar_buf *out, const roar_export_jobs *set)
{
    pair_map blobs = {0};
    bool first = true, added;
    size_t i, e;

    CHECK(roar_buf_puts(out, "\"entity\":{"));
    for (i = 0; i < set->count; i++) {
        const roar_job *job = &set->items[i].job;
        for (e = 0; e < job->edge_count; e++) {
            const roar_edge *edge = &job->edges[e];
            if (edge->role == ROAR_ROLE_DEL)
                continue;
            if (edge->role == ROAR_ROLE_OUT) {
                put_sep(out, &first);
                put_output_id(out, job, edge->path);
                CHECK(roar_buf_puts(out, ":{\"prov:label\":"));
                CHECK(roar_json_cstr(out, edge->path));
                put_type(out, "roar:file");
                CHECK(roar_buf_puts(out, ",\"roar:path\":"));
                CHECK(roar_json_cstr(out, edge->path));
                CHECK(roar_buf_printf(out, ",\"roar:size\":%llu}", (unsigned long long)edge->size));
            }
            if (!edge->id_known)
                continue;
            pair_put(&blobs, edge->id, "", 0, &added);
            if (!added)
                continue;
            put_sep(out, &first);
            CHECK(roar_buf_printf(out, "\"blob:%s\":{\"prov:label\":", edge->id));
            CHECK(roar_json_cstr(out, edge->path));
            put_type(out, "roar:blob");
            CHECK(roar_buf_printf(out, ",\"roar:size\":%llu}", (unsigned long long)edge->size));
        }
        maybe_flush(out);
    }
    CHECK(roar_buf_puts(out, "}"));
    free(blobs.slots);
}

static void put_activities(roar_buf *out, const roar_export_jobs *set)
{
    size_t i;
    CHECK(roar_buf_puts(out, ",\n\"activity\":{"));
    for (i = 0; i < set->count; i++) {
        const roar_job *job = &set->items[i].job;
        CHECK(roar_buf_printf(out, "%s\n\"job:%s\":{\"prov:startTime\":\"", i ? "," : "", job->id));
        roar_export_put_time(out, job->start_ms);
        CHECK(roar_buf_puts(out, "\",\"prov:endTime\":\""));
        roar_export_put_time(out, job->end_ms);
        CHECK(roar_buf_puts(out, "\",\"prov:label\":"));
        roar_export_put_command(out, job);
        CHECK(roar_buf_printf(out, ",\"roar:%s\":%d",
                              job->end_kind == ROAR_END_SIGNAL ? "signal" : "exit", job->end_code));
        put_type(out, "roar:job");
        CHECK(roar_buf_putc(out, '}'));
        maybe_flush(out);
    }
    CHECK(roar_buf_puts(out, "}"));
}

static void put_agents(roar_buf *out, const roar_export_jobs *set)
{
    pair_map users = {0};
    bool first = true, added;
    size_t i;
    CHECK(roar_buf_puts(out, ",\n\"agent\":{"));
    for (i = 0; i < set->count; i++) {
        const roar_job *job = &set->items[i].job;
        if (!job->user)
            continue;
        pair_put(&users, job->user, "", i, &added);
        if (!added)
            continue;
        put_sep(out, &first);
        put_qname(out, "agent", job->user);
        CHECK(roar_buf_puts(out, ":{\"prov:label\":"));
        CHECK(roar_json_cstr(out, job->user));
        put_type(out, "prov:Person");
        CHECK(roar_buf_putc(out, '}'));
    }
    CHECK(roar_buf_puts(out, "}"));
    free(users.slots);
}

/* used, wasGeneratedBy, specializationOf, wasAssociatedWith: each relation once, ids
 * numbered on from *n. */
static void put_relations(roar_buf *out, const roar_export_jobs *set, size_t **used)
{
    static const char *const kinds[] = {"used", "wasGeneratedBy", "specializationOf",
                                        "wasAssociatedWith"};
    size_t k, i, e, n = 0;

    for (k = 0; k < 4; k++) {
        bool first = true;
        CHECK(roar_buf_printf(out, ",\n\"%s\":{", kinds[k]));
        for (i = 0; i < set->count; i++) {
            const roar_job *job = &set->items[i].job;
            if (k == 3) {
                if (!job->user)
                    continue;
                put_sep(out, &first);
                CHECK(roar_buf_printf(
                    out, "\"_:a%zu\":{\"prov:activity\":\"job:%s\",\"prov:agent\":", ++n, job->id));
                put_qname(out, "agent", job->user);
                CHECK(roar_buf_putc(out, '}'));
                continue;
            }
            for (e = 0; e < job->edge_count; e++) {
                const roar_edge *edge = &job->edges[e];
                if (k == 0 && known(edge, ROAR_ROLE_IN)) {
                    put_sep(out, &first);
                    CHECK(roar_buf_printf(out,
                                          "\"_:u%zu\":{\"prov:activity\":\"job:%s\","
                                          "\"prov:entity\":",
                                          ++n, job->id));
                    if (used[i][e] != SIZE_MAX)
                        put_output_id(out, &set->items[used[i][e]].job, edge->path);
                    else
                        CHECK(roar_buf_printf(out, "\"blob:%s\"", edge->id));
                    CHECK(roar_buf_puts(out, ",\"prov:time\":\""));
                    roar_export_put_time(out, job->start_ms);
                } else if (k == 1 && edge->role == ROAR_ROLE_OUT) {
                    put_sep(out, &first);
                    CHECK(roar_buf_printf(out, "\"_:g%zu\":{\"prov:entity\":", ++n));
                    put_output_id(out, job, edge->path);
                    CHECK(roar_buf_printf(out, ",\"prov:activity\":\"job:%s\",\"prov:time\":\"",
                                          job->id));
                    roar_export_put_time(out, job->end_ms);
                } else if (k == 2 && known(edge, ROAR_ROLE_OUT)) {
                    put_sep(out, &first);
                    CHECK(roar_buf_printf(out, "\"_:s%zu\":{\"prov:specificEntity\":", ++n));
                    put_output_id(out, job, edge->path);
                    CHECK(roar_buf_printf(out, ",\"prov:generalEntity\":\"blob:%s\"}", edge->id));
                    continue;
                } else {
                    continue;
                }
                CHECK(roar_buf_puts(out, "\",\"roar:path\":"));
                CHECK(roar_json_cstr(out, edge->path));
                CHECK(roar_buf_putc(out, '}'));
            }
            maybe_flush(out);
        }
        CHECK(roar_buf_puts(out, "}"));
    }
}

void roar_export_prov(roar_buf *out, const roar_export_jobs *set)
{
    size_t **used = resolve_used(set);

    CHECK(roar_buf_puts(out, "{\"prefix\":{\"roar\":\"https://git-roar.invalid/ns#\","
                             "\"blob\":\"urn:git:blob:\",\"job\":\"urn:git-roar:job:\","
                             "\"out\":\"urn:git-roar:output:\","
                             "\"agent\":\"urn:git-roar:agent:\"},\n"));
    put_entities(out, set);
    put_activities(out, set);
    put_agents(out, set);
    put_relations(out, set, used);
    CHECK(roar_buf_puts(out, "}\n"));
    free_used(used);
}
