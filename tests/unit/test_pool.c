/* util/pool: every submitted task runs exactly once, on a worker or on the thread that
 * waits for it; tasks still queued at free are cancelled, never run; workers never take
 * the caller's signals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/pool.h"

#define MANY 2000

typedef struct {
    roar_pool_task task;
    atomic_int runs;
    pthread_t ran_on;
    /* when set, the task blocks until the gate opens */
    atomic_int *gate;
    atomic_int *started;
} counted;

static void counted_run(roar_pool_task *t)
{
    counted *c = (counted *)t;
    if (c->started)
        atomic_fetch_add(c->started, 1);
    while (c->gate && !atomic_load(c->gate))
        usleep(100);
    c->ran_on = pthread_self();
    atomic_fetch_add(&c->runs, 1);
}

static void test_every_task_runs_once(void **state)
{
    static counted tasks[MANY];
    roar_pool *p;
    size_t i;

    (void)state;
    assert_int_equal(roar_pool_new(&p, 3), 0);
    for (i = 0; i < MANY; i++) {
        tasks[i].task.run = counted_run;
        roar_pool_submit(p, &tasks[i].task);
    }
    /* waiting in reverse order: some are stolen, some already done */
    for (i = MANY; i-- > 0;) {
        roar_pool_wait(p, &tasks[i].task);
        assert_int_equal(tasks[i].task.state, ROAR_POOL_DONE);
        assert_int_equal(atomic_load(&tasks[i].runs), 1);
    }
    roar_pool_free(p);
    for (i = 0; i < MANY; i++)
        assert_int_equal(atomic_load(&tasks[i].runs), 1);
}

/* With the only worker busy, a waited-for queued task runs on the waiting thread, and
 * a task still queued at free is cancelled. */
static void test_wait_steals_and_free_cancels(void **state)
{
    counted blocker = {0}, stolen = {0}, dropped = {0};
    atomic_int gate = 0, started = 0;
    roar_pool *p;

    (void)state;
    assert_int_equal(roar_pool_new(&p, 1), 0);
    blocker.task.run = stolen.task.run = dropped.task.run = counted_run;
    blocker.gate = &gate;
    blocker.started = &started;
    roar_pool_submit(p, &blocker.task);
    while (!atomic_load(&started))
        usleep(100);
    roar_pool_submit(p, &stolen.task);
    roar_pool_submit(p, &dropped.task);
    roar_pool_wait(p, &stolen.task);
    assert_int_equal(atomic_load(&stolen.runs), 1);
    assert_true(pthread_equal(stolen.ran_on, pthread_self()));
    atomic_store(&gate, 1);
    roar_pool_wait(p, &blocker.task);
    assert_false(pthread_equal(blocker.ran_on, pthread_self()));
    /* the worker may or may not have taken `dropped` by now: either it ran or it was
     * cancelled, never both, never neither */
    roar_pool_free(p);
    if (dropped.task.state == ROAR_POOL_CANCELLED)
        assert_int_equal(atomic_load(&dropped.runs), 0);
    else
        assert_int_equal(atomic_load(&dropped.runs), 1);
}

static atomic_int worker_blocks_chld, worker_blocks_term;

static void mask_run(roar_pool_task *t)
{
    sigset_t set;
    (void)t;
    pthread_sigmask(SIG_BLOCK, NULL, &set);
    atomic_store(&worker_blocks_chld, sigismember(&set, SIGCHLD));
    atomic_store(&worker_blocks_term, sigismember(&set, SIGTERM));
}

static void test_workers_block_signals(void **state)
{
    counted blocker = {0};
    roar_pool_task probe = {0};
    atomic_int gate = 0, started = 0;
    roar_pool *p;
    sigset_t set;
    (void)state;

    assert_int_equal(roar_pool_new(&p, 1), 0);
    /* the caller's own mask is left as it was */
    pthread_sigmask(SIG_BLOCK, NULL, &set);
    assert_false(sigismember(&set, SIGCHLD));
    assert_false(sigismember(&set, SIGTERM));
    /* the probe must run on the worker: submit it behind nothing, and wait by polling
     * its state rather than with roar_pool_wait (which could run it here) */
    probe.run = mask_run;
    roar_pool_submit(p, &probe);
    blocker.task.run = counted_run;
    blocker.gate = &gate;
    blocker.started = &started;
    roar_pool_submit(p, &blocker.task);
    while (!atomic_load(&started))
        usleep(100); /* FIFO, one worker: the probe has run */
    atomic_store(&gate, 1);
    roar_pool_wait(p, &blocker.task);
    assert_int_equal(atomic_load(&worker_blocks_chld), 1);
    assert_int_equal(atomic_load(&worker_blocks_term), 1);
    roar_pool_free(p);
    assert_true(roar_pool_default_threads() >= 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_task_runs_once),
        cmocka_unit_test(test_wait_steals_and_free_cancels),
        cmocka_unit_test(test_workers_block_signals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
