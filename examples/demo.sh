#!/usr/bin/env bash
# make demo: copies the example pipeline into a throwaway git repository, runs every
# stage under `git roar run`, then shows the recorded jobs and the lineage of metrics.json.
set -euo pipefail

build=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
export PATH="$build:$PATH"

repo=$(mktemp -d "${TMPDIR:-/tmp}/roar-demo.XXXXXX")
echo "demo: repository in $repo"
cp -R "$here/pipeline/." "$repo/"
cd "$repo"
git init -q
git config user.name demo
git config user.email demo@example.invalid
git add .
git commit -qm "example pipeline"
echo; echo "\$ git roar init"; git roar init

# The system interpreter: a version manager's shim (pyenv) would be recorded too, as
# it should be, but its wrapper scripts would crowd the demo's input lists.
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3

step() {
    echo
    printf '$ git roar run'; printf ' %q' "$@"; echo
    git roar run "$@"
}
step "$py" prepare.py
step "$py" featurize.py
step "$py" train.py
step "$py" evaluate.py
# A shell step with a pipe and a redirect: every process of the pipeline is traced.
step sh -c 'cut -d, -f5 data/raw.csv | tail -n +2 | sort | uniq -c > data/label_counts.txt'

show() { echo; echo "\$ $*"; "$@"; }
# Committing the results attaches the pending jobs (the post-commit hook of init).
show git add metrics.json
show git commit -qm "results of the pipeline"
show git roar log
show git roar show metrics.json
show git roar lineage metrics.json
show git roar status
# Change a parameter: everything downstream of it becomes stale, and reproduce reruns
# exactly those jobs, traced again.
show sed -i 's/"epochs": 30/"epochs": 40/' params.json
show git roar status
show git roar reproduce --yes metrics.json
show git roar status
