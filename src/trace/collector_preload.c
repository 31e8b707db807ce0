/* The preload tracer as an event source: the shared ring (a memfd, ring.h), the job's
 * private directory with the control socket, and the environment that points the shim
 * at them. */
#include "trace/collector.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "trace/ring.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/privdrop.h"

/* The number the ring is inherited under (ROAR_ENV_RING_FD): high, out of the way of
 * programs that take small numbers for theirs, below the shim's own (900 and up). */
#define RING_FD_MIN 800

typedef struct {
    char *dir; /* the private directory (ring.h), removed by free */
    roar_ring *ring;
    int lfd; /* listening control socket, non-blocking, close-on-exec */
    int ring_fd; /* the ring for the command to inherit (ROAR_ENV_RING_FD), or -1 */
    roar_buf ring_var, sock_var, wait_var, preload_var, ring_fd_var, token;
    const char *vars[6];
} preload_source;

static const char *const *ps_child_env(void *self)
{
    return ((preload_source *)self)->vars;
}

static const char *ps_token(void *self)
{
    return ((preload_source *)self)->token.ptr;
}

static int ps_start(void *self, pid_t root)
{
    (void)self;
    (void)root; /* the shim finds the ring through the environment */
    return 0;
}

static int ps_read(void *self, void *buf, size_t cap, size_t *out_len, int wait_ms)
{
    return roar_ring_read(((preload_source *)self)->ring, buf, cap, out_len, wait_ms);
}

static uint64_t ps_lost(void *self)
{
    return roar_ring_lost(((preload_source *)self)->ring);
}

static int ps_control_fd(void *self)
{
    return ((preload_source *)self)->lfd;
}

static int ps_child_fd(void *self)
{
    return ((preload_source *)self)->ring_fd;
}

static void ps_stop(void *self)
{
    preload_source *ps = self;
    /* Every producer we wait for is gone: a slot reserved and never published (a
     * process killed mid-event) must not hold up the last records behind it. */
    roar_ring_set_stall_ms(ps->ring, 0);
}

static void ps_free(void *self)
{
    preload_source *ps = self;
    if (!ps)
        return;
    if (ps->lfd >= 0)
        close(ps->lfd);
    if (ps->ring_fd >= 0)
        close(ps->ring_fd);
    roar_ring_free(ps->ring);
    roar_ring_dir_remove(ps->dir);
    free(ps->dir);
    roar_buf_dispose(&ps->ring_var);
    roar_buf_dispose(&ps->sock_var);
    roar_buf_dispose(&ps->wait_var);
    roar_buf_dispose(&ps->preload_var);
    roar_buf_dispose(&ps->ring_fd_var);
    roar_buf_dispose(&ps->token);
    free(ps);
}

/* A job started as root may switch users (runuser, su, setpriv): the processes after
 * the switch cannot open the ring by its path (root's 0700 directory), so the command
 * also inherits it as an fd, named with its dev/ino in ROAR_ENV_RING_FD for the shim to
 * verify. Nothing for anyone else, who cannot switch users without a setuid program.
 * A less privileged process can then write the ring: the collector reads its bytes as
 * untrusted input anyway (ring.c: bounds, cursors, decoding), as it does those of
 * every traced program. */
static int inherit_ring(preload_source *ps)
{
    struct stat st;

    if (geteuid() != 0 || roar_privdrop_uid() != 0)
        return 0;
    ps->ring_fd = fcntl(roar_ring_fd(ps->ring), F_DUPFD_CLOEXEC, RING_FD_MIN);
    if (ps->ring_fd < 0 || fstat(ps->ring_fd, &st) < 0) {
        /* the job goes on without it; a switch is then announced (setuid) */
        if (ps->ring_fd >= 0)
            close(ps->ring_fd);
        ps->ring_fd = -1;
        return 0;
    }
    return roar_buf_printf(&ps->ring_fd_var, "%s=%d:%llu:%llu", ROAR_ENV_RING_FD, ps->ring_fd,
                           (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
}

/* Whether the command's processes may open /proc/<our pid>/fd/N: the kernel asks what
 * it asks of ptrace-read, that their ids are all of our real, effective and saved uid
 * and gid, and that we are dumpable. Not so under sudo, where we keep root as real and
 * saved uid (util/privdrop.h) and the command runs as the user. */
static bool proc_fd_reachable(void)
{
    uid_t ru, eu, su;
    gid_t rg, eg, sg;

    return getresuid(&ru, &eu, &su) == 0 && getresgid(&rg, &eg, &sg) == 0 && ru == eu &&
           eu == su && rg == eg && eg == sg && prctl(PR_GET_DUMPABLE) == 1;
}

/* The ring as a memfd the shim opens as /proc/<our pid>/fd/<fd> (ring.h): nothing in
 * /dev/shm, nothing left by a kill -9. 1 when it cannot be (then the ring is a named
 * file, as before): the command could not open the path, or we cannot ourselves (no
 * /proc, or one of another pid namespace). */
static int ring_anon(preload_source *ps)
{
    char path[64];
    struct stat a, b;
    int fd, ok;

    if (!proc_fd_reachable() || roar_ring_create_anon(&ps->ring, 0) < 0) {
        roar_error_clear();
        return 1;
    }
    snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)getpid(), roar_ring_fd(ps->ring));
    fd = open(path, O_RDWR | O_CLOEXEC);
    ok = fd >= 0 && fstat(fd, &a) == 0 && fstat(roar_ring_fd(ps->ring), &b) == 0 &&
         a.st_dev == b.st_dev && a.st_ino == b.st_ino;
    if (fd >= 0)
        close(fd);
    if (!ok) {
        roar_ring_free(ps->ring);
        ps->ring = NULL;
        return 1;
    }
    return roar_buf_printf(&ps->ring_var, "%s=%s", ROAR_ENV_RING, path);
}

