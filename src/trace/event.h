/* The one wire format both tracers (preload shim, eBPF) send to the collector: a fixed
 * header, widest fields first, then up to two NUL-terminated paths. Decoded defensively. */
#ifndef ROAR_TRACE_EVENT_H
#define ROAR_TRACE_EVENT_H

/* This header is included by three kinds of code: the collector (full C library), the
 * preload shim (libc only, it cannot link event.c: it uses the inline encoder below)
 * and roar.bpf.c (no libc at all; vmlinux.h provides the __u64 family). */
#if defined(__bpf__)
/* types come from vmlinux.h, included before this header */
#else
#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#endif

#define ROAR_EVENT_VERSION 1

/* Each path, NUL included, is at most this long. Longer paths are not sent: the tracer
 * sends ROAR_EV_INCOMPLETE/ROAR_INC_PATH_TOO_LONG instead (SPEC §4.7). */
#define ROAR_EVENT_PATH_MAX 65536u

/* Records are padded to this alignment, so that a stream of them keeps every header
 * aligned for direct loads. */
#define ROAR_EVENT_ALIGN 8u

/* Event types. Tracers send only calls that succeeded (ret >= 0), except
 * ROAR_EV_ABOUT_TO_DESTROY, which precedes its call; fdstate ignores any other event
 * with ret < 0, so a tracer that cannot tell may send failures too. */
enum roar_event_type {
    ROAR_EV_NONE = 0,
    /* fd = new fd (also in ret), flags = open flags (O_*), arg = create mode,
     * ident = the opened file at open, created = this open created it,
     * path = absolute path used (for O_TMPFILE: the directory). A non-regular file
     * (ident.mode not S_IFREG) or O_PATH only replaces whatever fd named. */
    ROAR_EV_OPEN = 1,
    /* fd .. fd2 (inclusive; fd2 = fd for one close). With ROAR_CLOSE_F_CLOEXEC
     * (close_range(CLOSE_RANGE_CLOEXEC)) the fds are only marked close-on-exec. */
    ROAR_EV_CLOSE = 2,
    /* dup/dup2/dup3/F_DUPFD*: fd = old, fd2 = new, flags & O_CLOEXEC = new is cloexec. */
    ROAR_EV_DUP = 3,
    /* fcntl(F_SETFD): fd, flags & FD_CLOEXEC. */
    ROAR_EV_SETFD = 4,
    /* fork/vfork/clone/clone3: tgid = parent process, pid2 = child (its tgid for a new
     * process, its tid for a thread), flags = clone flags (CLONE_THREAD, CLONE_FILES). */
    ROAR_EV_FORK = 5,
    /* successful exec: tgid, path = program as named by the caller (absolute),
     * ident = the program file if known. Close-on-exec fds are dropped. */
    ROAR_EV_EXEC = 6,
    /* the whole process (thread group) tgid has exited; ret = wait status. */
    ROAR_EV_EXIT = 7,
    /* first read through an open file (tracers may deduplicate): fd, ret = bytes.
     * Through a channel (an fd made by ROAR_EV_FDNEW with ROAR_FDNEW_F_PAIR) tracers
     * deduplicate per (process, description) only: every process's first read counts
     * (SPEC §4.9). With fd = -1 and has_ident: a read from the channel with that
     * identity, for a tracer that sees the read but not the fd (eBPF's pipe reads). */
    ROAR_EV_READ = 8,
    /* write/pwrite/writev/pwritev: fd, ret = bytes written (0 is not a change).
     * Through a channel, as for ROAR_EV_READ: every process's first write counts. */
    ROAR_EV_WRITE = 9,
    /* mmap of a file: fd, flags = mmap flags (MAP_SHARED...), arg = prot (PROT_*). */
    ROAR_EV_MMAP = 10,
    /* ftruncate (fd >= 0, path absent) or truncate (path): arg = new length. */
    ROAR_EV_TRUNCATE = 11,
    /* fallocate: fd, flags = mode. */
    ROAR_EV_FALLOCATE = 12,
    /* rename/renameat/renameat2: path -> path2, flags = RENAME_* plus ROAR_RENAME_F_*;
     * ident = the object moved, if known (its mode tells a directory). */
    ROAR_EV_RENAME = 13,
    /* link/linkat: path -> path2; with no path and fd >= 0, the source is the file
     * behind fd (linkat(fd, "", ..., AT_EMPTY_PATH), O_TMPFILE). */
    ROAR_EV_LINK = 14,
    /* unlink/unlinkat/rmdir: path; flags & AT_REMOVEDIR for a directory. */
    ROAR_EV_UNLINK = 15,
    /* chdir (path) / fchdir (fd). Paths arrive absolute, so this is informational. */
    ROAR_EV_CHDIR = 16,
    /* sendfile/copy_file_range/splice: fd = source, fd2 = destination, ret = bytes. */
    ROAR_EV_COPY = 17,
    /* Sent by the preload shim before a call that would destroy a file's content
     * (SPEC §4.6); the shim waits for the collector's answer. flags = the event type of
     * the call that follows (ROAR_EV_OPEN, _MMAP, _RENAME, _LINK, _UNLINK, _TRUNCATE,
     * _FALLOCATE, _COPY, _WRITE), arg = its open flags for ROAR_EV_OPEN; the file is
     * named by path (the destination for rename/link) or by fd, ident if stat'ed. */
    ROAR_EV_ABOUT_TO_DESTROY = 18,
    /* an fd the root command inherited (SPEC §4.1): tgid, fd, flags = O_ACCMODE bits
     * (+ O_APPEND), path, ident. Handled as an open that did not create or truncate. */
    ROAR_EV_INHERIT = 19,
    /* an fd-creating call that is not a file (pipe, socket, accept, eventfd, memfd,
     * epoll, timerfd, signalfd...): fd and fd2 (second end, or -1) now name no file.
     * flags = ROAR_FDNEW_F_* (what data can flow through it, SPEC §4.9); ident, when
     * has_ident, identifies the channel for reads sent by identity (a pipe's inode). */
    ROAR_EV_FDNEW = 20,
    /* a gap the job must admit (SPEC §4.7): flags = ROAR_INC_*, arg = count,
     * path = the program or path concerned, if any. */
    ROAR_EV_INCOMPLETE = 21,
    /* data of process tgid flows where the tracer cannot follow it (SPEC §4.9): flags =
     * ROAR_FLOW_*, pid2 = the other process when known. Steps only, never a gap in the
     * job's inputs and outputs. */
    ROAR_EV_FLOW = 22,
    ROAR_EV__COUNT
};

