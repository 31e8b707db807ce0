#!/bin/bash
# Repository discovery as the commands see it: bare and SHA-256 repositories give clear
# fatal messages, and subdirectories, GIT_DIR, linked worktrees and shallow clones work.
. "$(dirname "$0")/lib.sh"

worktree_commands="run attach status reproduce"

# Discovery succeeded when the command got past it: whatever it did next, it did not
# complain about the repository.
discovered() {
    test_grep -v "not a git repository" "$1" &&
    test_grep -v "SHA-256" "$1" &&
    test_grep -v "must be run in a work tree" "$1"
}

test_expect_success 'a bare repository: commands needing a work tree are fatal' '
    git init -q --bare "$TEST_DIR/bare.git" &&
    cd "$TEST_DIR/bare.git" &&
    for c in $worktree_commands; do
        test_expect_code 128 git roar $c $(args_for $c) >out 2>err &&
        echo "fatal: this operation must be run in a work tree" >expect &&
        test_cmp expect err || return 1
    done
'

test_expect_success 'a bare repository: commands that read notes get past discovery' '
    git init -q --bare "$TEST_DIR/bare.git" &&
    cd "$TEST_DIR/bare.git" &&
    git roar log >out 2>err
    test $? -le 128 &&
    discovered err
'

test_expect_success 'a SHA-256 repository: a clear fatal message, no crash' '
    git init -q --object-format=sha256 "$TEST_DIR/s256" &&
    mkdir -p "$TEST_DIR/s256/sub" &&
    echo "fatal: repository '"'"'$TEST_DIR/s256/.git'"'"' uses SHA-256 object names, which git roar cannot read yet (libgit2 1.5)" >"$TEST_DIR/expect" &&
    cd "$TEST_DIR/s256" &&
    test_expect_code 128 git roar status >out 2>err &&
    test_must_be_empty out &&
    test_cmp "$TEST_DIR/expect" err &&
    cd sub &&
    test_expect_code 128 git roar log 2>err &&
    test_cmp "$TEST_DIR/expect" err &&
    cd "$TEST_DIR" &&
    GIT_DIR="$TEST_DIR/s256/.git" test_expect_code 128 git roar log 2>err &&
    test_cmp "$TEST_DIR/expect" err
'

test_expect_success 'a SHA-256 repository: -h still works' '
    git init -q --object-format=sha256 "$TEST_DIR/s256" &&
    cd "$TEST_DIR/s256" &&
    test_expect_code 129 git roar status -h >out &&
    test_grep "^usage: git roar status" out
'

test_expect_success 'GIT_DIR naming no repository is fatal, in git'"'"'s words' '
    GIT_DIR="$TEST_DIR/nowhere" test_expect_code 128 git roar log 2>err &&
    echo "fatal: not a git repository: '"'"'$TEST_DIR/nowhere'"'"'" >expect &&
    test_cmp expect err
'

test_expect_success 'discovery from a subdirectory' '
    git commit -q --allow-empty -m base &&
    mkdir -p a/b &&
    cd a/b &&
    git roar log >out 2>err
    test $? -le 128 &&
    discovered err
'

test_expect_success 'discovery in a linked worktree' '
    git commit -q --allow-empty -m base &&
    git worktree add -q "$TEST_DIR/wt" 2>/dev/null &&
    cd "$TEST_DIR/wt" &&
    git roar status >out 2>err
    test $? -le 128 &&
    discovered err
'

test_expect_success 'a --depth 1 clone: commands get past discovery without crashing' '
    for i in 1 2 3; do echo $i >f && git add f && git commit -q -m c$i || return 1; done &&
    git clone -q --depth 1 "file://$TEST_DIR/repo" "$TEST_DIR/shallow" &&
    cd "$TEST_DIR/shallow" &&
    test -s .git/shallow &&
    git roar log >out 2>err
    test $? -le 128 &&
    discovered err &&
    git roar status >out 2>err
    test $? -le 128 &&
    discovered err
'

test_done
