# A small harness in the style of git's t/test-lib.sh for end-to-end tests of git-roar.
# Source it from tests/cli/tNNNN-*.sh, declare tests with test_expect_success, end with test_done.
#
# Each test body runs in a subshell, in a fresh repository ($TEST_DIR/repo, made with
# `git init`), with stdout and stderr captured and shown only on failure (or always
# with ROAR_TEST_VERBOSE=1). Bodies chain their commands with && as in git's suite.
# Variables available to bodies: TEST_ROOT (this script's temp dir, also the discovery
# ceiling), TEST_DIR (this test's dir, outside any repository), ROAR_SOURCE_DIR,
# ROAR_BUILD_DIR. The last line printed is exactly "N passed, M failed"; the exit
# status is non-zero when anything failed. ROAR_TEST_KEEP=1 keeps the temp dir.

ROAR_SOURCE_DIR=${ROAR_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
ROAR_BUILD_DIR=${ROAR_BUILD_DIR:-$ROAR_SOURCE_DIR/build}
export ROAR_SOURCE_DIR ROAR_BUILD_DIR

if ! test -x "$ROAR_BUILD_DIR/git-roar"; then
    echo "error: $ROAR_BUILD_DIR/git-roar is not built (set ROAR_BUILD_DIR)" >&2
    echo "0 passed, 1 failed"
    exit 1
fi

# ctest (run with -j) can leak the fd of its own LastTest.log.tmp into a test it starts
# while writing that file. A command traced here would inherit it and record the log as
# an input and output (SPEC §4.1: inherited fds count), failing exact-edge checks for a
# reason that is the harness's. Close every fd beyond the standard three (and bash's
# own script fd, 255) first.
for roar_fd in $(ls /proc/$$/fd 2>/dev/null); do
    case $roar_fd in
    0 | 1 | 2 | 255) ;;
    *) eval "exec $roar_fd>&-" 2>/dev/null ;;
    esac
done
unset roar_fd

TEST_ROOT=$(mktemp -d "${TMPDIR:-/tmp}/roar-cli.XXXXXX") || exit 1
TEST_ROOT=$(cd -P "$TEST_ROOT" && pwd) || exit 1
export TEST_ROOT

test_count=0
test_passed=0
test_failed=0
test_skipped=0
test_finished=

roar_test_cleanup() {
    local status=$?
    if test -z "$test_finished"; then
        echo "error: the script stopped before test_done" >&2
        test_failed=$((test_failed + 1))
        echo "$test_passed passed, $test_failed failed"
        status=1
    fi
    if test -n "${ROAR_TEST_KEEP:-}"; then
        echo "# kept $TEST_ROOT" >&2
    else
        chmod -R u+rwx "$TEST_ROOT" 2>/dev/null
        rm -rf "$TEST_ROOT"
    fi
    exit $status
}
trap roar_test_cleanup EXIT

# A hermetic git: nothing from the caller's environment, system or user config.
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_OBJECT_DIRECTORY GIT_COMMON_DIR \
    GIT_ALTERNATE_OBJECT_DIRECTORIES GIT_NAMESPACE GIT_CONFIG GIT_CONFIG_PARAMETERS \
    GIT_CONFIG_COUNT GIT_CONFIG_GLOBAL XDG_CONFIG_HOME GIT_PAGER GIT_EDITOR
export GIT_CONFIG_NOSYSTEM=1
export HOME="$TEST_ROOT/home"
mkdir -p "$HOME"
git config --global user.name "A U Thor"
git config --global user.email "author@example.com"
git config --global init.defaultBranch main
git config --global advice.detachedHead false
# Discovery never climbs out of the temp dir, whatever /tmp sits in.
export GIT_CEILING_DIRECTORIES="$TEST_ROOT"
export LC_ALL=C LANG=C
export PAGER=cat MANPAGER=cat
# `git roar` must find the git-roar just built, before any installed one.
export PATH="$ROAR_BUILD_DIR:$PATH"

say() {
    printf '%s\n' "$*"
}

