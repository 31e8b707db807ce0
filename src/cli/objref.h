/* OBJ arguments of the query commands (SPEC §3): a path, `<rev>:<path>`, a job id
 * prefix, a revision or a blob id prefix, resolved in that order, ambiguity fatal. */
#ifndef ROAR_CLI_OBJREF_H
#define ROAR_CLI_OBJREF_H

#include <stdbool.h>
#include <stdint.h>

#include "cli/query.h"
#include "gitstore/repo.h"
#include "graph/job.h"

/* The kinds an argument may name; a command passes the set it accepts. */
typedef enum {
    ROAR_OBJREF_PATH = 1 << 0,    /* a file in the work tree (or outside): its current content */
    ROAR_OBJREF_REVPATH = 1 << 1, /* `<rev>:<path>`: the file as committed at rev */
    ROAR_OBJREF_JOB = 1 << 2,     /* a job id prefix, at least 4 hex digits */
    ROAR_OBJREF_COMMIT = 1 << 3,  /* a revision naming a commit (tags peeled) */
    ROAR_OBJREF_BLOB = 1 << 4,    /* a blob id prefix, in the object database or a job */
} roar_objref_kind;

#define ROAR_OBJREF_ANY                                                                            \
    (ROAR_OBJREF_PATH | ROAR_OBJREF_REVPATH | ROAR_OBJREF_JOB | ROAR_OBJREF_COMMIT |               \
     ROAR_OBJREF_BLOB)
/* What names content (a file or a blob): lineage and reproduce take these and jobs. */
#define ROAR_OBJREF_CONTENT (ROAR_OBJREF_PATH | ROAR_OBJREF_REVPATH | ROAR_OBJREF_BLOB)

/* A resolved argument. Plain data; strings owned, freed by roar_objref_dispose. */
typedef struct {
    roar_objref_kind kind;
    /* PATH: the path as records write it (relative to the work-tree top, or absolute
     * outside it); REVPATH: the path inside the commit's tree; NULL otherwise. */
    char *path;
    /* PATH: the absolute path on disk; NULL otherwise. */
    char *abs;
    /* PATH: whether the file exists (after `--` it may not); true for the others. */
    bool exists;
    /* PATH: it names a directory (SPEC §3: every recorded output beneath it); then
     * has_blob is false. */
    bool is_dir;
    /* PATH (when it exists), REVPATH, BLOB: the blob id of the content, i.e. of the
     * work-tree bytes for PATH (SPEC §4.6), of the committed (clean) bytes for REVPATH. */
    bool has_blob;
    char blob[ROAR_OID_HEXSZ + 1];
    uint64_t size; /* PATH and REVPATH: bytes; BLOB: 0 when unknown */
    /* JOB: the full job id. */
    char job[ROAR_OID_HEXSZ + 1];
    /* COMMIT: the commit; REVPATH: the commit rev names, "" when rev is not a commit
     * (e.g. `:path`, the index). */
    char commit[ROAR_OID_HEXSZ + 1];
} roar_objref;

void roar_objref_init(roar_objref *ref);
/* Frees what ref owns and leaves it as after _init. NULL-safe. */
void roar_objref_dispose(roar_objref *ref);

/* Resolves `arg` against the kinds in `allowed` (a mask of roar_objref_kind), in SPEC
 * §3's order. With `after_dashdash` the argument is a path and nothing else (it need
 * not exist). Every allowed kind is tried: when two match, the result is
 * ROAR_EAMBIGUOUS with a message listing each candidate, e.g.
 *   'abcd' is ambiguous; it names:
 *     file abcd
 *     job abcd1234...
 *   use '-- abcd' for the file, or more digits
 * ROAR_ENOTFOUND (with a message naming what was tried) when nothing matches; a job
 * prefix matching several jobs is ROAR_EAMBIGUOUS from the cache. `q` and `repo` are
 * borrowed (the cache may be absent: then no job matches). `out` must be initialised;
 * its previous contents are disposed of. Paths are mapped with roar_query_map_path,
 * which dies for a path inside the git dir or in a bare repository. */
int roar_objref_resolve(roar_objref *out, roar_query *q, roar_repo *repo, const char *arg,
                        unsigned allowed, bool after_dashdash);

/* "file", "blob at rev:path", "job", "commit", "blob": the kind's word in messages. */
const char *roar_objref_kind_name(roar_objref_kind kind);

/* The blob id of the work-tree form of a committed blob (SPEC §4.6 ids are of work-tree
 * bytes): the blob smudged through the filters its path's attributes name (text/eol,
 * ident, filter drivers) as of `commit_hex` (NULL: HEAD's and the work tree's), as git
 * checkout would write it. When no filter applies, `out` equals `blob_hex`. */
int roar_objref_worktree_blob(char out[ROAR_OID_HEXSZ + 1], roar_repo *repo, const char *blob_hex,
                              const char *path, const char *commit_hex);

/* roar_objref_worktree_blob for a REVPATH ref: its blob as checked out from the commit
 * rev names (as the work tree would check it out when rev is not a commit). */
int roar_objref_revpath_worktree_blob(char out[ROAR_OID_HEXSZ + 1], roar_repo *repo,
                                      const roar_objref *ref);

/* Whether `s` is min..max hex digits (a job or blob id prefix has 4 to 40). */
bool roar_objref_is_hex(const char *s, size_t min, size_t max);

#endif
