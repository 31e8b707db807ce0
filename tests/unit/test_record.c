/* Unit tests for src/graph/record: the record codec, job ids (checked against real
 * `git hash-object`), limits, line-numbered errors, and notes (dedup, merge, skip). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "graph/oid.h"
#include "graph/record.h"
#include "util/err.h"

/* ---- helpers ------------------------------------------------------------ */

static uint64_t rng_state;

static uint32_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * UINT64_C(2685821657736338717)) >> 32);
}

/* A random string of minlen..maxlen pieces of arbitrary non-NUL bytes, biased towards
 * what quoting must survive. Returned malloc'd. */
static char *random_string(size_t minlen, size_t maxlen)
{
    static const char *pieces[] = {" ", "  ", "'", "\"", "\\", "\t", "\n", "\r", "$", "=",
                                   "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xff",
                                   "\xc3", "\x80", "\x7f", "\x01", "a", "b", "0", "7", "/",
                                   ".", "-", "data", "\"x\"", "job ", "in "};
    roar_buf b = ROAR_BUF_INIT;
    size_t n = minlen + rnd() % (maxlen - minlen + 1);
    for (size_t i = 0; i < n; i++) {
        if (rnd() % 4 == 0)
            roar_buf_putc(&b, (char)(1 + rnd() % 255));
        else
            roar_buf_puts(&b, pieces[rnd() % (sizeof(pieces) / sizeof(*pieces))]);
    }
    return roar_buf_detach(&b);
}

static void random_hex(char out[ROAR_OID_HEXSZ + 1])
{
    for (int i = 0; i < ROAR_OID_HEXSZ; i++)
        out[i] = "0123456789abcdef"[rnd() % 16];
    out[ROAR_OID_HEXSZ] = '\0';
}

static void random_job(roar_job *job)
{
    static const char *env_names[] = {"PYTHONHASHSEED", "CUDA_VISIBLE_DEVICES", "LANG", "X"};
    static const char *reasons[] = {"events-lost", "static-binary", "hash-unknown",
                                    "running-descendants", "io_uring", "path-too-long"};
    size_t argc = 1 + rnd() % 5;
    char *argv[5];

    roar_job_init(job);
    for (size_t i = 0; i < argc; i++)
        argv[i] = random_string(0, 8);
    assert_int_equal(roar_job_set_argv(job, (const char *const *)argv, argc), 0);
    for (size_t i = 0; i < argc; i++)
        free(argv[i]);
    job->cwd = rnd() % 3 ? random_string(1, 6) : strdup(".");
    if ((job->has_base = rnd() % 2))
        random_hex(job->base);
    job->dirty = (int)(rnd() % 2);
    job->tracer = rnd() % 4 ? strdup(rnd() % 2 ? "ebpf" : "preload") : NULL;
    job->host = rnd() % 3 ? random_string(0, 4) : NULL;
    job->user = rnd() % 3 ? random_string(0, 4) : NULL;
    job->start_ms = (int64_t)(rnd() % 4000000) * 1000000 + rnd() % 1000000 - INT64_C(1000000000000);
    job->end_ms = job->start_ms + rnd() % 100000;
    job->end_kind = rnd() % 4 ? ROAR_END_EXIT : ROAR_END_SIGNAL;
    job->end_code = (int)(rnd() % 256);
    for (size_t i = 0, n = rnd() % 3; i < n; i++) {
        char *v = random_string(0, 6);
        assert_int_equal(roar_job_add_env(job, env_names[rnd() % 4], v), 0);
        free(v);
    }
    if (rnd() % 8 == 0)
        assert_int_equal(roar_job_add_extra(job, "x-future", rnd() % 2 ? "some value" : ""), 0);
    for (size_t i = 0, n = rnd() % 6; i < n; i++) {
        roar_role role = (roar_role)(rnd() % 3);
        char id[ROAR_OID_HEXSZ + 1], *path = random_string(1, 8);
        bool known = role != ROAR_ROLE_DEL && rnd() % 4;
        random_hex(id);
        assert_int_equal(roar_job_add_edge(job, role, path, known ? id : NULL,
                                           role == ROAR_ROLE_DEL ? 0 : ((uint64_t)rnd() << 20) ^ rnd()),
                         0);
        free(path);
    }
    for (size_t i = 0, n = rnd() % 3; i < n; i++) {
        char *path = NULL;
        if (rnd() % 2)
            path = rnd() % 3 ? random_string(1, 6) : strdup(rnd() % 2 ? "123" : "12 rest");
        assert_int_equal(roar_job_add_incomplete(job, reasons[rnd() % 6], rnd() % 2,
                                                 rnd() % 1000, path),
                         0);
        free(path);
    }
}

static char *serialize(roar_job *job, size_t *len)
{
    roar_buf b = ROAR_BUF_INIT;
    if (roar_record_serialize(&b, job) < 0)
        fail_msg("serialize: %s", roar_error_last());
    *len = b.size;
    return roar_buf_detach(&b);
}

/* A fixed job with every field, for the error tests. */
static void full_job(roar_job *job)
{
    const char *argv[] = {"python3", "train.py", "--out", "models/final model.pt"};
    roar_job_init(job);
    assert_int_equal(roar_job_set_argv(job, argv, 4), 0);
    job->cwd = strdup(".");
    job->has_base = true;
    strcpy(job->base, "9fceb02d0ae598e95dc970b74767f19372d61af8");
    job->dirty = 1;
    job->tracer = strdup("ebpf");
    job->host = strdup("build-07");
    job->user = strdup("alice");
    job->start_ms = INT64_C(1795780800123);
    job->end_ms = INT64_C(1795780812468);
    assert_int_equal(roar_job_add_env(job, "PYTHONHASHSEED", "0"), 0);
    assert_int_equal(roar_job_add_edge(job, ROAR_ROLE_OUT, "models/final model.pt",
                                       "77c1e2a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4", 5242880),
                     0);
    assert_int_equal(roar_job_add_edge(job, ROAR_ROLE_IN, "train.py",
                                       "91c0ffee5e3b2a1d0c9f8e7d6c5b4a3928171605", 2048),
                     0);
    assert_int_equal(roar_job_add_edge(job, ROAR_ROLE_IN, "data/train.csv",
                                       "8ab3c1d97e0a4f3c2b1a09f8e7d6c5b4a3928171", 1048576),
                     0);
    assert_int_equal(roar_job_add_edge(job, ROAR_ROLE_DEL, "scratch/old.tmp", NULL, 0), 0);
    assert_int_equal(roar_job_add_incomplete(job, "events-lost", true, 3, NULL), 0);
}

