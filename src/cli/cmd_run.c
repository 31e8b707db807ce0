/* git roar run: trace a command, record its job as a pending record and in the cache,
 * say what it did in one line, and exit as the command did (SPEC §3 `run`, §4, §5.1). */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/run.h"
#include "gitstore/index_seed.h"
#include "gitstore/pending.h"
#include "graph/cache.h"
#include "graph/hash.h"
#include "graph/oid.h"
#include "graph/record.h"
#include "trace/ebpf/loader.h"
#include "trace/privdrop_source.h"
#include "util/privdrop.h"
#include "util/err.h"
#include "util/pathlex.h"
#include "util/quote.h"

typedef struct {
    roar_cache *cache; /* NULL when the cache could not be opened */
} run_hash_ctx;

/* The collector's hash callback: blob ids through the stat cache, verified against the
 * identity the tracer captured at open (SPEC §4.6). */
static int run_hash(char out[ROAR_FDSTATE_OIDSZ + 1], uint64_t *out_size, const char *path,
                    const roar_ident *expected, void *payload)
{
    run_hash_ctx *h = payload;
    roar_stat_key key, want;
    int error;

    if (expected) {
        want.dev = expected->dev;
        want.ino = expected->ino;
        want.size = expected->size;
        want.mtime_ns = expected->mtime_ns;
        want.ctime_ns = expected->ctime_ns;
    }
    if ((error = roar_hash_file(out, &key, h->cache, path, expected ? &want : NULL)) < 0) {
        /* Changed or gone since the tracer saw it open (the eBPF tracer cannot hold the
         * call back): the cache may still know the content under that identity. */
        if (error != ROAR_ECHANGED && error != ROAR_ENOTFOUND)
            return error;
        if (!expected || roar_hash_cache_lookup(out, h->cache, &want) < 0)
            return error;
        roar_error_clear();
        key = want;
    }
    *out_size = key.size;
    return 0;
}

/* The collector's hashing threads: a file's blob id through its fd, no cache (SQLite
 * stays on the collector's thread; a file just written would be racy there anyway). */
static int run_hash_fd(char out[ROAR_FDSTATE_OIDSZ + 1], int fd, const roar_ident *expected)
{
    roar_stat_key want;
    want.dev = expected->dev;
    want.ino = expected->ino;
    want.size = expected->size;
    want.mtime_ns = expected->mtime_ns;
    want.ctime_ns = expected->ctime_ns;
    return roar_hash_fd(out, NULL, fd, &want);
}

/* Seeds the stat cache from git's index, only when the index changed since the last
 * seed (its identity is kept in the cache's meta), so a run costs a stat, not a walk. */
static void seed_from_index(roar_cache *cache, roar_repo *repo)
{
    roar_buf path = ROAR_BUF_INIT, key = ROAR_BUF_INIT, seen = ROAR_BUF_INIT, now = ROAR_BUF_INIT;
    struct stat st;

    /* The file's identity, not its contents: loading a large index is what we skip. */
    if (!cache || roar_buf_printf(&path, "%s/index", roar_repo_gitdir(repo)) < 0 ||
        stat(path.ptr, &st) < 0)
        goto cleanup;
    if (roar_buf_printf(&key, "index-seed:%s", path.ptr) < 0 ||
        roar_buf_printf(&now, "%llu %llu %lld.%09ld %llu", (unsigned long long)st.st_dev,
                        (unsigned long long)st.st_ino, (long long)st.st_mtim.tv_sec,
                        st.st_mtim.tv_nsec, (unsigned long long)st.st_size) < 0)
        goto cleanup;
    if (roar_cache_meta_get(&seen, cache, key.ptr) == 0 && !strcmp(seen.ptr, now.ptr))
        goto cleanup;
    if (roar_index_seed_cache(NULL, cache, roar_repo_git(repo), roar_repo_worktree(repo)) == 0)
        roar_cache_meta_set(cache, key.ptr, now.ptr);

cleanup:
    /* Only an optimisation: whatever failed, hashing still gives the right ids. */
    roar_error_clear();
    git_error_clear();
    roar_buf_dispose(&path);
    roar_buf_dispose(&key);
    roar_buf_dispose(&seen);
    roar_buf_dispose(&now);
}

/* The directory the command runs in, relative to the top ("." there), or absolute when
 * it is outside the work tree (GIT_WORK_TREE elsewhere). */
