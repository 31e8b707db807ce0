/* Repository discovery and the few repository facts every command needs, on libgit2 1.5.
 * Where libgit2 1.5 falls short (shallow clones, SHA-256 repos) the gap is handled here. */
#include "gitstore/repo.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "gitstore/cmdline_config.h"
#include "graph/oid.h"
#include "util/buf.h"
#include "util/err.h"

struct roar_repo {
    git_repository *git;
    char *worktree; /* NULL when bare */
    char *gitdir;
    char *commondir;
    char *roar_dir;

    bool shallow_loaded;
    char **shallow; /* sorted 40-hex strings */
    size_t shallow_count;
    size_t shallow_alloc;
};

/* Sets the message from libgit2's last error, prefixed with what we were doing. */
static int git_fail(int code, const char *what)
{
    const git_error *e = git_error_last();
    return roar_error_set(code, "%s: %s", what, e && e->message ? e->message : "libgit2 error");
}

/* realpath() into a malloc'd string; realpath never leaves a trailing slash except
 * for "/" itself, which a git dir or work tree cannot be in practice. */
static int resolve_dir(char **out, const char *path)
{
    char *real = realpath(path, NULL);
    if (!real)
        return roar_error_set_errno(ROAR_ERROR, "cannot resolve '%s'", path);
    *out = real;
    return 0;
}

/* For a git dir that libgit2 refused: the common dir holds the config that names the
 * object format (linked worktrees point at it through their `commondir` file). */
static int common_dir_of(roar_buf *out, const char *gitdir)
{
    roar_buf file = ROAR_BUF_INIT;
    FILE *f = NULL;
    char line[PATH_MAX];
    int error;

    roar_buf_clear(out);
    if ((error = roar_buf_printf(&file, "%s/commondir", gitdir)) < 0)
        goto cleanup;
    f = fopen(file.ptr, "r");
    if (f && fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '/')
            error = roar_buf_puts(out, line);
        else
            error = roar_buf_printf(out, "%s/%s", gitdir, line);
    } else {
        error = roar_buf_puts(out, gitdir);
    }

cleanup:
    if (f)
        fclose(f);
    roar_buf_dispose(&file);
    return error;
}

/* Whether the repository at `gitdir` declares extensions.objectFormat = sha256. */
static bool gitdir_is_sha256(const char *gitdir)
{
    roar_buf common = ROAR_BUF_INIT, path = ROAR_BUF_INIT;
    git_config *cfg = NULL;
    git_buf value = {0};
    bool sha256 = false;

    if (common_dir_of(&common, gitdir) < 0 || roar_buf_printf(&path, "%s/config", common.ptr) < 0)
        goto cleanup;
    if (git_config_open_ondisk(&cfg, path.ptr) < 0)
        goto cleanup;
    if (git_config_get_string_buf(&value, cfg, "extensions.objectformat") == 0)
        sha256 = strcasecmp(value.ptr, "sha256") == 0;

cleanup:
    git_buf_dispose(&value);
    git_config_free(cfg);
    roar_buf_dispose(&path);
    roar_buf_dispose(&common);
    return sha256;
}

/* The git dir that discovery would pick (GIT_DIR, or a search upwards from start_dir),
 * without opening it; NULL when there is none. Caller frees. */
static char *candidate_gitdir(const char *start_dir)
{
    const char *env_gitdir = getenv("GIT_DIR");
    git_buf found = {0};
    char *candidate = NULL;

    if (env_gitdir && *env_gitdir)
        return strdup(env_gitdir);
    if (git_repository_discover(&found, start_dir ? start_dir : ".", 0,
                                getenv("GIT_CEILING_DIRECTORIES")) == 0) {
        size_t len = strlen(found.ptr);
        while (len > 1 && found.ptr[len - 1] == '/')
            found.ptr[--len] = '\0';
        candidate = strdup(found.ptr);
    }
    git_buf_dispose(&found);
    git_error_clear();
    return candidate;
}

