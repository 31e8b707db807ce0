/* SPEC §4 applied to a stream of tracer events: fd tables per process (sharing open file
 * descriptions like the kernel does) and a per-file summary that yields in/out/del. */
#include "trace/fdstate_internal.h"
#include "util/keymap.h"
#include "util/buf.h"
#include "util/err.h"

#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

/* An open file description: dup'd and inherited fds share one. */
typedef struct {
    size_t refs;
    roar_fsfile *file; /* NULL: not a regular file (pipe, socket, directory, O_PATH...) */
    bool rd, wr;
    bool read_seen, write_seen;
} fs_ofd;

typedef struct {
    fs_ofd *ofd;
    bool cloexec;
} fs_fdent;

/* One fd table; threads, and processes cloned with CLONE_FILES, share it. */
typedef struct {
    size_t refs;
    roar_keymap fds; /* int fd -> fs_fdent* */
} fs_table;

typedef struct {
    uint32_t tgid;
    fs_table *tab;
} fs_proc;

static void *const PRESENT = (void *)&PRESENT;

/* ---- files and names ---------------------------------------------------- */

int fdstate_file_new(roar_fsfile **out, roar_fdstate *st)
{
    roar_fsfile *f;
    *out = NULL;
    if (ROAR_ALLOC_GROW(st->files, st->file_count + 1, st->file_alloc) < 0)
        return ROAR_ENOMEM;
    f = calloc(1, sizeof(*f));
    if (!f)
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    st->files[st->file_count++] = f;
    *out = f;
    return 0;
}

static void file_free(roar_fsfile *f)
{
    size_t i;
    for (i = 0; i < f->name_count; i++)
        free(f->names[i].path);
    free(f->names);
    free(f->input_name);
    free(f);
}

int fdstate_name_index(const roar_fsfile *f, const char *path)
{
    size_t i;
    for (i = 0; i < f->name_count; i++)
        if (strcmp(f->names[i].path, path) == 0)
            return (int)i;
    return -1;
}

/* Drops names[idx]. When the recorded name goes and others remain, a name the job made
 * (link target) takes its place first: temp + link final + unlink temp -> final. */
static void name_remove(roar_fsfile *f, size_t idx)
{
    size_t j, pick = 1;
    free(f->names[idx].path);
    if (idx == 0 && f->name_count > 1) {
        for (j = 1; j < f->name_count; j++)
            if (f->names[j].target) {
                pick = j;
                break;
            }
        f->names[0] = f->names[pick];
        idx = pick;
    }
    memmove(&f->names[idx], &f->names[idx + 1], (f->name_count - idx - 1) * sizeof(fs_name));
    f->name_count--;
}

/* Forgets that path names anything. */
void fdstate_unbind_path(roar_fdstate *st, const char *path)
{
    roar_fsfile *g = roar_keymap_removes(&st->by_path, path);
    int idx;
    if (g && (idx = fdstate_name_index(g, path)) >= 0)
        name_remove(g, (size_t)idx);
}

/* Binds path to f (taking it from whatever it named before). */
int fdstate_bind_path(roar_fdstate *st, roar_fsfile *f, const char *path, bool target)
{
    char *copy;
    int idx, error;
    roar_fsfile *g = roar_keymap_gets(&st->by_path, path);

    if (g == f && (idx = fdstate_name_index(f, path)) >= 0) {
        f->names[idx].target |= target;
        return 0;
    }
    if (g)
        fdstate_unbind_path(st, path);
    if (ROAR_ALLOC_GROW(f->names, f->name_count + 1, f->name_alloc) < 0)
        return ROAR_ENOMEM;
    if (!(copy = strdup(path)))
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    if ((error = roar_keymap_puts(&st->by_path, path, f)) < 0) {
        free(copy);
        return error;
    }
    f->names[f->name_count].path = copy;
    f->names[f->name_count].target = target;
    f->name_count++;
    return 0;
}

int fdstate_mark_path(roar_keymap *m, const char *path)
{
    return roar_keymap_puts(m, path, PRESENT);
}

static const char *stored_name(const roar_fsfile *f, const char *path)
{
    int idx = path ? fdstate_name_index(f, path) : -1;
    if (idx >= 0)
        return f->names[idx].path;
    return f->name_count ? f->names[0].path : NULL;
}

int fdstate_set_key(roar_fdstate *st, roar_fsfile *f, const roar_ident *id)
{
    uint64_t key[2];
    if (!id || !id->known || (f->has_key && f->dev == id->dev && f->ino == id->ino))
        return 0;
    if (f->has_key) {
        key[0] = f->dev;
        key[1] = f->ino;
        if (roar_keymap_get(&st->by_ident, key, sizeof(key)) == f)
            roar_keymap_remove(&st->by_ident, key, sizeof(key));
    }
    f->has_key = true;
    f->dev = id->dev;
    f->ino = id->ino;
    key[0] = id->dev;
    key[1] = id->ino;
    return roar_keymap_put(&st->by_ident, key, sizeof(key), f);
}

roar_fsfile *fdstate_by_ident(const roar_fdstate *st, const roar_ident *id)
{
    uint64_t key[2];
    if (!id || !id->known)
        return NULL;
    key[0] = id->dev;
    key[1] = id->ino;
    return roar_keymap_get(&st->by_ident, key, sizeof(key));
}

