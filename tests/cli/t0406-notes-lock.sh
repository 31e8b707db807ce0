#!/bin/bash
# A `refs/notes/roar.lock` left by a writer killed with -9 (issue 16 item 8): once older
# than the bound (10 s) and held by no process it is removed with a warning naming it,
# and attach, fetch and push go on; a young one is waited for, not removed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-notes.sh"

# age_file FILE SECONDS: sets FILE's mtime SECONDS in the past.
age_file() {
    touch -d "@$(($(date +%s) - $2))" "$1"
}

test_expect_success 'attach removes a stale notes ref lock, names it, and attaches' '
    git commit -q --allow-empty -m base &&
    a=$(pending_job a HEAD) &&
    git commit -q --allow-empty -m work &&
    git roar attach -q &&
    b=$(pending_job b HEAD~1) &&
    : >.git/refs/notes/roar.lock &&
    age_file .git/refs/notes/roar.lock 60 &&
    start=$(date +%s) &&
    git roar attach -q 2>err &&
    test $(($(date +%s) - start)) -lt 5 &&
    test_grep "warning: removed the stale lock .*refs/notes/roar.lock" err &&
    test ! -e .git/refs/notes/roar.lock &&
    printf "%s\n%s\n" "$a" "$b" | sort >expect &&
    note_jobs HEAD | sort >actual &&
    test_cmp expect actual
'

test_expect_success 'a fresh lock is waited for until stale, then removed (no 26 s stall)' '
    git commit -q --allow-empty -m base &&
    a=$(pending_job a HEAD) &&
    git commit -q --allow-empty -m work &&
    git roar attach -q &&
    b=$(pending_job b HEAD~1) &&
    : >.git/refs/notes/roar.lock &&
    age_file .git/refs/notes/roar.lock 7 &&
    start=$(date +%s) &&
    git roar attach -q 2>err &&
    took=$(($(date +%s) - start)) &&
    test $took -ge 2 && test $took -le 8 &&
    test_grep "removed the stale lock .*refs/notes/roar.lock" err &&
    note_jobs HEAD >actual &&
    test_grep "$b" actual
'

test_expect_success 'a lock a live process holds open is not removed; the error names it' '
    git commit -q --allow-empty -m base &&
    a=$(pending_job a HEAD) &&
    git commit -q --allow-empty -m work &&
    git roar attach -q &&
    b=$(pending_job b HEAD~1) &&
    : >.git/refs/notes/roar.lock &&
    age_file .git/refs/notes/roar.lock 60 &&
    { sleep 30 <.git/refs/notes/roar.lock & holder=$!; } &&
    test_expect_code 128 git roar attach -q 2>err;
    status=$?;
    kill $holder;
    test $status = 0 &&
    test_grep "roar.lock. is held by process $holder" err &&
    test -e .git/refs/notes/roar.lock &&
    test $(pending_count) = 1
'

test_expect_success 'fetch and push recover stale locks of the notes and tracking refs' '
    setup_team &&
    a=$(cd ../alice && attach_job alice-job) &&
    (cd ../alice && git roar push -q) &&
    cd ../bob &&
    git roar fetch -q &&
    b=$(attach_job bob-job) &&
    (cd ../alice && attach_job alice-job-2 >../a2) &&
    (cd ../alice && git roar push -q) &&
    : >.git/refs/notes/roar.lock &&
    : >.git/refs/notes/remotes/origin/roar.lock &&
    age_file .git/refs/notes/roar.lock 60 &&
    age_file .git/refs/notes/remotes/origin/roar.lock 60 &&
    git roar sync 2>err &&
    test_grep "removed the stale lock .*refs/notes/roar.lock" err &&
    test_grep "removed the stale lock .*refs/notes/remotes/origin/roar.lock" err &&
    printf "%s\n%s\n%s\n" "$a" "$b" "$(cat ../a2)" | sort >expect &&
    git -C ../remote.git notes --ref=roar show $WORK | sed -n "s/^job //p" | sort >actual &&
    test_cmp expect actual
'

# A push killed while it held the tracking ref's lock (t0410, push killed at the lock's
# unlink) left a fresh lock; the next push used to die at once with libgit2's "failed to
# lock file ... for writing:", and so did every fetch and push for the next 10 s. Both
# wait for it now, as attach does for the notes ref's.
test_expect_success 'push and fetch wait for a fresh tracking ref lock until stale' '
    setup_team &&
    cd ../bob &&
    b=$(attach_job bob-job) &&
    git roar push -q &&
    (cd ../alice && git roar fetch -q && attach_job alice-job >../a && git roar push -q) &&
    b2=$(pending_job bob-job-2 HEAD~1) && git roar attach -q &&
    for cmd in push fetch; do
        : >.git/refs/notes/remotes/origin/roar.lock &&
        age_file .git/refs/notes/remotes/origin/roar.lock 7 &&
        start=$(date +%s) &&
        git roar $cmd -q 2>err &&
        took=$(($(date +%s) - start)) &&
        test $took -ge 2 && test $took -le 8 &&
        test_grep "removed the stale lock .*refs/notes/remotes/origin/roar.lock" err &&
        test ! -e .git/refs/notes/remotes/origin/roar.lock || return 1
    done &&
    printf "%s\n%s\n%s\n" "$b" "$b2" "$(cat ../a)" | sort >expect &&
    git -C ../remote.git notes --ref=roar show $WORK | sed -n "s/^job //p" | sort >actual &&
    test_cmp expect actual &&
    note_jobs $WORK | sort >actual &&
    test_cmp expect actual
'

test_done