static int sha256_error(const char *gitdir)
{
    char *real = realpath(gitdir, NULL);
    int error = roar_error_set(ROAR_EUNSUPPORTED,
                               "repository '%s' uses SHA-256 object names, which git roar "
                               "cannot read yet (libgit2 1.5)",
                               real ? real : gitdir);
    free(real);
    return error;
}

static int refuse_sha256(const char *start_dir)
{
    char *candidate = candidate_gitdir(start_dir);
    int error = candidate && gitdir_is_sha256(candidate) ? sha256_error(candidate) : 0;
    free(candidate);
    return error;
}

/* Turns a failed open into the message a git user expects. The SHA-256 case is
 * recognised from the repository's own config rather than libgit2's message, so that
 * an explicit objectFormat=sha1 (which 1.5 also refuses) is not misreported. */
static int open_error(int rc, const char *start_dir)
{
    const char *env_gitdir = getenv("GIT_DIR");
    const git_error *e = git_error_last();
    char libgit2_msg[1024];
    char *candidate = NULL;
    int error;

    snprintf(libgit2_msg, sizeof(libgit2_msg), "%s", e && e->message ? e->message : "");
    candidate = candidate_gitdir(start_dir);

    if (candidate && rc != GIT_ENOTFOUND && gitdir_is_sha256(candidate)) {
        error = sha256_error(candidate);
    } else if (rc == GIT_ENOTFOUND && env_gitdir && *env_gitdir) {
        error = roar_error_set(ROAR_ENOTFOUND, "not a git repository: '%s'", env_gitdir);
    } else if (rc == GIT_ENOTFOUND) {
        error = roar_error_set(ROAR_ENOTFOUND,
                               "not a git repository (or any of the parent directories): .git");
    } else {
        error = roar_error_set(ROAR_ERROR, "cannot open repository '%s': %s",
                               candidate ? candidate : (start_dir ? start_dir : "."),
                               libgit2_msg[0] ? libgit2_msg : "libgit2 error");
    }

    free(candidate);
    return error;
}

static const char *env_nonempty(const char *name)
{
    const char *value = getenv(name);
    return value && *value ? value : NULL;
}

/* libgit2 1.5's GIT_REPOSITORY_OPEN_FROM_ENV reads GIT_DIR only when no start path is
 * given and refuses GIT_WORK_TREE outright ("unimplemented"), so both are handled here:
 * GIT_DIR always wins over the start directory, as it does for git. */
static int open_git(git_repository **out, const char *start_dir)
{
    const char *env_dir = env_nonempty("GIT_DIR");

    if (!env_nonempty("GIT_WORK_TREE"))
        return git_repository_open_ext(out, env_dir ? NULL : start_dir,
                                       GIT_REPOSITORY_OPEN_FROM_ENV, NULL);
    if (env_dir)
        return git_repository_open_ext(out, env_dir, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL);
    return git_repository_open_ext(out, start_dir ? start_dir : ".", 0,
                                   getenv("GIT_CEILING_DIRECTORIES"));
}

/* git's rule for the work tree under GIT_DIR (setup_explicit_git_dir): GIT_WORK_TREE if
 * set; none if core.bare; core.worktree if set; otherwise the current directory (here
 * start_dir, which stands for it). libgit2 would guess the parent of the git dir. */
