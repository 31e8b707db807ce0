/* Whether a remote-tracking notes ref holds notes the local notes ref lacks (SPEC §5.5):
 * a plain `git fetch` moved it, and nothing merged it yet. Local refs only: no network. */
#include "gitstore/notes.h"

#include <string.h>

#include "util/err.h"

#define TRACKING_GLOB "refs/notes/remotes/*/roar"

typedef struct {
    roar_repo *repo;
    bool have_local;
    git_oid local;
    roar_buf *out;
    int error;
} behind_search;

static int check_tracking_ref(git_reference *ref, void *payload)
{
    behind_search *s = payload;
    git_reference *resolved = NULL;
    git_object *peeled = NULL;
    const char *name = git_reference_name(ref);
    int ahead = 0;

    /* A ref that is not a commit is reported by reindex; it holds nothing to merge. */
    if (git_reference_resolve(&resolved, ref) == 0 &&
        git_reference_peel(&peeled, resolved, GIT_OBJECT_COMMIT) == 0) {
        const git_oid *theirs = git_object_id(peeled);
        if (!s->have_local)
            ahead = 1;
        else if (!git_oid_equal(theirs, &s->local))
            ahead = git_graph_descendant_of(roar_repo_git(s->repo), &s->local, theirs) == 0;
    }
    git_error_clear();
    if (ahead) {
        /* refs/notes/remotes/<remote>/roar -> <remote> */
        const char *remote = name + strlen("refs/notes/remotes/");
        size_t len = strlen(remote) - strlen("/roar");
        if ((s->out->size && roar_buf_puts(s->out, " ") < 0) ||
            roar_buf_put(s->out, remote, len) < 0)
            s->error = roar_error_set(ROAR_ENOMEM, "out of memory");
    }
    git_object_free(peeled);
    git_reference_free(resolved);
    git_reference_free(ref);
    return s->error;
}

int roar_notes_remotes_ahead(roar_buf *out, roar_repo *repo, const char *ref)
{
    behind_search s;
    git_reference_iterator *it = NULL;
    git_reference *r = NULL;
    int rc;

    roar_buf_clear(out);
    memset(&s, 0, sizeof(s));
    s.repo = repo;
    s.out = out;
    rc = roar_notes_tip(&s.local, repo, ref);
    if (rc == 0)
        s.have_local = true;
    else if (rc != ROAR_ENOTFOUND)
        return rc;
    roar_error_clear();
    if (git_reference_iterator_glob_new(&it, roar_repo_git(repo), TRACKING_GLOB) < 0) {
        git_error_clear();
        return 0;
    }
    while (!s.error && git_reference_next(&r, it) == 0)
        check_tracking_ref(r, &s);
    git_reference_iterator_free(it);
    git_error_clear();
    return s.error;
}
