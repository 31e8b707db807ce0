/* The eBPF tracer's record conversion: the kernel's records (roar_bpf.h) into event.h
 * records, with paths joined to each process's cwd, which it follows through fork,
 * exec, chdir and renames. Needs no BPF: the unit tests feed it records directly. */
#include "trace/ebpf/loader.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trace/ebpf/roar_bpf.h"
#include "util/keymap.h"
#include "util/pathlex.h"
#include "trace/ring_layout.h"
#include "util/buf.h"
#include "util/err.h"

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

/* CLOSE fd..fd2 for each process of who[2] (0: none). */
static int emit_closes(roar_ebpf_conv *c, const uint32_t who[2], uint32_t fd, uint32_t fd2,
                       roar_ebpf_record_cb cb, void *payload)
{
    struct roar_event_hdr x;
    int i, error;

    memset(&x, 0, sizeof(x));
    x.type = ROAR_EV_CLOSE;
    x.fd = (int32_t)fd;
    x.fd2 = (int32_t)fd2;
    for (i = 0; i < 2; i++) {
        if (!who[i])
            continue;
        x.tgid = x.tid = who[i];
        if ((error = emit(c, &x, NULL, NULL, cb, payload)) < 0)
            return error;
    }
    return 0;
}

/* A table's open fds (roar_bpf.h, struct roar_bpf_fdset): a CLOSE for each run of
 * closed numbers, for each process named; the run that reaches the table's end goes on
 * to INT32_MAX. Numbers past the words sent, in a larger table, are left alone. */
static int conv_fdset_record(roar_ebpf_conv *c, const void *rec, size_t len,
                             roar_ebpf_record_cb cb, void *payload)
{
    struct roar_bpf_fdset fs;
    uint32_t known, fd = 0, end, who[2];
    int error;

    /* the length first: the record's form word said what it is, not that it is whole */
    if (len != sizeof(fs))
        return roar_error_set(ROAR_EINVALID, "ebpf: bad fd set record (length %zu)", len);
    memcpy(&fs, rec, sizeof(fs));
    if (fs.tgid == 0)
        return roar_error_set(ROAR_EINVALID, "ebpf: fd set record without a process");
    who[0] = fs.tgid;
    who[1] = fs.tgid2;
    known = ROAR_BPF_FDSET_WORDS * 64;
    if (fs.max_fds < known)
        known = fs.max_fds;
    while (fd < known) {
        if (fs.words[fd / 64] & (1ull << (fd % 64))) {
            fd++;
            continue;
        }
        for (end = fd; end < known && !(fs.words[end / 64] & (1ull << (end % 64))); end++)
            ;
        if ((error = emit_closes(c, who, fd, end >= fs.max_fds ? INT32_MAX : end - 1, cb,
                                 payload)) < 0)
            return error;
        if (end >= fs.max_fds)
            return 0;
        fd = end;
    }
    if (fs.max_fds <= ROAR_BPF_FDSET_WORDS * 64 && fs.max_fds < (uint32_t)INT32_MAX)
        return emit_closes(c, who, fs.max_fds, INT32_MAX, cb, payload);
    return 0;
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
        if (form == ROAR_BPF_FORM_FDSET)
            return conv_fdset_record(c, rec, len, cb, payload);
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