/* ROAR_EV_CLOSE flags */
#define ROAR_CLOSE_F_CLOEXEC 0x1u

/* ROAR_EV_WRITE flags: the fd may now write before the end of the file although it was
 * opened O_APPEND (eBPF: fcntl(F_SETFL) without O_APPEND, sent with ret 0; pwritev2
 * with RWF_NOAPPEND). The old content is then no longer a prefix (docs/ebpf.md). */
#define ROAR_WRITE_F_NOAPPEND 0x1u

/* ROAR_EV_RENAME flags, above the kernel's RENAME_* bits (1, 2, 4). */
#define ROAR_RENAME_F_DIR (1u << 16)  /* the source is a directory */
#define ROAR_RENAME_F_FILE (1u << 17) /* the source is known not to be a directory */

/* ROAR_EV_FDNEW flags (SPEC §4.9). None set: no data between processes (epoll, timerfd,
 * signalfd, inotify), or a tracer that does not tell. */
/* fd and fd2 are the two ends of one new channel: a pipe (fd reads what fd2 writes) or
 * a socket pair (both ways). */
#define ROAR_FDNEW_F_PAIR 0x1u
/* For a pair: the tracer reports every process's first read through each end (see
 * ROAR_EV_READ). Without it, every process holding an end may have read it. */
#define ROAR_FDNEW_F_READS_SEEN 0x2u
/* An end whose other side cannot be named: socket(), accept(), a memfd, an eventfd.
 * Every process that holds one counts as one with the others that do. */
