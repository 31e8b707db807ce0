/* git_libgit2_init on a thread of its own; see gitinit.h. */
#include "cli/gitinit.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>

#include <git2.h>

static pthread_t init_thread;
static bool init_running;

static void *init_main(void *arg)
{
    (void)arg;
    git_libgit2_init();
    return NULL;
}

void roar_cli_libgit2_start(void)
{
    sigset_t all, old;

    /* Signals stay with the main thread: the thread blocks them all. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    init_running = pthread_create(&init_thread, NULL, init_main, NULL) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!init_running)
        git_libgit2_init();
}

void roar_cli_libgit2_wait(void)
{
    if (!init_running)
        return;
    pthread_join(init_thread, NULL);
    init_running = false;
}
