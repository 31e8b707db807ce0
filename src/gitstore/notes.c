/* Notes read, batch-written and merged with libgit2 plumbing (see notes.h). The tree is
 * built with treebuilders, not git_note_create, which rewrites a flat tree per note. */
#include "gitstore/notes.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <git2/sys/mempack.h>
#include <git2/sys/odb_backend.h>

#include "gitstore/remote.h"
#include "graph/oid.h"
#include "util/err.h"

#define HEXSZ ROAR_OID_HEXSZ

/* Sets the message from libgit2's last error, prefixed with what we were doing. */
static int git_fail(int code, const char *what)
{
    const git_error *e = git_error_last();
    return roar_error_set(code, "%s: %s", what, e && e->message ? e->message : "libgit2 error");
}

static bool is_lower_hex(const char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return s[n] == '\0';
}

/* A tree entry that holds the note of an object at this depth: a blob whose name is the
 * rest of the object id. git writes lower-case hex; so do we, and we read only that. */
static bool is_note_entry(const git_tree_entry *e, size_t depth)
{
    return git_tree_entry_type(e) == GIT_OBJECT_BLOB &&
           is_lower_hex(git_tree_entry_name(e), HEXSZ - depth);
}

/* A fanout subtree at this depth: a tree named by the next two hex digits. */
static bool is_fanout_entry(const git_tree_entry *e, size_t depth)
{
    return depth + 2 < HEXSZ && git_tree_entry_type(e) == GIT_OBJECT_TREE &&
           is_lower_hex(git_tree_entry_name(e), 2);
}

/* ---- the ref ------------------------------------------------------------------------ */

