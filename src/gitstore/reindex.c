/* The cache follows the notes refs by diffing notes trees from the last indexed commit of
 * each ref, and pending/ by comparing listings; both bookmarks live in cache meta. */
#include "gitstore/reindex.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gitstore/notes.h"
#include "gitstore/reindex_internal.h"
#include "gitstore/pending.h"
#include "util/keymap.h"
#include "util/strlist.h"
#include "graph/oid.h"
#include "graph/record.h"
#include "util/err.h"

#define HEXSZ ROAR_OID_HEXSZ

/* ---- refs ------------------------------------------------------------------------- */

void roar_reindex_refs_free(char **refs, size_t count)
{
    roar_strlist_free(refs, count);
}

int roar_reindex_refs(char ***out, size_t *count, roar_repo *repo)
{
    git_reference_iterator *it = NULL;
    const char *name;
    roar_buf local = ROAR_BUF_INIT;
    char **v = NULL;
    size_t n = 0, alloc = 0;
    int rc, error;

    *out = NULL;
    *count = 0;
    if ((error = roar_notes_ref(&local, repo)) < 0 ||
        (error = roar_strlist_push(&v, &n, &alloc, local.ptr)) < 0)
        goto cleanup;
    if (git_reference_iterator_glob_new(&it, roar_repo_git(repo),
                                        ROAR_REINDEX_REMOTE_PREFIX
                                        "*" ROAR_REINDEX_REMOTE_SUFFIX) < 0) {
        error = roar_error_set(ROAR_ERROR, "cannot list the notes refs: %s",
                               git_error_last() ? git_error_last()->message : "libgit2 error");
        goto cleanup;
    }
    while ((rc = git_reference_next_name(&name, it)) == 0)
        if (strcmp(name, local.ptr) && (error = roar_strlist_push(&v, &n, &alloc, name)) < 0)
            goto cleanup;
    if (rc != GIT_ITEROVER) {
        error = roar_error_set(ROAR_ERROR, "cannot list the notes refs: %s",
                               git_error_last() ? git_error_last()->message : "libgit2 error");
        goto cleanup;
    }
    if (n > 2)
        qsort(v + 1, n - 1, sizeof(*v), roar_strlist_cmp);
    *out = v;
    *count = n;
    v = NULL;

cleanup:
    git_reference_iterator_free(it);
    roar_reindex_refs_free(v, n);
    roar_buf_dispose(&local);
    return error;
}

int roar_reindex_worktree_gitdir(roar_buf *out, roar_repo *repo, const char *key)
{
    roar_buf_clear(out);
    if (!strcmp(key, ROAR_PENDING_MAIN))
        return roar_buf_puts(out, roar_repo_commondir(repo));
    return roar_buf_printf(out, "%s/worktrees/%s", roar_repo_commondir(repo), key);
}

int roar_reindex_problem_format(roar_buf *out, const roar_reindex_problem *p)
{
    roar_buf_clear(out);
    if (p->object)
        return roar_buf_printf(out, "%s: note on %s: %s", p->ref ? p->ref : "notes", p->object,
                               p->message);
    if (p->ref && !p->path)
        return roar_buf_printf(out, "%s: %s", p->ref, p->message);
    return roar_buf_printf(out, "%s: %s", p->path ? p->path : "pending record", p->message);
}

/* ---- the cache file ----------------------------------------------------------------- */

