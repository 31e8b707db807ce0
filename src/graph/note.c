/* Notes (SPEC §5.2): several records in one text, parsed, deduplicated by job id,
 * sorted and re-emitted byte-exact (record.h). A note comes from other people: its
 * size is bounded before it is read, and a bad record is reported and skipped. */
#include "graph/record.h"
#include "graph/oid.h"
#include "graph/record_internal.h"
#include "util/err.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void roar_note_init(roar_note *note)
{
    memset(note, 0, sizeof(*note));
}

void roar_note_dispose(roar_note *note)
{
    if (!note)
        return;
    for (size_t i = 0; i < note->count; i++) {
        roar_job_dispose(&note->records[i].job);
        free(note->records[i].text);
    }
    free(note->records);
    free(note->index);
    roar_note_init(note);
}

/* Job ids are SHA-1 hex: their first 16 digits are already a good hash. */
static size_t id_hash(const char *id)
{
    uint64_t h = 0;
    for (int i = 0; i < 16; i++)
        h = h << 4 | (uint64_t)(id[i] <= '9' ? id[i] - '0' : id[i] - 'a' + 10);
    return (size_t)h;
}

/* The slot holding `id`, or the empty slot where it would go. */
static size_t index_slot(const roar_note *note, const char *id)
{
    size_t mask = note->index_cap - 1, i = id_hash(id) & mask;
    while (note->index[i] && strcmp(note->records[note->index[i] - 1].job.id, id))
        i = (i + 1) & mask;
    return i;
}

static int index_rebuild(roar_note *note, size_t want)
{
    size_t cap = 16, *idx;
    while (cap < want * 2)
        cap *= 2;
    if (!(idx = calloc(cap, sizeof(*idx))))
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    free(note->index);
    note->index = idx;
    note->index_cap = cap;
    for (size_t i = 0; i < note->count; i++)
        note->index[index_slot(note, note->records[i].job.id)] = i + 1;
    return 0;
}

const roar_note_record *roar_note_find(const roar_note *note, const char *id)
{
    size_t slot;
    if (!note->index_cap || !roar_oid_is_hex(id))
        return NULL;
    slot = index_slot(note, id);
    return note->index[slot] ? &note->records[note->index[slot] - 1] : NULL;
}

int roar_note_add(roar_note *note, roar_job *job, const char *text, size_t len)
{
    roar_note_record *r;
    int error = 0;

    if (!roar_oid_is_hex(job->id)) {
        error = roar_error_set(ROAR_EINVALID, "record without a job id");
        goto cleanup;
    }
    if (len == 0 || text[len - 1] != '\n') {
        error = roar_error_set(ROAR_EINVALID, "record text does not end in a newline");
        goto cleanup;
    }
    if (roar_note_find(note, job->id)) {
        error = 1;
        goto cleanup;
    }
    if ((note->count + 1) * 2 > note->index_cap &&
        (error = index_rebuild(note, note->count + 1)) < 0)
        goto cleanup;
    if ((error = ROAR_ALLOC_GROW(note->records, note->count + 1, note->alloc)) < 0)
        goto cleanup;
    r = &note->records[note->count];
    if (!(r->text = malloc(len + 1))) {
        error = roar_error_set(ROAR_ENOMEM, "out of memory");
        goto cleanup;
    }
    memcpy(r->text, text, len);
    r->text[len] = '\0';
    r->len = len;
    r->job = *job;
    roar_job_init(job);
    note->index[index_slot(note, r->job.id)] = ++note->count;
    return 0;
cleanup:
    roar_job_dispose(job);
    return error;
}

int roar_note_add_job(roar_note *note, roar_job *job)
{
    roar_buf text = ROAR_BUF_INIT;
    int error;

    if ((error = roar_record_serialize(&text, job)) < 0)
        roar_job_dispose(job);
    else
        error = roar_note_add(note, job, text.ptr, text.size);
    roar_buf_dispose(&text);
    return error;
}

