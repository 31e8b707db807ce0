#!/bin/bash
# `git roar export`: PROV-JSON and OpenLineage checked structurally with python3 (required
# keys, every relation names a declared entity and activity; START then COMPLETE or
# FAIL per job), dot and json, and the job selection by OBJ and RANGE. The official
# schemas and python3-prov check the same exports in t0621-export-schemas.sh.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-run.sh"

# prep -> train, then a failed job; the first two attached to HEAD.
make_jobs() {
    roar_setup &&
    printf "raw\n" >raw.txt && git add raw.txt && git commit -q -m base &&
    roar_run sh -c "tr a-z A-Z <raw.txt >clean.txt" &&
    PREP=$(record_field job) &&
    roar_run sh -c "cat clean.txt clean.txt >model.txt" &&
    TRAIN=$(record_field job) &&
    git add clean.txt model.txt && git commit -q -m pipeline && git roar attach -q &&
    { roar_run sh -c "cat model.txt >/dev/null; exit 3"; test $? = 3; } &&
    FAIL=$(record_field job)
}

test_expect_success 'prov-json: entities are outputs and blob ids, relations consistent' '
    make_jobs &&
    git roar export --format prov-json >prov.json &&
    python3 - "$PREP" "$TRAIN" "$FAIL" "$(git hash-object clean.txt)" <<-\PYEOF
	import json, sys
	prep, train, fail, clean = sys.argv[1:]
	d = json.load(open("prov.json"))
	for k in ("prefix", "entity", "activity", "used", "wasGeneratedBy"):
	    assert k in d, k
	assert "blob" in d["prefix"] and "job" in d["prefix"]
	acts = d["activity"]
	assert set(acts) == {"job:" + j for j in (prep, train, fail)}, acts
	for a in acts.values():
	    assert a["prov:startTime"] <= a["prov:endTime"], a
	ents = d["entity"]
	assert "blob:" + clean in ents
	for u in d["used"].values():
	    assert u["prov:activity"] in acts and u["prov:entity"] in ents, u
	for g in d["wasGeneratedBy"].values():
	    assert g["prov:entity"] in ents and g["prov:activity"] in acts, g
	# clean.txt joins the pipeline: prep generated its output entity (a specialization
	# of the content), train used that entity.
	out = "out:%s/clean.txt" % prep
	assert out in ents and "blob:" + clean in ents
	assert [g["prov:activity"] for g in d["wasGeneratedBy"].values()
	        if g["prov:entity"] == out] == ["job:" + prep], d["wasGeneratedBy"]
	assert {"prov:specificEntity": out, "prov:generalEntity": "blob:" + clean} in \
	    list(d["specializationOf"].values())
	assert any(u["prov:entity"] == out and u["prov:activity"] == "job:" + train
	           for u in d["used"].values())
	assert not any(g["prov:entity"].startswith("blob:") for g in d["wasGeneratedBy"].values())
	for w in d.get("wasAssociatedWith", {}).values():
	    assert w["prov:activity"] in acts and w["prov:agent"] in d["agent"], w
	PYEOF
'

test_expect_success 'openlineage: START then COMPLETE or FAIL per job, stable run ids' '
    make_jobs &&
    git roar export --format openlineage >ol.jsonl &&
    git roar export --format openlineage >again.jsonl &&
    test_cmp ol.jsonl again.jsonl &&
    python3 - "$PREP" "$TRAIN" "$FAIL" "$(pwd -P)" <<-\PYEOF
	import json, sys, uuid
	prep, train, fail, top = sys.argv[1:]
	events = [json.loads(l) for l in open("ol.jsonl")]
	assert len(events) == 6, len(events)
	runs = {}
	for e in events:
	    for k in ("eventType", "eventTime", "producer", "schemaURL", "run", "job", "inputs", "outputs"):
	        assert k in e, (k, e)
	    uuid.UUID(e["run"]["runId"])
	    assert e["job"]["namespace"] and e["job"]["name"], e
	    for ds in e["inputs"] + e["outputs"]:
	        assert ds["namespace"] and ds["name"], ds
	    runs.setdefault(e["run"]["runId"], []).append(e)
	assert len(runs) == 3
	ends = {}
	for rid, evs in runs.items():
	    assert [x["eventType"] for x in evs][0] == "START", evs
	    assert evs[1]["eventType"] in ("COMPLETE", "FAIL") and len(evs) == 2
	    assert evs[0]["eventTime"] <= evs[1]["eventTime"]
	    ends[evs[1]["job"]["name"]] = (evs[1]["eventType"], [o["name"] for o in evs[1]["outputs"]],
	                                   [i["name"] for i in evs[1]["inputs"]])
	assert ends["sh -c '\''tr a-z A-Z <raw.txt >clean.txt'\''"] == \
	    ("COMPLETE", [top + "/clean.txt"], [top + "/raw.txt"]), ends
	fails = [v for k, v in ends.items() if "exit 3" in k]
	assert fails and fails[0][0] == "FAIL", ends
	PYEOF
'

test_expect_success 'selection: a job, a commit, a file, a range' '
    make_jobs &&
    git roar export --format json ${TRAIN:0:8} >j &&
    python3 -c "import json; d = json.load(open(\"j\")); assert [x[\"id\"] for x in d[\"jobs\"]] == [\"$TRAIN\"], d" &&
    git roar export --format json HEAD >j &&
    python3 -c "import json; d = json.load(open(\"j\")); assert sorted(x[\"id\"] for x in d[\"jobs\"]) == sorted([\"$PREP\", \"$TRAIN\"]), d" &&
    git roar export --format json clean.txt >j &&
    python3 -c "import json; d = json.load(open(\"j\")); assert sorted(x[\"id\"] for x in d[\"jobs\"]) == sorted([\"$PREP\", \"$TRAIN\"]), d" &&
    git roar export --format json HEAD~1..HEAD >j &&
    python3 -c "import json; d = json.load(open(\"j\")); assert len(d[\"jobs\"]) == 2, d"
'

test_expect_success 'dot: jobs and contents as nodes; --format is required' '
    make_jobs &&
    git roar export --format dot >g.dot &&
    test_grep "^digraph roar {$" g.dot &&
    clean=$(sed -n "s/^  \(a[0-9]*\) \[shape=ellipse,label=\"clean.txt.*/\1/p" g.dot) &&
    test -n "$clean" &&
    test_grep "^  \"job:$PREP\" -> $clean;$" g.dot &&
    test_grep "^  $clean -> \"job:$TRAIN\";$" g.dot &&
    if command -v dot >/dev/null; then dot -Tsvg g.dot >/dev/null; fi &&
    test_expect_code 129 git roar export 2>err &&
    test_grep "format is required" err
'

test_done
