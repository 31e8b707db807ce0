/* Private to src/graph/record.c and note.c. */
#ifndef ROAR_GRAPH_RECORD_INTERNAL_H
#define ROAR_GRAPH_RECORD_INTERNAL_H

#include <stddef.h>

#include "graph/job.h"

/* roar_record_parse for a record that starts at line `first_line` of a note: messages
 * and *err_line (where the first error is) count lines from the note's top. */
int roar_record__parse_at(roar_job *out, const char *text, size_t len, size_t first_line,
                          size_t *err_line);

#endif