static int cwd_of(roar_buf *out, const char *top)
{
    char *cwd = getcwd(NULL, 0), *real = cwd ? realpath(cwd, NULL) : NULL;
    const char *below;
    int error;

    if (!real) {
        free(cwd);
        return roar_error_set_errno(ROAR_ERROR, "cannot get the current directory");
    }
    below = roar_pathlex_below(real, top);
    error = roar_buf_puts(out, below ? (*below ? below : ".") : real);
    free(real);
    free(cwd);
    return error;
}

/* SPEC §5.1 `user`: the identity a commit would record as its author (git's
 * environment, then user.name and user.email), else the login name: in CI everyone is
 * root, and the git identity is what tells the team who ran it. */
static char *user_name(roar_repo *repo)
{
    struct passwd *pw;
    git_config *cfg = NULL;
    git_buf name = {0}, email = {0};
    const char *n = getenv("GIT_AUTHOR_NAME"), *m = getenv("GIT_AUTHOR_EMAIL"), *u;
    roar_buf who = ROAR_BUF_INIT;
    char *result = NULL;

    if (git_repository_config_snapshot(&cfg, roar_repo_git(repo)) == 0) {
        if ((!n || !*n) && git_config_get_string_buf(&name, cfg, "user.name") == 0)
            n = name.ptr;
        if ((!m || !*m) && git_config_get_string_buf(&email, cfg, "user.email") == 0)
            m = email.ptr;
    }
    git_error_clear();
    if (!m || !*m)
        m = getenv("EMAIL");
    if (n && *n && m && *m && roar_buf_printf(&who, "%s <%s>", n, m) == 0) {
        result = roar_buf_detach(&who);
    } else {
        pw = getpwuid(geteuid());
        u = pw && pw->pw_name ? pw->pw_name : getenv("USER");
        result = u ? strdup(u) : NULL;
    }
    roar_buf_dispose(&who);
    git_buf_dispose(&name);
    git_buf_dispose(&email);
    git_config_free(cfg);
    return result;
}

/* "incomplete" lines as warnings, in the record's words. */
static void warn_gaps(const roar_job *job)
{
    roar_buf line = ROAR_BUF_INIT;
    size_t i;
    for (i = 0; i < job->incomplete_count; i++) {
        const roar_incomplete *g = &job->incomplete[i];
        roar_buf_clear(&line);
        if (roar_buf_puts(&line, g->reason) < 0 ||
            (g->has_count && roar_buf_printf(&line, " %llu", (unsigned long long)g->count) < 0) ||
            (g->path && (roar_buf_putc(&line, ' ') < 0 ||
                         roar_quote_path(&line, g->path, strlen(g->path)) < 0)))
            break;
        roar_cli_warning("incomplete %s", line.ptr);
    }
    roar_buf_dispose(&line);
}

/* The event source `-t` asks for. SPEC §3: auto = eBPF when it can load, else preload.
 * The eBPF tracer is loaded here (or by roar_run_prepare, earlier: the outcome waits
 * for check_tracer), before anything is written, so that a fatal error
 * (`-t ebpf` without root) leaves no trace. For auto, a tracer that is built in but
 * cannot load (not root, a kernel that refuses it) is said in one line on stderr,
 * unless -q: the job is still complete, the preload tracer gives every SPEC §4
 * guarantee; a build without the tracer says nothing (docs/run.md). */
static int load_tracer(roar_trace_source *out, const char *tracer)
{
    int error;

    memset(out, 0, sizeof(*out));
    if (!strcmp(tracer, "preload"))
        return 0;
    /* ROAR_EBPF_RING_BYTES: the kernel ring's size (a power of two, 4 KiB to 1 GiB;
     * docs/ebpf.md), for jobs whose bursts of events overrun the default; also how the
     * tests make a job lose events. */
    const char *ring = getenv("ROAR_EBPF_RING_BYTES");
    roar_ebpf_opts opts = {0};
    if (ring && *ring) {
        char *end;
        unsigned long long v = strtoull(ring, &end, 10);
        if (*end || !v)
            return roar_error_set(ROAR_EINVALID, "bad ROAR_EBPF_RING_BYTES '%s'", ring);
        opts.ring_bytes = (size_t)v;
    }
    /* Under sudo, loading is one of the few things done as root (SPEC §8). */
    if ((error = roar_privdrop_become_root()) == 0) {
        error = roar_ebpf_source_new(out, &opts);
        roar_privdrop_become_user();
    }
    if (error == 0)
        roar_privdrop_wrap_source(out);
    return error;
}

