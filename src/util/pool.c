/* The worker pool of pool.h: one mutex, a FIFO of intrusive tasks, one condition for
 * "work queued" and one for "a task finished". Tasks are few and long (a file each), so
 * one lock is no bottleneck. */
#include "util/pool.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "util/err.h"

struct roar_pool {
    pthread_mutex_t lock;
    pthread_cond_t work; /* a task was queued, or the pool is stopping */
    pthread_cond_t done; /* a task finished */
    roar_pool_task *head, *tail;
    bool stopping;
    pthread_t *threads;
    unsigned nthreads;
};

/* Runs t outside the lock and marks it done. */
static void run_task(roar_pool *p, roar_pool_task *t)
{
    t->run(t);
    pthread_mutex_lock(&p->lock);
    t->state = ROAR_POOL_DONE;
    pthread_cond_broadcast(&p->done);
    pthread_mutex_unlock(&p->lock);
}

static roar_pool_task *pop_locked(roar_pool *p)
{
    roar_pool_task *t = p->head;
    if (t) {
        p->head = t->next;
        if (!p->head)
            p->tail = NULL;
        t->next = NULL;
        t->state = ROAR_POOL_RUNNING;
    }
    return t;
}

static void *worker(void *arg)
{
    roar_pool *p = arg;
    for (;;) {
        roar_pool_task *t;
        pthread_mutex_lock(&p->lock);
        while (!p->head && !p->stopping)
            pthread_cond_wait(&p->work, &p->lock);
        t = p->stopping ? NULL : pop_locked(p);
        pthread_mutex_unlock(&p->lock);
        if (!t)
            return NULL;
        run_task(p, t);
    }
}

unsigned roar_pool_default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

static void stop_and_join(roar_pool *p, unsigned started)
{
    unsigned i;
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->lock);
    for (i = 0; i < started; i++)
        pthread_join(p->threads[i], NULL);
}

int roar_pool_new(roar_pool **out, unsigned threads)
{
    roar_pool *p;
    sigset_t all, saved;
    unsigned i;
    int rc = 0;

    *out = NULL;
    if (!threads)
        threads = 1;
    if (!(p = calloc(1, sizeof(*p))) || !(p->threads = calloc(threads, sizeof(*p->threads)))) {
        free(p);
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->done, NULL);
    /* Threads inherit the creator's mask: block everything around the creation, so
     * that a SIGCHLD or a forwarded SIGTERM always lands on the caller's thread. */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &saved);
    for (i = 0; i < threads; i++)
        if ((rc = pthread_create(&p->threads[i], NULL, worker, p)) != 0)
            break;
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    p->nthreads = i;
    if (rc != 0) {
        stop_and_join(p, i);
        pthread_cond_destroy(&p->work);
        pthread_cond_destroy(&p->done);
        pthread_mutex_destroy(&p->lock);
        free(p->threads);
        free(p);
        errno = rc;
        return roar_error_set_errno(ROAR_ERROR, "cannot start a hashing thread");
    }
    *out = p;
    return 0;
}

void roar_pool_submit(roar_pool *p, roar_pool_task *t)
{
    pthread_mutex_lock(&p->lock);
    t->next = NULL;
    t->state = ROAR_POOL_QUEUED;
    if (p->tail)
        p->tail->next = t;
    else
        p->head = t;
    p->tail = t;
    pthread_cond_signal(&p->work);
    pthread_mutex_unlock(&p->lock);
}

/* Unlinks t from the queue; the caller holds the lock and knows t is queued. */
static void unlink_locked(roar_pool *p, roar_pool_task *t)
{
    roar_pool_task **pp = &p->head, *prev = NULL;
    while (*pp && *pp != t) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    if (!*pp)
        return;
    *pp = t->next;
    if (p->tail == t)
        p->tail = prev;
    t->next = NULL;
}

void roar_pool_wait(roar_pool *p, roar_pool_task *t)
{
    pthread_mutex_lock(&p->lock);
    if (t->state == ROAR_POOL_QUEUED) {
        unlink_locked(p, t);
        t->state = ROAR_POOL_RUNNING;
        pthread_mutex_unlock(&p->lock);
        run_task(p, t);
        return;
    }
    while (t->state == ROAR_POOL_RUNNING)
        pthread_cond_wait(&p->done, &p->lock);
    pthread_mutex_unlock(&p->lock);
}

void roar_pool_free(roar_pool *p)
{
    roar_pool_task *t;
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    while ((t = p->head)) {
        p->head = t->next;
        t->next = NULL;
        t->state = ROAR_POOL_CANCELLED;
    }
    p->tail = NULL;
    pthread_mutex_unlock(&p->lock);
    stop_and_join(p, p->nthreads);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->lock);
    free(p->threads);
    free(p);
}
