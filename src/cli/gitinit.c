/* git_libgit2_init on a thread of its own, without the CA bundle; see gitinit.h. */
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

/* Debian's libgit2 is built with mbedTLS, whose init parses every certificate of
 * /etc/ssl/certs/ca-certificates.crt (56M of the 70M instructions of `git roar run
 * true`; no option or variable defers it). git roar makes no TLS connection through
 * libgit2 (fetch and push run git), so this definition, which the dynamic linker binds
 * libgit2's call to ahead of libmbedx509's, loads nothing: the CA chain stays empty and
 * an HTTPS connection through libgit2 would fail verification, never skip it. A libgit2
 * built with OpenSSL does not call it. */
int mbedtls_x509_crt_parse_file(void *chain, const char *path);
int mbedtls_x509_crt_parse_file(void *chain, const char *path)
{
    (void)chain;
    (void)path;
    return 0;
}
