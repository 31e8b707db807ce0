/* The eBPF tracer's loader: open -> knobs -> load -> attach -> consume -> one cleanup,
 * and the conversion of the kernel's records (roar_bpf.h) into event.h records. */
#include "trace/ebpf/loader.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "trace/ebpf/roar_bpf.h"
#include "util/keymap.h"
#include "util/pathlex.h"
#include "trace/ring_layout.h"
#include "util/buf.h"
#include "util/err.h"

/* ---- conversion ------------------------------------------------------------------------ */

/* The cwd of one or more processes (several when they share it: clone(CLONE_FS)). */
typedef struct {
    int refs;
    bool too_long; /* its walk did not fit: names relative to it are too long too */
    roar_buf path; /* absolute, canonical (a dentry walk) */
} cwd_group;

struct roar_ebpf_conv {
    uint64_t seq;
    uint64_t unnamed; /* records dropped for a name that could not be had */
    roar_buf path[2];
    roar_buf base;
    roar_keymap cwds; /* tgid (4 bytes) -> cwd_group: every process the records named */
    unsigned char *out; /* one encoded record */
    size_t outcap;
};

static void group_unref(cwd_group *g)
{
    if (g && --g->refs == 0) {
        roar_buf_dispose(&g->path);
        free(g);
    }
}

static int group_new(cwd_group **out, const char *path)
{
    cwd_group *g = calloc(1, sizeof(*g));
    *out = NULL;
    if (!g)
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    g->refs = 1;
    roar_buf_init(&g->path);
    if (roar_buf_puts(&g->path, path) < 0) {
        free(g);
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    }
    *out = g;
    return 0;
}

/* Makes tgid use g (one more reference taken), dropping what it used before. */
static int cwd_bind(roar_ebpf_conv *c, uint32_t tgid, cwd_group *g)
{
    cwd_group *old = roar_keymap_get(&c->cwds, &tgid, sizeof(tgid));
    if (old == g)
        return 0;
    if (roar_keymap_put(&c->cwds, &tgid, sizeof(tgid), g) < 0)
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    g->refs++;
    group_unref(old);
    return 0;
}

/* Sets the cwd of tgid (and of the processes sharing it, unless `alone`); path NULL:
 * a cwd too long to walk. */
static int cwd_set(roar_ebpf_conv *c, uint32_t tgid, const char *path, bool alone)
{
    cwd_group *g = roar_keymap_get(&c->cwds, &tgid, sizeof(tgid));
    int error;

    if (!g || (alone && g->refs > 1)) {
        if ((error = group_new(&g, "/")) < 0)
            return error;
        error = cwd_bind(c, tgid, g);
        group_unref(g);
        if (error < 0)
            return error;
    }
    g->too_long = path == NULL;
    roar_buf_clear(&g->path);
    return roar_buf_puts(&g->path, path ? path : "/");
}

static void cwd_forget(roar_ebpf_conv *c, uint32_t tgid)
{
    group_unref(roar_keymap_remove(&c->cwds, &tgid, sizeof(tgid)));
}

/* The canonical form of a renamed name: realpath of what exists now (the new name), or
 * of the parent of what no longer does (the old one). Lexical form when neither works. */
static void rename_canon(roar_buf *out, const char *path, bool gone)
{
    char *r = NULL, *slash;
    roar_buf_clear(out);
    if (!gone) {
        r = realpath(path, NULL);
    } else if ((slash = strrchr(path, '/')) && slash != path) {
        char *dir = strndup(path, (size_t)(slash - path));
        char *rd = dir ? realpath(dir, NULL) : NULL;
        if (rd && roar_buf_puts(out, strcmp(rd, "/") ? rd : "") == 0 &&
            roar_buf_puts(out, slash) == 0) {
            free(rd);
            free(dir);
            return;
        }
        free(rd);
        free(dir);
        roar_buf_clear(out);
    }
    if (roar_buf_puts(out, r ? r : path) < 0)
        roar_error_clear();
    free(r);
}

/* A directory renamed by the job moves the cwds at or beneath it: the kernel follows
 * the cwd's dentry, and relative names must follow it too (chdir d; mv ../d ../e;
 * open c names e/c). With `exchange` the two trade places. A rename made outside the
 * job is not seen (docs/ebpf.md, Known gaps). */
static int cwd_renamed(roar_ebpf_conv *c, const char *from, const char *to, bool exchange)
{
    roar_buf a, b, tmp;
    size_t k, la, lb;
    int error = 0;

    roar_buf_init(&a);
    roar_buf_init(&b);
    roar_buf_init(&tmp);
    rename_canon(&a, from, !exchange);
    rename_canon(&b, to, false);
    la = a.size;
    lb = b.size;
    for (k = 0; k < c->cwds.cap && error == 0; k++) {
        cwd_group *g = c->cwds.slots[k].value;
        const char *p;
        size_t skip;
        if (!c->cwds.slots[k].key || g->too_long || !la || !lb)
            continue;
        p = g->path.ptr;
        if (!strncmp(p, a.ptr, la) && (p[la] == '/' || !p[la]))
            skip = la;
        else if (exchange && !strncmp(p, b.ptr, lb) && (p[lb] == '/' || !p[lb]))
            skip = lb;
        else
            continue;
        roar_buf_clear(&tmp);
        if (roar_buf_puts(&tmp, skip == la ? b.ptr : a.ptr) < 0 ||
            roar_buf_puts(&tmp, p + skip) < 0) {
            error = ROAR_ENOMEM;
            break;
        }
        roar_buf_clear(&g->path);
        error = roar_buf_puts(&g->path, tmp.ptr);
    }
    roar_buf_dispose(&a);
    roar_buf_dispose(&b);
    roar_buf_dispose(&tmp);
    return error;
}

