/* How an untrusted string (a path, a command, a note value, a commit summary) is printed:
 * the one home of that rule (ARCHITECTURE.md) for the terminal, dot, Mermaid and Markdown.
 *
 * What counts as unsafe, everywhere below: a control byte (C0 0x00-0x1f, DEL 0x7f), a
 * byte that is not part of valid UTF-8, and these valid UTF-8 characters that a terminal
 * or a renderer acts on instead of showing: C1 controls U+0080-U+009F (U+009B is CSI on
 * terminals that take 8-bit controls), the bidirectional formatting characters U+061C,
 * U+200E, U+200F, U+202A-U+202E, U+2066-U+2069 (they reorder what is shown around them)
 * and the separators U+2028, U+2029. An unsafe character is always shown as the octal
 * escapes of its bytes, `\ooo` (ESC is `\033`, BEL `\007`, CR `\015`, U+009B `\302\233`),
 * as git shows bytes in paths; never as the character itself.
 *
 * JSON string literals are util/json.h's, which write every unsafe valid character as
 * \uXXXX (and invalid UTF-8 as U+FFFD), so JSON on a terminal is safe too. The record format's own
 * quoting is util/quote.h's; the terminal forms below are the same text for every string that holds
 * nothing unsafe. */
#ifndef ROAR_UTIL_ESCAPE_H
#define ROAR_UTIL_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

/* True when s[0..len) holds an unsafe character (see above). */
bool roar_escape_unsafe(const char *s, size_t len);

/* The length of the character at s[0] (len > 0): of its valid UTF-8 sequence, or 1 for a
 * byte that does not start one; *unsafe says whether it is unsafe (see above). */
size_t roar_escape_next(const char *s, size_t len, bool *unsafe);

/* ---- terminal ------------------------------------------------------------------- */

/* A value (a host, a user, a tracer name, an unknown key or its value) for a terminal:
 * as is when it holds nothing unsafe and does not begin with `"`; otherwise in double
 * quotes with `\t \n \" \\` and `\ooo` for every other unsafe byte. A raw value never
 * begins with `"`, so the two forms cannot be taken for each other. */
int roar_escape_term(roar_buf *out, const char *s, size_t len);
int roar_escape_term_cstr(roar_buf *out, const char *s);

/* A path for a terminal: roar_quote_path's form (SPEC §5.1: raw, or C-quoted when it
 * needs to be), and C-quoted as well when it holds an unsafe UTF-8 character, which is
 * then written as `\ooo` bytes. The quoted form parses back with roar_quote_path_parse. */
int roar_escape_path(roar_buf *out, const char *s, size_t len);

/* An argv element (an env value) and a command line for a terminal: roar_quote_arg's and
 * roar_quote_argv's forms (copy-paste gives the same argv back), except that an element
 * holding an unsafe UTF-8 character is written in $'...' with those bytes as `\ooo`. */
int roar_escape_arg(roar_buf *out, const char *s, size_t len);
int roar_escape_argv(roar_buf *out, const char *const *argv, size_t argc);

/* ---- Graphviz dot ----------------------------------------------------------------- */

/* The inside of a double-quoted dot label (the caller writes the quotes): `"` and `\`
 * backslashed, a newline as dot's line break `\n`, and every other unsafe byte as the
 * visible text `\ooo` (written `\\ooo`: the label shows a backslash and three digits). */
int roar_escape_dot(roar_buf *out, const char *s, size_t len);

/* ---- Mermaid ---------------------------------------------------------------------- */

/* The inside of a double-quoted Mermaid node label (`n1["..."]`; the caller writes the
 * quotes): Mermaid's entity codes `#<decimal>;` for `" # & < > ` [ ] ( ) { } |` (so a
 * label can neither end its string nor open markup, nor a code fence it sits in), a
 * newline as `<br/>`, and every other unsafe byte as the visible text `\ooo`. */
int roar_escape_mermaid(roar_buf *out, const char *s, size_t len);

/* ---- Markdown (CommonMark / GitHub) ----------------------------------------------- */

/* Inline Markdown text that renders as exactly these characters and nothing more: no
 * emphasis, link, image, heading, list, table cell end, HTML or autolink can come of it.
 * ASCII punctuation that means something to Markdown is backslashed
 * (\ ` * _ { } [ ] ( ) # + - . ! | ~ ^ $ =), `< > &` are `&lt; &gt; &amp;`, `:` and `@`
 * are `&#58;` and `&#64;` (no `https:` or `a@b` autolink); unsafe bytes are shown as the
 * text `\ooo`. GitHub's own references in plain text (#123, a commit id) are not
 * markup and stay: put what must stay inert in a code span. */
int roar_escape_md(roar_buf *out, const char *s, size_t len);

/* An inline code span holding s verbatim, delimiters included: fenced with one backtick
 * more than the longest run of backticks inside, and padded with a space on each side
 * when s begins or ends with a backtick or a space (CommonMark strips exactly one);
 * unsafe bytes, newlines included, are shown as the text `\ooo` (a code span shows a
 * backslash as itself), so nothing ends the span, the line or the block. `in_table`: the
 * span sits in a GitHub table cell, where `|` must be written `\|` even inside code (and
 * a `|` right after a backslash, where that pair cannot form, is shown as `\174`).
 * An empty s gives "` `". */
int roar_escape_md_code(roar_buf *out, const char *s, size_t len, bool in_table);
int roar_escape_md_code_cstr(roar_buf *out, const char *s, bool in_table);

#endif
