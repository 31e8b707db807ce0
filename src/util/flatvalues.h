/* Metric and parameter files flattened to `key -> value` pairs, so that a review can say
 * "acc 0.91 -> 0.87": JSON, YAML block mappings and CSV. Generic text parsing with no
 * notion of a review, so it lives in util (and its fuzz target links it from there). The
 * text comes from others' commits: the parsers are iterative and bounded. */
#ifndef ROAR_UTIL_FLATVALUES_H
#define ROAR_UTIL_FLATVALUES_H

#include <stddef.h>

#include "util/buf.h"

/* The most pairs one file yields, and the most bytes of them: reading stops at the first
 * pair over either. The text comes from others (a key of a megabyte repeated for every
 * element of an array would otherwise flatten 4 MiB into gigabytes), and nobody
 * reviews more. */
#define ROAR_FLATVALUES_MAX_PAIRS 10000
#define ROAR_FLATVALUES_MAX_BYTES (1024 * 1024)

/* Replaces out's contents with the flattened pairs of `text` (len bytes, need not be
 * NUL-terminated), read as JSON, YAML or CSV by `path`'s extension (.json, .yaml/.yml,
 * .csv; anything else gives nothing), as "key\tvalue\n" lines: keys are dotted paths
 * (`loss.val`, `layers.0`); tabs, line ends and NULs inside keys and values become spaces.
 * Unparseable text gives nothing, or the pairs read before the error. 0, or ROAR_ENOMEM. */
int roar_flatten_values(roar_buf *out, const char *path, const char *text, size_t len);

#endif