/* The cwd of tgid: as its records told (exec, chdir, fork), else as /proc says now (a
 * process whose fork record was lost), else NULL. *too_long when its walk did not fit. */
static const char *cwd_of(roar_ebpf_conv *c, uint32_t tgid, bool *too_long)
{
    cwd_group *g = roar_keymap_get(&c->cwds, &tgid, sizeof(tgid));
    char link[64], buf[4096];
    ssize_t n;

    *too_long = false;
    if (g) {
        *too_long = g->too_long;
        return g->path.ptr;
    }
    snprintf(link, sizeof(link), "/proc/%u/cwd", (unsigned)tgid);
    n = readlink(link, buf, sizeof(buf) - 1);
    if (n <= 0 || buf[0] != '/')
        return NULL;
    buf[n] = '\0';
    if (cwd_set(c, tgid, buf, true) < 0) {
        roar_error_clear();
        return NULL;
    }
    g = roar_keymap_get(&c->cwds, &tgid, sizeof(tgid));
    return g ? g->path.ptr : NULL;
}

int roar_ebpf_conv_new(roar_ebpf_conv **out)
{
    roar_ebpf_conv *c = calloc(1, sizeof(*c));
    int i;

    *out = NULL;
    if (!c)
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    for (i = 0; i < 2; i++)
        roar_buf_init(&c->path[i]);
    roar_buf_init(&c->base);
    c->outcap = ROAR_EVENT_HDR_SIZE + 2 * ROAR_EVENT_PATH_MAX + ROAR_EVENT_ALIGN;
    if (!(c->out = malloc(c->outcap))) {
        free(c);
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    }
    *out = c;
    return 0;
}

void roar_ebpf_conv_free(roar_ebpf_conv *c)
{
    size_t k;
    int i;
    if (!c)
        return;
    for (k = 0; k < c->cwds.cap; k++)
        if (c->cwds.slots[k].key)
            group_unref(c->cwds.slots[k].value);
    roar_keymap_dispose(&c->cwds);
    for (i = 0; i < 2; i++)
        roar_buf_dispose(&c->path[i]);
    roar_buf_dispose(&c->base);
    free(c->out);
    free(c);
}

/* What one path of a record turned out to be. */
enum piece_state { PIECE_NONE, PIECE_OK, PIECE_LONG, PIECE_UNKNOWN };

/* Builds path i into c->path[i] from its string (str, slen bytes with the NUL) and its
 * walk (names leaf first, wlen bytes). */
static int build_path(enum piece_state *out, roar_ebpf_conv *c, int i, unsigned pflags,
                      const char *str, size_t slen, const char *walk, size_t wlen,
                      uint32_t tgid)
{
    roar_buf *p = &c->path[i];
    int error = 0;

    roar_buf_clear(p);
    *out = PIECE_NONE;
    if (!(pflags & (ROAR_BPF_P_STR | ROAR_BPF_P_WALK)))
        return 0;
    if (pflags & ROAR_BPF_P_LONG) {
        *out = PIECE_LONG;
        return 0;
    }
    if (pflags & ROAR_BPF_P_UNREACHED) {
        *out = PIECE_UNKNOWN;
        return 0;
    }
    if ((pflags & ROAR_BPF_P_STR) &&
        (slen == 0 ||
         ((pflags & (ROAR_BPF_P_WALK | ROAR_BPF_P_CWD)) == 0 && str[0] != '/'))) {
        *out = PIECE_UNKNOWN; /* a relative name without its base */
        return 0;
    }

    /* The base: the process's cwd, or the walk's names, root last, as "/a/b/c". */
    roar_buf_clear(&c->base);
    if ((pflags & ROAR_BPF_P_STR) && (pflags & ROAR_BPF_P_CWD) && str[0] != '/') {
        bool long_cwd;
        const char *cwd = cwd_of(c, tgid, &long_cwd);
        if (!cwd || long_cwd) {
            *out = long_cwd ? PIECE_LONG : PIECE_UNKNOWN;
            return 0;
        }
        if ((error = roar_buf_puts(&c->base, cwd)) < 0)
            return error;
    } else if (pflags & ROAR_BPF_P_WALK) {
        size_t end = wlen;
        if ((error = roar_buf_putc(&c->base, '/')) < 0)
            return error;
        while (end > 0) {
            size_t start = end - 1; /* end - 1 is a NUL */
            while (start > 0 && walk[start - 1] != '\0')
                start--;
            if (end - 1 > start) {
                if (c->base.size > 1 && (error = roar_buf_putc(&c->base, '/')) < 0)
                    return error;
                if ((error = roar_buf_put(&c->base, walk + start, end - 1 - start)) < 0)
                    return error;
            }
            end = start;
        }
    }
    if ((pflags & ROAR_BPF_P_STR) && str[0] == '/') {
        error = roar_pathlex_normalise(p, str);
    } else if (pflags & ROAR_BPF_P_STR) {
        if ((error = roar_buf_putc(&c->base, '/')) < 0 ||
            (error = roar_buf_put(&c->base, str, slen - 1)) < 0)
            return error;
        error = roar_pathlex_normalise(p, c->base.ptr);
    } else {
        error = roar_buf_put(p, c->base.ptr, c->base.size);
    }
    if (error < 0)
        return error;
    *out = p->size + 1 > ROAR_EVENT_PATH_MAX ? PIECE_LONG : PIECE_OK;
    return 0;
}

/* "/proc/self/fd/N", "/proc/thread-self/fd/N" or "/proc/<tgid>/fd/N": the fd N of the
 * calling process, as glibc names an O_TMPFILE file to linkat(). -1 otherwise. */
