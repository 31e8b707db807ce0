/* Quoting for the record format (SPEC §5.1): git-style C-quoted paths, and shell
 * quoting of argv elements that bash, zsh and ksh read back to the same argv. */
#ifndef ROAR_UTIL_QUOTE_H
#define ROAR_UTIL_QUOTE_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

/* Length of the valid UTF-8 sequence (RFC 3629: no overlongs, no surrogates, at most
 * U+10FFFF) starting at s[0], or 0 when s[0] does not start one within len bytes. */
size_t roar_utf8_seq_len(const unsigned char *s, size_t len);

/* ---- paths -------------------------------------------------------------- */

/* True when the path must be written C-quoted: it is empty, contains a control byte
 * (< 0x20 or 0x7f), '"', '\\' or invalid UTF-8, or begins or ends with a space. */
bool roar_quote_path_needed(const char *s, size_t len);

/* Appends the path to out: raw, or in double quotes with `\t \n \" \\` and `\ooo` for
 * every other control byte and every byte of invalid UTF-8 (valid UTF-8 stays raw). */
int roar_quote_path(roar_buf *out, const char *s, size_t len);

/* Parses a whole path field (`s` holds exactly the field, nothing after it) and
 * appends the decoded bytes to out. Strict: a raw field must be one that
 * roar_quote_path would write raw; a quoted one must close exactly at the end, use
 * only git's escapes (\a \b \t \n \v \f \r \" \\ \ooo), hold no raw control byte or
 * invalid UTF-8, and decode to no NUL. ROAR_EINVALID with a message saying what is
 * wrong; out is then left as it was. */
int roar_quote_path_parse(roar_buf *out, const char *s, size_t len);

/* ---- argv elements and command lines ------------------------------------ */

/* Appends one argv element: bare if it matches [A-Za-z0-9_@%+=:,./-]+; in $'...' if
 * it contains a control byte or invalid UTF-8 (escapes \\ \' \a \b \t \n \v \f \r,
 * else \ooo); in single quotes otherwise (' as '\''). The empty string is ''. */
int roar_quote_arg(roar_buf *out, const char *s, size_t len);

/* Appends argv joined by single spaces. One addition to the element rule above:
 * argv[0] that the shell would take for an assignment (NAME=...) is single-quoted,
 * so that pasting the line into a shell still runs the same argv. */
int roar_quote_argv(roar_buf *out, const char *const *argv, size_t argc);

/* Splits a command line written by roar_quote_argv back into argv. Words are
 * separated by runs of spaces; a word is a concatenation of bare runs of
 * [A-Za-z0-9_@%+=:,./-], a backslash before one printable ASCII character (the \'
 * in 'a'\''b'), '...' and $'...' segments. In $'...' the escapes \\ \' \" \? \a \b \e
 * \E \f \n \r \t \v and \o, \oo, \ooo up to \377 are accepted (as bash reads them);
 * anything else, an unterminated quote, a character that would
 * mean something else to a shell, or a NUL is ROAR_EINVALID with a clear message.
 * On success *out is a NULL-terminated array of *out_argc malloc'd strings, which the
 * caller frees with roar_quote_argv_free; on failure *out is NULL. */
int roar_quote_argv_parse(char ***out, size_t *out_argc, const char *s, size_t len);

/* Parses exactly one shell word (an env value) and appends it to out. */
int roar_quote_arg_parse(roar_buf *out, const char *s, size_t len);

/* Frees an array from roar_quote_argv_parse. NULL-safe. */
void roar_quote_argv_free(char **argv, size_t argc);

#endif