int roar_reindex_open_cache(roar_cache **out, roar_repo *repo, bool recreate)
{
    roar_buf path = ROAR_BUF_INIT, side = ROAR_BUF_INIT;
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    size_t i;
    int error;

    *out = NULL;
    if ((error = roar_repo_ensure_roar_dir(repo)) < 0 ||
        (error = roar_buf_printf(&path, "%s/cache.db", roar_repo_roar_dir(repo))) < 0)
        goto cleanup;
    error = roar_cache_open(out, path.ptr);
    if (error == 0 || !recreate || (error != ROAR_EINVALID && error != ROAR_EUNSUPPORTED))
        goto cleanup;
    /* Derived data: a cache we cannot use is rebuilt from the notes and pending/. */
    for (i = 0; i < sizeof(suffixes) / sizeof(*suffixes); i++) {
        roar_buf_clear(&side);
        if ((error = roar_buf_printf(&side, "%s%s", path.ptr, suffixes[i])) < 0)
            goto cleanup;
        if (unlink(side.ptr) < 0 && errno != ENOENT) {
            error = roar_error_set_errno(ROAR_ERROR, "cannot remove '%s'", side.ptr);
            goto cleanup;
        }
    }
    error = roar_cache_open(out, path.ptr);

cleanup:
    roar_buf_dispose(&path);
    roar_buf_dispose(&side);
    return error;
}

/* ---- the update ------------------------------------------------------------------- */

typedef struct {
    roar_repo *repo;
    roar_cache *cache;
    roar_reindex_stats *stats;
    ref_list *current;
    problem_list *problems;
    const pending_files *pending;
    const char *ref; /* the ref being indexed */
    roar_reindex_problem_cb cb;
    void *payload;
    /* A listed pending record was broken or vanished, so the marks do not match the
     * listing: its signature must not be kept, or the next call would skip the check
     * (and stop reporting the broken record). */
    bool pending_unsettled;
    /* Notes loaded cleanly by this update, keyed by object id and blob ids: a clone's
     * refs/notes/roar and refs/notes/remotes/origin/roar usually hold the very same
     * notes, and the second would parse and put every job again for nothing. */
    roar_keymap loaded;
    roar_buf key;
    /* A first or full index reads notes ahead on a worker (reindex_loader.c). */
    reindex_loader *loader;
    size_t problems_seen; /* problems reported while loading the current note */
    reindex_progress progress;
} update_ctx;

static int keep_note_problem(const roar_notes_problem *p, void *payload)
{
    update_ctx *u = payload;
    u->problems_seen++;
    return roar_reindex__problem_list_add(u->problems, u->ref, p->object, p->line, p->message);
}

/* Whether another current ref has job `id` in its note on `object`. */
static int held_elsewhere(bool *out, update_ctx *u, const char *object, const char *id)
{
    roar_note n;
    size_t i;
    int error = 0;

    *out = false;
    for (i = 0; i < u->current->count && !*out; i++) {
        const ref_state *r = &u->current->items[i];
        if (!r->has_tip || !strcmp(r->ref, u->ref))
            continue;
        roar_note_init(&n);
        error = roar_notes_read(&n, u->repo, &r->tip, object, NULL, NULL);
        if (error == 0)
            *out = roar_note_find(&n, id) != NULL;
        roar_note_dispose(&n);
        if (error == ROAR_ENOTFOUND)
            error = 0;
        if (error < 0)
            return error;
    }
    return 0;
}

/* Removes a job that nothing holds any more: no attachment and no pending record. */
static int drop_if_orphan(update_ctx *u, const char *id)
{
    roar_cache_id_list commits = ROAR_CACHE_ID_LIST_INIT;
    int error = roar_cache_attachments(&commits, u->cache, id);
    if (error == 0 && !commits.count && !roar_reindex__pending_has(u->pending, id))
        error = roar_cache_job_delete(u->cache, id);
    if (error == ROAR_ENOTFOUND)
        error = 0;
    roar_cache_id_list_dispose(&commits);
    return error;
}

/* The key of a note in u->loaded: its object id and blob ids. */
static int loaded_key(update_ctx *u, const char *object, const git_oid *blobs, size_t count)
{
    roar_buf_clear(&u->key);
    if (roar_buf_put(&u->key, object, ROAR_OID_HEXSZ) < 0 ||
        roar_buf_put(&u->key, blobs, count * sizeof(*blobs)) < 0)
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    return 0;
}

