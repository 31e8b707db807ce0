/* A job's steps (SPEC §4.9): which of its inputs each of its outputs can depend on.
 * The value of one `step` line is "<outputs> <inputs>", each a list of 1-based
 * positions among the job's `out` and `in` lines: comma-separated numbers and ranges
 * `a-b` (a < b), ascending, neither overlapping nor touching; `-` for no inputs.
 * Outputs named by no step line depend on every input (docs/record-format.md). */
#ifndef ROAR_GRAPH_STEPS_H
#define ROAR_GRAPH_STEPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/* Positions lo..hi, 0-based and inclusive. */
typedef struct {
    uint32_t lo, hi;
} roar_span;

/* One step line: the outputs `outs` depend on the inputs `ins` and on nothing else. */
typedef struct {
    roar_span *outs;
    size_t nouts;
    roar_span *ins;
    size_t nins;
} roar_step;

typedef struct {
    roar_step *v;
    size_t count, alloc;
    /* roar_steps_index's: every output span, sorted, with its step's index, so that
     * finding an output's step is a binary search whatever a note holds */
    roar_span *index;
    uint32_t *index_step;
    size_t nindex;
} roar_steps;

void roar_steps_dispose(roar_steps *s);
bool roar_steps_equal(const roar_steps *a, const roar_steps *b);

/* Parses one step line's value and appends it. ROAR_EINVALID with a message (no line
 * number) for anything malformed or out of the canonical form; ROAR_ENOMEM. */
int roar_steps_parse_value(roar_steps *s, const char *v, size_t len);

/* Appends one step line's value (no key, no LF). */
int roar_steps_format_value(roar_buf *b, const roar_step *step);

/* Checks the steps against a job of nin inputs and nout outputs: every position in
 * range, no output in two steps, steps ordered by their first output. ROAR_EINVALID
 * naming the step (1-based) otherwise. */
int roar_steps_check(const roar_steps *s, size_t nin, size_t nout);

/* Indexes the steps by output (roar_steps_find). ROAR_EINVALID when an output is in two
 * steps; ROAR_ENOMEM. Call it once the steps are all in: readers of notes and of the
 * cache do, and roar_steps_from_deps does. */
int roar_steps_index(roar_steps *s);

/* The step of output `out_pos` (0-based), or NULL: it depends on every input. A binary
 * search once indexed, a scan of every step before. */
const roar_step *roar_steps_find(const roar_steps *s, size_t out_pos);

/* Whether the step lists input `in_pos` (0-based). */
bool roar_step_has_input(const roar_step *step, size_t in_pos);

/* Builds the steps from each output's inputs: deps[i] (sorted, unique, 0-based input
 * positions, dep_count[i] of them) for output i, or all[i] true for "every input".
 * Outputs that depend on every input get no step; outputs with equal inputs share one
 * step. Leaves *s empty when no output is narrower than every input. */
int roar_steps_from_deps(roar_steps *s, size_t nin, size_t nout, const size_t *const *deps,
                         const size_t *dep_count, const bool *all);

/* The cache's form: every step's value, one per line, in order (no trailing LF). */
int roar_steps_to_text(roar_buf *b, const roar_steps *s);
int roar_steps_from_text(roar_steps *s, const char *text, size_t len);

#endif
