# Helpers of the lineage/status/reproduce tests (t05xx), sourced after lib.sh and
# lib-run.sh: pipelines of real `git roar run` jobs made of small shell steps.

PY=/usr/bin/python3

# step CMD: one traced job running the shell command CMD, quietly.
step() {
    git roar run -q sh -c "$1"
}

# step_preload CMD: step under the preload tracer, for tests whose in-place edits need
# its round trip (under eBPF a write at once after the open may leave the input `-`).
step_preload() {
    git roar run -t preload -q sh -c "$1"
}

# last_job: the full id of the newest recorded job.
last_job() {
    git roar log -n 1 --json | $PY -c 'import json, sys; print(json.load(sys.stdin)["jobs"][0]["id"])'
}

# two_branches: two independent pipelines, raw -> clean -> model and other -> side, in a
# fresh setup; $CLEAN, $MODEL and $SIDE are their jobs.
two_branches() {
    roar_setup &&
    echo raw >raw && echo other >other &&
    step "tr a-z A-Z <raw >clean" && CLEAN=$(last_job) &&
    step "cat clean clean >model" && MODEL=$(last_job) &&
    step "rev <other >side" && SIDE=$(last_job)
}

# state_of PATH: the state `git roar status --all` gives PATH.
state_of() {
    git roar status --all | awk -v p="$1" '$2 == p { print $1 }'
}
