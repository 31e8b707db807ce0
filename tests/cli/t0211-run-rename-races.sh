#!/bin/bash
# Renames followed at once by more work on what they moved (issue 17, item 1): the
# collector reads the eBPF ring every 2 ms, so it learns of `mv d1 d2` after the job has
# already changed d2. Whatever the timing, the job must be the one SPEC §4.4/§4.5 define:
# never a file made after the rename recorded as moved, never a name it never had, never
# an input id of content written after the rename (eBPF may say `-`, announced).
# The issue's cases run ROAR_RACE_REPEAT times (default 30; the fault showed in 1 of 30 to
# 5 of 5 runs), the others a third as often, under each tracer, in a copy of a committed
# tree that the stat cache cannot vouch for (cp -a: new inodes and ctimes), on a 300-file
# directory.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-run.sh"

require_preload 'git roar run: renames followed by more work'
ISSUE_REPEAT=${ROAR_RACE_REPEAT:-30}
# A sanitizer build runs each traced command ~3x slower: 10 rounds keep CI's budget.
if test -z "${ROAR_RACE_REPEAT:-}" &&
    grep -q '^ROAR_SANITIZE:BOOL=ON' "$ROAR_BUILD_DIR/CMakeCache.txt" 2>/dev/null; then
    ISSUE_REPEAT=10
fi
MORE_REPEAT=$(((ISSUE_REPEAT + 2) / 3))
tracers=preload
if ebpf_usable; then
    tracers="preload ebpf"
else
    test_skip 'rename races under -t ebpf' "the eBPF tracer cannot run here: $ebpf_why"
fi

