/* `git roar export --format prov-json`: the selected jobs as one W3C PROV-JSON document
 * (activities = jobs; entities = each written file and each content; agents = users).
 *
 * The document is grouped by section (entity, activity, agent, then each relation), each
 * listing the jobs oldest first, so it is written in passes over the jobs, each loading
 * one job at a time: a pass per section that needs edges, one of summaries for the
 * activities, and the agents and wasAssociatedWith from what the first pass kept. What
 * stays in memory is what the document names once however often it is met: the
 * distinct contents, each writing of a known output (path, content, end, job) and the
 * users; never the output, never a loaded job but the current one. Writing the
 * sections to temporary files in one pass would load each job once, but would need disk
 * for the whole document and a renumbering of the relations; the passes cost time only
 * (four with edges and one of summaries: at 100k jobs about four times json's), and the
 * output still streams. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/check.h"
#include "cli/cli.h"
#include "cli/export.h"
#include "util/json.h"
#include "util/keymap.h"

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
static void put_output_id(roar_buf *out, const char *job_id, const char *path)
{
    roar_buf local = ROAR_BUF_INIT;
    CHECK(roar_buf_printf(&local, "%s/%s", job_id, path));
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

/* A blob id in 20 bytes: the sets below hold hundreds of thousands of them (ids in the
 * cache are lower-case hex). */
#define RAW_ID_SIZE 20
typedef struct {
    unsigned char b[RAW_ID_SIZE];
} raw_id;

static raw_id raw_of(const char *hex)
{
    raw_id r;
    size_t i;
    for (i = 0; i < RAW_ID_SIZE; i++) {
        int hi = hex[2 * i], lo = hex[2 * i + 1];
        hi = hi <= '9' ? hi - '0' : hi - 'a' + 10;
        lo = lo <= '9' ? lo - '0' : lo - 'a' + 10;
        r.b[i] = (unsigned char)(hi << 4 | lo);
    }
    return r;
}

/* The contents whose entity is written: an open-addressing set of ids, no allocation
 * per id (a SHA-1 is its own hash). The all-zero id marks an empty slot; that id
 * itself, were it ever met, is a flag of its own. */
typedef struct {
    raw_id *slots;
    size_t cap, count; /* cap a power of two, kept at most half full */
    bool has_zero;
} id_set;

static bool is_zero(const raw_id *r)
{
    static const raw_id zero;
    return !memcmp(r, &zero, sizeof(zero));
}

static raw_id *id_slot(raw_id *slots, size_t cap, const raw_id *r)
{
    uint64_t h;
    size_t i;
    memcpy(&h, r->b, sizeof(h));
    for (i = (size_t)h & (cap - 1);; i = (i + 1) & (cap - 1))
        if (is_zero(&slots[i]) || !memcmp(&slots[i], r, sizeof(*r)))
            return &slots[i];
}

/* Adds the id; whether it was new. */
static bool id_set_add(id_set *set, const char *hex)
{
    raw_id r = raw_of(hex), *s;
    if (is_zero(&r)) {
        bool added = !set->has_zero;
        set->has_zero = true;
        return added;
    }
    if (2 * (set->count + 1) > set->cap) {
        size_t cap = set->cap ? 2 * set->cap : 4096, i;
        raw_id *slots = calloc(cap, sizeof(*slots));
        if (!slots)
            roar_cli_oom();
        for (i = 0; i < set->cap; i++)
            if (!is_zero(&set->slots[i]))
                *id_slot(slots, cap, &set->slots[i]) = set->slots[i];
        free(set->slots);
        set->slots = slots;
        set->cap = cap;
    }
    s = id_slot(set->slots, set->cap, &r);
    if (!is_zero(s))
        return false;
    *s = r;
    set->count++;
    return true;
}

/* Each writing of a known output (path and content, by a job at its end): sorted by
 * path, content, end and job once the first pass is over, which answers which entity
 * each known input used with one binary search. */
typedef struct {
    char *path; /* owned */
    raw_id id;
    uint32_t job;
    int64_t end_ms;
} writing;

/* What the passes keep between them. */
typedef struct {
    id_set blobs;
    roar_keymap users; /* user -> index + 1 into user_names */
    char **user_names; /* owned, in order of first appearance */
    size_t user_count, user_alloc;
    uint32_t *job_user; /* per job: index into user_names, or NO_USER */
    writing *writings;
    size_t writing_count, writing_alloc;
} prov_state;

