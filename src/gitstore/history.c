/* One commit's reachable set and tree (history.h), for the scope rule: each asked
 * lazily, the walk once, the tree kept open for many lookups. */
#include "gitstore/history.h"

#include <stdlib.h>
#include <string.h>

#include "graph/oid.h"
#include "util/keymap.h"
#include "util/err.h"

#define REACHED ((void *)1)

struct roar_history {
    roar_repo *repo;
    char commit[ROAR_OID_HEXSZ + 1];
    bool walked;
    roar_keymap reached; /* 40-hex commit id -> REACHED */
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

int roar_history_reaches(bool *out, roar_history *h, const char *commit_hex)
{
    int error;

    *out = false;
    if (!h->walked) {
        if ((error = roar_repo_walk_ancestors(h->repo, h->commit, mark_reached, h)) < 0)
            return error;
        h->walked = true;
    }
    *out = commit_hex && roar_keymap_gets(&h->reached, commit_hex) == REACHED;
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