# make_template: $TEST_DIR/tmpl, a committed repository with d1/f1..f300 and a, and
# $TEST_DIR/ids: "path id size" of each file as committed. (Few processes: a fork costs
# tens of ms on a loaded guest.)
make_template() {
    git init -q "$TEST_DIR/tmpl" &&
    (
        cd "$TEST_DIR/tmpl" && roar_setup && mkdir d1 &&
        for i in $(seq 1 300); do echo "c$i" >d1/f$i || exit 1; done &&
        echo old-a >a &&
        git add . && git commit -qm files &&
        { git ls-files -s && stat -c "size %s %n" a d1/*; } |
            awk '$1 == "size" { sz[$3] = $2; next }
                 { split($0, t, "\t"); split(t[1], m, " "); id[t[2]] = m[2] }
                 END { for (p in id) print p, id[p], sz[p] }' >"$TEST_DIR/ids"
    )
}

# id_of PATH: the committed id of PATH in the template.
id_of() {
    awk -v p="$1" '$1 == p { print $2 }' "$TEST_DIR/ids"
}

# moved_dir_edges SKIP...: the in/out/del lines of `mv d1 d2` for every file but SKIP
# (names under d1, e.g. f5), on stdout; the caller adds its own.
moved_dir_edges() {
    awk -v skip=" $* " '$1 ~ /^d1\// {
        n = substr($1, 4)
        print "in " $2 " " $3 " " $1
        print "del " $1
        if (index(skip, " " n " ") == 0) print "out " $2 " " $3 " d2/" n
    }' "$TEST_DIR/ids"
}

# check_job TRACER EXPECT REC [UNKNOWABLE...]: the in/out/del lines of record REC are
# exactly those in EXPECT (compared as sets), with no incomplete line, except that under
# eBPF an UNKNOWABLE input (its content changed or went before the collector could read
# it) may be `-` announced by `incomplete hash-unknown`: it then counts as the EXPECT one.
check_job() {
    local tracer=$1 expect=$2 rec=$3
    shift 3
    test "$tracer" = ebpf || set --
    awk -v allowed=" $* " '
        FNR == NR { if ($1 == "in") want[$4] = $0; next }
        $1 == "incomplete" && $2 == "hash-unknown" && index(allowed, " " $3 " ") {
            unknown[$3] = 1; next
        }
        $1 == "in" && $2 == "-" && index(allowed, " " $4 " ") { dash[$4] = 1; next }
        /^(in|out|del|incomplete) / { print }
        END {
            for (p in dash) print (p in unknown && p in want) ? want[p] : "in - (not announced) " p
            for (p in unknown) if (!(p in dash)) print "incomplete hash-unknown " p
        }' "$expect" "$rec" | LC_ALL=C sort >"$TEST_DIR/got.sorted" &&
    cmp -s "$TEST_DIR/want.sorted" "$TEST_DIR/got.sorted" || {
        diff -u "$TEST_DIR/want.sorted" "$TEST_DIR/got.sorted"
        return 1
    }
}

# race N TRACER EXPECT SCRIPT [UNKNOWABLE...]: SCRIPT under sh -c, N times, each in a
# fresh copy of the template; every job must pass check_job.
race() {
    local REPEAT=$1 tracer=$2 expect=$3 script=$4 i rec
    shift 4
    LC_ALL=C sort "$expect" >"$TEST_DIR/want.sorted" || return 1
    for i in $(seq 1 "$REPEAT"); do
        rm -rf "$TEST_DIR/w" && cp -a "$TEST_DIR/tmpl" "$TEST_DIR/w" &&
        (cd "$TEST_DIR/w" && git roar run -q -t "$tracer" sh -c "$script") &&
        rec=("$TEST_DIR"/w/.git/roar/pending/*) && test ${#rec[@]} = 1 &&
        check_job "$tracer" "$expect" "${rec[0]}" "$@" || {
            echo "run $i of $REPEAT under $tracer: wrong job"
            return 1
        }
    done
}

for t in $tracers; do
    test_expect_success "mv d1 d2 && rm d2/f5: in d1/f5 and del d1/f5, never del d2/f5 (-t $t, x$ISSUE_REPEAT)" '
        make_template &&
        { moved_dir_edges f5; } >"$TEST_DIR/expect" &&
        race $ISSUE_REPEAT '$t' "$TEST_DIR/expect" "mv d1 d2 && rm d2/f5" d1/f5
    '

    test_expect_success "mv d1 d2 && mv d2/f5 d2/g5: in d1/f5, out d2/g5, never in d2/f5 (-t $t, x$ISSUE_REPEAT)" '
        make_template &&
        { moved_dir_edges f5 && echo "out $(id_of d1/f5) 3 d2/g5"; } >"$TEST_DIR/expect" &&
        race $ISSUE_REPEAT '$t' "$TEST_DIR/expect" "mv d1 d2 && mv d2/f5 d2/g5"
    '

    test_expect_success "mv d1 d2 && echo new > d2/new.txt: out d2/new.txt only, never d1/new.txt (-t $t, x$ISSUE_REPEAT)" '
        make_template &&
        { moved_dir_edges && echo "out $(echo new | git hash-object --stdin) 4 d2/new.txt"; } \
            >"$TEST_DIR/expect" &&
        race $ISSUE_REPEAT '$t' "$TEST_DIR/expect" "mv d1 d2 && echo new > d2/new.txt"
    '

    # the shape of the lua workload in the issue: a rename, then a new file, gzip and
    # sed -i on moved files
    test_expect_success "mv d1 d2, then a new file, gzip and sed -i beneath it (-t $t, x$ISSUE_REPEAT)" '
        make_template &&
        {
            moved_dir_edges f1 f2 &&
            echo "out $(echo new | git hash-object --stdin) 4 d2/new.txt" &&
            echo "out $(echo x2 | git hash-object --stdin) 3 d2/f2" &&
            echo c1 | gzip -n >"$TEST_DIR/f1.gz" &&
            echo "out $(oid "$TEST_DIR/f1.gz") $(size "$TEST_DIR/f1.gz") d2/f1.gz"
        } >"$TEST_DIR/expect" &&
        race $ISSUE_REPEAT '$t' "$TEST_DIR/expect" \
            "mv d1 d2 && echo new > d2/new.txt && gzip -n d2/f1 && sed -i s/c/x/ d2/f2" d1/f1 d1/f2
    '

    # A file renamed and at once rewritten in place: its input id is the old content
    # (or -), never the new one (eBPF used to take the moved file'"'"'s identity after
    # the rewrite and hash the new content under it).
    test_expect_success "mv a b && echo newer > b: in a is the old content or -, never the new (-t $t, x$MORE_REPEAT)" '
        make_template &&
        {
            echo "in $(id_of a) 6 a" &&
            echo "out $(echo newer | git hash-object --stdin) 6 b" &&
            echo "del a"
        } >"$TEST_DIR/expect" &&
        race $MORE_REPEAT '$t' "$TEST_DIR/expect" "mv a b && echo newer > b" a
    '

    # Nothing of the job happens after the rename: every untouched file is found at the
    # end under its new name, through a chain of renames, and a name moved away is not.
    test_expect_success "mv d1 d2 && mv d2 d3 && mv d3/f7 g7: one move per file (-t $t, x$MORE_REPEAT)" '
        make_template &&
        {
            moved_dir_edges f7 | sed "s| d2/| d3/|" &&
            echo "out $(id_of d1/f7) 3 g7"
        } >"$TEST_DIR/expect" &&
        race $MORE_REPEAT '$t' "$TEST_DIR/expect" "mv d1 d2 && mv d2 d3 && mv d3/f7 g7"
    '
done

test_done
