#!/bin/bash
# `git roar run --commit [-m MSG]` (SPEC §3 run): commits the job's outputs and deletions
# in the work tree that git does not ignore, with the user's hooks, nothing else that
# was staged, and attaches exactly this job to the commit.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-notes.sh"

if ! test -f "$ROAR_BUILD_DIR/lib/roar/libroar-preload.so"; then
    test_skip 'git roar run --commit' "libroar-preload.so not built"
    test_done
fi

# run_id: the job id of the last `git roar run` whose stderr is in err (7 digits).
run_id() {
    sed -n "s/^roar: job \([0-9a-f]*\) .*/\1/p" err
}

test_expect_success 'run --commit: the outputs and deletions, nothing else; exactly this job' '
    printf "*.log\n" >.gitignore &&
    echo old >old.txt && echo gone >gone.txt &&
    git add .gitignore old.txt gone.txt && git commit -q -m base &&
    git roar init -q &&
    other=$(pending_job other HEAD) &&
    echo staged >staged.txt && git add staged.txt &&
    git roar run -t preload --commit -- sh -c "echo new >new.txt; echo more >>old.txt; rm gone.txt; echo x >out.log" 2>err &&
    id=$(run_id) && test -n "$id" &&
    test_grep "committed 3 paths as $(git rev-parse --short=7 HEAD) and attached job $id" err &&
    git show --name-status --format= HEAD >changes &&
    printf "D\tgone.txt\nA\tnew.txt\nM\told.txt\n" >expect &&
    test_cmp expect changes &&
    git diff --cached --name-only >staged &&
    echo staged.txt >expect &&
    test_cmp expect staged &&
    git log -1 --format=%s >msg &&
    echo "roar: sh -c '"'"'echo new >new.txt; echo more >>old.txt; rm gone.txt; echo x >out.log'"'"'" >expect &&
    test_cmp expect msg &&
    note_jobs HEAD >jobs &&
    test $(wc -l <jobs) -eq 1 &&
    test_grep "^$id" jobs &&
    ls .git/roar/pending >names &&
    echo "$other@main" >expect &&
    test_cmp expect names
'

test_expect_success 'run --commit -m MSG: the message, and the user'"'"'s commit hooks run' '
    git commit -q --allow-empty -m base &&
    printf "#!/bin/sh\necho ran >\"\$(git rev-parse --git-dir)/pre-commit.ran\"\n" >.git/hooks/pre-commit &&
    chmod +x .git/hooks/pre-commit &&
    git roar run -t preload --commit -m "train the model" -- sh -c "echo w >model.bin" 2>err &&
    test -f .git/pre-commit.ran &&
    git log -1 --format=%s >msg &&
    echo "train the model" >expect &&
    test_cmp expect msg &&
    test_grep "^$(run_id)" <(note_jobs HEAD)
'

test_expect_success 'run --commit with only ignored outputs commits nothing and attaches the job to HEAD' '
    printf "*.log\n" >.gitignore && git add .gitignore && git commit -q -m base &&
    head=$(git rev-parse HEAD) &&
    git roar run -t preload --commit -- sh -c "echo x >out.log" 2>err &&
    test_grep "nothing to commit (every output is ignored or unchanged); attached job $(run_id) to HEAD ${head:0:7}" err &&
    test "$(git rev-parse HEAD)" = "$head" &&
    test $(pending_count) -eq 0 &&
    test "$(git notes --ref=roar show HEAD | sed -n "s/^job //p" | cut -c1-7)" = "$(run_id)"
'

test_expect_success 'run --commit keeps the command exit status when nothing is committable' '
    printf "*.log\n" >.gitignore && git add .gitignore && git commit -q -m base &&
    echo same >kept.txt && git add kept.txt && git commit -q -m kept &&
    git roar run -t preload --commit -- sh -c "echo same >kept.txt" 2>err &&
    test_grep "nothing to commit" err &&
    test $(pending_count) -eq 0
'

test_expect_success 'run --commit of a failing command commits nothing and exits as it did' '
    git commit -q --allow-empty -m base &&
    head=$(git rev-parse HEAD) &&
    test_expect_code 3 git roar run -t preload --commit -- sh -c "echo x >out.txt; exit 3" 2>err &&
    test_grep "not committing: the command failed" err &&
    test "$(git rev-parse HEAD)" = "$head" &&
    test $(pending_count) -eq 1
'

test_expect_success 'a commit refused by a hook leaves the job pending, exit 1' '
    git commit -q --allow-empty -m base &&
    printf "#!/bin/sh\nexit 1\n" >.git/hooks/pre-commit && chmod +x .git/hooks/pre-commit &&
    test_expect_code 1 git roar run -t preload --commit -- sh -c "echo x >out.txt" 2>err &&
    test_grep "error: git commit failed (exit 1); job $(run_id) stays pending" err &&
    test $(pending_count) -eq 1
'

test_expect_success '-m without --commit is a usage error' '
    git commit -q --allow-empty -m base &&
    test_expect_code 129 git roar run -m msg -- true 2>err &&
    test_grep "error: -m needs --commit" err
'

test_done