static int proc_fd(const char *path, uint32_t tgid)
{
    char self[32];
    const char *rest = NULL;
    char *end;
    long fd;

    snprintf(self, sizeof(self), "/proc/%u/fd/", (unsigned)tgid);
    if (!strncmp(path, "/proc/self/fd/", 14))
        rest = path + 14;
    else if (!strncmp(path, "/proc/thread-self/fd/", 21))
        rest = path + 21;
    else if (!strncmp(path, self, strlen(self)))
        rest = path + strlen(self);
    if (!rest || *rest < '0' || *rest > '9')
        return -1;
    errno = 0;
    fd = strtol(rest, &end, 10);
    if (*end || errno || fd > 0x7fffffff)
        return -1;
    return (int)fd;
}

static int emit(roar_ebpf_conv *c, const struct roar_event_hdr *h, const char *p1, const char *p2,
                roar_ebpf_record_cb cb, void *payload)
{
    struct roar_event_hdr x = *h;
    size_t n;

    x.seq = ++c->seq;
    n = roar_event_encode(c->out, c->outcap, &x, p1, p2);
    if (n == 0)
        return roar_error_set(ROAR_EINVALID, "ebpf: a %s record does not encode",
                              roar_event_type_name(x.type));
    return cb(c->out, n, payload);
}

uint64_t roar_ebpf_conv_unnamed(const roar_ebpf_conv *c)
{
    return c->unnamed;
}

/* `incomplete path-too-long` for the process of h. */
static int emit_too_long(roar_ebpf_conv *c, const struct roar_event_hdr *h,
                         roar_ebpf_record_cb cb, void *payload)
{
    struct roar_event_hdr x;
    memset(&x, 0, sizeof(x));
    x.type = ROAR_EV_INCOMPLETE;
    x.tgid = h->tgid;
    x.tid = h->tid;
    x.fd = x.fd2 = -1;
    x.flags = ROAR_INC_PATH_TOO_LONG;
    return emit(c, &x, NULL, NULL, cb, payload);
}

/* Checks that a piece is NUL-terminated (a string: exactly one NUL, at its end). */
static bool piece_ok(const char *p, size_t len, bool one_string)
{
    if (len == 0)
        return !one_string;
    if (p[len - 1] != '\0')
        return false;
    return !one_string || memchr(p, '\0', len - 1) == NULL;
}

/* The compact open (roar_bpf.h, struct roar_bpf_open): the full record it stands for,
 * its string after it. */
static int conv_open_record(roar_ebpf_conv *c, const void *rec, size_t len,
                            roar_ebpf_record_cb cb, void *payload)
{
    struct {
        struct roar_bpf_event e;
        char str[ROAR_BPF_STR_MAX];
    } full;
    struct roar_bpf_open o;

    memcpy(&o, rec, sizeof(o));
    if (o.str_len > ROAR_BPF_STR_MAX || len != sizeof(o) + o.str_len ||
        !(o.pflags & ROAR_BPF_P_STR) || (o.pflags & ~(ROAR_BPF_P_STR | ROAR_BPF_P_CWD)))
        return roar_error_set(ROAR_EINVALID, "ebpf: bad open record (string of %u, length %zu)",
                              o.str_len, len);
    memset(&full.e, 0, sizeof(full.e));
    full.e.h.type = ROAR_EV_OPEN;
    full.e.h.tgid = o.tgid;
    full.e.h.tid = o.tid;
    full.e.h.ret = o.ret;
    full.e.h.fd = (int32_t)o.ret;
    full.e.h.fd2 = -1;
    full.e.h.flags = o.flags;
    full.e.h.arg = o.arg;
    roar_bpf_ident_to_hdr(&full.e.h, &o.id);
    full.e.pflags[0] = o.pflags;
    full.e.str_len[0] = o.str_len;
    full.e.rec_len = (uint32_t)(sizeof(full.e) + o.str_len);
    memcpy(full.str, (const char *)rec + sizeof(o), o.str_len);
    return roar_ebpf_conv_record(c, &full, full.e.rec_len, cb, payload);
}

