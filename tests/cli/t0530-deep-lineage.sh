#!/bin/bash
# No query recurses on note-supplied depth (SPEC §8, issue 16 item 4): a chain of jobs,
# job i reading f_i and writing f_{i+1}, or one file every job updates in place, is
# answered by lineage (up and --down), status and reproduce -n with 1 MiB of stack, where
# a walk recursing once per job dies within a few thousand jobs.
# The chains are put into the cache by tests/cli/helpers/roar-put-chain (one
# transaction, records through the record codec). ROAR_CHAIN_JOBS sets their length:
# the default, 20000, is twice the length at which the recursive walks died with this
# stack (lineage at 5000, status and reproduce at 10000) and keeps this script near a
# minute on a busy 2-core machine. Run by hand on that machine (load 6-7), 1 MiB stack:
# ROAR_CHAIN_JOBS=100000, both tests pass in 3m42s; a 10^6-job in-place chain answered
# lineage in 156 s (2,050,000 lines, 2.0 GB), status in 89 s (all ok) and 228 s (edited,
# 1,000,000 to rerun), reproduce -n in 570 s (2.9 GB): slow, but linear in the jobs.
. "$(dirname "$0")/lib.sh"

CHAIN="$ROAR_BUILD_DIR/tests/cli/helpers/roar-put-chain"
# Under the sanitizers (make asan-test sets ASAN_OPTIONS) every query runs several times
# slower: 5000 jobs keep the script within ctest's 300 s there, and the release suite
# proves the longer chain.
if test -n "${ASAN_OPTIONS:-}"; then
    N=${ROAR_CHAIN_JOBS:-5000}
else
    N=${ROAR_CHAIN_JOBS:-20000}
fi

# small_stack CMD...: CMD with a 1 MiB stack.
small_stack() {
    (ulimit -s 1024 && "$@")
}

# tree_lines NODES: the lines of a text tree that is a chain of NODES nodes: one per
# node, and one more for each node drawn again from the margin every 40 levels.
tree_lines() {
    echo $(($1 + ($1 - 2) / 40))
}

# Only f_0 and f_N exist on disk: every other output is missing, so status and
# reproduce -n plan all N jobs, walking the producers of f_N's inputs one by one. (Each
# job's state when every file is there is the in-place test's: creating 10^5 files
# takes longer here than all the queries.)
test_expect_success "a chain of $N jobs, f_i -> f_i+1: lineage, --down, status, reproduce -n" '
    git commit -q --allow-empty -m base &&
    "$CHAIN" --ends-only $N $(git rev-parse HEAD) >/dev/null &&
    small_stack git roar lineage chain/f_$N >up &&
    test "$(wc -l <up)" = "$(tree_lines $((2 * N + 1)))" &&
    test_grep "^chain/f_$N  " up &&
    test_grep "^\[depth 20\] chain/f_$((N - 20))  " up &&
    tail -n 1 up | grep "\`-- chain/f_0  " &&
    small_stack git roar lineage --down chain/f_0 >down &&
    test "$(wc -l <down)" = "$(tree_lines $((2 * N + 1)))" &&
    tail -n 1 down | grep "\`-- chain/f_$N  " &&
    small_stack git roar status >status &&
    test "$(grep -c "^missing " status)" = $((N - 1)) &&
    test_grep "^stale     chain/f_$N  (input chain/f_$((N - 1)))" status &&
    test_grep "^jobs to rerun, in order ($N):" status &&
    test "$(grep -c "^  [0-9a-f]\{7\}  .*  step [0-9]*$" status)" = $N &&
    small_stack git roar reproduce -n chain/f_$N >plan &&
    test "$(wc -l <plan)" = $((N + 1)) &&
    test_grep "^plan: $N jobs to rerun" plan &&
    sed -n 2p plan | grep " step 0$" &&
    tail -n 1 plan | grep " step $((N - 1))$"
'

# Every job read what the one before wrote at the same path: judged through each
# previous writer in turn (all ok), then all rerun once the file is edited.
test_expect_success "one file updated in place by $N jobs: lineage, status, reproduce -n" '
    git commit -q --allow-empty -m base &&
    "$CHAIN" --in-place $N $(git rev-parse HEAD) >/dev/null &&
    small_stack git roar lineage chain/f >up &&
    test "$(wc -l <up)" = "$(tree_lines $((2 * N + 1)))" &&
    small_stack git roar status >status &&
    test_grep -v -E "^(missing|modified|stale|unknown) " status &&
    test_grep -v "^jobs to rerun" status &&
    echo edited >chain/f &&
    small_stack git roar status >status &&
    test_grep "^modified  chain/f" status &&
    test_grep "^jobs to rerun, in order ($N):" status &&
    small_stack git roar reproduce -n chain/f >plan &&
    test "$(wc -l <plan)" = $((N + 1)) &&
    tail -n 1 plan | grep " step $((N - 1))$"
'

test_done
