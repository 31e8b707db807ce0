/* Scaffolding shared by the unit tests: shell commands that fail the test, bounded path
 * formatting, and a hermetic scratch home for tests that drive git. */
#ifndef ROAR_TESTS_UNIT_TESTUTIL_H
#define ROAR_TESTS_UNIT_TESTUTIL_H

/* Linked into every tests/unit/test_*.c executable (see CMakeLists.txt). Each helper
 * fails the current cmocka test instead of returning an error, so call them only from
 * tests and fixtures. */

#include <stddef.h>

/* snprintf that fails the test instead of truncating (and keeps -Wformat-truncation,
 * which cannot see the real lengths, quiet). */
void roar_test_fmt_path(char *out, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Runs a shell command with system(); fails the test unless it exits 0. Output is not
 * redirected. */
void roar_test_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Runs a shell command in directory dir (borrowed), its output discarded; fails the test
 * unless it exits 0. */
void roar_test_sh_in(const char *dir, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Runs a shell command and stores its first output line (newline stripped) into out;
 * fails the test unless it exits 0. */
void roar_test_sh_line(char *out, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Runs a shell command and returns all of its output (the caller frees it); fails the
 * test unless it exits 0. */
char *roar_test_sh_all(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Makes /tmp/roar-test-<name>.XXXXXX, stores its realpath into root (PATH_MAX bytes) and
 * points git at it hermetically: HOME=<root>/home, no system config, discovery stops at
 * root, fixed author and committer, and no GIT_DIR/GIT_WORK_TREE/GIT_INDEX_FILE from the
 * caller's environment. -1 when the directory cannot be made. The caller removes root. */
int roar_test_git_sandbox(char *root, const char *name);

#endif
