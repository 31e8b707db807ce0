/* Notes refs and the helpers the notes modules share (see notes.h, notes_internal.h):
 * which ref holds the lineage, its tip and its rewriteRef config, tree entry kinds. */
#include "gitstore/notes.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "gitstore/notes_internal.h"
#include "gitstore/remote.h"
#include "util/err.h"

int roar_notes__git_fail(int code, const char *what)
{
    const git_error *e = git_error_last();
    return roar_error_set(code, "%s: %s", what, e && e->message ? e->message : "libgit2 error");
}

bool roar_notes__is_lower_hex(const char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return s[n] == '\0';
}

bool roar_notes__is_note_entry(const git_tree_entry *e, size_t depth)
{
    return git_tree_entry_type(e) == GIT_OBJECT_BLOB &&
           roar_notes__is_lower_hex(git_tree_entry_name(e), HEXSZ - depth);
}

bool roar_notes__is_fanout_entry(const git_tree_entry *e, size_t depth)
{
    return depth + 2 < HEXSZ && git_tree_entry_type(e) == GIT_OBJECT_TREE &&
           roar_notes__is_lower_hex(git_tree_entry_name(e), 2);
}

/* ---- the ref ------------------------------------------------------------------------ */

int roar_notes_ref(roar_buf *out, roar_repo *repo)
{
    git_config *cfg = NULL;
    git_buf val = {0};
    int valid = 0, rc, error = 0;

    roar_buf_clear(out);
    if (git_repository_config_snapshot(&cfg, roar_repo_git(repo)) < 0)
        return roar_notes__git_fail(ROAR_ERROR, "cannot read the git config");
    rc = git_config_get_string_buf(&val, cfg, "roar.notesRef");
    if (rc == GIT_ENOTFOUND) {
        error = roar_buf_puts(out, ROAR_NOTES_DEFAULT_REF);
        goto cleanup;
    }
    if (rc < 0) {
        error = roar_notes__git_fail(ROAR_ERROR, "cannot read roar.notesRef");
        goto cleanup;
    }
    /* Expanded as git expands core.notesRef and --ref. */
    if (!strncmp(val.ptr, "refs/notes/", 11))
        error = roar_buf_puts(out, val.ptr);
    else if (!strncmp(val.ptr, "notes/", 6))
        error = roar_buf_printf(out, "refs/%s", val.ptr);
    else
        error = roar_buf_printf(out, "refs/notes/%s", val.ptr);
    if (error < 0)
        goto cleanup;
    if (git_reference_name_is_valid(&valid, out->ptr) < 0 || !valid || !val.ptr[0])
        error =
            roar_error_set(ROAR_EINVALID, "roar.notesRef: '%s' is not a valid ref name", val.ptr);

cleanup:
    git_buf_dispose(&val);
    git_config_free(cfg);
    return error;
}

int roar_notes_add_rewrite_ref(bool *added, roar_repo *repo, const char *ref)
{
    git_config *cfg = NULL, *snap = NULL;
    git_config_iterator *it = NULL;
    git_config_entry *entry;
    int rc, error = 0;

    *added = false;
    if (git_repository_config(&cfg, roar_repo_git(repo)) < 0 ||
        git_config_snapshot(&snap, cfg) < 0 ||
        git_config_multivar_iterator_new(&it, snap, "notes.rewriteRef", NULL) < 0)
        goto fail;
    /* git matches rewriteRef values as globs in which '*' also matches '/'. */
    while ((rc = git_config_next(&entry, it)) == 0)
        if (!strcmp(entry->value, ref) || fnmatch(entry->value, ref, 0) == 0)
            goto cleanup;
    if (rc != GIT_ITEROVER)
        goto fail;
    if ((error = roar_remote_config_add(repo, "notes.rewriteRef", ref)) < 0)
        goto cleanup;
    *added = true;
    goto cleanup;
fail:
    error = roar_notes__git_fail(ROAR_ERROR, "cannot update notes.rewriteRef");
cleanup:
    git_config_iterator_free(it);
    git_config_free(snap);
    git_config_free(cfg);
    return error;
}

int roar_notes_tip(git_oid *out, roar_repo *repo, const char *ref)
{
    git_commit *commit = NULL;
    int rc = git_reference_name_to_id(out, roar_repo_git(repo), ref);

    if (rc == GIT_ENOTFOUND)
        return roar_error_set(ROAR_ENOTFOUND, "no notes ref '%s'", ref);
    if (rc < 0)
        return roar_notes__git_fail(ROAR_ERROR, "cannot read the notes ref");
    if (git_commit_lookup(&commit, roar_repo_git(repo), out) < 0) {
        git_object *obj = NULL;
        const char *kind = "missing object";
        if (git_object_lookup(&obj, roar_repo_git(repo), out, GIT_OBJECT_ANY) == 0)
            kind = git_object_type2string(git_object_type(obj));
        git_object_free(obj);
        git_error_clear();
        return roar_error_set(ROAR_EINVALID, "%s points at a %s, not a notes commit", ref, kind);
    }
    git_commit_free(commit);
    return 0;
}

int roar_notes__tree(git_tree **out, git_repository *git, const git_oid *commit_id)
{
    git_commit *commit = NULL;
    int error = 0;

    *out = NULL;
    if (!commit_id)
        return 0;
    if (git_commit_lookup(&commit, git, commit_id) < 0)
        return roar_notes__git_fail(ROAR_ERROR, "cannot read notes commit");
    if (git_commit_tree(out, commit) < 0)
        error = roar_notes__git_fail(ROAR_ERROR, "cannot read notes tree");
    git_commit_free(commit);
    return error;
}

/* ---- oid vectors ---------------------------------------------------------------------- */

int roar_notes__oid_vec_push(oid_vec *v, const git_oid *id)
{
    if (ROAR_ALLOC_GROW(v->items, v->count + 1, v->alloc) < 0)
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    git_oid_cpy(&v->items[v->count++], id);
    return 0;
}

int roar_notes__oid_vec_push_unique(oid_vec *v, const git_oid *id)
{
    size_t i;
    for (i = 0; i < v->count; i++)
        if (git_oid_equal(&v->items[i], id))
            return 0;
    if (ROAR_ALLOC_GROW(v->items, v->count + 1, v->alloc) < 0)
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    git_oid_cpy(&v->items[v->count++], id);
    return 0;
}

void roar_notes__oid_vec_dispose(oid_vec *v)
{
    free(v->items);
    v->items = NULL;
    v->count = v->alloc = 0;
}