/* Puts the jobs of the note `now` (read from `blobs`) on `object` and attaches them to
 * it. `clean`: the note was read without problems, so the same note under another ref
 * is skipped. */
static int store_note(update_ctx *u, const char *object, const git_oid *blobs, size_t count,
                      const roar_note *now, bool clean)
{
    int error;

    for (size_t i = 0; i < now->count; i++) {
        const roar_note_record *r = &now->records[i];
        if ((error = roar_cache_job_put(u->cache, &r->job)) < 0 ||
            (error = roar_cache_attach(u->cache, r->job.id, object)) < 0)
            return error;
        u->stats->jobs_indexed++;
    }
    roar_reindex__progress_note(&u->progress, now->count);
    /* Only a clean note is skipped later: a broken one must be recorded as a problem of
     * every ref that holds it. */
    if (!clean || (error = loaded_key(u, object, blobs, count)) < 0)
        return clean ? error : 0;
    if (roar_keymap_put(&u->loaded, u->key.ptr, u->key.size, (void *)1) < 0)
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    return 0;
}

/* Stores a note the loader read: its problems first, as keep_note_problem would have
 * recorded them, then its jobs. */
static int store_loaded(update_ctx *u, reindex_loaded *item)
{
    int error = 0;

    if (item->error != 0) {
        error = item->error < 0 ? roar_error_set(item->error, "%s",
                                                 item->error_message ? item->error_message : "")
                                : item->error;
        goto done;
    }
    roar_reindex__problem_list_forget(u->problems, u->ref, item->object);
    for (size_t i = 0; i < item->problem_count && !error; i++)
        error = roar_reindex__problem_list_add(u->problems, u->ref, item->object,
                                               item->problems[i].line, item->problems[i].message);
    if (error == 0)
        error = store_note(u, item->object, item->blobs, item->blob_count, &item->note,
                           !item->problem_count);
done:
    roar_reindex__loaded_free(item);
    return error;
}

/* Stores what the loader has read, waiting for all of it when `drain`, else only to
 * make room in its window. */
static int store_ready(update_ctx *u, bool drain)
{
    reindex_loaded *item;
    int error = 0;

    while (!error && (item = roar_reindex__loader_take(u->loader, drain)))
        error = store_loaded(u, item);
    return error;
}

static int index_change(const roar_notes_change *c, void *payload)
{
    update_ctx *u = payload;
    roar_note now, before;
    size_t i;
    int error;

    roar_note_init(&now);
    roar_note_init(&before);
    u->stats->notes_read++;
    if ((error = loaded_key(u, c->object, c->new_blobs, c->new_count)) < 0)
        return error;
    /* Already put, with its attachments to this very object: nothing to add. */
    if (!c->old_count && roar_keymap_get(&u->loaded, u->key.ptr, u->key.size)) {
        roar_reindex__progress_note(&u->progress, 0);
        return 0;
    }
    /* A note that only adds jobs is read ahead on the loader's thread, stored in turn. */
    if (u->loader && !c->old_count) {
        if ((error = store_ready(u, false)) == 0)
            error = roar_reindex__loader_submit(u->loader, c);
        return error;
    }
    if (u->loader && (error = store_ready(u, true)) != 0)
        return error;
    roar_reindex__problem_list_forget(u->problems, u->ref, c->object);
    u->problems_seen = 0;
    if ((error = roar_notes_load(&now, u->repo, c->new_blobs, c->new_count, c->object,
                                 keep_note_problem, u)) != 0)
        goto cleanup;
    if ((error = store_note(u, c->object, c->new_blobs, c->new_count, &now, !u->problems_seen)) < 0)
        goto cleanup;
    if (c->old_count && (error = roar_notes_load(&before, u->repo, c->old_blobs, c->old_count,
                                                 c->object, NULL, NULL)) != 0)
        goto cleanup;
    for (i = 0; i < before.count; i++) {
        const char *id = before.records[i].job.id;
        bool held;
        if (roar_note_find(&now, id))
            continue;
        if ((error = held_elsewhere(&held, u, c->object, id)) < 0)
            goto cleanup;
        if (held)
            continue;
        error = roar_cache_detach(u->cache, id, c->object);
        if (error == ROAR_ENOTFOUND)
            error = 0;
        else if (error == 0)
            u->stats->detached++;
        if (error < 0 || (error = drop_if_orphan(u, id)) < 0)
            goto cleanup;
    }

cleanup:
    roar_note_dispose(&now);
    roar_note_dispose(&before);
    return error;
}

