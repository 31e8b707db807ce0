#!/bin/bash
# git roar reproduce: the plan (only what is not current), -n, the confirmation rule,
# reruns traced as new jobs in the recorded cwd, and reproduced/differs per output.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-run.sh"
. "$(dirname "$0")/lib-queries.sh"

require_preload 'git roar reproduce'

pending_count() {
    ls .git/roar/pending | wc -l
}

test_expect_success 'up to date: nothing to do, nothing run' '
    two_branches &&
    n=$(pending_count) &&
    git roar reproduce --yes model >out &&
    grep "up to date" out &&
    test "$(pending_count)" = "$n"
'

test_expect_success 'a deleted intermediate: -n plans only what is not current and runs nothing' '
    two_branches &&
    rm clean && n=$(pending_count) &&
    git roar reproduce -n clean >out &&
    cat >expect <<-EOF &&
	plan: 1 job to rerun, in order:
	  ${CLEAN:0:7}  in .: sh -c '"'"'tr a-z A-Z <raw >clean'"'"'
	EOF
    test_cmp expect out &&
    git roar reproduce -n model >out &&
    cat >expect <<-EOF &&
	plan: 2 jobs to rerun, in order:
	  ${CLEAN:0:7}  in .: sh -c '"'"'tr a-z A-Z <raw >clean'"'"'
	  ${MODEL:0:7}  in .: sh -c '"'"'cat clean clean >model'"'"'
	EOF
    test_cmp expect out &&
    test_path_is_missing() { ! test -e "$1"; } && test_path_is_missing clean &&
    test "$(pending_count)" = "$n"
'

test_expect_success 'without a terminal and without --yes: fatal, asks for --yes, runs nothing' '
    two_branches &&
    rm clean && n=$(pending_count) &&
    test_expect_code 128 git roar reproduce clean </dev/null >out 2>err &&
    grep "use --yes" err &&
    ! test -e clean && test "$(pending_count)" = "$n"
'

test_expect_success 'reproduce --yes rebuilds a deleted intermediate: reproduced, a new pending job' '
    two_branches &&
    before=$(git hash-object clean) && rm clean && n=$(pending_count) &&
    git roar reproduce --yes clean >out 2>err &&
    grep "^  reproduced  clean$" out &&
    test "$(git hash-object clean)" = "$before" &&
    test "$(pending_count)" = $((n + 1)) &&
    NEW=$(last_job) && test "$NEW" != "$CLEAN" &&
    grep "^job ${CLEAN:0:7} -> ${NEW:0:7}:$" out &&
    test "$(state_of clean)" = ok && test "$(state_of model)" = ok
'

test_expect_success 'a changed input: the whole cascade reruns in order, the other branch not' '
    two_branches &&
    echo changed >raw &&
    git roar reproduce --yes model >out 2>err &&
    grep "^job " out >jobs &&
    sed -n 1p jobs | grep "^job ${CLEAN:0:7} " && sed -n 2p jobs | grep "^job ${MODEL:0:7} " &&
    test "$(wc -l <jobs)" = 2 &&
    grep "^  differs     clean  (input raw differs from the original run)$" out &&
    grep "^  differs     model  (input clean differs from the original run)$" out &&
    test "$(cat clean)" = CHANGED &&
    git roar status --exit-code
'

test_expect_success 'a nondeterministic step differs' '
    roar_setup &&
    step "date +%s%N >stamp" && J=$(last_job) &&
    rm stamp &&
    git roar reproduce --yes stamp >out 2>err &&
    grep "^  differs     stamp  (same inputs: not deterministic)$" out
'

test_expect_success 'the recorded cwd, and argv parsed from the record, never a shell' '
    roar_setup &&
    mkdir -p sub && echo x >sub/in &&
    (cd sub && git roar run -q cp in "out file") &&
    rm "sub/out file" &&
    git roar reproduce --yes "sub/out file" >out 2>err &&
    grep "^  reproduced  sub/out file$" out &&
    test_cmp sub/in "sub/out file" &&
    git roar log -n 1 --json | $PY -c "import json, sys; \
j = json.load(sys.stdin)[\"jobs\"][0]; assert j[\"argv\"] == [\"cp\", \"in\", \"out file\"] \
and j[\"cwd\"] == \"sub\", j"
'

