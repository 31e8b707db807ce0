#!/bin/bash
# What git roar does before the command starts (cli/gitinit.h): libgit2 initialises
# without parsing the system's CA bundle, which git roar never uses, and `run` still
# reports a tracer that cannot load after a failed repository discovery, as before.
. "$(dirname "$0")/lib.sh"

ROAR="$ROAR_BUILD_DIR/git-roar"

if ! command -v strace >/dev/null; then
    test_skip 'the CA bundle is not read' "no strace"
else
# LeakSanitizer cannot work under strace (both need ptrace): no leak check in this one.
test_expect_success 'the CA bundle is not read (run, log)' '
    if test -n "${ASAN_OPTIONS+set}"; then
        ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0" && export ASAN_OPTIONS
    fi &&
    echo a >a && git add a && git commit -qm a &&
    strace -f -e trace=open,openat -o "$TEST_DIR/trace" "$ROAR" run -q -t preload -- cat a &&
    strace -f -e trace=open,openat -o "$TEST_DIR/trace-log" "$ROAR" log >/dev/null &&
    grep -q "\.git/HEAD" "$TEST_DIR/trace" &&
    ! grep -e ca-certificates -e /etc/ssl/certs "$TEST_DIR/trace" "$TEST_DIR/trace-log"
'
fi

test_expect_success 'outside a repository, run says so before anything of the tracer' '
    cd "$TEST_DIR" &&
    test_must_fail "$ROAR" run -q -t ebpf -- true 2>err &&
    test_grep "not a git repository" err &&
    test_grep -v -i "ebpf" err
'

test_done
