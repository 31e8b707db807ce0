/* The collector's loop: fork the command gated, drain the source, canonicalise paths,
 * apply events to fdstate, then have the hashes served (collector_hash.c), the shims'
 * round trips answered (collector_shim.c) and, at the end, the result built
 * (collector_result.c). */
#include "trace/collector.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "trace/collector_internal.h"
#include "util/privdrop.h"
#include "util/keymap.h"
#include "trace/ring_layout.h"
#include "util/err.h"
#include "util/timefmt.h"

extern char **environ;

/* How often the loop wakes up without a request: the ring has no wake-ups (a syscall
 * per event would cost the traced program ~6 µs), so the collector polls it. */
#define TICK_MS 2
#define REAP_TICKS 50

static void *const PRESENT = (void *)&PRESENT;

/* ---- paths ---------------------------------------------------------------------------- */

/* The form fdstate is fed: canonical absolute (SPEC §4.2), i.e. `<top>/<rel>` inside the
 * work tree, the resolved path outside, the normalised path in a git dir. One form for
 * every event, so that fdstate's byte comparisons mean "same name"; hashing can open
 * it as is, and mapping it again at the end gives the recorded form. */
static const char *feed_path(collector *c, roar_buf *out, const char *path, roar_path_kind *kind)
{
    roar_path_kind k;
    if (!kind)
        kind = &k;
    if (roar_pathcanon_map(&c->tmp, kind, c->opts->canon, path) < 0) {
        c->bad++;
        return path;
    }
    roar_buf_clear(out);
    if (*kind == ROAR_PATH_WORKTREE) {
        if (roar_buf_put(out, c->opts->worktree, c->wtlen) < 0 ||
            (strcmp(c->tmp.ptr, ".") != 0 &&
             (roar_buf_putc(out, '/') < 0 || roar_buf_put(out, c->tmp.ptr, c->tmp.size) < 0)))
            return path;
    } else if (roar_buf_put(out, c->tmp.ptr, c->tmp.size) < 0) {
        return path;
    }
    return out->ptr;
}

/* ---- events ---------------------------------------------------------------------------- */

static bool is_known(collector *c, uint32_t tgid)
{
    return roar_keymap_get(&c->known, &tgid, sizeof(tgid)) != NULL;
}

static void set_known(collector *c, uint32_t tgid, bool known)
{
    if (!known)
        roar_keymap_remove(&c->known, &tgid, sizeof(tgid));
    else if (roar_keymap_put(&c->known, &tgid, sizeof(tgid), PRESENT) < 0)
        c->bad++;
}

static void apply(collector *c, const roar_event *ev)
{
    if (roar_fdstate_apply(c->st, ev, NULL) < 0) {
        c->bad++;
        roar_error_clear();
    }
    c->res->events++;
}

/* Applies one decoded event: paths canonicalised, processes made by clones the shim
 * cannot see derived from their parent, executables fed to the filter. */
static void process(collector *c, const roar_event *in)
{
    roar_event ev = *in;
    roar_path_kind kind = ROAR_PATH_OUTSIDE;

    if (ev.path)
        ev.path = feed_path(c, &c->fed1, ev.path, &kind);
    if (ev.path2)
        ev.path2 = feed_path(c, &c->fed2, ev.path2, NULL);

    switch (ev.h.type) {
    case ROAR_EV_FORK:
        if (ev.h.ret >= 0 && !(ev.h.flags & CLONE_THREAD))
            set_known(c, ev.h.pid2, true);
        break;
    case ROAR_EV_EXEC:
        /* glibc's system/popen/posix_spawn clone without our fork wrapper: the new
         * image announces itself with pid2 = its parent; derive it from there. */
        if (!is_known(c, ev.h.tgid) && ev.h.pid2 && is_known(c, ev.h.pid2)) {
            roar_event fk;
            memset(&fk, 0, sizeof(fk));
            fk.h.type = ROAR_EV_FORK;
            fk.h.version = ROAR_EVENT_VERSION;
            fk.h.tgid = ev.h.pid2;
            fk.h.tid = ev.h.pid2;
            fk.h.pid2 = ev.h.tgid;
            fk.h.ret = ev.h.tgid;
            fk.h.fd = fk.h.fd2 = -1;
            apply(c, &fk);
        }
        set_known(c, ev.h.tgid, true);
        if (kind == ROAR_PATH_OUTSIDE && ev.path && ev.h.ret >= 0 &&
            roar_pathfilter_add_exec(c->opts->filter, ev.path) < 0)
            c->bad++;
        break;
    case ROAR_EV_EXIT:
        set_known(c, ev.h.tgid, false);
        break;
    default:
        break;
    }

    apply(c, &ev);

    roar_collector__serve_hashes(c, ev.h.type == ROAR_EV_ABOUT_TO_DESTROY);
    roar_collector__early_queue(c);
    if (ev.h.type == ROAR_EV_ABOUT_TO_DESTROY)
        roar_collector__ctl_record_done(c, ev.h.seq);
}

