#!/bin/bash
# `git roar init` and the hooks it installs (SPEC §3 init, §7): post-commit attaches,
# pre-push pushes the notes, a user's hook is chained (original stdin and arguments, its
# exit status decides), a versioned hooks dir is left alone, a failure of git roar never
# blocks; amend and rebase keep notes, and a rebase attaches nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-notes.sh"

with_remote() {
    git init -q --bare "$TEST_DIR/remote.git" &&
    git remote add origin "file://$TEST_DIR/remote.git" &&
    git commit -q --allow-empty -m base &&
    git push -q origin HEAD:main
}

test_expect_success 'init: hooks, notes.rewriteRef and the fetch refspec; a second init changes nothing' '
    with_remote &&
    git roar init 2>err &&
    test_grep "installed the post-commit hook" err &&
    test_grep "installed the pre-push hook" err &&
    test -d .git/roar/pending &&
    for h in post-commit pre-push; do
        test -x .git/hooks/$h &&
        test_cmp "$ROAR_SOURCE_DIR/hooks/$h" .git/hooks/$h || return 1
    done &&
    git config --get-all notes.rewriteRef >rewrite &&
    echo refs/notes/roar >expect &&
    test_cmp expect rewrite &&
    git config --get-all remote.origin.fetch >fetch &&
    test_grep -F -x "+refs/notes/roar:refs/notes/remotes/origin/roar" fetch &&
    cp fetch fetch-before &&
    git roar init 2>err &&
    test_grep "post-commit hook is already installed" err &&
    git config --get-all notes.rewriteRef >rewrite &&
    test_cmp expect rewrite &&
    git config --get-all remote.origin.fetch >fetch &&
    test_cmp fetch-before fetch
'

test_expect_success 'init: notes.rewriteRef is added to what is there, unless a glob covers it' '
    git commit -q --allow-empty -m base &&
    git config notes.rewriteRef refs/notes/commits &&
    git roar init -q --no-hooks &&
    printf "refs/notes/commits\nrefs/notes/roar\n" >expect &&
    git config --get-all notes.rewriteRef >actual &&
    test_cmp expect actual &&
    git config --unset-all notes.rewriteRef &&
    git config notes.rewriteRef "refs/notes/*" &&
    git roar init -q --no-hooks &&
    echo "refs/notes/*" >expect &&
    git config --get-all notes.rewriteRef >actual &&
    test_cmp expect actual &&
    git config roar.notesRef lineage &&
    git config --unset-all notes.rewriteRef &&
    git roar init -q --no-hooks &&
    echo refs/notes/lineage >expect &&
    git config --get-all notes.rewriteRef >actual &&
    test_cmp expect actual
'

test_expect_success 'init --remote NAME, --no-hooks; an unknown remote is fatal' '
    with_remote &&
    git remote add team "file://$TEST_DIR/remote.git" &&
    git roar init --no-hooks --remote team 2>err &&
    test_path_is_missing() { ! test -e "$1"; } &&
    test_path_is_missing .git/hooks/post-commit &&
    git config --get-all remote.team.fetch >fetch &&
    test_grep -F -x "+refs/notes/roar:refs/notes/remotes/team/roar" fetch &&
    git config --get-all remote.origin.fetch >fetch &&
    test_grep -v "notes" fetch &&
    test_expect_code 128 git roar init --remote nowhere 2>err &&
    test_grep "fatal: .nowhere. is not a remote" err
'

test_expect_success 'the post-commit hook attaches this worktree'"'"'s pending jobs' '
    git commit -q --allow-empty -m base &&
    git roar init -q &&
    j=$(pending_job alpha) &&
    git commit -q --allow-empty -m work 2>err &&
    test_must_be_empty err &&
    echo "$j" >expect &&
    note_jobs HEAD >actual &&
    test_cmp expect actual &&
    test $(pending_count) -eq 0
'

test_expect_success 'an existing post-commit hook keeps running, first, with its stdin and arguments' '
    git commit -q --allow-empty -m base &&
    cat >.git/hooks/post-commit <<-\EOF &&
	#!/bin/sh
	echo "user hook ran with $# args" >>"$(git rev-parse --git-dir)/user-hook.log"
	exit 3
	EOF
    chmod +x .git/hooks/post-commit &&
    git roar init 2>err &&
    test_grep "the existing one runs first, as post-commit.roar-chained" err &&
    test -x .git/hooks/post-commit.roar-chained &&
    j=$(pending_job alpha) &&
    git commit -q --allow-empty -m work &&
    echo "user hook ran with 0 args" >expect &&
    test_cmp expect .git/user-hook.log &&
    note_jobs HEAD >actual &&
    echo "$j" >expect &&
    test_cmp expect actual &&
    git roar init 2>err &&
    test_grep "already installed" err &&
    test_path_is_missing() { ! test -e "$1"; } &&
    test_path_is_missing .git/hooks/post-commit.roar-chained.roar-chained
'

test_expect_success 'pre-push pushes the notes; a chained pre-push gets the ref list and decides' '
    with_remote &&
    cat >.git/hooks/pre-push <<-\EOF &&
	#!/bin/sh
	cat >"$(git rev-parse --git-dir)/pre-push.stdin"
	echo "$1 $2" >"$(git rev-parse --git-dir)/pre-push.args"
	test ! -e "$(git rev-parse --git-dir)/refuse"
	EOF
    chmod +x .git/hooks/pre-push &&
    git roar init -q &&
    j=$(pending_job alpha) &&
    git commit -q --allow-empty -m work &&
    git push -q origin HEAD:main 2>err &&
    echo "HEAD $(git rev-parse HEAD) refs/heads/main $(git rev-parse HEAD~1)" >expect &&
    test_cmp expect .git/pre-push.stdin &&
    echo "origin file://$TEST_DIR/remote.git" >expect &&
    test_cmp expect .git/pre-push.args &&
    git -C ../remote.git notes --ref=roar show $(git rev-parse HEAD) >remote-note &&
    test_grep "^job $j\$" remote-note &&
    touch .git/refuse &&
    git commit -q --allow-empty -m refused &&
    test_must_fail git push -q origin HEAD:main 2>err &&
    test "$(git -C ../remote.git rev-parse main)" = "$(git rev-parse HEAD~1)"
