/* Resolution of OBJ arguments (SPEC §3) shared by show, lineage, reproduce and export:
 * every allowed kind is tried, so a string naming two things is refused, never guessed. */
#include "cli/objref.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <git2.h>

#include "graph/cache.h"
#include "graph/hash.h"
#include "util/buf.h"
#include "util/err.h"

#define MAX_CANDIDATES 5

void roar_objref_init(roar_objref *ref)
{
    memset(ref, 0, sizeof(*ref));
}

void roar_objref_dispose(roar_objref *ref)
{
    if (!ref)
        return;
    free(ref->path);
    free(ref->abs);
    roar_objref_init(ref);
}

const char *roar_objref_kind_name(roar_objref_kind kind)
{
    switch (kind) {
    case ROAR_OBJREF_PATH:
        return "file";
    case ROAR_OBJREF_REVPATH:
        return "blob at rev:path";
    case ROAR_OBJREF_JOB:
        return "job";
    case ROAR_OBJREF_COMMIT:
        return "commit";
    case ROAR_OBJREF_BLOB:
        return "blob";
    }
    return "object";
}

bool roar_objref_is_hex(const char *s, size_t min, size_t max)
{
    size_t n = strlen(s), i;
    if (n < min || n > max)
        return false;
    for (i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i]))
            return false;
    return true;
}

static int set_git_error(const char *what)
{
    const git_error *e = git_error_last();
    return roar_error_set(ROAR_ERROR, "%s: %s", what, e && e->message ? e->message : "failed");
}

/* ---- the kinds, one function each; 1 = matched, 0 = not, < 0 = error ---------- */

static int try_path(roar_objref *out, roar_query *q, roar_repo *repo, const char *arg,
                    bool after_dashdash)
{
    roar_buf path = ROAR_BUF_INIT, abs = ROAR_BUF_INIT;
    roar_stat_key key;
    struct stat st;
    int error;

    if (!arg[0] || (!after_dashdash && stat(arg, &st) != 0))
        return 0;
    (void)repo;
    roar_query_map_path(&path, &abs, q, arg);
    out->kind = ROAR_OBJREF_PATH;
    out->exists = true;
    if (stat(abs.ptr, &st) == 0 && S_ISDIR(st.st_mode)) {
        /* The caller says whether a directory makes sense for it. */
        out->has_blob = false;
        out->is_dir = true;
    } else if ((error = roar_hash_file(out->blob, &key, roar_query_cache(q), abs.ptr, NULL)) ==
               ROAR_ENOTFOUND) {
        roar_error_clear();
        out->exists = false;
    } else if (error < 0) {
        roar_error_prefix("cannot read '%s'", arg);
        goto cleanup;
    } else {
        out->has_blob = true;
        out->size = key.size;
    }
    if (!(out->path = roar_buf_detach(&path)) || !(out->abs = roar_buf_detach(&abs))) {
        error = roar_error_set(ROAR_ENOMEM, "out of memory");
        goto cleanup;
    }
    error = 1;

cleanup:
    roar_buf_dispose(&path);
    roar_buf_dispose(&abs);
    return error;
}

static int try_revpath(roar_objref *out, roar_repo *repo, const char *arg)
{
    git_repository *git = roar_repo_git(repo);
    const char *colon = strchr(arg, ':');
    git_object *obj = NULL, *rev = NULL, *commit = NULL;
    char *revstr = NULL;
    int error = 0;

    if (!colon || !colon[1])
        return 0;
    if (git_revparse_single(&obj, git, arg) < 0 || git_object_type(obj) != GIT_OBJECT_BLOB) {
        git_error_clear();
        goto cleanup;
    }
    out->kind = ROAR_OBJREF_REVPATH;
    out->exists = out->has_blob = true;
    git_oid_tostr(out->blob, sizeof(out->blob), git_object_id(obj));
    out->size = (uint64_t)git_blob_rawsize((git_blob *)obj);
    if (!(out->path = strdup(colon + 1)) || !(revstr = strndup(arg, (size_t)(colon - arg)))) {
        error = roar_error_set(ROAR_ENOMEM, "out of memory");
        goto cleanup;
    }
    /* `:path` is the index; `rev:path` names a commit we report with it. */
    if (revstr[0] && git_revparse_single(&rev, git, revstr) == 0 &&
        git_object_peel(&commit, rev, GIT_OBJECT_COMMIT) == 0)
        git_oid_tostr(out->commit, sizeof(out->commit), git_object_id(commit));
    git_error_clear();
    error = 1;

cleanup:
    free(revstr);
    git_object_free(commit);
    git_object_free(rev);
    git_object_free(obj);
    return error;
}

