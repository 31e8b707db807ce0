/* Changed files of a commit matched to the jobs that produced their content. A commit
 * holds clean bytes, a job saw work-tree bytes: both forms are looked up. */
#include "cli/explain.h"

#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "cli/objref.h"
#include "util/buf.h"
#include "util/err.h"

void roar_explain_list_dispose(roar_explain_list *list)
{
    size_t i;
    if (!list)
        return;
    for (i = 0; i < list->count; i++) {
        free(list->items[i].path);
        roar_cache_id_list_dispose(&list->items[i].producers);
    }
    free(list->items);
    list->items = NULL;
    list->count = list->alloc = 0;
}

static int set_git_error(const char *what)
{
    const git_error *e = git_error_last();
    return roar_error_set(ROAR_ERROR, "%s: %s", what, e && e->message ? e->message : "failed");
}

/* Newest first across both lookups: an edge list is newest first already; merge by
 * end time, keeping each job once. */
int roar_explain_producers(roar_cache_id_list *out, roar_cache *cache, const char *path,
                           const char *id1, const char *id2)
{
    roar_cache_edge_list a = ROAR_CACHE_EDGE_LIST_INIT, b = ROAR_CACHE_EDGE_LIST_INIT;
    size_t i = 0, j = 0, k;
    int error = 0;

    if (!cache)
        return 0;
    if ((error = roar_cache_producers(&a, cache, id1)) < 0)
        goto cleanup;
    if (id2 && strcmp(id1, id2) != 0 && (error = roar_cache_producers(&b, cache, id2)) < 0)
        goto cleanup;
    while (i < a.count || j < b.count) {
        const roar_cache_edge *e;
        if (j >= b.count || (i < a.count && a.items[i].end_ms >= b.items[j].end_ms))
            e = &a.items[i++];
        else
            e = &b.items[j++];
        /* A failed job produces nothing (SPEC §6.2); the same bytes written at another
         * path explain nothing (SPEC §6.3). */
        if (e->end_kind != ROAR_END_EXIT || e->end_code != 0 || (path && strcmp(e->path, path)))
            continue;
        for (k = 0; k < out->count && strcmp(out->items[k], e->job_id) != 0; k++)
            ;
        if (k < out->count)
            continue;
        if ((error = ROAR_ALLOC_GROW(out->items, out->count + 1, out->alloc)) < 0)
            goto cleanup;
        memcpy(out->items[out->count++], e->job_id, ROAR_OID_HEXSZ + 1);
    }

cleanup:
    roar_cache_edge_list_dispose(&a);
    roar_cache_edge_list_dispose(&b);
    return error;
}

static int add_file(roar_explain_list *out, roar_repo *repo, roar_cache *cache,
                    const git_diff_delta *d, const char *commit_hex)
{
    roar_explain_file *f;
    int error;

    if ((error = ROAR_ALLOC_GROW(out->items, out->count + 1, out->alloc)) < 0)
        return error;
    f = &out->items[out->count];
    memset(f, 0, sizeof(*f));
    switch (d->status) {
    case GIT_DELTA_ADDED:
        f->status = 'A';
        break;
    case GIT_DELTA_DELETED:
        f->status = 'D';
        break;
    case GIT_DELTA_RENAMED:
        f->status = 'R';
        break;
    case GIT_DELTA_TYPECHANGE:
        f->status = 'T';
        break;
    default:
        f->status = 'M';
        break;
    }
    if (!(f->path = strdup(d->status == GIT_DELTA_DELETED ? d->old_file.path : d->new_file.path)))
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    out->count++;
    if (d->status == GIT_DELTA_DELETED)
        return 0;
    git_oid_tostr(f->blob, sizeof(f->blob), &d->new_file.id);
    memcpy(f->worktree_blob, f->blob, sizeof(f->blob));
    f->size = (uint64_t)d->new_file.size;
    if (d->new_file.mode != GIT_FILEMODE_BLOB && d->new_file.mode != GIT_FILEMODE_BLOB_EXECUTABLE)
        return 0; /* symlinks and submodules: not file content a job writes through */
    if ((error = roar_objref_worktree_blob(f->worktree_blob, repo, f->blob, f->path, commit_hex)) <
        0)
        return error;
    return roar_explain_producers(&f->producers, cache, f->path, f->worktree_blob, f->blob);
}

/* The tree of commit `hex` in *out; NULL for NULL or "" (the empty tree). */
static int tree_of(git_tree **out, git_repository *git, const char *hex)
{
    git_commit *commit = NULL;
    git_oid id;
    int error = 0;

    *out = NULL;
    if (!hex || !hex[0])
        return 0;
    if (git_oid_fromstr(&id, hex) < 0 || git_commit_lookup(&commit, git, &id) < 0 ||
        git_commit_tree(out, commit) < 0)
        error = set_git_error("cannot read commit");
    git_commit_free(commit);
    return error;
}

int roar_explain_range(roar_explain_list *out, roar_repo *repo, roar_cache *cache,
                       const char *base_hex, const char *tip_hex)
{
    git_repository *git = roar_repo_git(repo);
    git_tree *tree = NULL, *base_tree = NULL;
    git_diff_options opts;
    git_diff *diff = NULL;
    size_t i, n;
    int error = 0;

    roar_explain_list_dispose(out);
    if (git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION) < 0) {
        error = set_git_error("cannot set up a diff");
        goto cleanup;
    }
    if ((error = tree_of(&tree, git, tip_hex)) < 0 ||
        (error = tree_of(&base_tree, git, base_hex)) < 0)
        goto cleanup;
    if (git_diff_tree_to_tree(&diff, git, base_tree, tree, &opts) < 0) {
        error = set_git_error("cannot diff the commits");
        goto cleanup;
    }
    n = git_diff_num_deltas(diff);
    for (i = 0; i < n; i++)
        if ((error = add_file(out, repo, cache, git_diff_get_delta(diff, i), tip_hex)) < 0)
            goto cleanup;

cleanup:
    git_diff_free(diff);
    git_tree_free(base_tree);
    git_tree_free(tree);
    return error;
}

int roar_explain_commit(roar_explain_list *out, roar_repo *repo, roar_cache *cache,
                        const char *commit_hex)
{
    git_repository *git = roar_repo_git(repo);
    git_commit *commit = NULL, *parent = NULL;
    char parent_hex[ROAR_OID_HEXSZ + 1] = "";
    git_oid id;
    int error;

    if (git_oid_fromstr(&id, commit_hex) < 0 || git_commit_lookup(&commit, git, &id) < 0)
        return set_git_error("cannot read commit");
    /* A missing first parent (a shallow root) diffs against the empty tree, as git does. */
    if (git_commit_parentcount(commit) > 0 && git_commit_parent(&parent, commit, 0) == 0)
        git_oid_tostr(parent_hex, sizeof(parent_hex), git_commit_id(parent));
    git_error_clear();
    error = roar_explain_range(out, repo, cache, parent_hex, commit_hex);
    git_commit_free(parent);
    git_commit_free(commit);
    return error;
}