/* A pre-existing file found under path: a del candidate unless the job made that name. */
int fdstate_discover(roar_fsfile **out, roar_fdstate *st, const char *path, const roar_ident *id)
{
    roar_fsfile *f;
    int error;
    if ((error = fdstate_file_new(&f, st)) < 0)
        return error;
    f->preexisting = true;
    if ((error = fdstate_bind_path(st, f, path, false)) < 0 ||
        (error = fdstate_set_key(st, f, id)) < 0)
        return error;
    if (!roar_keymap_gets(&st->madepaths, path) &&
        (error = fdstate_mark_path(&st->prepaths, path)) < 0)
        return error;
    *out = f;
    return 0;
}

/* The file that path (with identity id, if known) names now, creating its record.
 * Identity wins over the path: two names of one inode are one file (§4.2). */
int fdstate_place(roar_fsfile **out, roar_fdstate *st, const char *path, const roar_ident *id,
                  bool created)
{
    roar_fsfile *fi = fdstate_by_ident(st, id), *fp = roar_keymap_gets(&st->by_path, path), *f;
    int error;

    *out = NULL;
    if (created) {
        if (fi)
            fi->has_key = false; /* a reused inode number: the old file is gone */
        if ((error = fdstate_file_new(&f, st)) < 0)
            return error;
        f->created = f->changed = true;
        if ((error = fdstate_bind_path(st, f, path, false)) < 0 ||
            (error = fdstate_mark_path(&st->madepaths, path)) < 0 ||
            (error = fdstate_set_key(st, f, id)) < 0)
            return error;
        *out = f;
        return 0;
    }
    if (fi) {
        if (fp != fi) {
            if ((error = fdstate_bind_path(st, fi, path, false)) < 0)
                return error;
            if (fi->preexisting && !roar_keymap_gets(&st->madepaths, path) &&
                (error = fdstate_mark_path(&st->prepaths, path)) < 0)
                return error;
        }
        *out = fi;
        return 0;
    }
    if (fp && !(id && id->known && fp->has_key)) {
        if ((error = fdstate_set_key(st, fp, id)) < 0)
            return error;
        *out = fp;
        return 0;
    }
    /* A path the job's renames may have brought here from another name. */
    if (!fp && st->history_count)
        return fdstate_place_moved(out, st, path, id);
    /* Unknown path, or it names another inode than we thought: replaced behind our
     * back (by something untraced); what is there now predates our knowledge. */
    return fdstate_discover(out, st, path, id);
}

/* ---- hash requests ------------------------------------------------------ */

int fdstate_request_hash(roar_fdstate *st, roar_fsfile *f, roar_hash_reason reason,
                         const roar_ident *id, const char *path, uint32_t tgid, int fd)
{
    fs_hashreq *r;
    const char *name;
    if (f->hash_requested || f->changed || !f->preexisting)
        return 0;
    if (!(name = stored_name(f, path)))
        return 0;
    if (st->req_head > 0 && st->req_head == st->req_count)
        st->req_head = st->req_count = 0;
    if (ROAR_ALLOC_GROW(st->reqs, st->req_count + 1, st->req_alloc) < 0)
        return ROAR_ENOMEM;
    r = &st->reqs[st->req_count];
    if (!(r->path = strdup(name)))
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    r->file = f;
    r->reason = reason;
    r->tgid = tgid;
    r->fd = fd;
    if (id)
        r->ident = *id;
    else
        memset(&r->ident, 0, sizeof(r->ident));
    st->req_count++;
    f->hash_requested = true;
    return 0;
}

bool roar_fdstate_next_hash(roar_fdstate *st, roar_fdstate_hashreq *out)
{
    fs_hashreq *r;
    free(st->popped_path);
    st->popped_path = NULL;
    memset(out, 0, sizeof(*out));
    if (st->req_head >= st->req_count)
        return false;
    r = &st->reqs[st->req_head++];
    st->popped_path = r->path;
    out->reason = r->reason;
    out->file = r->file;
    out->path = r->path;
    out->ident = r->ident;
    out->tgid = r->tgid;
    out->fd = r->fd;
    return true;
}

void roar_fdstate_set_prefix(roar_fdstate *st, roar_fsfile *file, const char *id,
                             uint64_t size)
{
    (void)st;
    file->prefix_known = true;
    memcpy(file->prefix, id, ROAR_FDSTATE_OIDSZ);
    file->prefix[ROAR_FDSTATE_OIDSZ] = '\0';
    file->prefix_size = size;
}

void roar_fdstate_set_preimage(roar_fdstate *st, roar_fsfile *file, const char *id,
                               uint64_t size)
{
    (void)st;
    file->preimage_known = id != NULL;
    if (id) {
        memcpy(file->preimage, id, ROAR_FDSTATE_OIDSZ);
        file->preimage[ROAR_FDSTATE_OIDSZ] = '\0';
    }
    file->preimage_size = size;
}

/* ---- the §4.4 and §4.5 transitions -------------------------------------- */

/* §4.4: the file is an input if the job has not yet changed it. Recorded under its name
 * at this moment (a later rename does not move an input). */
