/* Pending records become notes: claimed by rename into a private dir, written as one notes
 * commit, removed only after the ref moved. Also drop (pending records and notes); run
 * --commit is in attach_commit.c, the post-rewrite carry in attach_rewrite.c. */
#include "gitstore/attach.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "gitstore/pending.h"
#include "gitstore/remote.h"
#include "graph/oid.h"
#include "graph/record.h"
#include "util/err.h"
#include "util/quote.h"

#define HEXSZ ROAR_OID_HEXSZ
#define CLAIM_PREFIX ".claim-"
#define CLAIM_TARGET ".target"

static bool exists_in(const char *dir, const char *name)
{
    roar_buf path = ROAR_BUF_INIT;
    struct stat st;
    bool found = roar_buf_printf(&path, "%s/%s", dir, name) == 0 && lstat(path.ptr, &st) == 0;
    roar_buf_dispose(&path);
    return found;
}

int roar_attach_sequencer_state(const char **out, roar_repo *repo)
{
    const char *gitdir = roar_repo_gitdir(repo);

    *out = NULL;
    if (exists_in(gitdir, "rebase-merge") || exists_in(gitdir, "rebase-apply"))
        *out = "rebase";
    else if (exists_in(gitdir, "CHERRY_PICK_HEAD"))
        *out = "cherry-pick";
    else if (exists_in(gitdir, "REVERT_HEAD"))
        *out = "revert";
    else if (exists_in(gitdir, "sequencer"))
        *out = "cherry-pick";
    return 0;
}

/* ---- claim dirs ------------------------------------------------------------------- */

static int claim_dir_create(roar_buf *out, const char *pending_dir, const char *target)
{
    unsigned char rnd[4] = {0};
    roar_buf path = ROAR_BUF_INIT;
    FILE *f = NULL;
    int error;

    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
        unsigned seed = (unsigned)getpid() ^ (unsigned)time(NULL) ^ (unsigned)clock();
        memcpy(rnd, &seed, sizeof(rnd));
    }
    roar_buf_clear(out);
    if ((error = roar_buf_printf(out, "%s/" CLAIM_PREFIX "%ld-%02x%02x%02x%02x", pending_dir,
                                 (long)getpid(), rnd[0], rnd[1], rnd[2], rnd[3])) < 0)
        return error;
    if (mkdir(out->ptr, 0777) < 0)
        return roar_error_set_errno(ROAR_ERROR, "cannot create '%s'", out->ptr);
    if ((error = roar_buf_printf(&path, "%s/" CLAIM_TARGET, out->ptr)) < 0)
        goto cleanup;
    if (!(f = fopen(path.ptr, "w")) || fprintf(f, "%s\n", target) < 0) {
        error = roar_error_set_errno(ROAR_ERROR, "cannot write '%s'", path.ptr);
        goto cleanup;
    }

cleanup:
    if (f && fclose(f) != 0 && !error)
        error = roar_error_set_errno(ROAR_ERROR, "cannot write '%s'", path.ptr);
    if (error < 0) {
        unlink(path.ptr);
        rmdir(out->ptr);
    }
    roar_buf_dispose(&path);
    return error;
}

/* Removes the claim dir's `.target` and the dir itself; both may already be gone. */
static void claim_dir_remove(const char *claim)
{
    roar_buf path = ROAR_BUF_INIT;
    if (roar_buf_printf(&path, "%s/" CLAIM_TARGET, claim) == 0)
        unlink(path.ptr);
    rmdir(claim);
    roar_buf_dispose(&path);
}

static int move_file(const char *from_dir, const char *to_dir, const char *name)
{
    roar_buf from = ROAR_BUF_INIT, to = ROAR_BUF_INIT;
    int error;

    if ((error = roar_buf_printf(&from, "%s/%s", from_dir, name)) < 0 ||
        (error = roar_buf_printf(&to, "%s/%s", to_dir, name)) < 0)
        goto cleanup;
    if (rename(from.ptr, to.ptr) < 0)
        error = errno == ENOENT ? ROAR_ENOTFOUND
                                : roar_error_set_errno(ROAR_ERROR, "cannot move '%s' to '%s'",
                                                       from.ptr, to_dir);
cleanup:
    roar_buf_dispose(&from);
    roar_buf_dispose(&to);
    return error;
}