static int apply_env_worktree(git_repository *git, const char *start_dir)
{
    const char *env_dir = env_nonempty("GIT_DIR");
    const char *env_wt = env_nonempty("GIT_WORK_TREE");
    git_config *cfg = NULL;
    git_buf value = {0};
    char *dir = NULL;
    int bare = 0, error = 0;

    if (!env_dir && !env_wt)
        return 0;
    if (!env_wt) {
        if (git_repository_config_snapshot(&cfg, git) < 0) {
            error = git_fail(ROAR_ERROR, "cannot read the repository configuration");
            goto cleanup;
        }
        if (git_config_get_bool(&bare, cfg, "core.bare") < 0)
            bare = 0;
        if (bare || git_config_get_string_buf(&value, cfg, "core.worktree") == 0)
            goto cleanup; /* libgit2 already applied these */
    }
    if ((error = resolve_dir(&dir, env_wt ? env_wt : (start_dir ? start_dir : "."))) < 0)
        goto cleanup;
    /* libgit2 1.5 leaks its path buffer when asked to set the work tree it already has. */
    if (git_repository_workdir(git)) {
        char *current = realpath(git_repository_workdir(git), NULL);
        bool same = current && strcmp(current, dir) == 0;
        free(current);
        if (same)
            goto cleanup;
    }
    if (git_repository_set_workdir(git, dir, 0) < 0)
        error = git_fail(ROAR_ERROR, "cannot set the work tree");

cleanup:
    free(dir);
    git_buf_dispose(&value);
    git_config_free(cfg);
    return error;
}

int roar_repo_open(roar_repo **out, const char *start_dir)
{
    roar_repo *repo = NULL;
    roar_buf roar_dir = ROAR_BUF_INIT;
    int error, rc;

    *out = NULL;
    if ((repo = calloc(1, sizeof(*repo))) == NULL)
        return roar_error_set(ROAR_ENOMEM, "out of memory");

    /* Checked before libgit2 sees it: 1.5 refuses the repository anyway, and leaks
     * while doing so. */
    if ((error = refuse_sha256(start_dir)) < 0)
        goto cleanup;
    if ((rc = open_git(&repo->git, start_dir)) < 0) {
        error = open_error(rc, start_dir);
        goto cleanup;
    }
    if ((error = roar_cmdline_config_apply(repo->git)) < 0 ||
        (error = apply_env_worktree(repo->git, start_dir)) < 0)
        goto cleanup;

    if (!git_repository_is_bare(repo->git) && git_repository_workdir(repo->git) &&
        (error = resolve_dir(&repo->worktree, git_repository_workdir(repo->git))) < 0)
        goto cleanup;
    if ((error = resolve_dir(&repo->gitdir, git_repository_path(repo->git))) < 0 ||
        (error = resolve_dir(&repo->commondir, git_repository_commondir(repo->git))) < 0)
        goto cleanup;
    if ((error = roar_buf_printf(&roar_dir, "%s/roar", repo->commondir)) < 0)
        goto cleanup;
    repo->roar_dir = roar_buf_detach(&roar_dir);
    if (!repo->roar_dir) {
        error = roar_error_set(ROAR_ENOMEM, "out of memory");
        goto cleanup;
    }

    *out = repo;
    repo = NULL;
    error = 0;

cleanup:
    roar_buf_dispose(&roar_dir);
    roar_repo_free(repo);
    return error;
}

void roar_repo_free(roar_repo *repo)
{
    size_t i;

    if (!repo)
        return;
    for (i = 0; i < repo->shallow_count; i++)
        free(repo->shallow[i]);
    free(repo->shallow);
    free(repo->worktree);
    free(repo->gitdir);
    free(repo->commondir);
    free(repo->roar_dir);
    git_repository_free(repo->git);
    free(repo);
}

int roar_repo_require_worktree(const roar_repo *repo)
{
    if (!repo->worktree)
        return roar_error_set(ROAR_EUNSUPPORTED, "this operation must be run in a work tree");
    return 0;
}

const char *roar_repo_worktree(const roar_repo *repo)
{
    return repo->worktree;
}

const char *roar_repo_gitdir(const roar_repo *repo)
{
    return repo->gitdir;
}

const char *roar_repo_commondir(const roar_repo *repo)
{
    return repo->commondir;
}

const char *roar_repo_roar_dir(const roar_repo *repo)
{
    return repo->roar_dir;
}

git_repository *roar_repo_git(roar_repo *repo)
{
    return repo->git;
}