int fdstate_make_input(roar_fdstate *st, roar_fsfile *f, const roar_ident *id, const char *path,
                       bool hash_now, uint32_t tgid, int fd)
{
    if (f->changed || !f->preexisting || f->name_count == 0)
        return 0;
    if (!f->input) {
        if (!(f->input_name = strdup(f->names[0].path)))
            return roar_error_set(ROAR_ENOMEM, "out of memory");
        f->input = true;
        if (id)
            f->input_ident = *id;
    } else if (!f->input_ident.known && id && id->known) {
        /* An input before any event showed its content (a file moved with its
         * directory, fdstate_rename.c): the first event that does, the job not having
         * changed it, gives its identity, and may ask for its hash. */
        f->input_ident = *id;
    }
    return hash_now ? fdstate_request_hash(st, f, ROAR_HASH_INPUT, id, path, tgid, fd) : 0;
}

typedef enum { CHANGE_TRUNC_ZERO, CHANGE_OTHER } change_kind;

static bool pending_was_empty(const roar_fsfile *f)
{
    return f->pending_ident.known && f->pending_ident.size == 0;
}

static int mark_change(roar_fdstate *st, roar_fsfile *f, change_kind kind)
{
    int error = 0;
    if (f->changed)
        return 0;
    /* An in-place edit or append after a write-capable open derives the new content
     * from the old; a first change that empties the file does not (§4.4), and neither
     * does one to a file that was empty at that open: nothing can be derived from no
     * bytes (`git roar run cmd > out`: the shell truncated out before the job). */
    if (kind != CHANGE_TRUNC_ZERO && f->write_pending && !pending_was_empty(f))
        error = fdstate_make_input(st, f, &f->pending_ident, NULL, false, 0, -1);
    f->changed = true;
    return error;
}

/* ---- fd tables ---------------------------------------------------------- */

static void ofd_unref(fs_ofd *o)
{
    if (o && --o->refs == 0)
        free(o);
}

static int ofd_new(fs_ofd **out, roar_fsfile *file, bool rd, bool wr)
{
    fs_ofd *o = calloc(1, sizeof(*o));
    *out = o;
    if (!o)
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    o->refs = 1;
    o->file = file;
    o->rd = rd;
    o->wr = wr;
    return 0;
}

static void table_unref(fs_table *t)
{
    size_t i;
    if (!t || --t->refs > 0)
        return;
    for (i = 0; i < t->fds.cap; i++) {
        fs_fdent *e = t->fds.slots[i].key ? t->fds.slots[i].value : NULL;
        if (e) {
            ofd_unref(e->ofd);
            free(e);
        }
    }
    roar_keymap_dispose(&t->fds);
    free(t);
}

static fs_table *table_new(void)
{
    fs_table *t = calloc(1, sizeof(*t));
    if (t)
        t->refs = 1;
    return t;
}

static fs_fdent *fd_get(const fs_table *t, int fd)
{
    return roar_keymap_get(&t->fds, &fd, sizeof(fd));
}

static void fd_close(fs_table *t, int fd)
{
    fs_fdent *e = roar_keymap_remove(&t->fds, &fd, sizeof(fd));
    if (e) {
        ofd_unref(e->ofd);
        free(e);
    }
}

/* Makes fd name the description o (the table takes one reference on o). */
static int fd_install(fs_table *t, int fd, fs_ofd *o, bool cloexec)
{
    fs_fdent *e = fd_get(t, fd);
    int error;
    if (!e) {
        if (!(e = calloc(1, sizeof(*e))))
            return roar_error_set(ROAR_ENOMEM, "out of memory");
        if ((error = roar_keymap_put(&t->fds, &fd, sizeof(fd), e)) < 0) {
            free(e);
            return error;
        }
    } else {
        ofd_unref(e->ofd);
    }
    e->ofd = o;
    o->refs++;
    e->cloexec = cloexec;
    return 0;
}

static int table_copy(fs_table **out, const fs_table *src)
{
    fs_table *t = table_new();
    size_t i;
    int error;
    *out = NULL;
    if (!t)
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    for (i = 0; i < src->fds.cap; i++) {
        const roar_keymap_slot *s = &src->fds.slots[i];
        const fs_fdent *e;
        int fd;
        if (!s->key)
            continue;
        e = s->value;
        memcpy(&fd, s->key, sizeof(fd));
        if ((error = fd_install(t, fd, e->ofd, e->cloexec)) < 0) {
            table_unref(t);
            return error;
        }
    }
    *out = t;
    return 0;
}

static int get_proc(fs_proc **out, roar_fdstate *st, uint32_t tgid)
{
    fs_proc *p = roar_keymap_get(&st->procs, &tgid, sizeof(tgid));
    int error;
    *out = p;
    if (p)
        return 0;
    if (!(p = calloc(1, sizeof(*p))) || !(p->tab = table_new())) {
        free(p);
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    }
    p->tgid = tgid;
    if ((error = roar_keymap_put(&st->procs, &tgid, sizeof(tgid), p)) < 0) {
        table_unref(p->tab);
        free(p);
        return error;
    }
    *out = p;
    return 0;
}

static void proc_drop(roar_fdstate *st, uint32_t tgid)
{
    fs_proc *p = roar_keymap_remove(&st->procs, &tgid, sizeof(tgid));
    if (p) {
        table_unref(p->tab);
        free(p);
    }
}

/* The regular file an fd-based event acts on. When the event carries an identity that
 * the table disagrees with (an open we missed: glibc-internal, or fd reuse we did not
 * see), the identity and path win and the fd is re-pointed, as the shim's fstat check
 * on first write intends. An identity that names no regular file we know (a pipe, a
 * socket, a file the job never opened by name) means the table's entry is stale: the
 * eBPF tracer sends no close records (docs/ebpf.md, Events), so a closed fd's entry
 * stays until its number is reused, and only the identity tells. */