static const char full_body[] =
    "command python3 train.py --out 'models/final model.pt'\n"
    "cwd .\n"
    "base 9fceb02d0ae598e95dc970b74767f19372d61af8\n"
    "dirty 1\n"
    "tracer ebpf\n"
    "host build-07\n"
    "user alice\n"
    "start 2026-11-27T12:00:00.123Z\n"
    "end 2026-11-27T12:00:12.468Z\n"
    "exit 0\n"
    "env PYTHONHASHSEED=0\n"
    "in 8ab3c1d97e0a4f3c2b1a09f8e7d6c5b4a3928171 1048576 data/train.csv\n"
    "in 91c0ffee5e3b2a1d0c9f8e7d6c5b4a3928171605 2048 train.py\n"
    "out 77c1e2a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4 5242880 models/final model.pt\n"
    "del scratch/old.tmp\n"
    "incomplete events-lost 3\n";

/* Builds "job <id>\n" + body with the correct id. */
static char *with_id(const char *body, size_t body_len, size_t *len)
{
    char id[ROAR_OID_HEXSZ + 1];
    roar_buf b = ROAR_BUF_INIT;
    assert_int_equal(roar_blob_id_of_buffer(id, body, body_len), 0);
    roar_buf_printf(&b, "job %s\n", id);
    roar_buf_put(&b, body, body_len);
    *len = b.size;
    return roar_buf_detach(&b);
}

/* ---- single records ----------------------------------------------------- */

static void test_serialize_spec_order(void **state)
{
    roar_job job, back;
    size_t len;
    char *text;
    (void)state;

    full_job(&job);
    text = serialize(&job, &len);
    assert_int_equal(strncmp(text, "job ", 4), 0);
    assert_int_equal(text[44], '\n');
    assert_string_equal(text + 45, full_body);
    assert_memory_equal(text + 4, job.id, ROAR_OID_HEXSZ);

    assert_int_equal(roar_record_parse(&back, text, len), 0);
    assert_true(roar_job_equal(&job, &back));
    roar_job_dispose(&back);

    /* Absent optional fields are omitted; signal instead of exit. */
    job.has_base = false;
    free(job.host);
    job.host = NULL;
    job.end_kind = ROAR_END_SIGNAL;
    job.end_code = 2;
    free(text);
    text = serialize(&job, &len);
    assert_null(strstr(text, "\nbase "));
    assert_null(strstr(text, "\nhost "));
    assert_null(strstr(text, "\nexit "));
    assert_non_null(strstr(text, "\nend 2026-11-27T12:00:12.468Z\nsignal 2\nenv "));
    assert_int_equal(roar_record_parse(&back, text, len), 0);
    assert_true(roar_job_equal(&job, &back));
    roar_job_dispose(&back);
    free(text);
    roar_job_dispose(&job);
}

static void test_id_matches_git_hash_object(void **state)
{
    (void)state;
    rng_state = 0x91;
    for (int i = 0; i < 12; i++) {
        char path[] = "/tmp/roar-record-XXXXXX", cmd[128], got[64] = "";
        roar_job job;
        size_t len;
        char *text;
        FILE *p;
        int fd;

        if (i == 0)
            full_job(&job);
        else
            random_job(&job);
        text = serialize(&job, &len);
        assert_true((fd = mkstemp(path)) >= 0);
        assert_int_equal(write(fd, text, len), (ssize_t)len);
        close(fd);
        /* Literally the recipe of SPEC §5.1. */
        snprintf(cmd, sizeof(cmd), "tail -n +2 %s | git hash-object --stdin", path);
        assert_non_null(p = popen(cmd, "r"));
        assert_non_null(fgets(got, sizeof(got), p));
        assert_int_equal(pclose(p), 0);
        unlink(path);
        assert_int_equal(strlen(got), ROAR_OID_HEXSZ + 1);
        assert_memory_equal(got, job.id, ROAR_OID_HEXSZ);
        free(text);
        roar_job_dispose(&job);
    }
}

static void test_roundtrip_random_jobs(void **state)
{
    (void)state;
    rng_state = 0x10000;
    for (int i = 0; i < 12000; i++) {
        roar_job job, back;
        size_t len, len2;
        char *text, *text2;

        random_job(&job);
        text = serialize(&job, &len);
        if (roar_record_parse(&back, text, len) < 0)
            fail_msg("job %d: %s\n%s", i, roar_error_last(), text);
        if (!roar_job_equal(&job, &back))
            fail_msg("job %d differs after a round trip:\n%s", i, text);
        /* Serialising what was read gives the same bytes: records are canonical. */
        text2 = serialize(&back, &len2);
        assert_int_equal(len, len2);
        assert_memory_equal(text, text2, len);
        free(text);
        free(text2);
        roar_job_dispose(&job);
        roar_job_dispose(&back);
    }
}

