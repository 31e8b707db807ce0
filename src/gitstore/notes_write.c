/* Writing notes: each touched note rebuilt as a union by job id, the tree rewritten only
 * along touched subtrees with 2/38 fanout, committed and swapped in with retry. The tree
 * is built with treebuilders, not git_note_create, which rewrites a flat tree per note. */
#include <stdlib.h>
#include <string.h>

#include "gitstore/notes_internal.h"
#include "util/err.h"

void roar_notes__witem_vec_dispose(witem_vec *v)
{
    size_t i;
    for (i = 0; i < v->count; i++)
        roar_notes__oid_vec_dispose(&v->items[i].blobs);
    free(v->items);
    v->items = NULL;
    v->count = v->alloc = 0;
}

witem *roar_notes__witem_vec_add(witem_vec *v, const char *object)
{
    witem *w;
    if (ROAR_ALLOC_GROW(v->items, v->count + 1, v->alloc) < 0) {
        roar_error_set(ROAR_ENOMEM, "out of memory");
        return NULL;
    }
    w = &v->items[v->count++];
    memset(w, 0, sizeof(*w));
    memcpy(w->object, object, HEXSZ + 1);
    return w;
}

static int cmp_witem_ptr(const void *pa, const void *pb)
{
    const witem *a = *(const witem *const *)pa, *b = *(const witem *const *)pb;
    return memcmp(a->object, b->object, HEXSZ);
}

typedef struct {
    git_repository *git; /* the object store's */
    objstore *store;
    roar_notes_problem_cb cb; /* NULL after the first attempt: report once */
    void *payload;
    size_t notes_changed;
} wctx;

/* Builds the new note of one object from its existing blob (may be NULL) and the items
 * of `group` (all for this object). *gone when nothing is left. */
static int build_note(git_oid *out, bool *gone, wctx *ctx, const git_oid *existing, witem **group,
                      size_t n)
{
    oid_vec blobs = {0};
    roar_note note;
    junk_list junk = {0};
    roar_buf text = ROAR_BUF_INIT;
    roar_notes_edit *only = NULL;
    size_t edits = 0, i, k;
    int error = 0;

    roar_note_init(&note);
    *gone = false;
    if (existing && (error = roar_notes__oid_vec_push_unique(&blobs, existing)) < 0)
        goto cleanup;
    for (i = 0; i < n; i++) {
        for (k = 0; k < group[i]->blobs.count; k++)
            if ((error = roar_notes__oid_vec_push_unique(&blobs, &group[i]->blobs.items[k])) < 0)
                goto cleanup;
        if (group[i]->edit) {
            edits++;
            only = group[i]->edit;
        }
    }

    if (!edits && blobs.count <= 1) { /* moved or taken over unchanged */
        if (blobs.count)
            git_oid_cpy(out, &blobs.items[0]);
        *gone = !blobs.count;
        goto count;
    }
    if (!blobs.count && edits == 1 && only->add && only->add->count && !only->remove_count) {
        /* A new note: the common case of attach, without reparsing the records. */
        roar_note_sort(only->add);
        if ((error = roar_note_serialize(&text, only->add)) < 0)
            goto cleanup;
    } else {
        for (k = 0; k < blobs.count; k++)
            if ((error = roar_notes__load_blob(&note, ctx->git, &blobs.items[k], group[0]->object,
                                               ctx->cb, ctx->payload, &junk)) != 0)
                goto cleanup;
        for (i = 0; i < n; i++) {
            roar_notes_edit *ed = group[i]->edit;
            if (!ed || !ed->add)
                continue;
            for (k = 0; k < ed->add->count; k++) {
                const roar_note_record *r = &ed->add->records[k];
                if (roar_note_find(&note, r->job.id))
                    continue;
                /* Reparsed, since the caller's note is only borrowed; our own records
                 * always parse, so a NULL callback loses nothing. */
                if ((error = roar_note_parse(&note, r->text, r->len, NULL, NULL)) < 0)
                    goto cleanup;
                if (!roar_note_find(&note, r->job.id)) {
                    error =
                        roar_error_set(ROAR_EINVALID, "record of job %s does not parse", r->job.id);
                    goto cleanup;
                }
            }
        }
        for (i = 0; i < n; i++) {
            roar_notes_edit *ed = group[i]->edit;
            for (k = 0; ed && k < ed->remove_count; k++)
                if (roar_note_find(&note, ed->remove[k]) &&
                    (error = roar_note_remove(&note, ed->remove[k])) < 0)
                    goto cleanup;
        }
        if (!note.count && !junk.count) {
            *gone = true;
            goto count;
        }
        roar_note_sort(&note);
        if ((error = roar_note_serialize(&text, &note)) < 0)
            goto cleanup;
        for (k = 0; k < junk.count; k++)
            if ((text.size && (error = roar_buf_putc(&text, '\n')) < 0) ||
                (error = roar_buf_put(&text, junk.items[k].ptr, junk.items[k].size)) < 0)
                goto cleanup;
    }
    if (git_blob_create_from_buffer(out, ctx->git, text.ptr, text.size) < 0) {
        error = roar_notes__git_fail(ROAR_ERROR, "cannot write note blob");
        goto cleanup;
    }
    if ((error = roar_notes__objstore_track(ctx->store, out)) < 0)
        goto cleanup;

count:
    if (*gone ? existing != NULL : !existing || !git_oid_equal(existing, out))
        ctx->notes_changed++;
cleanup:
    roar_buf_dispose(&text);
    roar_notes__junk_dispose(&junk);
    roar_note_dispose(&note);
    roar_notes__oid_vec_dispose(&blobs);
    return error;
}

