/* The record text codec; see record.h and docs/record-format.md (notes, several records
 * in one text, are note.c's). Records come from other people: every length is bounded
 * before it is read. */
#include "graph/record.h"
#include "graph/record_internal.h"
#include "graph/oid.h"
#include "util/err.h"
#include "util/quote.h"
#include "util/timefmt.h"

#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* ---- small validators shared by writer and reader ------------------------- */

/* An incomplete reason or env name: printable ASCII without space; env names also
 * without '=' (it ends the name). Keeps both unambiguous and the record UTF-8. */
static bool is_token(const char *s, size_t len, bool allow_eq)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7f || (!allow_eq && c == '=') || c == '"' || c == '\\')
            return false;
    }
    return true;
}

static const char *const known_keys[] = {"job",   "command", "cwd",  "base", "dirty",
                                         "tracer", "host",   "user", "start", "end",
                                         "exit",  "signal",  "env",  "in",   "out",
                                         "del",   "incomplete", "step"};
enum {
    K_JOB,
    K_COMMAND,
    K_CWD,
    K_BASE,
    K_DIRTY,
    K_TRACER,
    K_HOST,
    K_USER,
    K_START,
    K_END,
    K_EXIT,
    K_SIGNAL,
    K_ENV,
    K_IN,
    K_OUT,
    K_DEL,
    K_INCOMPLETE,
    K_STEP,
    K_UNKNOWN,
};

static int key_of(const char *s, size_t len)
{
    for (int k = 0; k < K_UNKNOWN; k++)
        if (strlen(known_keys[k]) == len && !memcmp(known_keys[k], s, len))
            return k;
    return K_UNKNOWN;
}

/* True when an incomplete path without a count would be read back as a count:
 * its first space-separated word is all digits. */
static bool path_reads_as_count(const char *p)
{
    size_t n = 0;
    while (p[n] >= '0' && p[n] <= '9')
        n++;
    return n > 0 && (p[n] == '\0' || p[n] == ' ');
}

/* ---- writer ------------------------------------------------------------- */

/* Ends the line that started at `start` in b, enforcing the line limit. */
static int end_line(roar_buf *b, size_t start)
{
    if (b->size - start > ROAR_RECORD_MAX_LINE)
        return roar_error_set(ROAR_ELIMIT, "a '%.*s' line would be over the %zu-byte limit",
                              (int)strcspn(b->ptr + start, " "), b->ptr + start,
                              ROAR_RECORD_MAX_LINE);
    return roar_buf_putc(b, '\n');
}

static int put_path_line(roar_buf *b, const char *key, const char *value)
{
    size_t start = b->size;
    int error;
    if ((error = roar_buf_printf(b, "%s ", key)) < 0 ||
        (error = roar_quote_path(b, value, strlen(value))) < 0)
        return error;
    return end_line(b, start);
}

static int put_time_line(roar_buf *b, const char *key, int64_t ms)
{
    size_t start = b->size;
    int error;
    if ((error = roar_buf_printf(b, "%s ", key)) < 0 || (error = roar_time_format(b, ms)) < 0)
        return error;
    return end_line(b, start);
}

static int write_edge(roar_buf *b, const roar_edge *e)
{
    static const char *const role_key[] = {"in", "out", "del"};
    size_t start = b->size;
    int error;

    if ((unsigned)e->role > ROAR_ROLE_DEL)
        return roar_error_set(ROAR_EINVALID, "edge with an unknown role");
    if (!e->path || !e->path[0])
        return roar_error_set(ROAR_EINVALID, "'%s' edge with an empty path", role_key[e->role]);
    if (e->role == ROAR_ROLE_DEL) {
        if (e->id_known || e->size)
            return roar_error_set(ROAR_EINVALID, "'del' edge with a blob id or size");
        return put_path_line(b, "del", e->path);
    }
    if (e->id_known && !roar_oid_is_hex(e->id))
        return roar_error_set(ROAR_EINVALID, "'%s' edge with a malformed blob id",
                              role_key[e->role]);
    if ((error = roar_buf_printf(b, "%s %s %" PRIu64 " ", role_key[e->role],
                                 e->id_known ? e->id : "-", e->size)) < 0 ||
        (error = roar_quote_path(b, e->path, strlen(e->path))) < 0)
        return error;
    return end_line(b, start);
}