static void test_any_line_order(void **state)
{
    /* Reverse the body's lines; its own id is the blob id of what follows `job`. */
    const char *lines[64];
    size_t n = 0, len;
    roar_buf body = ROAR_BUF_INIT;
    roar_job want, got;
    char *copy = strdup(full_body), *text, *save = NULL;
    (void)state;

    for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
        lines[n++] = l;
    for (size_t i = n; i-- > 0;)
        roar_buf_printf(&body, "%s\n", lines[i]);
    text = with_id(body.ptr, body.size, &len);
    assert_int_equal(roar_record_parse(&got, text, len), 0);
    full_job(&want);
    memcpy(want.id, got.id, sizeof(want.id));
    roar_job_sort(&want);
    assert_true(roar_job_equal(&want, &got));
    roar_job_dispose(&got);
    free(text);

    /* The job line in the middle: the id covers the other lines, in order. */
    roar_buf_clear(&body);
    roar_buf_puts(&body, full_body);
    {
        char id[ROAR_OID_HEXSZ + 1];
        roar_buf mid = ROAR_BUF_INIT;
        const char *cut = strstr(body.ptr, "start ");
        assert_int_equal(roar_blob_id_of_buffer(id, body.ptr, body.size), 0);
        roar_buf_put(&mid, body.ptr, (size_t)(cut - body.ptr));
        roar_buf_printf(&mid, "job %s\n", id);
        roar_buf_puts(&mid, cut);
        assert_int_equal(roar_record_parse(&got, mid.ptr, mid.size), 0);
        assert_string_equal(got.id, id);
        roar_job_dispose(&got);
        roar_buf_dispose(&mid);
    }
    roar_job_dispose(&want);
    roar_buf_dispose(&body);
    free(copy);
}

static void test_unknown_keys_roundtrip(void **state)
{
    roar_buf body = ROAR_BUF_INIT, again = ROAR_BUF_INIT;
    roar_job job;
    size_t len;
    char *text;
    (void)state;

    roar_buf_puts(&body, full_body);
    roar_buf_puts(&body, "x-gpu NVIDIA A100 \"80GB\"\nzz-flag\nx-gpu second\n");
    text = with_id(body.ptr, body.size, &len);
    assert_int_equal(roar_record_parse(&job, text, len), 0);
    assert_int_equal(job.extra_count, 3);
    assert_string_equal(job.extra[0].key, "x-gpu");
    assert_string_equal(job.extra[0].value, "NVIDIA A100 \"80GB\"");
    assert_string_equal(job.extra[1].key, "zz-flag");
    assert_string_equal(job.extra[1].value, "");
    assert_string_equal(job.extra[2].value, "second");
    /* Written back in the order read, after env and before the edges. */
    assert_int_equal(roar_record_serialize(&again, &job), 0);
    assert_non_null(strstr(again.ptr, "env PYTHONHASHSEED=0\nx-gpu NVIDIA A100 \"80GB\"\n"
                                      "zz-flag \nx-gpu second\nin "));
    {
        roar_job back;
        assert_int_equal(roar_record_parse(&back, again.ptr, again.size), 0);
        assert_true(roar_job_equal(&job, &back));
        roar_job_dispose(&back);
    }
    /* A writer refuses unknown keys it could not write back faithfully. */
    roar_buf_clear(&again);
    assert_int_equal(roar_job_add_extra(&job, "cwd", "x"), 0);
    assert_int_equal(roar_record_serialize(&again, &job), ROAR_EINVALID);
    assert_int_equal(again.size, 0);
    roar_job_dispose(&job);
    roar_buf_dispose(&body);
    roar_buf_dispose(&again);
    free(text);
}

static void test_incomplete_path_vs_count(void **state)
{
    roar_job job, back;
    size_t len;
    char *text;
    (void)state;

    full_job(&job);
    assert_int_equal(roar_job_add_incomplete(&job, "static-binary", false, 0, "123"), 0);
    assert_int_equal(roar_job_add_incomplete(&job, "static-binary", false, 0, "42 x"), 0);
    assert_int_equal(roar_job_add_incomplete(&job, "hash-unknown", true, 7, "9 lives"), 0);
    assert_int_equal(roar_job_add_incomplete(&job, "hash-unknown", false, 0, "data/a b"), 0);
    assert_int_equal(roar_job_add_incomplete(&job, "io_uring", false, 0, NULL), 0);
    text = serialize(&job, &len);
    assert_non_null(strstr(text, "\nincomplete static-binary \"123\"\n"
                                 "incomplete static-binary \"42 x\"\n"
                                 "incomplete hash-unknown 7 9 lives\n"
                                 "incomplete hash-unknown data/a b\n"
                                 "incomplete io_uring\n"));
    assert_int_equal(roar_record_parse(&back, text, len), 0);
    assert_true(roar_job_equal(&job, &back));
    roar_job_dispose(&back);
    roar_job_dispose(&job);
    free(text);
}

static void test_serialize_refuses(void **state)
{
    roar_buf out = ROAR_BUF_INIT;
    roar_job job;
    (void)state;

    full_job(&job);
    job.dirty = 2;
    assert_int_equal(roar_record_serialize(&out, &job), ROAR_EINVALID);
    job.dirty = 0;
    job.end_code = -1;
    assert_int_equal(roar_record_serialize(&out, &job), ROAR_EINVALID);
    job.end_code = 0;
    job.start_ms = INT64_MAX;
    assert_int_equal(roar_record_serialize(&out, &job), ROAR_EINVALID);
    job.start_ms = 0;
    assert_int_equal(roar_job_add_env(&job, "BAD NAME", "x"), 0);
    assert_int_equal(roar_record_serialize(&out, &job), ROAR_EINVALID);
    assert_int_equal(out.size, 0);
    assert_string_equal(job.id, "");
    roar_job_dispose(&job);

    full_job(&job);
    free(job.cwd);
    job.cwd = NULL;
    assert_int_equal(roar_record_serialize(&out, &job), ROAR_EINVALID);
    roar_job_dispose(&job);
    roar_buf_dispose(&out);
}

/* ---- limits ------------------------------------------------------------- */

