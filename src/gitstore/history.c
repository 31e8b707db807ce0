/* One commit's reachable set and tree (history.h), for the scope rule: each asked
 * lazily, the walk once, the tree kept open for many lookups. */
#include "gitstore/history.h"

#include <stdlib.h>
#include <string.h>

#include "graph/cache_reach.h"
#include "graph/oid.h"
#include "util/keymap.h"
#include "util/err.h"

#define REACHED ((void *)1)

struct roar_history {
    roar_repo *repo;
    char commit[ROAR_OID_HEXSZ + 1];
    bool walked;
    roar_keymap reached; /* 40-hex commit id -> REACHED */
    roar_cache *keep;    /* where the set is kept between commands; NULL: memory only */
    bool kept;           /* `reached` was loaded from the set kept in `keep` */
    bool synced;         /* the kept set is this commit's (sync_kept succeeded) */
    bool sync_failed;    /* a read-only or busy cache: walk in memory instead */
    size_t asked;        /* questions answered by the kept set in the file */
    git_tree *tree;      /* NULL until the first lookup */
};

static int git_fail(int code, const char *what)
{
    const git_error *e = git_error_last();
    return roar_error_set(code, "%s: %s", what, e && e->message ? e->message : "libgit2 error");
}

int roar_history_open(roar_history **out, roar_repo *repo, const char *commit_hex)
{
    roar_history *h;
    git_oid oid;
    git_commit *commit = NULL;
    int rc;

    *out = NULL;
    if (!commit_hex || !roar_oid_is_hex(commit_hex))
        return roar_error_set(ROAR_EINVALID, "not a commit id: '%s'",
                              commit_hex ? commit_hex : "(null)");
    if (git_oid_fromstr(&oid, commit_hex) < 0)
        return git_fail(ROAR_EINVALID, "bad commit id");
    rc = git_commit_lookup(&commit, roar_repo_git(repo), &oid);
    if (rc == GIT_ENOTFOUND)
        return roar_error_set(ROAR_ENOTFOUND, "commit %s not found", commit_hex);
    if (rc < 0)
        return git_fail(ROAR_ERROR, "cannot read commit");
    git_commit_free(commit);
    if (!(h = calloc(1, sizeof(*h))))
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    h->repo = repo;
    memcpy(h->commit, commit_hex, ROAR_OID_HEXSZ + 1);
    h->reached = (roar_keymap)ROAR_KEYMAP_INIT;
    *out = h;
    return 0;
}

void roar_history_free(roar_history *h)
{
    if (!h)
        return;
    roar_keymap_dispose(&h->reached);
    git_tree_free(h->tree);
    free(h);
}

void roar_history_keep_in(roar_history *h, roar_cache *cache)
{
    h->keep = cache;
}

const char *roar_history_commit(const roar_history *h)
{
    return h->commit;
}

static int mark_reached(const git_oid *commit, void *payload)
{
    roar_history *h = payload;
    char hex[GIT_OID_HEXSZ + 1];
    git_oid_tostr(hex, sizeof(hex), commit);
    if (roar_keymap_puts(&h->reached, hex, REACHED) < 0)
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    return 0;
}

/* ---- the set kept in the cache ------------------------------------------------- */

typedef struct {
    roar_history *h;
    const char *old_tip;
    bool old_tip_seen;
    git_oid *fresh; /* commits the kept set lacks */
    size_t fresh_count, fresh_alloc;
} catch_up;

/* A commit the kept set holds is an ancestor of the old tip, and so are its parents:
 * the walk goes no further there. The old tip itself is the first kept commit on any
 * path to it, so the walk sees it exactly when it is an ancestor of the new commit. */
static int catch_up_visit(const git_oid *commit, void *payload)
{
    catch_up *c = payload;
    char hex[GIT_OID_HEXSZ + 1];
    bool kept;
    int error;

    git_oid_tostr(hex, sizeof(hex), commit);
    if ((error = roar_cache_reach_has(&kept, c->h->keep, hex)) < 0)
        return error;
    if (kept) {
        if (!strcmp(hex, c->old_tip))
            c->old_tip_seen = true;
        return ROAR_WALK_PRUNE;
    }
    if (ROAR_ALLOC_GROW(c->fresh, c->fresh_count + 1, c->fresh_alloc) < 0)
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    c->fresh[c->fresh_count++] = *commit;
    return 0;
}

static int keep_reached(const git_oid *commit, void *payload)
{
    roar_history *h = payload;
    char hex[GIT_OID_HEXSZ + 1];
    git_oid_tostr(hex, sizeof(hex), commit);
    return roar_cache_reach_add(h->keep, hex);
}

/* Makes the kept set this view's, in one transaction: the commits since the old tip
 * when it is an ancestor, else a rebuild by one whole walk. */
