/* Walking commit ancestry by hand (see repo.h): shallow roots and missing parents end
 * a walk, which libgit2's own graph functions do not know. */
#include "gitstore/repo.h"
#include "graph/oid.h"
#include "util/buf.h"
#include "util/err.h"

#include <git2.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int git_fail(int code, const char *what)
{
    const git_error *e = git_error_last();
    return roar_error_set(code, "%s: %s", what, e && e->message ? e->message : "libgit2 error");
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether oid is a shallow root (`<commondir>/shallow`, sorted when loaded): its
 * parents are not part of the history this clone has. */
static bool is_shallow_root(roar_repo *repo, const git_oid *oid)
{
    const char *const *roots;
    char hex[GIT_OID_HEXSZ + 1];
    const char *key = hex;
    size_t count;

    if (roar_repo_shallow_roots(&roots, &count, repo) < 0 || !count)
        return false; /* loaded (and checked) before any walk starts */
    git_oid_tostr(hex, sizeof(hex), oid);
    return bsearch(&key, roots, count, sizeof(*roots), cmp_str) != NULL;
}

/* A set of commit ids (open addressing, linear probing): the walk's "seen" marks. */
typedef struct {
    git_oid *slots;
    bool *used;
    size_t cap; /* a power of two */
    size_t count;
} oid_set;

static size_t oid_hash(const git_oid *oid)
{
    uint64_t h;
    memcpy(&h, oid->id, sizeof(h)); /* SHA-1 bytes are already uniformly spread */
    return (size_t)h;
}

static void oid_set_free(oid_set *set)
{
    free(set->slots);
    free(set->used);
}

static int oid_set_grow(oid_set *set)
{
    oid_set bigger = {0};
    size_t i;

    bigger.cap = set->cap ? set->cap * 2 : 256;
    bigger.slots = calloc(bigger.cap, sizeof(*bigger.slots));
    bigger.used = calloc(bigger.cap, sizeof(*bigger.used));
    if (!bigger.slots || !bigger.used) {
        oid_set_free(&bigger);
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    }
    for (i = 0; i < set->cap; i++) {
        if (set->used[i]) {
            size_t j = oid_hash(&set->slots[i]) & (bigger.cap - 1);
            while (bigger.used[j])
                j = (j + 1) & (bigger.cap - 1);
            bigger.used[j] = true;
            bigger.slots[j] = set->slots[i];
            bigger.count++;
        }
    }
    oid_set_free(set);
    *set = bigger;
    return 0;
}

/* Adds oid; *added says whether it was new. */
static int oid_set_add(bool *added, oid_set *set, const git_oid *oid)
{
    size_t i;
    int error;

    if ((set->count + 1) * 2 > set->cap && (error = oid_set_grow(set)) < 0)
        return error;
    i = oid_hash(oid) & (set->cap - 1);
    while (set->used[i]) {
        if (git_oid_equal(&set->slots[i], oid)) {
            *added = false;
            return 0;
        }
        i = (i + 1) & (set->cap - 1);
    }
    set->used[i] = true;
    set->slots[i] = *oid;
    set->count++;
    *added = true;
    return 0;
}

/* A breadth-first walk over parents, a commit at a time; each commit is queued once.
 * Commit dates are not used to cut a walk short: clock skew would make that give wrong
 * answers. */
typedef struct {
    git_oid *queue;
    size_t len, alloc, head;
    oid_set seen;
} bfs_walk;

static int bfs_push(bfs_walk *w, const git_oid *oid)
{
    bool added;
    int error;
    if ((error = oid_set_add(&added, &w->seen, oid)) < 0 || !added ||
        (error = ROAR_ALLOC_GROW(w->queue, w->len + 1, w->alloc)) < 0)
        return error;
    w->queue[w->len++] = *oid;
    return 0;
}

/* The next commit of the walk into *out; false when there is none left. */
static bool bfs_next(git_oid *out, bfs_walk *w)
{
    if (w->head >= w->len)
        return false;
    *out = w->queue[w->head++];
    return true;
}

/* Queues the parents of `commit`. A shallow root, or a commit we do not have (a parent
 * beyond the history we hold), has none. */
static int bfs_expand(bfs_walk *w, roar_repo *repo, const git_oid *commit_id)
{
    git_commit *commit = NULL;
    unsigned i, n;
    int error = 0, rc;

    if (is_shallow_root(repo, commit_id))
        return 0;
    rc = git_commit_lookup(&commit, roar_repo_git(repo), commit_id);
    if (rc == GIT_ENOTFOUND)
        return 0;
    if (rc < 0)
        return git_fail(ROAR_ERROR, "cannot read commit");
    n = git_commit_parentcount(commit);
    for (i = 0; i < n && !error; i++) {
        const git_oid *parent = git_commit_parent_id(commit, i);
        if (parent)
            error = bfs_push(w, parent);
    }
    git_commit_free(commit);
    return error;
}

static void bfs_dispose(bfs_walk *w)
{
    oid_set_free(&w->seen);
    free(w->queue);
}

/* Where a walk starts: ROAR_ENOTFOUND unless `id` is a commit we have; the shallow
 * roots loaded (and checked) before any step. */
static int walk_start(roar_repo *repo, const git_oid *id)
{
    const char *const *roots;
    git_commit *commit = NULL;
    size_t count;
    int error, rc;

    if ((error = roar_repo_shallow_roots(&roots, &count, repo)) < 0)
        return error;
    rc = git_commit_lookup(&commit, roar_repo_git(repo), id);
    git_commit_free(commit);
    if (rc == GIT_ENOTFOUND)
        return roar_error_set(ROAR_ENOTFOUND, "commit %s not found", git_oid_tostr_s(id));
    if (rc < 0)
        return git_fail(ROAR_ERROR, "cannot read commit");
    return 0;
}

int roar_repo_walk_ancestors(roar_repo *repo, const char *start_hex,
                             int (*visit)(const git_oid *commit, void *payload), void *payload)
{
    bfs_walk w = {0};
    git_oid start, current;
    int error;

    if (!start_hex || !roar_oid_is_hex(start_hex))
        return roar_error_set(ROAR_EINVALID, "not a commit id: '%s'",
                              start_hex ? start_hex : "(null)");
    if (git_oid_fromstr(&start, start_hex) < 0)
        return git_fail(ROAR_EINVALID, "bad commit id");
    if ((error = walk_start(repo, &start)) < 0 || (error = bfs_push(&w, &start)) < 0)
        goto cleanup;
    while (bfs_next(&current, &w)) {
        if ((error = visit(&current, payload)) == ROAR_WALK_PRUNE)
            continue;
        if (error != 0 || (error = bfs_expand(&w, repo, &current)) < 0)
            break;
    }

cleanup:
    bfs_dispose(&w);
    return error < 0 ? error : 0;
}

struct ancestor_search {
    git_oid ancestor;
    bool found;
};

static int is_the_ancestor(const git_oid *commit, void *payload)
{
    struct ancestor_search *search = payload;
    if (!git_oid_equal(commit, &search->ancestor))
        return 0;
    search->found = true;
    return ROAR_WALK_STOP;
}

int roar_repo_is_ancestor(bool *out, roar_repo *repo, const char *ancestor_hex,
                          const char *descendant_hex)
{
    struct ancestor_search search;
    int error;

    *out = false;
    if (!ancestor_hex || !roar_oid_is_hex(ancestor_hex))
        return roar_error_set(ROAR_EINVALID, "not a commit id: '%s'",
                              ancestor_hex ? ancestor_hex : "(null)");
    if (git_oid_fromstr(&search.ancestor, ancestor_hex) < 0)
        return git_fail(ROAR_EINVALID, "bad commit id");
    search.found = false;
    if ((error = roar_repo_walk_ancestors(repo, descendant_hex, is_the_ancestor, &search)) < 0)
        return error;
    *out = search.found;
    return 0;
}

/* ---- the relation of two commits, walked from both ends -------------------------- */

/* Takes the next commit of w's walk: *hit when it is `target` (not expanded then);
 * *done when the walk has nothing left. */
static int side_step(bool *hit, bool *done, bfs_walk *w, roar_repo *repo, const git_oid *target)
{
    git_oid current;

    *hit = false;
    *done = !bfs_next(&current, w);
    if (*done)
        return 0;
    if (git_oid_equal(&current, target)) {
        *hit = true;
        return 0;
    }
    return bfs_expand(w, repo, &current);
}

int roar_repo_ancestry(roar_ancestry *out, roar_repo *repo, const git_oid *a, const git_oid *b)
{
    bfs_walk from_a = {0}, from_b = {0};
    bool a_done = false, b_done = false, hit;
    int error;

    *out = ROAR_ANCESTRY_UNRELATED;
    if (git_oid_equal(a, b)) {
        *out = ROAR_ANCESTRY_SAME;
        return 0;
    }
    if ((error = walk_start(repo, a)) < 0 || (error = walk_start(repo, b)) < 0)
        return error;
    if ((error = bfs_push(&from_a, a)) < 0 || (error = bfs_push(&from_b, b)) < 0)
        goto cleanup;
    /* In turn, a commit from each side: one that reaches the other's start decides,
     * after about as many steps as the two are apart; a side that runs out has
     * answered "no" for its direction, and the other goes on alone. */
    while (!a_done || !b_done) {
        if (!a_done) {
            if ((error = side_step(&hit, &a_done, &from_a, repo, b)) < 0)
                goto cleanup;
            if (hit) {
                *out = ROAR_ANCESTRY_B_IN_A;
                break;
            }
        }
        if (!b_done) {
            if ((error = side_step(&hit, &b_done, &from_b, repo, a)) < 0)
                goto cleanup;
            if (hit) {
                *out = ROAR_ANCESTRY_A_IN_B;
                break;
            }
        }
    }

cleanup:
    bfs_dispose(&from_a);
    bfs_dispose(&from_b);
    return error;
}
