#!/bin/bash
# Lineage follows content through the git workflows teams use (SPEC §5.5): squash-merge
# (local, and by another clone with the branch deleted, as a forge does), rebase-merge,
# cherry-pick, amend after a run, rebase, and a fresh clone followed by `git roar init`.
# After each, every query command must agree about which job produced a file.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-run.sh"

require_preload 'git workflows'

PY=/usr/bin/python3

# team: a bare remote with a base commit (raw.txt) on main, and a clone "alice" that ran
# `git roar init`; the current directory is alice.
team() {
    git init -q --bare "$TEST_DIR/remote.git" &&
    git clone -q "file://$TEST_DIR/remote.git" "$TEST_DIR/alice" 2>/dev/null &&
    cd "$TEST_DIR/alice" &&
    git config roar.exclude "$ROAR_BUILD_DIR" &&
    echo "raw data" >raw.txt && mkdir -p out && git add raw.txt &&
    git commit -q -m base && git push -q origin HEAD:main 2>/dev/null &&
    git roar init -q
}

# pipeline: two traced steps, raw.txt -> out/clean.txt -> out/model.txt, committed on
# the current branch (the post-commit hook attaches them). PREP and TRAIN: their ids.
pipeline() {
    git roar run -q -t preload sh -c "tr a-z A-Z <raw.txt >out/clean.txt" &&
    PREP=$(git roar log -n 1 --json | $PY -c "import json,sys; print(json.load(sys.stdin)[\"jobs\"][0][\"id\"])") &&
    git roar run -q -t preload sh -c "cat out/clean.txt out/clean.txt >out/model.txt" &&
    TRAIN=$(git roar log -n 1 --json | $PY -c "import json,sys; print(json.load(sys.stdin)[\"jobs\"][0][\"id\"])") &&
    git add out && git commit -q -m "run the pipeline"
}

# agree FILE JOB: every query command names JOB as what produced FILE, here and now.
agree() {
    local file=$1 job=$2 short=${2:0:7}
    git roar log >log.out 2>log.err &&
    test_grep "^$short " log.out &&
    test "$(grep -c "^$short " log.out)" = 1 &&
    git roar show "$file" >show.out &&
    sed -n "/^produced by:/,/^consumed by:/p" show.out | grep "^  $short " &&
    git roar lineage "$file" >lineage.out &&
    test_grep "job $short " lineage.out &&
    git roar status --all >status.out &&
    test_grep "^ok        $file$" status.out &&
    git roar status --exit-code >/dev/null &&
    git roar reproduce -n "$file" >repro.out &&
    test_grep "is up to date" repro.out &&
    git roar reproduce -n --force "$file" >repro.out &&
    test_grep "^  $short  in " repro.out &&
    git roar review --format text HEAD >review.out &&
    test_grep -v "unexplained.*$file" review.out &&
    git roar export --format json >export.out &&
    test_grep "$job" export.out
}

test_expect_success 'a local squash-merge keeps the lineage' '
    team &&
    git checkout -q -b feat && pipeline &&
    git checkout -q main && git merge -q --squash feat && git commit -q -m "squashed" &&
    git branch -q -D feat &&
    agree out/model.txt "$TRAIN" && agree out/clean.txt "$PREP"
'

test_expect_success 'a squash-merge by another clone, the branch deleted (a forge)' '
    team &&
    git checkout -q -b feat && pipeline && git push -q origin feat 2>/dev/null &&
    git clone -q "file://$TEST_DIR/remote.git" "$TEST_DIR/forge" 2>/dev/null &&
    (
        cd "$TEST_DIR/forge" &&
        git merge -q --squash origin/feat && git commit -q -m "Squash feat (#1)" &&
        git push -q origin main 2>/dev/null && git push -q origin :feat 2>/dev/null
    ) &&
    git checkout -q main && git pull -q origin main 2>/dev/null && git branch -q -D feat &&
    git reflog expire --expire=now --all && git gc -q --prune=now &&
    agree out/model.txt "$TRAIN" &&
    git clone -q "file://$TEST_DIR/remote.git" "$TEST_DIR/carol" 2>/dev/null &&
    cd "$TEST_DIR/carol" && git roar init -q &&
    agree out/model.txt "$TRAIN" && agree out/clean.txt "$PREP"
'

