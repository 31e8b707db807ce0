/* The data flow of SPEC §4.9, as the events come: a graph whose edges say "data can
 * flow from here to there", between file contents, channels (pipes, socket pairs,
 * FIFOs), points of processes and groups of processes that count as one.
 *
 * A process is a chain of points. What it reads joins its current point; when data
 * leaves it (a fork, or letting go of something it could write) the point is sealed and
 * the next read starts a new point, linked from the old one. So a child gets what its
 * parent had read before the fork, and a file gets what its writer had read before it
 * let go of the file, not what it read after.
 *
 * Writes are judged by holding, not by the write calls, which the tracers report once
 * per description at most: a process that holds a write-capable description of a file
 * or channel may write it until it lets go (close, close-on-exec, fd number reused,
 * exit), so the file gets the point current then. Reads of files are the opens
 * (SPEC §4.4 lets the open decide); reads of channels are the read events when the
 * tracer reports them (ROAR_FDNEW_F_READS_SEEN), else holding a readable end is reading
 * it. File contents and channels are nodes outside time: whoever reads one may get
 * anything any writer ever put there. That is conservative wherever the order of
 * events from two processes could mislead.
 *
 * Nothing here fails the event: out of memory or past the size bound, the flow is off
 * and the job has no steps (every output depends on every input, the v1 answer). */
#include "trace/fdstate_internal.h"
#include "util/keymap.h"
#include "util/buf.h"

#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Past this many edges (64 MiB of them) the job gets no steps rather than the memory. */
#define FLOW_MAX_EDGES ((size_t)8 << 20)

static uint32_t node_new(fs_flow *fl)
{
    if (fl->off || fl->nodes == UINT32_MAX - 1) {
        fl->off = true;
        return 0;
    }
    return ++fl->nodes;
}

static void edge_add(fs_flow *fl, uint32_t from, uint32_t to)
{
    if (fl->off || !from || !to || from == to)
        return;
    if (fl->edge_count >= FLOW_MAX_EDGES ||
        ROAR_ALLOC_GROW(fl->edges, fl->edge_count + 1, fl->edge_alloc) < 0) {
        fl->off = true;
        return;
    }
    fl->edges[fl->edge_count].from = from;
    fl->edges[fl->edge_count].to = to;
    fl->edge_count++;
}

static uint32_t file_node(fs_flow *fl, roar_fsfile *f)
{
    if (!f->flow_node)
        f->flow_node = node_new(fl);
    return f->flow_node;
}

/* A new point for p, after its current one; a member of a group exchanges with the
 * group at every point. */
static void point_new(fs_flow *fl, fs_proc *p)
{
    uint32_t n = node_new(fl);
    if (!n)
        return;
    edge_add(fl, p->point, n);
    if (p->group) {
        edge_add(fl, p->group, n);
        edge_add(fl, n, p->group);
    }
    p->point = n;
    p->sealed = false;
}

/* Data from `from` reaches p from now on. */
static void flow_in(fs_flow *fl, fs_proc *p, uint32_t from)
{
    if (fl->off || !from)
        return;
    if (!p->point || p->sealed)
        point_new(fl, p);
    edge_add(fl, from, p->point);
}

/* What p holds now reaches `to`. */
static void flow_out(fs_flow *fl, fs_proc *p, uint32_t to)
{
    if (fl->off || !to)
        return;
    if (!p->point)
        point_new(fl, p);
    edge_add(fl, p->point, to);
    p->sealed = true;
}

/* p counts as one with the group g from now on. Two groups a process belongs to become
 * one (edges both ways). */
static void group_join(fs_flow *fl, fs_proc *p, uint32_t g)
{
    if (fl->off || !g || p->group == g)
        return;
    if (p->group) {
        edge_add(fl, p->group, g);
        edge_add(fl, g, p->group);
        return;
    }
    p->group = g;
    point_new(fl, p); /* links the new point with g both ways */
}

static void join_opaque(fs_flow *fl, fs_proc *p)
{
    if (!fl->opaque_group)
        fl->opaque_group = node_new(fl);
    group_join(fl, p, fl->opaque_group);
}

void fdstate_flow_write_capable(roar_fdstate *st, roar_fsfile *f)
{
    file_node(&st->flow, f);
}

