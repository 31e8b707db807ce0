/* Reading and parsing notes on a worker thread while the cache stores the ones before
 * (reindex_internal.h). A first or full index of 100,000 jobs spent about a fifth of
 * its time in libgit2's object reads and the record parser, on the one core that also
 * ran every SQLite insert; the second core was idle. */
#include "gitstore/reindex_internal.h"
#include "util/buf.h"
#include "util/err.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* How many notes may be read ahead of the one being stored: enough to keep the worker
 * busy across a slow store, few enough that the parsed notes waiting stay small
 * (a note holds up to a few thousand records; most hold a handful). */
#define LOADER_WINDOW 64

/* One libgit2 handle per thread that loads: libgit2 objects are used by one thread at
 * a time. A task takes a free handle under the lock, so a task that roar_pool_wait runs
 * on the calling thread never shares one with the worker. */
#define LOADER_HANDLES 2

struct reindex_loader {
    roar_pool *pool;
    const char *gitdir; /* borrowed from the caller's repository */
    pthread_mutex_t lock;
    roar_repo *handles[LOADER_HANDLES];
    bool busy[LOADER_HANDLES];
    reindex_loaded *window[LOADER_WINDOW]; /* FIFO ring of submitted notes */
    size_t head, count;
};

static int take_handle(roar_repo **out, size_t *slot, reindex_loader *l)
{
    int error = 0;

    pthread_mutex_lock(&l->lock);
    for (*slot = 0; *slot < LOADER_HANDLES && l->busy[*slot]; (*slot)++)
        ;
    if (*slot == LOADER_HANDLES) /* cannot happen: one worker and one waiter */
        error = roar_error_set(ROAR_ERROR, "no repository handle free for a note read");
    else
        l->busy[*slot] = true;
    pthread_mutex_unlock(&l->lock);
    if (error < 0)
        return error;
    /* Opened by its first user, outside the lock: opening reads config and refs. */
    if (!l->handles[*slot] && (error = roar_repo_open(&l->handles[*slot], l->gitdir)) < 0) {
        pthread_mutex_lock(&l->lock);
        l->busy[*slot] = false;
        pthread_mutex_unlock(&l->lock);
        return error;
    }
    *out = l->handles[*slot];
    return 0;
}

static void give_handle(reindex_loader *l, size_t slot)
{
    pthread_mutex_lock(&l->lock);
    l->busy[slot] = false;
    pthread_mutex_unlock(&l->lock);
}

static int keep_problem(const roar_notes_problem *p, void *payload)
{
    reindex_loaded *item = payload;
    reindex_loaded_problem *kept;

    if (ROAR_ALLOC_GROW(item->problems, item->problem_count + 1, item->problems_alloc) < 0)
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    kept = &item->problems[item->problem_count];
    if (!(kept->message = strdup(p->message)))
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    kept->line = p->line;
    item->problem_count++;
    return 0;
}

static void load_task(roar_pool_task *task)
{
    reindex_loaded *item = (reindex_loaded *)task;
    reindex_loader *l = item->loader;
    roar_repo *repo;
    size_t slot;

    item->error = take_handle(&repo, &slot, l);
    if (item->error == 0) {
        item->error = roar_notes_load(&item->note, repo, item->blobs, item->blob_count,
                                      item->object, keep_problem, item);
        give_handle(l, slot);
    }
    /* Error messages are per thread: the storing thread sets this one again. */
    if (item->error != 0 && !(item->error_message = strdup(roar_error_last())))
        item->error = ROAR_ENOMEM;
}

int roar_reindex__loader_new(reindex_loader **out, roar_repo *repo)
{
    reindex_loader *l = calloc(1, sizeof(*l));
    int error;

    *out = NULL;
    if (!l)
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    l->gitdir = roar_repo_gitdir(repo);
    pthread_mutex_init(&l->lock, NULL);
    if ((error = roar_pool_new(&l->pool, 1)) < 0) {
        pthread_mutex_destroy(&l->lock);
        free(l);
        return error;
    }
    *out = l;
    return 0;
}

void roar_reindex__loaded_free(reindex_loaded *item)
{
    if (!item)
        return;
    roar_note_dispose(&item->note);
    for (size_t i = 0; i < item->problem_count; i++)
        free(item->problems[i].message);
    free(item->problems);
    free(item->blobs);
    free(item->error_message);
    free(item);
}

int roar_reindex__loader_submit(reindex_loader *l, const roar_notes_change *c)
{
    reindex_loaded *item;

    if (l->count == LOADER_WINDOW)
        return roar_error_set(ROAR_ERROR, "note loader: window full (take one first)");
    if (!(item = calloc(1, sizeof(*item))) ||
        !(item->blobs = malloc(c->new_count * sizeof(*c->new_blobs) + 1))) {
        free(item);
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    }
    item->loader = l;
    item->task.run = load_task;
    memcpy(item->object, c->object, sizeof(item->object));
    memcpy(item->blobs, c->new_blobs, c->new_count * sizeof(*c->new_blobs));
    item->blob_count = c->new_count;
    roar_note_init(&item->note);
    l->window[(l->head + l->count) % LOADER_WINDOW] = item;
    l->count++;
    roar_pool_submit(l->pool, &item->task);
    return 0;
}

reindex_loaded *roar_reindex__loader_take(reindex_loader *l, bool wait)
{
    reindex_loaded *item;

    if (!l->count || (!wait && l->count < LOADER_WINDOW))
        return NULL;
    item = l->window[l->head];
    roar_pool_wait(l->pool, &item->task);
    l->head = (l->head + 1) % LOADER_WINDOW;
    l->count--;
    return item;
}

void roar_reindex__loader_free(reindex_loader *l)
{
    if (!l)
        return;
    roar_pool_free(l->pool); /* the queued are dropped, the running waited for */
    for (; l->count; l->count--, l->head = (l->head + 1) % LOADER_WINDOW)
        roar_reindex__loaded_free(l->window[l->head]);
    for (size_t i = 0; i < LOADER_HANDLES; i++)
        roar_repo_free(l->handles[i]);
    pthread_mutex_destroy(&l->lock);
    free(l);
}
