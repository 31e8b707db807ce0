/* Installs the hook scripts of hooks/ (embedded at build time) where git looks for hooks,
 * chaining a user's hook by renaming it, and never writing into a versioned hooks dir. */
#include "gitstore/hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "roar_hooks_generated.h" /* roar_hook_<name>[]: hooks/<name>, by CMake */
#include "util/err.h"

/* The marker every script of hooks/ carries on its second line. */
#define MARKER "# git roar: "

static const struct {
    const char *name;
    const char *script;
    const char *snippet;
} hook_table[ROAR_HOOKS_COUNT] = {
    {"post-commit", roar_hook_post_commit,
     "git roar attach -q </dev/null || echo \"warning: git roar attach failed\" >&2"},
    {"pre-push", roar_hook_pre_push,
     "git roar push -q \"$1\" </dev/null || echo \"warning: git roar push failed\" >&2"},
    {"post-rewrite", roar_hook_post_rewrite,
     "git roar attach -q --rewritten || echo \"warning: git roar attach failed\" >&2"},
};

const char *roar_hooks_script(const char *name)
{
    size_t i;
    for (i = 0; i < ROAR_HOOKS_COUNT; i++)
        if (!strcmp(hook_table[i].name, name))
            return hook_table[i].script;
    return NULL;
}

void roar_hooks_result_init(roar_hooks_result *r)
{
    memset(r, 0, sizeof(*r));
    roar_buf_init(&r->dir);
}

void roar_hooks_result_dispose(roar_hooks_result *r)
{
    roar_buf_dispose(&r->dir);
}

static bool under(const char *path, const char *dir)
{
    size_t n;
    if (!dir)
        return false;
    n = strlen(dir);
    return !strncmp(path, dir, n) && (path[n] == '/' || path[n] == '\0');
}

int roar_hooks_dir(roar_buf *out, bool *in_worktree, roar_repo *repo)
{
    git_config *cfg = NULL;
    git_buf val = {0};
    const char *top = roar_repo_worktree(repo);
    char *real = NULL;
    int rc, error = 0;

    roar_buf_clear(out);
    *in_worktree = false;
    if (git_repository_config_snapshot(&cfg, roar_repo_git(repo)) < 0) {
        error = roar_error_set(ROAR_ERROR, "cannot read the git config: %s",
                               git_error_last() ? git_error_last()->message : "libgit2 error");
        goto cleanup;
    }
    rc = git_config_get_path(&val, cfg, "core.hooksPath");
    if (rc == 0 && val.ptr[0]) {
        /* git runs hooks from the top of the work tree (the git dir when bare), and
         * a relative core.hooksPath is relative to that directory. */
        if (val.ptr[0] == '/')
            error = roar_buf_puts(out, val.ptr);
        else
            error = roar_buf_printf(out, "%s/%s", top ? top : roar_repo_gitdir(repo), val.ptr);
    } else if (rc == 0 || rc == GIT_ENOTFOUND) {
        error = roar_buf_printf(out, "%s/hooks", roar_repo_commondir(repo));
    } else {
        error = roar_error_set(ROAR_ERROR, "cannot read core.hooksPath: %s",
                               git_error_last() ? git_error_last()->message : "libgit2 error");
    }
    if (error < 0)
        goto cleanup;
    if ((real = realpath(out->ptr, NULL))) {
        roar_buf_clear(out);
        if ((error = roar_buf_puts(out, real)) < 0)
            goto cleanup;
    }
    while (out->size > 1 && out->ptr[out->size - 1] == '/')
        roar_buf_truncate(out, out->size - 1);
    *in_worktree = top && under(out->ptr, top) && !under(out->ptr, roar_repo_gitdir(repo)) &&
                   !under(out->ptr, roar_repo_commondir(repo));

cleanup:
    free(real);
    git_buf_dispose(&val);
    git_config_free(cfg);
    return error;
}

/* mkdir -p, with the umask's modes. */
static int make_dirs(const char *path)
{
    char buf[PATH_MAX];
    size_t i, n = strlen(path);

    if (n >= sizeof(buf))
        return roar_error_set(ROAR_ELIMIT, "path too long: '%s'", path);
    memcpy(buf, path, n + 1);
    for (i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        buf[i] = '\0';
        if (mkdir(buf, 0777) < 0 && errno != EEXIST)
            return roar_error_set_errno(ROAR_ERROR, "cannot create directory '%s'", buf);
        buf[i] = i == n ? '\0' : '/';
    }
    return 0;
}

