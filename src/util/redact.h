/* Secret redaction for what a job records (SPEC §8): environment names that look
 * secret, and passwords, tokens and credentials wherever they stand in a string. */
#ifndef ROAR_UTIL_REDACT_H
#define ROAR_UTIL_REDACT_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

/* What replaces a secret. */
#define ROAR_REDACTED "***"

/* True for names matching *TOKEN*, *SECRET*, *PASSWORD*, *PASSWD*, *PASS, *PAT, *KEY*,
 * *CREDENTIAL*, *AUTH* (SPEC §8), and *_PWD (MYSQL_PWD), ASCII case-insensitive:
 * AWS_SECRET_ACCESS_KEY, github_token, DB_Password, API_PASS, GITHUB_PAT. Literal
 * globs, so BYPASS, COMPAT, AUTHOR and KEYMAP are secret names too. */
bool roar_redact_env_name(const char *name);

/* Appends `text` to out with every secret in it replaced by ROAR_REDACTED, wherever it
 * stands (a whole argv element, or a word inside a `sh -c` string, an env value, a
 * commit message), and adds to *count (may be NULL) how many values were replaced:
 *   - NAME=value where NAME (after any dashes) is secret by roar_redact_env_name, or
 *     a dashed option name ending in the word PWD: `--password=x`, `GITHUB_TOKEN=x`,
 *     `-Dkey=x`, `a,password=x`, `--conf=spark.secret.key=x`, `--pwd=x`;
 *   - query parameters `?token=x&`, `&sig=x`, `&access_token=x#` (also names ending
 *     in `signature`); the value ends at `&`, `#`, a quote or a blank;
 *   - an option that takes a secret (roar_redact_takes_value) followed by a blank and
 *     a word, inside a string: `mysql --password x db` -> `--password *** db`;
 *   - `-u user:pass`, `-uuser:pass`, `--user user:pass`, `--user=user:pass`,
 *     `--proxy-user`/`-U` likewise: the part after the first ':' (never a numeric
 *     `uid:gid` pair, as docker means it);
 *   - `-p<password>` once a word naming a mysql or mariadb program came before
 *     (in this text or, for roar_redact_argv, an earlier element);
 *   - `Authorization: Bearer x` -> `Authorization: ***` (also Proxy-Authorization,
 *     JSON `"authorization": "x"`), secret-named headers with `-` or `_` in their name
 *     (`X-Api-Key: x`, `PRIVATE-TOKEN: x`) and secret-named JSON keys;
 *   - URL credentials `scheme://user:pass@host` and scp-style `user:pass@host:path`
 *     -> `user:***@host...` (the user name stays);
 *   - token shapes: gh[pousr]_, github_pat_, glpat-, xox[abprs]-, AKIA/ASIA key ids,
 *     JWTs (`eyJ….eyJ….sig`).
 * A value runs to the end of `text` when nothing before it is blank (a whole argv
 * element: `--password=a b`), to the closing quote when it stands inside quotes, else
 * to the end of its shell word. ROAR_ENOMEM on failure (out may then hold a partial
 * append). `text` is borrowed. */
int roar_redact_text(roar_buf *out, size_t *count, const char *text);

/* The command as it is recorded: *out gets argc redacted copies of argv (and a NULL
 * after them), freed by roar_redact_argv_free; *count (may be NULL) gets how many
 * values were replaced. Each element goes through roar_redact_text, and besides:
 *   - the element after an option that takes a secret is ROAR_REDACTED, whatever it is;
 *   - the element after `-u`, `--user`, `-U`, `--proxy-user` keeps what precedes its
 *     first ':' (`admin:***`). */
int roar_redact_argv(char ***out, size_t *count, const char *const *argv, size_t argc);

/* Frees what roar_redact_argv made. NULL-safe. */
void roar_redact_argv_free(char **argv, size_t argc);

/* Whether arg is an option whose value comes as the next argument and is secret:
 * `-`/`--` then a name of [A-Za-z0-9_.-] without `=`, not starting with `no-`, whose
 * name ends with the word TOKEN, SECRET, PASSWORD, PASSWD, PASS, PWD, KEY, AUTH,
 * CREDENTIAL or CREDENTIALS (case-insensitive; the whole name or after `-`, `_`, `.`),
 * or is openssl's `-passin`/`-passout`: `--password`, `--api-key`, `-token`, `--auth`,
 * `--credentials`. Not `--key-file`, `--monkey`, `--bypass`. */
bool roar_redact_takes_value(const char *arg);

#endif
