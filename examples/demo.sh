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
git -c user.name=demo -c user.email=demo@example.invalid add .
git -c user.name=demo -c user.email=demo@example.invalid commit -qm "example pipeline"

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

echo; echo "\$ git roar log"; git roar log
echo; echo "\$ git roar show metrics.json"; git roar show metrics.json
