/* fdstate's process and fd tables: which open file description each fd of each
 * process names, shared as the kernel shares them (dup, fork, CLONE_FILES, threads)
 * and dropped at close, close-on-exec and exit. It knows files only as pointers. */
#include "trace/fdstate_internal.h"
#include "util/keymap.h"
#include "util/err.h"

#include <stdlib.h>
#include <string.h>

void fdstate_ofd_unref(fs_ofd *o)
{
    if (!o || --o->refs > 0)
        return;
    if (o->wr && o->file && --o->file->writers == 0)
        fdstate_writer_done(o->st, o->file);
    free(o);
}

int fdstate_ofd_new(fs_ofd **out, roar_fdstate *st, roar_fsfile *file, bool rd, bool wr)
{
    fs_ofd *o = calloc(1, sizeof(*o));
    *out = o;
    if (!o)
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    o->st = st;
    o->refs = 1;
    o->file = file;
    o->rd = rd;
    o->wr = wr;
    if (wr && file) {
        file->writers++;
        fdstate_written_bump(file);
        fdstate_flow_write_capable(st, file); /* a node now, for holders alive at the end */
    }
    return 0;
}

void fdstate_table_unref(fs_table *t)
{
    size_t i;
    if (!t || --t->refs > 0)
        return;
    for (i = 0; i < t->fds.cap; i++) {
        fs_fdent *e = t->fds.slots[i].key ? t->fds.slots[i].value : NULL;
        if (e) {
            fdstate_ofd_unref(e->ofd);
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

fs_fdent *fdstate_fd_get(const fs_table *t, int fd)
{
    return roar_keymap_get(&t->fds, &fd, sizeof(fd));
}

void fdstate_fd_close(fs_table *t, int fd)
{
    fs_fdent *e = roar_keymap_remove(&t->fds, &fd, sizeof(fd));
    if (e) {
        fdstate_flow_fd_gone(t, e->ofd);
        fdstate_ofd_unref(e->ofd);
        free(e);
    }
}

/* Makes fd name the description o (the table takes one reference on o). */
int fdstate_fd_install(fs_table *t, int fd, fs_ofd *o, bool cloexec)
{
    fs_fdent *e = fdstate_fd_get(t, fd);
    int error;
    if (!e) {
        if (!(e = calloc(1, sizeof(*e))))
            return roar_error_set(ROAR_ENOMEM, "out of memory");
        if ((error = roar_keymap_put(&t->fds, &fd, sizeof(fd), e)) < 0) {
            free(e);
            return error;
        }
    } else {
        if (e->ofd != o)
            fdstate_flow_fd_gone(t, e->ofd);
        fdstate_ofd_unref(e->ofd);
    }
    e->ofd = o;
    o->refs++;
    e->cloexec = cloexec;
    return 0;
}

int fdstate_table_copy(fs_table **out, const fs_table *src)
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
        if ((error = fdstate_fd_install(t, fd, e->ofd, e->cloexec)) < 0) {
            fdstate_table_unref(t);
            return error;
        }
    }
    *out = t;
    return 0;
}

int fdstate_get_proc(fs_proc **out, roar_fdstate *st, uint32_t tgid)
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
    p->tab->owner = tgid;
    if ((error = roar_keymap_put(&st->procs, &tgid, sizeof(tgid), p)) < 0) {
        fdstate_table_unref(p->tab);
        free(p);
        return error;
    }
    *out = p;
    return 0;
}

void fdstate_proc_drop(roar_fdstate *st, uint32_t tgid)
{
    fs_proc *p = roar_keymap_get(&st->procs, &tgid, sizeof(tgid));
    if (p) {
        fdstate_flow_vm_end(st, p);
        fdstate_flow_exit(st, p); /* while it is still listed: its fds name it */
        roar_keymap_remove(&st->procs, &tgid, sizeof(tgid));
        fdstate_table_unref(p->tab);
        free(p->mapped_out);
        free(p);
    }
}

/* Frees every process and the tables only they held (roar_fdstate_free). */
void fdstate_procs_free(roar_fdstate *st)
{
    size_t i;
    for (i = 0; i < st->procs.cap; i++)
        if (st->procs.slots[i].key) {
            fs_proc *p = st->procs.slots[i].value;
            fdstate_table_unref(p->tab);
            free(p->mapped_out);
            free(p);
        }
    roar_keymap_dispose(&st->procs);
}

/* ---- introspection (fdstate.h) ------------------------------------------ */

roar_fsfile *roar_fdstate_lookup_fd(const roar_fdstate *st, uint32_t tgid, int fd)
{
    fs_proc *p = roar_keymap_get(&st->procs, &tgid, sizeof(tgid));
    fs_fdent *e = p ? fdstate_fd_get(p->tab, fd) : NULL;
    return e ? e->ofd->file : NULL;
}

bool roar_fdstate_fd_is_open(const roar_fdstate *st, uint32_t tgid, int fd)
{
    fs_proc *p = roar_keymap_get(&st->procs, &tgid, sizeof(tgid));
    return p && fdstate_fd_get(p->tab, fd) != NULL;
}