int roar_preload_source_new(roar_trace_source *out, const char *library, unsigned hash_wait_ms)
{
    preload_source *ps;
    roar_buf path = ROAR_BUF_INIT;
    struct sockaddr_un sa;
    int error = 0;

    memset(out, 0, sizeof(*out));
    if (!(ps = calloc(1, sizeof(*ps))))
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    ps->lfd = ps->ring_fd = -1;
    roar_buf_init(&ps->ring_fd_var);
    roar_buf_init(&ps->ring_var);
    roar_buf_init(&ps->sock_var);
    roar_buf_init(&ps->wait_var);
    roar_buf_init(&ps->preload_var);
    roar_buf_init(&ps->token);

    if ((error = roar_ring_dir_create(&ps->dir)) < 0 || (error = ring_anon(ps)) < 0)
        goto fail;
    if (error == 1 && /* no memfd the command can reach: a file in our directory */
        ((error = roar_buf_printf(&path, "%s/ring", ps->dir)) < 0 ||
         (error = roar_ring_create(&ps->ring, path.ptr, 0)) < 0 ||
         (error = roar_buf_printf(&ps->ring_var, "%s=%s", ROAR_ENV_RING, path.ptr)) < 0))
        goto fail;

    roar_buf_clear(&path);
    if ((error = roar_buf_printf(&path, "%s/ctl", ps->dir)) < 0)
        goto fail;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    if (path.size >= sizeof(sa.sun_path)) {
        error = roar_error_set(ROAR_ERROR, "control socket path '%s' is too long", path.ptr);
        goto fail;
    }
    memcpy(sa.sun_path, path.ptr, path.size + 1);
    ps->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (ps->lfd < 0 || bind(ps->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        listen(ps->lfd, 128) < 0) {
        error = roar_error_set_errno(ROAR_ERROR, "cannot listen on '%s'", path.ptr);
        goto fail;
    }
    if ((error = roar_buf_printf(&ps->sock_var, "%s=%s", ROAR_ENV_SOCK, path.ptr)) < 0 ||
        (error = roar_buf_printf(&ps->wait_var, "%s=%u", ROAR_ENV_HASH_WAIT, hash_wait_ms)) < 0)
        goto fail;

    /* LD_PRELOAD splits on spaces and colons: name the library through a symlink in
     * our private directory (whose path has neither) when its own path has one. */
    if (strpbrk(library, " :")) {
        roar_buf_clear(&path);
        if ((error = roar_buf_printf(&path, "%s/libroar-preload.so", ps->dir)) < 0)
            goto fail;
        if (symlink(library, path.ptr) < 0) {
            error = roar_error_set_errno(ROAR_ERROR, "cannot link '%s' to '%s'", path.ptr, library);
            goto fail;
        }
        error = roar_buf_puts(&ps->token, path.ptr);
    } else {
        error = roar_buf_puts(&ps->token, library);
    }
    if (error < 0 ||
        (error = roar_buf_printf(&ps->preload_var, "%s=%s", ROAR_ENV_PRELOAD, ps->token.ptr)) < 0)
        goto fail;

    ps->vars[0] = ps->ring_var.ptr;
    ps->vars[1] = ps->sock_var.ptr;
    ps->vars[2] = ps->wait_var.ptr;
    ps->vars[3] = ps->preload_var.ptr;
    ps->vars[4] = NULL;
    /* Set even when empty: an outer job's value must not name a ring to this job's shim. */
    if ((error = inherit_ring(ps)) < 0 ||
        (ps->ring_fd < 0 &&
         (error = roar_buf_printf(&ps->ring_fd_var, "%s=", ROAR_ENV_RING_FD)) < 0))
        goto fail;
    ps->vars[4] = ps->ring_fd_var.ptr;
    ps->vars[5] = NULL;

    out->name = "preload";
    out->reports_flow = true; /* channels, per-process reads, flows: docs/preload.md */
    out->self = ps;
    out->child_env = ps_child_env;
    out->preload_token = ps_token;
    out->start = ps_start;
    out->read = ps_read;
    out->lost = ps_lost;
    out->control_fd = ps_control_fd;
    out->child_fd = ps_child_fd;
    out->stop = ps_stop;
    out->free = ps_free;
    roar_buf_dispose(&path);
    return 0;

fail:
    roar_buf_dispose(&path);
    ps_free(ps);
    return error;
}
