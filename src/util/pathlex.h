/* Lexical path helpers: absolute paths compared and normalised by their bytes alone,
 * without asking the file system (SPEC §4.2's first step; the query commands' path
 * arguments; the filters' prefixes). */
#ifndef ROAR_UTIL_PATHLEX_H
#define ROAR_UTIL_PATHLEX_H

#include <stddef.h>

#include "util/buf.h"

/* Appends the lexical normal form of an absolute path to out: `.`, `..` (never above
 * `/`) and repeated `/` resolved, no trailing `/` except for "/" itself.
 * ROAR_EINVALID when abs_path is not absolute; ROAR_ENOMEM. */
int roar_pathlex_normalise(roar_buf *out, const char *abs_path);

/* The part of `path` below `dir`: "" when they are equal, the rest after the slash
 * when path is under dir, NULL otherwise (`/ab` is not under `/a`). Both must be
 * normalised absolute paths; the result points into `path`. */
const char *roar_pathlex_below(const char *path, const char *dir);

/* roar_pathlex_below with strlen(dir) already known (`len`), for hot loops. */
const char *roar_pathlex_below_n(const char *path, const char *dir, size_t len);

#endif