/* Writes the script atomically as <dir>/<name>, mode 0755 (less the umask). */
static int write_script(const char *dir, const char *name, const char *script)
{
    roar_buf tmp = ROAR_BUF_INIT, path = ROAR_BUF_INIT;
    size_t len = strlen(script), done = 0;
    mode_t mask = umask(0);
    int fd = -1, error = 0;

    umask(mask);
    if ((error = roar_buf_printf(&tmp, "%s/.%s.roar-XXXXXX", dir, name)) < 0 ||
        (error = roar_buf_printf(&path, "%s/%s", dir, name)) < 0)
        goto cleanup;
    if ((fd = mkostemp(tmp.ptr, O_CLOEXEC)) < 0) {
        error = roar_error_set_errno(ROAR_ERROR, "cannot write a hook in '%s'", dir);
        goto cleanup;
    }
    while (done < len) {
        ssize_t n = write(fd, script + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            error = roar_error_set_errno(ROAR_ERROR, "cannot write '%s'", tmp.ptr);
            goto cleanup;
        }
        done += (size_t)n;
    }
    if (fchmod(fd, 0755 & ~mask) < 0 || close(fd) < 0) {
        fd = -1;
        error = roar_error_set_errno(ROAR_ERROR, "cannot write '%s'", tmp.ptr);
        goto cleanup;
    }
    fd = -1;
    if (rename(tmp.ptr, path.ptr) < 0)
        error = roar_error_set_errno(ROAR_ERROR, "cannot install '%s'", path.ptr);

cleanup:
    if (fd >= 0)
        close(fd);
    if (error < 0 && tmp.size)
        unlink(tmp.ptr);
    roar_buf_dispose(&tmp);
    roar_buf_dispose(&path);
    return error;
}

/* Reads up to 64 KiB of a hook (following a symlink): enough to tell ours apart. */
static int read_hook(roar_buf *out, const char *path)
{
    char chunk[4096];
    size_t n;
    FILE *f = fopen(path, "r");

    roar_buf_clear(out);
    if (!f)
        return errno == ENOENT ? 0 : roar_error_set_errno(ROAR_ERROR, "cannot read '%s'", path);
    while (out->size < 65536 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if (roar_buf_put(out, chunk, n) < 0) {
            fclose(f);
            return ROAR_ENOMEM;
        }
    fclose(f);
    return 0;
}

static int install_one(roar_hook_report *report, const char *dir, size_t which)
{
    const char *name = hook_table[which].name, *script = hook_table[which].script;
    roar_buf path = ROAR_BUF_INIT, chained = ROAR_BUF_INIT, text = ROAR_BUF_INIT;
    roar_buf marker = ROAR_BUF_INIT;
    struct stat st;
    int error;

    if ((error = roar_buf_printf(&path, "%s/%s", dir, name)) < 0 ||
        (error = roar_buf_printf(&chained, "%s%s", path.ptr, ROAR_HOOKS_CHAINED_SUFFIX)) < 0 ||
        (error = roar_buf_printf(&marker, MARKER "%s hook", name)) < 0)
        goto cleanup;
    if (lstat(path.ptr, &st) < 0) {
        if (errno != ENOENT) {
            error = roar_error_set_errno(ROAR_ERROR, "cannot read '%s'", path.ptr);
            goto cleanup;
        }
        report->action = ROAR_HOOK_INSTALLED;
        error = write_script(dir, name, script);
        goto cleanup;
    }
    if ((error = read_hook(&text, path.ptr)) < 0)
        goto cleanup;
    if (strstr(text.ptr, marker.ptr)) {
        if (!strcmp(text.ptr, script) && (st.st_mode & 0100)) {
            report->action = ROAR_HOOK_UNCHANGED;
            goto cleanup;
        }
        report->action = ROAR_HOOK_UPDATED;
        error = write_script(dir, name, script);
        goto cleanup;
    }
    /* The user's hook: kept, and run first by ours. */
    if (lstat(chained.ptr, &st) == 0) {
        report->action = ROAR_HOOK_CONFLICT;
        goto cleanup;
    }
    if (rename(path.ptr, chained.ptr) < 0) {
        error = roar_error_set_errno(ROAR_ERROR, "cannot rename '%s'", path.ptr);
        goto cleanup;
    }
    report->action = ROAR_HOOK_CHAINED;
    if ((error = write_script(dir, name, script)) < 0)
        rename(chained.ptr, path.ptr); /* leave things as they were */

cleanup:
    roar_buf_dispose(&path);
    roar_buf_dispose(&chained);
    roar_buf_dispose(&text);
    roar_buf_dispose(&marker);
    return error;
}

int roar_hooks_install(roar_hooks_result *out, roar_repo *repo)
{
    size_t i;
    int error;

    for (i = 0; i < ROAR_HOOKS_COUNT; i++) {
        out->hooks[i].name = hook_table[i].name;
        out->hooks[i].snippet = hook_table[i].snippet;
        out->hooks[i].action = ROAR_HOOK_SKIPPED;
    }
    if ((error = roar_hooks_dir(&out->dir, &out->in_worktree, repo)) < 0)
        return error;
    if (out->in_worktree)
        return 0;
    if ((error = make_dirs(out->dir.ptr)) < 0)
        return error;
    for (i = 0; i < ROAR_HOOKS_COUNT; i++)
        if ((error = install_one(&out->hooks[i], out->dir.ptr, i)) < 0)
            return error;
    return 0;
}
