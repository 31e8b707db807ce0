/* `git roar run`'s helpers: its configuration (durations, roar.env/exclude/include,
 * .roarignore), the preload library's place, and the job made of the collector's result. */
#include "cli/run.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/err.h"
#include "util/pool.h"
#include "util/redact.h"

#define DEFAULT_WAIT_DESCENDANTS_MS 2000u
#define DEFAULT_HASH_WAIT_MS 30000u
/* More hashing threads than this only contend for the disk and the lock. */
#define MAX_HASH_THREADS 256
/* A day: longer would make the shim's wait effectively unbounded. */
#define MAX_DURATION_MS (24u * 3600u * 1000u)

int roar_run_parse_duration(unsigned *out, const char *s)
{
    unsigned long long whole = 0, frac = 0, scale = 1000, ms;
    unsigned frac_div = 1;
    const char *p = s;

    if (!(*p >= '0' && *p <= '9'))
        return roar_error_set(ROAR_EINVALID, "'%s' is not a duration", s);
    while (*p >= '0' && *p <= '9') {
        whole = whole * 10 + (unsigned)(*p++ - '0');
        if (whole > MAX_DURATION_MS)
            return roar_error_set(ROAR_EINVALID, "duration '%s' is too long", s);
    }
    if (*p == '.') {
        p++;
        if (!(*p >= '0' && *p <= '9'))
            return roar_error_set(ROAR_EINVALID, "'%s' is not a duration", s);
        while (*p >= '0' && *p <= '9') {
            if (frac_div < 1000000) {
                frac = frac * 10 + (unsigned)(*p - '0');
                frac_div *= 10;
            }
            p++;
        }
    }
    if (!strcmp(p, "ms"))
        scale = 1;
    else if (!strcmp(p, "s") || !*p)
        scale = 1000;
    else if (!strcmp(p, "m"))
        scale = 60000;
    else
        return roar_error_set(ROAR_EINVALID, "'%s' is not a duration (use ms, s or m)", s);
    ms = whole * scale + frac * scale / frac_div;
    if (ms > MAX_DURATION_MS)
        return roar_error_set(ROAR_EINVALID, "duration '%s' is too long", s);
    *out = (unsigned)ms;
    return 0;
}

static int get_duration(unsigned *out, git_config *cfg, const char *key, unsigned dflt)
{
    git_buf b = {0};
    int rc = git_config_get_string_buf(&b, cfg, key), error = 0;

    *out = dflt;
    if (rc == GIT_ENOTFOUND)
        return 0;
    if (rc < 0) {
        const git_error *e = git_error_last();
        return roar_error_set(ROAR_ERROR, "cannot read %s: %s", key, e ? e->message : "error");
    }
    if ((error = roar_run_parse_duration(out, b.ptr)) < 0)
        roar_error_prefix("bad %s", key);
    git_buf_dispose(&b);
    return error;
}

static int get_multi(char ***out, size_t *n, git_config *cfg, const char *key)
{
    git_config_iterator *it = NULL;
    git_config_entry *e;
    size_t alloc = 0;
    int rc, error = 0;

    if (git_config_multivar_iterator_new(&it, cfg, key, NULL) < 0) {
        const git_error *ge = git_error_last();
        return roar_error_set(ROAR_ERROR, "cannot read %s: %s", key, ge ? ge->message : "error");
    }
    while ((rc = git_config_next(&e, it)) == 0) {
        if (!e->value || !*e->value)
            continue;
        if ((error = ROAR_ALLOC_GROW(*out, *n + 1, alloc)) < 0)
            goto cleanup;
        if (!((*out)[*n] = strdup(e->value))) {
            error = roar_error_set(ROAR_ENOMEM, "out of memory");
            goto cleanup;
        }
        (*n)++;
    }
    if (rc != GIT_ITEROVER) {
        const git_error *ge = git_error_last();
        error = roar_error_set(ROAR_ERROR, "cannot read %s: %s", key, ge ? ge->message : "error");
    }
cleanup:
    git_config_iterator_free(it);
    return error;
}

static int read_file(roar_buf *out, bool *found, const char *path)
{
    char chunk[8192];
    int fd = open(path, O_RDONLY | O_CLOEXEC), error = 0;
    ssize_t r;

    *found = false;
    if (fd < 0)
        return errno == ENOENT || errno == ENOTDIR
                   ? 0
                   : roar_error_set_errno(ROAR_ERROR, "cannot read '%s'", path);
    *found = true;
    while ((r = read(fd, chunk, sizeof(chunk))) != 0) {
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            error = roar_error_set_errno(ROAR_ERROR, "cannot read '%s'", path);
            break;
        }
        if ((error = roar_buf_put(out, chunk, (size_t)r)) < 0)
            break;
    }
    close(fd);
    return error;
}