static int fd_file(roar_fsfile **out, fs_ofd **out_ofd, roar_fdstate *st, fs_proc *p, int fd,
                   const roar_event *ev, bool rd, bool wr)
{
    fs_fdent *e = fd_get(p->tab, fd);
    roar_fsfile *f = e ? e->ofd->file : NULL;
    roar_ident id;
    fs_ofd *o;
    bool stale;
    int error;

    *out = f;
    *out_ofd = e ? e->ofd : NULL;
    roar_event_ident(&id, ev);
    if (!id.known)
        return 0;
    if (f && f->has_key && f->dev == id.dev && f->ino == id.ino)
        return 0;
    stale = !f || f->has_key; /* a keyless file (opened without identity) cannot disagree */
    if (stale) {
        *out = NULL;
        *out_ofd = NULL;
    }
    f = NULL;
    if (!id.mode || S_ISREG(id.mode)) {
        f = fdstate_by_ident(st, &id);
        if (!f && ev->path && (error = fdstate_place(&f, st, ev->path, &id, false)) < 0)
            return error;
    }
    if (!f) {
        /* the fd names something else, we do not know what: a stale entry stops naming
         * its file (an unknown description takes its place) */
        if (!stale || !e)
            return 0;
    } else {
        if (wr)
            f->nonappend = true; /* an open we missed: O_APPEND or not, nobody knows */
        if (rd && (error = fdstate_make_input(st, f, &id, ev->path, true, p->tgid, fd)) < 0)
            return error;
    }
    if ((error = ofd_new(&o, f, rd, wr)) < 0)
        return error;
    error = fd_install(p->tab, fd, o, e ? e->cloexec : false);
    ofd_unref(o);
    if (error < 0)
        return error;
    *out = f;
    *out_ofd = f ? o : NULL;
    return 0;
}

/* ---- events ------------------------------------------------------------- */

static int ev_open(roar_fdstate *st, const roar_event *ev, bool inherited)
{
    uint64_t flags = ev->h.flags;
    int acc = (int)(flags & O_ACCMODE);
    bool rd = acc == O_RDONLY || acc == O_RDWR, wr = acc == O_WRONLY || acc == O_RDWR;
    bool tmpfile = (flags & O_TMPFILE) == O_TMPFILE;
    bool created = !inherited && (ev->h.created || tmpfile);
    bool trunc = !inherited && !created && (flags & O_TRUNC);
    bool cloexec = !inherited && (flags & O_CLOEXEC);
    roar_fsfile *f = NULL;
    roar_ident id;
    fs_proc *p;
    fs_ofd *o;
    int error;

    roar_event_ident(&id, ev);
    if ((error = get_proc(&p, st, ev->h.tgid)) < 0)
        return error;
    /* Only regular files count (§4.1); anything else just replaces what fd named. */
    if ((flags & O_PATH) || (!tmpfile && (flags & O_DIRECTORY)) ||
        (id.known && id.mode && !S_ISREG(id.mode)))
        goto install;

    if (tmpfile) {
        /* An unnamed file in that directory; linkat may name it later. */
        if ((error = fdstate_file_new(&f, st)) < 0 || (error = fdstate_set_key(st, f, &id)) < 0)
            return error;
        f->created = f->changed = true;
    } else if ((error = fdstate_place(&f, st, ev->path, &id, created)) < 0) {
        return error;
    }

    if (wr && (!(flags & O_APPEND) || (flags & O_TRUNC)))
        f->nonappend = true;
    if (trunc && (error = mark_change(st, f, CHANGE_TRUNC_ZERO)) < 0)
        return error;
    if (!created && !trunc) {
        if (rd &&
            (error = fdstate_make_input(st, f, &id, ev->path, true, ev->h.tgid, ev->h.fd)) < 0)
            return error;
        if (wr && !f->changed && !f->write_pending) {
            f->write_pending = true;
            f->pending_ident = id;
            if ((error = fdstate_request_hash(st, f, ROAR_HASH_PREIMAGE, &id, ev->path, ev->h.tgid,
                                              ev->h.fd)) < 0)
                return error;
        }
    }

install:
    if ((error = ofd_new(&o, f, rd, wr)) < 0)
        return error;
    error = fd_install(p->tab, ev->h.fd, o, cloexec);
    ofd_unref(o);
    return error;
}

static int ev_fdnew(roar_fdstate *st, const roar_event *ev)
{
    fs_proc *p;
    fs_ofd *o;
    int error;
    if ((error = get_proc(&p, st, ev->h.tgid)) < 0 || (error = ofd_new(&o, NULL, true, true)) < 0)
        return error;
    error = fd_install(p->tab, ev->h.fd, o, ev->h.flags & O_CLOEXEC);
    if (error == 0 && ev->h.fd2 >= 0)
        error = fd_install(p->tab, ev->h.fd2, o, ev->h.flags & O_CLOEXEC);
    ofd_unref(o);
    return error;
}

