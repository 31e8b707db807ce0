/* Reading notes: finding an object's note entries whatever the fanout and parsing note
 * blobs into records, reporting (or, when rewriting, keeping) what does not parse. */
#include <stdlib.h>
#include <string.h>

#include "gitstore/notes_internal.h"
#include "util/err.h"

/* The note entries of `hex` below `tree` at `depth`, whatever the fanout. */
static int find_note_blobs(oid_vec *out, git_repository *git, const git_tree *tree, const char *hex,
                           size_t depth)
{
    const git_tree_entry *e;
    git_tree *sub = NULL;
    char bucket[3];
    int error = 0;

    if ((e = git_tree_entry_byname(tree, hex + depth)) && roar_notes__is_note_entry(e, depth) &&
        (error = roar_notes__oid_vec_push_unique(out, git_tree_entry_id(e))) < 0)
        return error;
    if (depth + 2 >= HEXSZ)
        return 0;
    memcpy(bucket, hex + depth, 2);
    bucket[2] = '\0';
    if (!(e = git_tree_entry_byname(tree, bucket)) || !roar_notes__is_fanout_entry(e, depth))
        return 0;
    if (git_tree_lookup(&sub, git, git_tree_entry_id(e)) < 0)
        return roar_notes__git_fail(ROAR_ERROR, "cannot read notes subtree");
    error = find_note_blobs(out, git, sub, hex, depth + 2);
    git_tree_free(sub);
    return error;
}

/* ---- parsing note blobs ------------------------------------------------------------------ */

void roar_notes__junk_dispose(junk_list *j)
{
    size_t i;
    for (i = 0; i < j->count; i++)
        roar_buf_dispose(&j->items[i]);
    free(j->items);
    j->items = NULL;
    j->count = j->alloc = 0;
}

/* Keeps the record that starts at `line` of `text`: it runs to the next empty line, as
 * roar_note_parse splits records. */
static int junk_add(junk_list *j, const char *text, size_t len, size_t line)
{
    size_t pos = 0, cur = 1, start, end, i;
    const char *nl;
    roar_buf chunk = ROAR_BUF_INIT;
    int error;

    while (cur < line && pos < len) {
        nl = memchr(text + pos, '\n', len - pos);
        pos = nl ? (size_t)(nl - text) + 1 : len;
        cur++;
    }
    start = end = pos;
    while (end < len && text[end] != '\n') {
        nl = memchr(text + end, '\n', len - end);
        end = nl ? (size_t)(nl - text) + 1 : len;
    }
    if (end == start)
        return 0;
    if ((error = roar_buf_put(&chunk, text + start, end - start)) < 0 ||
        (chunk.ptr[chunk.size - 1] != '\n' && (error = roar_buf_putc(&chunk, '\n')) < 0))
        goto fail;
    for (i = 0; i < j->count; i++)
        if (j->items[i].size == chunk.size && !memcmp(j->items[i].ptr, chunk.ptr, chunk.size)) {
            roar_buf_dispose(&chunk);
            return 0;
        }
    if ((error = ROAR_ALLOC_GROW(j->items, j->count + 1, j->alloc)) < 0)
        goto fail;
    j->items[j->count++] = chunk;
    return 0;
fail:
    roar_buf_dispose(&chunk);
    return error;
}

typedef struct {
    const char *object;
    roar_notes_problem_cb cb;
    void *payload;
    junk_list *junk;
    const char *text;
    size_t len;
} parse_ctx;

static int on_record_problem(const roar_note_problem *p, void *payload)
{
    parse_ctx *ctx = payload;
    roar_notes_problem np;
    int error;

    if (ctx->junk && (error = junk_add(ctx->junk, ctx->text, ctx->len, p->record_line)) < 0)
        return error;
    if (!ctx->cb)
        return 0;
    np.object = ctx->object;
    np.record_line = p->record_line;
    np.line = p->line;
    np.code = p->code;
    np.message = p->message;
    return ctx->cb(&np, ctx->payload);
}

int roar_notes__load_blob(roar_note *out, git_repository *git, const git_oid *id,
                          const char *object, roar_notes_problem_cb cb, void *payload,
                          junk_list *junk)
{
    git_blob *blob = NULL;
    parse_ctx ctx;
    roar_notes_problem np;
    int error;

    if (git_blob_lookup(&blob, git, id) < 0)
        return roar_notes__git_fail(ROAR_ERROR, "cannot read note blob");
    ctx.object = object;
    ctx.cb = cb;
    ctx.payload = payload;
    ctx.junk = junk;
    ctx.text = git_blob_rawcontent(blob);
    ctx.len = (size_t)git_blob_rawsize(blob);
    error = roar_note_parse(out, ctx.text, ctx.len, on_record_problem, &ctx);
    if (error == ROAR_ELIMIT) {
        if (junk) {
            error = roar_error_set(ROAR_ELIMIT, "note on %s is over the %zu-byte limit", object,
                                   ROAR_NOTE_MAX);
        } else {
            error = 0;
            np.object = object;
            np.record_line = np.line = 1;
            np.code = ROAR_ELIMIT;
            np.message = "line 1: note is over the 268435456-byte limit";
            if (cb)
                error = cb(&np, payload);
        }
    }
    git_blob_free(blob);
    return error;
}

int roar_notes_load(roar_note *out, roar_repo *repo, const git_oid *blobs, size_t count,
                    const char *object_hex, roar_notes_problem_cb cb, void *payload)
{
    size_t i;
    int error;

    for (i = 0; i < count; i++)
        if ((error = roar_notes__load_blob(out, roar_repo_git(repo), &blobs[i], object_hex, cb,
                                           payload, NULL)) != 0)
            return error;
    return 0;
}

int roar_notes_read(roar_note *out, roar_repo *repo, const git_oid *notes_commit,
                    const char *object_hex, roar_notes_problem_cb cb, void *payload)
{
    git_repository *git = roar_repo_git(repo);
    git_tree *tree = NULL;
    oid_vec blobs = {0};
    int error;

    if (!roar_notes__is_lower_hex(object_hex, HEXSZ))
        return roar_error_set(ROAR_EINVALID, "not an object id: '%s'", object_hex);
    if ((error = roar_notes__tree(&tree, git, notes_commit)) < 0)
        return error;
    if (tree && (error = find_note_blobs(&blobs, git, tree, object_hex, 0)) < 0)
        goto cleanup;
    if (!blobs.count) {
        error = roar_error_set(ROAR_ENOTFOUND, "no note on %s", object_hex);
        goto cleanup;
    }
    error = roar_notes_load(out, repo, blobs.items, blobs.count, object_hex, cb, payload);

cleanup:
    roar_notes__oid_vec_dispose(&blobs);
    git_tree_free(tree);
    return error;
}