/* roar.hashThreads: a count from 0 (no hashing during the job) to MAX_HASH_THREADS;
 * default the processors online. */
static int get_hash_threads(unsigned *out, git_config *cfg)
{
    const char *key = "roar.hashThreads";
    git_buf b = {0};
    int rc = git_config_get_string_buf(&b, cfg, key), error = 0;
    unsigned long v = 0;
    const char *p;

    *out = roar_pool_default_threads();
    if (rc == GIT_ENOTFOUND)
        return 0;
    if (rc < 0) {
        const git_error *e = git_error_last();
        return roar_error_set(ROAR_ERROR, "cannot read %s: %s", key, e ? e->message : "error");
    }
    for (p = b.ptr; *p >= '0' && *p <= '9' && v <= MAX_HASH_THREADS; p++)
        v = v * 10 + (unsigned)(*p - '0');
    if (p == b.ptr || *p || v > MAX_HASH_THREADS)
        error = roar_error_set(ROAR_EINVALID, "bad %s: '%s' is not a count from 0 to %d", key,
                               b.ptr, MAX_HASH_THREADS);
    else
        *out = (unsigned)v;
    git_buf_dispose(&b);
    return error;
}

int roar_run_config_read(roar_run_config *out, roar_repo *repo)
{
    git_config *cfg = NULL;
    roar_buf path = ROAR_BUF_INIT;
    int error;

    memset(out, 0, sizeof(*out));
    roar_buf_init(&out->roarignore);
    /* A snapshot: one consistent view, and multivar iteration needs one anyway. */
    if (git_repository_config_snapshot(&cfg, roar_repo_git(repo)) < 0) {
        const git_error *e = git_error_last();
        return roar_error_set(ROAR_ERROR, "cannot read the git config: %s",
                              e ? e->message : "error");
    }
    if ((error = get_duration(&out->wait_descendants_ms, cfg, "roar.waitDescendants",
                              DEFAULT_WAIT_DESCENDANTS_MS)) < 0 ||
        (error = get_duration(&out->hash_wait_ms, cfg, "roar.hashWait", DEFAULT_HASH_WAIT_MS)) <
            0 ||
        (error = get_hash_threads(&out->hash_threads, cfg)) < 0 ||
        (error = get_multi(&out->env, &out->nenv, cfg, "roar.env")) < 0 ||
        (error = get_multi(&out->exclude, &out->nexclude, cfg, "roar.exclude")) < 0 ||
        (error = get_multi(&out->include, &out->ninclude, cfg, "roar.include")) < 0)
        goto cleanup;
    if ((error = roar_buf_printf(&path, "%s/.roarignore", roar_repo_worktree(repo))) < 0 ||
        (error = read_file(&out->roarignore, &out->has_roarignore, path.ptr)) < 0)
        goto cleanup;

cleanup:
    git_config_free(cfg);
    roar_buf_dispose(&path);
    return error;
}

static void strv_free(char **v, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void roar_run_config_dispose(roar_run_config *cfg)
{
    if (!cfg)
        return;
    strv_free(cfg->env, cfg->nenv);
    strv_free(cfg->exclude, cfg->nexclude);
    strv_free(cfg->include, cfg->ninclude);
    roar_buf_dispose(&cfg->roarignore);
    memset(cfg, 0, sizeof(*cfg));
}

int roar_run_find_preload(roar_buf *out)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    roar_buf installed = ROAR_BUF_INIT;
    char *slash, *real;
    int error = 0;

    roar_buf_clear(out);
    if (n <= 0)
        return roar_error_set_errno(ROAR_ERROR, "cannot find the git-roar executable");
    exe[n] = '\0';
    if ((slash = strrchr(exe, '/')))
        *slash = '\0';
    if ((error = roar_buf_printf(out, "%s/lib/roar/libroar-preload.so", exe)) < 0)
        goto cleanup;
    if (access(out->ptr, R_OK) == 0)
        goto cleanup;
    if ((error = roar_buf_printf(&installed, "%s/../lib/roar/libroar-preload.so", exe)) < 0)
        goto cleanup;
    if (access(installed.ptr, R_OK) == 0 && (real = realpath(installed.ptr, NULL))) {
        roar_buf_clear(out);
        error = roar_buf_puts(out, real);
        free(real);
        goto cleanup;
    }
    error = roar_error_set(ROAR_ENOTFOUND,
                           "cannot find the preload library: neither '%s' nor '%s' exists",
                           out->ptr, installed.ptr);
    roar_buf_clear(out);

cleanup:
    roar_buf_dispose(&installed);
    return error;
}

/* ---- the job ------------------------------------------------------------------------ */

static int add_files(roar_job *job, roar_role role, const roar_collector_file *v, size_t n)
{
    size_t i;
    int error;
    for (i = 0; i < n; i++)
        if ((error = roar_job_add_edge(job, role, v[i].path, v[i].id_known ? v[i].id : NULL,
                                       v[i].size)) < 0)
            return error;
    return 0;
}

