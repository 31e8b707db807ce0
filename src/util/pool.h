/* A small pool of worker threads running caller-owned tasks: the collector hashes a
 * job's outputs on it while the job runs, so that its event loop never waits for one. */
#ifndef ROAR_UTIL_POOL_H
#define ROAR_UTIL_POOL_H

#include <stdbool.h>

typedef struct roar_pool roar_pool;

typedef enum {
    ROAR_POOL_IDLE = 0, /* never submitted */
    ROAR_POOL_QUEUED,
    ROAR_POOL_RUNNING,
    ROAR_POOL_DONE,     /* run to its end, by a worker or by roar_pool_wait */
    ROAR_POOL_CANCELLED /* dropped from the queue by roar_pool_free, never run */
} roar_pool_state;

/* One unit of work, embedded in the caller's own struct (zeroed before its first
 * submit). The pool links it while queued; the caller owns and frees it, and must not
 * touch it between roar_pool_submit and the end of roar_pool_wait (or roar_pool_free). */
typedef struct roar_pool_task {
    void (*run)(struct roar_pool_task *task); /* called once, on some thread */
    struct roar_pool_task *next;              /* the pool's, while queued */
    roar_pool_state state;                    /* read it through roar_pool_wait */
} roar_pool_task;

/* Starts `threads` workers (at least 1) with every signal blocked, so that signals keep
 * going to the threads that expect them. The caller frees the pool with roar_pool_free.
 * ROAR_ENOMEM, ROAR_ERROR (a thread could not be created). */
int roar_pool_new(roar_pool **out, unsigned threads);

/* Queues `task` (FIFO). Never blocks on the work. */
void roar_pool_submit(roar_pool *pool, roar_pool_task *task);

/* Returns once `task` is done. A task still queued is taken off the queue and run on
 * the calling thread: a waiter never sits idle behind work it could do itself. */
void roar_pool_wait(roar_pool *pool, roar_pool_task *task);

/* Drops every task still queued (state CANCELLED), waits for the running ones, joins
 * the workers and frees the pool. NULL-safe. */
void roar_pool_free(roar_pool *pool);

/* The number of processors online (sysconf), at least 1: the default pool size. */
unsigned roar_pool_default_threads(void);

#endif