static int ev_close(roar_fdstate *st, const roar_event *ev)
{
    fs_proc *p = roar_keymap_get(&st->procs, &ev->h.tgid, sizeof(ev->h.tgid));
    int lo = ev->h.fd, hi = ev->h.fd2, *victims = NULL;
    size_t i, n = 0;

    if (!p)
        return 0;
    if (hi < lo)
        hi = lo;
    /* close_range can span 2^31 numbers: walk the table, not the range. */
    if (p->tab->fds.count && !(victims = malloc(p->tab->fds.count * sizeof(int))))
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    for (i = 0; i < p->tab->fds.cap; i++) {
        int fd;
        if (!p->tab->fds.slots[i].key)
            continue;
        memcpy(&fd, p->tab->fds.slots[i].key, sizeof(fd));
        if (fd >= lo && fd <= hi)
            victims[n++] = fd;
    }
    for (i = 0; i < n; i++) {
        if (ev->h.flags & ROAR_CLOSE_F_CLOEXEC)
            fd_get(p->tab, victims[i])->cloexec = true;
        else
            fd_close(p->tab, victims[i]);
    }
    free(victims);
    return 0;
}

static int ev_dup(roar_fdstate *st, const roar_event *ev)
{
    fs_proc *p;
    fs_fdent *e;
    int error;
    if (ev->h.fd == ev->h.fd2)
        return 0;
    if ((error = get_proc(&p, st, ev->h.tgid)) < 0)
        return error;
    if (!(e = fd_get(p->tab, ev->h.fd))) {
        /* The source is unknown to us: whatever fd2 named before is gone. */
        fd_close(p->tab, ev->h.fd2);
        return 0;
    }
    return fd_install(p->tab, ev->h.fd2, e->ofd, ev->h.flags & O_CLOEXEC);
}

static int ev_setfd(roar_fdstate *st, const roar_event *ev)
{
    fs_proc *p = roar_keymap_get(&st->procs, &ev->h.tgid, sizeof(ev->h.tgid));
    fs_fdent *e = p ? fd_get(p->tab, ev->h.fd) : NULL;
    if (e)
        e->cloexec = (ev->h.flags & FD_CLOEXEC) != 0;
    return 0;
}

static int ev_fork(roar_fdstate *st, const roar_event *ev)
{
    fs_proc *parent, *child;
    fs_table *tab;
    uint32_t cpid = ev->h.pid2;
    int error;

    /* A thread has the parent's tgid in its own events: same process, same table. */
    if (ev->h.flags & CLONE_THREAD)
        return get_proc(&parent, st, ev->h.tgid);
    if ((error = get_proc(&parent, st, ev->h.tgid)) < 0)
        return error;
    if (ev->h.flags & CLONE_FILES) {
        tab = parent->tab;
        tab->refs++;
    } else if ((error = table_copy(&tab, parent->tab)) < 0) {
        return error;
    }
    proc_drop(st, cpid); /* a stale entry under a reused pid */
    if ((error = get_proc(&child, st, cpid)) < 0) {
        table_unref(tab);
        return error;
    }
    table_unref(child->tab);
    child->tab = tab;
    return 0;
}

static int ev_exec(roar_fdstate *st, const roar_event *ev)
{
    fs_proc *p;
    roar_fsfile *f;
    roar_ident id;
    size_t i, n = 0;
    int *victims = NULL, error;

    if ((error = get_proc(&p, st, ev->h.tgid)) < 0)
        return error;
    /* exec unshares a table shared through CLONE_FILES, then drops close-on-exec fds. */
    if (p->tab->refs > 1) {
        fs_table *t;
        if ((error = table_copy(&t, p->tab)) < 0)
            return error;
        table_unref(p->tab);
        p->tab = t;
    }
    if (p->tab->fds.count && !(victims = malloc(p->tab->fds.count * sizeof(int))))
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    for (i = 0; i < p->tab->fds.cap; i++) {
        const roar_keymap_slot *s = &p->tab->fds.slots[i];
        if (s->key && ((fs_fdent *)s->value)->cloexec)
            memcpy(&victims[n++], s->key, sizeof(int));
    }
    for (i = 0; i < n; i++)
        fd_close(p->tab, victims[i]);
    free(victims);

    roar_event_ident(&id, ev);
    if ((error = fdstate_place(&f, st, ev->path, &id, false)) < 0)
        return error;
    f->executed = true;
    return fdstate_make_input(st, f, &id, ev->path, true, ev->h.tgid, -1);
}

static int ev_fd_change(roar_fdstate *st, const roar_event *ev)
{
    fs_proc *p;
    roar_fsfile *f;
    fs_ofd *o;
    int error, fd = ev->h.type == ROAR_EV_COPY ? ev->h.fd2 : ev->h.fd;
    bool change = false;

    if ((error = get_proc(&p, st, ev->h.tgid)) < 0 ||
        (error = fd_file(&f, &o, st, p, fd, ev, ev->h.type == ROAR_EV_READ,
                             ev->h.type != ROAR_EV_READ)) < 0)
        return error;
    if (!f)
        return 0;
    switch (ev->h.type) {
    case ROAR_EV_READ:
        o->read_seen = true;
        return 0;
    case ROAR_EV_WRITE:
    case ROAR_EV_COPY:
        if (ev->h.type == ROAR_EV_COPY || (ev->h.flags & ROAR_WRITE_F_NOAPPEND))
            f->nonappend = true;
        /* A zero-byte write changes nothing (§4.5). */
        change = ev->h.ret > 0;
        break;
    case ROAR_EV_MMAP:
        if ((ev->h.arg & PROT_WRITE) && (ev->h.flags & MAP_SHARED))
            change = f->nonappend = true;
        else
            o->read_seen = true;
        if ((ev->h.flags & MAP_SHARED) && o->wr)
            f->shared_map_of_writable = true;
        break;
    case ROAR_EV_FALLOCATE:
        change = f->nonappend = true;
        break;
    case ROAR_EV_TRUNCATE:
        f->nonappend = true;
        o->write_seen = true;
        return mark_change(st, f, ev->h.arg == 0 ? CHANGE_TRUNC_ZERO : CHANGE_OTHER);
    default:
        return 0;
    }
    if (!change)
        return 0;
    o->write_seen = true;
    return mark_change(st, f, CHANGE_OTHER);
}

