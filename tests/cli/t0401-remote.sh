#!/bin/bash
# `git roar fetch|push|sync` between a bare remote and clones over file://: notes merge
# note by note, pushes that lose the race are retried after a merge, a fresh or shallow
# clone gets everything, and a local unpushed note is never lost (SPEC §3, §5.4).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-notes.sh"

test_expect_success 'Alice syncs, then Bob, then Alice: both see both jobs on the same commit' '
    setup_team &&
    a=$(cd ../alice && attach_job alice-job) &&
    b=$(cd ../bob && attach_job bob-job) &&
    (cd ../alice && git roar sync) &&
    (cd ../bob && git roar sync 2>../bob-err) &&
    test_grep "notes from origin: merged (1 note changed)" ../bob-err &&
    (cd ../alice && git roar sync 2>../alice-err) &&
    test_grep "notes from origin: fast-forward" ../alice-err &&
    printf "%s\n%s\n" "$a" "$b" | sort >expect &&
    for who in alice bob; do
        (cd ../$who && note_jobs $WORK | sort >../$who-jobs) &&
        test_cmp expect ../$who-jobs || return 1
    done &&
    test "$(git -C ../alice rev-parse refs/notes/roar)" = "$(git -C ../bob rev-parse refs/notes/roar)" &&
    test "$(git -C ../remote.git rev-parse refs/notes/roar)" = "$(git -C ../bob rev-parse refs/notes/roar)" &&
    git -C ../bob rev-parse refs/notes/roar^2 &&
    (cd ../alice && git roar log >../alice-log) &&
    test_grep "echo alice-job" ../alice-log &&
    test_grep "echo bob-job" ../alice-log
'

test_expect_success 'the other order: Bob syncs first; both see both' '
    setup_team &&
    a=$(cd ../alice && attach_job alice-job) &&
    b=$(cd ../bob && attach_job bob-job) &&
    (cd ../bob && git roar sync) &&
    (cd ../alice && git roar sync) &&
    (cd ../bob && git roar sync) &&
    printf "%s\n%s\n" "$a" "$b" | sort >expect &&
    for who in alice bob; do
        (cd ../$who && note_jobs $WORK | sort >../$who-jobs) &&
        test_cmp expect ../$who-jobs || return 1
    done
'

test_expect_success 'a non-fast-forward push is fetched, merged and retried' '
    setup_team &&
    a=$(cd ../alice && attach_job alice-job) &&
    (cd ../alice && git roar push 2>../alice-err) &&
    test_grep "pushed notes to origin" ../alice-err &&
    b=$(cd ../bob && attach_job bob-job) &&
    (cd ../bob && git roar push 2>../bob-err) &&
    test_grep "pushed notes to origin (after merging theirs 1 time)" ../bob-err &&
    git -C ../remote.git notes --ref=roar show $WORK | sed -n "s/^job //p" | sort >remote-jobs &&
    printf "%s\n%s\n" "$a" "$b" | sort >expect &&
    test_cmp expect remote-jobs &&
    git -C ../remote.git rev-parse refs/notes/roar^2 &&
    test "$(git -C ../bob rev-parse refs/notes/remotes/origin/roar)" = \
        "$(git -C ../remote.git rev-parse refs/notes/roar)"
'

test_expect_success 'a plain git fetch with the init refspec never overwrites local notes' '
    setup_team &&
    a=$(cd ../alice && attach_job alice-job) &&
    (cd ../alice && git roar push -q) &&
    cd ../bob &&
    git roar init -q --no-hooks &&
    b=$(attach_job bob-job) &&
    mine=$(git rev-parse refs/notes/roar) &&
    git fetch -q &&
    test "$(git rev-parse refs/notes/roar)" = "$mine" &&
    test "$(git rev-parse refs/notes/remotes/origin/roar)" = \
        "$(git -C ../remote.git rev-parse refs/notes/roar)" &&
    git roar fetch -q &&
    printf "%s\n%s\n" "$a" "$b" | sort >expect &&
    note_jobs $WORK | sort >actual &&
    test_cmp expect actual
