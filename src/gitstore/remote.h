/* Sharing notes through remotes (SPEC §3 fetch/push/sync, §5.4): the network goes through
 * the `git` executable, so the user's credentials, ssh config and proxies apply. */
#ifndef ROAR_GITSTORE_REMOTE_H
#define ROAR_GITSTORE_REMOTE_H

#include <stdbool.h>
#include <stddef.h>

#include "gitstore/notes.h"
#include "gitstore/repo.h"
#include "util/buf.h"

/* ---- running git ------------------------------------------------------------------ */

enum {
    ROAR_GIT_CAPTURE_OUT = 1 << 0, /* stdout into result.out (else: inherited) */
    ROAR_GIT_CAPTURE_ERR = 1 << 1, /* stderr into result.err (else: inherited) */
};

typedef struct {
    int status;   /* exit status; 128 + N when killed by signal N */
    roar_buf out; /* captured stdout */
    roar_buf err; /* captured stderr */
} roar_git_result;

void roar_git_result_init(roar_git_result *r);
void roar_git_result_dispose(roar_git_result *r);

/* Runs `git args[0] args[1] ...` (args NULL-terminated, without "git") in the current
 * directory, with our environment, stdin from /dev/null. A non-zero exit is not an error
 * here (read out->status); failing to start git is (ROAR_ERROR). `out` is initialised by
 * this function; the caller disposes it. */
int roar_remote_run_git(roar_git_result *out, const char *const *args, unsigned flags);

/* ---- config set by init ----------------------------------------------------------- */

/* Appends `value` to the multi-valued `key` of the repository's config, as
 * `git config --add` does (which it runs: libgit2 1.5's multivar writer leaks through
 * its regex matcher). */
int roar_remote_config_add(roar_repo *repo, const char *key, const char *value);

/* Whether `name` is a configured remote (remote.<name>.url or .pushurl exists). */
int roar_remote_exists(bool *out, roar_repo *repo, const char *name);

/* The ref `git roar fetch NAME` and the init refspec fill:
 * refs/notes/remotes/<name>/roar. ROAR_EINVALID when that is not a valid ref name. */
int roar_remote_tracking_ref(roar_buf *out, const char *name);

/* Adds `+<notes_ref>:refs/notes/remotes/<name>/roar` to remote.<name>.fetch unless an
 * equal refspec is there (with or without '+'). *added says whether it was added. */
int roar_remote_add_fetch_refspec(bool *added, roar_repo *repo, const char *name,
                                  const char *notes_ref);

/* ---- fetch, push, sync ---------------------------------------------------------- */

typedef struct {
    bool remote_has_notes;         /* false: the remote has no notes ref (nothing done) */
    roar_notes_merge_result merge; /* how the remote's notes went into ours */
} roar_fetch_result;

/* Fetches the remote's notes ref (the local notes ref's name) into
 * refs/notes/remotes/<remote>/roar (a configured remote) or a temporary ref (a URL, which
 * is deleted afterwards), then merges it into the local notes ref with roar_notes_merge:
 * a forced fetch never overwrites local notes. git's output is captured; errors carry
 * its own message. The cache is not touched: refresh it afterwards. */
int roar_remote_fetch(roar_fetch_result *out, roar_repo *repo, const char *remote,
                      roar_notes_problem_cb cb, void *payload);

typedef struct {
    bool nothing_to_push; /* there are no local notes */
    bool up_to_date;      /* the remote already had them */
    unsigned merges;      /* rejections (non-fast-forward) resolved by fetch + merge */
    git_oid pushed;       /* the notes commit the remote now has */
} roar_push_result;

/* Pushes the local notes ref to the same ref on `remote` with --no-verify (so a pre-push
 * hook that calls this is not re-entered). When the remote rejects it as not a
 * fast-forward (someone pushed notes meanwhile), fetches and merges (roar_remote_fetch)
 * and pushes again, up to 16 rounds with jittered backoff; a push the remote rejects
 * because it could not lock the ref ("cannot lock ref": another clone was pushing at that
 * moment) is retried the same way. After a push to a configured remote, its tracking ref
 * is set to what was pushed. */
int roar_remote_push(roar_push_result *out, roar_repo *repo, const char *remote,
                     roar_notes_problem_cb cb, void *payload);

/* The remote a command uses when none is named: the one of the current branch
 * (branch.<name>.remote), else `origin`. */
int roar_remote_default(roar_buf *out, roar_repo *repo);

#endif
