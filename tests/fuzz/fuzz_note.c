/* libFuzzer target for the note parser (src/graph/record): whatever the bytes, parsing
 * must not crash, and every record that loads must survive serialise -> parse intact. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "graph/oid.h"
#include "graph/record.h"
#include "util/err.h"

static int ignore_problem(const roar_note_problem *problem, void *payload)
{
    (void)payload;
    /* A reported problem must point inside the record it names. */
    if (problem->line < problem->record_line || !problem->message[0])
        abort();
    return 0;
}

/* parse(text) == a; serialise(a) parses to a job equal to a, and is canonical. */
static void check_record(const roar_note_record *r)
{
    roar_buf out = ROAR_BUF_INIT, again = ROAR_BUF_INIT;
    roar_job a, b;
    int error;

    /* The kept text is exactly the record: it parses alone to the same job. */
    if (roar_record_parse(&a, r->text, r->len) < 0 || !roar_job_equal(&a, &r->job))
        abort();
    error = roar_record_serialize(&out, &a);
    if (error == ROAR_ELIMIT) /* canonical quoting can be longer than the input's */
        goto cleanup;
    if (error < 0)
        abort();
    if (roar_record_parse(&b, out.ptr, out.size) < 0)
        abort();
    if (!roar_job_equal(&a, &b))
        abort();
    if (roar_record_serialize(&again, &b) < 0 || again.size != out.size ||
        memcmp(again.ptr, out.ptr, out.size))
        abort();
    roar_job_dispose(&b);
cleanup:
    roar_job_dispose(&a);
    roar_buf_dispose(&out);
    roar_buf_dispose(&again);
}

/* A mutated record almost never keeps a matching id, which would stop the parser at
 * the id check. So a copy of the input gets, in each record, its first `job <40>` line
 * rewritten to the id the rest of that record hashes to. */
static void fix_ids(roar_buf *out, const char *data, size_t size)
{
    size_t pos = 0;

    roar_buf_put(out, data, size);
    if (out->size && out->ptr[out->size - 1] != '\n')
        roar_buf_putc(out, '\n');
    while (pos < out->size) {
        size_t start = pos, job_off = SIZE_MAX;
        roar_blob_hasher *h = NULL;
        char id[ROAR_OID_HEXSZ + 1];

        if (out->ptr[pos] == '\n') {
            pos++;
            continue;
        }
        while (pos < out->size && out->ptr[pos] != '\n') { /* one record */
            char *nl = memchr(out->ptr + pos, '\n', out->size - pos);
            if (job_off == SIZE_MAX && nl - (out->ptr + pos) == 44 &&
                !memcmp(out->ptr + pos, "job ", 4))
                job_off = pos;
            pos = (size_t)(nl - out->ptr) + 1;
        }
        if (job_off == SIZE_MAX)
            continue;
        if (roar_blob_hasher_new(&h, pos - start - 45) == 0 &&
            roar_blob_hasher_update(h, out->ptr + start, job_off - start) == 0 &&
            roar_blob_hasher_update(h, out->ptr + job_off + 45, pos - job_off - 45) == 0 &&
            roar_blob_hasher_final(id, h) == 0)
            memcpy(out->ptr + job_off + 4, id, ROAR_OID_HEXSZ);
        roar_blob_hasher_free(h);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    roar_note note, back;
    roar_buf text = ROAR_BUF_INIT, fixed = ROAR_BUF_INIT;

    roar_note_init(&note);
    roar_note_init(&back);
    /* The input as it is (ids mostly wrong: the rejection paths) ... */
    if (roar_note_parse(&note, (const char *)data, size, ignore_problem, NULL) < 0)
        goto cleanup;
    roar_note_dispose(&note);
    /* ... and with ids that match, so every other check is reached. */
    if (size > 1024 * 1024)
        goto cleanup;
    fix_ids(&fixed, (const char *)data, size);
    if (roar_note_parse(&note, fixed.ptr, fixed.size, ignore_problem, NULL) < 0)
        goto cleanup;
    for (size_t i = 0; i < note.count; i++)
        check_record(&note.records[i]);

    /* The note re-emitted (sorted) reads back to the same records, byte-exact. */
    roar_note_sort(&note);
    if (roar_note_serialize(&text, &note) < 0)
        abort();
    if (roar_note_parse(&back, text.ptr, text.size, NULL, NULL) < 0 || back.count != note.count)
        abort();
    for (size_t i = 0; i < note.count; i++) {
        const roar_note_record *r = roar_note_find(&back, note.records[i].job.id);
        if (!r || r->len != note.records[i].len ||
            memcmp(r->text, note.records[i].text, r->len))
            abort();
    }
cleanup:
    roar_note_dispose(&note);
    roar_note_dispose(&back);
    roar_buf_dispose(&text);
    roar_buf_dispose(&fixed);
    roar_error_clear();
    return 0;
}