int roar_ebpf_conv_record(roar_ebpf_conv *c, const void *rec, size_t len, roar_ebpf_record_cb cb,
                          void *payload)
{
    struct roar_bpf_event e;
    const char *data, *str[2] = {NULL, NULL}, *walk[2] = {NULL, NULL};
    size_t at = 0, room, slen[2] = {0, 0}, wlen[2] = {0, 0};
    enum piece_state st[2];
    const char *p1, *p2;
    struct roar_event_hdr h;
    int i, error;

    if (len == sizeof(struct roar_bpf_small)) {
        /* the compact form (roar_bpf.h): the full record it stands for */
        struct roar_bpf_small sm;
        memcpy(&sm, rec, sizeof(sm));
        memset(&e, 0, sizeof(e));
        e.h.type = sm.type;
        e.h.tgid = sm.tgid;
        e.h.tid = sm.tid;
        e.h.fd = sm.fd;
        e.h.fd2 = sm.fd2;
        e.h.ret = sm.ret;
        e.h.flags = sm.flags;
        e.rec_len = sizeof(e);
        return roar_ebpf_conv_record(c, &e, sizeof(e), cb, payload);
    }
    if (len >= sizeof(struct roar_bpf_open)) {
        uint32_t form;
        memcpy(&form, rec, sizeof(form));
        if (form == ROAR_BPF_FORM_OPEN)
            return conv_open_record(c, rec, len, cb, payload);
    }
    if (len < sizeof(e))
        return roar_error_set(ROAR_EINVALID, "ebpf: record of %zu bytes", len);
    memcpy(&e, rec, sizeof(e));
    /* (the kernel side never sends the preload shim's round trip nor inherited fds) */
    if (e.rec_len < sizeof(e) || e.rec_len > len || e.h.type == ROAR_EV_NONE ||
        e.h.type >= ROAR_EV__COUNT || e.h.type == ROAR_EV_ABOUT_TO_DESTROY ||
        e.h.type == ROAR_EV_INHERIT)
        return roar_error_set(ROAR_EINVALID, "ebpf: bad record (type %u, length %u of %zu)",
                              e.h.type, e.rec_len, len);
    data = (const char *)rec + sizeof(e);
    room = e.rec_len - sizeof(e);
    for (i = 0; i < 2; i++) {
        if (e.pflags[i] & ROAR_BPF_P_STR) {
            slen[i] = e.str_len[i];
            if (slen[i] > room - at)
                return roar_error_set(ROAR_EINVALID, "ebpf: string %d overruns its record", i);
            str[i] = data + at;
            at += slen[i];
            if (slen[i] && !piece_ok(str[i], slen[i], true))
                return roar_error_set(ROAR_EINVALID, "ebpf: string %d is not terminated", i);
        }
        if (e.pflags[i] & ROAR_BPF_P_WALK) {
            wlen[i] = e.walk_len[i];
            if (wlen[i] > room - at)
                return roar_error_set(ROAR_EINVALID, "ebpf: walk %d overruns its record", i);
            walk[i] = data + at;
            at += wlen[i];
            if (!piece_ok(walk[i], wlen[i], false))
                return roar_error_set(ROAR_EINVALID, "ebpf: walk %d is not terminated", i);
        }
        if ((error = build_path(&st[i], c, i, e.pflags[i], str[i], slen[i], walk[i], wlen[i],
                                e.h.tgid)) < 0)
            return error;
    }

    h = e.h;
    h.len = h.path_len = h.path2_len = 0;
    p1 = st[0] == PIECE_OK ? c->path[0].ptr : NULL;
    p2 = st[1] == PIECE_OK ? c->path[1].ptr : NULL;

    switch (h.type) {
    case ROAR_EV_OPEN:
        /* path2 is the canonical name: kept only where it says something new. An
         * O_TMPFILE file has none yet (its dentry is "#<ino>" in the directory). */
        if (p2 && ((h.flags & O_TMPFILE) == O_TMPFILE || (p1 && !strcmp(p1, p2))))
            p2 = NULL;
        /* A name through /proc (a /proc/self/fd/N reopen) means something else in
         * the collector's process: the file's own name is the one to use. */
        if (p1 && p2 && !strncmp(p1, "/proc/", 6) && strncmp(p2, "/proc/", 6)) {
            p1 = p2;
            p2 = NULL;
        }
        if (!p1 && st[0] == PIECE_NONE && p2) { /* open_by_handle_at: no name given */
            p1 = p2;
            p2 = NULL;
        }
        if (!p1) {
            /* The fd names a file we cannot name: it must at least stop naming what
             * it named before. */
            struct roar_event_hdr x = h;
            if (st[0] == PIECE_LONG || (st[0] == PIECE_NONE && st[1] == PIECE_LONG)) {
                if ((error = emit_too_long(c, &h, cb, payload)) < 0)
                    return error;
            } else {
                c->unnamed++;
            }
            x.type = ROAR_EV_FDNEW;
            x.fd2 = -1;
            return emit(c, &x, NULL, NULL, cb, payload);
        }
        return emit(c, &h, p1, p2, cb, payload);

    case ROAR_EV_EXEC:
        /* walk 1 is the cwd the new image starts in */
        if ((p2 || st[1] == PIECE_LONG) && (error = cwd_set(c, h.tgid, p2, false)) < 0)
            return error;
        if (st[0] == PIECE_LONG)
            return emit_too_long(c, &h, cb, payload);
        if (!p1)
            return 0; /* a program with no name (see docs/ebpf.md) */
        return emit(c, &h, p1, NULL, cb, payload);

    case ROAR_EV_CHDIR:
        if ((p1 || st[0] == PIECE_LONG) &&
            (error = cwd_set(c, h.tgid, p1, (h.flags & ROAR_BPF_CHDIR_UNSHARED) != 0)) < 0)
            return error;
        h.flags = 0;
        if (st[0] == PIECE_LONG && (error = emit_too_long(c, &h, cb, payload)) < 0)
            return error;
        return emit(c, &h, p1, NULL, cb, payload);

    case ROAR_EV_FORK:
        /* a new process starts in its parent's cwd, or shares it (CLONE_FS) */
        if (h.ret >= 0 && h.pid2 != h.tgid && !(h.flags & CLONE_THREAD)) {
            cwd_group *g = roar_keymap_get(&c->cwds, &h.tgid, sizeof(h.tgid));
            if (g && (h.flags & CLONE_FS))
                error = cwd_bind(c, h.pid2, g);
            else if (g)
                error = cwd_set(c, h.pid2, g->too_long ? NULL : g->path.ptr, true);
            else
                error = 0;
            if (error < 0)
                return error;
        }
        return emit(c, &h, NULL, NULL, cb, payload);

    case ROAR_EV_EXIT:
        if ((error = emit(c, &h, NULL, NULL, cb, payload)) < 0)
            return error;
        cwd_forget(c, h.tgid);
        return 0;

    case ROAR_EV_RENAME:
    case ROAR_EV_LINK:
    case ROAR_EV_UNLINK:
    case ROAR_EV_TRUNCATE:
        if (st[0] == PIECE_LONG || st[1] == PIECE_LONG)
            return emit_too_long(c, &h, cb, payload);
        if (h.type == ROAR_EV_LINK && p1) {
            int fd = proc_fd(p1, h.tgid);
            if (fd >= 0) {
                h.fd = fd;
                p1 = NULL;
            }
        }
        if (h.type == ROAR_EV_RENAME && p2 && !h.has_ident) {
            /* The kernel side cannot look a name up; the moved object now lives at
             * path2 (unless it moved on already): whether it is a directory matters to
             * the cwds kept here. Its identity is not sent: read now, after the call,
             * it may already be that of the job's next write (`mv a b && echo x > b`),
             * and a hash under it would give a for the new content. fdstate resolves
             * such a rename later (docs/tracing-rules.md). */
            struct stat st;
            if (lstat(p2, &st) == 0)
                h.flags |= S_ISDIR(st.st_mode) ? ROAR_RENAME_F_DIR : ROAR_RENAME_F_FILE;
        }
        if (h.type == ROAR_EV_RENAME && p1 && p2 && (h.flags & ROAR_RENAME_F_DIR) &&
            (error = cwd_renamed(c, p1, p2, (h.flags & RENAME_EXCHANGE) != 0)) < 0)
            return error;
        if ((h.type == ROAR_EV_RENAME && (!p1 || !p2)) ||
            (h.type == ROAR_EV_LINK && ((!p1 && h.fd < 0) || !p2)) ||
            (h.type == ROAR_EV_UNLINK && !p1) || (h.type == ROAR_EV_TRUNCATE && !p1 && h.fd < 0)) {
            if (st[0] == PIECE_UNKNOWN || st[1] == PIECE_UNKNOWN) {
                c->unnamed++; /* a base directory we could not name */
                return 0;
            }
            return roar_error_set(ROAR_EINVALID, "ebpf: %s with a name that cannot be had",
                                  roar_event_type_name(h.type));
        }
        return emit(c, &h, p1, p2, cb, payload);

    default:
        /* incomplete (foreign-arch) carries a path when it has one */
        return emit(c, &h, p1, NULL, cb, payload);
    }
}