static int write_incomplete(roar_buf *b, const roar_incomplete *inc)
{
    size_t start = b->size;
    int error;

    if (!inc->reason || !is_token(inc->reason, strlen(inc->reason), true))
        return roar_error_set(ROAR_EINVALID, "malformed incomplete reason");
    if ((error = roar_buf_printf(b, "incomplete %s", inc->reason)) < 0)
        return error;
    if (inc->has_count && (error = roar_buf_printf(b, " %" PRIu64, inc->count)) < 0)
        return error;
    if (inc->path) {
        size_t len = strlen(inc->path);
        if (!len)
            return roar_error_set(ROAR_EINVALID, "incomplete line with an empty path");
        if ((error = roar_buf_putc(b, ' ')) < 0)
            return error;
        /* Quoting is what tells such a path from a count (docs/record-format.md). */
        if (!inc->has_count && path_reads_as_count(inc->path) &&
            !roar_quote_path_needed(inc->path, len))
            error = roar_buf_printf(b, "\"%s\"", inc->path);
        else
            error = roar_quote_path(b, inc->path, len);
        if (error < 0)
            return error;
    }
    return end_line(b, start);
}

/* The step lines, last (SPEC §4.9): checked against the edges, since a step naming a
 * line that is not there would mislead every reader. */
static int write_steps(roar_buf *b, const roar_job *job)
{
    size_t nin = 0, nout = 0, start;
    int error;
    if (!job->steps.count)
        return 0;
    for (size_t i = 0; i < job->edge_count; i++) {
        nin += job->edges[i].role == ROAR_ROLE_IN;
        nout += job->edges[i].role == ROAR_ROLE_OUT;
    }
    if ((error = roar_steps_check(&job->steps, nin, nout)) < 0)
        return error;
    for (size_t i = 0; i < job->steps.count; i++) {
        start = b->size;
        if ((error = roar_buf_puts(b, "step ")) < 0 ||
            (error = roar_steps_format_value(b, &job->steps.v[i])) < 0 ||
            (error = end_line(b, start)) < 0)
            return error;
    }
    return 0;
}