/* Reads the source dry. */
static void drain(collector *c, int wait_ms)
{
    for (;;) {
        size_t len = 0, used = 0;
        roar_event ev;
        if (c->src->read(c->src->self, c->rec, ROAR_RING_RECORD_MAX, &len, wait_ms) < 0) {
            roar_error_clear(); /* the source counted it as lost */
            continue;
        }
        if (len == 0)
            return;
        if (roar_event_decode(&ev, c->rec, len, &used) < 0 || used != len) {
            /* Bytes from inside arbitrary programs: a bad record is counted, not fatal. */
            roar_error_clear();
            c->bad++;
            continue;
        }
        roar_collector__forward(c, &ev);
        process(c, &ev);
    }
}

/* ---- the command ------------------------------------------------------------------------ */

static volatile sig_atomic_t forward_to;

static void forward_signal(int sig)
{
    pid_t pid = (pid_t)forward_to;
    int saved = errno;
    if (pid > 0)
        kill(pid, sig);
    errno = saved;
}

/* Set on every SIGCHLD: the loop calls waitpid only then, not on each 2 ms tick. */
static volatile sig_atomic_t child_exited = 1;

static void wake_on_child(int sig)
{
    (void)sig; /* it also interrupts poll(), which SA_RESTART never restarts */
    child_exited = 1;
}

typedef struct {
    struct sigaction intr, quit, term, hup, chld;
} saved_signals;

static void signals_take(saved_signals *s)
{
    struct sigaction ign, fwd, dfl;
    memset(&ign, 0, sizeof(ign));
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    memset(&fwd, 0, sizeof(fwd));
    fwd.sa_handler = forward_signal;
    sigemptyset(&fwd.sa_mask);
    fwd.sa_flags = SA_RESTART;
    /* As system() does: the terminal's ^C and ^\ go to the whole process group, so
     * the command gets them; we must survive to record the job. */
    sigaction(SIGINT, &ign, &s->intr);
    sigaction(SIGQUIT, &ign, &s->quit);
    sigaction(SIGTERM, &fwd, &s->term);
    sigaction(SIGHUP, &fwd, &s->hup);
    /* With SIGCHLD ignored the kernel reaps our children itself and waitpid would
     * never report the command's status; the command still gets the caller's setting.
     * A handler (not SIG_DFL) so that an exit interrupts the loop's poll at once
     * instead of at the next tick; SA_RESTART keeps the other calls going. */
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = wake_on_child;
    sigemptyset(&dfl.sa_mask);
    dfl.sa_flags = SA_RESTART;
    sigaction(SIGCHLD, &dfl, &s->chld);
}

static void signals_restore(const saved_signals *s)
{
    sigaction(SIGINT, &s->intr, NULL);
    sigaction(SIGQUIT, &s->quit, NULL);
    sigaction(SIGTERM, &s->term, NULL);
    sigaction(SIGHUP, &s->hup, NULL);
    sigaction(SIGCHLD, &s->chld, NULL);
}

/* In the child: the dispositions the user gave git roar, then wait for the gate. */
static void child_main(int gate, int report, const saved_signals *s, char *const argv[],
                       char *const envp[], int inherit_fd)
{
    struct sigaction dfl;
    char go = 0;
    int err;
    ssize_t r;

    signals_restore(s);
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    /* A handler of ours would not survive exec anyway; make that explicit. */
    if (s->term.sa_handler != SIG_IGN)
        sigaction(SIGTERM, &dfl, NULL);
    if (s->hup.sa_handler != SIG_IGN)
        sigaction(SIGHUP, &dfl, NULL);
    /* SPEC §8: under sudo, the user's ids before anything of the command can run. */
    if ((err = roar_privdrop_child()) != 0) {
        static const char msg[] = "roar: cannot drop root's privileges for the command\n";
        if (write(2, msg, sizeof(msg) - 1) < 0) {
        }
    }
    /* The source's fd for processes that switch users (the preload ring): only a
     * command that starts as root can switch to another user without a setuid program
     * (for which the shim gives up anyway), so only then does it get one more fd. */
    if (!err && inherit_fd >= 0 && geteuid() == 0)
        fcntl(inherit_fd, F_SETFD, 0);
    do
        r = read(gate, &go, 1);
    while (r < 0 && errno == EINTR);
    if (r != 1 || go != 'g')
        _exit(126); /* the collector gave up before releasing us */
    if (!err)
        err = roar_collector__child_exec(argv, envp);
    while (write(report, &err, sizeof(err)) < 0 && errno == EINTR)
        ;
    _exit(err == ENOENT || err == ENOTDIR ? 127 : 126);
}