static void test_limits(void **state)
{
    roar_buf out = ROAR_BUF_INIT, body = ROAR_BUF_INIT;
    roar_job job;
    char *big, *text;
    size_t len;
    (void)state;

    /* A path line just at and just over 64 KiB. */
    full_job(&job);
    big = malloc(ROAR_RECORD_MAX_LINE + 2);
    memset(big, 'p', ROAR_RECORD_MAX_LINE + 1);
    big[ROAR_RECORD_MAX_LINE - 4] = '\0'; /* "del " + path = exactly the limit */
    assert_int_equal(roar_job_add_edge(&job, ROAR_ROLE_DEL, big, NULL, 0), 0);
    text = serialize(&job, &len);
    {
        roar_job back;
        assert_int_equal(roar_record_parse(&back, text, len), 0);
        assert_true(roar_job_equal(&job, &back));
        roar_job_dispose(&back);
    }
    free(text);
    big[ROAR_RECORD_MAX_LINE - 4] = 'p';
    big[ROAR_RECORD_MAX_LINE - 3] = '\0';
    assert_int_equal(roar_job_add_edge(&job, ROAR_ROLE_DEL, big, NULL, 0), 0);
    assert_int_equal(roar_record_serialize(&out, &job), ROAR_ELIMIT);
    assert_int_equal(out.size, 0);
    roar_job_dispose(&job);

    /* The reader refuses the same line. */
    roar_buf_puts(&body, full_body);
    roar_buf_printf(&body, "del %s\n", big);
    text = with_id(body.ptr, body.size, &len);
    assert_int_equal(roar_record_parse(&job, text, len), ROAR_ELIMIT);
    assert_non_null(strstr(roar_error_last(), "line 18: line is over the 65536-byte limit"));
    free(text);
    free(big);

    /* A line with no end in sight: the reader stops at the limit. Everything past
     * 128 KiB is unreadable, so reading further would crash this test. */
    {
        size_t map = 1024 * 1024, ok = 128 * 1024;
        char *m = mmap(NULL, map, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        assert_true(m != MAP_FAILED);
        memset(m, 'a', ok);
        memcpy(m, "x-pad ", 6);
        assert_int_equal(mprotect(m + ok, map - ok, PROT_NONE), 0);
        assert_int_equal(roar_record_parse(&job, m, map), ROAR_ELIMIT);
        assert_non_null(strstr(roar_error_last(), "line 1:"));
        munmap(m, map);
    }

    /* A record over 64 MiB is refused before any of it is read. */
    {
        size_t map = ROAR_RECORD_MAX_RECORD + 4096;
        char *m = mmap(NULL, map, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        assert_true(m != MAP_FAILED);
        assert_int_equal(roar_record_parse(&job, m, ROAR_RECORD_MAX_RECORD + 1), ROAR_ELIMIT);
        assert_non_null(strstr(roar_error_last(), "record is over"));
        munmap(m, map);
    }

    /* So is a note over 256 MiB (only address space is reserved here). */
    {
        size_t map = ROAR_NOTE_MAX + 4096;
        char *m = mmap(NULL, map, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        roar_note note;
        assert_true(m != MAP_FAILED);
        roar_note_init(&note);
        assert_int_equal(roar_note_parse(&note, m, ROAR_NOTE_MAX + 1, NULL, NULL), ROAR_ELIMIT);
        assert_int_equal(note.count, 0);
        munmap(m, map);
    }
    roar_buf_dispose(&out);
    roar_buf_dispose(&body);
}

/* ---- malformed values --------------------------------------------------- */

typedef struct {
    const char *key;     /* the line to replace (its key), or NULL to append */
    const char *line;    /* the replacement, without LF */
    const char *message; /* expected part of the message after "line N: " */
} bad_case;

/* Line numbers of full_body + 1 (the job line). */
static size_t line_of_key(const char *key)
{
    const char *p = full_body;
    for (size_t n = 2; *p; n++) {
        if (!strncmp(p, key, strlen(key)) && p[strlen(key)] == ' ')
            return n;
        p = strchr(p, '\n') + 1;
    }
    return 0;
}

static void test_malformed_values(void **state)
{
    static const bad_case cases[] = {
        {"job", "job xyz", "malformed job id in 'job' line"},
        {"job", "job 8AB3C1D97E0A4F3C2B1A09F8E7D6C5B4A3928171", "malformed job id"},
        {"job", "job", "'job' line without a value"},
        {"command", "command a'b", "malformed command in 'command' line: unterminated"},
        {"command", "command a;b", "malformed command in 'command' line: unexpected ';'"},
        {"command", "command ", "empty 'command' line"},
        {"cwd", "cwd \"abc", "malformed path in 'cwd' line: missing closing quote"},
        {"cwd", "cwd", "'cwd' line without a value"},
        {"base", "base 123", "malformed commit id in 'base' line"},
        {"dirty", "dirty 2", "'dirty' must be 0 or 1"},
        {"dirty", "dirty yes", "'dirty' must be 0 or 1"},
        {"tracer", "tracer a\\b", "malformed path in 'tracer' line"},
        {"host", "host \"x\"y\"", "malformed path in 'host' line: text after the closing quote"},
        {"user", "user  alice", "malformed path in 'user' line: unquoted path begins"},
        {"start", "start 2026-11-27 12:00:00", "malformed time in 'start' line"},
        {"end", "end 2026-02-30T00:00:00.000Z", "malformed time in 'end' line: no such date"},
        {"exit", "exit -1", "malformed number in 'exit' line"},
        {"exit", "exit 01", "malformed number in 'exit' line"},
        {"exit", "exit 99999999999", "malformed number in 'exit' line"},
        {"exit", "signal x", "malformed number in 'signal' line"},
        {"env", "env NOVALUE", "'env' line needs NAME=value"},
        {"env", "env =x", "'env' line needs NAME=value"},
        {"env", "env X=a b", "malformed value in 'env' line: more than one word"},
        {"env", "env X=", "malformed value in 'env' line: empty value"},
        {"in", "in zz 12 a", "malformed blob id in 'in' line"},
        {"in", "in 8ab3c1d97e0a4f3c2b1a09f8e7d6c5b4a3928171 12x a", "malformed size in 'in' line"},
        {"in", "in 8ab3c1d97e0a4f3c2b1a09f8e7d6c5b4a3928171 99999999999999999999 a",
         "malformed size in 'in' line"},
        {"in", "in 8ab3c1d97e0a4f3c2b1a09f8e7d6c5b4a3928171 12", "'in' line needs '<id> <size>"},
        {"in", "in -", "'in' line needs '<id> <size> <path>'"},
        {"in", "in - 5 \"a", "malformed path in 'in' line"},
        {"out", "out 77c1e2a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4 -1 p", "malformed size in 'out' line"},
        {"out", "out - 1 \xff", "malformed path in 'out' line: invalid UTF-8"},
        {"del", "del \"\"", "empty path in 'del' line"},
        {"del", "del a\tb", "malformed path in 'del' line"},
        {"incomplete", "incomplete  x", "malformed reason in 'incomplete' line"},
        {"incomplete", "incomplete events-lost 007", "malformed count in 'incomplete' line"},
        {"incomplete", "incomplete r 5 \"x", "malformed path in 'incomplete' line"},
        {"incomplete", "incomplete r ", "malformed path in 'incomplete' line: empty path"},
        /* found by fuzz_note: an empty quoted path parsed, then could not be written */
        {"incomplete", "incomplete r \"\"", "empty path in 'incomplete' line"},
        {"incomplete", "incomplete r 5 \"\"", "empty path in 'incomplete' line"},
        {"incomplete", " incomplete r", "line begins with a space"},
        {"cwd", "cwd a\0b", "NUL byte in line"},
        {NULL, "cwd .", "duplicate 'cwd' line"},
        {NULL, "signal 9", "more than one 'exit'/'signal' line"},
        {NULL, "job 8ab3c1d97e0a4f3c2b1a09f8e7d6c5b4a3928171", "duplicate 'job' line"},
    };
    (void)state;

    for (size_t c = 0; c < sizeof(cases) / sizeof(*cases); c++) {
        roar_buf text = ROAR_BUF_INIT;
        size_t target = cases[c].key ? (strcmp(cases[c].key, "job") ? line_of_key(cases[c].key) : 1)
                                     : 18;
        size_t line_len = strlen(cases[c].line);
        char *good, want[64];
        const char *p;
        size_t len;
        roar_job job;
        int error;

        if (!strcmp(cases[c].line, "cwd a"))
            line_len = 7; /* the NUL case */
        good = with_id(full_body, sizeof(full_body) - 1, &len);
        p = good;
        for (size_t n = 1; *p; n++) {
            const char *nl = strchr(p, '\n');
            if (n == target && cases[c].key)
                roar_buf_put(&text, cases[c].line, line_len), roar_buf_putc(&text, '\n');
            else
                roar_buf_put(&text, p, (size_t)(nl - p + 1));
            p = nl + 1;
        }
        if (!cases[c].key)
            roar_buf_printf(&text, "%s\n", cases[c].line);
        error = roar_record_parse(&job, text.ptr, text.size);
        if (error != ROAR_EINVALID)
            fail_msg("case %zu (%s): got %d", c, cases[c].line, error);
        snprintf(want, sizeof(want), "line %zu: ", target);
        if (strncmp(roar_error_last(), want, strlen(want)) ||
            !strstr(roar_error_last(), cases[c].message))
            fail_msg("case %zu (%s): message '%s', wanted '%s%s'", c, cases[c].line,
                     roar_error_last(), want, cases[c].message);
        assert_int_equal(job.argc, 0); /* left empty */
        roar_buf_dispose(&text);
        free(good);
    }
}

static void test_structural_errors(void **state)
{
    static const struct {
        const char *text;
        int code;
        const char *message;
    } cases[] = {
        {"", ROAR_EINVALID, "line 1: empty record"},
        {"job 0000000000000000000000000000000000000000\ncwd .\n", ROAR_EINVALID,
         "line 1: record without a 'command' line"},
        {"cwd .\n", ROAR_EINVALID, "line 1: record without a 'job' line"},
        {"job 0000000000000000000000000000000000000000\ncwd .\n\ncommand x\n", ROAR_EINVALID,
         "line 3: empty line inside a record"},
        {"job 0000000000000000000000000000000000000000\ncwd .", ROAR_EINVALID,
         "line 2: missing newline"},
    };
    roar_job job;
    (void)state;
    for (size_t c = 0; c < sizeof(cases) / sizeof(*cases); c++) {
        assert_int_equal(roar_record_parse(&job, cases[c].text, strlen(cases[c].text)),
                         cases[c].code);
        if (!strstr(roar_error_last(), cases[c].message))
            fail_msg("case %zu: '%s' lacks '%s'", c, roar_error_last(), cases[c].message);
    }

    /* Each required key, removed. */
    {
        static const char *required[] = {"command", "cwd", "dirty", "start", "end", "exit"};
        for (size_t r = 0; r < 6; r++) {
            roar_buf body = ROAR_BUF_INIT;
            char *text, want[64];
            size_t len;
            for (const char *p = full_body; *p;) {
                const char *nl = strchr(p, '\n');
                if (strncmp(p, required[r], strlen(required[r])) || p[strlen(required[r])] != ' ')
                    roar_buf_put(&body, p, (size_t)(nl - p + 1));
                p = nl + 1;
            }
            text = with_id(body.ptr, body.size, &len);
            assert_int_equal(roar_record_parse(&job, text, len), ROAR_EINVALID);
            snprintf(want, sizeof(want), "'%s'", required[r]);
            assert_non_null(strstr(roar_error_last(), "line 1: record without"));
            assert_non_null(strstr(roar_error_last(), want));
            free(text);
            roar_buf_dispose(&body);
        }
    }

    /* A body that does not match its id. */
    {
        size_t len;
        char *text = with_id(full_body, sizeof(full_body) - 1, &len);
        char *dirty = strstr(text, "dirty 1");
        dirty[6] = '0';
        assert_int_equal(roar_record_parse(&job, text, len), ROAR_EINVALID);
        assert_non_null(strstr(roar_error_last(), "line 1: job id"));
        assert_non_null(strstr(roar_error_last(), "does not match the record's content"));
        free(text);
    }
}

/* ---- notes -------------------------------------------------------------- */

typedef struct {
    size_t calls;
    size_t record_line[8], line[8];
    int code[8];
    char message[8][256];
} problems;

static int collect(const roar_note_problem *pr, void *payload)
{
    problems *ps = payload;
    if (ps->calls < 8) {
        ps->record_line[ps->calls] = pr->record_line;
        ps->line[ps->calls] = pr->line;
        ps->code[ps->calls] = pr->code;
        snprintf(ps->message[ps->calls], 256, "%s", pr->message);
    }
    ps->calls++;
    return 0;
}

/* n random records, each serialised; texts[i] malloc'd. */
static void make_records(roar_job *jobs, char **texts, size_t *lens, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        random_job(&jobs[i]);
        texts[i] = serialize(&jobs[i], &lens[i]);
    }
}

static size_t count_lines(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += s[i] == '\n';
    return n;
}

static void test_note_bad_record_skipped(void **state)
{
    roar_job jobs[3];
    char *texts[3];
    size_t lens[3], bad_start, bad_line;
    roar_buf note_text = ROAR_BUF_INIT;
    problems ps = {0};
    roar_note note;
    (void)state;

    rng_state = 0x77;
    make_records(jobs, texts, lens, 3);
    /* Record 2 gets a malformed size on its fourth line ("dirty" -> bad value). */
    roar_buf_put(&note_text, texts[0], lens[0]);
    roar_buf_putc(&note_text, '\n');
    bad_start = count_lines(note_text.ptr, note_text.size) + 1;
    {
        char *d = strstr(texts[1], "\ndirty ");
        d[7] = '7';
        bad_line = bad_start + count_lines(texts[1], (size_t)(d - texts[1]) + 1);
    }
    roar_buf_put(&note_text, texts[1], lens[1]);
    roar_buf_puts(&note_text, "\n\n"); /* two empty lines are accepted too */
    roar_buf_put(&note_text, texts[2], lens[2]);

    roar_note_init(&note);
    assert_int_equal(roar_note_parse(&note, note_text.ptr, note_text.size, collect, &ps), 0);
    assert_int_equal(note.count, 2);
    assert_true(roar_job_equal(&note.records[0].job, &jobs[0]));
    assert_true(roar_job_equal(&note.records[1].job, &jobs[2]));
    assert_int_equal(ps.calls, 1);
    assert_int_equal(ps.code[0], ROAR_EINVALID);
    assert_int_equal(ps.record_line[0], bad_start);
    assert_int_equal(ps.line[0], bad_line);
    {
        char want[64];
        snprintf(want, sizeof(want), "line %zu: 'dirty' must be 0 or 1", bad_line);
        assert_string_equal(ps.message[0], want);
    }
    roar_note_dispose(&note);
    for (int i = 0; i < 3; i++) {
        free(texts[i]);
        roar_job_dispose(&jobs[i]);
    }
    roar_buf_dispose(&note_text);
}

static void test_note_oversize_record_skipped(void **state)
{
    roar_job jobs[2];
    char *texts[2];
    size_t lens[2];
    roar_buf note_text = ROAR_BUF_INIT;
    problems ps = {0};
    roar_note note;
    char pad[1024];
    (void)state;

    rng_state = 0x78;
    make_records(jobs, texts, lens, 2);
    roar_buf_put(&note_text, texts[0], lens[0]);
    roar_buf_puts(&note_text, "\n");
    assert_int_equal(roar_buf_grow(&note_text, ROAR_RECORD_MAX_RECORD + 2 * sizeof(pad)), 0);
    memset(pad, 'z', sizeof(pad));
    memcpy(pad, "x-pad ", 6);
    pad[sizeof(pad) - 1] = '\n';
    for (size_t i = 0; i <= ROAR_RECORD_MAX_RECORD / sizeof(pad); i++)
        roar_buf_put(&note_text, pad, sizeof(pad));
    roar_buf_puts(&note_text, "\n");
    roar_buf_put(&note_text, texts[1], lens[1]);

    roar_note_init(&note);
    assert_int_equal(roar_note_parse(&note, note_text.ptr, note_text.size, collect, &ps), 0);
    assert_int_equal(note.count, 2);
    assert_int_equal(ps.calls, 1);
    assert_int_equal(ps.code[0], ROAR_ELIMIT);
    assert_int_equal(ps.record_line[0], count_lines(texts[0], lens[0]) + 2);
    roar_note_dispose(&note);
    for (int i = 0; i < 2; i++) {
        free(texts[i]);
        roar_job_dispose(&jobs[i]);
    }
    roar_buf_dispose(&note_text);
}

static void test_note_union_merge(void **state)
{
    roar_job jobs[4];
    char *texts[4];
    size_t lens[4];
    roar_buf a = ROAR_BUF_INIT, b = ROAR_BUF_INIT, both = ROAR_BUF_INIT, out = ROAR_BUF_INIT;
    roar_note note, again;
    (void)state;

    rng_state = 0x99;
    make_records(jobs, texts, lens, 4);
    /* A holds 0, 1, 2; B holds 2, 3 (2 is the same job on both sides). */
    for (int i = 0; i < 3; i++) {
        if (i)
            roar_buf_putc(&a, '\n');
        roar_buf_put(&a, texts[i], lens[i]);
    }
    roar_buf_put(&b, texts[2], lens[2]);
    roar_buf_putc(&b, '\n');
    roar_buf_put(&b, texts[3], lens[3]);
    /* What `git notes merge -s union` / rewriteMode=concatenate produce. */
    roar_buf_put(&both, a.ptr, a.size);
    roar_buf_putc(&both, '\n');
    roar_buf_put(&both, b.ptr, b.size);

    roar_note_init(&note);
    assert_int_equal(roar_note_parse(&note, both.ptr, both.size, NULL, NULL), 0);
    assert_int_equal(note.count, 4);
    for (int i = 0; i < 4; i++) {
        const roar_note_record *r = roar_note_find(&note, jobs[i].id);
        assert_non_null(r);
        assert_true(roar_job_equal(&r->job, &jobs[i]));
        assert_int_equal(r->len, lens[i]);
        assert_memory_equal(r->text, texts[i], lens[i]);
    }

    /* Parsing A then B into one note is the same merge. */
    roar_note_init(&again);
    assert_int_equal(roar_note_parse(&again, a.ptr, a.size, NULL, NULL), 0);
    assert_int_equal(roar_note_parse(&again, b.ptr, b.size, NULL, NULL), 0);
    assert_int_equal(again.count, 4);

    /* Sorted by start then id, joined by one empty line, records byte-exact. */
    roar_note_sort(&note);
    for (size_t i = 1; i < note.count; i++) {
        const roar_job *x = &note.records[i - 1].job, *y = &note.records[i].job;
        assert_true(x->start_ms < y->start_ms ||
                    (x->start_ms == y->start_ms && strcmp(x->id, y->id) < 0));
    }
    assert_int_equal(roar_note_serialize(&out, &note), 0);
    {
        roar_buf want = ROAR_BUF_INIT;
        for (size_t i = 0; i < note.count; i++) {
            if (i)
                roar_buf_putc(&want, '\n');
            roar_buf_put(&want, note.records[i].text, note.records[i].len);
        }
        assert_int_equal(out.size, want.size);
        assert_memory_equal(out.ptr, want.ptr, want.size);
        assert_null(strstr(out.ptr, "\n\n\n"));
        roar_buf_dispose(&want);
    }
    /* The index survives sorting and removal. */
    for (int i = 0; i < 4; i++)
        assert_non_null(roar_note_find(&note, jobs[i].id));
    assert_int_equal(roar_note_remove(&note, jobs[1].id), 0);
    assert_null(roar_note_find(&note, jobs[1].id));
    assert_int_equal(roar_note_remove(&note, jobs[1].id), ROAR_ENOTFOUND);
    assert_int_equal(note.count, 3);
    for (int i = 0; i < 4; i++)
        if (i != 1)
            assert_non_null(roar_note_find(&note, jobs[i].id));

    roar_note_dispose(&note);
    roar_note_dispose(&again);
    for (int i = 0; i < 4; i++) {
        free(texts[i]);
        roar_job_dispose(&jobs[i]);
    }
    roar_buf_dispose(&a);
    roar_buf_dispose(&b);
    roar_buf_dispose(&both);
    roar_buf_dispose(&out);
}

static void test_note_keeps_text_exact(void **state)
{
    /* A record in another writer's line order is re-emitted byte for byte. */
    roar_buf body = ROAR_BUF_INIT, out = ROAR_BUF_INIT;
    roar_note note;
    roar_job job;
    char *text;
    size_t len;
    (void)state;

    roar_buf_puts(&body, "cwd .\n");
    roar_buf_puts(&body, full_body);
    *strstr(body.ptr + 6, "cwd .\n") = 'X'; /* keep one cwd: now an unknown "Xwd" key */
    text = with_id(body.ptr, body.size, &len);
    roar_note_init(&note);
    /* No final LF: tolerated at the end of a note. */
    assert_int_equal(roar_note_parse(&note, text, len - 1, NULL, NULL), 0);
    assert_int_equal(note.count, 1);
    assert_int_equal(roar_note_serialize(&out, &note), 0);
    assert_int_equal(out.size, len);
    assert_memory_equal(out.ptr, text, len);

    /* Adding the same job again, serialised afresh, is a duplicate only if equal. */
    assert_int_equal(roar_record_parse(&job, text, len), 0);
    assert_int_equal(roar_note_add(&note, &job, text, len), 1);
    assert_int_equal(job.argc, 0); /* moved or dropped: left empty either way */
    full_job(&job);
    assert_int_equal(roar_note_add_job(&note, &job), 0);
    assert_int_equal(note.count, 2);
    roar_note_dispose(&note);
    roar_buf_dispose(&body);
    roar_buf_dispose(&out);
    free(text);
}

/* ---- fitting a job into the limits (roar_record_fit) --------------------- */

static void test_fit_leaves_small_jobs_alone(void **state)
{
    roar_job job;
    roar_record_fit_result r;
    roar_buf a = ROAR_BUF_INIT, b = ROAR_BUF_INIT;
    (void)state;

    full_job(&job);
    assert_int_equal(roar_record_serialize(&a, &job), 0);
    assert_int_equal(roar_record_fit(&r, &job), 0);
    assert_int_equal(r.command_cut + r.env_dropped + r.edges_dropped, 0);
    assert_int_equal(roar_record_serialize(&b, &job), 0);
    assert_int_equal(a.size, b.size);
    assert_memory_equal(a.ptr, b.ptr, a.size);
    roar_job_dispose(&job);
    roar_buf_dispose(&a);
    roar_buf_dispose(&b);
}

/* Parses `text` back and returns the count of `incomplete <reason> N`, or -1. */
static long reparsed_count(const roar_buf *text, const char *reason, roar_job *back)
{
    assert_int_equal(roar_record_parse(back, text->ptr, text->size), 0);
    for (size_t i = 0; i < back->incomplete_count; i++)
        if (!strcmp(back->incomplete[i].reason, reason) && back->incomplete[i].has_count)
            return (long)back->incomplete[i].count;
    return -1;
}

static void test_fit_cuts_a_long_command_line(void **state)
{
    enum { N = 20000 };
    char **argv = calloc(N + 3, sizeof(*argv)), *script;
    roar_job job, back;
    roar_record_fit_result r;
    roar_buf text = ROAR_BUF_INIT;
    size_t i;
    (void)state;

    /* `sh -c 'true' 1 .. 20000`: over 64 KiB once joined. */
    argv[0] = strdup("sh");
    argv[1] = strdup("-c");
    argv[2] = strdup("true");
    for (i = 0; i < N; i++) {
        argv[i + 3] = malloc(16);
        snprintf(argv[i + 3], 16, "%zu", i + 1);
    }
    full_job(&job);
    assert_int_equal(roar_job_set_argv(&job, (const char *const *)argv, N + 3), 0);
    assert_int_equal(roar_record_serialize(&text, &job), ROAR_ELIMIT);
    assert_int_equal(roar_record_fit(&r, &job), 0);
    assert_true(r.command_cut > 0 && r.command_cut < N);
    assert_int_equal(r.edges_dropped, 0);
    assert_string_equal(job.argv[2], "true");
    assert_non_null(strstr(job.argv[job.argc - 1], "command line cut here"));
    assert_int_equal(roar_record_serialize(&text, &job), 0);
    roar_job_init(&back);
    assert_int_equal(reparsed_count(&text, "command-truncated", &back), (long)r.command_cut);
    assert_int_equal(back.argc, job.argc);
    assert_int_equal(back.edge_count, 4); /* the edges are all there */
    roar_job_dispose(&back);
    roar_job_dispose(&job);

    /* One huge element (a long `sh -c` script): its beginning is kept. */
    script = malloc(200000);
    memset(script, 'x', 199999);
    script[199999] = '\0';
    memcpy(script, "echo ", 5);
    full_job(&job);
    {
        const char *one[] = {"sh", "-c", script, "after"};
        assert_int_equal(roar_job_set_argv(&job, one, 4), 0);
    }
    assert_int_equal(roar_record_fit(&r, &job), 0);
    assert_int_equal(r.command_cut, 2); /* the script (cut) and "after" */
    assert_int_equal(job.argc, 4);      /* sh -c <prefix> <marker> */
    assert_memory_equal(job.argv[2], "echo xxx", 8);
    assert_true(strlen(job.argv[2]) > 60000);
    roar_buf_clear(&text);
    assert_int_equal(roar_record_serialize(&text, &job), 0);
    roar_job_dispose(&job);

    for (i = 0; i < N + 3; i++)
        free(argv[i]);
    free(argv);
    free(script);
    roar_buf_dispose(&text);
}

static void test_fit_truncates_a_record_over_64_mib(void **state)
{
    roar_job job, back;
    roar_record_fit_result r;
    roar_buf text = ROAR_BUF_INIT;
    char path[256];
    size_t i, n = 400000, ins = 0, outs = 0;
    (void)state;

    /* 400k inputs with 200-byte paths (~100 MB of edge lines) and one output last in
     * path order: the output must survive, the inputs that fit stay. */
    full_job(&job);
    for (i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "data/%0195zu", i);
        assert_int_equal(roar_job_add_edge(&job, ROAR_ROLE_IN, path,
                                           "8ab3c1d97e0a4f3c2b1a09f8e7d6c5b4a3928171", 1),
                         0);
    }
    assert_int_equal(roar_job_add_edge(&job, ROAR_ROLE_OUT, "zzz/result",
                                       "77c1e2a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4", 9),
                     0);
    assert_int_equal(roar_record_serialize(&text, &job), ROAR_ELIMIT);
    assert_int_equal(roar_record_fit(&r, &job), 0);
    assert_true(r.edges_dropped > 0 && r.edges_dropped < n);
    assert_int_equal(roar_record_serialize(&text, &job), 0);
    assert_true(text.size <= ROAR_RECORD_MAX_RECORD);
    roar_job_init(&back);
    assert_int_equal(reparsed_count(&text, "record-truncated", &back), (long)r.edges_dropped);
    for (i = 0; i < back.edge_count; i++) {
        ins += back.edges[i].role == ROAR_ROLE_IN;
        outs += back.edges[i].role == ROAR_ROLE_OUT;
    }
    assert_int_equal(outs, 2); /* full_job's and zzz/result */
    assert_int_equal(ins + outs + 1 /* del */ + r.edges_dropped, n + 5);
    roar_job_dispose(&back);
    roar_job_dispose(&job);
    roar_buf_dispose(&text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_serialize_spec_order),
        cmocka_unit_test(test_id_matches_git_hash_object),
        cmocka_unit_test(test_roundtrip_random_jobs),
        cmocka_unit_test(test_any_line_order),
        cmocka_unit_test(test_unknown_keys_roundtrip),
        cmocka_unit_test(test_incomplete_path_vs_count),
        cmocka_unit_test(test_serialize_refuses),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_malformed_values),
        cmocka_unit_test(test_structural_errors),
        cmocka_unit_test(test_note_bad_record_skipped),
        cmocka_unit_test(test_note_oversize_record_skipped),
        cmocka_unit_test(test_note_union_merge),
        cmocka_unit_test(test_note_keeps_text_exact),
        cmocka_unit_test(test_fit_leaves_small_jobs_alone),
        cmocka_unit_test(test_fit_cuts_a_long_command_line),
        cmocka_unit_test(test_fit_truncates_a_record_over_64_mib),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
