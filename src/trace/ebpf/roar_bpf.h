/* The record roar.bpf.c puts in its ring buffer and the loader reads back: an event.h
 * header plus the raw pieces of up to two paths, which the loader joins and normalises. */
#ifndef ROAR_TRACE_EBPF_ROAR_BPF_H
#define ROAR_TRACE_EBPF_ROAR_BPF_H

/* Compiles in both worlds: inside roar.bpf.c (vmlinux.h first, no libc) and in the
 * loader and its tests (linux/types.h through event.h). */
#include "trace/event.h"

/* One dentry name with its NUL (NAME_MAX + 1). */
#define ROAR_BPF_NAME_MAX 256u
/* One path string passed by the program, NUL included: the kernel refuses longer
 * ones (PATH_MAX), so a successful call never needs more. */
#define ROAR_BPF_STR_MAX 4096u
/* Default budget for the names of one walked path (all components, NULs included).
 * A walk that needs more gives ROAR_BPF_P_LONG: the loader reports path-too-long. The
 * kernel's own dentry paths are not capped at PATH_MAX, so neither is this one; the
 * test knob walk_budget in roar.bpf.c lowers it to force the case. */
#define ROAR_BPF_WALK_MAX 16384u
/* The most components a walk visits (mount crossings included) before giving up. */
#define ROAR_BPF_DEPTH_MAX 8192u
/* Bytes after the record header in the per-CPU scratch record: room for two strings and
 * two walks, plus one name of slack so a bounds check before each write suffices. */
#define ROAR_BPF_DATA_MAX (2u * (ROAR_BPF_STR_MAX + ROAR_BPF_WALK_MAX) + ROAR_BPF_NAME_MAX)

/* pflags[i]: what the record holds for path i. */
#define ROAR_BPF_P_STR 0x1u       /* str_len[i] bytes of the string the program passed */
#define ROAR_BPF_P_WALK 0x2u      /* walk_len[i] bytes of dentry names, leaf first, each
                                   * NUL-terminated; 0 bytes = the root itself */
#define ROAR_BPF_P_LONG 0x4u      /* the walk did not fit its budget or depth */
#define ROAR_BPF_P_UNREACHED 0x8u /* the walk could not reach a root (pseudo file,
                                   * detached mount) or a read faulted */
#define ROAR_BPF_P_CWD 0x10u      /* the string is relative to the process's cwd, which
                                   * the loader keeps (no walk sent) */

/* Bits of roar.bpf.c's syscall_knobs (loader options empty_syscalls, verifier_refusal). */
#define ROAR_BPF_KNOB_EMPTY 0x1u
#define ROAR_BPF_KNOB_REFUSE 0x2u

/* ROAR_EV_CHDIR records: the process left a cwd it shared (unshare(CLONE_FS)); the
 * loader clears it before passing the event on. */
#define ROAR_BPF_CHDIR_UNSHARED 0x1u

/* One record. Widest fields first, no implicit padding: roar.bpf.c and the loader are
 * compiled by different compilers. Data follows the struct, for path 0 then path 1:
 * the string (if P_STR), then the walk (if P_WALK). A string that is absolute comes
 * without a walk; a relative one with the walk of its dirfd, or flagged P_CWD; a path
 * with no string is the walk alone (already canonical). Besides paths, EXEC records
 * carry the process's cwd as walk 1 and CHDIR records the new cwd as walk 0: from those
 * and FORK's CLONE_FS the loader knows every process's cwd. */
struct roar_bpf_event {
    /* As event.h says, except: seq, len, path_len, path2_len and version are the
     * loader's to set (len here is 0), and paths are the pieces below. */
    struct roar_event_hdr h;
    __u32 str_len[2];  /* bytes of string i, NUL included */
    __u32 walk_len[2]; /* bytes of walk i */
    __u32 rec_len;     /* this struct plus its data, as written by the program */
    __u16 pflags[2];   /* ROAR_BPF_P_* for path i */
};

#define ROAR_BPF_EVENT_SIZE 144u
_Static_assert(sizeof(struct roar_bpf_event) == ROAR_BPF_EVENT_SIZE,
               "roar_bpf_event must have no hidden padding");

/* The compact form of a record with no paths, no identity and no arg or pid2 (READ,
 * CLOSE, DUP, SETFD, FDNEW, INCOMPLETE: most records): the few header fields it uses,
 * the rest being zero. It touches one cache line of the ring instead of three. Told
 * from a full record by its size; the loader expands it. */
struct roar_bpf_small {
    __s64 ret;
    __u64 flags;
    __u32 tgid;
    __u32 tid;
    __s32 fd;
    __s32 fd2;
    __u16 type;
    __u16 pad[3];
};

#define ROAR_BPF_SMALL_SIZE 40u
_Static_assert(sizeof(struct roar_bpf_small) == ROAR_BPF_SMALL_SIZE,
               "roar_bpf_small must have no hidden padding");

