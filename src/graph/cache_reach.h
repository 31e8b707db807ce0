/* The commits one tip reaches, kept in the cache between commands (schema v2). The
 * scope rule asks "is commit X in HEAD's history?" for every job it decides; walking
 * the whole history to answer it cost ~0.5 s per command at 25k commits. The graph
 * layer knows no git: gitstore/history.c walks, and keeps the set here. */
#ifndef ROAR_GRAPH_CACHE_REACH_H
#define ROAR_GRAPH_CACHE_REACH_H

#include <stdbool.h>

#include "graph/cache.h"
#include "util/buf.h"

/* The tip whose reachable set the table holds (40 hex digits), or ROAR_ENOTFOUND. */
int roar_cache_reach_tip(char out[ROAR_OID_HEXSZ + 1], roar_cache *cache);

/* Empties the set and forgets its tip: the start of a rebuild. */
int roar_cache_reach_reset(roar_cache *cache);

/* Adds `commit` (40 hex digits) to the set; adding one twice is not an error. */
int roar_cache_reach_add(roar_cache *cache, const char *commit);

/* Names the tip the set now describes. Callers add the commits and set the tip in one
 * roar_cache_begin/commit, so another process sees the old set or the whole new one. */
int roar_cache_reach_set_tip(roar_cache *cache, const char *tip);

/* Calls visit(commit, payload) for every commit of the set, if the set is the one of
 * `tip`, all in one read snapshot (so the set cannot change half-way); ROAR_ENOTFOUND,
 * with nothing visited, when the kept set is another tip's. A non-zero return from
 * visit stops and is returned. */
int roar_cache_reach_load(roar_cache *cache, const char *tip,
                          int (*visit)(const char *commit, void *payload), void *payload);

/* *out = whether `commit` is in the set of `tip`, in one statement: ROAR_ENOTFOUND when
 * the kept set is (now) another tip's. For a few questions, instead of a load. */
int roar_cache_reach_has_at(bool *out, roar_cache *cache, const char *tip, const char *commit);

/* *out = whether `commit` is in the set. */
int roar_cache_reach_has(bool *out, roar_cache *cache, const char *commit);

#endif