#define ROAR_FDNEW_F_OPAQUE 0x4u

/* ROAR_EV_FLOW flags */
/* tgid mapped shared anonymous memory: the processes it forks from now on share memory
 * with it (and with each other) */
#define ROAR_FLOW_SHARED_ANON 0x1u
/* tgid traced, or read or wrote the memory of, another process (ptrace, process_vm_*):
 * the whole job counts as one */
#define ROAR_FLOW_PTRACE 0x2u
/* tgid attached memory that any process can attach by name (SysV shm): every process
 * that does counts as one with the others */
#define ROAR_FLOW_SHM_NAMED 0x4u

/* ROAR_EV_INCOMPLETE reasons; the names are SPEC §4.7's. */
enum roar_incomplete_reason {
    ROAR_INC_EVENTS_LOST = 1, /* arg = number of events lost */
    ROAR_INC_STATIC_BINARY = 2,
    ROAR_INC_SETUID = 3,
    ROAR_INC_FOREIGN_ARCH = 4,
    ROAR_INC_IO_URING = 5,
    ROAR_INC_PATH_TOO_LONG = 6,
    ROAR_INC_AIO = 7, /* Linux native AIO (io_submit): reads and writes unseen */
    /* a program exec'd where the shim cannot reach the ring, without a user switch:
     * a pid namespace with its own /proc, a chroot (preload only; docs/preload.md) */
    ROAR_INC_UNTRACED = 8,
    ROAR_INC__COUNT
};

/* The fixed header. Widest fields first, no implicit padding (checked below), so the
 * BPF program, the shim and the collector agree byte for byte. */
struct roar_event_hdr {
    __u64 seq;      /* per-source order: sequence number or CLOCK_MONOTONIC ns */
    __s64 ret;      /* return value (fd, bytes, child pid) or -errno */
    __u64 flags;    /* per type, see enum roar_event_type */
    __u64 arg;      /* per type: open mode, length, prot, count */
    __u64 dev;      /* identity (SPEC §4.3), valid when has_ident */
    __u64 ino;
    __u64 size;
    __s64 mtime_ns;
    __s64 ctime_ns;
    __u32 tgid;     /* process (thread group) */
    __u32 tid;      /* thread */
    __u32 pid2;     /* fork: the child */
    __s32 fd;
    __s32 fd2;
    __u32 mode;     /* st_mode of the file (type bits tell regular from the rest) */
    __u32 len;      /* whole record: header + paths + padding to ROAR_EVENT_ALIGN */
    __u32 path_len; /* bytes of the first path including its NUL; 0 = absent */
    __u32 path2_len;
    __u16 type;     /* enum roar_event_type */
    __u16 version;  /* ROAR_EVENT_VERSION */
    __u8 has_ident;
    __u8 created;   /* ROAR_EV_OPEN: this open created the file */
    __u8 reserved[6];
};

#define ROAR_EVENT_HDR_SIZE 120u
_Static_assert(sizeof(struct roar_event_hdr) == ROAR_EVENT_HDR_SIZE,
               "roar_event_hdr must have no hidden padding");

#if !defined(__bpf__)

/* Bytes a record with paths of these lengths (NULs excluded; pass 0 for an absent path)
 * occupies on the wire; 0 if a path is over ROAR_EVENT_PATH_MAX. */
static inline size_t roar_event_wire_size(size_t path_strlen, size_t path2_strlen, int has1,
                                          int has2)
{
    size_t n = ROAR_EVENT_HDR_SIZE;
    if ((has1 && path_strlen + 1 > ROAR_EVENT_PATH_MAX) ||
        (has2 && path2_strlen + 1 > ROAR_EVENT_PATH_MAX))
        return 0;
    if (has1)
        n += path_strlen + 1;
    if (has2)
        n += path2_strlen + 1;
    return (n + ROAR_EVENT_ALIGN - 1) & ~(size_t)(ROAR_EVENT_ALIGN - 1);
}