#define NO_USER UINT32_MAX

static void state_dispose(prov_state *st)
{
    size_t i;
    free(st->blobs.slots);
    roar_keymap_dispose(&st->users);
    for (i = 0; i < st->user_count; i++)
        free(st->user_names[i]);
    free(st->user_names);
    free(st->job_user);
    for (i = 0; i < st->writing_count; i++)
        free(st->writings[i].path);
    free(st->writings);
}

/* What the later passes need of job i: its user, and its known outputs' writings. */
static void remember(prov_state *st, const roar_job *job, size_t i)
{
    size_t e;
    void *hit;

    st->job_user[i] = NO_USER;
    if (job->user) {
        if (!(hit = roar_keymap_gets(&st->users, job->user))) {
            if (ROAR_ALLOC_GROW(st->user_names, st->user_count + 1, st->user_alloc) < 0 ||
                !(st->user_names[st->user_count] = strdup(job->user)))
                roar_cli_oom();
            hit = (void *)(uintptr_t)++st->user_count;
            CHECK(roar_keymap_puts(&st->users, job->user, hit));
        }
        st->job_user[i] = (uint32_t)((uintptr_t)hit - 1);
    }
    for (e = 0; e < job->edge_count; e++) {
        const roar_edge *edge = &job->edges[e];
        writing *w;
        if (!known(edge, ROAR_ROLE_OUT))
            continue;
        if (ROAR_ALLOC_GROW(st->writings, st->writing_count + 1, st->writing_alloc) < 0)
            roar_cli_oom();
        w = &st->writings[st->writing_count++];
        w->id = raw_of(edge->id);
        w->job = (uint32_t)i;
        w->end_ms = job->end_ms;
        if (!(w->path = strdup(edge->path)))
            roar_cli_oom();
    }
}

static int by_output(const char *path, const raw_id *id, const writing *w)
{
    int c = strcmp(path, w->path);
    return c ? c : memcmp(id, &w->id, sizeof(*id));
}

static int by_output_end_job(const void *pa, const void *pb)
{
    const writing *a = pa, *b = pb;
    int c = by_output(a->path, &a->id, b);
    if (c)
        return c;
    if (a->end_ms != b->end_ms)
        return a->end_ms < b->end_ms ? -1 : 1;
    return a->job < b->job ? -1 : a->job > b->job;
}

/* Which output entity a known input of a job that started at start_ms used (SIZE_MAX:
 * none, the content's entity): the latest writing of that path with that content by a
 * job of the set that ended before the job started, the latest being the greatest
 * (end, job position). At equal times the start comes first: a job never uses what it
 * writes itself. One binary search per edge. */
static size_t used_writer(const prov_state *st, const roar_edge *edge, int64_t start_ms)
{
    raw_id id = raw_of(edge->id);
    size_t a = 0, b = st->writing_count;

    /* The first writing not below (path, id, start_ms): the one before it, if it is
     * of the same output, is the latest that ended before start_ms. */
    while (a < b) {
        size_t mid = a + (b - a) / 2;
        const writing *w = &st->writings[mid];
        int c = by_output(edge->path, &id, w);
        if (c > 0 || (c == 0 && w->end_ms < start_ms))
            a = mid + 1;
        else
            b = mid;
    }
    if (a == 0 || by_output(edge->path, &id, &st->writings[a - 1]) != 0)
        return SIZE_MAX;
    return st->writings[a - 1].job;
}

/* Entities: each content once (`blob:<id>`, a roar:blob), and each output once per job
 * (`out:<job>/<path>`, a roar:file, specializationOf its content): a content written
 * by several jobs, or at several paths, is one general entity with no generation, and
 * each of its writings an entity generated exactly once (PROV-CONSTRAINTS: unique
 * generation). The pass also remembers what the others need. */