static int try_job(roar_objref *out, roar_query *q, const char *arg)
{
    roar_cache *cache = roar_query_cache(q);
    int error;

    if (!cache || !roar_objref_is_hex(arg, 4, ROAR_OID_HEXSZ))
        return 0;
    error = roar_cache_job_resolve(out->job, cache, arg);
    if (error == ROAR_ENOTFOUND) {
        roar_error_clear();
        return 0;
    }
    if (error < 0)
        return error; /* ambiguous among jobs: the cache's message lists them */
    out->kind = ROAR_OBJREF_JOB;
    out->exists = true;
    return 1;
}

static int try_commit(roar_objref *out, roar_repo *repo, const char *arg)
{
    git_object *obj = NULL, *commit = NULL;
    int matched = 0;

    if (git_revparse_single(&obj, roar_repo_git(repo), arg) == 0 &&
        (git_object_type(obj) == GIT_OBJECT_COMMIT || git_object_type(obj) == GIT_OBJECT_TAG) &&
        git_object_peel(&commit, obj, GIT_OBJECT_COMMIT) == 0) {
        out->kind = ROAR_OBJREF_COMMIT;
        out->exists = true;
        git_oid_tostr(out->commit, sizeof(out->commit), git_object_id(commit));
        matched = 1;
    }
    git_error_clear();
    git_object_free(commit);
    git_object_free(obj);
    return matched;
}

/* A blob id prefix: in the object database, or named by a job (ignored data files are
 * never in git's objects, yet their ids are what records hold). The cache answers with
 * a range scan of its blob ids, so this costs the same at 10 jobs or 100,000. */
static int try_blob(roar_objref *out, roar_query *q, roar_repo *repo, const char *arg)
{
    roar_cache *cache = roar_query_cache(q);
    roar_cache_blob named[MAX_CANDIDATES];
    char found[MAX_CANDIDATES][ROAR_OID_HEXSZ + 1];
    size_t nfound = 0, nnamed = 0, len = strlen(arg), i, k;
    uint64_t found_size = 0;
    git_odb *odb = NULL;
    git_oid short_id, full;
    int error = 0;

    if (!roar_objref_is_hex(arg, 4, ROAR_OID_HEXSZ))
        return 0;
    if (git_repository_odb(&odb, roar_repo_git(repo)) < 0) {
        error = set_git_error("cannot open the object database");
        goto cleanup;
    }
    /* An ambiguous prefix in the object database (say a blob and a commit) is no blob
     * candidate: only an exact object of type blob counts. */
    if (git_oid_fromstrn(&short_id, arg, len) == 0 &&
        git_odb_exists_prefix(&full, odb, &short_id, len) == 0) {
        size_t size;
        git_object_t type;
        if (git_odb_read_header(&size, &type, odb, &full) == 0 && type == GIT_OBJECT_BLOB) {
            git_oid_tostr(found[nfound++], ROAR_OID_HEXSZ + 1, &full);
            found_size = size;
        }
    }
    git_error_clear();

    if (cache && (error = roar_cache_blob_resolve(named, &nnamed, MAX_CANDIDATES, cache, arg)) < 0)
        goto cleanup;
    for (i = 0; i < nnamed && nfound < MAX_CANDIDATES; i++) {
        for (k = 0; k < nfound && strcmp(found[k], named[i].id) != 0; k++)
            ;
        if (k == nfound) {
            memcpy(found[nfound++], named[i].id, ROAR_OID_HEXSZ + 1);
            found_size = named[i].size;
        }
    }

    if (nfound > 1) {
        roar_buf msg = ROAR_BUF_INIT;
        roar_buf_printf(&msg, "blob id prefix '%s' is ambiguous; candidates:", arg);
        for (k = 0; k < nfound; k++)
            roar_buf_printf(&msg, "\n  blob %s", found[k]);
        error = roar_error_set(ROAR_EAMBIGUOUS, "%s", msg.ptr);
        roar_buf_dispose(&msg);
        goto cleanup;
    }
    if (nfound == 1) {
        out->kind = ROAR_OBJREF_BLOB;
        out->exists = out->has_blob = true;
        memcpy(out->blob, found[0], ROAR_OID_HEXSZ + 1);
        out->size = found_size;
        error = 1;
    }

cleanup:
    git_odb_free(odb);
    return error;
}