static int remove_file(const char *dir, const char *name)
{
    roar_buf path = ROAR_BUF_INIT;
    int error = roar_buf_printf(&path, "%s/%s", dir, name);
    if (error == 0 && unlink(path.ptr) < 0 && errno != ENOENT)
        error = roar_error_set_errno(ROAR_ERROR, "cannot remove '%s'", path.ptr);
    roar_buf_dispose(&path);
    return error;
}

/* The claim's target commit, or "" when unknown. */
static void read_target(char out[HEXSZ + 1], const char *claim)
{
    roar_buf path = ROAR_BUF_INIT;
    char line[128];
    FILE *f;

    out[0] = '\0';
    if (roar_buf_printf(&path, "%s/" CLAIM_TARGET, claim) == 0 && (f = fopen(path.ptr, "r"))) {
        if (fgets(line, sizeof(line), f)) {
            line[strcspn(line, "\n")] = '\0';
            if (roar_oid_is_hex(line))
                memcpy(out, line, HEXSZ + 1);
        }
        fclose(f);
    }
    roar_buf_dispose(&path);
}

/* Whether the process that made a claim dir is gone. */
static bool claim_is_stale(const char *name)
{
    char *end;
    long pid = strtol(name + strlen(CLAIM_PREFIX), &end, 10);
    if (end == name + strlen(CLAIM_PREFIX) || *end != '-' || pid <= 0)
        return true;
    if (pid == (long)getpid())
        return false;
    return kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

static int recover_one(size_t *restored, roar_repo *repo, const char *pending_dir,
                       const char *claim)
{
    roar_pending_list list = ROAR_PENDING_LIST_INIT;
    roar_buf ref = ROAR_BUF_INIT;
    roar_note note;
    char target[HEXSZ + 1];
    git_oid tip;
    bool have_note = false;
    size_t i;
    int error;

    roar_note_init(&note);
    read_target(target, claim);
    if ((error = roar_pending_list_read(&list, claim, NULL)) < 0)
        goto cleanup;
    if (target[0] && list.count) {
        if ((error = roar_notes_ref(&ref, repo)) < 0)
            goto cleanup;
        error = roar_notes_tip(&tip, repo, ref.ptr);
        if (error == 0)
            error = roar_notes_read(&note, repo, &tip, target, NULL, NULL);
        if (error == 0)
            have_note = true;
        else if (error != ROAR_ENOTFOUND)
            goto cleanup;
        error = 0;
    }
    for (i = 0; i < list.count; i++) {
        if (have_note && roar_note_find(&note, list.items[i].id)) {
            error = remove_file(claim, list.items[i].name);
        } else {
            error = move_file(claim, pending_dir, list.items[i].name);
            if (error == 0 && restored)
                (*restored)++;
        }
        if (error == ROAR_ENOTFOUND)
            error = 0; /* another recovery took it */
        if (error < 0)
            goto cleanup;
    }
    claim_dir_remove(claim);

cleanup:
    roar_note_dispose(&note);
    roar_buf_dispose(&ref);
    roar_pending_list_dispose(&list);
    return error;
}

int roar_attach_recover(size_t *restored, roar_repo *repo)
{
    roar_buf dir = ROAR_BUF_INIT, claim = ROAR_BUF_INIT;
    DIR *d = NULL;
    struct dirent *e;
    int error;

    if (restored)
        *restored = 0;
    if ((error = roar_pending_dir(&dir, repo)) < 0 ||
        (error = roar_pending_recover(NULL, dir.ptr, NULL, NULL)) < 0) /* stranded temps */
        goto cleanup;
    if (!(d = opendir(dir.ptr)))
        goto cleanup;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, CLAIM_PREFIX, strlen(CLAIM_PREFIX)) || !claim_is_stale(e->d_name))
            continue;
        roar_buf_clear(&claim);
        if ((error = roar_buf_printf(&claim, "%s/%s", dir.ptr, e->d_name)) < 0 ||
            (error = recover_one(restored, repo, dir.ptr, claim.ptr)) < 0)
            goto cleanup;
    }