/* Writes the new version of the notes (sub)tree `tree` (NULL: none yet) whose entries
 * are named by the object ids after their first `depth` digits (`prefix`), applying
 * the sorted `items`, all of which start with `prefix`. *empty when the result holds
 * nothing. */
static int write_level(git_oid *out, bool *empty, wctx *ctx, const git_tree *tree,
                       const char *prefix, size_t depth, witem **items, size_t n)
{
    git_treebuilder *bld = NULL;
    witem_vec moved = {0};
    witem **all = NULL;
    git_tree *sub = NULL;
    size_t entries = tree ? git_tree_entrycount(tree) : 0, flat = 0, i, j, k;
    bool fanned = false;
    int error = 0;

    for (i = 0; i < entries; i++) {
        const git_tree_entry *e = git_tree_entry_byindex(tree, i);
        if (roar_notes__is_fanout_entry(e, depth))
            fanned = true;
        else if (roar_notes__is_note_entry(e, depth))
            flat++;
    }
    if (!fanned && depth + 2 < HEXSZ) {
        size_t after = flat;
        for (i = 0; i < n && after <= ROAR_NOTES_FANOUT_THRESHOLD; i++)
            if ((i == 0 || memcmp(items[i]->object, items[i - 1]->object, HEXSZ)) &&
                (!tree || !git_tree_entry_byname(tree, items[i]->object + depth)))
                after++;
        fanned = after > ROAR_NOTES_FANOUT_THRESHOLD;
    }
    if (git_treebuilder_new(&bld, ctx->git, tree) < 0) {
        error = roar_notes__git_fail(ROAR_ERROR, "cannot build notes tree");
        goto cleanup;
    }

    if (!fanned) {
        for (i = 0; i < n; i = j) {
            const char *name = items[i]->object + depth;
            const git_tree_entry *e = git_treebuilder_get(bld, name);
            const git_oid *existing =
                e && roar_notes__is_note_entry(e, depth) ? git_tree_entry_id(e) : NULL;
            git_oid id;
            bool gone;
            for (j = i + 1; j < n && !memcmp(items[j]->object, items[i]->object, HEXSZ); j++)
                ;
            if ((error = build_note(&id, &gone, ctx, existing, items + i, j - i)) < 0)
                goto cleanup;
            if (gone) {
                if (existing && git_treebuilder_remove(bld, name) < 0)
                    error = roar_notes__git_fail(ROAR_ERROR, "cannot build notes tree");
            } else if (!existing || !git_oid_equal(existing, &id)) {
                if (git_treebuilder_insert(NULL, bld, name, &id, GIT_FILEMODE_BLOB) < 0)
                    error = roar_notes__git_fail(ROAR_ERROR, "cannot build notes tree");
            }
            if (error < 0)
                goto cleanup;
        }
    } else {
        /* Notes at this level move into their 2-hex subtrees (a flat level that grew
         * past the threshold, or stray flat entries of a fanned one). */
        char object[HEXSZ + 1];
        for (i = 0; i < entries; i++) {
            const git_tree_entry *e = git_tree_entry_byindex(tree, i);
            witem *w;
            if (!roar_notes__is_note_entry(e, depth))
                continue;
            memcpy(object, prefix, depth);
            memcpy(object + depth, git_tree_entry_name(e), HEXSZ - depth + 1);
            if (!(w = roar_notes__witem_vec_add(&moved, object))) {
                error = ROAR_ENOMEM;
                goto cleanup;
            }
            if ((error = roar_notes__oid_vec_push_unique(&w->blobs, git_tree_entry_id(e))) < 0)
                goto cleanup;
            if (git_treebuilder_remove(bld, git_tree_entry_name(e)) < 0) {
                error = roar_notes__git_fail(ROAR_ERROR, "cannot build notes tree");
                goto cleanup;
            }
        }
        if (!(all = malloc((n + moved.count + 1) * sizeof(*all)))) {
            error = roar_error_set(ROAR_ENOMEM, "out of memory");
            goto cleanup;
        }
        memcpy(all, items, n * sizeof(*all));
        for (k = 0; k < moved.count; k++)
            all[n + k] = &moved.items[k];
        n += moved.count;
        if (moved.count)
            qsort(all, n, sizeof(*all), cmp_witem_ptr);

        for (i = 0; i < n; i = j) {
            char bucket[3], subprefix[HEXSZ + 1];
            const git_tree_entry *e;
            git_oid id;
            bool sub_empty = false; /* set by write_level; -O3 cannot see it */
            memcpy(bucket, all[i]->object + depth, 2);
            bucket[2] = '\0';
            for (j = i + 1; j < n && !memcmp(all[j]->object + depth, bucket, 2); j++)
                ;
            e = git_treebuilder_get(bld, bucket);
            if (e && roar_notes__is_fanout_entry(e, depth) &&
                git_tree_lookup(&sub, ctx->git, git_tree_entry_id(e)) < 0) {
                error = roar_notes__git_fail(ROAR_ERROR, "cannot read notes subtree");
                goto cleanup;
            }
            memcpy(subprefix, all[i]->object, depth + 2);
            subprefix[depth + 2] = '\0';
            if ((error = write_level(&id, &sub_empty, ctx, sub, subprefix, depth + 2, all + i,
                                     j - i)) < 0)
                goto cleanup;
            git_tree_free(sub);
            sub = NULL;
            if (sub_empty) {
                if (e && git_treebuilder_remove(bld, bucket) < 0)
                    error = roar_notes__git_fail(ROAR_ERROR, "cannot build notes tree");
            } else if (git_treebuilder_insert(NULL, bld, bucket, &id, GIT_FILEMODE_TREE) < 0) {
                error = roar_notes__git_fail(ROAR_ERROR, "cannot build notes tree");
            }
            if (error < 0)
                goto cleanup;
        }
    }

    *empty = git_treebuilder_entrycount(bld) == 0;
    if (git_treebuilder_write(out, bld) < 0)
        error = roar_notes__git_fail(ROAR_ERROR, "cannot write notes tree");
    else
        error = roar_notes__objstore_track(ctx->store, out);

cleanup:
    git_tree_free(sub);
    free(all);
    roar_notes__witem_vec_dispose(&moved);
    git_treebuilder_free(bld);
    return error;
}

