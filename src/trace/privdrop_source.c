/* A trace source whose kernel-side calls run as root, for git roar under sudo (SPEC §8,
 * util/privdrop.h): start, stop and free; read, wait and lost touch only mapped memory
 * and fds already open. */
#include "trace/privdrop_source.h"

#include <stdlib.h>

#include "util/privdrop.h"

typedef struct {
    roar_trace_source in;
} wrapped;

static const char *const *w_child_env(void *self)
{
    wrapped *w = self;
    return w->in.child_env(w->in.self);
}

static const char *w_preload_token(void *self)
{
    wrapped *w = self;
    return w->in.preload_token(w->in.self);
}

static int w_start(void *self, pid_t root)
{
    wrapped *w = self;
    int error;

    if ((error = roar_privdrop_become_root()) < 0)
        return error;
    error = w->in.start(w->in.self, root);
    roar_privdrop_become_user();
    return error;
}

static int w_read(void *self, void *buf, size_t cap, size_t *out_len, int wait_ms)
{
    wrapped *w = self;
    return w->in.read(w->in.self, buf, cap, out_len, wait_ms);
}

static void w_wait(void *self, int timeout_ms)
{
    wrapped *w = self;
    w->in.wait(w->in.self, timeout_ms);
}

static uint64_t w_lost(void *self)
{
    wrapped *w = self;
    return w->in.lost(w->in.self);
}

static int w_control_fd(void *self)
{
    wrapped *w = self;
    return w->in.control_fd(w->in.self);
}

static int w_child_fd(void *self)
{
    wrapped *w = self;
    return w->in.child_fd(w->in.self);
}

static void w_stop(void *self)
{
    wrapped *w = self;
    bool root = roar_privdrop_become_root() == 0;

    w->in.stop(w->in.self);
    if (root)
        roar_privdrop_become_user();
}

static void w_free(void *self)
{
    wrapped *w = self;
    bool root;

    if (!w)
        return;
    root = roar_privdrop_become_root() == 0;
    w->in.free(w->in.self);
    if (root)
        roar_privdrop_become_user();
    free(w);
}

void roar_privdrop_wrap_source(roar_trace_source *s)
{
    wrapped *w;

    if (!roar_privdrop_uid() || !s->self || !(w = malloc(sizeof(*w))))
        return; /* out of memory: the calls run as the user and fail, saying so */
    w->in = *s;
    s->self = w;
    s->child_env = w->in.child_env ? w_child_env : NULL;
    s->preload_token = w->in.preload_token ? w_preload_token : NULL;
    s->start = w_start;
    s->read = w_read;
    s->wait = w->in.wait ? w_wait : NULL;
    s->lost = w_lost;
    s->control_fd = w->in.control_fd ? w_control_fd : NULL;
    s->child_fd = w->in.child_fd ? w_child_fd : NULL;
    s->stop = w->in.stop ? w_stop : NULL;
    s->free = w_free;
}
