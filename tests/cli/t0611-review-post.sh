#!/bin/bash
# contrib/ci (SPEC §6.3, issue 14 item 3): post-review against a local stub of each
# forge's comment API — create when no comment carries the marker, update the one that
# does (found on a later page), fail clearly on HTTP errors without printing the token —
# with a real `git roar review --format markdown` as the body; the workflow's and the
# job's own shell steps run on a fresh clone (notes fetched, same review as where the
# notes are, posted, gated); and the workflow files against the GitHub workflow schema
# (action-validator) and as YAML.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-run.sh"

PY=/usr/bin/python3
POST="$ROAR_SOURCE_DIR/contrib/ci/post-review"
CI="$ROAR_SOURCE_DIR/contrib/ci"
GH_TOKEN_VALUE="ghp_t0611SecretToken"
GL_TOKEN_VALUE="glpat-t0611SecretToken"
# The stub only ever listens on 127.0.0.1; no proxy may stand in between.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
# post-review guesses the forge from these: the tests say it explicitly.
unset GITHUB_ACTIONS GITLAB_CI GITHUB_EVENT_PATH CI_JOB_TOKEN GITHUB_TOKEN GITLAB_TOKEN

# The stub forge: answers from a scenario (JSON: "METHOD /path?query" -> status,
# headers, body; "{base}" in headers and bodies is its own URL), 404 otherwise, and
# appends each request (method, path, headers, body) to requests.jsonl. It writes its
# port to port once listening, and exits by itself after 60 seconds at most.
cat >"$TEST_ROOT/stub.py" <<'PY'
import http.server, json, sys, threading, os

scenario = json.load(open(sys.argv[1]))
log = sys.argv[2]
portfile = sys.argv[3]

class Stub(http.server.BaseHTTPRequestHandler):
    def handle_one(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode("utf-8") if n else ""
        with open(log, "a") as f:
            f.write(json.dumps({"method": self.command, "path": self.path,
                                "headers": dict(self.headers.items()),
                                "body": body}) + "\n")
        base = "http://127.0.0.1:%d" % self.server.server_port
        r = scenario.get("%s %s" % (self.command, self.path))
        if r is None:
            r = {"status": 404, "body": {"message": "Not Found"}}
        out = json.dumps(r.get("body", {})).replace("{base}", base).encode()
        self.send_response(r.get("status", 200))
        for k, v in r.get("headers", {}).items():
            self.send_header(k, v.replace("{base}", base))
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)
    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = handle_one
    def log_message(self, *a):
        pass

srv = http.server.HTTPServer(("127.0.0.1", 0), Stub)
threading.Timer(60, lambda: os._exit(3)).start()
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.server_port))
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
PY

# stub_start SCENARIO-JSON: starts the stub in $TEST_DIR; sets STUB (its URL). The
# test body's subshell kills it on exit, whatever happens.
stub_start() {
    printf '%s\n' "$1" >"$TEST_DIR/scenario.json" || return 1
    : >"$TEST_DIR/requests.jsonl" || return 1
    $PY "$TEST_ROOT/stub.py" "$TEST_DIR/scenario.json" "$TEST_DIR/requests.jsonl" \
        "$TEST_DIR/port" 2>"$TEST_DIR/stub.err" &
    STUB_PID=$!
    trap 'kill $STUB_PID 2>/dev/null; wait $STUB_PID 2>/dev/null' EXIT
    local i=0
    while ! test -s "$TEST_DIR/port"; do
        i=$((i + 1))
        if test $i -gt 100 || ! kill -0 $STUB_PID 2>/dev/null; then
            echo "stub did not start:" >&2
            cat "$TEST_DIR/stub.err" >&2
            return 1
        fi
        sleep 0.1
    done
    STUB="http://127.0.0.1:$(cat "$TEST_DIR/port")"
}

# requests_check PYTHON-ASSERTIONS: runs them with `reqs` (the recorded requests, in
# order) and `review` (the review Markdown: $REVIEW_FILE, default $TEST_DIR/review.md)
# bound.
requests_check() {
    $PY - "$TEST_DIR/requests.jsonl" "${REVIEW_FILE:-$TEST_DIR/review.md}" "$1" <<-\PY
	import json, sys
	reqs = [json.loads(l) for l in open(sys.argv[1])]
	review = open(sys.argv[2], encoding="utf-8").read()
	def hdr(r, name):
	    return {k.lower(): v for k, v in r["headers"].items()}.get(name.lower())
	try:
	    exec(sys.argv[3])
	except AssertionError:
	    print("requests:", json.dumps(reqs, indent=1), file=sys.stderr)
	    raise
	PY
}

