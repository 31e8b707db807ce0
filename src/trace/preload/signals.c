/* The shim's signal wrappers: a program's handler runs through a trampoline that
 * traces what it does, even when the signal interrupted the shim itself. Without it
 * the reentrancy guard (set inside every wrapper) made a handler's calls go untraced
 * whenever the signal landed in a wrapper: a file the handler created was missing from
 * the job, or, created unseen and appended to later, became an input with content made
 * during the job (issue 17). */
#include "trace/preload/shim.h"

#include <signal.h>
#include <string.h>

/* Set while a handler runs that interrupted a critical part of the shim on this thread
 * (roar_shim_critical): its round trips are skipped, since the interrupted code may
 * hold the connection's lock, or a reserved ring slot the collector must read before it
 * can answer. Elsewhere in a wrapper, a handler waits for its round trip as usual. */
__thread int roar_shim_in_handler __attribute__((tls_model("initial-exec")));

/* The program's handler per signal, as it gave it; the kernel has our trampoline. */
static void *user_handler[_NSIG];

typedef void (*plain_fn)(int);
typedef void (*info_fn)(int, siginfo_t *, void *);

static void run_user(int sig, siginfo_t *si, void *uc, int with_info)
{
    int guard = roar_shim_guard, in_handler = roar_shim_in_handler;
    void *fn =
        sig > 0 && sig < _NSIG ? __atomic_load_n(&user_handler[sig], __ATOMIC_ACQUIRE) : NULL;

    if (!fn || fn == (void *)SIG_DFL || fn == (void *)SIG_IGN)
        return; /* replaced meanwhile by a disposition the kernel applies itself */
    /* The handler's calls are the program's: trace them, whatever we interrupted. */
    roar_shim_guard = 0;
    roar_shim_in_handler = in_handler || roar_shim_critical > 0;
    if (with_info)
        ((info_fn)fn)(sig, si, uc);
    else
        ((plain_fn)fn)(sig);
    roar_shim_guard = guard;
    roar_shim_in_handler = in_handler;
}

static void trampoline_plain(int sig)
{
    run_user(sig, NULL, NULL, 0);
}

static void trampoline_info(int sig, siginfo_t *si, void *uc)
{
    run_user(sig, si, uc, 1);
}

static int is_trampoline(const struct sigaction *sa)
{
    return (sa->sa_flags & SA_SIGINFO) ? sa->sa_sigaction == trampoline_info
                                       : sa->sa_handler == trampoline_plain;
}

/* A handler of the program's, not SIG_DFL or SIG_IGN (which share the union's bits). */
static int is_function(const struct sigaction *sa)
{
    void *fn = (sa->sa_flags & SA_SIGINFO) ? (void *)sa->sa_sigaction : (void *)sa->sa_handler;
    return fn != (void *)SIG_DFL && fn != (void *)SIG_IGN;
}

ROAR_EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    struct sigaction mine, prev;
    void *prev_user;
    int rc;
    ROAR_REAL(sigaction);

    /* Not traced, or a signal number the kernel refuses anyway: no trampoline. */
    if (!roar_shim_on || sig <= 0 || sig >= _NSIG)
        return real_sigaction(sig, act, old);
    prev_user = __atomic_load_n(&user_handler[sig], __ATOMIC_ACQUIRE);
    if (act && is_function(act)) {
        mine = *act;
        /* Stored before the kernel has the trampoline: it never runs without one. */
        __atomic_store_n(&user_handler[sig],
                         (act->sa_flags & SA_SIGINFO) ? (void *)act->sa_sigaction
                                                      : (void *)act->sa_handler,
                         __ATOMIC_RELEASE);
        if (act->sa_flags & SA_SIGINFO)
            mine.sa_sigaction = trampoline_info;
        else
            mine.sa_handler = trampoline_plain;
        act = &mine;
    }
    rc = real_sigaction(sig, act, &prev);
    if (rc < 0) {
        __atomic_store_n(&user_handler[sig], prev_user, __ATOMIC_RELEASE);
        return rc;
    }
    if (old) {
        /* The program sees its own handler, never ours. */
        *old = prev;
        if (is_trampoline(&prev) && prev_user) {
            if (prev.sa_flags & SA_SIGINFO)
                old->sa_sigaction = (info_fn)prev_user;
            else
                old->sa_handler = (plain_fn)prev_user;
        }
    }
    return rc;
}

/* glibc's signal() and its kin call sigaction inside libc, past our wrapper. */
static sighandler_t install(int sig, sighandler_t fn, int flags)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = fn;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, &old) < 0)
        return SIG_ERR;
    return old.sa_handler;
}

/* BSD semantics, as glibc's signal(): restarted calls, the handler stays. */
ROAR_EXPORT sighandler_t signal(int sig, sighandler_t fn)
{
    return install(sig, fn, SA_RESTART);
}

ROAR_EXPORT sighandler_t bsd_signal(int sig, sighandler_t fn)
{
    return install(sig, fn, SA_RESTART);
}

/* System V semantics: one-shot, not blocked while it runs. */
ROAR_EXPORT sighandler_t sysv_signal(int sig, sighandler_t fn)
{
    return install(sig, fn, SA_RESETHAND | SA_NODEFER);
}