static void put_entities(roar_buf *out, const roar_export_jobs *set, prov_state *st)
{
    roar_job job;
    bool first = true;
    size_t i, e;

    roar_job_init(&job);
    CHECK(roar_buf_puts(out, "\"entity\":{"));
    roar_export_pass_begin(set);
    for (i = 0; i < set->count; i++) {
        roar_export_load(&job, set, i, true);
        remember(st, &job, i);
        for (e = 0; e < job.edge_count; e++) {
            const roar_edge *edge = &job.edges[e];
            if (edge->role == ROAR_ROLE_DEL)
                continue;
            if (edge->role == ROAR_ROLE_OUT) {
                put_sep(out, &first);
                put_output_id(out, job.id, edge->path);
                CHECK(roar_buf_puts(out, ":{\"prov:label\":"));
                CHECK(roar_json_cstr(out, edge->path));
                put_type(out, "roar:file");
                CHECK(roar_buf_puts(out, ",\"roar:path\":"));
                CHECK(roar_json_cstr(out, edge->path));
                CHECK(roar_buf_printf(out, ",\"roar:size\":%llu}", (unsigned long long)edge->size));
            }
            if (!edge->id_known || !id_set_add(&st->blobs, edge->id))
                continue;
            put_sep(out, &first);
            CHECK(roar_buf_printf(out, "\"blob:%s\":{\"prov:label\":", edge->id));
            CHECK(roar_json_cstr(out, edge->path));
            put_type(out, "roar:blob");
            CHECK(roar_buf_printf(out, ",\"roar:size\":%llu}", (unsigned long long)edge->size));
        }
        roar_export_maybe_flush(set, out);
    }
    CHECK(roar_buf_puts(out, "}"));
    roar_export_pass_end(set, out);
    roar_job_dispose(&job);
    /* The contents are not needed again: give their memory back before the next pass. */
    free(st->blobs.slots);
    st->blobs = (id_set){NULL, 0, 0, false};
}

static void put_activities(roar_buf *out, const roar_export_jobs *set)
{
    roar_job job;
    size_t i;

    roar_job_init(&job);
    CHECK(roar_buf_puts(out, ",\n\"activity\":{"));
    roar_export_pass_begin(set);
    for (i = 0; i < set->count; i++) {
        roar_export_load(&job, set, i, false);
        CHECK(roar_buf_printf(out, "%s\n\"job:%s\":{\"prov:startTime\":\"", i ? "," : "", job.id));
        roar_export_put_time(out, job.start_ms);
        CHECK(roar_buf_puts(out, "\",\"prov:endTime\":\""));
        roar_export_put_time(out, job.end_ms);
        CHECK(roar_buf_puts(out, "\",\"prov:label\":"));
        roar_export_put_command(out, &job);
        CHECK(roar_buf_printf(out, ",\"roar:%s\":%d",
                              job.end_kind == ROAR_END_SIGNAL ? "signal" : "exit", job.end_code));
        put_type(out, "roar:job");
        CHECK(roar_buf_putc(out, '}'));
        roar_export_maybe_flush(set, out);
    }
    CHECK(roar_buf_puts(out, "}"));
    roar_export_pass_end(set, out);
    roar_job_dispose(&job);
}

/* Each user once, in order of first appearance (the first pass listed them). */
static void put_agents(roar_buf *out, const prov_state *st)
{
    bool first = true;
    size_t u;
    CHECK(roar_buf_puts(out, ",\n\"agent\":{"));
    for (u = 0; u < st->user_count; u++) {
        put_sep(out, &first);
        put_qname(out, "agent", st->user_names[u]);
        CHECK(roar_buf_puts(out, ":{\"prov:label\":"));
        CHECK(roar_json_cstr(out, st->user_names[u]));
        put_type(out, "prov:Person");
        CHECK(roar_buf_putc(out, '}'));
    }
    CHECK(roar_buf_puts(out, "}"));
}

enum relation { USED, WAS_GENERATED_BY, SPECIALIZATION_OF, WAS_ASSOCIATED_WITH };