test_expect_success 'a rebase-merge keeps the lineage, each job listed once' '
    team &&
    git checkout -q -b feat && pipeline &&
    git checkout -q main && echo doc >README.md && git add README.md && git commit -q -m doc &&
    git checkout -q feat && git rebase -q main && git checkout -q main && git merge -q --ff-only feat &&
    agree out/model.txt "$TRAIN" && agree out/clean.txt "$PREP"
'

test_expect_success 'a cherry-pick onto a branch with other work' '
    team &&
    git checkout -q -b feat && pipeline &&
    git checkout -q main && echo doc >README.md && git add README.md && git commit -q -m doc &&
    git cherry-pick feat >/dev/null &&
    git branch -q -D feat &&
    agree out/model.txt "$TRAIN" && agree out/clean.txt "$PREP"
'

test_expect_success 'amend after a run: the job follows the amended commit' '
    team &&
    echo notes >NOTES.md && git add NOTES.md && git commit -q -m "wip" &&
    git roar run -q -t preload sh -c "tr a-z A-Z <raw.txt >out/clean.txt" &&
    git add out && git commit -q --amend -m "wip, with data" &&
    git roar log --pending >pending.out && test_must_be_empty pending.out &&
    test "$(git notes --ref=roar show HEAD | grep -c "^job ")" = 1 &&
    PREP=$(git notes --ref=roar show HEAD | sed -n "s/^job //p") &&
    agree out/clean.txt "$PREP"
'

test_expect_success 'a rebase: every job listed once' '
    team &&
    git checkout -q -b feat && pipeline &&
    git checkout -q main && echo doc >README.md && git add README.md && git commit -q -m doc &&
    git checkout -q feat && git rebase -q main &&
    git roar log >log.out &&
    test "$(wc -l <log.out)" = 2 &&
    agree out/model.txt "$TRAIN"
'

test_expect_success 'a fresh clone of main, then git roar init: the notes come along' '
    team &&
    pipeline && git push -q origin main 2>/dev/null &&
    git clone -q "file://$TEST_DIR/remote.git" "$TEST_DIR/dave" 2>/dev/null &&
    cd "$TEST_DIR/dave" &&
    git roar log >log.out 2>log.err &&
    test_grep "no jobs recorded yet" log.out &&
    git roar init 2>init.err &&
    test_grep "notes from origin" init.err &&
    agree out/model.txt "$TRAIN" &&
    echo x >>raw.txt && git commit -q -a --amend -m amended 2>amend.err &&
    test_grep -v "invalid" amend.err
'

test_expect_success 'git-ignored outputs: attach shares them, and a fresh clone sees them' '
    team &&
    echo "data/" >.gitignore && git add .gitignore && git commit -q -m ignore &&
    mkdir -p data &&
    git roar run -q -t preload sh -c "tr a-z A-Z <raw.txt >data/big.bin" &&
    J=$(git roar log -n 1 --json | $PY -c "import json,sys; print(json.load(sys.stdin)[\"jobs\"][0][\"id\"])") &&
    git roar attach -q && git push -q origin main 2>/dev/null &&
    test "$(git notes --ref=roar show HEAD | sed -n "s/^job //p")" = "$J" &&
    git clone -q "file://$TEST_DIR/remote.git" "$TEST_DIR/erin" 2>/dev/null &&
    cd "$TEST_DIR/erin" && git roar init -q &&
    git roar status --all >status.out &&
    test_grep "^missing   data/big.bin$" status.out &&
    mkdir -p data && tr a-z A-Z <raw.txt >data/big.bin &&
    git roar status --all >status.out &&
    test_grep "^ok        data/big.bin$" status.out
'

test_expect_success 'a remote-tracking notes ref ahead of the local one is said in one line' '
    team &&
    pipeline && git push -q origin main 2>/dev/null &&
    git clone -q "file://$TEST_DIR/remote.git" "$TEST_DIR/fred" 2>/dev/null &&
    (cd "$TEST_DIR/fred" && git roar init -q) &&
    git roar run -q -t preload sh -c "cat raw.txt raw.txt >out/more.txt" &&
    git add out && git commit -q -m more && git push -q origin main 2>/dev/null &&
    cd "$TEST_DIR/fred" && git fetch -q origin 2>/dev/null &&
    git roar log >log.out 2>log.err &&
    test "$(grep -c "notes of origin are ahead" log.err)" = 1 &&
    git roar fetch -q && git roar log >log.out 2>log.err &&
    test_grep -v "ahead" log.err
'

test_done