int roar_note_remove(roar_note *note, const char *id)
{
    const roar_note_record *r = roar_note_find(note, id);
    size_t i;

    if (!r)
        return roar_error_set(ROAR_ENOTFOUND, "no job %s in this note", id);
    i = (size_t)(r - note->records);
    roar_job_dispose(&note->records[i].job);
    free(note->records[i].text);
    memmove(&note->records[i], &note->records[i + 1],
            (note->count - i - 1) * sizeof(*note->records));
    note->count--;
    return index_rebuild(note, note->count);
}

static int record_cmp(const void *pa, const void *pb)
{
    const roar_note_record *a = pa, *b = pb;
    if (a->job.start_ms != b->job.start_ms)
        return a->job.start_ms < b->job.start_ms ? -1 : 1;
    return strcmp(a->job.id, b->job.id);
}

void roar_note_sort(roar_note *note)
{
    if (note->count < 2)
        return;
    qsort(note->records, note->count, sizeof(*note->records), record_cmp);
    /* Same number of entries: only positions change, so clearing and refilling the
     * existing table cannot fail. */
    memset(note->index, 0, note->index_cap * sizeof(*note->index));
    for (size_t i = 0; i < note->count; i++)
        note->index[index_slot(note, note->records[i].job.id)] = i + 1;
}

int roar_note_serialize(roar_buf *out, const roar_note *note)
{
    size_t orig = out->size, total = 0;
    int error = 0;

    for (size_t i = 0; i < note->count; i++)
        total += note->records[i].len + (i > 0);
    if (total > ROAR_NOTE_MAX)
        return roar_error_set(ROAR_ELIMIT, "the note would be over the %zu-byte limit",
                              ROAR_NOTE_MAX);
    if ((error = roar_buf_grow(out, total)) < 0)
        return error;
    for (size_t i = 0; i < note->count && !error; i++) {
        if (i)
            error = roar_buf_putc(out, '\n');
        if (!error)
            error = roar_buf_put(out, note->records[i].text, note->records[i].len);
    }
    if (error)
        roar_buf_truncate(out, orig);
    return error;
}

int roar_note_parse(roar_note *note, const char *text, size_t len, roar_note_problem_cb cb,
                    void *payload)
{
    roar_buf last = ROAR_BUF_INIT;
    size_t pos = 0, line = 1;
    int error = 0;

    if (len > ROAR_NOTE_MAX)
        return roar_error_set(ROAR_ELIMIT, "note is over the %zu-byte limit", ROAR_NOTE_MAX);
    while (pos < len && !error) {
        size_t start, first_line, rlen, err_line;
        const char *rec;
        roar_job job;

        if (text[pos] == '\n') { /* separators: one or more empty lines */
            pos++;
            line++;
            continue;
        }
        start = pos;
        first_line = line;
        /* The record runs to the next empty line or the end of the note. */
        for (;;) {
            const char *nl = memchr(text + pos, '\n', len - pos);
            if (!nl) {
                pos = len;
                break;
            }
            pos = (size_t)(nl - text) + 1;
            line++;
            if (pos >= len || text[pos] == '\n')
                break;
        }
        rec = text + start;
        rlen = pos - start;
        if (text[pos - 1] != '\n') {
            /* The note's last line lacks its LF: read the record as if it had it. */
            if (rlen > ROAR_RECORD_MAX_RECORD) {
                rlen = ROAR_RECORD_MAX_RECORD + 1; /* refused by length alone */
            } else {
                roar_buf_clear(&last);
                if ((error = roar_buf_put(&last, rec, rlen)) < 0 ||
                    (error = roar_buf_putc(&last, '\n')) < 0)
                    break;
                rec = last.ptr;
                rlen = last.size;
            }
        }
        if ((error = roar_record__parse_at(&job, rec, rlen, first_line, &err_line)) < 0) {
            roar_note_problem problem = {first_line, err_line, error, roar_error_last()};
            if (error == ROAR_ENOMEM)
                break;
            error = cb ? cb(&problem, payload) : 0;
            continue;
        }
        error = roar_note_add(note, &job, rec, rlen);
        if (error > 0)
            error = 0; /* a duplicate: kept once */
    }
    roar_buf_dispose(&last);
    return error;
}
