/* Decoding and validation of tracer events (see event.h). Every length, terminator and
 * per-type requirement is checked here, so fdstate can trust what it is handed. */
#include "trace/event.h"
#include "util/err.h"


static const char *const type_names[ROAR_EV__COUNT] = {
    [ROAR_EV_NONE] = "none",
    [ROAR_EV_OPEN] = "open",
    [ROAR_EV_CLOSE] = "close",
    [ROAR_EV_DUP] = "dup",
    [ROAR_EV_SETFD] = "setfd",
    [ROAR_EV_FORK] = "fork",
    [ROAR_EV_EXEC] = "exec",
    [ROAR_EV_EXIT] = "exit",
    [ROAR_EV_READ] = "read",
    [ROAR_EV_WRITE] = "write",
    [ROAR_EV_MMAP] = "mmap",
    [ROAR_EV_TRUNCATE] = "truncate",
    [ROAR_EV_FALLOCATE] = "fallocate",
    [ROAR_EV_RENAME] = "rename",
    [ROAR_EV_LINK] = "link",
    [ROAR_EV_UNLINK] = "unlink",
    [ROAR_EV_CHDIR] = "chdir",
    [ROAR_EV_COPY] = "copy",
    [ROAR_EV_ABOUT_TO_DESTROY] = "about-to-destroy",
    [ROAR_EV_INHERIT] = "inherit",
    [ROAR_EV_FDNEW] = "fdnew",
    [ROAR_EV_FLOW] = "flow",
    [ROAR_EV_INCOMPLETE] = "incomplete",
};

const char *roar_event_type_name(unsigned type)
{
    if (type >= ROAR_EV__COUNT)
        return "unknown";
    return type_names[type];
}

const char *roar_event_incomplete_name(unsigned reason)
{
    switch (reason) {
    case ROAR_INC_EVENTS_LOST:
        return "events-lost";
    case ROAR_INC_STATIC_BINARY:
        return "static-binary";
    case ROAR_INC_SETUID:
        return "setuid";
    case ROAR_INC_FOREIGN_ARCH:
        return "foreign-arch";
    case ROAR_INC_IO_URING:
        return "io_uring";
    case ROAR_INC_PATH_TOO_LONG:
        return "path-too-long";
    case ROAR_INC_AIO:
        return "aio";
    case ROAR_INC_UNTRACED:
        return "untraced";
    default:
        return NULL;
    }
}

void roar_event_ident(roar_ident *out, const roar_event *ev)
{
    memset(out, 0, sizeof(*out));
    if (!ev->h.has_ident)
        return;
    out->known = true;
    out->dev = ev->h.dev;
    out->ino = ev->h.ino;
    out->size = ev->h.size;
    out->mtime_ns = ev->h.mtime_ns;
    out->ctime_ns = ev->h.ctime_ns;
    out->mode = ev->h.mode;
}

/* A path field must be exactly one NUL-terminated, non-empty, absolute string filling
 * its declared length: an inner NUL would make the C string and the length disagree. */
static int check_path(const char **out, const unsigned char *p, uint32_t n, const char *which,
                      unsigned type)
{
    *out = NULL;
    if (n == 0)
        return 0;
    if (n > ROAR_EVENT_PATH_MAX)
        return roar_error_set(ROAR_EINVALID, "event %s: %s longer than %u bytes",
                              roar_event_type_name(type), which, ROAR_EVENT_PATH_MAX);
    if (n < 2 || p[n - 1] != '\0' || memchr(p, '\0', n - 1) != NULL)
        return roar_error_set(ROAR_EINVALID, "event %s: %s is not one terminated string",
                              roar_event_type_name(type), which);
    if (p[0] != '/')
        return roar_error_set(ROAR_EINVALID, "event %s: %s is not absolute",
                              roar_event_type_name(type), which);
    *out = (const char *)p;
    return 0;
}

static bool fd_ok(int32_t fd)
{
    return fd >= 0;
}

/* What each type needs beyond the framing; failed calls (ret < 0) need nothing more,
 * since fdstate ignores them. */