/* A file's identity as the program reads it (SPEC §4.3): the header's identity fields. */
struct roar_bpf_ident {
    __u64 dev;
    __u64 ino;
    __u64 size;
    __s64 mtime_ns;
    __s64 ctime_ns;
    __u32 mode;
    __u8 has_ident;
    __u8 created; /* FMODE_CREATED, for opens */
    __u16 pad;
};

#define ROAR_BPF_IDENT_SIZE 48u
_Static_assert(sizeof(struct roar_bpf_ident) == ROAR_BPF_IDENT_SIZE,
               "roar_bpf_ident must have no hidden padding");

/* Copies an identity into a record header (zeroed before): the program's records and
 * the loader's expansion of the compact open both go through here. */
static inline __attribute__((always_inline)) void
roar_bpf_ident_to_hdr(struct roar_event_hdr *h, const struct roar_bpf_ident *id)
{
    h->created = id->created;
    if (!id->has_ident)
        return;
    h->has_ident = 1;
    h->dev = id->dev;
    h->ino = id->ino;
    h->size = id->size;
    h->mtime_ns = id->mtime_ns;
    h->ctime_ns = id->ctime_ns;
    h->mode = id->mode;
}

/* The compact form of the common open, an OPEN whose only path is its string (absolute,
 * or relative to the cwd: P_CWD in pflags), followed by that string (str_len bytes, NUL
 * included) and nothing else: the record is exactly that long. The open fields only, all
 * written, so no clearing and 96 bytes of header instead of 144 (the open is the one
 * record of every open/read/close). Told from the other forms by its first word: a full
 * record has h.seq there, which the program leaves 0; a small one is 40 bytes long. */
#define ROAR_BPF_FORM_OPEN 0x4f50454eu /* "OPEN" */
struct roar_bpf_open {
    __u32 form;    /* ROAR_BPF_FORM_OPEN */
    __u32 str_len;
    __s64 ret;     /* the fd */
    __u64 flags;
    __u64 arg;     /* the mode argument */
    struct roar_bpf_ident id;
    __u32 tgid;
    __u32 tid;
    __u16 pflags;
    __u16 pad[3];
};

#define ROAR_BPF_OPEN_SIZE 96u
_Static_assert(sizeof(struct roar_bpf_open) == ROAR_BPF_OPEN_SIZE,
               "roar_bpf_open must have no hidden padding");

/* The open fds of a process's table at a fork (the parent's and the child's, one table
 * at that moment) or right after an exec (close-on-exec done): the first words of the
 * kernel's open_fds bitmap. The loader turns each run of clear bits into a CLOSE of
 * that range for each process named (tgid2 0: none), so that the fds a process closed
 * (closes send nothing: docs/ebpf.md, Events) stop counting as held once it forks or
 * execs: a shell that closed a pipe's ends before its next fork does not pass them on
 * (SPEC §4.9). Told from the other forms by its first word, as the compact open is. */
#define ROAR_BPF_FORM_FDSET 0x54534446u /* "FDST" */
#define ROAR_BPF_FDSET_WORDS 16u        /* fds 0..1023 */
struct roar_bpf_fdset {
    __u32 form;    /* ROAR_BPF_FORM_FDSET */
    __u32 tgid;
    __u32 tgid2;
    __u32 max_fds; /* the table's size: fds at or past it are closed */
    __u64 words[ROAR_BPF_FDSET_WORDS]; /* bit i of word w: fd 64w + i is open */
};

#define ROAR_BPF_FDSET_SIZE 144u
_Static_assert(sizeof(struct roar_bpf_fdset) == ROAR_BPF_FDSET_SIZE,
               "roar_bpf_fdset must have no hidden padding");

/* The traced-process map's value (key: tgid). */
struct roar_bpf_proc {
    __u32 flags; /* ROAR_BPF_T_* */
};
/* Traced, but the program it runs is the gate's, not the job's: stay silent until its
 * first successful exec (the collector forks, gates, then execs the command). */
#define ROAR_BPF_T_WAIT_EXEC 0x1u
/* Runs a 32-bit image: its syscall numbers are another table; not decoded (the job
 * says foreign-arch). */
#define ROAR_BPF_T_COMPAT 0x2u

/* Kernel values the program needs. vmlinux.h carries types, not macros, so they are
 * spelled here; tests/unit/test_ebpf.c checks each against the C library's headers.
 * x86_64 only: CMake builds the tracer on that architecture alone. */