/* ---- resolution --------------------------------------------------------------- */

static void describe(roar_buf *msg, const roar_objref *r)
{
    roar_buf_printf(msg, "\n  %s ", roar_objref_kind_name(r->kind));
    switch (r->kind) {
    case ROAR_OBJREF_PATH:
        roar_buf_puts(msg, r->path);
        break;
    case ROAR_OBJREF_REVPATH:
    case ROAR_OBJREF_BLOB:
        roar_buf_puts(msg, r->blob);
        break;
    case ROAR_OBJREF_JOB:
        roar_buf_puts(msg, r->job);
        break;
    case ROAR_OBJREF_COMMIT:
        roar_buf_puts(msg, r->commit);
        break;
    }
}

int roar_objref_resolve(roar_objref *out, roar_query *q, roar_repo *repo, const char *arg,
                        unsigned allowed, bool after_dashdash)
{
    roar_objref cand[5];
    size_t n = 0, i;
    int error = 0, r;

    roar_objref_dispose(out);
    for (i = 0; i < 5; i++)
        roar_objref_init(&cand[i]);

    if (after_dashdash) {
        if (!(allowed & ROAR_OBJREF_PATH)) {
            error = roar_error_set(ROAR_EINVALID,
                                   "'%s' after '--' is a path; this command "
                                   "does not take one",
                                   arg);
            goto cleanup;
        }
        if ((r = try_path(&cand[0], q, repo, arg, true)) < 0) {
            error = r;
            goto cleanup;
        }
        n = 1;
        goto done;
    }

    /* SPEC §3's order: the first candidate is the one a caller would have chosen, but
     * any second one makes the argument ambiguous. */
    if ((allowed & ROAR_OBJREF_PATH) && (r = try_path(&cand[n], q, repo, arg, false)) != 0) {
        if (r < 0) {
            error = r;
            goto cleanup;
        }
        n++;
    }
    if ((allowed & ROAR_OBJREF_REVPATH) && (r = try_revpath(&cand[n], repo, arg)) != 0) {
        if (r < 0) {
            error = r;
            goto cleanup;
        }
        n++;
    }
    if ((allowed & ROAR_OBJREF_JOB) && (r = try_job(&cand[n], q, arg)) != 0) {
        if (r < 0) {
            error = r;
            goto cleanup;
        }
        n++;
    }
    if ((allowed & ROAR_OBJREF_COMMIT) && (r = try_commit(&cand[n], repo, arg)) != 0) {
        n++;
    }
    if ((allowed & ROAR_OBJREF_BLOB) && (r = try_blob(&cand[n], q, repo, arg)) != 0) {
        if (r < 0) {
            error = r;
            goto cleanup;
        }
        n++;
    }

done:
    if (n == 0) {
        /* Named in this order so the common case reads "neither an existing file nor
         * a job id, ...". */
        static const struct {
            roar_objref_kind kind;
            const char *words;
        } names[] = {
            {ROAR_OBJREF_PATH, "an existing file"},  {ROAR_OBJREF_JOB, "a job id"},
            {ROAR_OBJREF_REVPATH, "a <rev>:<path>"}, {ROAR_OBJREF_COMMIT, "a commit"},
            {ROAR_OBJREF_BLOB, "a blob id"},
        };
        roar_buf msg = ROAR_BUF_INIT;
        size_t total = 0, seen = 0;
        for (i = 0; i < 5; i++)
            total += (allowed & names[i].kind) != 0;
        roar_buf_printf(&msg, "'%s' is %s", arg, total > 1 ? "neither " : "not ");
        for (i = 0; i < 5; i++) {
            if (!(allowed & names[i].kind))
                continue;
            seen++;
            roar_buf_printf(&msg, "%s%s",
                            seen == 1      ? ""
                            : seen == 2    ? " nor "
                            : seen < total ? ", "
                                           : " or ",
                            names[i].words);
        }
        error = roar_error_set(ROAR_ENOTFOUND, "%s", msg.ptr);
        roar_buf_dispose(&msg);
        goto cleanup;
    }
    if (n > 1) {
        roar_buf msg = ROAR_BUF_INIT;
        roar_buf_printf(&msg, "'%s' is ambiguous; it names:", arg);
        for (i = 0; i < n; i++)
            describe(&msg, &cand[i]);
        if (cand[0].kind == ROAR_OBJREF_PATH)
            roar_buf_printf(&msg, "\nuse '-- %s' for the file, or more digits", arg);
        else
            roar_buf_puts(&msg, "\nuse more digits, or a path");
        error = roar_error_set(ROAR_EAMBIGUOUS, "%s", msg.ptr);
        roar_buf_dispose(&msg);
        goto cleanup;
    }
    *out = cand[0];
    roar_objref_init(&cand[0]);

cleanup:
    for (i = 0; i < 5; i++)
        roar_objref_dispose(&cand[i]);
    return error;
}