static int index_ref(update_ctx *u, const char *ref, const git_oid *old, const git_oid *now)
{
    int error;

    u->ref = ref;
    u->stats->refs_indexed++;
    if (!old)
        roar_reindex__problem_list_forget(u->problems, ref, NULL);
    error = roar_notes_diff(u->repo, old, now, index_change, u);
    /* Every note of this ref is stored before the next ref is read: its problems are
     * this ref's, and the next finds its notes in u->loaded. */
    if (error == 0 && u->loader)
        error = store_ready(u, true);
    return error;
}

/* The line number at the start of a codec message, "line N: ...". */
size_t roar_reindex__message_line(const char *msg)
{
    return strncmp(msg, "line ", 5) ? 0 : (size_t)strtoul(msg + 5, NULL, 10);
}

int roar_reindex__report_pending(roar_reindex_problem_cb cb, void *payload, const char *dir,
                                 const char *name, size_t line, const char *message)
{
    roar_reindex_problem p;
    roar_buf path = ROAR_BUF_INIT;
    int error;

    if (!cb)
        return 0;
    if ((error = roar_buf_printf(&path, "%s/%s", dir, name)) < 0)
        return error;
    memset(&p, 0, sizeof(p));
    p.path = path.ptr;
    p.line = line;
    p.message = message;
    error = cb(&p, payload);
    roar_buf_dispose(&path);
    return error;
}

static int report_pending_problem(update_ctx *u, const char *dir, const char *name, size_t line,
                                  const char *message)
{
    u->stats->problems++;
    u->pending_unsettled = true;
    return roar_reindex__report_pending(u->cb, u->payload, dir, name, line, message);
}

/* Puts one pending record into the cache and marks it for its worktree. */
static int index_pending_file(update_ctx *u, const char *dir, const roar_pending_entry *e)
{
    roar_buf text = ROAR_BUF_INIT, gitdir = ROAR_BUF_INIT, msg = ROAR_BUF_INIT;
    roar_job job;
    int error;

    roar_job_init(&job);
    error = roar_pending_read(&text, dir, e->name);
    if (error == ROAR_ENOTFOUND) { /* attached or dropped meanwhile */
        u->pending_unsettled = true;
        error = 0;
        goto cleanup;
    }
    if (error < 0) {
        error = report_pending_problem(u, dir, e->name, 0, roar_error_last());
        goto cleanup;
    }
    if ((error = roar_record_parse(&job, text.ptr, text.size)) < 0) {
        if ((error = roar_buf_puts(&msg, roar_error_last())) == 0)
            error = report_pending_problem(u, dir, e->name, roar_reindex__message_line(msg.ptr),
                                           msg.ptr);
        goto cleanup;
    }
    if (strcmp(job.id, e->id)) {
        if ((error = roar_buf_printf(&msg, "line 1: file name says job %s, the record is job %s",
                                     e->id, job.id)) == 0)
            error = report_pending_problem(u, dir, e->name, 1, msg.ptr);
        goto cleanup;
    }
    if ((error = roar_reindex_worktree_gitdir(&gitdir, u->repo, e->worktree)) < 0 ||
        (error = roar_cache_job_put(u->cache, &job)) < 0 ||
        (error = roar_cache_pending_mark(u->cache, job.id, gitdir.ptr)) < 0)
        goto cleanup;
    u->stats->pending_marked++;

cleanup:
    roar_job_dispose(&job);
    roar_buf_dispose(&text);
    roar_buf_dispose(&gitdir);
    roar_buf_dispose(&msg);
    return error;
}

