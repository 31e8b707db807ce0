#!/bin/bash
# A remote's notes ref that points at a blob, a tree or a tag (issue 16 item 9): `git roar
# fetch` refuses it and leaves no bad tracking ref behind; when a plain `git fetch` brings
# one in anyway, reindex, fsck, log and status say so once and go on with the other refs.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-notes.sh"

# break_remote KIND: points the remote's refs/notes/roar at a blob, tree or tag.
break_remote() {
    local obj
    case $1 in
    blob) obj=$(echo junk | git -C ../remote.git hash-object -w --stdin) ;;
    tree) obj=$(git -C ../remote.git rev-parse "$WORK^{tree}") ;;
    tag) git -C ../remote.git tag -a -m t notes-tag "$WORK" &&
        obj=$(git -C ../remote.git rev-parse notes-tag) ;;
    esac &&
    git -C ../remote.git update-ref refs/notes/roar "$obj"
}

for kind in blob tree tag; do
    test_expect_success "fetch refuses a remote notes ref that is a $kind and restores the tracking ref" '
        setup_team &&
        a=$(cd ../alice && attach_job alice-job) &&
        (cd ../alice && git roar push -q) &&
        cd ../bob &&
        git roar fetch -q &&
        before=$(git rev-parse refs/notes/remotes/origin/roar) &&
        break_remote '$kind' &&
        test_expect_code 128 git roar fetch 2>err &&
        test_grep "cannot fetch notes from .origin.: refs/notes/roar there points at a '$kind'" err &&
        test "$(git rev-parse refs/notes/remotes/origin/roar)" = "$before" &&
        git roar fsck &&
        git roar log >log &&
        test_grep "echo alice-job" log
    '
done

test_expect_success 'fetch leaves no tracking ref when there was none before' '
    setup_team &&
    (cd ../alice && attach_job alice-job >/dev/null && git roar push -q) &&
    break_remote blob &&
    cd ../bob &&
    test_expect_code 128 git roar fetch 2>err &&
    test_grep "points at a blob" err &&
    test_must_fail git rev-parse -q --verify refs/notes/remotes/origin/roar
'

test_expect_success 'a bad tracking ref from a plain git fetch: reported once, the rest still answers' '
    setup_team &&
    (cd ../alice && attach_job alice-job >/dev/null && git roar push -q) &&
    cd ../bob &&
    git roar init -q --no-hooks &&
    git fetch -q &&
    git roar log >log &&
    test_grep "echo alice-job" log &&
    b=$(attach_job bob-job) &&
    break_remote blob &&
    git fetch -q &&
    test "$(git cat-file -t refs/notes/remotes/origin/roar)" = blob &&
    git roar reindex 2>err &&
    test $(grep -c "refs/notes/remotes/origin/roar: points at a blob, not a notes commit; skipped" err) = 1 &&
    git roar log >log 2>err &&
    test $(grep -c "refs/notes/remotes/origin/roar: points at a blob" err) = 1 &&
    test_grep "echo bob-job" log &&
    git roar status >/dev/null 2>err &&
    test $(grep -c "refs/notes/remotes/origin/roar: points at a blob" err) = 1 &&
    test_expect_code 1 git roar fsck >out 2>err;
    test $? = 0 &&
    cat out err >all &&
    test $(grep -c "refs/notes/remotes/origin/roar: points at a blob" all) = 1
'

test_done