cleanup:
    if (d)
        closedir(d);
    roar_buf_dispose(&dir);
    roar_buf_dispose(&claim);
    return error;
}

/* ---- attach --------------------------------------------------------------------- */

/* The commit `rev` names, and its first parent. */
static int resolve_commit(char out[HEXSZ + 1], char parent[HEXSZ + 1], roar_repo *repo,
                          const char *rev)
{
    git_object *obj = NULL, *peeled = NULL;
    int rc, error = 0;

    parent[0] = '\0';
    rc = git_revparse_single(&obj, roar_repo_git(repo), rev);
    if (rc == GIT_ENOTFOUND || rc == GIT_EAMBIGUOUS || rc == GIT_EINVALIDSPEC ||
        (rc == 0 && git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT) < 0)) {
        error = !strcmp(rev, "HEAD")
                    ? roar_error_set(ROAR_ENOTFOUND, "HEAD does not point at a commit yet")
                    : roar_error_set(ROAR_ENOTFOUND, "'%s' is not a commit", rev);
        goto cleanup;
    }
    if (rc < 0) {
        error = roar_error_set(ROAR_ERROR, "cannot resolve '%s': %s", rev,
                               git_error_last() ? git_error_last()->message : "libgit2 error");
        goto cleanup;
    }
    git_oid_tostr(out, HEXSZ + 1, git_object_id(peeled));
    if (git_commit_parentcount((git_commit *)peeled) > 0)
        git_oid_tostr(parent, HEXSZ + 1, git_commit_parent_id((git_commit *)peeled, 0));

cleanup:
    git_object_free(peeled);
    git_object_free(obj);
    return error;
}

/* SPEC §5.3: the job started on the commit's first parent or on an ancestor of it,
 * or, for an explicit attach, on the commit itself (the lineage of git-ignored
 * outputs, which no new commit carries). */
static int in_scope(bool *out, roar_repo *repo, const roar_job *job, const char *commit,
                    const char *parent)
{
    int error;

    *out = false;
    if (!job->has_base) {
        *out = true; /* recorded before the first commit */
        return 0;
    }
    if (commit && !strcmp(job->base, commit)) {
        *out = true;
        return 0;
    }
    if (!parent[0])
        return 0;
    if (!strcmp(job->base, parent)) {
        *out = true;
        return 0;
    }
    error = roar_repo_is_ancestor(out, repo, job->base, parent);
    if (error == ROAR_ENOTFOUND || error == ROAR_EINVALID) { /* history we do not have */
        *out = false;
        error = 0;
    }
    return error;
}

static bool wanted(const roar_attach_opts *opts, const char *id)
{
    size_t i;
    if (!opts->jobs)
        return true;
    for (i = 0; i < opts->job_count; i++)
        if (!strcmp(opts->jobs[i], id))
            return true;
    return false;
}

