/* fdstate's insides, shared by its files. Not for anyone else: the collector and the
 * tests use fdstate.h. The files, each leaning only on those listed before it:
 *   fdstate_registry.c  file records, their names and identities
 *   fdstate_inputs.c    becoming an input or changed (SPEC §4.4); the hash request queue
 *   fdstate_place.c     which record an event's path names; the rename history
 *   fdstate_fdtable.c   processes and their fd tables
 *   fdstate_written.c   files the job's writers are done with, for early hashing
 *   fdstate_flow.c      data flow between processes, files and channels (steps)
 *   fdstate_flow_deps.c what each output depends on, from that flow, at the end
 *   fdstate_rename.c    rename events
 *   fdstate_events.c    every other event: SPEC §4 rule by rule, and the dispatch
 *   fdstate_result.c    the result at the end of the job
 *   fdstate_lifecycle.c creating and freeing the state */
#ifndef ROAR_TRACE_FDSTATE_INTERNAL_H
#define ROAR_TRACE_FDSTATE_INTERNAL_H

#include "trace/fdstate.h"
#include "util/keymap.h"

typedef struct {
    char *path;  /* owned */
    bool target; /* made by a rename/link of the job: always an output name (§4.5) */
} fs_name;

struct roar_fsfile {
    bool has_key; /* registered in by_ident under (dev, ino) */
    uint64_t dev, ino;

    fs_name *names; /* names[0] is the recorded name: first used, moved by renames */
    size_t name_count, name_alloc;

    bool preexisting; /* existed before the job (the job did not create it) */
    bool created;
    bool changed; /* created, truncated or written by the job */
    bool input;
    bool executed;
    /* Something of the job may have changed bytes before the file's end: a write-capable
     * open without O_APPEND (or with O_TRUNC, or one we missed), a truncate, fallocate,
     * shared writable mmap, copy into it, or an fd that dropped O_APPEND. */
    bool nonappend;
    /* Mapped MAP_SHARED through a write-capable fd without PROT_WRITE: mprotect may add
     * it, and no tracer reports that (roar_fdstate_entry.unseen_writes). */
    bool shared_map_of_writable;

    /* A write-capable open without O_TRUNC before any change: the first change (unless a
     * truncation to 0) makes the file an input, and if none is seen, the end-of-job check
     * compares against this open's identity. */
    bool write_pending;
    roar_ident pending_ident;
    bool check_resolved;

    char *input_name; /* owned: the recorded name when it became an input */
    roar_ident input_ident;

    bool hash_requested;
    bool preimage_known;
    char preimage[ROAR_FDSTATE_OIDSZ + 1];
    uint64_t preimage_size;
    /* The id of the first prefix_size bytes, hashed after the file grew: its pre-job id
     * if the job only ever appended to it (!nonappend, decided at the end). */
    bool prefix_known;
    char prefix[ROAR_FDSTATE_OIDSZ + 1];
    uint64_t prefix_size;

    /* Early hashing of outputs (fdstate_written.c): the open file descriptions that can
     * write it now, and a count bumped by every write-capable description made for it,
     * every change and every shared mapping: a hash taken between two equal counts
     * with no writer left saw no write of the job. */
    size_t writers;
    uint64_t write_gen;

    /* Data flow (fdstate_flow.c): the file's content as a node of the flow graph (0:
     * none yet), and the last process point that read it (a loop of opens of one
     * file adds one edge). */
    uint32_t flow_node;
    uint32_t flow_last_reader;
};

typedef struct {
    roar_fsfile *file;
    roar_hash_reason reason;
    roar_ident ident;
    char *path; /* owned */
    uint32_t tgid;
    int fd;
} fs_hashreq;

/* A file whose writers are done (fdstate_written.c). */
typedef struct {
    roar_fsfile *file;
    char *path; /* owned */
    uint64_t dev, ino, write_gen;
} fs_written;