/* The `step` lines (SPEC §4.9): each output's inputs, written only where narrower than
 * every input. */
static int add_steps(roar_job *job, const roar_collector_result *res)
{
    size_t n = res->output_count, i;
    const size_t **deps = calloc(n + 1, sizeof(*deps));
    size_t *count = calloc(n + 1, sizeof(*count));
    bool *all = calloc(n + 1, sizeof(*all));
    int error = 0;

    if (!deps || !count || !all) {
        error = roar_error_set(ROAR_ENOMEM, "out of memory");
        goto done;
    }
    for (i = 0; i < n; i++) {
        deps[i] = res->deps[i].ins;
        count[i] = res->deps[i].count;
        all[i] = res->deps[i].all;
    }
    error = roar_steps_from_deps(&job->steps, res->input_count, n, deps, count, all);
done:
    free(deps);
    free(count);
    free(all);
    return error;
}

int roar_run_job_build(roar_job *job, size_t *redacted, roar_repo *repo, const roar_run_meta *meta,
                       const roar_collector_result *res)
{
    roar_buf b = ROAR_BUF_INIT;
    char **argv = NULL;
    size_t i;
    int error = 0, st = res->wait_status;
    bool dirty = false;

    /* SPEC §8: the command as asked, with secrets replaced. */
    *redacted = 0;
    if ((error = roar_redact_argv(&argv, redacted, meta->argv, meta->argc)) < 0)
        goto cleanup;
    if ((error = roar_job_set_argv(job, (const char *const *)argv, meta->argc)) < 0)
        goto cleanup;
    if (!(job->cwd = strdup(meta->cwd)) || !(job->tracer = strdup(meta->tracer)) ||
        (meta->host && !(job->host = strdup(meta->host))) ||
        (meta->user && !(job->user = strdup(meta->user)))) {
        error = roar_error_set(ROAR_ENOMEM, "out of memory");
        goto cleanup;
    }
    if (meta->base) {
        job->has_base = true;
        memcpy(job->base, meta->base, ROAR_OID_HEXSZ);
        job->base[ROAR_OID_HEXSZ] = '\0';
    }
    job->start_ms = res->start_ms;
    job->end_ms = res->end_ms;
    if (WIFSIGNALED(st)) {
        job->end_kind = ROAR_END_SIGNAL;
        job->end_code = WTERMSIG(st);
    } else {
        job->end_kind = ROAR_END_EXIT;
        job->end_code = WIFEXITED(st) ? WEXITSTATUS(st) : 0;
    }

    /* roar.env: named variables only; a secret-looking name keeps its name, not its
     * value, so that the record still says the variable was set. */
    for (i = 0; meta->cfg && i < meta->cfg->nenv; i++) {
        const char *name = meta->cfg->env[i], *value = getenv(name);
        size_t j;
        bool dup = false;
        if (!value)
            continue;
        for (j = 0; j < i && !dup; j++)
            dup = !strcmp(meta->cfg->env[j], name);
        if (dup)
            continue;
        roar_buf_clear(&b);
        if (roar_redact_env_name(name)) {
            error = roar_buf_puts(&b, ROAR_REDACTED);
            (*redacted)++;
        } else {
            error = roar_redact_text(&b, redacted, value);
        }
        if (error < 0 || (error = roar_job_add_env(job, name, b.ptr)) < 0)
            goto cleanup;
    }

    if ((error = add_files(job, ROAR_ROLE_IN, res->inputs, res->input_count)) < 0 ||
        (error = add_files(job, ROAR_ROLE_OUT, res->outputs, res->output_count)) < 0 ||
        (error = add_files(job, ROAR_ROLE_DEL, res->deletions, res->deletion_count)) < 0)
        goto cleanup;
    for (i = 0; i < res->gap_count; i++)
        if ((error = roar_job_add_incomplete(job, res->gaps[i].reason, res->gaps[i].has_count,
                                             res->gaps[i].count, res->gaps[i].path)) < 0)
            goto cleanup;
    if (res->deps && (error = add_steps(job, res)) < 0)
        goto cleanup;

    /* SPEC §5.1 dirty: some input inside the work tree is not what HEAD holds. */
    for (i = 0; i < res->input_count && !dirty; i++) {
        const roar_collector_file *f = &res->inputs[i];
        bool d = true;
        if (!f->inside)
            continue;
        if (roar_repo_path_is_dirty(&d, repo, f->path, f->id_known ? f->id : NULL) < 0) {
            roar_error_clear();
            d = true; /* cannot show it equals HEAD's */
        }
        dirty = d;
    }
    job->dirty = dirty ? 1 : 0;

cleanup:
    roar_redact_argv_free(argv, meta->argc);
    roar_buf_dispose(&b);
    return error;
}