int roar_notes__apply_items(roar_notes_update *up, size_t *changed, objstore *store,
                            roar_repo *repo, const char *ref, witem **items, size_t n,
                            const git_oid *extra_parent, const char *message,
                            roar_notes_problem_cb cb, void *payload, int first)
{
    git_repository *git = store->git;
    git_tree *tree = NULL;
    git_oid new_tree, parents[2], commit;
    roar_buf msg = ROAR_BUF_INIT, log = ROAR_BUF_INIT;
    size_t np = 0;
    bool empty = false; /* set by write_level */
    wctx ctx;
    int error;

    memset(up, 0, sizeof(*up));
    error = roar_notes_tip(&up->old_tip, repo, ref);
    if (error == ROAR_ENOTFOUND)
        error = 0;
    else if (error == 0)
        up->had_old = true;
    if (error < 0)
        return error;
    git_oid_cpy(&up->new_tip, &up->old_tip);
    if ((error = roar_notes__tree(&tree, git, up->had_old ? &up->old_tip : NULL)) < 0)
        goto cleanup;

    ctx.git = git;
    ctx.store = store;
    ctx.cb = first ? cb : NULL;
    ctx.payload = payload;
    ctx.notes_changed = 0;
    if ((error = write_level(&new_tree, &empty, &ctx, tree, "", 0, items, n)) < 0)
        goto cleanup;
    *changed = ctx.notes_changed;
    if (!extra_parent && (tree ? git_oid_equal(&new_tree, git_tree_id(tree)) : empty))
        goto cleanup; /* nothing to record */

    if (up->had_old)
        git_oid_cpy(&parents[np++], &up->old_tip);
    if (extra_parent)
        git_oid_cpy(&parents[np++], extra_parent);
    if ((error = roar_notes__commit_message(&msg, message)) < 0 ||
        (error = roar_notes__reflog_message(&log, message)) < 0 ||
        (error = roar_notes__make_commit(&commit, store, repo, &new_tree, parents, np, msg.ptr)) <
            0 ||
        (error = roar_notes__objstore_flush(store, repo)) < 0 ||
        (error = roar_notes_ref_swap(repo, ref, up->had_old ? &up->old_tip : NULL, &commit,
                                     log.ptr)) < 0)
        goto cleanup;
    up->changed = true;
    git_oid_cpy(&up->new_tip, &commit);

cleanup:
    roar_buf_dispose(&msg);
    roar_buf_dispose(&log);
    git_tree_free(tree);
    return error;
}

