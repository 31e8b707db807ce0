/* RFC 3339 UTC timestamps with milliseconds (`2026-11-27T12:00:00.123Z`), the only
 * time format in records (SPEC §5.1), and the clocks in the same unit. */
#ifndef ROAR_UTIL_TIMEFMT_H
#define ROAR_UTIL_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/* Length of a formatted timestamp, always exactly this. */
#define ROAR_TIME_LEN 24

/* Appends `ms` (milliseconds since the Unix epoch, UTC) as YYYY-MM-DDTHH:MM:SS.mmmZ.
 * Years 0000..9999 only: anything else is ROAR_EINVALID. */
int roar_time_format(roar_buf *out, int64_t ms);

/* Parses exactly the form above (24 bytes, upper-case T and Z, three fraction digits,
 * a real calendar date, no leap second) into *out. ROAR_EINVALID otherwise. */
int roar_time_parse(int64_t *out, const char *s, size_t len);

/* The current wall-clock time in milliseconds since the Unix epoch. */
int64_t roar_time_now_ms(void);

/* A monotonic clock in milliseconds, for deadlines and durations (its zero is arbitrary). */
int64_t roar_time_mono_ms(void);

#endif
