#!/bin/bash
# `git help roar` and `git roar --help` open the man page with nothing but PATH to go on,
# as a newcomer has it: from a build tree (build/ on PATH) and after an install
# (<prefix>/bin on PATH). git runs `man git-roar`, and man-db derives its search path
# from PATH (<dir>/share/man, <dir>/../share/man, ...), so MANPATH stays unset here.
. "$(dirname "$0")/lib.sh"

unset MANPATH MANOPT GIT_MAN_VIEWER
export MANWIDTH=100
# PATH without the build tree, for the installed case: lib.sh put it first.
path_without_build=${PATH#"$ROAR_BUILD_DIR:"}

# page FILE: FILE is the rendered git-roar(1), not some other page or an error.
page() {
    test_grep "^NAME" "$1" &&
    test_grep "git-roar - record and query the lineage" "$1" &&
    test_grep "^SYNOPSIS" "$1"
}

# git turns `git roar --help` into `git help roar`; git-roar itself, run directly, keeps
# the usage list of `git roar -h` (exit 0): the man page is git's to open.
test_expect_success 'git-roar --help run directly prints the usage, not the page' '
    git-roar --help >out 2>err &&
    test_grep "^usage: git roar " out &&
    test_grep -v "^NAME" out
'

if command -v man >/dev/null 2>&1; then
    test_expect_success 'the build tree holds the man page where man finds it from PATH' '
        test_cmp "$ROAR_SOURCE_DIR/docs/git-roar.1" \
            "$ROAR_BUILD_DIR/share/man/man1/git-roar.1" &&
        man -w git-roar >where &&
        echo "$ROAR_BUILD_DIR/share/man/man1/git-roar.1" >expect &&
        test_cmp expect where
    '

    test_expect_success 'git help roar and git roar --help show the page from a build tree' '
        git help roar >out 2>err &&
        page out &&
        git roar --help >out2 2>err &&
        test_cmp out out2
    '

    test_expect_success 'after an install, git help roar finds the installed page' '
        cmake --install "$ROAR_BUILD_DIR" --prefix "$TEST_DIR/inst" >install.log &&
        test -x "$TEST_DIR/inst/bin/git-roar" &&
        PATH="$TEST_DIR/inst/bin:$path_without_build" &&
        command -v git-roar >which &&
        echo "$TEST_DIR/inst/bin/git-roar" >expect &&
        test_cmp expect which &&
        man -w git-roar >where &&
        echo "$TEST_DIR/inst/share/man/man1/git-roar.1" >expect &&
        test_cmp expect where &&
        git help roar >out 2>err &&
        page out &&
        git roar --help >out2 2>err &&
        test_cmp out out2
    '
else
    test_skip 'the build tree holds the man page where man finds it from PATH' 'man is not installed'
    test_skip 'git help roar and git roar --help show the page from a build tree' 'man is not installed'
    test_skip 'after an install, git help roar finds the installed page' 'man is not installed'
fi

test_done
