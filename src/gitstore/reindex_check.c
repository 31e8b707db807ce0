/* fsck (reindex.h, roar_reindex_check): every note of every notes ref and every pending
 * record, read without the cache, each job id recomputed; problems reported, nothing
 * changed. */
#include <stdlib.h>
#include <string.h>

#include "gitstore/notes.h"
#include "gitstore/reindex_internal.h"
#include "graph/record.h"
#include "util/err.h"

typedef struct {
    roar_repo *repo;
    roar_reindex_check_stats *stats;
    const char *ref;
    roar_reindex_problem_cb cb;
    void *payload;
} check_ctx;

static int check_note_problem(const roar_notes_problem *p, void *payload)
{
    check_ctx *c = payload;
    roar_reindex_problem rp;

    c->stats->problems++;
    if (!c->cb)
        return 0;
    memset(&rp, 0, sizeof(rp));
    rp.ref = c->ref;
    rp.object = p->object;
    rp.line = p->line;
    rp.message = p->message;
    return c->cb(&rp, c->payload);
}

static int check_note(const roar_notes_change *change, void *payload)
{
    check_ctx *c = payload;
    roar_note note;
    int error;

    /* Against an earlier ref, a note this ref lacks shows as a deletion: nothing to
     * check, and not a note of this ref. */
    if (!change->new_count)
        return 0;
    roar_note_init(&note);
    c->stats->notes++;
    error = roar_notes_load(&note, c->repo, change->new_blobs, change->new_count, change->object,
                            check_note_problem, c);
    c->stats->records += note.count;
    roar_note_dispose(&note);
    return error;
}

/* A temp file left in pending/ that could not be finished (roar_pending_recover). */
static int check_stranded(const char *dir, const char *name, const char *why, void *payload)
{
    check_ctx *c = payload;
    roar_buf msg = ROAR_BUF_INIT;
    int error;

    c->stats->problems++;
    if ((error = roar_buf_printf(&msg, "stranded pending record: %s", why)) == 0)
        error = roar_reindex__report_pending(c->cb, c->payload, dir, name,
                                             roar_reindex__message_line(why), msg.ptr);
    roar_buf_dispose(&msg);
    return error;
}

static int check_pending_list(check_ctx *c, const char *dir, const roar_pending_list *list)
{
    roar_buf text = ROAR_BUF_INIT, msg = ROAR_BUF_INIT;
    roar_job job;
    size_t i;
    int error = 0;

    for (i = 0; i < list->count && !error; i++) {
        const roar_pending_entry *e = &list->items[i];
        c->stats->pending++;
        roar_job_init(&job);
        error = roar_pending_read(&text, dir, e->name);
        if (error == ROAR_ENOTFOUND) {
            error = 0;
        } else if (error < 0) {
            c->stats->problems++;
            error =
                roar_reindex__report_pending(c->cb, c->payload, dir, e->name, 0, roar_error_last());
        } else if (roar_record_parse(&job, text.ptr, text.size) < 0) {
            c->stats->problems++;
            roar_buf_clear(&msg);
            if ((error = roar_buf_puts(&msg, roar_error_last())) == 0)
                error = roar_reindex__report_pending(c->cb, c->payload, dir, e->name,
                                                     roar_reindex__message_line(msg.ptr), msg.ptr);
        } else if (strcmp(job.id, e->id)) {
            c->stats->problems++;
            roar_buf_clear(&msg);
            if ((error =
                     roar_buf_printf(&msg, "line 1: file name says job %s, the record is job %s",
                                     e->id, job.id)) == 0)
                error = roar_reindex__report_pending(c->cb, c->payload, dir, e->name, 1, msg.ptr);
        }
        roar_job_dispose(&job);
    }
    roar_buf_dispose(&text);
    roar_buf_dispose(&msg);
    return error;
}

int roar_reindex_check(roar_reindex_check_stats *out, roar_repo *repo, roar_reindex_problem_cb cb,
                       void *payload)
{
    roar_reindex_check_stats stats;
    pending_files pending;
    roar_buf dir = ROAR_BUF_INIT;
    check_ctx c;
    char **refs = NULL;
    size_t nrefs = 0, i;
    git_oid tip, first_tip;
    bool have_first = false;
    int error;

    memset(&stats, 0, sizeof(stats));
    memset(&pending, 0, sizeof(pending));
    memset(&c, 0, sizeof(c));
    c.repo = repo;
    c.stats = &stats;
    c.cb = cb;
    c.payload = payload;
    if ((error = roar_reindex_refs(&refs, &nrefs, repo)) < 0)
        goto cleanup;
    for (i = 0; i < nrefs; i++) {
        error = roar_reindex__usable_tip(&tip, repo, refs[i], &stats.problems, cb, payload);
        if (error == ROAR_ENOTFOUND) {
            error = 0;
            continue;
        }
        if (error != 0)
            goto cleanup;
        stats.refs++;
        c.ref = refs[i];
        /* Later refs are diffed against the first: a clone's refs/notes/roar and its
         * remote-tracking ref mostly hold the same notes, and a note is checked once
         * (its problems named under the first ref that holds it). */
        if ((error = roar_notes_diff(repo, have_first ? &first_tip : NULL, &tip, check_note, &c)) !=
            0)
            goto cleanup;
        if (!have_first) {
            first_tip = tip;
            have_first = true;
        }
    }
    if ((error = roar_reindex__pending_files_read(&pending, repo)) < 0 ||
        (error = roar_pending_dir(&dir, repo)) < 0 ||
        (error = roar_pending_recover(NULL, dir.ptr, check_stranded, &c)) != 0 ||
        (error = check_pending_list(&c, dir.ptr, &pending.list)) != 0)
        goto cleanup;
    for (i = 0; i < pending.ndirs; i++) {
        roar_pending_list one = ROAR_PENDING_LIST_INIT;
        if ((error = roar_pending_list_read(&one, pending.dirs[i], NULL)) < 0 ||
            (error = check_pending_list(&c, pending.dirs[i], &one)) != 0) {
            roar_pending_list_dispose(&one);
            goto cleanup;
        }
        roar_pending_list_dispose(&one);
    }

cleanup:
    if (out)
        *out = stats;
    roar_reindex__pending_files_dispose(&pending);
    roar_buf_dispose(&dir);
    roar_reindex_refs_free(refs, nrefs);
    return error;
}