# test_expect_success 'description' 'body'
test_expect_success() {
    local desc=$1 body=$2 log status
    test_count=$((test_count + 1))
    TEST_DIR="$TEST_ROOT/t$test_count"
    log="$TEST_DIR.log"
    mkdir -p "$TEST_DIR" && git init -q "$TEST_DIR/repo" || {
        say "not ok $test_count - $desc (could not create its repository)"
        test_failed=$((test_failed + 1))
        return
    }
    (
        export TEST_DIR
        cd "$TEST_DIR/repo" || exit 1
        eval "$body"
    ) >"$log" 2>&1 </dev/null
    status=$?
    if test $status -eq 0; then
        test_passed=$((test_passed + 1))
        say "ok $test_count - $desc"
        if test -n "${ROAR_TEST_VERBOSE:-}"; then sed 's/^/#   /' "$log"; fi
    else
        test_failed=$((test_failed + 1))
        say "not ok $test_count - $desc (exit $status)"
        sed 's/^/#   /' "$log"
    fi
}

# test_skip 'description' 'reason': a test that cannot run here, reported visibly.
test_skip() {
    test_count=$((test_count + 1))
    test_skipped=$((test_skipped + 1))
    say "ok $test_count - $1 # SKIP $2"
}

# ebpf_usable: true when the eBPF tracer runs here. False, with the reason in $ebpf_why,
# when this machine cannot run it (not built, not root, a kernel that refuses BPF:
# roar-ebpfdump exits 77), for the caller to skip visibly. Any other failure, such as
# the verifier refusing our programs, is a bug: it is reported as a failed test here,
# never as a skip, and ebpf_usable is false.
ebpf_usable() {
    local dump="$ROAR_BUILD_DIR/tests/trace/roar-ebpfdump" code=0
    if ! test -x "$dump"; then
        ebpf_why="roar-ebpfdump not built"
        return 1
    fi
    "$dump" -q -- true 2>"$TEST_ROOT/ebpf-why" || code=$?
    ebpf_why=$(cat "$TEST_ROOT/ebpf-why")
    case $code in
    0) return 0 ;;
    77) return 1 ;;
    esac
    test_expect_success 'the eBPF tracer loads where the kernel allows BPF' '
        cat "$TEST_ROOT/ebpf-why" >&2 && false
    '
    return 1
}

# test_must_fail CMD...: CMD must fail in a controlled way (not by a signal, and not
# "command not found"). 128 (fatal) and 129 (usage) count as controlled failures.
test_must_fail() {
    "$@"
    local code=$?
    if test $code -eq 0; then
        echo "test_must_fail: command succeeded: $*" >&2
        return 1
    elif test $code -gt 129 && test $code -le 192; then
        echo "test_must_fail: died of signal $((code - 128)): $*" >&2
        return 1
    elif test $code -eq 127 || test $code -eq 126; then
        echo "test_must_fail: cannot run ($code): $*" >&2
        return 1
    fi
    return 0
}

# test_expect_code N CMD...: CMD must exit with status N.
test_expect_code() {
    local want=$1 code
    shift
    "$@"
    code=$?
    if test $code -ne "$want"; then
        echo "test_expect_code: expected $want, got $code: $*" >&2
        return 1
    fi
    return 0
}

# test_cmp EXPECTED ACTUAL: the files must be identical; shows the diff when not.
test_cmp() {
    diff -u "$1" "$2"
}

# test_grep [-v] [-F] [-e] PATTERN FILE: like grep, but shows FILE when it fails.
test_grep() {
    local invert=
    if test "$1" = "-v"; then
        invert=1
        shift
    fi
    local file=${*: -1}
    if test -n "$invert"; then
        grep "${@:1:$#-1}" "$file" >/dev/null || return 0
        echo "test_grep: '$file' should not match: ${*:1:$#-1}" >&2
    else
        grep "${@:1:$#-1}" "$file" >/dev/null && return 0
        echo "test_grep: '$file' does not match: ${*:1:$#-1}" >&2
    fi
    echo "--- $file:" >&2
    cat "$file" >&2
    return 1
}

# test_must_be_empty FILE
test_must_be_empty() {
    if test -s "$1"; then
        echo "'$1' is not empty:" >&2
        cat "$1" >&2
        return 1
    fi
}

# args_for CMD: the smallest argument list CMD accepts, so that only the thing under test
# (quiet flag, repository discovery) can fail.
args_for() {
    case $1 in
    run) echo "true" ;;
    drop) echo "abcd" ;;
    show | lineage | reproduce) echo "HEAD" ;;
    review) echo "HEAD..HEAD" ;;
    export) echo "--format json" ;;
    esac
}

test_done() {
    test_finished=1
    if test $test_skipped -gt 0; then say "# $test_skipped skipped"; fi
    say "$test_passed passed, $test_failed failed"
    test $test_failed -eq 0
    exit $?
}