/* The tracer roar_run_prepare loaded, kept for the first roar_run_traced. Its error
 * waits until then too, so that errors come in the order they always did. */
static struct {
    bool ready;
    char tracer[16];
    roar_trace_source source;
    int error;
    char message[1024];
} early;

void roar_run_prepare(const char *tracer)
{
    char id[ROAR_OID_HEXSZ + 1];

    if (strlen(tracer) >= sizeof(early.tracer))
        return;
    strcpy(early.tracer, tracer);
    if ((early.error = load_tracer(&early.source, tracer)) != 0)
        snprintf(early.message, sizeof(early.message), "%s", roar_error_last());
    roar_error_clear();
    early.ready = true;
    /* OpenSSL's first digest loads its configuration and providers (~4M instructions):
     * the job id needs one anyway. */
    if (roar_blob_id_of_buffer(id, "", 0) < 0)
        roar_error_clear();
}

const char *roar_run_tracer_choice(const char *option, roar_repo *repo)
{
    static char chosen[16];
    git_config *cfg = NULL;
    git_buf value = {0};

    if (option)
        return option;
    if (chosen[0])
        return chosen;
    strcpy(chosen, "auto");
    if (repo && git_repository_config_snapshot(&cfg, roar_repo_git(repo)) == 0 &&
        git_config_get_string_buf(&value, cfg, "roar.tracer") == 0) {
        if (strcmp(value.ptr, "auto") && strcmp(value.ptr, "ebpf") && strcmp(value.ptr, "preload"))
            roar_cli_die("bad roar.tracer value '%s' (expected auto, ebpf or preload)", value.ptr);
        strcpy(chosen, value.ptr);
    }
    git_error_clear();
    git_buf_dispose(&value);
    git_config_free(cfg);
    return chosen;
}

static void check_tracer(roar_trace_source *out, const char *tracer, bool quiet)
{
    int error;

    if (early.ready && !strcmp(early.tracer, tracer)) {
        *out = early.source;
        if ((error = early.error) != 0)
            roar_error_set(error, "%s", early.message);
        early.ready = false;
    } else {
        error = load_tracer(out, tracer);
    }
    if (error == 0)
        return;
    if (!strcmp(tracer, "ebpf"))
        roar_cli_die_error();
#ifdef ROAR_HAVE_EBPF
    /* auto: no privileges, or a kernel whose policy refuses BPF, is the expected case
     * for most users and goes unsaid (set roar.tracer=preload to skip trying); a
     * program the verifier refused is a bug of ours and is said. */
    if (!quiet && error != ROAR_EUNSUPPORTED)
        fprintf(stderr, "roar: eBPF unavailable (%s); using the preload tracer\n",
                roar_error_last());
#else
    (void)quiet;
#endif
    roar_error_clear();
    memset(out, 0, sizeof(*out));
}

static void open_source(roar_trace_source *out, const char *preload_lib, unsigned hash_wait_ms)
{
    if (out->self)
        return; /* the eBPF tracer, loaded by check_tracer */
    if (roar_preload_source_new(out, preload_lib, hash_wait_ms) < 0)
        roar_cli_die_error();
}

/* After the job is safe: die as the command died (SPEC §3), so that a shell loop
 * stops on ^C. No core dump of ours: the command's was the one that mattered. */
void roar_run_reraise(int sig)
{
    struct rlimit no_core = {0, 0};
    sigset_t set;

    fflush(stdout);
    fflush(stderr);
    setrlimit(RLIMIT_CORE, &no_core);
    signal(sig, SIG_DFL);
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
    _exit(128 + sig); /* a signal whose default is not to terminate */
}