'

test_expect_success 'a fresh clone gets every job with git roar fetch; log and show answer' '
    setup_team &&
    a=$(cd ../alice && attach_job alice-job) &&
    (cd ../alice && git roar push -q) &&
    git clone -q "file://$TEST_DIR/remote.git" ../carol &&
    cd ../carol &&
    git roar fetch 2>err &&
    test_grep "notes from origin: fast-forward" err &&
    echo "$a" >expect &&
    note_jobs $WORK >actual &&
    test_cmp expect actual &&
    git roar log >log &&
    test_grep "^${a:0:7} .* $(git rev-parse --short=7 $WORK) .*echo alice-job" log &&
    git roar show ${a:0:10} >show &&
    test_grep "^command  *echo alice-job\$" show
'

test_expect_success 'after init, a plain git fetch makes teammates'"'"' jobs visible' '
    setup_team &&
    git clone -q "file://$TEST_DIR/remote.git" ../carol &&
    (cd ../carol && git roar init -q --no-hooks) &&
    a=$(cd ../alice && attach_job alice-job) &&
    (cd ../alice && git roar push -q) &&
    cd ../carol &&
    git fetch -q &&
    test_must_fail git rev-parse -q --verify refs/notes/roar &&
    git roar log >log &&
    test_grep "^${a:0:7} .*echo alice-job" log
'

test_expect_success 'a --depth 1 clone fetches, attaches and pushes notes' '
    setup_team &&
    a=$(cd ../alice && attach_job alice-job) &&
    (cd ../alice && git roar push -q) &&
    git clone -q --depth 1 "file://$TEST_DIR/remote.git" ../shallow &&
    cd ../shallow &&
    test -f .git/shallow &&
    git roar fetch -q &&
    echo "$a" >expect &&
    note_jobs $WORK >actual &&
    test_cmp expect actual &&
    git roar log >log &&
    test_grep "echo alice-job" log &&
    s=$(pending_job shallow-job HEAD) &&
    git commit -q --allow-empty -m in-shallow &&
    git roar attach -q &&
    note_jobs HEAD >actual &&
    echo "$s" >expect &&
    test_cmp expect actual &&
    git push -q origin HEAD:main &&
    git roar push -q &&
    git -C ../remote.git notes --ref=roar show $(git rev-parse HEAD) >remote-note &&
    test_grep "^job $s\$" remote-note
'

test_expect_success 'nothing to share: no notes here, none there' '
    setup_team &&
    cd ../bob &&
    git roar fetch 2>err &&
    test_grep "origin has no notes yet" err &&
    git roar push 2>err &&
    test_grep "no notes to push" err &&
    git roar sync -q 2>err &&
    test_must_be_empty err &&
    test_must_fail git rev-parse -q --verify refs/notes/roar
'

test_expect_success 'fetch and push by URL leave no tracking ref behind' '
    setup_team &&
    a=$(cd ../alice && attach_job alice-job) &&
    (cd ../alice && git roar push -q "file://$TEST_DIR/remote.git") &&
    test "$(git -C ../remote.git rev-parse refs/notes/roar)" = \
        "$(git -C ../alice rev-parse refs/notes/roar)" &&
    cd ../bob &&
    git roar fetch -q "file://$TEST_DIR/remote.git" &&
    echo "$a" >expect &&
    note_jobs $WORK >actual &&
    test_cmp expect actual &&
    git for-each-ref refs/roar refs/notes/remotes >refs &&
    test_must_be_empty refs
'

test_expect_success 'an unreachable remote is a fatal error with git'"'"'s words' '
    git commit -q --allow-empty -m base &&
    pending_job x HEAD >/dev/null &&
    git commit -q --allow-empty -m work &&
    git roar attach -q &&
    test_expect_code 128 git roar push "file://$TEST_DIR/nowhere.git" 2>err &&
    test_grep "fatal: cannot push notes to" err &&
    test_expect_code 128 git roar fetch nowhere 2>err &&
    test_grep "fatal: " err
'

test_done