'

test_expect_success 'pushing the notes ref by hand still works with the pre-push hook' '
    with_remote &&
    git roar init -q &&
    git notes --ref=roar add -m "by hand" HEAD &&
    git push -q origin refs/notes/roar &&
    test "$(git -C ../remote.git rev-parse refs/notes/roar)" = "$(git rev-parse refs/notes/roar)" &&
    git config roar.notesRef lineage &&
    git notes --ref=lineage add -m "by hand" HEAD &&
    git push -q origin refs/notes/lineage &&
    test "$(git -C ../remote.git rev-parse refs/notes/lineage)" = "$(git rev-parse refs/notes/lineage)"
'

test_expect_success 'an older version of the hook is replaced by init' '
    git commit -q --allow-empty -m base &&
    git roar init -q &&
    sed "s/^exit 0\$/exit 0 # old/" .git/hooks/pre-push >old && cat old >.git/hooks/pre-push &&
    git roar init 2>err &&
    test_grep "updated the pre-push hook" err &&
    test_cmp "$ROAR_SOURCE_DIR/hooks/pre-push" .git/hooks/pre-push &&
    test_path_is_missing() { ! test -e "$1"; } &&
    test_path_is_missing .git/hooks/pre-push.roar-chained
'

test_expect_success 'a failing git roar never blocks a commit or a push' '
    with_remote &&
    git roar init -q &&
    mkdir ../broken &&
    printf "#!/bin/sh\necho broken >&2\nexit 1\n" >../broken/git-roar &&
    chmod +x ../broken/git-roar &&
    pending_job alpha >/dev/null &&
    PATH="$TEST_DIR/broken:$PATH" git commit -q --allow-empty -m work 2>err &&
    test_grep "warning: git roar could not attach" err &&
    test $(pending_count) -eq 1 &&
    PATH="$TEST_DIR/broken:$PATH" git push -q origin HEAD:main 2>err &&
    test_grep "warning: git roar could not push the notes to .origin." err &&
    test "$(git -C ../remote.git rev-parse main)" = "$(git rev-parse HEAD)"
'

test_expect_success 'core.hooksPath outside the work tree is where the hooks go' '
    git commit -q --allow-empty -m base &&
    git config core.hooksPath "$TEST_DIR/myhooks" &&
    git roar init -q &&
    test -x ../myhooks/post-commit &&
    test -x ../myhooks/pre-push &&
    test_path_is_missing() { ! test -e "$1"; } &&
    test_path_is_missing .git/hooks/post-commit &&
    j=$(pending_job alpha) &&
    git commit -q --allow-empty -m work &&
    echo "$j" >expect &&
    note_jobs HEAD >actual &&
    test_cmp expect actual
'

test_expect_success 'a hooks dir inside the work tree gets nothing: init prints the lines to add' '
    git commit -q --allow-empty -m base &&
    mkdir .githooks &&
    printf "#!/bin/sh\nexit 0\n" >.githooks/post-commit &&
    chmod +x .githooks/post-commit &&
    git add .githooks && git commit -q -m hooks &&
    git config core.hooksPath .githooks &&
    git roar init >out 2>err &&
    test_grep "part of the work tree; not writing there" err &&
    test_grep "^  post-commit:" out &&
    test_grep -F "git roar attach -q" out &&
    test_grep "^  pre-push:" out &&
    test_grep -F "git roar push -q \"\$1\"" out &&
    ls .githooks >files &&
    echo post-commit >expect &&
    test_cmp expect files &&
    git status --porcelain -- .githooks >status &&
    test_must_be_empty status
'

test_expect_success 'amend and rebase keep the notes; a rebase attaches no pending job' '
    git commit -q --allow-empty -m root &&
    git roar init -q &&
    git checkout -q -b topic &&
    echo one >one && git add one &&
    j1=$(pending_job job-one) &&
    git commit -q -m one &&
    echo "$j1" >expect1 &&
    note_jobs HEAD >actual && test_cmp expect1 actual &&
    git commit -q --amend -m "one, amended" &&
    note_jobs HEAD >actual && test_cmp expect1 actual &&
    echo two >two && git add two &&
    j2=$(pending_job job-two) &&
    git commit -q -m two &&
    echo "$j2" >expect2 &&
    note_jobs HEAD >actual && test_cmp expect2 actual &&
    git checkout -q main &&
    echo other >other && git add other && git commit -q -m other &&
    note_jobs HEAD >actual &&
    test_must_be_empty actual &&
    late=$(pending_job late-job HEAD) &&
    git checkout -q topic &&
    git rebase -q main &&
    test "$(git rev-parse HEAD~2)" = "$(git rev-parse main)" &&
    note_jobs HEAD~1 >actual && test_cmp expect1 actual &&
    note_jobs HEAD >actual && test_cmp expect2 actual &&
    test $(pending_count) -eq 1 &&
    ls .git/roar/pending >names &&
    test_grep "^$late@main\$" names &&
    git roar attach -q &&
    note_jobs HEAD >actual &&
    test_grep "$late" actual
'

test_done