/* SPEC §4.1: the regular files behind the fds the command inherits, as opens of its own. */
static int record_inherited(collector *c)
{
    roar_collector__inherited *v;
    size_t n, i;
    int error;

    if ((error = roar_collector__inherited_list(&v, &n)) < 0)
        return error;
    for (i = 0; i < n; i++) {
        roar_event ev;
        memset(&ev, 0, sizeof(ev));
        ev.h.type = ROAR_EV_INHERIT;
        ev.h.version = ROAR_EVENT_VERSION;
        ev.h.tgid = ev.h.tid = (uint32_t)c->root;
        ev.h.fd = v[i].fd;
        ev.h.fd2 = -1;
        ev.h.ret = v[i].fd;
        ev.h.flags = v[i].flags;
        ev.h.has_ident = 1;
        ev.h.dev = v[i].ident.dev;
        ev.h.ino = v[i].ident.ino;
        ev.h.size = v[i].ident.size;
        ev.h.mtime_ns = v[i].ident.mtime_ns;
        ev.h.ctime_ns = v[i].ident.ctime_ns;
        ev.h.mode = v[i].ident.mode;
        ev.path = v[i].path;
        process(c, &ev);
    }
    roar_collector__inherited_free(v, n);
    return 0;
}

static void apply_exit(collector *c, pid_t pid, int status)
{
    roar_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.h.type = ROAR_EV_EXIT;
    ev.h.version = ROAR_EVENT_VERSION;
    ev.h.tgid = ev.h.tid = (uint32_t)pid;
    ev.h.ret = status;
    ev.h.fd = ev.h.fd2 = -1;
    process(c, &ev);
}

/* ---- the run ------------------------------------------------------------------------------ */

static void collector_dispose(collector *c)
{
    size_t i;
    roar_collector__ctl_close_all(c);
    roar_collector__early_dispose(c);
    free(c->clients);
    free(c->waiting);
    for (i = 0; i < c->ndeferred; i++)
        free(c->deferred[i].path);
    free(c->deferred);
    roar_collector__outer_close(c);
    roar_keymap_dispose(&c->known);
    roar_keymap_dispose(&c->seen);
    roar_keymap_dispose(&c->timedout);
    roar_fdstate_free(c->st);
    roar_buf_dispose(&c->fed1);
    roar_buf_dispose(&c->fed2);
    roar_buf_dispose(&c->tmp);
    free(c->rec);
}

