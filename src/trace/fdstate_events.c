/* fdstate's event rules: SPEC §4 applied to each tracer event in turn (opens, fd
 * changes, fork, exec, links, unlinks, the shim's about-to-destroy question, gaps),
 * on the fd tables of fdstate_fdtable.c and the files of fdstate_registry.c. Renames
 * are fdstate_rename.c's. */
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
    fs_fdent *e = fdstate_fd_get(p->tab, fd);
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
    /* A channel end written or read as what it is (a pipe, a socket): the entry holds
     * the channel's data flow, which an unknown description in its place would lose. */
    if (!f && e && e->ofd->chan && id.mode && (S_ISFIFO(id.mode) || S_ISSOCK(id.mode)))
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
    if ((error = fdstate_ofd_new(&o, st, f, rd, wr)) < 0)
        return error;
    error = fdstate_fd_install(p->tab, fd, o, e ? e->cloexec : false);
    fdstate_ofd_unref(o);
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
    if ((error = fdstate_get_proc(&p, st, ev->h.tgid)) < 0)
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
    if (trunc && (error = fdstate_mark_change(st, f, CHANGE_TRUNC_ZERO)) < 0)
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
    if ((error = fdstate_ofd_new(&o, st, f, rd, wr)) < 0)
        return error;
    /* The number was free before this open: whatever it named was let go of first. */
    error = fdstate_fd_install(p->tab, ev->h.fd, o, cloexec);
    if (error == 0 && f && rd)
        fdstate_flow_read_file(st, p, f);
    else if (error == 0 && !f && id.known && S_ISFIFO(id.mode))
        fdstate_flow_fifo_open(st, p, &id, o);
    fdstate_ofd_unref(o);
    return error;
}

/* Each end is a description of its own: a pipe's (identity S_IFIFO) read end cannot
 * write and its write end cannot read; a socket pair's ends do both. */
static int ev_fdnew(roar_fdstate *st, const roar_event *ev)
{
    bool pipe = ev->h.has_ident && S_ISFIFO(ev->h.mode);
    fs_proc *p;
    fs_ofd *o1, *o2 = NULL;
    int error;
    if ((error = fdstate_get_proc(&p, st, ev->h.tgid)) < 0 ||
        (error = fdstate_ofd_new(&o1, st, NULL, true, !pipe)) < 0)
        return error;
    if (ev->h.fd2 >= 0 && (error = fdstate_ofd_new(&o2, st, NULL, !pipe, true)) < 0) {
        fdstate_ofd_unref(o1);
        return error;
    }
    fdstate_flow_fdnew(st, p, ev, o1, o2);
    error = fdstate_fd_install(p->tab, ev->h.fd, o1, ev->h.flags & O_CLOEXEC);
    if (error == 0 && o2)
        error = fdstate_fd_install(p->tab, ev->h.fd2, o2, ev->h.flags & O_CLOEXEC);
    fdstate_ofd_unref(o1);
    fdstate_ofd_unref(o2);
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
            fdstate_fd_get(p->tab, victims[i])->cloexec = true;
        else
            fdstate_fd_close(p->tab, victims[i]);
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
    if ((error = fdstate_get_proc(&p, st, ev->h.tgid)) < 0)
        return error;
    if (!(e = fdstate_fd_get(p->tab, ev->h.fd))) {
        /* The source is unknown to us: whatever fd2 named before is gone. */
        fdstate_fd_close(p->tab, ev->h.fd2);
        return 0;
    }
    return fdstate_fd_install(p->tab, ev->h.fd2, e->ofd, ev->h.flags & O_CLOEXEC);
}

static int ev_setfd(roar_fdstate *st, const roar_event *ev)
{
    fs_proc *p = roar_keymap_get(&st->procs, &ev->h.tgid, sizeof(ev->h.tgid));
    fs_fdent *e = p ? fdstate_fd_get(p->tab, ev->h.fd) : NULL;
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

    /* A thread has the parent's tgid in its own events: same process, same table. A
     * process that would be its own child is no fork a tracer saw: nothing to apply. */
    if ((ev->h.flags & CLONE_THREAD) || cpid == ev->h.tgid)
        return fdstate_get_proc(&parent, st, ev->h.tgid);
    if ((error = fdstate_get_proc(&parent, st, ev->h.tgid)) < 0)
        return error;
    if (ev->h.flags & CLONE_FILES) {
        tab = parent->tab;
        tab->refs++;
    } else if ((error = fdstate_table_copy(&tab, parent->tab)) < 0) {
        return error;
    }
    fdstate_proc_drop(st, cpid); /* a stale entry under a reused pid */
    if ((error = fdstate_get_proc(&child, st, cpid)) < 0) {
        fdstate_table_unref(tab);
        return error;
    }
    fdstate_table_unref(child->tab);
    child->tab = tab;
    if (!(ev->h.flags & CLONE_FILES))
        tab->owner = cpid;
    fdstate_flow_fork(st, parent, child, ev->h.flags);
    return 0;
}

