# Helpers shared by the notes tests (t04xx): pending jobs with chosen fields, and what the
# notes and pending/ hold. Source after lib.sh.

MKPEND="$ROAR_BUILD_DIR/tests/cli/helpers/roar-make-pending"

# pending_job NAME [BASE] [START]: writes a pending record of a job `echo NAME` recorded
# in this worktree, whose base is BASE (a revision; default HEAD; "-" for none), and
# prints its id. Different names give different jobs.
pending_job() {
    local name=$1 base=${2-HEAD} start=${3:-2026-01-01T00:00:00.000Z} out
    out=$(printf '%s\n' "$name" | git hash-object --stdin) || return 1
    {
        printf 'command echo %s\ncwd .\n' "$name"
        if test "$base" != "-"; then printf 'base %s\n' "$(git rev-parse "$base")"; fi
        printf 'dirty 0\ntracer preload\nstart %s\nend %s\nexit 0\nout %s %d out/%s\n' \
            "$start" "$start" "$out" $((${#name} + 1)) "$name"
    } | "$MKPEND" "${@:4}"
}

# note_jobs REV: the job ids in REV's roar note, one per line, in note order.
note_jobs() {
    git notes --ref=roar show "$1" 2>/dev/null | sed -n 's/^job //p'
}

# pending_count: records waiting in the common dir's pending/ (all worktrees).
pending_count() {
    local dir
    dir="$(git rev-parse --git-common-dir)/roar/pending"
    find "$dir" -maxdepth 1 -name '*@*' 2>/dev/null | wc -l
}

# claim_dirs: claim dirs left in pending/ (there should be none after an attach).
claim_dirs() {
    find "$(git rev-parse --git-common-dir)/roar/pending" -maxdepth 1 -name '.claim-*' 2>/dev/null
}

# setup_team: a bare "$TEST_DIR/remote.git" holding commits base <- work (branch main),
# and two clones "$TEST_DIR/alice" and "$TEST_DIR/bob" over file://. BASE and WORK are
# the two commit ids.
setup_team() {
    git init -q --bare "$TEST_DIR/remote.git" &&
    git clone -q "file://$TEST_DIR/remote.git" "$TEST_DIR/alice" 2>/dev/null &&
    (
        cd "$TEST_DIR/alice" &&
        git commit -q --allow-empty -m base &&
        git commit -q --allow-empty -m work &&
        git push -q origin HEAD:main
    ) &&
    git clone -q "file://$TEST_DIR/remote.git" "$TEST_DIR/bob" &&
    BASE=$(git -C "$TEST_DIR/alice" rev-parse HEAD~1) &&
    WORK=$(git -C "$TEST_DIR/alice" rev-parse HEAD)
}

# attach_job NAME: in the current clone, records a job `echo NAME` based on HEAD~1 and
# attaches it to HEAD; prints the job id.
attach_job() {
    local id
    id=$(pending_job "$1" HEAD~1) && git roar attach -q && echo "$id"
}
