#!/bin/bash
# `git roar fsck` and unreadable notes: every note and pending record parsed, job ids
# recomputed, each problem named with its commit (or file) and line, exit 1; reading
# commands warn and still show the good jobs (SPEC §3 fsck, §5.2).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-notes.sh"

# A repository whose HEAD~1 holds two good jobs, HEAD~2 a good one.
setup_good() {
    git commit -q --allow-empty -m root &&
    G1=$(pending_job good-one) &&
    git commit -q --allow-empty -m first &&
    git roar attach -q &&
    G2=$(pending_job good-two HEAD~1) &&
    G3=$(pending_job good-three HEAD~1) &&
    git commit -q --allow-empty -m second &&
    git roar attach -q &&
    git commit -q --allow-empty -m third
}

test_expect_success 'fsck: a clean repository, exit 0' '
    setup_good &&
    git roar fsck 2>err &&
    test_grep "checked 2 notes in 1 ref (3 records) and 0 pending records: 0 problems" err
'

test_expect_success 'a garbage note: fsck names the commit and line; log warns and shows the good jobs' '
    setup_good &&
    git notes --ref=roar add -m junk HEAD &&
    test_expect_code 1 git roar fsck 2>err &&
    test_grep "^error: refs/notes/roar: note on $(git rev-parse HEAD): line 1: " err &&
    test_grep "1 problem" err &&
    git roar log >out 2>err &&
    test_grep "^warning: refs/notes/roar: note on $(git rev-parse HEAD): line 1: " err &&
    for j in $G1 $G2 $G3; do test_grep "^${j:0:7} " out || return 1; done &&
    git roar log >out 2>err &&
    test_grep "^warning: refs/notes/roar: note on $(git rev-parse HEAD)" err &&
    git roar show $G2 >show 2>err &&
    test_grep "echo good-two" show &&
    test_grep "^warning: " err
'

test_expect_success 'garbage inside a note: the line is named, the note'"'"'s other records load' '
    setup_good &&
    git notes --ref=roar append -m "not a record" HEAD~1 &&
    lines=$(git notes --ref=roar show HEAD~1 | grep -n "^not a record$" | cut -d: -f1) &&
    test_expect_code 1 git roar fsck 2>err &&
    test_grep "^error: refs/notes/roar: note on $(git rev-parse HEAD~1): line $lines: " err &&
    git roar reindex 2>err &&
    test_grep "line $lines" err &&
    git roar log >out 2>/dev/null &&
    test_grep "^${G2:0:7} " out &&
    test_grep "^${G3:0:7} " out
'

test_expect_success 'a record whose job id does not match its content is reported' '
    setup_good &&
    git notes --ref=roar show HEAD~2 | sed "s/^command echo good-one/command echo forged/" >forged &&
    git notes --ref=roar add -f -F forged HEAD~2 &&
    test_expect_code 1 git roar fsck 2>err &&
    test_grep "note on $(git rev-parse HEAD~2): line 1: job id $G1 does not match" err
'

test_expect_success 'remote tracking notes are checked too' '
    setup_good &&
    git update-ref refs/notes/remotes/origin/roar refs/notes/roar &&
    git notes --ref=remotes/origin/roar add -m junk HEAD &&
    test_expect_code 1 git roar fsck 2>err &&
    test_grep "^error: refs/notes/remotes/origin/roar: note on $(git rev-parse HEAD): line 1" err &&
    # 2 notes on refs/notes/roar; the tracking ref shares one of them, checked once,
    # and differs on HEAD: 3 notes checked in all.
    test_grep "checked 3 notes in 2 refs" err
'

test_expect_success 'a broken pending record is reported with its path and line' '
    setup_good &&
    good=$(pending_job pending-good HEAD) &&
    bad=.git/roar/pending/0123456789abcdef0123456789abcdef01234567@main &&
    printf "job 0123456789abcdef0123456789abcdef01234567\ncommand\n" >$bad &&
    test_expect_code 1 git roar fsck 2>err &&
    test_grep "^error: $(pwd)/$bad: line [0-9]*: " err &&
    test_grep "and 2 pending records: 1 problem" err &&
    git roar log --pending >out 2>err &&
    test_grep "^${good:0:7} " out &&
    test_grep "^warning: $(pwd)/$bad" err
'

test_expect_success 'attaching to a commit whose note has garbage keeps the garbage and warns' '
    git commit -q --allow-empty -m root &&
    git commit -q --allow-empty -m first &&
    git notes --ref=roar add -m "stray text" HEAD &&
    j=$(pending_job alpha HEAD~1) &&
    git roar attach 2>err &&
    test_grep "warning: note on $(git rev-parse HEAD): line 1: .*kept as is" err &&
    git notes --ref=roar show HEAD >note &&
    test_grep "^job $j\$" note &&
    test_grep "^stray text\$" note
'

test_expect_success 'a first index reads ahead: a note both refs hold is reported under each, the rest loads' '
    setup_good &&
    git notes --ref=roar append -m "not a record" HEAD~1 &&
    line=$(git notes --ref=roar show HEAD~1 | grep -n "^not a record$" | cut -d: -f1) &&
    git update-ref refs/notes/remotes/origin/roar refs/notes/roar &&
    rm -rf .git/roar/cache.db* &&
    git roar log >out 2>err &&
    test_grep "^warning: refs/notes/roar: note on $(git rev-parse HEAD~1): line $line: " err &&
    test_grep "^warning: refs/notes/remotes/origin/roar: note on $(git rev-parse HEAD~1): line $line: " err &&
    for j in $G1 $G2 $G3; do test_grep "^${j:0:7} " out || return 1; done &&
    test "$(wc -l <out)" -eq 3 &&
    git roar reindex --full 2>err &&
    test_grep "refs/notes/remotes/origin/roar: note on $(git rev-parse HEAD~1): line $line" err &&
    git roar log >out2 2>/dev/null &&
    test_cmp out out2
'

test_expect_success 'a note blob missing from the object store: the index fails by name, the cache stays' '
    setup_good &&
    git roar log >before 2>/dev/null &&
    blob=$(git rev-parse "refs/notes/roar:$(git rev-parse HEAD~1)") &&
    obj=.git/objects/${blob:0:2}/${blob:2} &&
    test -f $obj &&
    mv $obj blob.saved &&
    test_must_fail git roar reindex --full 2>err &&
    test_grep "$blob" err &&
    mv blob.saved $obj &&
    git roar log >after 2>/dev/null &&
    test_cmp before after
'

test_done