/* Makes the cache's pending marks match the files: marks what is not marked (for the
 * right worktree), unmarks what has no file any more. */
static int pending_sync(update_ctx *u, const roar_cache_jobinfo_list *marks)
{
    roar_buf gitdir = ROAR_BUF_INIT, dir = ROAR_BUF_INIT;
    size_t i, k;
    int error = 0;

    if ((error = roar_pending_dir(&dir, u->repo)) < 0)
        goto cleanup;
    for (k = 0; k < 2; k++) {
        const roar_pending_list *l = k ? &u->pending->claims : &u->pending->list;
        for (i = 0; i < l->count; i++) {
            const roar_pending_entry *e = &l->items[i];
            const roar_cache_jobinfo *mark = NULL;
            size_t m;
            for (m = 0; m < marks->count && !mark; m++)
                if (!strcmp(marks->items[m].id, e->id))
                    mark = &marks->items[m];
            if ((error = roar_reindex_worktree_gitdir(&gitdir, u->repo, e->worktree)) < 0)
                goto cleanup;
            if (mark && mark->pending_worktree && !strcmp(mark->pending_worktree, gitdir.ptr))
                continue;
            if ((error = index_pending_file(u, k ? u->pending->claim_dirs[i] : dir.ptr, e)) != 0)
                goto cleanup;
        }
    }
    for (i = 0; i < marks->count; i++) {
        if (roar_reindex__pending_has(u->pending, marks->items[i].id))
            continue;
        error = roar_cache_pending_unmark(u->cache, marks->items[i].id);
        if (error == ROAR_ENOTFOUND)
            error = 0;
        else if (error == 0)
            u->stats->pending_unmarked++;
        if (error < 0 || (error = drop_if_orphan(u, marks->items[i].id)) < 0)
            goto cleanup;
    }

cleanup:
    roar_buf_dispose(&gitdir);
    roar_buf_dispose(&dir);
    return error;
}

static int report_stored(update_ctx *u)
{
    roar_reindex_problem p;
    size_t i;
    int error;

    if (u->problems->count > 1)
        roar_reindex__problem_list_sort(u->problems);
    for (i = 0; i < u->problems->count; i++) {
        u->stats->problems++;
        if (!u->cb)
            continue;
        memset(&p, 0, sizeof(p));
        p.ref = u->problems->items[i].ref;
        p.object = u->problems->items[i].object;
        p.line = u->problems->items[i].line;
        p.message = u->problems->items[i].message;
        if ((error = u->cb(&p, u->payload)) != 0)
            return error;
    }
    return 0;
}

/* The tip of a notes ref to index. A ref that does not point at a commit (a remote's
 * notes ref pointing at a blob, a tree or a tag, brought in by a plain `git fetch`) is
 * reported, every time, and read as having no notes: one bad ref must not stop queries
 * over the others (issue 16 item 9). ROAR_ENOTFOUND for an absent or skipped ref. */
int roar_reindex__usable_tip(git_oid *out, roar_repo *repo, const char *ref, size_t *problems,
                             roar_reindex_problem_cb cb, void *payload)
{
    roar_reindex_problem p;
    roar_buf msg = ROAR_BUF_INIT;
    int error = roar_notes_tip(out, repo, ref);

    if (error != ROAR_EINVALID)
        return error;
    (*problems)++;
    if ((error = roar_buf_printf(&msg, "%s; skipped", roar_error_last())) < 0)
        return error;
    memset(&p, 0, sizeof(p));
    p.ref = ref;
    /* The message already names the ref: drop it from the front. */
    p.message = strncmp(msg.ptr, ref, strlen(ref)) ? msg.ptr : msg.ptr + strlen(ref) + 1;
    error = cb ? cb(&p, payload) : 0;
    roar_buf_dispose(&msg);
    return error ? error : ROAR_ENOTFOUND;
}

