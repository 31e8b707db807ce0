#!/bin/bash
# `git roar review A..B`: attached jobs, explained outputs, unexplained data files (code
# globs excepted), outputs stale at B, in text and Markdown; a warning when a remote's
# notes are not merged into the local notes ref.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-run.sh"

# base, then one commit with a job's output (explained), a hand-made data file
# (unexplained) and a script (code).
make_range() {
    roar_setup &&
    printf "raw\n" >raw.txt && git add raw.txt && git commit -q -m base &&
    roar_run sh -c "tr a-z A-Z <raw.txt >out.csv" &&
    JOB=$(record_field job) &&
    echo "1,2" >hand.csv && echo "print(1)" >prep.py &&
    git add out.csv hand.csv prep.py && git commit -q -m "add data" &&
    git roar attach -q
}

test_expect_success 'text: explained, unexplained and code files, the attached job' '
    make_range &&
    git roar review HEAD~1..HEAD >out 2>err &&
    test_must_be_empty err &&
    test_grep "^review HEAD~1..HEAD (1 commit)$" out &&
    test_grep "^  job ${JOB:0:7} " out &&
    test_grep "^  explained   out.csv  by ${JOB:0:7}$" out &&
    test_grep "^  unexplained hand.csv$" out &&
    test_grep "^  code        prep.py$" out &&
    test_grep "^summary: 1 explained, 1 unexplained, 1 code, 0 stale$" out
'

test_expect_success 'markdown: a table ready for a pull-request comment' '
    make_range &&
    git roar review --format markdown HEAD~1..HEAD >out &&
    test_grep "^## git roar review: \`HEAD~1..HEAD\`$" out &&
    test_grep -F "| \`out.csv\` | explained | \`${JOB:0:7}\` |" out &&
    test_grep -F "| \`hand.csv\` | :warning: unexplained |  |" out &&
    test_grep -F -- "- \`${JOB:0:7}\` \`sh -c" out &&
    test_grep -F "**summary:** 1 explained, 1 unexplained, 1 code, 0 stale" out
'

test_expect_success 'roar.review.code replaces the default globs' '
    make_range &&
    git config roar.review.code "*.csv" &&
    git roar review HEAD~1..HEAD >out &&
    test_grep "^  code        hand.csv$" out &&
    test_grep "^  unexplained prep.py$" out
'

test_expect_success 'an output whose input changed by B is stale' '
    make_range &&
    echo changed >raw.txt && git commit -q -am "edit raw" &&
    git roar review HEAD~2..HEAD >out &&
    test_grep "^  out.csv: input raw.txt changed since job ${JOB:0:7}$" out &&
    test_grep "1 stale$" out
'

test_expect_success 'remote notes not merged locally: a warning' '
    make_range &&
    git update-ref refs/notes/remotes/origin/roar $(git commit-tree -m x $(git mktree </dev/null)) &&
    git roar review HEAD~1..HEAD >out 2>err &&
    test_grep "warning: refs/notes/remotes/origin/roar has notes" err &&
    git roar review --format markdown HEAD~1..HEAD >out 2>err &&
    test_grep "Warning:" out &&
    git update-ref refs/notes/remotes/origin/roar refs/notes/roar &&
    git roar review HEAD~1..HEAD >out 2>err &&
    test_must_be_empty err
'

test_done
