# Helpers for the event tests of both tracers (t0100: preload, t0150: eBPF), whose
# dumpers print the same text. The sourcing script sets EVENTS_DUMP to its dumper.
TRACE_DIR="$ROAR_BUILD_DIR/tests/trace"

# trace [DUMP-OPTION...] -- CMD...: runs CMD under the tracer; events go to ev, with this
# directory written as T.
trace() {
    local opts=()
    while test "$1" != "--"; do
        opts+=("$1")
        shift
    done
    shift
    "$EVENTS_DUMP" "${opts[@]}" -o ev.raw -- "$@" &&
    sed "s|$(pwd -P)|T|g" ev.raw >ev
}
fx() {
    trace -- "$TRACE_DIR/fx_$1"
}
has() {
    test_grep -x -F -e "$1" ev
}
hasnt() {
    test_grep -v -x -F -e "$1" ev
}

# The fixtures whose lines the two tracers print alike, asserted the same way for both.
events_common_tests() {
    test_expect_success 'openat with a real dirfd: the path is joined and normalised' '
        mkdir sub && echo x >sub/x && fx openat &&
        has "p1 open T/sub fd=3 flags=rdonly|directory created=0 dir" &&
        has "p1 open T/sub/x fd=4 flags=rdonly created=0 reg"
    '

    test_expect_success 'chdir then a relative open' '
        mkdir sub && echo x >sub/x && fx chdir &&
        has "p1 chdir T/sub" &&
        has "p1 open T/sub/x fd=3 flags=rdonly created=0 reg"
    '

    test_expect_success 'dup2 onto a closed number, then write through it' '
        fx dup2 &&
        has "p1 dup 3->7" &&
        has "p1 write fd=7 reg"
    '

    test_expect_success 'pipe reusing a closed fd number is announced (fdnew)' '
        echo hi >in && fx pipe_reuse &&
        test_grep -x -E -e "p1 fdnew fd=3,4( .*)?" ev &&
        has "p1 write fd=4 fifo"
    '

    test_expect_success 'posix_spawn: the child is announced and followed through its exec' '
        echo hi >in && fx spawn >out &&
        has "p1 fork child=p2" &&
        has "p2 exec /usr/bin/cat" &&
        has "p2 open T/in fd=3 flags=rdonly created=0 reg"
    '
}