static int ev_truncate_path(roar_fdstate *st, const roar_event *ev)
{
    roar_fsfile *f;
    roar_ident id;
    int error;
    roar_event_ident(&id, ev);
    if ((error = fdstate_place(&f, st, ev->path, &id, false)) < 0)
        return error;
    f->nonappend = true;
    return mark_change(st, f, ev->h.arg == 0 ? CHANGE_TRUNC_ZERO : CHANGE_OTHER);
}

static int ev_unlink(roar_fdstate *st, const roar_event *ev)
{
    roar_fsfile *f;
    roar_ident id;
    int error;
    if (ev->h.flags & AT_REMOVEDIR)
        /* an empty directory: its files were unlinked one by one */
        return fdstate_note_gone(st, ev->path);
    roar_event_ident(&id, ev);
    /* Unknown so far: it existed (the call succeeded), untouched by the job. */
    if (!roar_keymap_gets(&st->by_path, ev->path) &&
        (error = fdstate_place(&f, st, ev->path, &id, false)) < 0)
        return error;
    fdstate_unbind_path(st, ev->path);
    return fdstate_note_gone(st, ev->path);
}

static int ev_link(roar_fdstate *st, const roar_event *ev)
{
    roar_fsfile *f = NULL;
    roar_ident id;
    int error;

    roar_event_ident(&id, ev);
    if (ev->path) {
        if (!(f = roar_keymap_gets(&st->by_path, ev->path)) &&
            (error = fdstate_place(&f, st, ev->path, &id, false)) < 0)
            return error;
    } else {
        /* linkat(fd, "", ..., AT_EMPTY_PATH): the file behind fd, which the identity,
         * when sent, confirms (the table's entry may be stale, as in fd_file) */
        fs_proc *p = roar_keymap_get(&st->procs, &ev->h.tgid, sizeof(ev->h.tgid));
        fs_fdent *e = p ? fd_get(p->tab, ev->h.fd) : NULL;
        f = e ? e->ofd->file : NULL;
        if (f && id.known && f->has_key && (f->dev != id.dev || f->ino != id.ino))
            f = NULL;
        if (!f)
            f = fdstate_by_ident(st, &id);
        if (!f)
            return 0;
    }
    if ((error = fdstate_make_input(st, f, &id, ev->path, false, 0, -1)) < 0 ||
        (error = fdstate_bind_path(st, f, ev->path2, true)) < 0 ||
        (error = fdstate_mark_path(&st->madepaths, ev->path2)) < 0)
        return error;
    if (f->input && !f->hash_requested)
        return fdstate_request_hash(st, f, ROAR_HASH_INPUT, &id, ev->path2, 0, -1);
    return 0;
}

/* The shim asks before a call that would destroy content (§4.6): is this file's pre-job
 * content still needed, i.e. an input, or a candidate for one, with no id yet? */
static int ev_about_to_destroy(roar_fdstate *st, const roar_event *ev, bool *out_wait)
{
    roar_fsfile *f = NULL;
    roar_ident id;
    bool candidate = false;
    int error;

    roar_event_ident(&id, ev);
    if (ev->h.flags == ROAR_EV_OPEN) {
        int acc = (int)(ev->h.arg & O_ACCMODE);
        candidate = (acc == O_WRONLY || acc == O_RDWR) && !(ev->h.arg & O_TRUNC);
    }
    if (!ev->path && ev->h.fd >= 0) {
        fs_proc *p = roar_keymap_get(&st->procs, &ev->h.tgid, sizeof(ev->h.tgid));
        fs_fdent *e = p ? fd_get(p->tab, ev->h.fd) : NULL;
        f = e ? e->ofd->file : NULL;
    }
    if (!f)
        f = fdstate_by_ident(st, &id);
    if (!f && ev->path)
        f = roar_keymap_gets(&st->by_path, ev->path);
    /* A file the job has not met: only the shim's stat says it exists; learn it, so a
     * later del or in-place edit has a pre-job record to refer to. */
    if (!f && ev->path && id.known && (!id.mode || S_ISREG(id.mode)) &&
        (error = fdstate_place(&f, st, ev->path, &id, false)) < 0)
        return error;
    if (!f || f->changed || !f->preexisting || f->preimage_known)
        return 0;
    if (!(f->input || f->write_pending || candidate))
        return 0;
    if (f->input && !f->input_ident.known && id.known)
        f->input_ident = id; /* the shim's stat, before the call: the pre-job content */
    if (!f->hash_requested &&
        (error = fdstate_request_hash(st, f, f->input ? ROAR_HASH_INPUT : ROAR_HASH_PREIMAGE, &id,
                                      ev->path, 0, -1)) < 0)
        return error;
    *out_wait = f->hash_requested;
    return 0;
}