/* ---- the loader --------------------------------------------------------------------------- */

#ifdef ROAR_HAVE_EBPF

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/capability.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "roar.skel.h"
#include "roar_btf.h"

#define DEFAULT_RING (16u << 20)
#define DEFAULT_DRAIN_MS 2u

struct roar_ebpf {
    struct roar_bpf *skel;
    struct ring_buffer *rb;
    roar_ebpf_conv *conv;
    unsigned drain_ms;
    uint64_t bad; /* records that did not convert */
    /* the consumer's target while ring_buffer__consume runs */
    roar_ebpf_record_cb cb;
    void *payload;
    int cb_error;
    int delivered;
    /* roar_ebpf_read's queue of converted records */
    roar_buf queue;
    size_t qpos;
    roar_ebpf_timing timing;
};

bool roar_ebpf_built(void)
{
    return true;
}

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* When the running kernel is the one roar.bpf.o was built against (the same ELF notes,
 * hence the same build id), the BTF subset embedded at build time can stand in for the
 * kernel's whole BTF in CO-RE relocation: libbpf then does not relocate against 5 MB of
 * it on each run (it still parses it once, for the tp_btf attach point and the kfunc).
 * Returns an fd of a memfd holding it (*path names it), or -1: relocate against
 * /sys/kernel/btf/vmlinux as usual. */
static int min_btf_fd(char path[64])
{
    unsigned char notes[4096];
    ssize_t n = -1;
    int fd;

    if (roar_min_btf_len == 0 || roar_build_notes_len == 0 ||
        roar_build_notes_len > sizeof(notes))
        return -1;
    if ((fd = open("/sys/kernel/notes", O_RDONLY | O_CLOEXEC)) >= 0) {
        n = read(fd, notes, sizeof(notes));
        close(fd);
    }
    if (n != (ssize_t)roar_build_notes_len || memcmp(notes, roar_build_notes, (size_t)n) != 0)
        return -1;
    if ((fd = memfd_create("roar-btf", MFD_CLOEXEC)) < 0)
        return -1;
    if (write(fd, roar_min_btf, roar_min_btf_len) != (ssize_t)roar_min_btf_len) {
        close(fd);
        return -1;
    }
    snprintf(path, 64, "/proc/self/fd/%d", fd);
    return fd;
}

/* The running kernel's BTF id of struct file, for the program's typed loads (roar.bpf.c,
 * file_btf_id): the one found at build time when the kernel is that one (have_min_btf),
 * else looked up in the kernel's BTF (a few ms; libbpf then parses it for relocation
 * anyway). 0 if not found: the program reads the file with probe reads instead. */
static uint32_t file_btf_id(bool have_min_btf)
{
    struct btf *btf;
    int id;

    if (have_min_btf)
        return roar_file_btf_id;
    if (!(btf = btf__load_vmlinux_btf()))
        return 0;
    id = btf__find_by_name_kind(btf, "file", BTF_KIND_STRUCT);
    btf__free(btf);
    return id > 0 ? (uint32_t)id : 0;
}

/* libbpf talks through a process-wide print callback. While we load, its first warning
 * is kept for our error message (the CLI prints, not a library); ROAR_EBPF_DEBUG=1 shows
 * everything, verifier logs included, on stderr. */
static char libbpf_first[512];
/* The verifier's reason for refusing a program: the last line of its log before the
 * statistics ("processed N insns ..."). */
static char verifier_reason[256];
static bool libbpf_debug;