/* Encodes one record into out[0..cap): copies *hdr, fills len, path_len, path2_len and
 * version, appends the paths (either may be NULL) and zero padding. Returns the record
 * size, or 0 when it does not fit in cap or a path is too long (nothing is then
 * meaningful in out). Header-only and libc-only so the preload shim can use it.
 * roar_event_encode_len takes the paths' strlen, for callers that know them. */
static inline size_t roar_event_encode_len(void *out, size_t cap,
                                           const struct roar_event_hdr *hdr, const char *path,
                                           size_t l1, const char *path2, size_t l2)
{
    size_t total = roar_event_wire_size(l1, l2, path != NULL, path2 != NULL);
    unsigned char *p = (unsigned char *)out;
    size_t at = ROAR_EVENT_HDR_SIZE;
    __u32 len = (__u32)total, pl1 = path ? (__u32)(l1 + 1) : 0;
    __u32 pl2 = path2 ? (__u32)(l2 + 1) : 0;
    __u16 version = ROAR_EVENT_VERSION;

    if (total == 0 || total > cap)
        return 0;
    /* The padding first, as one store: total is a multiple of ROAR_EVENT_ALIGN and
     * less than that past the paths, which overwrite the rest of these bytes. */
    memset(p + total - ROAR_EVENT_ALIGN, 0, ROAR_EVENT_ALIGN);
    /* Straight into out (no aligned copy of the header in between), then the fields
     * this function owns; out need not be aligned. */
    memcpy(p, hdr, sizeof(*hdr));
    memcpy(p + offsetof(struct roar_event_hdr, len), &len, sizeof(len));
    memcpy(p + offsetof(struct roar_event_hdr, path_len), &pl1, sizeof(pl1));
    memcpy(p + offsetof(struct roar_event_hdr, path2_len), &pl2, sizeof(pl2));
    memcpy(p + offsetof(struct roar_event_hdr, version), &version, sizeof(version));
    memset(p + offsetof(struct roar_event_hdr, reserved), 0, sizeof(hdr->reserved));
    if (path) {
        memcpy(p + at, path, l1 + 1);
        at += l1 + 1;
    }
    if (path2)
        memcpy(p + at, path2, l2 + 1);
    return total;
}

static inline size_t roar_event_encode(void *out, size_t cap, const struct roar_event_hdr *hdr,
                                       const char *path, const char *path2)
{
    return roar_event_encode_len(out, cap, hdr, path, path ? strlen(path) : 0, path2,
                                 path2 ? strlen(path2) : 0);
}

/* A file's identity at one moment (SPEC §4.3). */
typedef struct {
    bool known;
    uint64_t dev;
    uint64_t ino;
    uint64_t size;
    int64_t mtime_ns;
    int64_t ctime_ns;
    uint32_t mode; /* st_mode */
} roar_ident;

/* One decoded event: the header copied out (so the input buffer needs no alignment)
 * and the paths borrowed from the input buffer (NULL when absent). */
typedef struct {
    struct roar_event_hdr h;
    const char *path;
    const char *path2;
} roar_event;

/* Decodes the record at the start of buf[0..len). On success returns 0 and sets
 * *out_consumed to the record's size (out borrows from buf). When buf holds only the
 * start of a record, returns 0 with *out_consumed = 0: read more and call again.
 * Returns ROAR_EINVALID (message set) for anything malformed: unknown type or version,
 * lengths that disagree or overflow, a path without its NUL or with a NUL inside,
 * a relative path, a type whose required fields are missing. The bytes come from
 * inside arbitrary programs: nothing in them is trusted. */
int roar_event_decode(roar_event *out, const void *buf, size_t len, size_t *out_consumed);

/* The identity carried by an event (known = has_ident). */
void roar_event_ident(roar_ident *out, const roar_event *ev);

/* Stable lower-case name of a type ("open", "close", ...), "unknown" otherwise. */
const char *roar_event_type_name(unsigned type);

/* SPEC §4.7 reason word for a ROAR_INC_* value ("events-lost", ...), or NULL. */
const char *roar_event_incomplete_name(unsigned reason);

#endif /* !__bpf__ */

#endif
