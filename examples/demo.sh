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

step() { echo; echo "\$ git roar run $*"; git roar run "$@"; }
step python3 prepare.py
step python3 featurize.py
step python3 train.py
step python3 evaluate.py
# A shell step with a pipe and a redirect: every process of the pipeline is traced.
step sh -c 'cut -d, -f5 data/raw.csv | tail -n +2 | sort | uniq -c > data/label_counts.txt'

echo; echo "\$ git roar log"; git roar log
echo; echo "\$ git roar show metrics.json"; git roar show metrics.json
