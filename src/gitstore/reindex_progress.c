/* Progress of a cache update (reindex.h: roar_reindex_set_progress): counts the notes
 * to read, and reports each note read to the one callback the CLI registered. */
#include "gitstore/reindex_internal.h"

#include <git2.h>

static roar_reindex_progress_cb progress_cb;
static void *progress_payload;

void roar_reindex_set_progress(roar_reindex_progress_cb cb, void *payload)
{
    progress_cb = cb;
    progress_payload = payload;
}

static int count_blob(const char *root, const git_tree_entry *entry, void *payload)
{
    (void)root;
    if (git_tree_entry_type(entry) == GIT_OBJECT_BLOB)
        (*(size_t *)payload)++;
    return 0;
}

void roar_reindex__progress_count(reindex_progress *p, roar_repo *repo, const git_oid *tip)
{
    git_commit *commit = NULL;
    git_tree *tree = NULL;
    size_t n = 0;

    if (!progress_cb)
        return;
    /* One note is one blob of the notes tree, whatever its fanout. A tree that cannot
     * be read leaves the total short: the progress is only shown, never trusted. */
    if (git_commit_lookup(&commit, roar_repo_git(repo), tip) == 0 &&
        git_commit_tree(&tree, commit) == 0 &&
        git_tree_walk(tree, GIT_TREEWALK_PRE, count_blob, &n) == 0)
        p->now.notes_total += n;
    git_error_clear();
    git_tree_free(tree);
    git_commit_free(commit);
}

void roar_reindex__progress_note(reindex_progress *p, size_t jobs)
{
    if (!progress_cb)
        return;
    p->now.phase = ROAR_REINDEX_READING;
    p->now.notes_done++;
    p->now.jobs += jobs;
    p->reported = true;
    progress_cb(&p->now, progress_payload);
}

void roar_reindex__progress_phase(reindex_progress *p, roar_reindex_phase phase)
{
    if (!progress_cb || !p->reported)
        return;
    p->now.phase = phase;
    progress_cb(&p->now, progress_payload);
    if (phase == ROAR_REINDEX_DONE)
        p->reported = false;
}