static int check_fields(const roar_event *ev)
{
    const struct roar_event_hdr *h = &ev->h;
    const char *name = roar_event_type_name(h->type);
    bool failed = h->ret < 0 && h->type != ROAR_EV_ABOUT_TO_DESTROY &&
                  h->type != ROAR_EV_INCOMPLETE && h->type != ROAR_EV_EXIT;

    if (h->has_ident > 1 || h->created > 1)
        return roar_error_set(ROAR_EINVALID, "event %s: boolean field out of range", name);
    if (failed)
        return 0;

    switch (h->type) {
    case ROAR_EV_OPEN:
    case ROAR_EV_INHERIT:
        if (!fd_ok(h->fd))
            return roar_error_set(ROAR_EINVALID, "event %s: bad fd %d", name, h->fd);
        if (!ev->path)
            return roar_error_set(ROAR_EINVALID, "event %s: no path", name);
        break;
    case ROAR_EV_CLOSE:
        if (!fd_ok(h->fd) || h->fd2 < h->fd)
            return roar_error_set(ROAR_EINVALID, "event close: bad range %d..%d", h->fd,
                                  h->fd2);
        break;
    case ROAR_EV_DUP:
        if (!fd_ok(h->fd) || !fd_ok(h->fd2))
            return roar_error_set(ROAR_EINVALID, "event dup: bad fds %d, %d", h->fd, h->fd2);
        break;
    case ROAR_EV_READ:
        /* fd -1 with an identity: a channel read sent by identity (event.h) */
        if (!fd_ok(h->fd) && !(h->fd == -1 && h->has_ident))
            return roar_error_set(ROAR_EINVALID, "event read: bad fd %d", h->fd);
        break;
    case ROAR_EV_SETFD:
    case ROAR_EV_WRITE:
    case ROAR_EV_MMAP:
    case ROAR_EV_FALLOCATE:
        if (!fd_ok(h->fd))
            return roar_error_set(ROAR_EINVALID, "event %s: bad fd %d", name, h->fd);
        break;
    case ROAR_EV_FDNEW:
        if (!fd_ok(h->fd) || (h->fd2 < 0 && h->fd2 != -1))
            return roar_error_set(ROAR_EINVALID, "event fdnew: bad fds %d, %d", h->fd, h->fd2);
        break;
    case ROAR_EV_COPY:
        if (!fd_ok(h->fd2))
            return roar_error_set(ROAR_EINVALID, "event copy: bad destination fd %d", h->fd2);
        break;
    case ROAR_EV_FORK:
        if (h->pid2 == 0)
            return roar_error_set(ROAR_EINVALID, "event fork: no child");
        break;
    case ROAR_EV_EXEC:
    case ROAR_EV_UNLINK:
        if (!ev->path)
            return roar_error_set(ROAR_EINVALID, "event %s: no path", name);
        break;
    case ROAR_EV_TRUNCATE:
        if (!ev->path && !fd_ok(h->fd))
            return roar_error_set(ROAR_EINVALID, "event truncate: neither path nor fd");
        break;
    case ROAR_EV_RENAME:
        if (!ev->path || !ev->path2)
            return roar_error_set(ROAR_EINVALID, "event rename: needs two paths");
        break;
    case ROAR_EV_LINK:
        if ((!ev->path && !fd_ok(h->fd)) || !ev->path2)
            return roar_error_set(ROAR_EINVALID, "event link: needs a source and a target");
        break;
    case ROAR_EV_ABOUT_TO_DESTROY:
        if (!ev->path && !fd_ok(h->fd))
            return roar_error_set(ROAR_EINVALID, "event about-to-destroy: no file named");
        if (h->flags == 0 || h->flags >= ROAR_EV__COUNT)
            return roar_error_set(ROAR_EINVALID, "event about-to-destroy: bad call type");
        break;
    case ROAR_EV_INCOMPLETE:
        if (!roar_event_incomplete_name((unsigned)h->flags) || h->flags >= ROAR_INC__COUNT)
            return roar_error_set(ROAR_EINVALID, "event incomplete: unknown reason %llu",
                                  (unsigned long long)h->flags);
        break;
    default:
        break;
    }
    return 0;
}

int roar_event_decode(roar_event *out, const void *buf, size_t len, size_t *out_consumed)
{
    const unsigned char *p = buf;
    struct roar_event_hdr h;
    size_t body;
    int error;

    *out_consumed = 0;
    memset(out, 0, sizeof(*out));
    if (len < ROAR_EVENT_HDR_SIZE)
        return 0;
    memcpy(&h, p, sizeof(h));

    if (h.version != ROAR_EVENT_VERSION)
        return roar_error_set(ROAR_EINVALID, "event: version %u, expected %u", h.version,
                              ROAR_EVENT_VERSION);
    if (h.type == ROAR_EV_NONE || h.type >= ROAR_EV__COUNT)
        return roar_error_set(ROAR_EINVALID, "event: unknown type %u", h.type);
    /* Lengths are checked in 64 bits so no sum can wrap. */
    if (h.path_len > ROAR_EVENT_PATH_MAX || h.path2_len > ROAR_EVENT_PATH_MAX)
        return roar_error_set(ROAR_EINVALID, "event %s: path longer than %u bytes",
                              roar_event_type_name(h.type), ROAR_EVENT_PATH_MAX);
    body = (size_t)ROAR_EVENT_HDR_SIZE + (size_t)h.path_len + (size_t)h.path2_len;
    if (h.len < body || h.len % ROAR_EVENT_ALIGN != 0 || h.len - body >= ROAR_EVENT_ALIGN)
        return roar_error_set(ROAR_EINVALID, "event %s: record length %u disagrees with "
                              "its paths (%u, %u)", roar_event_type_name(h.type), h.len,
                              h.path_len, h.path2_len);
    if (len < h.len)
        return 0;

    out->h = h;
    if ((error = check_path(&out->path, p + ROAR_EVENT_HDR_SIZE, h.path_len, "path",
                            h.type)) < 0 ||
        (error = check_path(&out->path2, p + ROAR_EVENT_HDR_SIZE + h.path_len, h.path2_len,
                            "second path", h.type)) < 0 ||
        (error = check_fields(out)) < 0) {
        memset(out, 0, sizeof(*out));
        return error;
    }
    *out_consumed = h.len;
    return 0;
}