static int ev_exec(roar_fdstate *st, const roar_event *ev)
{
    fs_proc *p;
    roar_fsfile *f;
    roar_ident id;
    size_t i, n = 0;
    int *victims = NULL, error;

    if ((error = fdstate_get_proc(&p, st, ev->h.tgid)) < 0)
        return error;
    fdstate_flow_vm_end(st, p); /* a new address space of its own */
    /* exec unshares a table shared through CLONE_FILES, then drops close-on-exec fds. */
    if (p->tab->refs > 1) {
        fs_table *t;
        if ((error = fdstate_table_copy(&t, p->tab)) < 0)
            return error;
        fdstate_table_unref(p->tab);
        t->owner = p->tgid;
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
        fdstate_fd_close(p->tab, victims[i]);
    free(victims);

    roar_event_ident(&id, ev);
    if ((error = fdstate_place(&f, st, ev->path, &id, false)) < 0)
        return error;
    f->executed = true;
    fdstate_flow_read_file(st, p, f); /* the program is data of what it writes */
    return fdstate_make_input(st, f, &id, ev->path, true, ev->h.tgid, -1);
}

/* Reads through a channel end, and copies out of one (splice from a pipe): data of
 * the channel reaches the process. 1 when the event was about a channel (nothing
 * more to do), 0 when it is about something else. */
static int channel_data(roar_fdstate *st, fs_proc *p, const roar_event *ev)
{
    fs_fdent *e;
    roar_ident id;
    if (ev->h.type == ROAR_EV_READ && ev->h.fd < 0) {
        roar_event_ident(&id, ev);
        fdstate_flow_read_ident(st, p, &id);
        return 1;
    }
    e = ev->h.fd >= 0 ? fdstate_fd_get(p->tab, ev->h.fd) : NULL;
    roar_event_ident(&id, ev);
    /* A pipe or socket the job never saw made (popen's, one passed over a socket): a
     * channel to anything. So is an fd the job never saw at all being read. */
    if ((ev->h.type == ROAR_EV_READ || ev->h.type == ROAR_EV_WRITE) &&
        ((id.known && (S_ISFIFO(id.mode) || S_ISSOCK(id.mode)) && !(e && e->ofd->chan) &&
          !fdstate_flow_chan_known(st, &id)) ||
         (!e && ev->h.type == ROAR_EV_READ)))
        fdstate_flow_unknown_channel(st, p);
    if (ev->h.type != ROAR_EV_READ && ev->h.type != ROAR_EV_COPY)
        return 0;
    if (!e || !e->ofd->chan)
        return 0;
    fdstate_flow_read_ofd(st, p, e->ofd);
    return ev->h.type == ROAR_EV_READ; /* a copy still writes its destination */
}

static int ev_fd_change(roar_fdstate *st, const roar_event *ev)
{
    fs_proc *p;
    roar_fsfile *f;
    fs_ofd *o;
    int error, fd = ev->h.type == ROAR_EV_COPY ? ev->h.fd2 : ev->h.fd;
    bool change = false;

    if ((error = fdstate_get_proc(&p, st, ev->h.tgid)) < 0)
        return error;
    if ((error = channel_data(st, p, ev)) != 0)
        return error < 0 ? error : 0;
    if ((error = fd_file(&f, &o, st, p, fd, ev, ev->h.type == ROAR_EV_READ,
                         ev->h.type != ROAR_EV_READ)) < 0)
        return error;
    if (!f)
        return 0;
    switch (ev->h.type) {
    case ROAR_EV_READ:
        o->read_seen = true;
        fdstate_flow_read_file(st, p, f);
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
        if (o->rd)
            fdstate_flow_read_file(st, p, f);
        if ((ev->h.flags & MAP_SHARED) && o->wr) {
            f->shared_map_of_writable = true;
            fdstate_written_bump(f); /* writes through it outlive every close */
            fdstate_flow_map_writable(st, p, f);
        }
        break;
    case ROAR_EV_FALLOCATE:
        change = f->nonappend = true;
        break;
    case ROAR_EV_TRUNCATE:
        f->nonappend = true;
        o->write_seen = true;
        return fdstate_mark_change(st, f, ev->h.arg == 0 ? CHANGE_TRUNC_ZERO : CHANGE_OTHER);
    default:
        return 0;
    }
    if (!change)
        return 0;
    o->write_seen = true;
    return fdstate_mark_change(st, f, CHANGE_OTHER);
}

static int ev_truncate_path(roar_fdstate *st, const roar_event *ev)
{
    fs_proc *p;
    roar_fsfile *f;
    roar_ident id;
    int error;
    roar_event_ident(&id, ev);
    if ((error = fdstate_place(&f, st, ev->path, &id, false)) < 0)
        return error;
    f->nonappend = true;
    if (fdstate_get_proc(&p, st, ev->h.tgid) == 0)
        fdstate_flow_write_file(st, p, f); /* the length it sets is data */
    roar_error_clear();
    return fdstate_mark_change(st, f, ev->h.arg == 0 ? CHANGE_TRUNC_ZERO : CHANGE_OTHER);
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
        fs_fdent *e = p ? fdstate_fd_get(p->tab, ev->h.fd) : NULL;
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
        fs_fdent *e = p ? fdstate_fd_get(p->tab, ev->h.fd) : NULL;
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
    case ROAR_EV_FLOW:
        fdstate_flow_event(st, ev);
        return 0;
    case ROAR_EV_FORK:
        return ev_fork(st, ev);
    case ROAR_EV_EXEC:
        return ev_exec(st, ev);
    case ROAR_EV_EXIT:
        fdstate_proc_drop(st, ev->h.tgid);
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
