/* Secret redaction for what a job records (SPEC §8): environment names that look
 * secret, and argv elements carrying passwords, tokens or URL credentials. */
#ifndef ROAR_UTIL_REDACT_H
#define ROAR_UTIL_REDACT_H

#include <stdbool.h>

#include "util/buf.h"

/* What replaces a secret. */
#define ROAR_REDACTED "***"

/* True for env names matching *TOKEN*, *SECRET*, *PASSWORD*, *KEY* (ASCII
 * case-insensitive): AWS_SECRET_ACCESS_KEY, github_token, DB_Password, SSH_KEY_PATH. */
bool roar_redact_env_name(const char *name);

/* Appends arg to out with secrets replaced by ROAR_REDACTED:
 *   - NAME=value where NAME, after its leading dashes, is made of
 *     [A-Za-z0-9_.-] and is secret by roar_redact_env_name: `--password=hunter2`,
 *     `--api-key=x`, `-token=x`, `GITHUB_TOKEN=x` -> `--password=***`, ...;
 *   - in anything else, every URL credential `scheme://user:pass@host` ->
 *     `scheme://user:***@host` (the user name stays; a URL without a password is
 *     left alone).
 * Anything else is appended unchanged. ROAR_ENOMEM on failure (out may then hold a
 * partial append). `arg` is borrowed. */
int roar_redact_arg(roar_buf *out, const char *arg);

/* Whether arg is an option whose value comes as the next argument and is secret:
 * `-`/`--` then a name of [A-Za-z0-9_.-] without `=`, not starting with `no-`, whose
 * name ends with the word TOKEN, SECRET, PASSWORD or KEY (case-insensitive; the whole
 * name or after `-`, `_`, `.`): `--password`, `--api-key`, `-token`, `--AWS_SECRET`. The caller records the next argument as
 * ROAR_REDACTED, whatever it is (a secret may start with `-`). */
bool roar_redact_takes_value(const char *arg);

/* Whether roar_redact_arg would change arg. */
bool roar_redact_arg_needed(const char *arg);

#endif