int roar_notes_ref(roar_buf *out, roar_repo *repo)
{
    git_config *cfg = NULL;
    git_buf val = {0};
    int valid = 0, rc, error = 0;

    roar_buf_clear(out);
    if (git_repository_config_snapshot(&cfg, roar_repo_git(repo)) < 0)
        return git_fail(ROAR_ERROR, "cannot read the git config");
    rc = git_config_get_string_buf(&val, cfg, "roar.notesRef");
    if (rc == GIT_ENOTFOUND) {
        error = roar_buf_puts(out, ROAR_NOTES_DEFAULT_REF);
        goto cleanup;
    }
    if (rc < 0) {
        error = git_fail(ROAR_ERROR, "cannot read roar.notesRef");
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
    error = git_fail(ROAR_ERROR, "cannot update notes.rewriteRef");
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
        return git_fail(ROAR_ERROR, "cannot read the notes ref");
    if (git_commit_lookup(&commit, roar_repo_git(repo), out) < 0)
        return roar_error_set(ROAR_EINVALID, "%s does not point at a commit", ref);
    git_commit_free(commit);
    return 0;
}

/* The tree of a notes commit; *out NULL for a NULL commit (no notes). */
static int notes_tree(git_tree **out, git_repository *git, const git_oid *commit_id)
{
    git_commit *commit = NULL;
    int error = 0;

    *out = NULL;
    if (!commit_id)
        return 0;
    if (git_commit_lookup(&commit, git, commit_id) < 0)
        return git_fail(ROAR_ERROR, "cannot read notes commit");
    if (git_commit_tree(out, commit) < 0)
        error = git_fail(ROAR_ERROR, "cannot read notes tree");
    git_commit_free(commit);
    return error;
}

/* ---- oid vectors ---------------------------------------------------------------------- */

typedef struct {
    git_oid *items;
    size_t count, alloc;
} oid_vec;

static int oid_vec_push_unique(oid_vec *v, const git_oid *id)
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

static void oid_vec_dispose(oid_vec *v)
{
    free(v->items);
    v->items = NULL;
    v->count = v->alloc = 0;
}

/* ---- where new objects go ---------------------------------------------------------
 * A few objects are written loose. A big batch (10,000 notes) would cost a file per
 * object, seconds on slow disks: it is written to memory (libgit2's mempack) in front of
 * the repository's objects, then packed into one packfile before the ref moves. */

#define BULK_ITEMS 64

typedef struct {
    git_repository *git;      /* objects are written to and read from this one */
    git_repository *wrapped;  /* owned in bulk mode: an odb-only view of the repo */
    git_odb_backend *mempack; /* owned by the wrapped repo's odb */
    oid_vec created;          /* bulk mode: what to pack */
} objstore;

static int oid_vec_push(oid_vec *v, const git_oid *id)
{
    if (ROAR_ALLOC_GROW(v->items, v->count + 1, v->alloc) < 0)
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    git_oid_cpy(&v->items[v->count++], id);
    return 0;
}

static int objstore_open(objstore *s, roar_repo *repo, bool bulk)
{
    git_odb *odb = NULL;
    roar_buf objects = ROAR_BUF_INIT;
    int error = 0;

    memset(s, 0, sizeof(*s));
    s->git = roar_repo_git(repo);
    if (!bulk)
        return 0;
    if ((error = roar_buf_printf(&objects, "%s/objects", roar_repo_commondir(repo))) < 0)
        goto cleanup;
    if (git_odb_new(&odb) < 0 || git_mempack_new(&s->mempack) < 0) {
        error = git_fail(ROAR_ERROR, "cannot set up the object store");
        goto cleanup;
    }
    if (git_odb_add_backend(odb, s->mempack, 1000) < 0) {
        s->mempack->free(s->mempack);
        s->mempack = NULL;
        error = git_fail(ROAR_ERROR, "cannot set up the object store");
        goto cleanup;
    }
    if (git_odb_add_disk_alternate(odb, objects.ptr) < 0 ||
        git_repository_wrap_odb(&s->wrapped, odb) < 0) {
        error = git_fail(ROAR_ERROR, "cannot set up the object store");
        goto cleanup;
    }
    s->git = s->wrapped;

cleanup:
    git_odb_free(odb); /* the wrapped repository holds its own reference */
    roar_buf_dispose(&objects);
    return error;
}

/* Notes an object just written, for the pack (bulk mode only). */
static int objstore_track(objstore *s, const git_oid *id)
{
    return s->wrapped ? oid_vec_push(&s->created, id) : 0;
}

/* Bulk mode: packs the objects written so far into the repository, so that the ref
 * never points at objects that exist only in memory. */
static int objstore_flush(objstore *s, roar_repo *repo)
{
    git_packbuilder *pb = NULL;
    git_buf pack = {0};
    git_odb *odb = NULL;
    git_odb_writepack *wp = NULL;
    git_indexer_progress progress;
    size_t i;
    int error = 0;

    if (!s->wrapped || !s->created.count)
        return 0;
    memset(&progress, 0, sizeof(progress));
    if (git_packbuilder_new(&pb, s->wrapped) < 0)
        goto fail;
    git_packbuilder_set_threads(pb, 1);
    for (i = 0; i < s->created.count; i++)
        if (git_packbuilder_insert(pb, &s->created.items[i], NULL) < 0)
            goto fail;
    if (git_packbuilder_write_buf(&pack, pb) < 0 ||
        git_repository_odb(&odb, roar_repo_git(repo)) < 0 ||
        git_odb_write_pack(&wp, odb, NULL, NULL) < 0 ||
        wp->append(wp, pack.ptr, pack.size, &progress) < 0 || wp->commit(wp, &progress) < 0)
        goto fail;
    s->created.count = 0;
    goto cleanup;
fail:
    error = git_fail(ROAR_ERROR, "cannot write the notes pack");
cleanup:
    if (wp)
        wp->free(wp);
    git_odb_free(odb);
    git_buf_dispose(&pack);
    git_packbuilder_free(pb);
    return error;
}

static void objstore_close(objstore *s)
{
    git_repository_free(s->wrapped);
    oid_vec_dispose(&s->created);
    memset(s, 0, sizeof(*s));
}

/* The note entries of `hex` below `tree` at `depth`, whatever the fanout. */
static int find_note_blobs(oid_vec *out, git_repository *git, const git_tree *tree, const char *hex,
                           size_t depth)
{
    const git_tree_entry *e;
    git_tree *sub = NULL;
    char bucket[3];
    int error = 0;

    if ((e = git_tree_entry_byname(tree, hex + depth)) && is_note_entry(e, depth) &&
        (error = oid_vec_push_unique(out, git_tree_entry_id(e))) < 0)
        return error;
    if (depth + 2 >= HEXSZ)
        return 0;
    memcpy(bucket, hex + depth, 2);
    bucket[2] = '\0';
    if (!(e = git_tree_entry_byname(tree, bucket)) || !is_fanout_entry(e, depth))
        return 0;
    if (git_tree_lookup(&sub, git, git_tree_entry_id(e)) < 0)
        return git_fail(ROAR_ERROR, "cannot read notes subtree");
    error = find_note_blobs(out, git, sub, hex, depth + 2);
    git_tree_free(sub);
    return error;
}

/* ---- parsing note blobs ------------------------------------------------------------------ */

/* Unreadable records of notes being rewritten, kept verbatim and unique. */
typedef struct {
    roar_buf *items;
    size_t count, alloc;
} junk_list;

static void junk_dispose(junk_list *j)
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

/* Parses one note blob into `out`. A note over the size limit is reported as a
 * problem (nothing of it is read) when `junk` is NULL, and is an error when rewriting,
 * since it could be neither kept nor read. */
static int load_blob(roar_note *out, git_repository *git, const git_oid *id, const char *object,
                     roar_notes_problem_cb cb, void *payload, junk_list *junk)
{
    git_blob *blob = NULL;
    parse_ctx ctx;
    roar_notes_problem np;
    int error;

    if (git_blob_lookup(&blob, git, id) < 0)
        return git_fail(ROAR_ERROR, "cannot read note blob");
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
        if ((error = load_blob(out, roar_repo_git(repo), &blobs[i], object_hex, cb, payload,
                               NULL)) != 0)
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

    if (!is_lower_hex(object_hex, HEXSZ))
        return roar_error_set(ROAR_EINVALID, "not an object id: '%s'", object_hex);
    if ((error = notes_tree(&tree, git, notes_commit)) < 0)
        return error;
    if (tree && (error = find_note_blobs(&blobs, git, tree, object_hex, 0)) < 0)
        goto cleanup;
    if (!blobs.count) {
        error = roar_error_set(ROAR_ENOTFOUND, "no note on %s", object_hex);
        goto cleanup;
    }
    error = roar_notes_load(out, repo, blobs.items, blobs.count, object_hex, cb, payload);

cleanup:
    oid_vec_dispose(&blobs);
    git_tree_free(tree);
    return error;
}

/* ---- diffing --------------------------------------------------------------------------- */

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
            if (is_note_entry(e, depth)) {
                o = other ? git_tree_entry_byname(other, name) : NULL;
                if (o && is_note_entry(o, depth) &&
                    git_oid_equal(git_tree_entry_id(o), git_tree_entry_id(e)))
                    continue;
                if ((error = diff_push(v, prefix, depth, name, side, git_tree_entry_id(e))) < 0)
                    return error;
            } else if (is_fanout_entry(e, depth)) {
                git_tree *sub[2] = {NULL, NULL};
                char subprefix[HEXSZ + 1];
                bool other_tree;
                o = other ? git_tree_entry_byname(other, name) : NULL;
                other_tree = o && is_fanout_entry(o, depth);
                if (other_tree && git_oid_equal(git_tree_entry_id(o), git_tree_entry_id(e)))
                    continue;
                if (side == 1 && other_tree)
                    continue; /* walked from the old side */
                if (git_tree_lookup(&sub[side], git, git_tree_entry_id(e)) < 0 ||
                    (other_tree && git_tree_lookup(&sub[!side], git, git_tree_entry_id(o)) < 0)) {
                    git_tree_free(sub[0]);
                    git_tree_free(sub[1]);
                    return git_fail(ROAR_ERROR, "cannot read notes subtree");
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

    if ((error = notes_tree(&a, git, old_commit)) < 0 ||
        (error = notes_tree(&b, git, new_commit)) < 0)
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
            if ((error = oid_vec_push_unique(&sides[v.items[j].side], &v.items[j].blob)) < 0)
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
    oid_vec_dispose(&sides[0]);
    oid_vec_dispose(&sides[1]);
    free(v.items);
    git_tree_free(a);
    git_tree_free(b);
    return error;
}

/* ---- writing -------------------------------------------------------------------------- */

/* What to do to the note of one object: the caller's edits, and other note blobs to
 * union in (entries moved down a fanout level, or the other side of a merge). Several
 * items may name one object; the writer takes them together. */
typedef struct {
    char object[HEXSZ + 1];
    roar_notes_edit *edit; /* borrowed, or NULL */
    oid_vec blobs;
} witem;

typedef struct {
    witem *items;
    size_t count, alloc;
} witem_vec;

static void witem_vec_dispose(witem_vec *v)
{
    size_t i;
    for (i = 0; i < v->count; i++)
        oid_vec_dispose(&v->items[i].blobs);
    free(v->items);
    v->items = NULL;
    v->count = v->alloc = 0;
}

static witem *witem_vec_add(witem_vec *v, const char *object)
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
    if (existing && (error = oid_vec_push_unique(&blobs, existing)) < 0)
        goto cleanup;
    for (i = 0; i < n; i++) {
        for (k = 0; k < group[i]->blobs.count; k++)
            if ((error = oid_vec_push_unique(&blobs, &group[i]->blobs.items[k])) < 0)
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
            if ((error = load_blob(&note, ctx->git, &blobs.items[k], group[0]->object, ctx->cb,
                                   ctx->payload, &junk)) != 0)
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
        error = git_fail(ROAR_ERROR, "cannot write note blob");
        goto cleanup;
    }
    if ((error = objstore_track(ctx->store, out)) < 0)
        goto cleanup;

count:
    if (*gone ? existing != NULL : !existing || !git_oid_equal(existing, out))
        ctx->notes_changed++;
cleanup:
    roar_buf_dispose(&text);
    junk_dispose(&junk);
    roar_note_dispose(&note);
    oid_vec_dispose(&blobs);
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
        if (is_fanout_entry(e, depth))
            fanned = true;
        else if (is_note_entry(e, depth))
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
        error = git_fail(ROAR_ERROR, "cannot build notes tree");
        goto cleanup;
    }

    if (!fanned) {
        for (i = 0; i < n; i = j) {
            const char *name = items[i]->object + depth;
            const git_tree_entry *e = git_treebuilder_get(bld, name);
            const git_oid *existing = e && is_note_entry(e, depth) ? git_tree_entry_id(e) : NULL;
            git_oid id;
            bool gone;
            for (j = i + 1; j < n && !memcmp(items[j]->object, items[i]->object, HEXSZ); j++)
                ;
            if ((error = build_note(&id, &gone, ctx, existing, items + i, j - i)) < 0)
                goto cleanup;
            if (gone) {
                if (existing && git_treebuilder_remove(bld, name) < 0)
                    error = git_fail(ROAR_ERROR, "cannot build notes tree");
            } else if (!existing || !git_oid_equal(existing, &id)) {
                if (git_treebuilder_insert(NULL, bld, name, &id, GIT_FILEMODE_BLOB) < 0)
                    error = git_fail(ROAR_ERROR, "cannot build notes tree");
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
            if (!is_note_entry(e, depth))
                continue;
            memcpy(object, prefix, depth);
            memcpy(object + depth, git_tree_entry_name(e), HEXSZ - depth + 1);
            if (!(w = witem_vec_add(&moved, object))) {
                error = ROAR_ENOMEM;
                goto cleanup;
            }
            if ((error = oid_vec_push_unique(&w->blobs, git_tree_entry_id(e))) < 0)
                goto cleanup;
            if (git_treebuilder_remove(bld, git_tree_entry_name(e)) < 0) {
                error = git_fail(ROAR_ERROR, "cannot build notes tree");
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
            bool sub_empty;
            memcpy(bucket, all[i]->object + depth, 2);
            bucket[2] = '\0';
            for (j = i + 1; j < n && !memcmp(all[j]->object + depth, bucket, 2); j++)
                ;
            e = git_treebuilder_get(bld, bucket);
            if (e && is_fanout_entry(e, depth) &&
                git_tree_lookup(&sub, ctx->git, git_tree_entry_id(e)) < 0) {
                error = git_fail(ROAR_ERROR, "cannot read notes subtree");
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
                    error = git_fail(ROAR_ERROR, "cannot build notes tree");
            } else if (git_treebuilder_insert(NULL, bld, bucket, &id, GIT_FILEMODE_TREE) < 0) {
                error = git_fail(ROAR_ERROR, "cannot build notes tree");
            }
            if (error < 0)
                goto cleanup;
        }
    }

    *empty = git_treebuilder_entrycount(bld) == 0;
    if (git_treebuilder_write(out, bld) < 0)
        error = git_fail(ROAR_ERROR, "cannot write notes tree");
    else
        error = objstore_track(ctx->store, out);

cleanup:
    git_tree_free(sub);
    free(all);
    witem_vec_dispose(&moved);
    git_treebuilder_free(bld);
    return error;
}

/* The committer of notes commits: git's environment, then the config, then a fixed
 * identity, so that attach works in a repository where user.name is unset (CI). */
static int committer(git_signature **out, git_repository *git)
{
    git_config *cfg = NULL;
    git_buf name = {0}, email = {0};
    const char *n = getenv("GIT_COMMITTER_NAME"), *m = getenv("GIT_COMMITTER_EMAIL");
    int error = 0;

    if (git_repository_config_snapshot(&cfg, git) == 0) {
        if ((!n || !*n) && git_config_get_string_buf(&name, cfg, "user.name") == 0)
            n = name.ptr;
        if ((!m || !*m) && git_config_get_string_buf(&email, cfg, "user.email") == 0)
            m = email.ptr;
    }
    if (!m || !*m)
        m = getenv("EMAIL");
    if (!n || !*n)
        n = "git roar";
    if (!m || !*m)
        m = "git-roar@localhost";
    if (git_signature_now(out, n, m) < 0 &&
        git_signature_now(out, "git roar", "git-roar@localhost") < 0)
        error = git_fail(ROAR_ERROR, "cannot make a committer identity");
    git_buf_dispose(&name);
    git_buf_dispose(&email);
    git_config_free(cfg);
    return error;
}

static int make_commit(git_oid *out, objstore *store, roar_repo *repo, const git_oid *tree_id,
                       const git_oid *parent_ids, size_t parent_count, const char *message)
{
    git_repository *git = store->git;
    git_signature *sig = NULL;
    git_tree *tree = NULL;
    git_commit *parents[2] = {NULL, NULL};
    size_t i;
    int error = 0;

    if (parent_count > 2)
        return roar_error_set(ROAR_EINVALID, "a notes commit has at most two parents");
    if ((error = committer(&sig, roar_repo_git(repo))) < 0)
        goto cleanup;
    if (git_tree_lookup(&tree, git, tree_id) < 0) {
        error = git_fail(ROAR_ERROR, "cannot read notes tree");
        goto cleanup;
    }
    for (i = 0; i < parent_count; i++)
        if (git_commit_lookup(&parents[i], git, &parent_ids[i]) < 0) {
            error = git_fail(ROAR_ERROR, "cannot read notes commit");
            goto cleanup;
        }
    if (git_commit_create(out, git, NULL, sig, sig, NULL, message, tree, parent_count,
                          (const git_commit **)parents) < 0)
        error = git_fail(ROAR_ERROR, "cannot write notes commit");
    else
        error = objstore_track(store, out);

cleanup:
    for (i = 0; i < 2; i++)
        git_commit_free(parents[i]);
    git_tree_free(tree);
    git_signature_free(sig);
    return error;
}

int roar_notes_ref_swap(roar_repo *repo, const char *ref, const git_oid *expected,
                        const git_oid *target, const char *reflog_message)
{
    git_reference *r = NULL;
    int rc;

    if (expected)
        rc = git_reference_create_matching(&r, roar_repo_git(repo), ref, target, 1, expected,
                                           reflog_message);
    else
        rc = git_reference_create(&r, roar_repo_git(repo), ref, target, 0, reflog_message);
    git_reference_free(r);
    if (rc == GIT_EMODIFIED || rc == GIT_EEXISTS || rc == GIT_ELOCKED)
        return roar_error_set(ROAR_ECHANGED, "%s was updated by another process", ref);
    if (rc < 0)
        return git_fail(ROAR_ERROR, "cannot update the notes ref");
    return 0;
}

bool roar_notes_backoff(unsigned attempt)
{
    static unsigned seed;
    struct timespec ts;
    unsigned max_ms, ms;

    /* ~1000 tries of up to 50 ms: about 30 s before giving up. */
    if (attempt >= 1000)
        return false;
    if (!seed)
        seed = (unsigned)getpid() ^ (unsigned)time(NULL);
    max_ms = attempt < 16 ? 2 + 3 * attempt : 50;
    ms = 1 + (unsigned)rand_r(&seed) % max_ms;
    ts.tv_sec = 0;
    ts.tv_nsec = (long)ms * 1000000L;
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
    return true;
}

static int reflog_message(roar_buf *out, const char *message)
{
    size_t len = strcspn(message, "\n");
    roar_buf_clear(out);
    return roar_buf_printf(out, "notes: %.*s", (int)len, message);
}

/* The commit message ends in a newline, as git's notes commits do. */
static int commit_message(roar_buf *out, const char *message)
{
    int error;
    roar_buf_clear(out);
    if ((error = roar_buf_puts(out, message)) < 0)
        return error;
    if (!out->size || out->ptr[out->size - 1] != '\n')
        error = roar_buf_putc(out, '\n');
    return error;
}

/* Builds a tree from the tip's tree and `items`, commits it with `extra_parent` (the
 * other side of a merge, or NULL) and swaps the ref; retried by the callers. */
static int apply_items(roar_notes_update *up, size_t *changed, objstore *store, roar_repo *repo,
                       const char *ref, witem **items, size_t n, const git_oid *extra_parent,
                       const char *message, roar_notes_problem_cb cb, void *payload, int first)
{
    git_repository *git = store->git;
    git_tree *tree = NULL;
    git_oid new_tree, parents[2], commit;
    roar_buf msg = ROAR_BUF_INIT, log = ROAR_BUF_INIT;
    size_t np = 0;
    bool empty;
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
    if ((error = notes_tree(&tree, git, up->had_old ? &up->old_tip : NULL)) < 0)
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
    if ((error = commit_message(&msg, message)) < 0 ||
        (error = reflog_message(&log, message)) < 0 ||
        (error = make_commit(&commit, store, repo, &new_tree, parents, np, msg.ptr)) < 0 ||
        (error = objstore_flush(store, repo)) < 0 ||
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
        if (!is_lower_hex(edits[i].object, HEXSZ)) {
            error = roar_error_set(ROAR_EINVALID, "not an object id: '%s'", edits[i].object);
            goto cleanup;
        }
        if (!(w = witem_vec_add(&items, edits[i].object))) {
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

    if ((error = objstore_open(&store, repo, items.count >= BULK_ITEMS)) < 0)
        goto cleanup;
    for (attempt = 0;; attempt++) {
        error = apply_items(&up, &changed, &store, repo, ref, ptrs, items.count, NULL, message, cb,
                            payload, attempt == 0);
        if (error != ROAR_ECHANGED)
            break;
        if (!roar_notes_backoff(attempt)) {
            error = roar_error_set(ROAR_ECHANGED, "%s kept changing; gave up", ref);
            break;
        }
    }
    if (!error && out)
        *out = up;

cleanup:
    objstore_close(&store);
    free(ptrs);
    witem_vec_dispose(&items);
    return error;
}

/* ---- merging -------------------------------------------------------------------------- */

/* Collects their note blobs for every object whose note differs from ours. */
static int collect_theirs(const roar_notes_change *change, void *payload)
{
    witem_vec *v = payload;
    witem *w;
    size_t i;
    int error;

    if (!change->new_count)
        return 0; /* only ours has it: kept as is */
    if (!(w = witem_vec_add(v, change->object)))
        return ROAR_ENOMEM;
    for (i = 0; i < change->new_count; i++)
        if ((error = oid_vec_push_unique(&w->blobs, &change->new_blobs[i])) < 0)
            return error;
    return 0;
}

static int is_ancestor(bool *out, roar_repo *repo, const git_oid *a, const git_oid *b)
{
    char ha[HEXSZ + 1], hb[HEXSZ + 1];
    git_oid_tostr(ha, sizeof(ha), a);
    git_oid_tostr(hb, sizeof(hb), b);
    return roar_repo_is_ancestor(out, repo, ha, hb);
}

int roar_notes_merge(roar_notes_merge_result *out, roar_repo *repo, const char *ref,
                     const git_oid *theirs, const char *message, roar_notes_problem_cb cb,
                     void *payload)
{
    roar_notes_merge_result res;
    witem_vec items = {0};
    witem **ptrs = NULL;
    roar_buf log = ROAR_BUF_INIT;
    git_commit *check = NULL;
    objstore store;
    unsigned attempt;
    bool anc;
    size_t i;
    int error = 0;

    if (git_commit_lookup(&check, roar_repo_git(repo), theirs) < 0)
        return git_fail(ROAR_EINVALID, "cannot read the notes commit to merge");
    git_commit_free(check);
    if ((error = reflog_message(&log, message)) < 0)
        return error;
    memset(&store, 0, sizeof(store));

    for (attempt = 0;; attempt++) {
        memset(&res, 0, sizeof(res));
        objstore_close(&store);
        witem_vec_dispose(&items);
        free(ptrs);
        ptrs = NULL;

        error = roar_notes_tip(&res.update.old_tip, repo, ref);
        if (error == ROAR_ENOTFOUND) {
            res.kind = ROAR_NOTES_FAST_FORWARD;
            error = roar_notes_ref_swap(repo, ref, NULL, theirs, log.ptr);
        } else if (error < 0) {
            break;
        } else {
            res.update.had_old = true;
            git_oid_cpy(&res.update.new_tip, &res.update.old_tip);
            if (git_oid_equal(&res.update.old_tip, theirs) ||
                ((error = is_ancestor(&anc, repo, theirs, &res.update.old_tip)) == 0 && anc)) {
                res.kind = ROAR_NOTES_UP_TO_DATE;
                break;
            }
            if (error < 0)
                break;
            if ((error = is_ancestor(&anc, repo, &res.update.old_tip, theirs)) < 0)
                break;
            if (anc) {
                res.kind = ROAR_NOTES_FAST_FORWARD;
                error = roar_notes_ref_swap(repo, ref, &res.update.old_tip, theirs, log.ptr);
            } else {
                res.kind = ROAR_NOTES_MERGED;
                if ((error = roar_notes_diff(repo, &res.update.old_tip, theirs, collect_theirs,
                                             &items)) < 0)
                    break;
                if (!(ptrs = malloc((items.count + 1) * sizeof(*ptrs)))) {
                    error = roar_error_set(ROAR_ENOMEM, "out of memory");
                    break;
                }
                for (i = 0; i < items.count; i++)
                    ptrs[i] = &items.items[i];
                if ((error = objstore_open(&store, repo, items.count >= BULK_ITEMS)) < 0)
                    break;
                error = apply_items(&res.update, &res.notes_changed, &store, repo, ref, ptrs,
                                    items.count, theirs, message, cb, payload, attempt == 0);
            }
        }
        if (error == 0 && res.kind == ROAR_NOTES_FAST_FORWARD) {
            res.update.changed = true;
            git_oid_cpy(&res.update.new_tip, theirs);
        }
        if (error != ROAR_ECHANGED)
            break;
        if (!roar_notes_backoff(attempt)) {
            error = roar_error_set(ROAR_ECHANGED, "%s kept changing; gave up", ref);
            break;
        }
    }
    if (!error && out)
        *out = res;

    objstore_close(&store);
    free(ptrs);
    witem_vec_dispose(&items);
    roar_buf_dispose(&log);
    return error;
}
