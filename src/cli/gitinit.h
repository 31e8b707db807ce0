/* git_libgit2_init on a thread of its own: main starts it early and lets the work that
 * needs no libgit2 (a command's preparation) overlap it. gitinit.c also keeps Debian's
 * libgit2 from parsing the system's CA bundle at init (6-30 ms, bench/README.md), which
 * git roar never uses. CLI-internal. */
#ifndef ROAR_CLI_GITINIT_H
#define ROAR_CLI_GITINIT_H

/* Starts git_libgit2_init; runs it in the caller when no thread can be made. */
void roar_cli_libgit2_start(void);

/* Returns once git_libgit2_init has returned. Call before any other libgit2 call,
 * and before forking or changing signal dispositions (no thread may be left). */
void roar_cli_libgit2_wait(void);

#endif