/* One entry of the rename history (fdstate_place.c). */
typedef struct {
    char *from; /* owned: the name that moved away or went */
    char *to;   /* owned: where it moved; NULL: it was removed */
} fs_history;

typedef struct {
    unsigned reason;
    char *path; /* owned, or NULL */
} fs_incomplete;

/* "Data can flow from node `from` to node `to`" (fdstate_flow.c). */
typedef struct {
    uint32_t from, to;
} fs_flow_edge;

/* The data-flow graph of SPEC §4.9. Nodes are numbered from 1: file contents, channels
 * (a pipe, a socket pair, a FIFO), points of a process (what it may hold between two
 * moments when data leaves it) and groups (processes that count as one). Built as the
 * events come, read once at the end (fdstate_flow_deps.c). */
typedef struct {
    fs_flow_edge *edges;
    size_t edge_count, edge_alloc;
    uint32_t nodes;
    uint32_t opaque_group;    /* the group of every process holding an opaque end */
    roar_keymap chan_by_ident; /* (dev, ino) -> channel node, as uintptr_t */
    /* The whole job counts as one: ptrace, out of memory, past the size bound. */
    bool off;
} fs_flow;

struct roar_fdstate {
    roar_fsfile **files;
    size_t file_count, file_alloc;

    roar_keymap by_path;   /* path -> roar_fsfile* (the name binding the job knows) */
    roar_keymap by_ident;  /* (dev, ino) -> roar_fsfile* */
    roar_keymap prepaths;  /* paths seen naming a pre-existing file: del candidates */
    roar_keymap madepaths; /* paths the job bound itself (create, rename/link target) */
    roar_keymap procs;     /* tgid -> fs_proc* */

    fs_hashreq *reqs;
    size_t req_head, req_count, req_alloc;
    char *popped_path; /* the path handed out by the last next_hash */

    fs_written *written; /* fdstate_written.c's queue */
    size_t written_head, written_count, written_alloc;
    char *popped_written; /* the path handed out by the last next_written */
    bool disposing;       /* roar_fdstate_free: closes queue nothing */

    fs_incomplete *inc;
    size_t inc_count, inc_alloc;
    uint64_t events_lost;

    /* Renames fdstate could not resolve at the call (a directory; a name no event had
     * shown yet, without an identity taken at the call) and names removed beneath them
     * since, in event order; indexed by every name they mention. fdstate_place.c. */
    fs_history *history;
    size_t history_count, history_alloc;
    roar_keymap history_names; /* path -> its entries (fdstate_place.c's refs) */

    fs_flow flow;
};

/* An open file description: dup'd and inherited fds share one. */
typedef struct {
    roar_fdstate *st; /* for the writer count of `file` (fdstate_written.c) */
    size_t refs;
    roar_fsfile *file; /* NULL: not a regular file (pipe, socket, directory, O_PATH...) */
    bool rd, wr;
    bool read_seen, write_seen;
    /* A channel end (file NULL): its node, and whether the tracer reports reads
     * through it (without, holding it counts as reading it). */
    uint32_t chan;
    bool chan_reads_seen;
} fs_ofd;

typedef struct {
    fs_ofd *ofd;
    bool cloexec;
} fs_fdent;

/* One fd table; threads, and processes cloned with CLONE_FILES, share it. */
typedef struct {
    size_t refs;
    roar_keymap fds; /* int fd -> fs_fdent* */
    uint32_t owner;  /* the process it was made for (a sharer joins its group) */
} fs_table;

typedef struct {
    uint32_t tgid;
    fs_table *tab;
    /* Data flow (fdstate_flow.c): the current point (0: none yet); sealed once data
     * left it (a fork, a writer let go), so that later reads start a new point; the
     * group it counts as one with (0: none); shared anonymous memory mapped (children
     * forked from now on share it); nodes it writes through shared mappings until it
     * exits. */
    uint32_t point;
    bool sealed;
    uint32_t group;
    bool shared_anon;
    uint32_t shm_group;
    uint32_t *mapped_out;
    size_t mapped_count, mapped_alloc;
    uint32_t vm_parent; /* cloned with CLONE_VM from it and not exec'd since (0: no) */
} fs_proc;