int roar_attach_pending(roar_attach_result *out, roar_repo *repo, const roar_attach_opts *opts,
                        roar_notes_problem_cb cb, void *payload)
{
    static const roar_attach_opts defaults = ROAR_ATTACH_OPTS_INIT;
    roar_attach_result res;
    roar_pending_list list = ROAR_PENDING_LIST_INIT;
    roar_buf key = ROAR_BUF_INIT, dir = ROAR_BUF_INIT, claim = ROAR_BUF_INIT;
    roar_buf text = ROAR_BUF_INIT, ref = ROAR_BUF_INIT;
    roar_note note;
    roar_notes_edit edit;
    char parent[HEXSZ + 1];
    char **claimed = NULL;
    size_t nclaimed = 0, claimed_alloc = 0, i;
    bool claimed_dir = false;
    int error = 0;

    if (!opts)
        opts = &defaults;
    memset(&res, 0, sizeof(res));
    roar_note_init(&note);
    bool explicit = opts->rev || opts->explicit_head;
    if (!opts->rev && !opts->jobs) {
        if (getenv(ROAR_ATTACH_SKIP_ENV)) {
            res.busy = "git roar run --commit"; /* it attaches its own job */
            goto done;
        }
        if ((error = roar_attach_sequencer_state(&res.busy, repo)) < 0)
            goto cleanup;
        if (res.busy)
            goto done;
    }
    if ((error = resolve_commit(res.commit, parent, repo, opts->rev ? opts->rev : "HEAD")) < 0 ||
        (error = roar_pending_worktree_key(&key, repo)) < 0 ||
        (error = roar_pending_dir(&dir, repo)) < 0 ||
        (error = roar_attach_recover(&res.restored, repo)) < 0 ||
        (error = roar_pending_list_read(&list, dir.ptr, key.ptr)) < 0)
        goto cleanup;

    for (i = 0; i < list.count; i++) {
        const roar_pending_entry *e = &list.items[i];
        roar_job job;
        bool ok;

        if (!wanted(opts, e->id))
            continue;
        error = roar_pending_read(&text, dir.ptr, e->name);
        if (error == ROAR_ENOTFOUND) { /* claimed or dropped meanwhile */
            error = 0;
            continue;
        }
        if (error == ROAR_ELIMIT || error == ROAR_EINVALID) { /* one bad file stops no other */
            roar_notice("%s; skipped", roar_error_last());
            res.unreadable++;
            error = 0;
            continue;
        }
        if (error < 0)
            goto cleanup;
        roar_job_init(&job);
        if (roar_record_parse(&job, text.ptr, text.size) < 0 || strcmp(job.id, e->id)) {
            res.unreadable++; /* fsck and reindex say what is wrong */
            roar_job_dispose(&job);
            roar_error_clear();
            continue;
        }
        if (!opts->jobs && (error = in_scope(&ok, repo, &job, explicit ? res.commit : NULL,
                                             parent)) < 0) {
            roar_job_dispose(&job);
            goto cleanup;
        }
        if (!opts->jobs && !ok) {
            res.left_pending++;
            roar_job_dispose(&job);
            continue;
        }
        /* Claim it: the rename succeeds for exactly one attach. */
        if (!claimed_dir) {
            if ((error = claim_dir_create(&claim, dir.ptr, res.commit)) < 0) {
                roar_job_dispose(&job);
                goto cleanup;
            }
            claimed_dir = true;
        }
        error = move_file(dir.ptr, claim.ptr, e->name);
        if (error == ROAR_ENOTFOUND) {
            error = 0;
            roar_job_dispose(&job);
            continue;
        }
        if (error < 0 || (error = ROAR_ALLOC_GROW(claimed, nclaimed + 1, claimed_alloc)) < 0) {
            roar_job_dispose(&job);
            if (error == ROAR_ENOMEM)
                move_file(claim.ptr, dir.ptr, e->name);
            goto cleanup;
        }
        claimed[nclaimed++] = e->name;
        error = roar_note_add(&note, &job, text.ptr, text.size);
        roar_job_dispose(&job);
        if (error < 0)
            goto cleanup;
        error = 0;
    }

    if (note.count) {
        memset(&edit, 0, sizeof(edit));
        memcpy(edit.object, res.commit, HEXSZ + 1);
        edit.add = &note;
        if ((error = roar_notes_ref(&ref, repo)) < 0 ||
            (error = roar_notes_write(&res.update, repo, ref.ptr, &edit, 1, ROAR_ATTACH_MESSAGE, cb,
                                      payload)) < 0)
            goto cleanup;
        res.attached = note.count;
        /* The notes hold them now: the claimed copies go. */
        for (i = 0; i < nclaimed; i++)
            remove_file(claim.ptr, claimed[i]);
        nclaimed = 0;
    }

done:
    if (out)
        *out = res;
cleanup:
    /* On failure the claimed records go back where they came from. */
    for (i = 0; i < nclaimed; i++)
        move_file(claim.ptr, dir.ptr, claimed[i]);
    if (claimed_dir)
        claim_dir_remove(claim.ptr);
    free(claimed);
    roar_note_dispose(&note);
    roar_pending_list_dispose(&list);
    roar_buf_dispose(&key);
    roar_buf_dispose(&dir);
    roar_buf_dispose(&claim);
    roar_buf_dispose(&text);
    roar_buf_dispose(&ref);
    return error;
}