# A real review: one commit with a traced job's output, a hand-made data file and a
# script (as t0610 does), reviewed as Markdown into $TEST_DIR/review.md.
make_review() {
    roar_setup &&
    printf "raw\n" >raw.txt && git add raw.txt && git commit -q -m base &&
    roar_run sh -c "tr a-z A-Z <raw.txt >out.csv" &&
    echo "1,2" >hand.csv && echo "print(1)" >prep.py &&
    git add out.csv hand.csv prep.py && git commit -q -m "add data" &&
    git roar attach -q &&
    git roar review --format markdown HEAD~1..HEAD >"$TEST_DIR/review.md" &&
    sed -n 1p "$TEST_DIR/review.md" | grep -qx "<!-- git-roar-review -->" &&
    grep -q "unexplained" "$TEST_DIR/review.md"
}

gh_env() {
    export GITHUB_API_URL="$STUB" GITHUB_REPOSITORY="acme/data" GITHUB_TOKEN="$GH_TOKEN_VALUE"
}
gl_env() {
    export CI_API_V4_URL="$STUB/api/v4" CI_PROJECT_ID=42 CI_MERGE_REQUEST_IID=7 \
        GITLAB_TOKEN="$GL_TOKEN_VALUE"
}

GH_LIST="/repos/acme/data/issues/5/comments?per_page=100"
GL_LIST="/api/v4/projects/42/merge_requests/7/notes?per_page=100&sort=asc&order_by=created_at"

test_expect_success 'GitHub, no comment with the marker: exactly one POST with the review' '
    make_review &&
    stub_start "{
      \"GET $GH_LIST\": {\"body\": [{\"id\": 1, \"body\": \"LGTM\"},
                                 {\"id\": 2, \"body\": \"> <!-- git-roar-review -->\\nquoted\"}]},
      \"POST /repos/acme/data/issues/5/comments\": {\"status\": 201,
          \"body\": {\"id\": 99, \"html_url\": \"https://forge.example/c/99\"}}
    }" &&
    gh_env &&
    $PY "$POST" --forge github --pr 5 "$TEST_DIR/review.md" >out 2>err &&
    test_grep "created comment 99" out &&
    requests_check "