static int write_body(roar_buf *b, const roar_job *job)
{
    size_t start;
    int error;

    if (job->argc == 0 || !job->argv)
        return roar_error_set(ROAR_EINVALID, "job without a command");
    for (size_t i = 0; i < job->argc; i++)
        if (!job->argv[i])
            return roar_error_set(ROAR_EINVALID, "job with a NULL argument");
    if (!job->cwd)
        return roar_error_set(ROAR_EINVALID, "job without a cwd");
    if (job->dirty != 0 && job->dirty != 1)
        return roar_error_set(ROAR_EINVALID, "dirty must be 0 or 1, not %d", job->dirty);
    if (job->end_code < 0 || (job->end_kind != ROAR_END_EXIT && job->end_kind != ROAR_END_SIGNAL))
        return roar_error_set(ROAR_EINVALID, "malformed exit status");
    if (job->has_base && !roar_oid_is_hex(job->base))
        return roar_error_set(ROAR_EINVALID, "malformed base commit id");

    start = b->size;
    if ((error = roar_buf_puts(b, "command ")) < 0 ||
        (error = roar_quote_argv(b, (const char *const *)job->argv, job->argc)) < 0 ||
        (error = end_line(b, start)) < 0 || (error = put_path_line(b, "cwd", job->cwd)) < 0)
        return error;
    if (job->has_base && (error = roar_buf_printf(b, "base %s\n", job->base)) < 0)
        return error;
    if ((error = roar_buf_printf(b, "dirty %d\n", job->dirty)) < 0)
        return error;
    if (job->tracer && (error = put_path_line(b, "tracer", job->tracer)) < 0)
        return error;
    if (job->host && (error = put_path_line(b, "host", job->host)) < 0)
        return error;
    if (job->user && (error = put_path_line(b, "user", job->user)) < 0)
        return error;
    if ((error = put_time_line(b, "start", job->start_ms)) < 0 ||
        (error = put_time_line(b, "end", job->end_ms)) < 0)
        return error;
    if ((error = roar_buf_printf(b, "%s %d\n", job->end_kind == ROAR_END_EXIT ? "exit" : "signal",
                                 job->end_code)) < 0)
        return error;

    for (size_t i = 0; i < job->env_count; i++) {
        const roar_kv *kv = &job->env[i];
        if (!kv->key || !is_token(kv->key, strlen(kv->key), false) || !kv->value)
            return roar_error_set(ROAR_EINVALID, "malformed environment variable name");
        start = b->size;
        if ((error = roar_buf_printf(b, "env %s=", kv->key)) < 0 ||
            (error = roar_quote_arg(b, kv->value, strlen(kv->value))) < 0 ||
            (error = end_line(b, start)) < 0)
            return error;
    }
    for (size_t i = 0; i < job->extra_count; i++) {
        const roar_kv *kv = &job->extra[i];
        size_t klen = kv->key ? strlen(kv->key) : 0;
        if (!klen || strpbrk(kv->key, " \n") || key_of(kv->key, klen) != K_UNKNOWN ||
            !kv->value || strchr(kv->value, '\n'))
            return roar_error_set(ROAR_EINVALID, "unknown key '%s' cannot be written back",
                                  kv->key ? kv->key : "");
        start = b->size;
        if ((error = roar_buf_printf(b, "%s %s", kv->key, kv->value)) < 0 ||
            (error = end_line(b, start)) < 0)
            return error;
    }
    for (size_t i = 0; i < job->edge_count; i++)
        if ((error = write_edge(b, &job->edges[i])) < 0)
            return error;
    for (size_t i = 0; i < job->incomplete_count; i++)
        if ((error = write_incomplete(b, &job->incomplete[i])) < 0)
            return error;
    if ((error = write_steps(b, job)) < 0)
        return error;
    if (b->size + sizeof("job \n") + ROAR_OID_HEXSZ > ROAR_RECORD_MAX_RECORD)
        return roar_error_set(ROAR_ELIMIT, "the record would be over the %zu-byte limit",
                              ROAR_RECORD_MAX_RECORD);
    return 0;
}

int roar_record_serialize(roar_buf *out, roar_job *job)
{
    roar_buf body = ROAR_BUF_INIT;
    size_t orig = out->size;
    int error;

    job->id[0] = '\0';
    if (job->steps.count && !roar_job_edges_sorted(job))
        return roar_error_set(ROAR_EINVALID, "steps name edges that are not in record order");
    roar_job_sort(job);
    if ((error = write_body(&body, job)) < 0 ||
        (error = roar_blob_id_of_buffer(job->id, body.ptr, body.size)) < 0)
        goto cleanup;
    if ((error = roar_buf_printf(out, "job %s\n", job->id)) < 0 ||
        (error = roar_buf_put(out, body.ptr, body.size)) < 0)
        goto cleanup;
cleanup:
    if (error) {
        job->id[0] = '\0';
        roar_buf_truncate(out, orig);
    }
    roar_buf_dispose(&body);
    return error;
}

/* ---- reader ------------------------------------------------------------- */

typedef struct {
    size_t line;     /* number of the current line (in the note, when reading one) */
    size_t err_line; /* where the first error was found */
    unsigned seen;   /* bit per singleton key */
    size_t job_line, job_line_off, job_line_len; /* where the `job` line is */
    size_t first_step_line;
    char claimed_id[ROAR_OID_HEXSZ + 1];
    roar_buf tmp;
} parser;

static int perr(parser *p, int code, const char *fmt, const char *a)
{
    p->err_line = p->line;
    return roar_error_set(code, fmt, p->line, a);
}

