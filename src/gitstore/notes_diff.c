/* Diffing two notes trees note by note, whatever the fanout of either, reading only the
 * subtrees that differ (see roar_notes_diff in notes.h). */
#include <stdlib.h>
#include <string.h>

#include "gitstore/notes_internal.h"
#include "util/err.h"

typedef struct {
    char object[HEXSZ + 1];
    int side; /* 0 old, 1 new */
    git_oid blob;
} diff_entry;

typedef struct {
    diff_entry *items;
    size_t count, alloc;
} diff_vec;

static int diff_push(diff_vec *v, const char *prefix, size_t depth, const char *name, int side,
                     const git_oid *blob)
{
    diff_entry *d;
    if (ROAR_ALLOC_GROW(v->items, v->count + 1, v->alloc) < 0)
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    d = &v->items[v->count++];
    memcpy(d->object, prefix, depth);
    memcpy(d->object + depth, name, HEXSZ - depth);
    d->object[HEXSZ] = '\0';
    d->side = side;
    git_oid_cpy(&d->blob, blob);
    return 0;
}

/* Collects the note entries under `a` (old) and `b` (new) that are not identical on
 * both sides at the same path; equal subtrees are skipped without reading them. */
static int diff_level(diff_vec *v, git_repository *git, const git_tree *a, const git_tree *b,
                      const char *prefix, size_t depth)
{
    const git_tree *sides[2] = {a, b};
    int side, error = 0;
    size_t i, n;

    for (side = 0; side < 2; side++) {
        const git_tree *t = sides[side], *other = sides[!side];
        if (!t)
            continue;
        n = git_tree_entrycount(t);
        for (i = 0; i < n; i++) {
            const git_tree_entry *e = git_tree_entry_byindex(t, i), *o;
            const char *name = git_tree_entry_name(e);
            if (roar_notes__is_note_entry(e, depth)) {
                o = other ? git_tree_entry_byname(other, name) : NULL;
                if (o && roar_notes__is_note_entry(o, depth) &&
                    git_oid_equal(git_tree_entry_id(o), git_tree_entry_id(e)))
                    continue;
                if ((error = diff_push(v, prefix, depth, name, side, git_tree_entry_id(e))) < 0)
                    return error;
            } else if (roar_notes__is_fanout_entry(e, depth)) {
                git_tree *sub[2] = {NULL, NULL};
                char subprefix[HEXSZ + 1];
                bool other_tree;
                o = other ? git_tree_entry_byname(other, name) : NULL;
                other_tree = o && roar_notes__is_fanout_entry(o, depth);
                if (other_tree && git_oid_equal(git_tree_entry_id(o), git_tree_entry_id(e)))
                    continue;
                if (side == 1 && other_tree)
                    continue; /* walked from the old side */
                if (git_tree_lookup(&sub[side], git, git_tree_entry_id(e)) < 0 ||
                    (other_tree && git_tree_lookup(&sub[!side], git, git_tree_entry_id(o)) < 0)) {
                    git_tree_free(sub[0]);
                    git_tree_free(sub[1]);
                    return roar_notes__git_fail(ROAR_ERROR, "cannot read notes subtree");
                }
                memcpy(subprefix, prefix, depth);
                memcpy(subprefix + depth, name, 2);
                subprefix[depth + 2] = '\0';
                error = diff_level(v, git, sub[0], sub[1], subprefix, depth + 2);
                git_tree_free(sub[0]);
                git_tree_free(sub[1]);
                if (error < 0)
                    return error;
            }
        }
    }
    return 0;
}

static int cmp_diff_entry(const void *pa, const void *pb)
{
    const diff_entry *a = pa, *b = pb;
    int c = memcmp(a->object, b->object, HEXSZ);
    if (c)
        return c;
    if (a->side != b->side)
        return a->side - b->side;
    return git_oid_cmp(&a->blob, &b->blob);
}

/* Whether two sorted, duplicate-free oid arrays hold the same set. */
static bool same_blobs(const oid_vec *a, const oid_vec *b)
{
    size_t i;
    if (a->count != b->count)
        return false;
    for (i = 0; i < a->count; i++)
        if (!git_oid_equal(&a->items[i], &b->items[i]))
            return false;
    return true;
}

int roar_notes_diff(roar_repo *repo, const git_oid *old_commit, const git_oid *new_commit,
                    roar_notes_diff_cb cb, void *payload)
{
    git_repository *git = roar_repo_git(repo);
    git_tree *a = NULL, *b = NULL;
    diff_vec v = {0};
    oid_vec sides[2] = {{0}, {0}};
    roar_notes_change change;
    size_t i, j;
    int error;

    if ((error = roar_notes__tree(&a, git, old_commit)) < 0 ||
        (error = roar_notes__tree(&b, git, new_commit)) < 0)
        goto cleanup;
    if (a && b && git_oid_equal(git_tree_id(a), git_tree_id(b)))
        goto cleanup;
    if ((error = diff_level(&v, git, a, b, "", 0)) < 0)
        goto cleanup;
    if (v.count > 1)
        qsort(v.items, v.count, sizeof(*v.items), cmp_diff_entry);

    for (i = 0; i < v.count; i = j) {
        sides[0].count = sides[1].count = 0;
        for (j = i; j < v.count && !memcmp(v.items[j].object, v.items[i].object, HEXSZ); j++)
            if ((error = roar_notes__oid_vec_push_unique(&sides[v.items[j].side],
                                                         &v.items[j].blob)) < 0)
                goto cleanup;
        if (same_blobs(&sides[0], &sides[1]))
            continue;
        memcpy(change.object, v.items[i].object, HEXSZ + 1);
        change.old_blobs = sides[0].items;
        change.old_count = sides[0].count;
        change.new_blobs = sides[1].items;
        change.new_count = sides[1].count;
        if ((error = cb(&change, payload)) != 0)
            goto cleanup;
    }

cleanup:
    roar_notes__oid_vec_dispose(&sides[0]);
    roar_notes__oid_vec_dispose(&sides[1]);
    free(v.items);
    git_tree_free(a);
    git_tree_free(b);
    return error;
}