/* mkdir that accepts an existing directory (another process may be creating it too). */
static int make_dir(const char *path)
{
    struct stat st;

    if (mkdir(path, 0777) == 0)
        return 0;
    if (errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return 0;
    return roar_error_set_errno(ROAR_ERROR, "cannot create directory '%s'", path);
}

int roar_repo_ensure_roar_dir(const roar_repo *repo)
{
    roar_buf pending = ROAR_BUF_INIT;
    int error;

    if ((error = make_dir(repo->roar_dir)) < 0 ||
        (error = roar_buf_printf(&pending, "%s/pending", repo->roar_dir)) < 0 ||
        (error = make_dir(pending.ptr)) < 0)
        goto cleanup;

cleanup:
    roar_buf_dispose(&pending);
    return error;
}

/* HEAD's commit id; ROAR_ENOTFOUND (with a message) on an unborn branch. */
static int head_oid(git_oid *out, roar_repo *repo)
{
    int rc = git_reference_name_to_id(out, repo->git, "HEAD");

    if (rc == GIT_ENOTFOUND || (rc < 0 && git_repository_head_unborn(repo->git) == 1))
        return roar_error_set(ROAR_ENOTFOUND,
                              "HEAD does not point at a commit yet (unborn branch)");
    if (rc < 0)
        return git_fail(ROAR_ERROR, "cannot resolve HEAD");
    return 0;
}

int roar_repo_head(char out[ROAR_OID_HEXSZ + 1], roar_repo *repo)
{
    git_commit *commit = NULL;
    git_oid oid;
    char hex[ROAR_OID_HEXSZ + 1];
    int error;

    if ((error = head_oid(&oid, repo)) < 0)
        return error;
    /* A ref file can name any id: a commit that is missing (a corrupt or half-copied
     * repository) or another kind of object must not become a job's `base`. */
    git_oid_tostr(hex, sizeof(hex), &oid);
    if (git_commit_lookup(&commit, repo->git, &oid) < 0) {
        git_error_clear();
        return roar_error_set(ROAR_EINVALID,
                              "HEAD is broken: %s is not a commit in this repository", hex);
    }
    git_commit_free(commit);
    memcpy(out, hex, sizeof(hex));
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads `<commondir>/shallow` (one commit id per line; git keeps it in the common dir
 * so all worktrees share it). A missing file means a complete clone. */
static int load_shallow(roar_repo *repo)
{
    roar_buf path = ROAR_BUF_INIT;
    FILE *f = NULL;
    char line[256];
    unsigned lineno = 0;
    int error = 0;

    if (repo->shallow_loaded)
        return 0;
    if ((error = roar_buf_printf(&path, "%s/shallow", repo->commondir)) < 0)
        goto cleanup;
    if ((f = fopen(path.ptr, "r")) == NULL) {
        if (errno != ENOENT)
            error = roar_error_set_errno(ROAR_ERROR, "cannot read '%s'", path.ptr);
        goto cleanup;
    }
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0])
            continue;
        if (!roar_oid_is_hex(line)) {
            error = roar_error_set(ROAR_EINVALID, "%s:%u: not a commit id", path.ptr, lineno);
            goto cleanup;
        }
        if ((error = ROAR_ALLOC_GROW(repo->shallow, repo->shallow_count + 1, repo->shallow_alloc)) <
            0)
            goto cleanup;
        if ((repo->shallow[repo->shallow_count] = strdup(line)) == NULL) {
            error = roar_error_set(ROAR_ENOMEM, "out of memory");
            goto cleanup;
        }
        repo->shallow_count++;
    }
    if (ferror(f)) {
        error = roar_error_set_errno(ROAR_ERROR, "cannot read '%s'", path.ptr);
        goto cleanup;
    }
    if (repo->shallow_count)
        qsort(repo->shallow, repo->shallow_count, sizeof(*repo->shallow), cmp_str);

cleanup:
    if (f)
        fclose(f);
    roar_buf_dispose(&path);
    if (error < 0) {
        while (repo->shallow_count)
            free(repo->shallow[--repo->shallow_count]);
    } else {
        repo->shallow_loaded = true;
    }
    return error;
}