int roar_collector_run(roar_collector_result *out, const roar_collector_opts *opts,
                       roar_trace_source *source, char *const argv[])
{
    collector c;
    char *const *base = opts->envp ? opts->envp : environ;
    char **envp = NULL;
    const char *token = source->preload_token ? source->preload_token(source->self) : NULL;
    roar_buf prog = ROAR_BUF_INIT;
    saved_signals sigs;
    int gate[2] = {-1, -1}, report[2] = {-1, -1}, error = 0, status = 0;
    bool root_done = false, signals_set = false, subreaper = false;
    int64_t root_exit = 0;
    size_t running = 0, nexits = 0, aexits = 0;
    unsigned ticks = 0;
    struct {
        pid_t pid;
        int status;
    } *exits = NULL;
    unsigned why;

    memset(out, 0, sizeof(*out));
    memset(&c, 0, sizeof(c));
    c.opts = opts;
    c.src = source;
    c.res = out;
    c.wtlen = opts->worktree ? strlen(opts->worktree) : 0;
    c.lfd = source->control_fd ? source->control_fd(source->self) : -1;
    c.outer_fd = -1;
    roar_buf_init(&c.fed1);
    roar_buf_init(&c.fed2);
    roar_buf_init(&c.tmp);
    if ((error = roar_fdstate_new(&c.st)) < 0)
        goto cleanup;
    if (!(c.rec = malloc(ROAR_RING_RECORD_MAX))) {
        error = roar_error_set(ROAR_ENOMEM, "out of memory");
        goto cleanup;
    }
    roar_collector__outer_open(&c, environ);

    /* SPEC §8: a program the shim cannot load into runs without it, and the job says
     * so; its children (a static busybox sh starting dynamic programs) are lost too.
     * Only a source with a shim to load (a token) has this gap: eBPF sees them all. */
    if (token &&
        roar_collector__resolve(&prog, argv[0], roar_collector__env_get(base, "PATH")) == 0 &&
        (why = roar_collector__exec_check(prog.ptr)) != 0) {
        roar_path_kind kind;
        const char *p = prog.ptr;
        char *abs = realpath(prog.ptr, NULL);
        if (abs && roar_pathcanon_map(&c.tmp, &kind, opts->canon, abs) == 0)
            p = c.tmp.ptr;
        error = roar_collector__gap_add(out, roar_event_incomplete_name(why), false, 0, p);
        free(abs);
        if (error < 0)
            goto cleanup;
        token = NULL;
    }
    roar_error_clear();
    if ((error = roar_collector__env_build(
             &envp, base, source->child_env ? source->child_env(source->self) : NULL, token)) < 0)
        goto cleanup;

    if (pipe2(gate, O_CLOEXEC) < 0 || pipe2(report, O_CLOEXEC) < 0) {
        error = roar_error_set_errno(ROAR_ERROR, "cannot create a pipe");
        goto cleanup;
    }
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
        error = roar_error_set_errno(ROAR_ERROR, "cannot become a child subreaper");
        goto cleanup;
    }
    subreaper = true;
    signals_take(&sigs);
    signals_set = true;
    child_exited = 1;

    out->start_ms = roar_time_now_ms();
    c.root = fork();
    if (c.root < 0) {
        error = roar_error_set_errno(ROAR_ERROR, "cannot fork");
        goto cleanup;
    }
    if (c.root == 0)
        child_main(gate[0], report[1], &sigs, argv, envp,
                   source->child_fd ? source->child_fd(source->self) : -1);
    forward_to = c.root;
    close(gate[0]);
    close(report[1]);
    gate[0] = report[1] = -1;

    set_known(&c, (uint32_t)c.root, true);
    if ((error = record_inherited(&c)) < 0 || (error = source->start(source->self, c.root)) < 0) {
        kill(c.root, SIGKILL);
        waitpid(c.root, NULL, 0);
        goto cleanup;
    }

    /* Release the command; the report pipe closes on a successful exec. */
    {
        char go = 'g';
        int err = 0;
        ssize_t r;
        while (write(gate[1], &go, 1) < 0 && errno == EINTR)
            ;
        close(gate[1]);
        gate[1] = -1;
        do
            r = read(report[0], &err, sizeof(err));
        while (r < 0 && errno == EINTR);
        if (r == (ssize_t)sizeof(err))
            out->exec_errno = err;
        close(report[0]);
        report[0] = -1;
    }

    for (;;) {
        pid_t pid;
        int st;
        bool none_left = false, reap;
        size_t i;

        if (c.lfd < 0 && source->wait)
            source->wait(source->self, TICK_MS);
        else
            roar_collector__ctl_poll(&c, TICK_MS);
        drain(&c, c.nwaiting ? TICK_MS : 0);
        /* Orphans come to us (subreaper): every exit of the job is ours to see. */
        nexits = 0;
        /* Only after a SIGCHLD (cleared first: an exit after the last waitpid sets it
         * again), and every REAP_TICKS anyway in case the caller blocked SIGCHLD. */
        reap = child_exited || ++ticks % REAP_TICKS == 0;
        child_exited = 0;
        while (reap && (pid = waitpid(-1, &st, WNOHANG)) != 0) {
            if (pid < 0) {
                if (errno == EINTR)
                    continue;
                none_left = errno == ECHILD;
                break;
            }
            if (pid == c.root) {
                status = st;
                root_done = true;
                root_exit = roar_time_mono_ms();
                forward_to = 0;
            }
            if (ROAR_ALLOC_GROW(exits, nexits + 1, aexits) < 0) {
                c.bad++;
                continue;
            }
            exits[nexits].pid = pid;
            exits[nexits++].status = st;
        }
        if (nexits) {
            /* A process's last events are in the ring before its exit: take them first. */
            drain(&c, 0);
            for (i = 0; i < nexits; i++)
                apply_exit(&c, exits[i].pid, exits[i].status);
        }
        if (none_left)
            break;
        if (root_done && roar_time_mono_ms() - root_exit >= (int64_t)opts->wait_descendants_ms) {
            /* SPEC §4.1: still running after roar.waitDescendants: stop tracing them. */
            running = roar_collector__count_descendants(getpid());
            break;
        }
    }
    out->end_ms = roar_time_now_ms();
    out->wait_status = status;
    if (source->stop)
        source->stop(source->self);
    drain(&c, running ? 0 : 5);
    roar_collector__ctl_close_all(&c);
    roar_collector__add_moved(c.st, &c.bad);
    roar_collector__serve_hashes(&c, false);
    error = roar_collector__build_result(&c, running);
    out->finish_ms = roar_time_now_ms() - out->end_ms;

cleanup:
    forward_to = 0;
    if (signals_set)
        signals_restore(&sigs);
    if (subreaper)
        prctl(PR_SET_CHILD_SUBREAPER, 0);
    if (gate[0] >= 0)
        close(gate[0]);
    if (gate[1] >= 0)
        close(gate[1]);
    if (report[0] >= 0)
        close(report[0]);
    if (report[1] >= 0)
        close(report[1]);
    roar_collector__env_free(envp);
    roar_buf_dispose(&prog);
    free(exits);
    collector_dispose(&c);
    if (error < 0)
        roar_collector_result_dispose(out);
    return error;
}
