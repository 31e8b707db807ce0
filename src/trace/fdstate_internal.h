/* fdstate's insides, shared by its files (fdstate.c: events and fd tables; fdstate_rename.c:
 * renames). Not for anyone else: the collector and the tests use fdstate.h. */
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
};

typedef struct {
    roar_fsfile *file;
    roar_hash_reason reason;
    roar_ident ident;
    char *path; /* owned */
    uint32_t tgid;
    int fd;
} fs_hashreq;

/* One entry of the rename history (fdstate_rename.c). */
typedef struct {
    char *from; /* owned: the name that moved away or went */
    char *to;   /* owned: where it moved; NULL: it was removed */
} fs_history;

typedef struct {
    unsigned reason;
    char *path; /* owned, or NULL */
} fs_incomplete;

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

    fs_incomplete *inc;
    size_t inc_count, inc_alloc;
    uint64_t events_lost;

    /* Renames fdstate could not resolve at the call (a directory; a name no event had
     * shown yet, without an identity taken at the call) and names removed beneath them
     * since, in event order; indexed by every name they mention. fdstate_rename.c. */
    fs_history *history;
    size_t history_count, history_alloc;
    roar_keymap history_names; /* path -> its entries (fdstate_rename.c's refs) */
};

/* ---- helpers of fdstate.c that the other files use ---------------------- */

int fdstate_file_new(roar_fsfile **out, roar_fdstate *st);
int fdstate_name_index(const roar_fsfile *f, const char *path);
void fdstate_unbind_path(roar_fdstate *st, const char *path);
int fdstate_bind_path(roar_fdstate *st, roar_fsfile *f, const char *path, bool target);
int fdstate_mark_path(roar_keymap *m, const char *path);
int fdstate_set_key(roar_fdstate *st, roar_fsfile *f, const roar_ident *id);
roar_fsfile *fdstate_by_ident(const roar_fdstate *st, const roar_ident *id);
int fdstate_discover(roar_fsfile **out, roar_fdstate *st, const char *path, const roar_ident *id);
int fdstate_place(roar_fsfile **out, roar_fdstate *st, const char *path, const roar_ident *id,
                  bool created);
int fdstate_request_hash(roar_fdstate *st, roar_fsfile *f, roar_hash_reason reason,
                         const roar_ident *id, const char *path, uint32_t tgid, int fd);
int fdstate_make_input(roar_fdstate *st, roar_fsfile *f, const roar_ident *id, const char *path,
                       bool hash_now, uint32_t tgid, int fd);

/* ---- fdstate_rename.c --------------------------------------------------- */

int fdstate_ev_rename(roar_fdstate *st, const roar_event *ev);

/* fdstate_place for a path the job knows nothing of, once the rename history is not
 * empty: the pre-job file that the job's renames brought to `path`, if they did, else
 * fdstate_discover. `id` may describe content the event has already changed (an O_TRUNC
 * open): it keys the file but is not taken as the input's identity. */
int fdstate_place_moved(roar_fsfile **out, roar_fdstate *st, const char *path,
                        const roar_ident *id);

/* `path` stopped naming anything (unlink, rmdir): a name beneath a renamed directory
 * that appears again later is not the one that moved there. */
int fdstate_note_gone(roar_fdstate *st, const char *path);

void fdstate_history_free(roar_fdstate *st);

#endif