assert [(r[\"method\"], r[\"path\"]) for r in reqs] == [
    (\"GET\", \"$GH_LIST\"), (\"POST\", \"/repos/acme/data/issues/5/comments\")], reqs
for r in reqs:
    assert hdr(r, \"Authorization\") == \"Bearer $GH_TOKEN_VALUE\", r
    assert hdr(r, \"Accept\") == \"application/vnd.github+json\", r
p = reqs[1]
assert hdr(p, \"Content-Type\") == \"application/json\"
assert json.loads(p[\"body\"]) == {\"body\": review}
" &&
    test_grep -v "$GH_TOKEN_VALUE" out && test_grep -v "$GH_TOKEN_VALUE" err
'

test_expect_success 'GitHub, the marked comment on page 2 (Link): one PATCH to it, no POST' '
    make_review &&
    stub_start "{
      \"GET $GH_LIST\": {\"body\": [{\"id\": 1, \"body\": \"first\"}],
          \"headers\": {\"Link\": \"<{base}/repositories/7/issues/5/comments?per_page=100&page=2>; rel=\\\"next\\\", <{base}/repositories/7/issues/5/comments?per_page=100&page=2>; rel=\\\"last\\\"\"}},
      \"GET /repositories/7/issues/5/comments?per_page=100&page=2\": {\"body\": [
          {\"id\": 3, \"body\": \"something else\"},
          {\"id\": 4242, \"body\": \"<!-- git-roar-review -->\\nold review\"}]},
      \"PATCH /repos/acme/data/issues/comments/4242\": {\"body\": {\"id\": 4242}}
    }" &&
    gh_env &&
    printf "{\"pull_request\": {\"number\": 5}}" >"$TEST_DIR/event.json" &&
    $PY "$POST" --forge github --pr=5 --dry-run "$TEST_DIR/review.md" >out 2>err &&
    test_grep "would update comment 4242" out &&
    requests_check "assert [r[\"method\"] for r in reqs] == [\"GET\", \"GET\"], reqs" &&
    : >"$TEST_DIR/requests.jsonl" &&
    GITHUB_ACTIONS=true GITHUB_EVENT_PATH="$TEST_DIR/event.json" \
        $PY "$POST" <"$TEST_DIR/review.md" >out 2>err &&
    test_grep "updated comment 4242" out &&
    requests_check "
assert [(r[\"method\"], r[\"path\"]) for r in reqs] == [
    (\"GET\", \"$GH_LIST\"),
    (\"GET\", \"/repositories/7/issues/5/comments?per_page=100&page=2\"),
    (\"PATCH\", \"/repos/acme/data/issues/comments/4242\")], reqs
assert all(hdr(r, \"Authorization\") == \"Bearer $GH_TOKEN_VALUE\" for r in reqs)
assert json.loads(reqs[2][\"body\"]) == {\"body\": review}
"
'

test_expect_success 'GitHub, HTTP 401: non-zero exit, a clear message, the token not printed' '
    make_review &&
    stub_start "{
      \"GET $GH_LIST\": {\"status\": 401,
          \"body\": {\"message\": \"Bad credentials for $GH_TOKEN_VALUE\"}}
    }" &&
    gh_env &&
    test_expect_code 1 $PY "$POST" --forge github --pr 5 "$TEST_DIR/review.md" >out 2>err &&
    test_grep "HTTP 401" err && test_grep "Bad credentials" err && test_grep "token" err &&
    test_grep -v "$GH_TOKEN_VALUE" err && test_grep -v "$GH_TOKEN_VALUE" out &&
    requests_check "assert [r[\"method\"] for r in reqs] == [\"GET\"], reqs"
'

test_expect_success 'GitHub: a next link to another origin is not followed with the token' '
    make_review &&
    stub_start "{
      \"GET $GH_LIST\": {\"body\": [],
          \"headers\": {\"Link\": \"<http://forge.invalid/steal?page=2>; rel=\\\"next\\\"\"}}
    }" &&
    gh_env &&
    test_expect_code 1 $PY "$POST" --forge github --pr 5 "$TEST_DIR/review.md" >out 2>err &&
    test_grep "refusing to follow" err &&
    requests_check "assert [r[\"method\"] for r in reqs] == [\"GET\"], reqs"
'

test_expect_success 'GitLab, no note with the marker: exactly one POST, PRIVATE-TOKEN' '
    make_review &&
    stub_start "{
      \"GET $GL_LIST\": {\"body\": [{\"id\": 1, \"body\": \"<!-- git-roar-review -->\", \"system\": true},
                                 {\"id\": 2, \"body\": \"nice\", \"system\": false}]},
      \"POST /api/v4/projects/42/merge_requests/7/notes\": {\"status\": 201, \"body\": {\"id\": 77}}
    }" &&
    gl_env &&
    $PY "$POST" --forge gitlab "$TEST_DIR/review.md" >out 2>err &&
    test_grep "created note 77" out &&
    requests_check "
assert [(r[\"method\"], r[\"path\"]) for r in reqs] == [
    (\"GET\", \"$GL_LIST\"), (\"POST\", \"/api/v4/projects/42/merge_requests/7/notes\")], reqs
for r in reqs:
    assert hdr(r, \"PRIVATE-TOKEN\") == \"$GL_TOKEN_VALUE\", r
    assert hdr(r, \"Authorization\") is None and hdr(r, \"JOB-TOKEN\") is None, r
assert json.loads(reqs[1][\"body\"]) == {\"body\": review}
"
'

test_expect_success 'GitLab, the marked note on page 2: one PUT to it, no POST; JOB-TOKEN without GITLAB_TOKEN' '
    make_review &&
    stub_start "{
      \"GET $GL_LIST\": {\"body\": [{\"id\": 1, \"body\": \"hi\"}], \"headers\": {\"X-Next-Page\": \"2\"}},
      \"GET /api/v4/projects/42/merge_requests/7/notes?per_page=100&sort=asc&order_by=created_at&page=2\":
          {\"body\": [{\"id\": 31, \"body\": \"<!-- git-roar-review -->\\nold\", \"system\": false}],
           \"headers\": {\"X-Next-Page\": \"\"}},
      \"PUT /api/v4/projects/42/merge_requests/7/notes/31\": {\"body\": {\"id\": 31}}
    }" &&
    gl_env && unset GITLAB_TOKEN && export CI_JOB_TOKEN=job-t0611 &&
    GITLAB_CI=true $PY "$POST" - <"$TEST_DIR/review.md" >out 2>err &&
    test_grep "updated note 31" out &&
    requests_check "
assert [r[\"method\"] for r in reqs] == [\"GET\", \"GET\", \"PUT\"], reqs
assert reqs[2][\"path\"] == \"/api/v4/projects/42/merge_requests/7/notes/31\"
assert all(hdr(r, \"JOB-TOKEN\") == \"job-t0611\" and hdr(r, \"PRIVATE-TOKEN\") is None for r in reqs)
assert json.loads(reqs[2][\"body\"]) == {\"body\": review}
"
'

test_expect_success 'GitLab, HTTP 401: non-zero exit, a clear message, the token not printed' '
    make_review &&
    stub_start "{
      \"GET $GL_LIST\": {\"status\": 401, \"body\": {\"message\": \"401 Unauthorized\"}}
    }" &&
    gl_env &&
    test_expect_code 1 $PY "$POST" --forge gitlab "$TEST_DIR/review.md" >out 2>err &&
    test_grep "HTTP 401" err && test_grep "token" err &&
    test_grep -v "$GL_TOKEN_VALUE" err && test_grep -v "$GL_TOKEN_VALUE" out
'

test_expect_success 'a body without the marker, or no token, is refused before any request' '
    stub_start "{}" &&
    gh_env &&
    echo "not a review" >body.md &&
    test_expect_code 2 $PY "$POST" --forge github --pr 5 body.md 2>err &&
    test_grep "does not begin with" err &&
    printf "<!-- git-roar-review -->\nx\n" >body.md &&
    unset GITHUB_TOKEN &&
    test_expect_code 2 $PY "$POST" --forge github --pr 5 body.md 2>err &&
    test_grep "GITHUB_TOKEN is not set" err &&
    test_expect_code 2 $PY "$POST" body.md 2>err &&
    test_grep "forge" err &&
    test_must_be_empty "$TEST_DIR/requests.jsonl"
'

# ci_clone: the repository of make_review, with its notes, cloned as CI clones it
# (whole history, no notes); the clone is the current directory afterwards. BASE_SHA
# and HEAD_SHA: the reviewed range; $TEST_DIR/expect.md its review where the notes are.
ci_clone() {
    make_review &&
    BASE_SHA=$(git rev-parse HEAD~1) && HEAD_SHA=$(git rev-parse HEAD) &&
    git roar review --format markdown "$BASE_SHA..$HEAD_SHA" >"$TEST_DIR/expect.md" &&
    test_grep -F "| \`out.csv\` | explained |" "$TEST_DIR/expect.md" &&
    REVIEW_FILE="$TEST_DIR/expect.md" &&
    git clone -q . "$TEST_DIR/ci-clone" && cd "$TEST_DIR/ci-clone" &&
    test_must_fail git rev-parse -q --verify refs/notes/roar &&
    mkdir -p "$TEST_DIR/runner/git-roar/contrib/ci" &&
    cp "$POST" "$TEST_DIR/runner/git-roar/contrib/ci/post-review"
}

test_expect_success 'the GitHub workflow steps, run on a clone: notes fetched, reviewed, posted' '
    ci_clone &&
    stub_start "{
      \"GET $GH_LIST\": {\"body\": []},
      \"POST /repos/acme/data/issues/5/comments\": {\"status\": 201, \"body\": {\"id\": 9}}
    }" &&
    gh_env && unset GITHUB_TOKEN &&
    $PY - "$CI/github-actions.yml" "$TEST_DIR/steps" <<-\PY &&
	import sys, yaml, os
	steps = yaml.safe_load(open(sys.argv[1]))["jobs"]["review"]["steps"]
	os.mkdir(sys.argv[2])
	want = ["Fetch the git roar notes", "Review the pull request",
	        "Post or update the review comment"]
	for i, name in enumerate(want):
	    s = [s for s in steps if s.get("name") == name][0]
	    assert "${{" not in s["run"], "an expression inside run: " + name
	    open(os.path.join(sys.argv[2], str(i)), "w").write(s["run"])
	PY
    export GITHUB_OUTPUT="$TEST_DIR/gh-output" GITHUB_STEP_SUMMARY="$TEST_DIR/gh-summary" \
        RUNNER_TEMP="$TEST_DIR/runner" BASE_SHA HEAD_SHA &&
    bash --noprofile --norc -eo pipefail "$TEST_DIR/steps/0" &&
    git rev-parse -q --verify refs/notes/roar &&
    bash --noprofile --norc -eo pipefail "$TEST_DIR/steps/1" &&
    test_grep -x "status=1" "$GITHUB_OUTPUT" &&
    test_cmp "$TEST_DIR/expect.md" review.md &&
    test_cmp review.md "$GITHUB_STEP_SUMMARY" &&
    GITHUB_TOKEN=$GH_TOKEN_VALUE ROAR_PR_NUMBER=5 \
        bash --noprofile --norc -eo pipefail "$TEST_DIR/steps/2" >out &&
    test_grep "created comment 9" out &&
    requests_check "
assert [r[\"method\"] for r in reqs] == [\"GET\", \"POST\"], reqs
assert json.loads(reqs[1][\"body\"]) == {\"body\": review}
"
'

test_expect_success 'the GitLab job script, run on a clone: notes fetched, reviewed, posted, gated' '
    ci_clone &&
    stub_start "{
      \"GET $GL_LIST\": {\"body\": []},
      \"POST /api/v4/projects/42/merge_requests/7/notes\": {\"status\": 201, \"body\": {\"id\": 8}}
    }" &&
    gl_env &&
    $PY - "$CI/gitlab-ci.yml" "$TEST_DIR/runner/git-roar" >"$TEST_DIR/job.sh" <<-\PY &&
	import sys, yaml
	job = yaml.safe_load(open(sys.argv[1]))["git-roar-review"]
	print("\n".join(job["script"]).replace("/opt/git-roar", sys.argv[2]))
	PY
    export CI_MERGE_REQUEST_DIFF_BASE_SHA=$BASE_SHA CI_COMMIT_SHA=$HEAD_SHA &&
    ROAR_REVIEW_GATE=false bash -e "$TEST_DIR/job.sh" >out 2>&1 &&
    git rev-parse -q --verify refs/notes/roar &&
    test_cmp "$TEST_DIR/expect.md" review.md &&
    test_grep "created note 8" out &&
    requests_check "
assert [r[\"method\"] for r in reqs] == [\"GET\", \"POST\"], reqs
assert json.loads(reqs[1][\"body\"]) == {\"body\": review}
" &&
    test_expect_code 1 env ROAR_REVIEW_GATE=true bash -e "$TEST_DIR/job.sh" >out 2>&1 &&
    test_grep "unexplained or stale" out &&
    test_grep "created note 8" out
'

if command -v action-validator >/dev/null; then
    test_expect_success 'the GitHub workflow passes the workflow schema (action-validator)' '
        action-validator "$CI/github-actions.yml" &&
        sed "s/runs-on:/runs_on:/" "$CI/github-actions.yml" >bad.yml &&
        test_must_fail action-validator bad.yml >/dev/null
    '
else
    echo "# SKIP: action-validator is not on PATH (npm install -g @action-validator/cli):" \
        "the GitHub workflow is not checked against the workflow schema" >&2
    test_skip 'the GitHub workflow passes the workflow schema' \
        'action-validator not on PATH (npm install -g @action-validator/cli)'
fi

test_expect_success 'the workflow files parse and do what contrib/ci/README.md says' '
    if ! $PY -c "import yaml" 2>/dev/null; then
        echo "# SKIP: python3-yaml is not installed" >&2
        exit 0
    fi
    $PY - "$CI/github-actions.yml" "$CI/gitlab-ci.yml" <<-\PY
	import sys, yaml
	gh = yaml.safe_load(open(sys.argv[1]))
	on = gh.get("on", gh.get(True))
	assert "pull_request" in on, on
	assert gh["permissions"]["pull-requests"] == "write"
	assert gh["permissions"]["issues"] == "write"
	steps = gh["jobs"]["review"]["steps"]
	co = [s for s in steps if s.get("uses", "").startswith("actions/checkout@")]
	assert co and co[0]["with"]["fetch-depth"] == 0
	runs = "\n".join(s.get("run", "") for s in steps)
	assert "refs/notes/roar:refs/notes/roar" in runs
	assert "git roar review --format markdown --exit-code" in runs
	assert "contrib/ci/post-review" in runs
	assert any("ROAR_REVIEW_GATE" in str(s.get("if", "")) for s in steps)
	gl = yaml.safe_load(open(sys.argv[2]))
	job = gl["git-roar-review"]
	assert job["rules"][0]["if"] == "$CI_PIPELINE_SOURCE == \"merge_request_event\""
	assert job["variables"]["GIT_DEPTH"] == "0"
	script = "\n".join(job["script"])
	assert "refs/notes/roar:refs/notes/roar" in script
	assert "$CI_MERGE_REQUEST_DIFF_BASE_SHA.." in script
	assert "git roar review --format markdown --exit-code" in script
	assert "contrib/ci/post-review --forge gitlab" in script
	assert "ROAR_REVIEW_GATE" in script
	PY
'

test_done
