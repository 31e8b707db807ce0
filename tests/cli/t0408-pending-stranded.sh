#!/bin/bash
# pending/ after crashes and abuse (issue 16 item 10): a complete record stranded in a
# temp file by a `run` killed between fsync and rename is finished by the next command
# (and a broken one is left and named by fsck); one oversized file is skipped with a
# message while the other jobs attach.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-notes.sh"

PENDING=.git/roar/pending

# dead_pid: a pid that was just used and is gone.
dead_pid() {
    sh -c 'echo $$'
}

# strand ID [PID]: turns pending record ID into a temp file of a writer (default: a dead
# one) killed before its rename.
strand() {
    mv "$PENDING/$1@main" "$PENDING/.tmp-${2:-$(dead_pid)}-$1@main.Ab3dEf"
}

test_expect_success 'a complete record stranded in a temp file is recovered by the next command' '
    git commit -q --allow-empty -m base &&
    a=$(pending_job a HEAD) &&
    strand $a &&
    test ! -e $PENDING/$a@main &&
    git roar log --pending >log 2>err &&
    test_grep "warning: recovered the pending record .*$a@main. from .\.tmp-[0-9]*-$a@main\.Ab3dEf" err &&
    test_grep "echo a" log &&
    test -e $PENDING/$a@main &&
    ls -a $PENDING >files &&
    test_must_fail grep "^\.tmp-" files
'

test_expect_success 'attach recovers a stranded record and attaches it' '
    git commit -q --allow-empty -m base &&
    a=$(pending_job a HEAD) &&
    strand $a &&
    git commit -q --allow-empty -m work &&
    git roar attach 2>err &&
    test_grep "recovered the pending record" err &&
    echo $a >expect &&
    note_jobs HEAD >actual &&
    test_cmp expect actual
'

test_expect_success 'a temp file whose writer is alive is left alone' '
    git commit -q --allow-empty -m base &&
    a=$(pending_job a HEAD) &&
    { sleep 30 & live=$!; } &&
    strand $a $live &&
    git roar log --pending >log 2>err;
    status=$?;
    kill $live;
    test $status = 0 &&
    test_must_fail grep recovered err &&
    test -e $PENDING/.tmp-$live-$a@main.Ab3dEf
'

test_expect_success 'fsck finishes a good stranded record and names a broken one' '
    git commit -q --allow-empty -m base &&
    a=$(pending_job a HEAD) &&
    b=$(pending_job b HEAD) &&
    strand $a &&
    pid=$(dead_pid) &&
    head -c 100 $PENDING/$b@main >$PENDING/.tmp-$pid-$b@main.XyZ123 &&
    rm $PENDING/$b@main &&
    test_expect_code 1 git roar fsck >out 2>err;
    test $? = 0 &&
    cat out err >all &&
    test_grep "recovered the pending record .*$a@main" all &&
    test_grep "\.tmp-$pid-$b@main\.XyZ123: .*stranded pending record" all &&
    test -e $PENDING/.tmp-$pid-$b@main.XyZ123 &&
    test -e $PENDING/$a@main
'

test_expect_success 'a pending file over 64 MiB is skipped with a message; the others attach' '
    git commit -q --allow-empty -m base &&
    a=$(pending_job a HEAD) &&
    b=$(pending_job b HEAD) &&
    big=$(printf "%040d" 7) &&
    truncate -s 65M $PENDING/$big@main &&
    git commit -q --allow-empty -m work &&
    git roar attach 2>err &&
    test_grep "warning: pending record .*$big@main. is over 67108864 bytes; skipped" err &&
    printf "%s\n%s\n" "$a" "$b" | sort >expect &&
    note_jobs HEAD | sort >actual &&
    test_cmp expect actual &&
    test -e $PENDING/$big@main
'

test_done
