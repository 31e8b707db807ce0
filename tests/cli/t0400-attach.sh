#!/bin/bash
# `git roar attach` and `git roar drop`: pending jobs become one notes commit on the
# commit, scoped by worktree and base (SPEC §5.3); concurrent attaches lose nothing and
# attach nothing twice; stock git reads the notes; drop and reindex follow.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-notes.sh"

test_expect_success 'attach: pending jobs become the note of HEAD, in one notes commit' '
    git commit -q --allow-empty -m base &&
    a=$(pending_job alpha HEAD 2026-01-01T00:00:02.000Z) &&
    b=$(pending_job beta HEAD 2026-01-01T00:00:01.000Z) &&
    test $(pending_count) -eq 2 &&
    git commit -q --allow-empty -m work &&
    git roar attach 2>err &&
    test_grep "attached 2 jobs to $(git rev-parse --short=7 HEAD)" err &&
    test $(pending_count) -eq 0 &&
    test -z "$(claim_dirs)" &&
    printf "%s\n%s\n" "$b" "$a" >expect &&
    note_jobs HEAD >actual &&
    test_cmp expect actual &&
    test $(git rev-list refs/notes/roar | wc -l) -eq 1 &&
    git notes --ref=roar list >list &&
    test_grep " $(git rev-parse HEAD)\$" list &&
    git log --notes=roar -1 >log &&
    test_grep "^    job $a\$" log &&
    test_grep "^    command echo alpha\$" log
'

test_expect_success 'attach with nothing pending says so and writes nothing' '
    git commit -q --allow-empty -m base &&
    git roar attach 2>err &&
    test_grep "no pending jobs" err &&
    test_must_fail git rev-parse -q --verify refs/notes/roar &&
    git roar attach -q 2>err &&
    test_must_be_empty err
'

test_expect_success 'attach merges with the note already on the commit' '
    git commit -q --allow-empty -m base &&
    a=$(pending_job alpha) &&
    git commit -q --allow-empty -m work &&
    git roar attach -q &&
    b=$(pending_job beta HEAD~1 2026-01-02T00:00:00.000Z) &&
    git roar attach -q &&
    printf "%s\n%s\n" "$a" "$b" >expect &&
    note_jobs HEAD >actual &&
    test_cmp expect actual &&
    test $(git rev-list refs/notes/roar | wc -l) -eq 2
'

test_expect_success 'scope: only jobs based on the first parent or its ancestors attach' '
    git commit -q --allow-empty -m root &&
    old=$(pending_job old-base) &&
    git commit -q --allow-empty -m base &&
    git checkout -q -b side &&
    git commit -q --allow-empty -m side &&
    side=$(pending_job on-side) &&
    git checkout -q main &&
    here=$(pending_job on-base) &&
    git commit -q --allow-empty -m work &&
    git roar attach 2>err &&
    test_grep "attached 2 jobs" err &&
    test_grep "1 pending job of this worktree did not start on" err &&
    note_jobs HEAD >actual &&
    test_grep "$old" actual &&
    test_grep "$here" actual &&
    test_grep -v "$side" actual &&
    test $(pending_count) -eq 1
'

test_expect_success 'a job recorded before the first commit attaches to it' '
    j=$(pending_job before-any-commit -) &&
    git commit -q --allow-empty -m first &&
    git roar attach -q &&
    echo "$j" >expect &&
    note_jobs HEAD >actual &&
    test_cmp expect actual &&
    git notes --ref=roar show HEAD >note &&
    test_grep -v "^base " note
'

test_expect_success 'attach takes a job based on the commit itself (ignored outputs)' '
    git commit -q --allow-empty -m base &&
    j=$(pending_job on-head) &&
    git roar attach 2>err &&
    test_grep "attached 1 job to" err &&
    test $(pending_count) -eq 0 &&
    test "$(note_jobs HEAD)" = "$j"
'

test_expect_success 'the post-commit hook never takes a job based on an unrelated commit' '
    git roar init -q &&
    git commit -q --allow-empty -m base &&
    git checkout -q -b side && git commit -q --allow-empty -m side &&
    j=$(pending_job on-side) &&
    git checkout -q main && git commit -q --allow-empty -m next &&
    test $(pending_count) -eq 1 &&
    test -z "$(note_jobs HEAD)"
'

test_expect_success 'attach REV attaches to that commit' '
    git commit -q --allow-empty -m base &&
    j=$(pending_job alpha) &&
    git commit -q --allow-empty -m target &&
    git tag target &&
    git commit -q --allow-empty -m later &&
    git roar attach -q target &&
    echo "$j" >expect &&
    note_jobs target >actual &&
    test_cmp expect actual &&
    test_must_fail git notes --ref=roar show HEAD 2>/dev/null &&
    test_expect_code 128 git roar attach no-such-rev 2>err &&
    test_grep "fatal: .no-such-rev. is not a commit" err
'