int roar_repo_is_shallow(bool *out, roar_repo *repo)
{
    int error = load_shallow(repo);
    if (error < 0)
        return error;
    *out = repo->shallow_count > 0;
    return 0;
}

int roar_repo_shallow_roots(const char *const **out, size_t *count, roar_repo *repo)
{
    int error = load_shallow(repo);
    if (error < 0)
        return error;
    *out = (const char *const *)repo->shallow;
    *count = repo->shallow_count;
    return 0;
}

/* Whether relpath has an index entry at any stage (a conflicted path is tracked). */
static int index_has_path(bool *out, roar_repo *repo, const char *relpath)
{
    git_index *index = NULL;
    int stage;

    *out = false;
    if (git_repository_index(&index, repo->git) < 0)
        return git_fail(ROAR_ERROR, "cannot read the index");
    /* The index may have changed on disk since this handle first read it. */
    if (git_index_read(index, 0) < 0) {
        git_index_free(index);
        return git_fail(ROAR_ERROR, "cannot read the index");
    }
    for (stage = 0; stage <= 3 && !*out; stage++)
        *out = git_index_get_bypath(index, relpath, stage) != NULL;
    git_index_free(index);
    return 0;
}

int roar_repo_path_is_dirty(bool *out, roar_repo *repo, const char *relpath, const char *blob_hex)
{
    git_oid head;
    git_commit *commit = NULL;
    git_tree *tree = NULL;
    git_tree_entry *entry = NULL;
    bool in_head = false, tracked;
    int ignored = 0;
    int error, rc;

    *out = false;
    if ((error = roar_repo_require_worktree(repo)) < 0)
        return error;
    if (!relpath || !relpath[0] || relpath[0] == '/')
        return roar_error_set(ROAR_EINVALID, "not a path relative to the work tree: '%s'",
                              relpath ? relpath : "(null)");
    if (blob_hex && !roar_oid_is_hex(blob_hex))
        return roar_error_set(ROAR_EINVALID, "not a blob id: '%s'", blob_hex);

    error = head_oid(&head, repo);
    if (error == ROAR_ENOTFOUND) {
        roar_error_clear(); /* no HEAD: nothing is in it */
    } else if (error < 0) {
        goto cleanup;
    } else {
        if (git_commit_lookup(&commit, repo->git, &head) < 0 ||
            git_commit_tree(&tree, commit) < 0) {
            error = git_fail(ROAR_ERROR, "cannot read HEAD's tree");
            goto cleanup;
        }
        rc = git_tree_entry_bypath(&entry, tree, relpath);
        if (rc == 0) {
            in_head = true;
        } else if (rc != GIT_ENOTFOUND) {
            error = git_fail(ROAR_ERROR, "cannot look up a path in HEAD");
            goto cleanup;
        }
    }

    if (in_head) {
        char head_hex[GIT_OID_HEXSZ + 1];
        /* A tree or submodule at that path cannot hold the file's bytes. */
        if (git_tree_entry_type(entry) != GIT_OBJECT_BLOB || !blob_hex) {
            *out = true;
        } else {
            git_oid_tostr(head_hex, sizeof(head_hex), git_tree_entry_id(entry));
            *out = strcmp(head_hex, blob_hex) != 0;
        }
        error = 0;
        goto cleanup;
    }

    if ((error = index_has_path(&tracked, repo, relpath)) < 0)
        goto cleanup;
    if (tracked) {
        *out = true; /* staged but not committed: HEAD does not hold it */
        error = 0;
        goto cleanup;
    }
    if (git_ignore_path_is_ignored(&ignored, repo->git, relpath) < 0) {
        error = git_fail(ROAR_ERROR, "cannot check ignore rules");
        goto cleanup;
    }
    *out = !ignored;
    error = 0;

cleanup:
    git_tree_entry_free(entry);
    git_tree_free(tree);
    git_commit_free(commit);
    return error;
}