test_expect_success 'a rerun that fails stops the plan, exit 1' '
    roar_setup &&
    echo 1 >flag &&
    step "test \$(cat flag) = 1 && echo ok >a" && step "cat a a >b" &&
    echo 0 >flag && rm a &&
    test_expect_code 1 git roar reproduce --yes b >out 2>err &&
    grep "failed again" err && ! test -e b.new &&
    test "$(grep -c "^job " out)" = 1
'

test_expect_success 'a job id as OBJ' '
    two_branches &&
    rm side &&
    git roar reproduce --yes "${SIDE:0:8}" >out 2>err &&
    grep "^  reproduced  side$" out
'

test_expect_success 'no OBJ: every output in scope that is not ok, as dvc repro' '
    two_branches &&
    echo changed >raw && rm side &&
    git roar reproduce -n >out 2>err &&
    test_grep "^plan: 3 jobs to rerun, in order:" out &&
    git roar reproduce --yes >out 2>err &&
    test "$(grep -c "^job " out)" = 3 &&
    git roar status --exit-code &&
    git roar reproduce -n >out &&
    test_grep "^everything is up to date: nothing to reproduce$" out
'

test_expect_success '--force reruns what is current, to check that it reproduces' '
    two_branches &&
    git roar reproduce -n model >out &&
    test_grep "is up to date: nothing to reproduce" out &&
    git roar reproduce --yes --force model >out 2>err &&
    test "$(grep -c "^job " out)" = 1 &&
    grep "^job ${MODEL:0:7} " out &&
    grep "^  reproduced  model$" out
'

test_expect_success 'a REV reruns the jobs attached to that commit, as datalad rerun' '
    two_branches &&
    git add -A && git commit -q -m pipeline && git roar attach -q &&
    git roar reproduce -n HEAD >out &&
    test_grep "^plan: 3 jobs to rerun, in order:" out &&
    sed -n 2p out | grep "  ${CLEAN:0:7}  in " &&
    git roar reproduce --yes HEAD >out 2>err &&
    test "$(grep -c "^  reproduced  " out)" = 3
'

test_expect_success 'a directory: every recorded output beneath it' '
    roar_setup &&
    mkdir -p models other && echo r >raw &&
    step "cat raw >models/a" && A=$(last_job) &&
    step "cat raw raw >models/b" && B=$(last_job) &&
    step "cat raw raw raw >other/c" &&
    rm models/a models/b other/c &&
    git roar reproduce -n models >out &&
    test_grep "^plan: 2 jobs to rerun, in order:" out &&
    test_grep "  ${A:0:7}  in " out && test_grep "  ${B:0:7}  in " out &&
    git roar reproduce -n models/ >out2 && test_cmp out out2
'

test_expect_success 'a recorded cwd outside the work tree is refused before anything runs' '
    roar_setup &&
    for cwd in ../.. /tmp "sub/../../x"; do
        printf "command %s\ncwd %s\ndirty 0\ntracer preload\nstart %s\nend %s\nexit 0\n%s\n" \
            "touch PWNED" "$cwd" 2026-01-01T00:00:00.000Z 2026-01-01T00:00:01.000Z \
            "out $(echo x | git hash-object --stdin) 2 pwn-$RANDOM" |
            "$ROAR_BUILD_DIR/tests/cli/helpers/roar-put-job" --pending >id &&
        test_expect_code 128 git roar reproduce --yes "$(cat id)" >out 2>err &&
        test_grep "refusing to run it" err &&
        test_grep -v "^job " out || return 1
    done &&
    ! test -e ../PWNED && ! test -e ../../PWNED && ! test -e /tmp/PWNED
'

test_done