/* ---- work-tree form of a committed blob --------------------------------------- */

int roar_objref_worktree_blob(char out[ROAR_OID_HEXSZ + 1], roar_repo *repo, const char *blob_hex,
                              const char *path, const char *commit_hex)
{
    git_repository *git = roar_repo_git(repo);
    git_blob_filter_options opts;
    git_blob *blob = NULL;
    git_buf buf = GIT_BUF_INIT;
    git_oid id, commit_id, smudged;
    int error = 0;

    memcpy(out, blob_hex, ROAR_OID_HEXSZ + 1);
    /* The _INIT macro leaves fields unnamed, which -Wextra rejects. */
    memset(&opts, 0, sizeof(opts));
    opts.version = GIT_BLOB_FILTER_OPTIONS_VERSION;
    if (git_oid_fromstr(&id, blob_hex) < 0 || git_blob_lookup(&blob, git, &id) < 0) {
        error = set_git_error("cannot read blob");
        goto cleanup;
    }
    /* No binary check: git applies eol conversion only to text anyway, and a filter
     * driver (LFS-like) must run on whatever the blob holds. */
    opts.flags = 0;
    if (commit_hex && git_oid_fromstr(&commit_id, commit_hex) == 0) {
        opts.flags |= GIT_BLOB_FILTER_ATTRIBUTES_FROM_COMMIT;
        opts.attr_commit_id = commit_id;
    }
    if (git_blob_filter(&buf, blob, path, &opts) < 0) {
        error = set_git_error("cannot smudge blob");
        goto cleanup;
    }
    if (git_odb_hash(&smudged, buf.ptr, buf.size, GIT_OBJECT_BLOB) < 0) {
        error = set_git_error("cannot hash blob");
        goto cleanup;
    }
    git_oid_tostr(out, ROAR_OID_HEXSZ + 1, &smudged);

cleanup:
    git_buf_dispose(&buf);
    git_blob_free(blob);
    return error;
}

int roar_objref_revpath_worktree_blob(char out[ROAR_OID_HEXSZ + 1], roar_repo *repo,
                                      const roar_objref *ref)
{
    return roar_objref_worktree_blob(out, repo, ref->blob, ref->path,
                                     ref->commit[0] ? ref->commit : NULL);
}