int roar_run_traced(roar_job *job, int *out_signal, roar_repo *repo, const char *tracer,
                    char **argv, size_t argc, bool quiet)
{
    roar_run_config cfg;
    roar_trace_source source;
    roar_pathcanon *canon = NULL;
    roar_pathfilter *filter = NULL;
    roar_pathfilter_opts fopts;
    roar_collector_opts copts;
    roar_collector_result res;
    run_hash_ctx hctx = {NULL};
    roar_run_meta meta;
    roar_record_fit_result fit;
    roar_buf lib = ROAR_BUF_INIT, path = ROAR_BUF_INIT, cwd = ROAR_BUF_INIT;
    roar_buf record = ROAR_BUF_INIT, key = ROAR_BUF_INIT, pending = ROAR_BUF_INIT;
    const char *gitdirs[2];
    char head[ROAR_OID_HEXSZ + 1], host[HOST_NAME_MAX + 1], *user = NULL;
    size_t redacted = 0;
    bool has_head;
    int status, sig = 0;

    memset(&source, 0, sizeof(source));
    memset(&res, 0, sizeof(res));
    check_tracer(&source, tracer, quiet);

    if (roar_repo_ensure_roar_dir(repo) < 0 || roar_run_config_read(&cfg, repo) < 0)
        roar_cli_die_error();
    if (!source.self && roar_run_find_preload(&lib) < 0)
        roar_cli_die_error();

    /* The cache is derived data: without it the job is still recorded (SPEC §6.1). */
    if (roar_buf_printf(&path, "%s/cache.db", roar_repo_roar_dir(repo)) < 0)
        roar_cli_die_error();
    if (roar_cache_open(&hctx.cache, path.ptr) < 0) {
        roar_cli_warning("%s; recording without the cache", roar_error_last());
        hctx.cache = NULL;
    }
    seed_from_index(hctx.cache, repo);

    gitdirs[0] = roar_repo_gitdir(repo);
    gitdirs[1] = roar_repo_commondir(repo);
    memset(&fopts, 0, sizeof(fopts));
    fopts.worktree_real = roar_repo_worktree(repo);
    fopts.home = getenv("HOME");
    fopts.tmpdir = getenv("TMPDIR");
    fopts.exclude = (const char *const *)cfg.exclude;
    fopts.nexclude = cfg.nexclude;
    fopts.include = (const char *const *)cfg.include;
    fopts.ninclude = cfg.ninclude;
    if (cfg.has_roarignore) {
        fopts.roarignore = cfg.roarignore.ptr;
        fopts.roarignore_len = cfg.roarignore.size;
    }
    if (roar_pathcanon_new(&canon, roar_repo_worktree(repo), gitdirs, 2) < 0 ||
        roar_pathfilter_new(&filter, &fopts) < 0 || cwd_of(&cwd, roar_repo_worktree(repo)) < 0 ||
        roar_pending_worktree_key(&key, repo) < 0 || roar_pending_dir(&pending, repo) < 0)
        roar_cli_die_error();

    /* Unborn: no base. Unreadable or broken: said before the command runs, since a job
     * recorded without its base (or with a bad one) could never be scoped. */
    has_head = roar_repo_head(head, repo) == 0;
    if (!has_head && roar_error_last_code() != ROAR_ENOTFOUND)
        roar_cli_die("%s; the command was not run", roar_error_last());
    roar_error_clear();
    if (gethostname(host, sizeof(host)) < 0)
        host[0] = '\0';
    host[sizeof(host) - 1] = '\0';
    user = user_name(repo);

    open_source(&source, lib.ptr, cfg.hash_wait_ms);

    memset(&copts, 0, sizeof(copts));
    copts.worktree = roar_repo_worktree(repo);
    copts.canon = canon;
    copts.filter = filter;
    copts.wait_descendants_ms = cfg.wait_descendants_ms;
    copts.hash_wait_ms = cfg.hash_wait_ms;
    copts.hash = run_hash;
    copts.hash_payload = &hctx;
    copts.hash_fd = run_hash_fd;
    copts.hash_threads = cfg.hash_threads;
    /* Only the eBPF tracer reports every way an O_APPEND fd can write before the end
     * (F_SETFL, RWF_NOAPPEND): an append's old content can be its prefix (docs/ebpf.md). */
    if (source.name && !strcmp(source.name, "ebpf"))
        copts.hash_prefix = roar_hash_fd_prefix;
    fflush(stdout);
    fflush(stderr);
    if (roar_collector_run(&res, &copts, &source, argv) < 0) {
        source.free(source.self);
        roar_cli_die_error();
    }
    source.free(source.self);
    if (res.exec_errno)
        roar_cli_error("cannot run '%s': %s", argv[0], strerror(res.exec_errno));

    meta.argv = (const char *const *)argv;
    meta.argc = argc;
    meta.cwd = cwd.ptr;
    meta.base = has_head ? head : NULL;
    meta.tracer = source.name;
    meta.host = host[0] ? host : NULL;
    meta.user = user;
    meta.cfg = &cfg;
    /* The command has run: a job over the record limits is cut to fit and says so,
     * never dropped (docs/record-format.md). */
    if (roar_run_job_build(job, &redacted, repo, &meta, &res) < 0 ||
        roar_record_fit(&fit, job) < 0 ||
        roar_record_serialize(&record, job) < 0)
        roar_cli_die("cannot record the job: %s", roar_error_last());
    if (fit.command_cut)
        roar_cli_warning("the command line is over the %zu-byte line limit: recorded cut, "
                         "%zu of %zu arguments cut or left out",
                         (size_t)ROAR_RECORD_MAX_LINE, fit.command_cut, (size_t)argc);
    if (fit.env_dropped)
        roar_cli_warning("%zu roar.env value(s) over the line limit left out", fit.env_dropped);
    if (fit.edges_dropped)
        roar_cli_warning("the record is over the %zu-byte limit: %zu input/output lines left "
                         "out",
                         (size_t)ROAR_RECORD_MAX_RECORD, fit.edges_dropped);

    /* The pending record is the durable copy: written and synced before the cache. */
    roar_buf_clear(&path);
    if (roar_pending_write(&path, pending.ptr, job->id, key.ptr, record.ptr, record.size) < 0)
        roar_cli_die("cannot record the job: %s", roar_error_last());
    if (hctx.cache) {
        if (roar_cache_begin(hctx.cache) < 0 ||
            roar_cache_job_put(hctx.cache, job) < 0 ||
            roar_cache_pending_mark(hctx.cache, job->id, roar_repo_gitdir(repo)) < 0 ||
            roar_cache_commit(hctx.cache) < 0) {
            roar_cli_warning("cannot add job %.7s to the cache: %s; it is safe in '%s'", job->id,
                             roar_error_last(), path.ptr);
            roar_cache_rollback(hctx.cache);
        }
    }

    if (!quiet) {
        int64_t ms = res.end_ms - res.start_ms;
        fprintf(stderr,
                "roar: job %.7s \xc2\xb7 %zu in \xc2\xb7 %zu out \xc2\xb7 %s %d \xc2\xb7 "
                "%lld.%02llds\n",
                job->id, res.input_count, res.output_count,
                job->end_kind == ROAR_END_SIGNAL ? "signal" : "exit", job->end_code,
                (long long)(ms / 1000), (long long)(ms % 1000 / 10));
        /* SPEC §8: what ran had the values; the record has *** in their place. */
        if (redacted)
            fprintf(stderr, "roar: redacted %zu secret value%s from the record\n", redacted,
                    redacted == 1 ? "" : "s");
    }
    warn_gaps(job);
    /* For tests and benchmarks (docs/run.md): what the end of the job cost. */
    if (getenv("ROAR_RUN_STATS"))
        fprintf(stderr,
                "roar: stats: %llu events, %llu hashed during the job, %llu at the end, "
                "%lld ms after the command\n",
                (unsigned long long)res.events, (unsigned long long)res.hashed_early,
                (unsigned long long)res.hashed_end, (long long)res.finish_ms);

    if (WIFSIGNALED(res.wait_status)) {
        sig = WTERMSIG(res.wait_status);
        status = 128 + sig;
    } else {
        status = WIFEXITED(res.wait_status) ? WEXITSTATUS(res.wait_status) : 0;
    }

    roar_collector_result_dispose(&res);
    roar_pathfilter_free(filter);
    roar_pathcanon_free(canon);
    roar_cache_free(hctx.cache);
    roar_run_config_dispose(&cfg);
    roar_buf_dispose(&lib);
    roar_buf_dispose(&path);
    roar_buf_dispose(&cwd);
    roar_buf_dispose(&record);
    roar_buf_dispose(&key);
    roar_buf_dispose(&pending);
    free(user);
    *out_signal = sig;
    return status;
}

int roar_cmd_run(roar_cli_ctx *ctx)
{
    roar_job job;
    int status, sig;

    if (roar_cli_opt_set(ctx, "message") && !roar_cli_opt_set(ctx, "commit"))
        roar_cli_usage_error(ctx->cmd, "-m needs --commit");
    roar_job_init(&job);
    status = roar_run_traced(&job, &sig, ctx->repo, roar_run_tracer_choice(roar_cli_opt_string(ctx, "tracer", NULL), ctx->repo),
                             ctx->argv, (size_t)ctx->argc, ctx->quiet);
    if (roar_cli_opt_set(ctx, "commit") && !sig)
        status = roar_cli_run_commit(ctx, &job, status);
    roar_job_dispose(&job);
    if (sig)
        roar_run_reraise(sig);
    return status;
}