void fdstate_flow_read_file(roar_fdstate *st, fs_proc *p, roar_fsfile *f)
{
    fs_flow *fl = &st->flow;
    if (fl->off || !f)
        return;
    if (f->flow_last_reader && f->flow_last_reader == p->point && !p->sealed)
        return; /* this point has it already */
    flow_in(fl, p, file_node(fl, f));
    f->flow_last_reader = p->point;
}

void fdstate_flow_write_file(roar_fdstate *st, fs_proc *p, roar_fsfile *f)
{
    if (!st->flow.off && f)
        flow_out(&st->flow, p, file_node(&st->flow, f));
}

void fdstate_flow_map_writable(roar_fdstate *st, fs_proc *p, roar_fsfile *f)
{
    fs_flow *fl = &st->flow;
    uint32_t n;
    size_t i;
    if (fl->off || !f || !(n = file_node(fl, f)))
        return;
    for (i = 0; i < p->mapped_count; i++)
        if (p->mapped_out[i] == n)
            return;
    if (ROAR_ALLOC_GROW(p->mapped_out, p->mapped_count + 1, p->mapped_alloc) < 0) {
        fl->off = true;
        return;
    }
    p->mapped_out[p->mapped_count++] = n;
}

void fdstate_flow_read_ofd(roar_fdstate *st, fs_proc *p, fs_ofd *o)
{
    if (o->file)
        fdstate_flow_read_file(st, p, o->file);
    else if (o->chan && o->chan_reads_seen)
        flow_in(&st->flow, p, o->chan);
}

static uint32_t chan_by_ident(fs_flow *fl, const roar_ident *id, bool create)
{
    uint64_t key[2] = {id->dev, id->ino};
    uintptr_t v = (uintptr_t)roar_keymap_get(&fl->chan_by_ident, key, sizeof(key));
    if (v || !create || fl->off)
        return (uint32_t)v;
    if (!(v = node_new(fl)))
        return 0;
    if (roar_keymap_put(&fl->chan_by_ident, key, sizeof(key), (void *)v) < 0) {
        fl->off = true;
        return 0;
    }
    return (uint32_t)v;
}

bool fdstate_flow_chan_known(roar_fdstate *st, const roar_ident *id)
{
    return id->known && chan_by_ident(&st->flow, id, false) != 0;
}

void fdstate_flow_read_ident(roar_fdstate *st, fs_proc *p, const roar_ident *id)
{
    /* A channel the job did not make (a pipe into the job from outside) carries no
     * input of the job. */
    if (id->known)
        flow_in(&st->flow, p, chan_by_ident(&st->flow, id, false));
}

void fdstate_flow_fdnew(roar_fdstate *st, fs_proc *p, const roar_event *ev, fs_ofd *o1,
                        fs_ofd *o2)
{
    fs_flow *fl = &st->flow;
    uint64_t flags = ev->h.flags;
    roar_ident id;
    uint32_t c;

    if (fl->off)
        return;
    if (flags & ROAR_FDNEW_F_OPAQUE) {
        join_opaque(fl, p);
        return;
    }
    if (!(flags & ROAR_FDNEW_F_PAIR) || !o2)
        return;
    roar_event_ident(&id, ev);
    if (id.known && (c = chan_by_ident(fl, &id, true)) != 0)
        ;
    else if (!(c = node_new(fl)))
        return;
    o1->chan = o2->chan = c;
    o1->chan_reads_seen = o2->chan_reads_seen = (flags & ROAR_FDNEW_F_READS_SEEN) != 0;
    /* Without reads reported, holding a readable end is reading it; the children that
     * inherit the end inherit this point too. */
    if (!o1->chan_reads_seen)
        flow_in(fl, p, c);
}

void fdstate_flow_fifo_open(roar_fdstate *st, fs_proc *p, const roar_ident *id, fs_ofd *o)
{
    fs_flow *fl = &st->flow;
    if (fl->off || !id->known)
        return;
    o->chan = chan_by_ident(fl, id, true);
    /* Reads through a FIFO opened by name count from its open: not every tracer
     * reports them. */
    o->chan_reads_seen = false;
    if (o->rd)
        flow_in(fl, p, o->chan);
}