static void keep_verifier_reason(const char *msg)
{
    const char *log = strstr(msg, "-- BEGIN PROG LOAD LOG --\n"), *line, *end, *reason = NULL;
    size_t reason_len = 0;

    if (!log)
        return;
    for (line = log + strlen("-- BEGIN PROG LOAD LOG --\n"); *line; line = end + 1) {
        if (!(end = strchr(line, '\n')))
            break;
        if (!strncmp(line, "processed ", 10) || !strncmp(line, "verification time ", 18) ||
            !strncmp(line, "-- END PROG LOAD LOG --", 23))
            break;
        if (end > line) {
            reason = line;
            reason_len = (size_t)(end - line);
        }
    }
    if (reason && !verifier_reason[0])
        snprintf(verifier_reason, sizeof(verifier_reason), "%.*s", (int)reason_len, reason);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
    char *msg = NULL;

    if (libbpf_debug) {
        vfprintf(stderr, fmt, ap);
        return 0;
    }
    /* Whole: a verifier log gives its reason at the end, after up to megabytes of trace. */
    if (level != LIBBPF_WARN || vasprintf(&msg, fmt, ap) < 0)
        return 0;
    keep_verifier_reason(msg);
    if (!libbpf_first[0]) {
        size_t n;
        snprintf(libbpf_first, sizeof(libbpf_first), "%.*s", (int)sizeof(libbpf_first) - 1,
                 msg);
        n = strlen(libbpf_first);
        while (n && libbpf_first[n - 1] == '\n')
            libbpf_first[--n] = '\0';
    }
    free(msg);
    return 0;
}

/* Whether this process may load and attach the programs: CAP_BPF and CAP_PERFMON, or
 * CAP_SYS_ADMIN (kernels before 5.8 know only that one). Asked before loading, so that a
 * refusal afterwards is the kernel's, not a matter of privileges. */
static bool has_bpf_privileges(void)
{
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2] = {{0}};
    uint64_t eff;

    if (syscall(SYS_capget, &hdr, data) < 0)
        return geteuid() == 0;
    eff = (uint64_t)data[1].effective << 32 | data[0].effective;
    if (eff & (1ull << CAP_SYS_ADMIN))
        return true;
    return (eff & (1ull << 39 /* CAP_BPF */)) && (eff & (1ull << 38 /* CAP_PERFMON */));
}

/* Words of the fast filter (one bit per pid): kernel.pid_max rounded up, 4M pids by
 * default (512 KiB). */
static uint32_t active_words(void)
{
    unsigned long pid_max = 4194304;
    FILE *f = fopen("/proc/sys/kernel/pid_max", "re");
    if (f) {
        if (fscanf(f, "%lu", &pid_max) != 1 || pid_max == 0 || pid_max > (1ul << 30))
            pid_max = 4194304;
        fclose(f);
    }
    return (uint32_t)((pid_max + 63) / 64);
}

static int needs_root(void)
{
    return roar_error_set(ROAR_EUNSUPPORTED,
                          "the eBPF tracer needs root (CAP_BPF and CAP_PERFMON): run it "
                          "as root or through sudo, or use '-t preload'");
}

static int unsupported(int err, const char *what)
{
    err = err < 0 ? -err : err;
    return roar_error_set(ROAR_EUNSUPPORTED, "the eBPF tracer cannot %s: %s%s%s", what,
                          strerror(err), libbpf_first[0] ? ": " : "", libbpf_first);
}

/* The programs did not load, with the privileges to load them. EPERM is the kernel's
 * policy (lockdown, a security module): nothing to do here. Anything else is the
 * verifier refusing our programs on this kernel: a bug of ours, never a reason for the
 * tests to skip, so not ROAR_EUNSUPPORTED. */
static int load_failed(int err)
{
    err = err < 0 ? -err : err;
    if (err == EPERM)
        return unsupported(err, "load its programs (the kernel's policy forbids it)");
    if (verifier_reason[0])
        return roar_error_set(ROAR_ERROR,
                              "the kernel's verifier refused the eBPF tracer's programs: %s; "
                              "a bug in git roar, please report it; use '-t preload'",
                              verifier_reason);
    return roar_error_set(ROAR_ERROR, "the eBPF tracer cannot load its programs: %s%s%s",
                          strerror(err), libbpf_first[0] ? ": " : "", libbpf_first);
}

/* Hands one converted record to the consumer's callback, remembering its refusal. */
static int deliver(const void *rec, size_t len, void *payload)
{
    roar_ebpf *t = payload;
    int error = t->cb(rec, len, t->payload);
    if (error < 0)
        t->cb_error = error;
    else
        t->delivered++;
    return error;
}

static int on_sample(void *ctx, void *data, size_t size)
{
    roar_ebpf *t = ctx;
    int error = roar_ebpf_conv_record(t->conv, data, size, deliver, t);

    if (error < 0 && t->cb_error == 0) {
        /* not the callback: a record we could not read is a lost one */
        t->bad++;
        roar_error_clear();
        return 0;
    }
    return error;
}