/* ---- drop --------------------------------------------------------------------------- */

void roar_drop_result_dispose(roar_drop_result *r)
{
    free(r->items);
    r->items = NULL;
    r->count = r->alloc = 0;
}

typedef struct {
    char (*ids)[HEXSZ + 1];
    size_t count, alloc;
} id_set;

static int id_set_add(id_set *s, const char *id)
{
    size_t i;
    for (i = 0; i < s->count; i++)
        if (!strcmp(s->ids[i], id))
            return 0;
    if (ROAR_ALLOC_GROW(s->ids, s->count + 1, s->alloc) < 0)
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    memcpy(s->ids[s->count++], id, HEXSZ + 1);
    return 0;
}

/* One name to one job id, among pending records and the cache. */
static int resolve_job(char out[HEXSZ + 1], const roar_pending_list *pending, roar_cache *cache,
                       const char *name)
{
    char prefix[HEXSZ + 1], cached[HEXSZ + 1];
    size_t len = strlen(name), i;
    id_set found = {0};
    roar_buf msg = ROAR_BUF_INIT;
    int error = 0, rc;

    for (i = 0; i < len && i < HEXSZ; i++) {
        char c = name[i];
        if (c >= 'A' && c <= 'F')
            c = (char)(c - 'A' + 'a');
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            break;
        prefix[i] = c;
    }
    prefix[i] = '\0';
    if (len < 4 || len > HEXSZ || i != len)
        return roar_error_set(ROAR_EINVALID, "'%s' is not a job id (4 to 40 hex digits)", name);
    for (i = 0; i < pending->count; i++)
        if (!strncmp(pending->items[i].id, prefix, len) &&
            (error = id_set_add(&found, pending->items[i].id)) < 0)
            goto cleanup;
    if (cache) {
        rc = roar_cache_job_resolve(cached, cache, prefix);
        if (rc == 0 && (error = id_set_add(&found, cached)) < 0)
            goto cleanup;
        if (rc == ROAR_EAMBIGUOUS) {
            error = rc;
            goto cleanup;
        }
        if (rc < 0 && rc != ROAR_ENOTFOUND) {
            error = rc;
            goto cleanup;
        }
        roar_error_clear();
    }
    if (!found.count) {
        error = roar_error_set(ROAR_ENOTFOUND, "no job matches '%s'", name);
    } else if (found.count > 1) {
        for (i = 0; i < found.count; i++)
            roar_buf_printf(&msg, "%s%s", i ? ", " : "", found.ids[i]);
        error = roar_error_set(ROAR_EAMBIGUOUS, "job id '%s' is ambiguous: %s", name, msg.ptr);
    } else {
        memcpy(out, found.ids[0], HEXSZ + 1);
    }

cleanup:
    free(found.ids);
    roar_buf_dispose(&msg);
    return error;
}

