/* Pending records (SPEC §2, §5.3): jobs recorded by `run` and not yet attached, one file
 * per job in `<roar dir>/pending/`, written atomically; listed and read by attach/log. */
#ifndef ROAR_GITSTORE_PENDING_H
#define ROAR_GITSTORE_PENDING_H

#include <stddef.h>

#include "gitstore/repo.h"
#include "graph/job.h" /* ROAR_OID_HEXSZ */
#include "util/buf.h"

/* Layout (docs/run.md):
 *
 *     <roar dir>/pending/<40-hex job id>@<worktree key>
 *
 * The worktree key is `main` for the main worktree, else the name of the linked
 * worktree's admin directory (the basename of its git dir, `.git/worktrees/<name>`).
 * The file holds exactly the record text (roar_record_serialize's output). Names that
 * begin with '.' (temp files `.tmp-<pid>-<id>@<key>.XXXXXX`, claim dirs) are never
 * pending records. */

#define ROAR_PENDING_MAIN "main"

/* Replaces the contents of out with the worktree key of repo (see above). */
int roar_pending_worktree_key(roar_buf *out, const roar_repo *repo);

/* Replaces the contents of out with `<roar dir>/pending`. */
int roar_pending_dir(roar_buf *out, const roar_repo *repo);

/* Writes the record of job `job_id` (40 lower-case hex digits) for worktree `key` into
 * `dir` (a pending directory, which must exist): a temp file `.tmp-<pid>-<id>@<key>.*`
 * in dir, written in full, fsynced, renamed to `<job_id>@<key>`, then dir fsynced. On
 * any failure nothing is left behind (the temp file is removed) and the message names
 * the path and the cause (a full disk says so). A record already pending under that name is replaced
 * (same id, same bytes). `out_path` (may be NULL) receives the final path. All string
 * arguments are borrowed. ROAR_EINVALID for a malformed id or key. */
int roar_pending_write(roar_buf *out_path, const char *dir, const char *job_id, const char *key,
                       const char *text, size_t len);

/* One pending record file. */
typedef struct {
    char id[ROAR_OID_HEXSZ + 1]; /* the job id from the file name */
    char *worktree;              /* owned: the worktree key from the file name */
    char *name;                  /* owned: the file name, `<id>@<key>` */
} roar_pending_entry;

typedef struct {
    roar_pending_entry *items; /* owned, sorted by name */
    size_t count, alloc;
} roar_pending_list;
#define ROAR_PENDING_LIST_INIT                                                                     \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

void roar_pending_list_dispose(roar_pending_list *list);

/* Lists the pending records in dir, sorted by file name, replacing out's contents.
 * Dotfiles, subdirectories and names that are not `<40 hex>@<key>` are skipped. A
 * missing directory is an empty list. `worktree_key` non-NULL keeps only that
 * worktree's records. */
int roar_pending_list_read(roar_pending_list *out, const char *dir, const char *worktree_key);

/* Replaces out's contents with the text of `<dir>/<name>`. ROAR_ENOTFOUND when the file
 * is gone (claimed or dropped meanwhile). Refuses (ROAR_ELIMIT) a file over the record
 * size limit, since no reader would accept it. */
int roar_pending_read(roar_buf *out, const char *dir, const char *name);

/* A stranded temp file that was left in place: `name` in `dir`, and why (a parse error
 * "line N: ...", or another reason). Return 0 to go on. */
typedef int (*roar_pending_left_cb)(const char *dir, const char *name, const char *why,
                                    void *payload);

/* An unfinished temp file of an older git roar (no pid in its name) is named only once
 * it is this old: nobody is still writing it. */
#define ROAR_PENDING_TMP_OLD_SECS 60

/* Finishes the records stranded in `dir`'s temp files by writers that died between
 * fsync and rename (issue 16 item 10): a `.tmp-<pid>-<id>@<key>.*` whose pid is gone,
 * whose record parses and is job <id>, is linked to `<id>@<key>` and removed, with a
 * notice (util/err.h). Others are left; those of dead writers (and old legacy temp
 * files) are reported to cb (may be NULL). *recovered (may be NULL) counts the records
 * finished. A missing dir is nothing to do. */
int roar_pending_recover(size_t *recovered, const char *dir, roar_pending_left_cb cb,
                         void *payload);

#endif