int roar_ebpf_open(roar_ebpf **out, const roar_ebpf_opts *opts)
{
    roar_ebpf_opts o = {0};
    libbpf_print_fn_t old_print;
    LIBBPF_OPTS(bpf_object_open_opts, oopts);
    const char *debug;
    char btf_path[64];
    int btf_fd = -1;
    roar_ebpf *t;
    uint64_t t0;
    int error = 0, err, ncpu;

    *out = NULL;
    if (opts)
        o = *opts;
    if (!o.ring_bytes)
        o.ring_bytes = DEFAULT_RING;
    if (!o.drain_ms)
        o.drain_ms = DEFAULT_DRAIN_MS;
    if (!o.walk_budget || o.walk_budget > ROAR_BPF_WALK_MAX)
        o.walk_budget = ROAR_BPF_WALK_MAX;
    if (o.ring_bytes < 4096 || (o.ring_bytes & (o.ring_bytes - 1)) || o.ring_bytes > (1u << 30))
        return roar_error_set(ROAR_EINVALID, "eBPF ring size %zu is not a power of two "
                                             "between 4 KiB and 1 GiB",
                              o.ring_bytes);
    if (access("/sys/kernel/btf/vmlinux", R_OK) < 0)
        return roar_error_set(ROAR_EUNSUPPORTED,
                              "the eBPF tracer needs a kernel with BTF "
                              "(/sys/kernel/btf/vmlinux): use '-t preload'");

    if (!has_bpf_privileges())
        return needs_root();

    if (!(t = calloc(1, sizeof(*t))))
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    roar_buf_init(&t->queue);
    t->drain_ms = o.drain_ms;
    if ((error = roar_ebpf_conv_new(&t->conv)) < 0) {
        free(t);
        return error;
    }

    libbpf_first[0] = verifier_reason[0] = '\0';
    debug = getenv("ROAR_EBPF_DEBUG");
    libbpf_debug = debug && *debug;
    old_print = libbpf_set_print(libbpf_print);

    t0 = now_us();
    if ((btf_fd = min_btf_fd(btf_path)) >= 0)
        oopts.btf_custom_path = btf_path;
    if (!(t->skel = roar_bpf__open_opts(&oopts))) {
        error = unsupported(errno, "open its programs");
        goto cleanup;
    }
    ncpu = libbpf_num_possible_cpus();
    if (ncpu <= 0) {
        error = unsupported(ncpu, "count the CPUs");
        goto cleanup;
    }
    if ((err = bpf_map__set_max_entries(t->skel->maps.events, (uint32_t)o.ring_bytes)) < 0 ||
        (err = bpf_map__set_max_entries(t->skel->maps.scratch, (uint32_t)ncpu)) < 0 ||
        (err = bpf_map__set_max_entries(t->skel->maps.active, active_words())) < 0) {
        error = unsupported(err, "size its maps");
        goto cleanup;
    }
    t->skel->rodata->walk_budget = o.walk_budget;
    t->skel->rodata->syscall_knobs = (o.empty_syscalls ? ROAR_BPF_KNOB_EMPTY : 0) |
                                     (o.verifier_refusal ? ROAR_BPF_KNOB_REFUSE : 0);
    t->skel->rodata->file_btf_id = o.probe_reads ? 0 : file_btf_id(btf_fd >= 0);
    /* ROAR_EBPF_DEBUG=2: the verifier's statistics for each program, even when it
     * accepts it (each function's stack depth: their sum along a call chain must stay
     * within 512 bytes). */
    if (libbpf_debug && !strcmp(debug, "2")) {
        struct bpf_program *prog;
        bpf_object__for_each_program(prog, t->skel->obj)
            bpf_program__set_log_level(prog, 4 /* BPF_LOG_STATS */);
    }
    t->timing.open_us = now_us() - t0;

    t0 = now_us();
    if ((err = roar_bpf__load(t->skel)) < 0) {
        error = load_failed(err);
        goto cleanup;
    }
    t->timing.load_us = now_us() - t0;

    t0 = now_us();
    if ((err = roar_bpf__attach(t->skel)) < 0) {
        error = unsupported(err, "attach to the kernel's tracepoints");
        goto cleanup;
    }
    t->rb = ring_buffer__new(bpf_map__fd(t->skel->maps.events), on_sample, t, NULL);
    if (!t->rb) {
        error = unsupported(errno, "read its ring buffer");
        goto cleanup;
    }
    t->timing.attach_us = now_us() - t0;

cleanup:
    libbpf_set_print(old_print);
    if (btf_fd >= 0)
        close(btf_fd);
    if (error < 0) {
        roar_ebpf_free(t);
        return error;
    }
    *out = t;
    return 0;
}

void roar_ebpf_free(roar_ebpf *t)
{
    if (!t)
        return;
    ring_buffer__free(t->rb);
    roar_bpf__destroy(t->skel);
    roar_ebpf_conv_free(t->conv);
    roar_buf_dispose(&t->queue);
    free(t);
}

int roar_ebpf_start(roar_ebpf *t, pid_t root)
{
    struct roar_bpf_proc v = {ROAR_BPF_T_WAIT_EXEC};
    uint32_t key = (uint32_t)root;

    if (bpf_map__update_elem(t->skel->maps.traced, &key, sizeof(key), &v, sizeof(v), BPF_ANY) <
        0)
        return roar_error_set_errno(ROAR_ERROR, "cannot trace process %d", (int)root);
    return 0;
}

int roar_ebpf_consume(roar_ebpf *t, roar_ebpf_record_cb cb, void *payload)
{
    int n;

    t->cb = cb;
    t->payload = payload;
    t->cb_error = 0;
    t->delivered = 0;
    n = ring_buffer__consume(t->rb);
    if (t->cb_error < 0)
        return t->cb_error;
    if (n < 0)
        return roar_error_set(ROAR_ERROR, "cannot read the eBPF ring buffer: %s", strerror(-n));
    return t->delivered;
}

static int queue_record(const void *rec, size_t len, void *payload)
{
    return roar_buf_put(&((roar_ebpf *)payload)->queue, rec, len);
}