int roar_reindex_update(roar_reindex_stats *out, roar_repo *repo, roar_cache *cache, bool full,
                        roar_reindex_problem_cb cb, void *payload)
{
    roar_reindex_stats stats;
    ref_list current = {0}, indexed = {0};
    problem_list problems = {0};
    pending_files pending;
    roar_cache_jobinfo_list marks = ROAR_CACHE_JOBINFO_LIST_INIT;
    roar_buf seen = ROAR_BUF_INIT;
    update_ctx u;
    char **refs = NULL, sig[HEXSZ + 1];
    size_t nrefs = 0, i;
    bool notes_work = false, pending_seen = false, began = false, has_jobs = true;
    int error;

    memset(&stats, 0, sizeof(stats));
    memset(&pending, 0, sizeof(pending));
    memset(&u, 0, sizeof(u));
    u.loaded = (roar_keymap)ROAR_KEYMAP_INIT;
    roar_buf_init(&u.key);
    if ((error = roar_reindex_refs(&refs, &nrefs, repo)) < 0)
        goto cleanup;
    for (i = 0; i < nrefs; i++) {
        git_oid tip;
        error = roar_reindex__usable_tip(&tip, repo, refs[i], &stats.problems, cb, payload);
        if (error != 0 && error != ROAR_ENOTFOUND)
            goto cleanup;
        if ((error = roar_reindex__ref_list_add(&current, refs[i], error == 0 ? &tip : NULL)) < 0)
            goto cleanup;
    }
    if (!full && (error = roar_reindex__load_meta(&indexed, &problems, cache)) < 0)
        goto cleanup;
    for (i = 0; i < current.count && !notes_work; i++) {
        ref_state *was = roar_reindex__ref_list_find(&indexed, current.items[i].ref);
        notes_work = current.items[i].has_tip
                         ? !was || !git_oid_equal(&was->tip, &current.items[i].tip)
                         : was != NULL;
    }
    for (i = 0; i < indexed.count && !notes_work; i++)
        notes_work = !roar_reindex__ref_list_find(&current, indexed.items[i].ref);

    if ((error = roar_reindex__pending_files_read(&pending, repo)) < 0 ||
        (error = roar_reindex__pending_signature(sig, repo, &pending)) < 0)
        goto cleanup;
    if (!full) {
        error = roar_cache_meta_get(&seen, cache, ROAR_REINDEX_META_PENDING);
        if (error == 0)
            pending_seen = !strcmp(seen.ptr, sig);
        else if (error != ROAR_ENOTFOUND)
            goto cleanup;
        error = 0;
    }

    u.repo = repo;
    u.cache = cache;
    u.stats = &stats;
    u.current = &current;
    u.problems = &problems;
    u.pending = &pending;
    u.cb = cb;
    u.payload = payload;
    /* Every reading command comes here first: when no ref moved and pending/ lists what
     * it listed when the marks were last made to match it, there is nothing to compare,
     * and no job is read. Only the stored problems are reported again. */
    if (!full && !notes_work && pending_seen)
        goto report;

    /* A first index (a fresh clone) or a full one loads every job: in bulk, with the
     * indexes built once at the end. */
    if (!full && (error = roar_cache_has_jobs(&has_jobs, cache)) < 0)
        goto cleanup;
    if ((error = full || !has_jobs ? roar_cache_begin_bulk(cache, full) : roar_cache_begin(cache)) <
        0)
        goto cleanup;
    began = true;
    /* Without the worker thread the notes are read in line, as an update reads them. */
    if ((full || !has_jobs) && roar_reindex__loader_new(&u.loader, repo) < 0) {
        roar_error_clear();
        u.loader = NULL;
    }
    for (i = 0; i < current.count; i++) {
        ref_state *was = roar_reindex__ref_list_find(&indexed, current.items[i].ref);
        if (current.items[i].has_tip && !(was && was->has_tip))
            roar_reindex__progress_count(&u.progress, repo, &current.items[i].tip);
    }
    for (i = 0; i < current.count; i++) {
        ref_state *now = &current.items[i], *was = roar_reindex__ref_list_find(&indexed, now->ref);
        const git_oid *old = was && was->has_tip ? &was->tip : NULL;
        if (!now->has_tip) {
            if (old && (error = index_ref(&u, now->ref, old, NULL)) != 0)
                goto cleanup;
            roar_reindex__problem_list_forget(&problems, now->ref, NULL);
            continue;
        }
        if (old && git_oid_equal(old, &now->tip))
            continue;
        if ((error = index_ref(&u, now->ref, old, &now->tip)) != 0)
            goto cleanup;
    }
    for (i = 0; i < indexed.count; i++) {
        ref_state *was = &indexed.items[i];
        if (roar_reindex__ref_list_find(&current, was->ref) || !was->has_tip)
            continue;
        if ((error = index_ref(&u, was->ref, &was->tip, NULL)) != 0)
            goto cleanup;
        roar_reindex__problem_list_forget(&problems, was->ref, NULL);
    }
    /* The marks are read inside the write transaction, so the signature kept below
     * describes exactly the marks this transaction leaves. */
    if ((error = roar_cache_pending_list(&marks, cache, NULL)) < 0 ||
        (error = pending_sync(&u, &marks)) != 0 ||
        (error = roar_reindex__save_meta(cache, &current, &problems)) < 0 ||
        (error = roar_cache_meta_set(cache, ROAR_REINDEX_META_PENDING,
                                     u.pending_unsettled ? NULL : sig)) < 0)
        goto cleanup;
    /* A bulk load builds the indexes it dropped in the commit: the long part of it. */
    if (full || !has_jobs)
        roar_reindex__progress_phase(&u.progress, ROAR_REINDEX_BUILDING);
    if ((error = roar_cache_commit(cache)) < 0)
        goto cleanup;
    began = false;

report:
    error = report_stored(&u);

cleanup:
    roar_reindex__loader_free(u.loader);
    roar_reindex__progress_phase(&u.progress, ROAR_REINDEX_DONE);
    roar_keymap_dispose(&u.loaded);
    roar_buf_dispose(&u.key);
    if (began)
        roar_cache_rollback(cache);
    if (out)
        *out = stats;
    roar_cache_jobinfo_list_dispose(&marks);
    roar_buf_dispose(&seen);
    roar_reindex__pending_files_dispose(&pending);
    roar_reindex__problem_list_dispose(&problems);
    roar_reindex__ref_list_dispose(&current);
    roar_reindex__ref_list_dispose(&indexed);
    roar_reindex_refs_free(refs, nrefs);
    return error;
}

int roar_reindex_has_sources(bool *out, roar_repo *repo)
{
    pending_files pending;
    char **refs = NULL;
    size_t nrefs = 0, i;
    git_oid tip;
    int error;

    *out = false;
    if ((error = roar_reindex_refs(&refs, &nrefs, repo)) < 0)
        return error;
    for (i = 0; i < nrefs && !*out; i++) {
        error = roar_notes_tip(&tip, repo, refs[i]);
        *out = error == 0;
        if (error == ROAR_ENOTFOUND || error == ROAR_EINVALID) /* EINVALID: skipped */
            error = 0;
        if (error < 0)
            break;
    }
    roar_reindex_refs_free(refs, nrefs);
    if (error < 0 || *out)
        return error;
    if ((error = roar_reindex__pending_files_read(&pending, repo)) == 0)
        *out = pending.list.count || pending.claims.count;
    roar_reindex__pending_files_dispose(&pending);
    return error;
}

int roar_reindex_refresh(roar_repo *repo, roar_cache *cache, roar_reindex_problem_cb cb,
                         void *payload)
{
    return roar_reindex_update(NULL, repo, cache, false, cb, payload);
}