/* One edge's relation of kind k, if it has one; ids numbered on from *n. */
static void put_edge_relation(roar_buf *out, prov_state *st, const roar_export_jobs *set,
                              enum relation k, const roar_job *job, const roar_edge *edge,
                              bool *first, size_t *n)
{
    if (k == USED && known(edge, ROAR_ROLE_IN)) {
        size_t writer = used_writer(st, edge, job->start_ms);
        put_sep(out, first);
        CHECK(roar_buf_printf(out,
                              "\"_:u%zu\":{\"prov:activity\":\"job:%s\","
                              "\"prov:entity\":",
                              ++*n, job->id));
        if (writer != SIZE_MAX)
            put_output_id(out, set->ids[writer], edge->path);
        else
            CHECK(roar_buf_printf(out, "\"blob:%s\"", edge->id));
        CHECK(roar_buf_puts(out, ",\"prov:time\":\""));
        roar_export_put_time(out, job->start_ms);
    } else if (k == WAS_GENERATED_BY && edge->role == ROAR_ROLE_OUT) {
        put_sep(out, first);
        CHECK(roar_buf_printf(out, "\"_:g%zu\":{\"prov:entity\":", ++*n));
        put_output_id(out, job->id, edge->path);
        CHECK(roar_buf_printf(out, ",\"prov:activity\":\"job:%s\",\"prov:time\":\"", job->id));
        roar_export_put_time(out, job->end_ms);
    } else if (k == SPECIALIZATION_OF && known(edge, ROAR_ROLE_OUT)) {
        put_sep(out, first);
        CHECK(roar_buf_printf(out, "\"_:s%zu\":{\"prov:specificEntity\":", ++*n));
        put_output_id(out, job->id, edge->path);
        CHECK(roar_buf_printf(out, ",\"prov:generalEntity\":\"blob:%s\"}", edge->id));
        return;
    } else {
        return;
    }
    CHECK(roar_buf_puts(out, "\",\"roar:path\":"));
    CHECK(roar_json_cstr(out, edge->path));
    CHECK(roar_buf_putc(out, '}'));
}

/* used, wasGeneratedBy, specializationOf, wasAssociatedWith: each relation once, ids
 * numbered on through the sections. A pass each for the three from edges; the
 * associations are the users the first pass kept. */
static void put_relations(roar_buf *out, const roar_export_jobs *set, prov_state *st)
{
    static const char *const kinds[] = {"used", "wasGeneratedBy", "specializationOf",
                                        "wasAssociatedWith"};
    roar_job job;
    size_t i, e, n = 0;
    enum relation k;

    roar_job_init(&job);
    for (k = USED; k <= WAS_ASSOCIATED_WITH; k++) {
        bool first = true;
        CHECK(roar_buf_printf(out, ",\n\"%s\":{", kinds[k]));
        if (k == WAS_ASSOCIATED_WITH) {
            for (i = 0; i < set->count; i++) {
                if (st->job_user[i] == NO_USER)
                    continue;
                put_sep(out, &first);
                CHECK(roar_buf_printf(
                    out, "\"_:a%zu\":{\"prov:activity\":\"job:%s\",\"prov:agent\":", ++n,
                    set->ids[i]));
                put_qname(out, "agent", st->user_names[st->job_user[i]]);
                CHECK(roar_buf_putc(out, '}'));
                if (out->size >= ROAR_EXPORT_FLUSH_AT)
                    roar_query_flush(out);
            }
        } else {
            roar_export_pass_begin(set);
            for (i = 0; i < set->count; i++) {
                roar_export_load(&job, set, i, true);
                for (e = 0; e < job.edge_count; e++)
                    put_edge_relation(out, st, set, k, &job, &job.edges[e], &first, &n);
                roar_export_maybe_flush(set, out);
            }
            roar_export_pass_end(set, out);
        }
        CHECK(roar_buf_puts(out, "}"));
    }
    roar_job_dispose(&job);
}

void roar_export_prov(roar_buf *out, const roar_export_jobs *set)
{
    prov_state st = {{NULL, 0, 0, false}, ROAR_KEYMAP_INIT, NULL, 0, 0, NULL, NULL, 0, 0};

    if (!(st.job_user = calloc(set->count + 1, sizeof(*st.job_user))))
        roar_cli_oom();
    CHECK(roar_buf_puts(out, "{\"prefix\":{\"roar\":\"https://git-roar.invalid/ns#\","
                             "\"blob\":\"urn:git:blob:\",\"job\":\"urn:git-roar:job:\","
                             "\"out\":\"urn:git-roar:output:\","
                             "\"agent\":\"urn:git-roar:agent:\"},\n"));
    put_entities(out, set, &st);
    if (st.writing_count > 1)
        qsort(st.writings, st.writing_count, sizeof(*st.writings), by_output_end_job);
    put_activities(out, set);
    put_agents(out, &st);
    put_relations(out, set, &st);
    CHECK(roar_buf_puts(out, "}\n"));
    state_dispose(&st);
}