int roar_notes_write(roar_notes_update *out, roar_repo *repo, const char *ref,
                     roar_notes_edit *edits, size_t count, const char *message,
                     roar_notes_problem_cb cb, void *payload)
{
    witem_vec items = {0};
    witem **ptrs = NULL;
    roar_notes_update up;
    objstore store;
    size_t i, changed = 0;
    unsigned attempt;
    int error = 0;

    memset(&store, 0, sizeof(store));

    for (i = 0; i < count; i++) {
        witem *w;
        if (!roar_notes__is_lower_hex(edits[i].object, HEXSZ)) {
            error = roar_error_set(ROAR_EINVALID, "not an object id: '%s'", edits[i].object);
            goto cleanup;
        }
        if (!(w = roar_notes__witem_vec_add(&items, edits[i].object))) {
            error = ROAR_ENOMEM;
            goto cleanup;
        }
        w->edit = &edits[i];
    }
    if (!(ptrs = malloc((items.count + 1) * sizeof(*ptrs)))) {
        error = roar_error_set(ROAR_ENOMEM, "out of memory");
        goto cleanup;
    }
    for (i = 0; i < items.count; i++)
        ptrs[i] = &items.items[i];
    if (items.count > 1)
        qsort(ptrs, items.count, sizeof(*ptrs), cmp_witem_ptr);

    if ((error = roar_notes__objstore_open(&store, repo, items.count >= NOTES_BULK_ITEMS)) < 0)
        goto cleanup;
    for (attempt = 0;; attempt++) {
        error = roar_notes__apply_items(&up, &changed, &store, repo, ref, ptrs, items.count, NULL,
                                        message, cb, payload, attempt == 0);
        if (!roar_notes__retry(&error, attempt, repo, ref))
            break;
    }
    if (!error && out)
        *out = up;

cleanup:
    roar_notes__objstore_close(&store);
    free(ptrs);
    roar_notes__witem_vec_dispose(&items);
    return error;
}
