/* event_text: the one-line text form of a roar_event that the test-only collectors
 * (roar-tracedump, roar-ebpfdump) print, so the shell tests can compare the tracers. */
#ifndef ROAR_TESTS_TRACE_EVENT_TEXT_H
#define ROAR_TESTS_TRACE_EVENT_TEXT_H

#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "trace/event.h"

/* Output is meant to be compared by tests: no pids, seqs or inode numbers unless asked
 * (show_ident). Processes are named p1, p2... in order of first appearance. */
static FILE *out;
static pid_t pids[4096];
static int npids;
static int show_ident; /* identities differ from run to run: only on request */

static int pname(pid_t pid)
{
    int i;
    for (i = 0; i < npids; i++)
        if (pids[i] == pid)
            return i + 1;
    if (npids < (int)(sizeof(pids) / sizeof(pids[0])))
        pids[npids++] = pid;
    return npids;
}

static void print_flags(unsigned f)
{
    static const struct {
        unsigned bit;
        const char *name;
    } bits[] = {{O_CREAT, "creat"},     {O_EXCL, "excl"},       {O_TRUNC, "trunc"},
                {O_APPEND, "append"},   {O_CLOEXEC, "cloexec"}, {O_DIRECTORY, "directory"},
                {O_NOFOLLOW, "nofollow"}, {O_PATH, "path"}};
    unsigned i;
    fputs((f & O_ACCMODE) == O_RDONLY ? "rdonly" : (f & O_ACCMODE) == O_WRONLY ? "wronly" : "rdwr",
          out);
    if ((f & O_TMPFILE) == O_TMPFILE) {
        fputs("|tmpfile", out);
        f &= ~(unsigned)O_TMPFILE;
    }
    for (i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
        if (f & bits[i].bit)
            fprintf(out, "|%s", bits[i].name);
}

static const char *ftype(const roar_event *ev)
{
    if (!ev->h.has_ident)
        return "?";
    switch (ev->h.mode & S_IFMT) {
    case S_IFREG: return "reg";
    case S_IFDIR: return "dir";
    case S_IFCHR: return "chr";
    case S_IFIFO: return "fifo";
    case S_IFSOCK: return "sock";
    default: return "other";
    }
}

/* " ident=dev:ino:size:mtime_ns:ctime_ns" when asked (show_ident) and known */
static void print_ident(const roar_event *ev)
{
    const struct roar_event_hdr *h = &ev->h;
    if (show_ident && h->has_ident)
        fprintf(out, " ident=%llu:%llu:%llu:%lld:%lld", (unsigned long long)h->dev,
                (unsigned long long)h->ino, (unsigned long long)h->size,
                (long long)h->mtime_ns, (long long)h->ctime_ns);
}

/* What only eBPF sends shows up only when present: the canonical name of an open
 * (" canon=..."), fork flags (" thread"). */
static void print_event(const roar_event *ev)
{
    const struct roar_event_hdr *h = &ev->h;
    int p = pname((pid_t)h->tgid);

    fprintf(out, "p%d %s", p, roar_event_type_name(h->type));
    switch (h->type) {
    case ROAR_EV_OPEN:
        fprintf(out, " %s fd=%d flags=", ev->path, h->fd);
        print_flags((unsigned)h->flags);
        fprintf(out, " created=%u %s", h->created, ftype(ev));
        if (ev->path2)
            fprintf(out, " canon=%s", ev->path2);
        print_ident(ev);
        break;
    case ROAR_EV_CLOSE:
        if (h->fd2 != h->fd)
            fprintf(out, " fd=%d..%d", h->fd, h->fd2);
        else
            fprintf(out, " fd=%d", h->fd);
        if (h->flags & ROAR_CLOSE_F_CLOEXEC)
            fputs(" cloexec", out);
        break;
    case ROAR_EV_DUP:
        fprintf(out, " %d->%d%s", h->fd, h->fd2, (h->flags & O_CLOEXEC) ? " cloexec" : "");
        break;
    case ROAR_EV_SETFD:
        fprintf(out, " fd=%d cloexec=%d", h->fd, (int)(h->flags & FD_CLOEXEC));
        break;
    case ROAR_EV_FORK:
        if (h->ret < 0)
            fputs(" failed", out);
        else
            fprintf(out, " child=p%d", pname((pid_t)h->pid2));
        if (h->flags & 0x10000 /* CLONE_THREAD */)
            fputs(" thread", out);
        break;
    case ROAR_EV_EXEC:
        fprintf(out, " %s", ev->path);
        break;
    case ROAR_EV_READ:
    case ROAR_EV_WRITE:
        fprintf(out, " fd=%d", h->fd);
        if (h->type == ROAR_EV_WRITE)
            fprintf(out, " %s", ftype(ev));
        else if (h->fd < 0 && h->has_ident)
            fputs(" by-ident", out); /* a channel read sent by identity (event.h) */
        print_ident(ev);
        break;
    case ROAR_EV_MMAP:
        fprintf(out, " fd=%d %s%s", h->fd, (h->flags & MAP_SHARED) ? "shared" : "private",
                (h->arg & PROT_WRITE) ? " write" : "");
        break;
    case ROAR_EV_TRUNCATE:
        if (ev->path)
            fprintf(out, " %s", ev->path);
        else
            fprintf(out, " fd=%d", h->fd);
        fprintf(out, " len=%llu", (unsigned long long)h->arg);
        break;
    case ROAR_EV_FALLOCATE:
        fprintf(out, " fd=%d mode=%llu", h->fd, (unsigned long long)h->flags);
        break;
    case ROAR_EV_RENAME:
    case ROAR_EV_LINK:
        if (ev->path)
            fprintf(out, " %s", ev->path);
        else
            fprintf(out, " fd=%d", h->fd);
        fprintf(out, " -> %s", ev->path2);
        if (h->flags & ROAR_RENAME_F_DIR)
            fputs(" dir", out);
        break;
    case ROAR_EV_UNLINK:
        fprintf(out, " %s%s", ev->path, (h->flags & AT_REMOVEDIR) ? " dir" : "");
        break;
    case ROAR_EV_CHDIR:
        if (ev->path)
            fprintf(out, " %s", ev->path);
        break;
    case ROAR_EV_COPY:
        fprintf(out, " fd=%d -> fd=%d", h->fd, h->fd2);
        break;
    case ROAR_EV_ABOUT_TO_DESTROY:
        fprintf(out, " %s", roar_event_type_name((unsigned)h->flags));
        if (ev->path)
            fprintf(out, " %s", ev->path);
        else
            fprintf(out, " fd=%d", h->fd);
        break;
    case ROAR_EV_FDNEW:
        fprintf(out, " fd=%d", h->fd);
        if (h->fd2 >= 0)
            fprintf(out, ",%d", h->fd2);
        if (h->flags & ROAR_FDNEW_F_PAIR)
            fputs(" pair", out);
        if (h->flags & ROAR_FDNEW_F_READS_SEEN)
            fputs(" reads-seen", out);
        if (h->flags & ROAR_FDNEW_F_OPAQUE)
            fputs(" opaque", out);
        if (h->has_ident)
            fprintf(out, " %s", ftype(ev));
        print_ident(ev);
        break;
    case ROAR_EV_FLOW:
        if (h->flags & ROAR_FLOW_SHARED_ANON)
            fputs(" shared-anon", out);
        if (h->flags & ROAR_FLOW_SHM_NAMED)
            fputs(" shm-named", out);
        if (h->flags & ROAR_FLOW_PTRACE)
            fputs(" ptrace", out);
        if (h->pid2)
            fprintf(out, " other=p%d", pname((pid_t)h->pid2));
        break;
    case ROAR_EV_INCOMPLETE:
        fprintf(out, " %s", roar_event_incomplete_name((unsigned)h->flags));
        if (ev->path)
            fprintf(out, " %s", ev->path);
        break;
    default:
        break;
    }
    fputc('\n', out);
}

#endif