test_expect_success 'nothing is attached while a rebase is in progress, unless REV is given' '
    git commit -q --allow-empty -m base &&
    j=$(pending_job alpha) &&
    git commit -q --allow-empty -m work &&
    mkdir .git/rebase-merge &&
    git roar attach 2>err &&
    test_grep "a rebase is in progress" err &&
    test $(pending_count) -eq 1 &&
    rmdir .git/rebase-merge &&
    touch .git/CHERRY_PICK_HEAD &&
    git roar attach -q &&
    test $(pending_count) -eq 1 &&
    git roar attach -q HEAD &&
    test $(pending_count) -eq 0 &&
    rm .git/CHERRY_PICK_HEAD
'

test_expect_success 'a commit in a second worktree does not take the first worktree'"'"'s jobs' '
    git commit -q --allow-empty -m base &&
    git worktree add -q ../wt2 &&
    mine=$(pending_job main-job) &&
    (
        cd ../wt2 &&
        theirs=$(pending_job wt2-job) &&
        git commit -q --allow-empty -m in-wt2 &&
        git roar attach -q &&
        note_jobs HEAD >../wt2-note &&
        echo "$theirs" >../wt2-expect
    ) &&
    test_cmp ../wt2-expect ../wt2-note &&
    test $(pending_count) -eq 1 &&
    ls .git/roar/pending >names &&
    test_grep "^$mine@main\$" names &&
    git commit -q --allow-empty -m in-main &&
    git roar attach -q &&
    echo "$mine" >expect &&
    note_jobs HEAD >actual &&
    test_cmp expect actual
'

test_expect_success 'ten concurrent attaches: no job lost, none attached twice' '
    git commit -q --allow-empty -m base &&
    for i in $(seq 1 40); do pending_job job-$i >>ids || return 1; done &&
    git commit -q --allow-empty -m one &&
    git commit -q --allow-empty -m two &&
    pids= &&
    for i in $(seq 1 10); do
        if test $((i % 2)) -eq 0; then rev=HEAD; else rev=HEAD~1; fi &&
        { git roar attach -q $rev >"out-$i" 2>&1 & } &&
        pids="$pids $!" || return 1
    done &&
    for p in $pids; do wait $p || return 1; done &&
    cat out-* &&
    test $(pending_count) -eq 0 &&
    test -z "$(claim_dirs)" &&
    { note_jobs HEAD; note_jobs HEAD~1; } | sort >attached &&
    sort ids >expect &&
    test_cmp expect attached
'

test_expect_success 'drop: a pending job is discarded; prefixes are resolved' '
    git commit -q --allow-empty -m base &&
    a=$(pending_job alpha) &&
    b=$(pending_job beta) &&
    git roar drop ${a:0:8} 2>err &&
    test_grep "dropped pending job ${a:0:7}" err &&
    test $(pending_count) -eq 1 &&
    ls .git/roar/pending >names &&
    test_grep "^$b@main\$" names &&
    test_expect_code 128 git roar drop 0000000 2>err &&
    test_grep "fatal: no job matches .0000000." err &&
    test_expect_code 128 git roar drop xyz1 2>err &&
    test_grep "is not a job id" err
'

test_expect_success 'drop: an attached job needs --from-notes, which removes it from the note' '
    git commit -q --allow-empty -m base &&
    a=$(pending_job alpha) &&
    b=$(pending_job beta) &&
    git commit -q --allow-empty -m work &&
    git roar attach -q &&
    test_expect_code 128 git roar drop $a 2>err &&
    test_grep "is attached to commit $(git rev-parse --short=7 HEAD); use --from-notes" err &&
    note_jobs HEAD >actual &&
    test_grep "$a" actual &&
    git roar drop --from-notes $a 2>err &&
    test_grep "removed it from 1 note" err &&
    echo "$b" >expect &&
    note_jobs HEAD >actual &&
    test_cmp expect actual &&
    git roar drop --from-notes $b &&
    test_must_fail git notes --ref=roar show HEAD 2>/dev/null &&
    git log -1 --format=%s refs/notes/roar >msg &&
    echo "Notes removed by '"'"'git roar drop'"'"'" >expect &&
    test_cmp expect msg
'

test_expect_success 'reindex: the cache follows notes and pending; --full rebuilds a broken cache' '
    git commit -q --allow-empty -m base &&
    a=$(pending_job alpha) &&
    git commit -q --allow-empty -m work &&
    git roar attach -q &&
    b=$(pending_job beta) &&
    git roar reindex 2>err &&
    git roar reindex 2>err &&
    test_grep "read 0 notes from 0 refs; 0 pending jobs added" err &&
    echo garbage >.git/roar/cache.db &&
    rm -f .git/roar/cache.db-wal .git/roar/cache.db-shm &&
    test_expect_code 128 git roar reindex 2>err &&
    test_grep "corrupt" err &&
    git roar reindex --full 2>err &&
    test_grep "read 1 note from 1 ref; 1 pending job added" err
'

test_expect_success 'attach works without user.name (notes commits get a fixed identity)' '
    git commit -q --allow-empty -m base &&
    j=$(pending_job alpha) &&
    git commit -q --allow-empty -m work &&
    (
        unset GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL EMAIL &&
        HOME="$TEST_DIR" && export HOME &&
        git roar attach -q
    ) &&
    git log -1 --format="%cn <%ce>" refs/notes/roar >who &&
    echo "git roar <git-roar@localhost>" >expect &&
    test_cmp expect who
'

test_done