static int sync_kept(roar_history *h)
{
    char old_tip[ROAR_OID_HEXSZ + 1];
    catch_up c = {h, old_tip, false, NULL, 0, 0};
    char hex[GIT_OID_HEXSZ + 1];
    bool shallow;
    int error;

    /* The walk stops at shallow roots, and a later deepening would leave the kept set
     * short: shallow clones walk in memory, as before. */
    if ((error = roar_repo_is_shallow(&shallow, h->repo)) < 0 || shallow)
        return error < 0 ? error : ROAR_ENOTFOUND;
    /* The common case, HEAD where the kept set is: a read, no write lock. */
    if (roar_cache_reach_tip(old_tip, h->keep) == 0 && !strcmp(old_tip, h->commit))
        return 0;
    roar_error_clear();
    if ((error = roar_cache_begin(h->keep)) < 0)
        return error;
    error = roar_cache_reach_tip(old_tip, h->keep);
    if (error == 0 && !strcmp(old_tip, h->commit))
        goto done;
    if (error == 0) {
        if ((error = roar_repo_walk_ancestors(h->repo, h->commit, catch_up_visit, &c)) < 0)
            goto done;
        if (c.old_tip_seen) {
            for (size_t i = 0; i < c.fresh_count && !error; i++) {
                git_oid_tostr(hex, sizeof(hex), &c.fresh[i]);
                error = roar_cache_reach_add(h->keep, hex);
            }
            if (!error)
                error = roar_cache_reach_set_tip(h->keep, h->commit);
            goto done;
        }
    } else if (error != ROAR_ENOTFOUND) {
        goto done;
    }
    if ((error = roar_cache_reach_reset(h->keep)) < 0 ||
        (error = roar_repo_walk_ancestors(h->repo, h->commit, keep_reached, h)) < 0 ||
        (error = roar_cache_reach_set_tip(h->keep, h->commit)) < 0)
        goto done;
done:
    free(c.fresh);
    if (error < 0) {
        roar_cache_rollback(h->keep);
        return error;
    }
    return roar_cache_commit(h->keep);
}

static int load_reached(const char *commit, void *payload)
{
    roar_history *h = payload;
    if (roar_keymap_puts(&h->reached, commit, REACHED) < 0)
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    return 0;
}

/* Up to this many questions are answered by the kept set in the file, one indexed
 * statement each (a few µs); past it, the whole set is copied into memory (~1 µs a
 * commit, 30 ms at 25k commits). `log -n 20` and `show` ask tens; `status` and a whole
 * `log` ask about every job. */
#define ASK_BEFORE_LOAD 2048

/* Answers from the file while few questions have been asked; 1 when answered. */
static int ask_kept(bool *out, roar_history *h, const char *commit_hex)
{
    int error;

    if (!h->synced && !h->sync_failed) {
        if ((error = sync_kept(h)) < 0) {
            roar_error_clear();
            h->sync_failed = true;
        } else {
            h->synced = true;
        }
    }
    if (!h->synced || h->asked >= ASK_BEFORE_LOAD)
        return 0;
    /* The set of a given commit never changes, so answers from the file and from a
     * later load (or walk) agree; a set re-pointed meanwhile answers ENOTFOUND. */
    if (roar_cache_reach_has_at(out, h->keep, h->commit, commit_hex) < 0) {
        roar_error_clear();
        h->asked = ASK_BEFORE_LOAD;
        return 0;
    }
    h->asked++;
    return 1;
}

int roar_history_reaches(bool *out, roar_history *h, const char *commit_hex)
{
    int error;

    *out = false;
    if (!commit_hex)
        return 0;
    if (!h->walked && h->keep && ask_kept(out, h, commit_hex))
        return 0;
    if (!h->walked) {
        /* The kept set is copied into memory in one snapshot: the table is shared by
         * every worktree and command, and another one may re-point it at its own HEAD
         * while this command still asks. */
        if (h->synced) {
            error = roar_cache_reach_load(h->keep, h->commit, load_reached, h);
            h->kept = error == 0;
            /* A busy cache, or a set re-pointed meanwhile: walk instead. */
            if (error < 0) {
                roar_error_clear();
                roar_keymap_dispose(&h->reached);
                h->reached = (roar_keymap)ROAR_KEYMAP_INIT;
            }
        }
        if (!h->kept &&
            (error = roar_repo_walk_ancestors(h->repo, h->commit, mark_reached, h)) < 0)
            return error;
        h->walked = true;
    }
    *out = roar_keymap_gets(&h->reached, commit_hex) == REACHED;
    return 0;
}

int roar_history_tree_blob(char out[ROAR_OID_HEXSZ + 1], roar_history *h, const char *path)
{
    git_tree_entry *entry = NULL;
    int rc;

    if (!path || !path[0] || path[0] == '/')
        return ROAR_ENOTFOUND;
    if (!h->tree) {
        git_oid oid;
        git_commit *commit = NULL;
        if (git_oid_fromstr(&oid, h->commit) < 0 ||
            git_commit_lookup(&commit, roar_repo_git(h->repo), &oid) < 0 ||
            git_commit_tree(&h->tree, commit) < 0) {
            git_commit_free(commit);
            return git_fail(ROAR_ERROR, "cannot read the commit's tree");
        }
        git_commit_free(commit);
    }
    rc = git_tree_entry_bypath(&entry, h->tree, path);
    if (rc == GIT_ENOTFOUND)
        return ROAR_ENOTFOUND;
    if (rc < 0)
        return git_fail(ROAR_ERROR, "cannot look up a path in a tree");
    if (git_tree_entry_type(entry) != GIT_OBJECT_BLOB) {
        git_tree_entry_free(entry);
        return ROAR_ENOTFOUND;
    }
    git_oid_tostr(out, ROAR_OID_HEXSZ + 1, git_tree_entry_id(entry));
    git_tree_entry_free(entry);
    return 0;
}
