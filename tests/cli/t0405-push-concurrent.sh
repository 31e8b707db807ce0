#!/bin/bash
# Eight CI clones push notes to one remote at the same moment: a push that loses the
# race, whether git says "fetch first" or "cannot lock ref", is retried after a merge,
# so none fails and the remote ends up with every job (SPEC §5.4, issue 16 item 7).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-notes.sh"

CLONES=8

test_expect_success '8 clones push at once: no push fails, every job reaches the remote' '
    setup_team &&
    for i in $(seq 1 $CLONES); do
        git clone -q "file://$TEST_DIR/remote.git" ../c$i &&
        (cd ../c$i && attach_job job-$i) >>expect-unsorted || return 1
    done &&
    sort expect-unsorted >expect &&
    test_line_count() { test $(wc -l <"$2") -eq "$1"; } &&
    test_line_count $CLONES expect &&
    pids= &&
    for i in $(seq 1 $CLONES); do
        (cd ../c$i && git roar push >../push-$i.out 2>&1; echo $? >../push-$i.rc) &
        pids="$pids $!"
    done &&
    wait $pids &&
    for i in $(seq 1 $CLONES); do
        if test "$(cat ../push-$i.rc)" != 0; then
            echo "push $i failed:"; cat ../push-$i.out; return 1
        fi
    done &&
    git -C ../remote.git notes --ref=roar show $WORK | sed -n "s/^job //p" | sort >remote-jobs &&
    test_cmp expect remote-jobs &&
    git clone -q "file://$TEST_DIR/remote.git" ../fresh &&
    cd ../fresh &&
    git roar fetch -q &&
    git roar log >log &&
    for i in $(seq 1 $CLONES); do
        test_grep "echo job-$i\$" log || return 1
    done
'

test_done
