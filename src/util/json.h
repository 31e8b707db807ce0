/* JSON text for the query commands' --json output (docs/json.md): string literals
 * that are always valid UTF-8 JSON, whatever bytes a path or command holds. */
#ifndef ROAR_UTIL_JSON_H
#define ROAR_UTIL_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

/* Appends s[0..len) as a JSON string literal, quotes included: `"` and `\` escaped,
 * \b \f \n \r \t, \u00XX for other control bytes, \uXXXX for DEL and the other
 * characters util/escape.h counts as unsafe, other valid UTF-8 as is, and each byte
 * that is not part of valid UTF-8 as U+FFFD. *lossless (may be NULL) is set to false
 * when such a replacement happened (the literal no longer gives the bytes back). */
int roar_json_string(roar_buf *out, const char *s, size_t len, bool *lossless);

/* roar_json_string of a NUL-terminated string, or `null` for NULL. */
int roar_json_cstr(roar_buf *out, const char *s_or_null);

/* Appends `"<hex of every byte>"`, lower case: the lossless companion of a
 * roar_json_string that was not lossless. */
int roar_json_hex(roar_buf *out, const char *s, size_t len);

#endif