int roar_ebpf_read(roar_ebpf *t, void *buf, size_t cap, size_t *out_len, int wait_ms)
{
    /* Read the clock only once the ring is empty, not for each of a build's ~100k records. */
    uint64_t deadline = 0;
    int error;

    *out_len = 0;
    for (;;) {
        if (t->qpos < t->queue.size) {
            struct roar_event_hdr h;
            /* records in the queue were encoded here: their lengths are right */
            memcpy(&h, t->queue.ptr + t->qpos, sizeof(h));
            if (h.len > cap)
                return roar_error_set(ROAR_ELIMIT, "ebpf: record of %u bytes", h.len);
            memcpy(buf, t->queue.ptr + t->qpos, h.len);
            *out_len = h.len;
            t->qpos += h.len;
            return 0;
        }
        roar_buf_clear(&t->queue);
        t->qpos = 0;
        if ((error = roar_ebpf_consume(t, queue_record, t)) < 0)
            return error;
        if (t->queue.size)
            continue;
        {
            uint64_t now, step = (uint64_t)t->drain_ms * 1000u;
            struct timespec ts;
            if (wait_ms <= 0)
                return 0;
            now = now_us();
            if (!deadline)
                deadline = now + (uint64_t)wait_ms * 1000u;
            if (now >= deadline)
                return 0;
            if (step > deadline - now)
                step = deadline - now;
            ts.tv_sec = (time_t)(step / 1000000u);
            ts.tv_nsec = (long)(step % 1000000u) * 1000;
            nanosleep(&ts, NULL);
        }
    }
}

uint64_t roar_ebpf_lost(roar_ebpf *t)
{
    return __atomic_load_n(&t->skel->bss->lost, __ATOMIC_RELAXED) +
           __atomic_load_n(&t->skel->bss->untracked, __ATOMIC_RELAXED) + t->bad +
           roar_ebpf_conv_unnamed(t->conv);
}

unsigned roar_ebpf_drain_ms(const roar_ebpf *t)
{
    return t->drain_ms;
}

void roar_ebpf_timing_get(roar_ebpf_timing *out, const roar_ebpf *t)
{
    *out = t->timing;
}

/* ---- the collector's source ---- */

static int es_start(void *self, pid_t root)
{
    return roar_ebpf_start(self, root);
}

static int es_read(void *self, void *buf, size_t cap, size_t *out_len, int wait_ms)
{
    return roar_ebpf_read(self, buf, cap, out_len, wait_ms);
}

static uint64_t es_lost(void *self)
{
    return roar_ebpf_lost(self);
}

/* Descendants still running past roar.waitDescendants stop being traced (SPEC §4.1). */
static void es_stop(void *self)
{
    roar_ebpf *t = self;
    size_t len = (size_t)bpf_map__max_entries(t->skel->maps.active) * sizeof(uint64_t);
    int fd = bpf_map__fd(t->skel->maps.traced), afd = bpf_map__fd(t->skel->maps.active);
    uint32_t key, next;
    void *bits;

    /* the fast filter first: from here on no syscall of the job is looked at */
    bits = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, afd, 0);
    if (bits != MAP_FAILED) {
        memset(bits, 0, len);
        munmap(bits, len);
    }
    while (bpf_map_get_next_key(fd, NULL, &next) == 0) {
        key = next;
        if (bpf_map_delete_elem(fd, &key) < 0)
            break;
    }
}

static void es_free(void *self)
{
    roar_ebpf_free(self);
}

int roar_ebpf_source_new(roar_trace_source *out, const roar_ebpf_opts *opts)
{
    roar_ebpf *t;
    int error;

    memset(out, 0, sizeof(*out));
    if ((error = roar_ebpf_open(&t, opts)) < 0)
        return error;
    out->name = "ebpf";
    out->self = t;
    out->sees_every_write = true;
    out->start = es_start;
    out->read = es_read;
    out->lost = es_lost;
    out->stop = es_stop;
    out->free = es_free;
    return 0;
}

#else /* !ROAR_HAVE_EBPF */

/* Built without the tracer: every entry point says so, in words the CLI can print. */
struct roar_ebpf {
    int unused;
};

bool roar_ebpf_built(void)
{
    return false;
}

static int not_built(void)
{
    return roar_error_set(ROAR_EUNSUPPORTED,
                          "the eBPF tracer is not built in (clang, bpftool, libbpf or the "
                          "kernel's BTF was missing at build time): use '-t preload'");
}

int roar_ebpf_open(roar_ebpf **out, const roar_ebpf_opts *opts)
{
    (void)opts;
    *out = NULL;
    return not_built();
}

void roar_ebpf_free(roar_ebpf *t)
{
    (void)t;
}

int roar_ebpf_start(roar_ebpf *t, pid_t root)
{
    (void)t;
    (void)root;
    return not_built();
}

int roar_ebpf_consume(roar_ebpf *t, roar_ebpf_record_cb cb, void *payload)
{
    (void)t;
    (void)cb;
    (void)payload;
    return not_built();
}

int roar_ebpf_read(roar_ebpf *t, void *buf, size_t cap, size_t *out_len, int wait_ms)
{
    (void)t;
    (void)buf;
    (void)cap;
    (void)wait_ms;
    *out_len = 0;
    return not_built();
}

uint64_t roar_ebpf_lost(roar_ebpf *t)
{
    (void)t;
    return 0;
}

unsigned roar_ebpf_drain_ms(const roar_ebpf *t)
{
    (void)t;
    return 0;
}

void roar_ebpf_timing_get(roar_ebpf_timing *out, const roar_ebpf *t)
{
    (void)t;
    memset(out, 0, sizeof(*out));
}

int roar_ebpf_source_new(roar_trace_source *out, const roar_ebpf_opts *opts)
{
    (void)opts;
    memset(out, 0, sizeof(*out));
    return not_built();
}

#endif /* ROAR_HAVE_EBPF */