#define ROAR_BPF_AT_FDCWD (-100)
#define ROAR_BPF_AT_EMPTY_PATH 0x1000
#define ROAR_BPF_AT_REMOVEDIR 0x200
#define ROAR_BPF_O_WRONLY 01
#define ROAR_BPF_O_CREAT 0100
#define ROAR_BPF_O_TRUNC 01000
#define ROAR_BPF_O_CLOEXEC 02000000
#define ROAR_BPF_FD_CLOEXEC 1
#define ROAR_BPF_F_DUPFD 0
#define ROAR_BPF_F_SETFD 2
#define ROAR_BPF_F_DUPFD_CLOEXEC 1030
#define ROAR_BPF_F_SETFL 4
#define ROAR_BPF_O_APPEND 02000
#define ROAR_BPF_RWF_NOAPPEND 0x20
#define ROAR_BPF_MAP_ANONYMOUS 0x20
#define ROAR_BPF_MAP_SHARED 0x01
#define ROAR_BPF_MAP_SHARED_VALIDATE 0x03
#define ROAR_BPF_MAP_TYPE 0x0f
#define ROAR_BPF_PTRACE_TRACEME 0
#define ROAR_BPF_PTRACE_ATTACH 16
#define ROAR_BPF_PTRACE_SEIZE 0x4206
#define ROAR_BPF_CLOSE_RANGE_CLOEXEC (1u << 2)
#define ROAR_BPF_CLONE_VM 0x100u
#define ROAR_BPF_CLONE_FS 0x200u
#define ROAR_BPF_CLONE_FILES 0x400u
#define ROAR_BPF_CLONE_VFORK 0x4000u
#define ROAR_BPF_CLONE_THREAD 0x10000u
/* include/linux/fs.h: set in file->f_mode by an open that created the file. Not
 * visible to userspace headers: tests/cli/t0150-ebpf-events.sh checks it by effect. */
#define ROAR_BPF_FMODE_CREATED (1u << 20)
/* multigrain timestamps keep a flag in the top bit of inode->i_ctime_nsec */
#define ROAR_BPF_CTIME_QUERIED (1u << 31)
#define ROAR_BPF_S_IFMT 0170000
#define ROAR_BPF_S_IFREG 0100000
/* include/linux/fs.h, in file->f_mode: the description was opened for writing */
#define ROAR_BPF_FMODE_WRITE 0x2u

/* x86_64 syscall numbers the program dispatches on. */
enum roar_bpf_nr {
    ROAR_NR_read = 0,
    ROAR_NR_write = 1,
    ROAR_NR_open = 2,
    ROAR_NR_close = 3,
    ROAR_NR_mmap = 9,
    ROAR_NR_pread64 = 17,
    ROAR_NR_pwrite64 = 18,
    ROAR_NR_readv = 19,
    ROAR_NR_writev = 20,
    ROAR_NR_pipe = 22,
    ROAR_NR_shmat = 30,
    ROAR_NR_dup = 32,
    ROAR_NR_dup2 = 33,
    ROAR_NR_sendfile = 40,
    ROAR_NR_socket = 41,
    ROAR_NR_accept = 43,
    ROAR_NR_sendto = 44,
    ROAR_NR_recvfrom = 45,
    ROAR_NR_sendmsg = 46,
    ROAR_NR_recvmsg = 47,
    ROAR_NR_socketpair = 53,
    ROAR_NR_fcntl = 72,
    ROAR_NR_truncate = 76,
    ROAR_NR_ftruncate = 77,
    ROAR_NR_chdir = 80,
    ROAR_NR_fchdir = 81,
    ROAR_NR_rename = 82,
    ROAR_NR_rmdir = 84,
    ROAR_NR_creat = 85,
    ROAR_NR_link = 86,
    ROAR_NR_unlink = 87,
    ROAR_NR_ptrace = 101,
    ROAR_NR_io_setup = 206,
    ROAR_NR_epoll_create = 213,
    ROAR_NR_inotify_init = 253,
    ROAR_NR_openat = 257,
    ROAR_NR_unlinkat = 263,
    ROAR_NR_renameat = 264,
    ROAR_NR_linkat = 265,
    ROAR_NR_unshare = 272,
    ROAR_NR_splice = 275,
    ROAR_NR_tee = 276,
    ROAR_NR_vmsplice = 278,
    ROAR_NR_signalfd = 282,
    ROAR_NR_timerfd_create = 283,
    ROAR_NR_eventfd = 284,
    ROAR_NR_fallocate = 285,
    ROAR_NR_accept4 = 288,
    ROAR_NR_signalfd4 = 289,
    ROAR_NR_eventfd2 = 290,
    ROAR_NR_epoll_create1 = 291,
    ROAR_NR_dup3 = 292,
    ROAR_NR_pipe2 = 293,
    ROAR_NR_inotify_init1 = 294,
    ROAR_NR_preadv = 295,
    ROAR_NR_pwritev = 296,
    ROAR_NR_perf_event_open = 298,
    ROAR_NR_recvmmsg = 299,
    ROAR_NR_fanotify_init = 300,
    ROAR_NR_open_by_handle_at = 304,
    ROAR_NR_sendmmsg = 307,
    ROAR_NR_process_vm_readv = 310,
    ROAR_NR_process_vm_writev = 311,
    ROAR_NR_renameat2 = 316,
    ROAR_NR_memfd_create = 319,
    ROAR_NR_userfaultfd = 323,
    ROAR_NR_copy_file_range = 326,
    ROAR_NR_preadv2 = 327,
    ROAR_NR_pwritev2 = 328,
    ROAR_NR_io_uring_setup = 425,
    ROAR_NR_pidfd_open = 434,
    ROAR_NR_close_range = 436,
    ROAR_NR_openat2 = 437,
    ROAR_NR_pidfd_getfd = 438,
    ROAR_NR_memfd_secret = 447,
};

#endif
