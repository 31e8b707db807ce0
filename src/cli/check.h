/* CHECK(expr) for the CLI's output code: appending to a roar_buf fails only for want of
 * memory, which is fatal. For src/cli .c files only (a short macro name). */
#ifndef ROAR_CLI_CHECK_H
#define ROAR_CLI_CHECK_H

#include "cli/cli.h"

/* "fatal: out of memory", exit 128. */
static inline __attribute__((noreturn)) void roar_cli_oom(void)
{
    roar_cli_die("out of memory");
}

/* Dies through roar_cli_oom when `expr` is negative. */
#define CHECK(expr)                                                                                \
    do {                                                                                           \
        if ((expr) < 0)                                                                            \
            roar_cli_oom();                                                                        \
    } while (0)

#endif