static int ev_incomplete(roar_fdstate *st, const roar_event *ev)
{
    size_t i;
    unsigned reason = (unsigned)ev->h.flags;
    char *copy = NULL;

    if (reason == ROAR_INC_EVENTS_LOST) {
        st->events_lost += ev->h.arg;
        return 0;
    }
    for (i = 0; i < st->inc_count; i++)
        if (st->inc[i].reason == reason &&
            ((!st->inc[i].path && !ev->path) ||
             (st->inc[i].path && ev->path && strcmp(st->inc[i].path, ev->path) == 0)))
            return 0;
    if (ROAR_ALLOC_GROW(st->inc, st->inc_count + 1, st->inc_alloc) < 0)
        return ROAR_ENOMEM;
    if (ev->path && !(copy = strdup(ev->path)))
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    st->inc[st->inc_count].reason = reason;
    st->inc[st->inc_count].path = copy;
    st->inc_count++;
    return 0;
}

int roar_fdstate_apply(roar_fdstate *st, const roar_event *ev, bool *out_wait)
{
    bool dummy;
    if (!out_wait)
        out_wait = &dummy;
    *out_wait = false;

    if (ev->h.ret < 0 && ev->h.type != ROAR_EV_ABOUT_TO_DESTROY &&
        ev->h.type != ROAR_EV_INCOMPLETE && ev->h.type != ROAR_EV_EXIT)
        return 0;

    switch (ev->h.type) {
    case ROAR_EV_OPEN:
        return ev_open(st, ev, false);
    case ROAR_EV_INHERIT:
        return ev_open(st, ev, true);
    case ROAR_EV_CLOSE:
        return ev_close(st, ev);
    case ROAR_EV_DUP:
        return ev_dup(st, ev);
    case ROAR_EV_SETFD:
        return ev_setfd(st, ev);
    case ROAR_EV_FDNEW:
        return ev_fdnew(st, ev);
    case ROAR_EV_FORK:
        return ev_fork(st, ev);
    case ROAR_EV_EXEC:
        return ev_exec(st, ev);
    case ROAR_EV_EXIT:
        proc_drop(st, ev->h.tgid);
        return 0;
    case ROAR_EV_READ:
    case ROAR_EV_WRITE:
    case ROAR_EV_MMAP:
    case ROAR_EV_FALLOCATE:
    case ROAR_EV_COPY:
        return ev_fd_change(st, ev);
    case ROAR_EV_TRUNCATE:
        return ev->path ? ev_truncate_path(st, ev) : ev_fd_change(st, ev);
    case ROAR_EV_RENAME:
        return fdstate_ev_rename(st, ev);
    case ROAR_EV_LINK:
        return ev_link(st, ev);
    case ROAR_EV_UNLINK:
        return ev_unlink(st, ev);
    case ROAR_EV_ABOUT_TO_DESTROY:
        return ev_about_to_destroy(st, ev, out_wait);
    case ROAR_EV_INCOMPLETE:
        return ev_incomplete(st, ev);
    case ROAR_EV_CHDIR:
    default:
        /* Paths arrive absolute: the cwd is the tracers' business. */
        return 0;
    }
}

void roar_fdstate_resolve_check(roar_fdstate *st, roar_fsfile *file)
{
    (void)st;
    if (file->changed || !file->write_pending)
        return;
    /* §4.4: a write-capable open followed by a change is an input (the id at open). */
    if (!file->input && file->preexisting && file->name_count && !pending_was_empty(file) &&
        (file->input_name = strdup(file->names[0].path)) != NULL) {
        file->input = true;
        file->input_ident = file->pending_ident;
    }
    file->changed = true;
    file->check_resolved = true;
}

/* ---- lifecycle and introspection --------------------------------------- */

int roar_fdstate_new(roar_fdstate **out)
{
    *out = calloc(1, sizeof(**out));
    if (!*out)
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    return 0;
}

void roar_fdstate_free(roar_fdstate *st)
{
    size_t i;
    if (!st)
        return;
    for (i = 0; i < st->procs.cap; i++)
        if (st->procs.slots[i].key) {
            fs_proc *p = st->procs.slots[i].value;
            table_unref(p->tab);
            free(p);
        }
    for (i = 0; i < st->file_count; i++)
        file_free(st->files[i]);
    free(st->files);
    for (i = st->req_head; i < st->req_count; i++)
        free(st->reqs[i].path);
    free(st->reqs);
    free(st->popped_path);
    for (i = 0; i < st->inc_count; i++)
        free(st->inc[i].path);
    free(st->inc);
    roar_keymap_dispose(&st->by_path);
    roar_keymap_dispose(&st->by_ident);
    roar_keymap_dispose(&st->prepaths);
    roar_keymap_dispose(&st->madepaths);
    roar_keymap_dispose(&st->procs);
    fdstate_history_free(st);
    free(st);
}

roar_fsfile *roar_fdstate_lookup_path(const roar_fdstate *st, const char *path)
{
    return roar_keymap_gets(&st->by_path, path);
}

roar_fsfile *roar_fdstate_lookup_fd(const roar_fdstate *st, uint32_t tgid, int fd)
{
    fs_proc *p = roar_keymap_get(&st->procs, &tgid, sizeof(tgid));
    fs_fdent *e = p ? fd_get(p->tab, fd) : NULL;
    return e ? e->ofd->file : NULL;
}

