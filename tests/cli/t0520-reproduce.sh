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
    grep "^  differs     clean$" out && grep "^  differs     model$" out &&
    test "$(cat clean)" = CHANGED &&
    git roar status --exit-code
'

test_expect_success 'a nondeterministic step differs' '
    roar_setup &&
    step "date +%s%N >stamp" && J=$(last_job) &&
    rm stamp &&
    git roar reproduce --yes stamp >out 2>err &&
    grep "^  differs     stamp$" out
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

test_done