/* ---- fdstate_registry.c: file records, names, identities ------------------ */

int fdstate_file_new(roar_fsfile **out, roar_fdstate *st);
void fdstate_file_free(roar_fsfile *f);
int fdstate_name_index(const roar_fsfile *f, const char *path);
/* The name of f that is `path` (the stored copy), else its recorded name, or NULL. */
const char *fdstate_stored_name(const roar_fsfile *f, const char *path);
void fdstate_unbind_path(roar_fdstate *st, const char *path);
int fdstate_bind_path(roar_fdstate *st, roar_fsfile *f, const char *path, bool target);
int fdstate_mark_path(roar_keymap *m, const char *path);
int fdstate_set_key(roar_fdstate *st, roar_fsfile *f, const roar_ident *id);
roar_fsfile *fdstate_by_ident(const roar_fdstate *st, const roar_ident *id);
int fdstate_discover(roar_fsfile **out, roar_fdstate *st, const char *path, const roar_ident *id);

/* ---- fdstate_inputs.c: inputs, changes, hash requests ---------------------- */

int fdstate_request_hash(roar_fdstate *st, roar_fsfile *f, roar_hash_reason reason,
                         const roar_ident *id, const char *path, uint32_t tgid, int fd);
int fdstate_make_input(roar_fdstate *st, roar_fsfile *f, const roar_ident *id, const char *path,
                       bool hash_now, uint32_t tgid, int fd);

typedef enum { CHANGE_TRUNC_ZERO, CHANGE_OTHER } change_kind;

/* The job changed f (kind: emptied it, or anything else): the first change after a
 * write-capable open may make it an input (§4.4). */
int fdstate_mark_change(roar_fdstate *st, roar_fsfile *f, change_kind kind);

/* ---- fdstate_place.c: placement and the rename history --------------------- */

int fdstate_place(roar_fsfile **out, roar_fdstate *st, const char *path, const roar_ident *id,
                  bool created);

/* fdstate_place for a path the job knows nothing of, once the rename history is not
 * empty: the pre-job file that the job's renames brought to `path`, if they did, else
 * fdstate_discover. `id` may describe content the event has already changed (an O_TRUNC
 * open): it keys the file but is not taken as the input's identity. */
int fdstate_place_moved(roar_fsfile **out, roar_fdstate *st, const char *path,
                        const roar_ident *id);

/* Appends "from moved to `to`", or with to NULL "from was removed". */
int fdstate_history_add(roar_fdstate *st, const char *from, const char *to);

/* `path` stopped naming anything (unlink, rmdir): a name beneath a renamed directory
 * that appears again later is not the one that moved there. */
int fdstate_note_gone(roar_fdstate *st, const char *path);

void fdstate_history_free(roar_fdstate *st);

/* ---- fdstate_fdtable.c: processes and fd tables ---------------------------- */

int fdstate_ofd_new(fs_ofd **out, roar_fdstate *st, roar_fsfile *file, bool rd, bool wr);
void fdstate_ofd_unref(fs_ofd *o);
void fdstate_table_unref(fs_table *t);
int fdstate_table_copy(fs_table **out, const fs_table *src);
fs_fdent *fdstate_fd_get(const fs_table *t, int fd);
void fdstate_fd_close(fs_table *t, int fd);
/* Makes fd name the description o (the table takes one reference on o). */
int fdstate_fd_install(fs_table *t, int fd, fs_ofd *o, bool cloexec);
/* The process tgid, created (with an empty table) when unknown. */
int fdstate_get_proc(fs_proc **out, roar_fdstate *st, uint32_t tgid);
void fdstate_proc_drop(roar_fdstate *st, uint32_t tgid);
void fdstate_procs_free(roar_fdstate *st);