bool roar_fdstate_fd_is_open(const roar_fdstate *st, uint32_t tgid, int fd)
{
    fs_proc *p = roar_keymap_get(&st->procs, &tgid, sizeof(tgid));
    return p && fd_get(p->tab, fd) != NULL;
}

const char *roar_fdstate_file_name(const roar_fsfile *file)
{
    return file->name_count ? file->names[0].path : NULL;
}

/* ---- the result --------------------------------------------------------- */

typedef struct {
    roar_fdstate_entry *v;
    size_t n, alloc;
} entry_list;

static int entry_add(entry_list *l, const char *path, roar_fsfile *f, const roar_ident *id,
                     bool with_id)
{
    roar_fdstate_entry *e;
    if (ROAR_ALLOC_GROW(l->v, l->n + 1, l->alloc) < 0)
        return ROAR_ENOMEM;
    e = &l->v[l->n++];
    memset(e, 0, sizeof(*e));
    e->path = path;
    e->file = f;
    if (id)
        e->ident = *id;
    if (with_id && f && f->preimage_known) {
        e->id_known = true;
        memcpy(e->id, f->preimage, sizeof(e->id));
        e->id_size = f->preimage_size;
    } else if (with_id && f && f->prefix_known && !f->nonappend) {
        e->id_known = true;
        memcpy(e->id, f->prefix, sizeof(e->id));
        e->id_size = f->prefix_size;
    }
    return 0;
}

static int entry_cmp(const void *a, const void *b)
{
    const roar_fdstate_entry *x = a, *y = b;
    size_t lx = strlen(x->path), ly = strlen(y->path);
    int c = memcmp(x->path, y->path, lx < ly ? lx : ly);
    return c ? c : (lx > ly) - (lx < ly);
}

/* Sorts by path and keeps one entry per path (two files recorded under one name can
 * only arise from renames over each other; either entry names the same path). */
static void entry_finish(entry_list *l)
{
    size_t i, w = 0;
    if (l->n == 0)
        return; /* qsort's array may not be NULL, even for no elements */
    qsort(l->v, l->n, sizeof(*l->v), entry_cmp);
    for (i = 0; i < l->n; i++)
        if (w == 0 || strcmp(l->v[w - 1].path, l->v[i].path) != 0)
            l->v[w++] = l->v[i];
    l->n = w;
}

int roar_fdstate_result_get(roar_fdstate_result *out, const roar_fdstate *st)
{
    entry_list in = {0}, outs = {0}, del = {0}, chk = {0};
    size_t i, j;
    int error = 0;

    memset(out, 0, sizeof(*out));
    for (i = 0; i < st->file_count; i++) {
        roar_fsfile *f = st->files[i];
        if (f->input && f->input_name &&
            (error = entry_add(&in, f->input_name, f, &f->input_ident, true)) < 0)
            goto fail;
        for (j = 0; j < f->name_count; j++) {
            /* A changed file under its recorded name; every name the job made by
             * rename/link is an output too, changed or not (§4.5). */
            if (!((j == 0 && f->changed) || f->names[j].target))
                continue;
            if ((error = entry_add(&outs, f->names[j].path, f, NULL, false)) < 0)
                goto fail;
        }
        if (f->write_pending && !f->changed && f->name_count) {
            if ((error = entry_add(&chk, f->names[0].path, f, &f->pending_ident, true)) < 0)
                goto fail;
            chk.v[chk.n - 1].unseen_writes = f->shared_map_of_writable;
        }
    }
    for (i = 0; i < st->prepaths.cap; i++) {
        const roar_keymap_slot *s = &st->prepaths.slots[i];
        if (!s->key || roar_keymap_get(&st->by_path, s->key, s->klen))
            continue;
        /* The map's key copy is NUL-terminated and lives as long as the state. */
        if ((error = entry_add(&del, s->key, NULL, NULL, false)) < 0)
            goto fail;
    }
    entry_finish(&in);
    entry_finish(&outs);
    entry_finish(&del);
    entry_finish(&chk);
    out->inputs = in.v;
    out->input_count = in.n;
    out->outputs = outs.v;
    out->output_count = outs.n;
    out->deletions = del.v;
    out->deletion_count = del.n;
    out->checks = chk.v;
    out->check_count = chk.n;

    if (st->events_lost || st->inc_count) {
        out->incomplete = calloc(st->inc_count + 1, sizeof(*out->incomplete));
        if (!out->incomplete) {
            roar_fdstate_result_dispose(out);
            return roar_error_set(ROAR_ENOMEM, "out of memory");
        }
        if (st->events_lost) {
            out->incomplete[0].reason = roar_event_incomplete_name(ROAR_INC_EVENTS_LOST);
            out->incomplete[0].count = st->events_lost;
            out->incomplete_count = 1;
        }
        for (i = 0; i < st->inc_count; i++) {
            roar_fdstate_incomplete *x = &out->incomplete[out->incomplete_count++];
            x->reason = roar_event_incomplete_name(st->inc[i].reason);
            x->path = st->inc[i].path;
        }
    }
    return 0;

fail:
    free(in.v);
    free(outs.v);
    free(del.v);
    free(chk.v);
    return error;
}

void roar_fdstate_result_dispose(roar_fdstate_result *res)
{
    if (!res)
        return;
    free(res->inputs);
    free(res->outputs);
    free(res->deletions);
    free(res->checks);
    free(res->incomplete);
    memset(res, 0, sizeof(*res));
}