void fdstate_flow_fork(roar_fdstate *st, fs_proc *parent, fs_proc *child, uint64_t flags)
{
    fs_flow *fl = &st->flow;
    if (fl->off)
        return;
    point_new(fl, child);
    edge_add(fl, parent->point, child->point);
    parent->sealed = true; /* the parent's later reads are not the child's */
    if (parent->group)
        group_join(fl, child, parent->group);
    /* Memory shared from now on: a shared anonymous mapping made before, or the fd
     * table. Threads are the same process already. A clone that shares the whole
     * address space (vfork, posix_spawn; the eBPF tracer cannot tell vfork's from
     * others) shares it until the child execs or exits: then each side gets what the
     * other had (fdstate_flow_vm_end). */
    if (parent->shared_anon) {
        if (!parent->shm_group) {
            parent->shm_group = node_new(fl);
            group_join(fl, parent, parent->shm_group);
        }
        child->shared_anon = true;
        child->shm_group = parent->shm_group;
        group_join(fl, child, parent->shm_group);
    }
    if (flags & CLONE_FILES) {
        uint32_t g = parent->group ? parent->group : node_new(fl);
        group_join(fl, parent, g);
        group_join(fl, child, g);
    }
    if (flags & CLONE_VM)
        child->vm_parent = parent->tgid; /* until it execs: fdstate_flow_vm_end */
}

void fdstate_flow_vm_end(roar_fdstate *st, fs_proc *p)
{
    fs_flow *fl = &st->flow;
    fs_proc *parent;
    if (!p->vm_parent)
        return;
    parent = roar_keymap_get(&st->procs, &p->vm_parent, sizeof(p->vm_parent));
    p->vm_parent = 0;
    if (fl->off || !parent)
        return;
    /* Both wrote one memory until now: each has what the other had. */
    if (!p->point)
        point_new(fl, p);
    if (parent->point)
        edge_add(fl, parent->point, p->point);
    flow_in(fl, parent, p->point);
    p->sealed = true; /* what it reads from now on is its own */
}

/* The node a description could write, if any. */
static uint32_t writes_to(fs_flow *fl, const fs_ofd *o)
{
    if (!o->wr)
        return 0;
    if (o->file)
        return file_node(fl, o->file);
    return o->chan;
}

void fdstate_flow_fd_gone(const fs_table *t, const fs_ofd *o)
{
    roar_fdstate *st = o->st;
    fs_proc *p;
    uint32_t to;
    if (st->disposing || st->flow.off || !(to = writes_to(&st->flow, o)))
        return;
    if ((p = roar_keymap_get(&st->procs, &t->owner, sizeof(t->owner))) != NULL)
        flow_out(&st->flow, p, to);
}

void fdstate_flow_exit(roar_fdstate *st, fs_proc *p)
{
    fs_flow *fl = &st->flow;
    size_t i;
    if (fl->off)
        return;
    for (i = 0; p->tab->refs == 1 && i < p->tab->fds.cap; i++) {
        const roar_keymap_slot *s = &p->tab->fds.slots[i];
        uint32_t to;
        if (s->key && (to = writes_to(fl, ((const fs_fdent *)s->value)->ofd)) != 0)
            flow_out(fl, p, to);
    }
    for (i = 0; i < p->mapped_count; i++)
        flow_out(fl, p, p->mapped_out[i]);
}

void fdstate_flow_unknown_channel(roar_fdstate *st, fs_proc *p)
{
    join_opaque(&st->flow, p);
}

void fdstate_flow_event(roar_fdstate *st, const roar_event *ev)
{
    fs_proc *p;
    if (ev->h.flags & ROAR_FLOW_PTRACE) {
        st->flow.off = true; /* another process's memory: the whole job counts as one */
        return;
    }
    if (fdstate_get_proc(&p, st, ev->h.tgid) < 0) {
        st->flow.off = true; /* out of memory: no steps rather than a wrong one */
        return;
    }
    if (ev->h.flags & ROAR_FLOW_SHARED_ANON)
        p->shared_anon = true;
    if (ev->h.flags & ROAR_FLOW_SHM_NAMED)
        join_opaque(&st->flow, p); /* anyone may attach it by name */
}

void fdstate_flow_free(roar_fdstate *st)
{
    free(st->flow.edges);
    roar_keymap_dispose(&st->flow.chan_by_ident);
    memset(&st->flow, 0, sizeof(st->flow));
}