/* ---- fdstate_written.c: outputs whose writers are done --------------------- */

/* A write-capable description of f was made, or f was changed or mapped shared through
 * one: any hash of f taken before is stale. */
void fdstate_written_bump(roar_fsfile *f);
/* The last write-capable description of f went away (close, exit, exec, fd reuse):
 * queues f for roar_fdstate_next_written if the job may have written it. */
void fdstate_writer_done(roar_fdstate *st, roar_fsfile *f);
void fdstate_written_free(roar_fdstate *st);

/* ---- fdstate_flow.c: data flow for steps (SPEC §4.9) ------------------------ */
/* None of these fails: out of memory turns the flow off (every output then depends on
 * every input, the v1 answer), it never loses an event. */

/* A write-capable description of f was made: f gets its node now. */
void fdstate_flow_write_capable(roar_fdstate *st, roar_fsfile *f);
/* p read (or executed, or mapped) f. */
void fdstate_flow_read_file(roar_fdstate *st, fs_proc *p, roar_fsfile *f);
/* p changed f without an fd it keeps (truncate by path). */
void fdstate_flow_write_file(roar_fdstate *st, fs_proc *p, roar_fsfile *f);
/* p mapped f shared through a write-capable description: it writes f until it exits. */
void fdstate_flow_map_writable(roar_fdstate *st, fs_proc *p, roar_fsfile *f);
/* A read event through o (a channel end with reads seen, or a file). */
void fdstate_flow_read_ofd(roar_fdstate *st, fs_proc *p, fs_ofd *o);
/* A read sent by identity (fd -1): the channel with that identity. */
void fdstate_flow_read_ident(roar_fdstate *st, fs_proc *p, const roar_ident *id);
/* New descriptions of FDNEW: makes the channel of a pair, joins the opaque group. */
void fdstate_flow_fdnew(roar_fdstate *st, fs_proc *p, const roar_event *ev, fs_ofd *o1,
                        fs_ofd *o2);
/* An open of a FIFO (a channel by identity): o its description. */
void fdstate_flow_fifo_open(roar_fdstate *st, fs_proc *p, const roar_ident *id, fs_ofd *o);
/* child was forked from parent with these clone flags. */
void fdstate_flow_fork(roar_fdstate *st, fs_proc *parent, fs_proc *child, uint64_t flags);
/* An fd of the table `t` naming o is going away (close, replaced, close-on-exec). */
void fdstate_flow_fd_gone(const fs_table *t, const fs_ofd *o);
/* p, cloned sharing its parent's memory, stops sharing it (exec, exit). */
void fdstate_flow_vm_end(roar_fdstate *st, fs_proc *p);
/* p is exiting: everything it still holds for writing receives its data. */
void fdstate_flow_exit(roar_fdstate *st, fs_proc *p);
/* p read or wrote a pipe or socket the job never saw made (popen's, one passed over a
 * socket, one made by a raw system call): it counts as one with every other such. */
void fdstate_flow_unknown_channel(roar_fdstate *st, fs_proc *p);
/* Whether a channel with this identity was made by the job (a pipe's inode). */
bool fdstate_flow_chan_known(roar_fdstate *st, const roar_ident *id);
/* A ROAR_EV_FLOW event. */
void fdstate_flow_event(roar_fdstate *st, const roar_event *ev);
void fdstate_flow_free(roar_fdstate *st);

/* ---- fdstate_flow_deps.c: what each output depends on ------------------------ */

/* Fills res->outputs[i].deps (indices into res->inputs) and res->steps_known. */
int fdstate_flow_deps(roar_fdstate_result *res, const roar_fdstate *st);

/* ---- fdstate_rename.c ------------------------------------------------------ */

int fdstate_ev_rename(roar_fdstate *st, const roar_event *ev);

#endif