/* Prefixes the message left by a value parser with where and what. */
static int pwrap(parser *p, int error, const char *what, const char *key)
{
    p->err_line = p->line;
    roar_error_prefix("line %zu: malformed %s in '%s' line", p->line, what, key);
    return error;
}

/* A decimal without sign or leading zeros that fits in `max`. */
static bool parse_uint(uint64_t *out, const char *s, size_t len, uint64_t max)
{
    uint64_t v = 0;
    if (len == 0 || (s[0] == '0' && len > 1))
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned d;
        if (s[i] < '0' || s[i] > '9')
            return false;
        d = (unsigned)(s[i] - '0');
        if (v > (max - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

static bool all_digits(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return len > 0;
}

static bool is_hex_id(const char *s, size_t len)
{
    char id[ROAR_OID_HEXSZ + 1];
    if (len != ROAR_OID_HEXSZ)
        return false;
    memcpy(id, s, len);
    id[len] = '\0';
    return roar_oid_is_hex(id);
}

static int path_value(parser *p, char **out, const char *v, size_t len, const char *key)
{
    int error;
    roar_buf_clear(&p->tmp);
    if ((error = roar_quote_path_parse(&p->tmp, v, len)) < 0)
        return pwrap(p, error, "path", key);
    if (!(*out = strdup(p->tmp.ptr)))
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    return 0;
}

static int parse_edge(parser *p, roar_job *job, int key, const char *v, size_t len)
{
    const char *kname = known_keys[key];
    const char *sp1, *sp2;
    char id[ROAR_OID_HEXSZ + 1];
    uint64_t size = 0;
    bool id_known = false;
    int error;

    if (key == K_DEL) {
        sp2 = v - 1; /* the path is the whole value */
    } else {
        if (!(sp1 = memchr(v, ' ', len)))
            return perr(p, ROAR_EINVALID, "line %zu: '%s' line needs '<id> <size> <path>'",
                        kname);
        if (sp1 - v == 1 && v[0] == '-') {
            id_known = false;
        } else if (is_hex_id(v, (size_t)(sp1 - v))) {
            id_known = true;
            memcpy(id, v, ROAR_OID_HEXSZ);
            id[ROAR_OID_HEXSZ] = '\0';
        } else {
            return perr(p, ROAR_EINVALID, "line %zu: malformed blob id in '%s' line", kname);
        }
        if (!(sp2 = memchr(sp1 + 1, ' ', len - (size_t)(sp1 + 1 - v))))
            return perr(p, ROAR_EINVALID, "line %zu: '%s' line needs '<id> <size> <path>'",
                        kname);
        if (!parse_uint(&size, sp1 + 1, (size_t)(sp2 - sp1 - 1), UINT64_MAX))
            return perr(p, ROAR_EINVALID, "line %zu: malformed size in '%s' line", kname);
    }
    roar_buf_clear(&p->tmp);
    if ((error = roar_quote_path_parse(&p->tmp, sp2 + 1, len - (size_t)(sp2 + 1 - v))) < 0)
        return pwrap(p, error, "path", kname);
    if (p->tmp.size == 0)
        return perr(p, ROAR_EINVALID, "line %zu: empty path in '%s' line", kname);
    return roar_job_add_edge(job, key == K_IN ? ROAR_ROLE_IN : key == K_OUT ? ROAR_ROLE_OUT
                                                                            : ROAR_ROLE_DEL,
                             p->tmp.ptr, id_known ? id : NULL, size);
}

static int parse_incomplete(parser *p, roar_job *job, const char *v, size_t len)
{
    const char *sp = memchr(v, ' ', len), *rest = NULL;
    size_t rlen = 0, reason_len = sp ? (size_t)(sp - v) : len;
    char *reason = NULL, *path = NULL;
    bool has_count = false;
    uint64_t count = 0;
    int error = 0;

    if (!is_token(v, reason_len, true))
        return perr(p, ROAR_EINVALID, "line %zu: malformed reason in '%s' line", "incomplete");
    if (sp) {
        const char *w = sp + 1, *end = v + len, *wsp;
        size_t wlen;
        wsp = memchr(w, ' ', (size_t)(end - w));
        wlen = wsp ? (size_t)(wsp - w) : (size_t)(end - w);
        if (all_digits(w, wlen)) {
            if (!parse_uint(&count, w, wlen, UINT64_MAX))
                return perr(p, ROAR_EINVALID, "line %zu: malformed count in '%s' line",
                            "incomplete");
            has_count = true;
            if (wsp) {
                rest = wsp + 1;
                rlen = (size_t)(end - rest);
            }
        } else {
            rest = w;
            rlen = (size_t)(end - w);
        }
        if (rest && (error = path_value(p, &path, rest, rlen, "incomplete")) < 0)
            return error;
        /* `""` decodes to nothing: no path is written without the word, as for edges. */
        if (path && !path[0]) {
            free(path);
            return perr(p, ROAR_EINVALID, "line %zu: empty path in '%s' line", "incomplete");
        }
    }
    if (!(reason = strndup(v, reason_len)))
        error = roar_error_set(ROAR_ENOMEM, "out of memory");
    else
        error = roar_job_add_incomplete(job, reason, has_count, count, path);
    free(reason);
    free(path);
    return error;
}

static int parse_env(parser *p, roar_job *job, const char *v, size_t len)
{
    const char *eq = memchr(v, '=', len);
    char *name;
    int error;

    if (!eq || !is_token(v, (size_t)(eq - v), false))
        return perr(p, ROAR_EINVALID, "line %zu: '%s' line needs NAME=value", "env");
    roar_buf_clear(&p->tmp);
    if ((error = roar_quote_arg_parse(&p->tmp, eq + 1, len - (size_t)(eq + 1 - v))) < 0)
        return pwrap(p, error, "value", "env");
    if (!(name = strndup(v, (size_t)(eq - v))))
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    error = roar_job_add_env(job, name, p->tmp.ptr);
    free(name);
    return error;
}

static int parse_line(parser *p, roar_job *job, const char *line, size_t len, size_t off)
{
    const char *sp = memchr(line, ' ', len), *v;
    size_t klen = sp ? (size_t)(sp - line) : len, vlen;
    int key = key_of(line, klen), error = 0;
    uint64_t u;

    if (klen == 0)
        return perr(p, ROAR_EINVALID, "line %zu: line begins with a space%s", "");
    if (key == K_UNKNOWN) {
        /* Forward compatibility: kept verbatim, re-emitted in order. */
        char *k = strndup(line, klen), *val = strndup(sp ? sp + 1 : "", sp ? len - klen - 1 : 0);
        if (!k || !val)
            error = roar_error_set(ROAR_ENOMEM, "out of memory");
        else
            error = roar_job_add_extra(job, k, val);
        free(k);
        free(val);
        return error;
    }
    if (!sp)
        return perr(p, ROAR_EINVALID, "line %zu: '%s' line without a value", known_keys[key]);
    v = sp + 1;
    vlen = len - klen - 1;

    if (key <= K_SIGNAL) {
        /* exit and signal share one bit: a job ends one way. */
        unsigned bit = 1u << (key == K_SIGNAL ? K_EXIT : key);
        if (p->seen & bit)
            return perr(p, ROAR_EINVALID,
                        key >= K_EXIT ? "line %zu: more than one 'exit'/'signal' line%s"
                                      : "line %zu: duplicate '%s' line",
                        key >= K_EXIT ? "" : known_keys[key]);
        p->seen |= bit;
    }

    switch (key) {
    case K_JOB:
        if (!is_hex_id(v, vlen))
            return perr(p, ROAR_EINVALID, "line %zu: malformed job id in '%s' line", "job");
        memcpy(p->claimed_id, v, ROAR_OID_HEXSZ);
        p->claimed_id[ROAR_OID_HEXSZ] = '\0';
        p->job_line = p->line;
        p->job_line_off = off;
        p->job_line_len = len + 1;
        return 0;
    case K_COMMAND:
        if ((error = roar_quote_argv_parse(&job->argv, &job->argc, v, vlen)) < 0)
            return pwrap(p, error, "command", "command");
        if (job->argc == 0)
            return perr(p, ROAR_EINVALID, "line %zu: empty '%s' line", "command");
        return 0;
    case K_CWD:
        return path_value(p, &job->cwd, v, vlen, "cwd");
    case K_TRACER:
        return path_value(p, &job->tracer, v, vlen, "tracer");
    case K_HOST:
        return path_value(p, &job->host, v, vlen, "host");
    case K_USER:
        return path_value(p, &job->user, v, vlen, "user");
    case K_BASE:
        if (!is_hex_id(v, vlen))
            return perr(p, ROAR_EINVALID, "line %zu: malformed commit id in '%s' line", "base");
        memcpy(job->base, v, ROAR_OID_HEXSZ);
        job->base[ROAR_OID_HEXSZ] = '\0';
        job->has_base = true;
        return 0;
    case K_DIRTY:
        if (vlen != 1 || (v[0] != '0' && v[0] != '1'))
            return perr(p, ROAR_EINVALID, "line %zu: '%s' must be 0 or 1", "dirty");
        job->dirty = v[0] - '0';
        return 0;
    case K_START:
    case K_END:
        if ((error = roar_time_parse(key == K_START ? &job->start_ms : &job->end_ms, v, vlen)) < 0)
            return pwrap(p, error, "time", known_keys[key]);
        return 0;
    case K_EXIT:
    case K_SIGNAL:
        if (!parse_uint(&u, v, vlen, INT_MAX))
            return perr(p, ROAR_EINVALID, "line %zu: malformed number in '%s' line",
                        known_keys[key]);
        job->end_kind = key == K_EXIT ? ROAR_END_EXIT : ROAR_END_SIGNAL;
        job->end_code = (int)u;
        return 0;
    case K_ENV:
        return parse_env(p, job, v, vlen);
    case K_IN:
    case K_OUT:
    case K_DEL:
        return parse_edge(p, job, key, v, vlen);
    case K_INCOMPLETE:
        return parse_incomplete(p, job, v, vlen);
    case K_STEP:
        if (!p->first_step_line)
            p->first_step_line = p->line;
        if ((error = roar_steps_parse_value(&job->steps, v, vlen)) < 0)
            return pwrap(p, error, "step", "step");
        return 0;
    }
    return 0;
}

/* Verifies the claimed id: the blob id of the record without its job line. */
static int check_id(parser *p, const char *text, size_t len)
{
    roar_blob_hasher *h = NULL;
    char id[ROAR_OID_HEXSZ + 1];
    size_t after = p->job_line_off + p->job_line_len;
    int error;

    if ((error = roar_blob_hasher_new(&h, len - p->job_line_len)) < 0 ||
        (error = roar_blob_hasher_update(h, text, p->job_line_off)) < 0 ||
        (error = roar_blob_hasher_update(h, text + after, len - after)) < 0 ||
        (error = roar_blob_hasher_final(id, h)) < 0)
        goto cleanup;
    if (strcmp(id, p->claimed_id)) {
        p->err_line = p->line;
        error = roar_error_set(ROAR_EINVALID,
                               "line %zu: job id %s does not match the record's content (%s)",
                               p->line, p->claimed_id, id);
    }
cleanup:
    roar_blob_hasher_free(h);
    return error;
}

/* Parses one record whose first line is line `first_line` of its note. */
static int parse_record(roar_job *out, const char *text, size_t len, size_t first_line,
                        size_t *err_line)
{
    parser p = {0};
    size_t pos = 0;
    int error = 0;

    roar_job_init(out);
    p.tmp = (roar_buf)ROAR_BUF_INIT;
    p.line = first_line;
    *err_line = first_line;
    if (len > ROAR_RECORD_MAX_RECORD) {
        error = roar_error_set(ROAR_ELIMIT, "line %zu: record is over the %zu-byte limit",
                               first_line, ROAR_RECORD_MAX_RECORD);
        goto cleanup;
    }
    if (len == 0) {
        error = roar_error_set(ROAR_EINVALID, "line %zu: empty record", first_line);
        goto cleanup;
    }
    for (; pos < len; p.line++) {
        size_t avail = len - pos;
        const char *nl = memchr(text + pos, '\n', avail < ROAR_RECORD_MAX_LINE + 1
                                                      ? avail
                                                      : ROAR_RECORD_MAX_LINE + 1);
        size_t llen;
        if (!nl) {
            if (avail > ROAR_RECORD_MAX_LINE)
                error = perr(&p, ROAR_ELIMIT, "line %zu: line is over the 65536-byte limit%s",
                             "");
            else
                error = perr(&p, ROAR_EINVALID, "line %zu: missing newline at end of line%s",
                             "");
            goto cleanup;
        }
        llen = (size_t)(nl - (text + pos));
        if (llen == 0) {
            error = perr(&p, ROAR_EINVALID, "line %zu: empty line inside a record%s", "");
            goto cleanup;
        }
        if (memchr(text + pos, '\0', llen)) {
            error = perr(&p, ROAR_EINVALID, "line %zu: NUL byte in line%s", "");
            goto cleanup;
        }
        if ((error = parse_line(&p, out, text + pos, llen, pos)) < 0)
            goto cleanup;
        pos += llen + 1;
    }
    p.line = first_line;
    if (!p.job_line)
        error = perr(&p, ROAR_EINVALID, "line %zu: record without a '%s' line", "job");
    else if (!out->argv)
        error = perr(&p, ROAR_EINVALID, "line %zu: record without a '%s' line", "command");
    else if (!out->cwd)
        error = perr(&p, ROAR_EINVALID, "line %zu: record without a '%s' line", "cwd");
    else if (!(p.seen & (1u << K_DIRTY)))
        error = perr(&p, ROAR_EINVALID, "line %zu: record without a '%s' line", "dirty");
    else if (!(p.seen & (1u << K_START)))
        error = perr(&p, ROAR_EINVALID, "line %zu: record without a '%s' line", "start");
    else if (!(p.seen & (1u << K_END)))
        error = perr(&p, ROAR_EINVALID, "line %zu: record without an '%s' line", "end");
    else if (!(p.seen & (1u << K_EXIT)))
        error = perr(&p, ROAR_EINVALID, "line %zu: record without an '%s' or 'signal' line",
                     "exit");
    if (error)
        goto cleanup;
    p.line = p.job_line;
    if ((error = check_id(&p, text, len)) < 0)
        goto cleanup;
    memcpy(out->id, p.claimed_id, sizeof(out->id));
    if (out->steps.count && !roar_job_edges_sorted(out)) {
        /* Positions name lines in the order written; a record whose edges are not in
         * record order is read with every output depending on every input. */
        roar_steps_dispose(&out->steps);
    } else if (out->steps.count) {
        size_t nin = 0, nout = 0;
        for (size_t i = 0; i < out->edge_count; i++) {
            nin += out->edges[i].role == ROAR_ROLE_IN;
            nout += out->edges[i].role == ROAR_ROLE_OUT;
        }
        if ((error = roar_steps_check(&out->steps, nin, nout)) < 0 ||
            (error = roar_steps_index(&out->steps)) < 0) {
            p.line = p.first_step_line;
            error = pwrap(&p, error, "steps", "step");
            goto cleanup;
        }
    }
    roar_job_sort(out);
cleanup:
    if (error) {
        *err_line = p.err_line ? p.err_line : first_line;
        roar_job_dispose(out);
    }
    roar_buf_dispose(&p.tmp);
    return error;
}

int roar_record_parse(roar_job *out, const char *text, size_t len)
{
    size_t err_line;
    return parse_record(out, text, len, 1, &err_line);
}

int roar_record__parse_at(roar_job *out, const char *text, size_t len, size_t first_line,
                          size_t *err_line)
{
    return parse_record(out, text, len, first_line, err_line);
}
