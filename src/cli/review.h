/* What `git roar review` finds in a range (SPEC §6.3), apart from how it is printed:
 * the changed files and who explains them, the stale outputs at the tip, the metric and
 * parameter values that changed, and the range's jobs. */
#ifndef ROAR_CLI_REVIEW_H
#define ROAR_CLI_REVIEW_H

#include <stdbool.h>
#include <stddef.h>

#include "cli/query.h"
#include "gitstore/history.h"
#include "gitstore/repo.h"

typedef enum {
    ROAR_REVIEW_EXPLAINED = 0, /* a job in scope at the tip wrote it, at that path */
    ROAR_REVIEW_UNEXPLAINED,   /* a data file no such job wrote */
    ROAR_REVIEW_CODE,          /* hand-written (roar.review.code) */
    ROAR_REVIEW_DELETED,
    ROAR_REVIEW_UNJUDGED, /* no notes to judge it by */
} roar_review_kind;

typedef struct {
    char *path;
    char status; /* A, M, D, R, T as explain.h */
    roar_review_kind kind;
    char producer[ROAR_OID_HEXSZ + 1]; /* EXPLAINED: the newest such job */
} roar_review_file;

/* An output at the tip whose producer read content the tip no longer holds. */
typedef struct {
    char *output;
    char job[ROAR_OID_HEXSZ + 1];
    char *input;  /* the input that differs, or that a stale job produced */
    bool through; /* the input is itself the output of a stale job */
} roar_review_stale;

/* A metric or parameter value that changed: `key` is a dotted path into the file. */
typedef struct {
    char *file;
    char *key;
    char *old_value; /* NULL: absent at the base */
    char *new_value; /* NULL: absent at the tip */
    bool metric;     /* else a parameter */
} roar_review_value;

typedef struct {
    char range[256];
    char base[ROAR_OID_HEXSZ + 1]; /* "" when the range starts at a root */
    char tip[ROAR_OID_HEXSZ + 1];
    size_t commits;
    char (*commit_ids)[ROAR_OID_HEXSZ + 1]; /* the range's commits, oldest first */
    char **summaries;                       /* and their subject lines */
    roar_review_file *files;
    size_t file_count, file_alloc;
    roar_review_stale *stale;
    size_t stale_count, stale_alloc;
    roar_review_value *values;
    size_t value_count, value_alloc;
    roar_cache_id_list jobs; /* the range's jobs: attached to its commits, or producers
                                of its explained files; oldest first */
    size_t counts[ROAR_REVIEW_UNJUDGED + 1];
    size_t failed; /* jobs of the range that failed */
    bool no_notes; /* no notes at all: nothing can be judged */
    char behind[256]; /* remotes whose notes the local ref lacks, space-separated */
} roar_review;

void roar_review_init(roar_review *r);
void roar_review_dispose(roar_review *r);

/* Reviews `range`: `A..B` (the files differing between A and B, the commits of A..B) or
 * a single revision (that commit against its first parent). Dies on errors. */
void roar_review_compute(roar_review *out, roar_query *q, roar_repo *repo, const char *range);

/* review_stale.c: fills out->stale, the outputs at the tip whose inputs changed
 * (SPEC §6.3), each judged by its own step's inputs (SPEC §4.9). Dies on errors. */
void roar_review__find_stale(roar_review *out, roar_cache *cache, roar_scope *scope,
                             roar_repo *repo, roar_history *h);

#endif