int roar_attach_drop(roar_drop_result *out, roar_repo *repo, roar_cache *cache,
                     const char *const *jobs, size_t count, bool from_notes,
                     roar_notes_problem_cb cb, void *payload)
{
    roar_pending_list pending = ROAR_PENDING_LIST_INIT;
    roar_cache_id_list commits = ROAR_CACHE_ID_LIST_INIT;
    roar_buf dir = ROAR_BUF_INIT, ref = ROAR_BUF_INIT;
    roar_notes_edit *edits = NULL;
    const char **remove_ids = NULL;
    size_t nedits = 0, edits_alloc = 0, i, k;
    git_oid tip;
    bool have_tip = false;
    int error;

    roar_drop_result_dispose(out);
    if ((error = roar_pending_dir(&dir, repo)) < 0 ||
        (error = roar_pending_list_read(&pending, dir.ptr, NULL)) < 0 ||
        (error = roar_notes_ref(&ref, repo)) < 0)
        goto cleanup;
    error = roar_notes_tip(&tip, repo, ref.ptr);
    if (error == 0)
        have_tip = true;
    else if (error != ROAR_ENOTFOUND)
        goto cleanup;
    error = 0;

    /* Resolve and check everything before changing anything. */
    for (i = 0; i < count; i++) {
        roar_drop_item *item;
        if ((error = ROAR_ALLOC_GROW(out->items, out->count + 1, out->alloc)) < 0)
            goto cleanup;
        item = &out->items[out->count];
        memset(item, 0, sizeof(*item));
        if ((error = resolve_job(item->id, &pending, cache, jobs[i])) < 0)
            goto cleanup;
        out->count++;
        for (k = 0; k < pending.count; k++)
            if (!strcmp(pending.items[k].id, item->id))
                item->was_pending = true;
        if (!cache)
            continue;
        if ((error = roar_cache_attachments(&commits, cache, item->id)) < 0 &&
            error != ROAR_ENOTFOUND)
            goto cleanup;
        error = 0;
        if (commits.count && !from_notes && !item->was_pending) {
            error =
                roar_error_set(ROAR_EEXISTS,
                               "job %.7s is attached to commit %.7s%s; use --from-notes to "
                               "remove it from the notes",
                               item->id, commits.items[0], commits.count > 1 ? " and others" : "");
            goto cleanup;
        }
        if (!from_notes || !have_tip)
            continue;
        for (k = 0; k < commits.count; k++) {
            roar_note n;
            bool in_local;
            roar_note_init(&n);
            in_local = roar_notes_read(&n, repo, &tip, commits.items[k], NULL, NULL) == 0 &&
                       roar_note_find(&n, item->id);
            roar_note_dispose(&n);
            roar_error_clear();
            if (!in_local)
                continue;
            if ((error = ROAR_ALLOC_GROW(edits, nedits + 1, edits_alloc)) < 0)
                goto cleanup;
            memset(&edits[nedits], 0, sizeof(*edits));
            memcpy(edits[nedits].object, commits.items[k], HEXSZ + 1);
            edits[nedits].remove_count = 1; /* .remove is set once out->items stops moving */
            nedits++;
            item->notes_removed++;
        }
    }

    /* Pending records first: they are the cheap, local part. */
    for (i = 0; i < out->count; i++)
        for (k = 0; k < pending.count; k++)
            if (!strcmp(pending.items[k].id, out->items[i].id) &&
                (error = remove_file(dir.ptr, pending.items[k].name)) < 0)
                goto cleanup;

    if (nedits) {
        size_t e = 0;
        if (!(remove_ids = malloc(nedits * sizeof(*remove_ids)))) {
            error = roar_error_set(ROAR_ENOMEM, "out of memory");
            goto cleanup;
        }
        for (i = 0; i < out->count; i++)
            for (k = 0; k < out->items[i].notes_removed; k++, e++) {
                remove_ids[e] = out->items[i].id;
                edits[e].remove = &remove_ids[e];
            }
        if ((error = roar_notes_write(NULL, repo, ref.ptr, edits, nedits,
                                      "Notes removed by 'git roar drop'", cb, payload)) < 0)
            goto cleanup;
    }

cleanup:
    free(remove_ids);
    free(edits);
    roar_cache_id_list_dispose(&commits);
    roar_pending_list_dispose(&pending);
    roar_buf_dispose(&dir);
    roar_buf_dispose(&ref);
    return error;
}
