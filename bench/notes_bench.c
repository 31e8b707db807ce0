/* Driver of bench/notes.sh: writes N notes, one record each, on N made-up object ids with
 * ONE call of roar_notes_write (the notes writer's batch path) and prints the seconds.
 *
 * usage: notes_bench REPO N [START]   (objects: blob ids of "object <i>", i in [START, START+N)) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <git2.h>

#include "gitstore/notes.h"
#include "gitstore/repo.h"
#include "graph/oid.h"
#include "graph/record.h"
#include "util/err.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A record of the size a training step leaves: a few inputs, one output. */
static int make_job(roar_note *note, unsigned i)
{
    const char *argv[4] = {"python3", "train.py", "--seed", NULL};
    char seed[32], path[64], id[ROAR_OID_HEXSZ + 1], text[64];
    roar_job job;
    int k, error;

    roar_job_init(&job);
    snprintf(seed, sizeof(seed), "%u", i);
    argv[3] = seed;
    if ((error = roar_job_set_argv(&job, argv, 4)) < 0)
        goto out;
    job.cwd = strdup(".");
    job.tracer = strdup("preload");
    job.host = strdup("bench");
    job.start_ms = 1790000000000 + (int64_t)i * 1000;
    job.end_ms = job.start_ms + 5000;
    for (k = 0; k < 4; k++) {
        snprintf(text, sizeof(text), "input %u %d", i, k);
        snprintf(path, sizeof(path), "data/part-%d.csv", k);
        if ((error = roar_blob_id_of_buffer(id, text, strlen(text))) < 0 ||
            (error = roar_job_add_edge(&job, ROAR_ROLE_IN, path, id, 1048576)) < 0)
            goto out;
    }
    snprintf(text, sizeof(text), "model %u", i);
    if ((error = roar_blob_id_of_buffer(id, text, strlen(text))) < 0 ||
        (error = roar_job_add_edge(&job, ROAR_ROLE_OUT, "models/model.pt", id, 5242880)) < 0)
        goto out;
    error = roar_note_add_job(note, &job);
out:
    roar_job_dispose(&job);
    return error;
}

int main(int argc, char **argv)
{
    roar_repo *repo = NULL;
    roar_note *notes = NULL;
    roar_notes_edit *edits = NULL;
    roar_buf ref = ROAR_BUF_INIT;
    unsigned n, start, i;
    char text[32];
    double t0;
    int status = 1;

    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: notes_bench REPO N [START]\n");
        return 129;
    }
    n = (unsigned)strtoul(argv[2], NULL, 10);
    start = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 10) : 0;
    git_libgit2_init();
    notes = calloc(n + 1, sizeof(*notes));
    edits = calloc(n + 1, sizeof(*edits));
    if (!notes || !edits || roar_repo_open(&repo, argv[1]) < 0 || roar_notes_ref(&ref, repo) < 0)
        goto out;
    for (i = 0; i < n; i++) {
        roar_note_init(&notes[i]);
        snprintf(text, sizeof(text), "object %u", start + i);
        if (make_job(&notes[i], start + i) < 0 ||
            roar_blob_id_of_buffer(edits[i].object, text, strlen(text)) < 0)
            goto out;
        edits[i].add = &notes[i];
    }
    t0 = now_s();
    if (roar_notes_write(NULL, repo, ref.ptr, edits, n, "Notes added by notes_bench", NULL, NULL) <
        0)
        goto out;
    printf("%.3f\n", now_s() - t0);
    status = 0;

out:
    if (status)
        fprintf(stderr, "notes_bench: %s\n", roar_error_last());
    for (i = 0; notes && i < n; i++)
        roar_note_dispose(&notes[i]);
    free(notes);
    free(edits);
    roar_buf_dispose(&ref);
    roar_repo_free(repo);
    git_libgit2_shutdown();
    return status;
}
