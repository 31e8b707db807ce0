# Helpers for the `git roar run` tests (t0200-run-*.sh), sourced after lib.sh.
# Each test body runs in its own repository; these keep their scratch files in
# $TEST_DIR, outside the work tree, so that nothing of theirs lands in a job.

TRACE_DIR="$ROAR_BUILD_DIR/tests/trace"
PRELOAD_LIB="$ROAR_BUILD_DIR/lib/roar/libroar-preload.so"
export TRACE_DIR PRELOAD_LIB

# require_preload NAME: skips the whole script (named NAME) when the shim is not built.
require_preload() {
    if ! test -f "$PRELOAD_LIB"; then
        test_skip "$1" "libroar-preload.so not built"
        test_done
    fi
}

# roar_setup: a repository ready for exact jobs. The fixture programs live in the
# build tree, outside the work tree and outside the default filters: they would be
# recorded as executed inputs, which each test is not about.
roar_setup() {
    git config roar.exclude "$ROAR_BUILD_DIR"
}

# roar_run CMD...: `git roar run CMD...`; stderr goes to $TEST_DIR/err, the pending
# record it wrote to $TEST_DIR/rec. Returns git roar's exit status.
roar_run() {
    local rc new dir
    dir=$(git rev-parse --path-format=absolute --git-common-dir)/roar/pending
    ls "$dir" 2>/dev/null | sort >"$TEST_DIR/pending.before"
    git roar run "$@" 2>"$TEST_DIR/err"
    rc=$?
    ls "$dir" 2>/dev/null | sort >"$TEST_DIR/pending.after"
    new=$(comm -13 "$TEST_DIR/pending.before" "$TEST_DIR/pending.after")
    rm -f "$TEST_DIR/rec"
    if test -n "$new" && test "$(printf '%s\n' "$new" | wc -l)" -eq 1; then
        cp "$dir/$new" "$TEST_DIR/rec"
    else
        echo "roar_run: expected one new pending record, got: $new" >&2
        cat "$TEST_DIR/err" >&2
    fi
    return $rc
}

# fx NAME: the fixture program tests/trace/fx_NAME.
fx() {
    echo "$TRACE_DIR/fx_$1"
}

# oid FILE / size FILE: what the record says of FILE's current content.
oid() {
    git hash-object --no-filters -- "$1"
}
size() {
    wc -c <"$1" | tr -d ' '
}

# in_line ROLE FILE: the record line for FILE's current content ("in", "out").
edge() {
    printf '%s %s %s %s\n' "$1" "$(oid "$2")" "$(size "$2")" "$2"
}

# record_field KEY: the value of the first KEY line of the record.
record_field() {
    sed -n "s/^$1 //p" "$TEST_DIR/rec" | head -n 1
}

# expect_edges: stdin holds the exact in/out/del lines the record must have, in record
# order (in, out, del; each sorted by path).
expect_edges() {
    cat >"$TEST_DIR/edges.expect" &&
    grep -E '^(in|out|del) ' "$TEST_DIR/rec" >"$TEST_DIR/edges.actual"
    test_cmp "$TEST_DIR/edges.expect" "$TEST_DIR/edges.actual"
}

# expect_no_incomplete: the record admits no gap.
expect_no_incomplete() {
    test_grep -v '^incomplete ' "$TEST_DIR/rec"
}

# The job id is the blob id of everything after the `job` line (SPEC §5.1).
expect_valid_id() {
    test "$(record_field job)" = "$(tail -n +2 "$TEST_DIR/rec" | git hash-object --stdin)"
}

# cache_query SQL: the rows of a query on this repository's cache, one per line,
# columns separated by a space (blobs decoded as UTF-8).
cache_query() {
    /usr/bin/python3 - "$(git rev-parse --path-format=absolute --git-common-dir)/roar/cache.db" "$1" <<-\PY
	import sqlite3, sys
	for row in sqlite3.connect(sys.argv[1]).execute(sys.argv[2]):
	    print(" ".join(v.decode() if isinstance(v, bytes) else str(v) for v in row))
	PY
}
