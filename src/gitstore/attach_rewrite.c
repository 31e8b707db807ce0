/* After an amend or a rebase (git's post-rewrite hook), the pending jobs that ran on a
 * rewritten commit follow the commit that replaced it (SPEC §5.3). */
#include "gitstore/attach.h"

#include <stdlib.h>
#include <string.h>

#include "gitstore/pending.h"
#include "graph/oid.h"
#include "graph/record.h"
#include "util/err.h"

#define HEXSZ ROAR_OID_HEXSZ

typedef struct {
    char old_id[HEXSZ + 1];
    char new_id[HEXSZ + 1];
} rewrite_pair;

/* Parses git's list: one `<old> <new> [<extra>]` line per rewritten commit. Lines that
 * do not start with two commit ids are skipped. */
static int parse_pairs(rewrite_pair **out, size_t *count, const char *list)
{
    size_t alloc = 0;
    const char *line = list;

    *out = NULL;
    *count = 0;
    while (line && *line) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (len >= 2 * HEXSZ + 1 && line[HEXSZ] == ' ' &&
            (len == 2 * HEXSZ + 1 || line[2 * HEXSZ + 1] == ' ')) {
            rewrite_pair p;
            memcpy(p.old_id, line, HEXSZ);
            p.old_id[HEXSZ] = '\0';
            memcpy(p.new_id, line + HEXSZ + 1, HEXSZ);
            p.new_id[HEXSZ] = '\0';
            if (roar_oid_is_hex(p.old_id) && roar_oid_is_hex(p.new_id)) {
                if (ROAR_ALLOC_GROW(*out, *count + 1, alloc) < 0)
                    return roar_error_set(ROAR_ENOMEM, "out of memory");
                (*out)[(*count)++] = p;
            }
        }
        line = end ? end + 1 : NULL;
    }
    return 0;
}

/* The commit that replaced `base`, or NULL. A commit rewritten twice in one list
 * (rebase -i with fixups) maps to its last replacement. */
static const char *replacement(const rewrite_pair *pairs, size_t count, const char *base)
{
    const char *found = NULL;
    for (size_t i = 0; i < count; i++)
        if (!strcmp(pairs[i].old_id, base))
            found = pairs[i].new_id;
    return found;
}

int roar_attach_rewritten(size_t *attached, roar_repo *repo, const char *list,
                          roar_notes_problem_cb cb, void *payload)
{
    rewrite_pair *pairs = NULL;
    size_t npairs = 0, i, k;
    roar_pending_list pending = ROAR_PENDING_LIST_INIT;
    roar_buf key = ROAR_BUF_INIT, dir = ROAR_BUF_INIT, text = ROAR_BUF_INIT;
    /* Per pending job that follows a rewrite: its id and the commit it goes to. */
    rewrite_pair *moves = NULL;
    size_t nmoves = 0, moves_alloc = 0;
    int error;

    *attached = 0;
    if ((error = parse_pairs(&pairs, &npairs, list)) < 0 || !npairs)
        goto cleanup;
    if ((error = roar_pending_worktree_key(&key, repo)) < 0 ||
        (error = roar_pending_dir(&dir, repo)) < 0 ||
        (error = roar_pending_list_read(&pending, dir.ptr, key.ptr)) < 0)
        goto cleanup;
    for (i = 0; i < pending.count; i++) {
        roar_job job;
        const char *to;

        error = roar_pending_read(&text, dir.ptr, pending.items[i].name);
        if (error == ROAR_ENOTFOUND) { /* attached or dropped meanwhile */
            error = 0;
            continue;
        }
        if (error < 0)
            goto cleanup;
        roar_job_init(&job);
        if (roar_record_parse(&job, text.ptr, text.size) < 0) {
            roar_error_clear(); /* fsck reports it; it stays pending */
            roar_job_dispose(&job);
            continue;
        }
        to = job.has_base ? replacement(pairs, npairs, job.base) : NULL;
        if (to) {
            if (ROAR_ALLOC_GROW(moves, nmoves + 1, moves_alloc) < 0) {
                roar_job_dispose(&job);
                error = roar_error_set(ROAR_ENOMEM, "out of memory");
                goto cleanup;
            }
            memcpy(moves[nmoves].old_id, job.id, HEXSZ + 1);
            memcpy(moves[nmoves].new_id, to, HEXSZ + 1);
            nmoves++;
        }
        roar_job_dispose(&job);
    }

    /* One attach per target commit, with exactly the jobs that go there. */
    for (i = 0; i < nmoves; i++) {
        const char **ids;
        size_t n = 0;
        roar_attach_opts opts = ROAR_ATTACH_OPTS_INIT;
        roar_attach_result res;

        if (!moves[i].new_id[0])
            continue; /* done with an earlier target */
        if (!(ids = calloc(nmoves, sizeof(*ids)))) {
            error = roar_error_set(ROAR_ENOMEM, "out of memory");
            goto cleanup;
        }
        for (k = i; k < nmoves; k++)
            if (moves[k].new_id[0] && !strcmp(moves[k].new_id, moves[i].new_id))
                ids[n++] = moves[k].old_id;
        opts.rev = moves[i].new_id;
        opts.jobs = ids;
        opts.job_count = n;
        error = roar_attach_pending(&res, repo, &opts, cb, payload);
        free(ids);
        if (error < 0)
            goto cleanup;
        *attached += res.attached;
        for (k = nmoves; k-- > i;)
            if (k != i && moves[k].new_id[0] && !strcmp(moves[k].new_id, moves[i].new_id))
                moves[k].new_id[0] = '\0';
        moves[i].new_id[0] = '\0';
    }

cleanup:
    free(pairs);
    free(moves);
    roar_pending_list_dispose(&pending);
    roar_buf_dispose(&key);
    roar_buf_dispose(&dir);
    roar_buf_dispose(&text);
    return error;
}
