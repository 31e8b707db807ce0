#!/bin/bash
# `git roar export` read by the ecosystem's own tools: every OpenLineage event and each
# of its facets validated against OpenLineage's official JSON schemas (python3-jsonschema,
# Draft 2020-12, every $ref resolved from the local copy, never the network), and the
# PROV-JSON document read back by python3-prov (types are qualified names, no entity
# generated twice). The schemas are ../shared/schemas/openlineage beside the project
# (ROAR_OL_SCHEMAS overrides); without them those checks are skipped, loudly.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-run.sh"

PY=/usr/bin/python3 # the Debian interpreter, which has python3-jsonschema and python3-prov
OL_SCHEMAS=${ROAR_OL_SCHEMAS:-$ROAR_SOURCE_DIR/../shared/schemas/openlineage}
if test -f "$OL_SCHEMAS/OpenLineage.json" && test -d "$OL_SCHEMAS/facets"; then
    OL_SCHEMAS=$(cd "$OL_SCHEMAS" && pwd)
else
    say "# WARNING: no OpenLineage schemas at $OL_SCHEMAS: the schema validation below is SKIPPED"
    OL_SCHEMAS=
fi

# ol_validate SCHEMAS EVENTS: validates each line of EVENTS as a RunEvent and each facet
# against the schema its _schemaURL names; prints the facet keys seen, one a line.
cat >"$TEST_ROOT/ol_validate.py" <<-\PYEOF
	import datetime, glob, json, os, sys, urllib.parse, uuid
	from jsonschema import Draft202012Validator, FormatChecker, RefResolver
	from jsonschema.exceptions import ValidationError

	schemas, events = sys.argv[1:3]
	store = {}
	for f in [os.path.join(schemas, "OpenLineage.json")] + sorted(glob.glob(os.path.join(schemas, "facets", "*.json"))):
	    d = json.load(open(f))
	    store[d["$id"]] = d
	assert len(store) > 30, "too few schema files in " + schemas

	def offline(url):
	    raise AssertionError("a $ref outside the local schemas (no network here): " + url)

	# The formats the schemas use, checked for real (jsonschema skips those whose
	# optional libraries are absent).
	fc = FormatChecker()
	@fc.checks("uri")
	def is_uri(s):
	    return bool(urllib.parse.urlsplit(s).scheme) and all(32 < ord(c) < 127 and c not in '"<>\\^`{|}' for c in s)
	@fc.checks("date-time", raises=ValueError)
	def is_date_time(s):
	    return "T" in s and datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).tzinfo is not None
	@fc.checks("uuid", raises=ValueError)
	def is_uuid(s):
	    return str(uuid.UUID(s)) == s

	def check(url, instance):
	    base = url.split("#")[0]
	    assert base in store, "not one of the official schemas: " + url
	    resolver = RefResolver(base_uri=base, referrer=store[base], store=store,
	                           handlers={"http": offline, "https": offline})
	    Draft202012Validator({"$ref": url}, resolver=resolver, format_checker=fc).validate(instance)

	seen = set()
	def check_facets(facets):
	    for key, facet in facets.items():
	        url = facet["_schemaURL"]
	        check(url, facet)
	        base = url.split("#")[0]
	        # The key is the one the facet's file defines, and the file's root accepts it.
	        assert key in store[base].get("properties", {}), (key, url)
	        check(base, {key: facet})
	        seen.add(key)

	n = 0
	for line in open(events):
	    e = json.loads(line)
	    assert e["schemaURL"] == "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent", e["schemaURL"]
	    check(e["schemaURL"], e)
	    check_facets(e["run"].get("facets", {}))
	    check_facets(e["job"].get("facets", {}))
	    for ds in e.get("inputs", []) + e.get("outputs", []):
	        for k in ("facets", "inputFacets", "outputFacets"):
	            check_facets(ds.get(k, {}))
	    n += 1
	assert n, "no events"

	# The validator is not vacuous: what the issue found wrong is refused.
	for bad_url, bad in (("https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
	                      dict(e, eventType="DONE")),
	                     ("https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
	                      dict(e, run={"runId": "not-a-uuid"})),
	                     ("https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet",
	                      {"_producer": "https://x.invalid/", "_schemaURL": "x", "message": "m"})):
	    try:
	        check(bad_url, bad)
	    except ValidationError:
	        pass
	    else:
	        raise AssertionError("accepted: %r" % (bad,))
	try:
	    check("https://openlineage.io/spec/2-0-2/OpenLineage.json#/definitions/RunEvent", e)
	except Exception:
	    pass
	else:
	    raise AssertionError("the old #/definitions/RunEvent pointer resolved")
	print("\n".join(sorted(seen)))
	print("validated %d events" % n, file=sys.stderr)
PYEOF

# make_jobs: prep writes "clean data.txt", copy copies it, prep runs again (same bytes,
# same path), train reads it, rm deletes a tracked file, then a job exits 3 and one dies
# of SIGTERM. origin's URL carries a password that no export may show.
make_jobs() {
    roar_setup &&
    git remote add origin "https://alice:s3cr3t@example.com/team/data.git" &&
    printf "raw\n" >raw.txt && printf "old\n" >scratch.txt &&
    git add raw.txt scratch.txt && git commit -q -m base &&
    BASE=$(git rev-parse HEAD) &&
    roar_run sh -c "tr a-z A-Z <raw.txt >\"clean data.txt\"" && PREP=$(record_field job) &&
    roar_run cp "clean data.txt" copy.txt && COPY=$(record_field job) &&
    roar_run sh -c "tr a-z A-Z <raw.txt >\"clean data.txt\"" && PREP2=$(record_field job) &&
    roar_run sh -c "cat \"clean data.txt\" >model.txt" && TRAIN=$(record_field job) &&
    roar_run rm scratch.txt && RM=$(record_field job) &&
    { roar_run sh -c "cat model.txt >/dev/null; exit 3"; test $? = 3; } && FAIL=$(record_field job) &&
    { roar_run sh -c "kill -TERM \$\$"; test $? = 143; } && KILLED=$(record_field job) &&
    CLEAN=$(git hash-object "clean data.txt")
}

if test -n "$OL_SCHEMAS"; then
    test_expect_success 'openlineage: every event and facet valid per the official schemas' '
        make_jobs &&
        git roar export --format openlineage >ol.jsonl &&
        $PY "$TEST_ROOT/ol_validate.py" "$OL_SCHEMAS" ol.jsonl >facets &&
        printf "%s\n" errorMessage jobType lifecycleStateChange sourceCodeLocation version >expect &&
        test_cmp expect facets &&
        git config roar.namespace team-a &&
        git roar export --format openlineage >ol2.jsonl &&
        $PY "$TEST_ROOT/ol_validate.py" "$OL_SCHEMAS" ol2.jsonl
    '
else
    test_skip 'openlineage: every event and facet valid per the official schemas' \
        "no OpenLineage schemas at ${ROAR_OL_SCHEMAS:-$ROAR_SOURCE_DIR/../shared/schemas/openlineage}"
fi

test_expect_success 'openlineage: file datasets, job namespace, git source, error facet' '
    make_jobs &&
    git roar export --format openlineage >ol.jsonl &&
    ! grep s3cr3t ol.jsonl &&
    git config roar.namespace team-a &&
    git roar export --format openlineage >named.jsonl &&
    $PY - "$(pwd -P)" "$BASE" "$PREP" "$RM" "$FAIL" "$KILLED" <<-\PYEOF
	import json, sys
	top, base, prep, rm, fail, killed = sys.argv[1:]
	def load(f):
	    return [json.loads(l) for l in open(f)]
	events, named = load("ol.jsonl"), load("named.jsonl")
	assert len(events) == 14, len(events)
	def run_of(evs, cmd_part):
	    return [e for e in evs if cmd_part in e["job"]["name"]]
	for e in events:
	    assert e["job"]["namespace"] == "https://example.com/team/data.git", e["job"]
	    src = e["job"]["facets"]["sourceCodeLocation"]
	    assert src["type"] == "git" and src["url"] == "https://example.com/team/data.git", src
	    assert src["version"] == base, src
	    for ds in e["inputs"] + e["outputs"]:
	        assert ds["namespace"] == "file" and ds["name"].startswith("/"), ds
	    if e["eventType"] == "START":
	        assert e["outputs"] == [] and "errorMessage" not in e["run"]["facets"], e
	prep_end = [e for e in run_of(events, "tr a-z A-Z") if e["eventType"] == "COMPLETE"][0]
	assert [d["name"] for d in prep_end["outputs"]] == [top + "/clean data.txt"], prep_end
	assert [d["name"] for d in prep_end["inputs"]] == [top + "/raw.txt"], prep_end
	rm_end = [e for e in run_of(events, "rm scratch.txt") if e["eventType"] == "COMPLETE"][0]
	assert rm_end["outputs"] == [dict(rm_end["outputs"][0], name=top + "/scratch.txt")], rm_end
	assert rm_end["outputs"][0]["facets"]["lifecycleStateChange"]["lifecycleStateChange"] == "DROP"
	ends = {e["job"]["name"]: e for e in events if e["eventType"] != "START"}
	f = ends["sh -c '\''cat model.txt >/dev/null; exit 3'\''"]
	assert f["eventType"] == "FAIL", f
	assert f["run"]["facets"]["errorMessage"]["message"] == "exit status 3", f["run"]
	k = ends["sh -c '\''kill -TERM $$'\''"]
	assert k["eventType"] == "FAIL", k
	assert k["run"]["facets"]["errorMessage"]["message"].startswith("killed by signal 15"), k["run"]
	assert all("errorMessage" not in e["run"]["facets"] for e in events if e["eventType"] == "COMPLETE")
	# roar.namespace renames the jobs, never the datasets.
	assert len(named) == len(events)
	for a, b in zip(events, named):
	    assert b["job"]["namespace"] == "team-a", b["job"]
	    assert a["inputs"] == b["inputs"] and a["outputs"] == b["outputs"]
	PYEOF
'

test_expect_success 'openlineage: a remote in scp form, a local path, none at all' '
    make_jobs &&
    git remote set-url origin "git@example.com:team/data.git" &&
    git roar export --format openlineage $PREP >ol.jsonl &&
    git remote set-url origin "https://example.com/data.git?private_token=s3cr3t" &&
    git roar export --format openlineage $PREP >query.jsonl &&
    ! grep s3cr3t query.jsonl &&
    test_grep "private_token=\*\*\*" query.jsonl &&
    mkdir "$TEST_DIR/up #1" &&
    git remote set-url origin "../up #1" &&
    git roar export --format openlineage $PREP >local.jsonl &&
    git remote remove origin &&
    git roar export --format openlineage $PREP >none.jsonl &&
    $PY - "$(pwd -P)" "$(cd "$TEST_DIR" && pwd -P)" <<-\PYEOF
	import json, os, sys
	top, tdir = sys.argv[1:]
	e = json.loads(open("local.jsonl").readline())
	src = e["job"]["facets"]["sourceCodeLocation"]
	assert src["repoUrl"] == tdir + "/up #1", src
	assert src["url"] == "file://" + tdir + "/up%20%231", src
	assert e["job"]["namespace"] == tdir + "/up #1", e["job"]
	e = json.loads(open("ol.jsonl").readline())
	assert e["job"]["namespace"] == "example.com:team/data.git", e["job"]
	src = e["job"]["facets"]["sourceCodeLocation"]
	assert src["url"] == "ssh://example.com/team/data.git" and src["repoUrl"] == "example.com:team/data.git", src
	e = json.loads(open("none.jsonl").readline())
	assert e["job"]["namespace"] == os.path.basename(top), e["job"]
	src = e["job"]["facets"]["sourceCodeLocation"]
	assert src["url"] == "file://" + top and "repoUrl" not in src, src
	PYEOF
'

test_expect_success 'prov-json: python3-prov reads it; qualified-name types; one generation each' '
    make_jobs &&
    git roar export --format prov-json >prov.json &&
    ! grep s3cr3t prov.json &&
    $PY - "$PREP" "$COPY" "$PREP2" "$TRAIN" "$CLEAN" <<-\PYEOF
	import collections, json, sys
	from prov.constants import (PROV_ATTR_ACTIVITY, PROV_ATTR_ENTITY, PROV_ATTR_GENERAL_ENTITY,
	                            PROV_ATTR_SPECIFIC_ENTITY, PROV_TYPE)
	from prov.identifier import QualifiedName
	from prov.model import (ProvActivity, ProvAgent, ProvDocument, ProvEntity, ProvGeneration,
	                        ProvSpecialization, ProvUsage)
	prep, copy, prep2, train, clean = sys.argv[1:]
	doc = ProvDocument.deserialize(content=open("prov.json").read(), format="json")
	def one(rec, attr):
	    (v,) = rec.get_attribute(attr)
	    return str(v)
	# Every prov:type is a QualifiedName, not an xsd:string literal.
	n = collections.Counter()
	for cls in (ProvEntity, ProvActivity, ProvAgent):
	    for r in doc.get_records(cls):
	        types = r.get_attribute(PROV_TYPE)
	        assert types and all(isinstance(t, QualifiedName) for t in types), (r, types)
	        n[cls.__name__] += 1
	assert n["ProvActivity"] == 7 and n["ProvAgent"] == 1, n
	assert {str(t) for r in doc.get_records(ProvEntity) for t in r.get_attribute(PROV_TYPE)} == \
	    {"roar:file", "roar:blob"}
	# At most one generation per entity (PROV-CONSTRAINTS), and none of a content.
	gens = collections.Counter(one(g, PROV_ATTR_ENTITY) for g in doc.get_records(ProvGeneration))
	assert gens and max(gens.values()) == 1, gens
	assert not any(e.startswith("blob:") for e in gens), gens
	# Each output, generated once by its job, is a specialization of its content.
	out = lambda job, path: "out:%s/%s" % (job, path.replace(" ", "%20"))
	spec = {one(s, PROV_ATTR_SPECIFIC_ENTITY): one(s, PROV_ATTR_GENERAL_ENTITY)
	        for s in doc.get_records(ProvSpecialization)}
	for job, path in ((prep, "clean data.txt"), (copy, "copy.txt"), (prep2, "clean data.txt")):
	    assert gens[out(job, path)] == 1, (job, path)
	    assert spec[out(job, path)] == "blob:" + clean, spec
	# used: the output of the producer where a job of the document wrote that path with
	# that content (the latest before the reader started), else the content.
	used = {(one(u, PROV_ATTR_ACTIVITY), one(u, PROV_ATTR_ENTITY)) for u in doc.get_records(ProvUsage)}
	assert ("job:" + copy, out(prep, "clean data.txt")) in used, used
	assert ("job:" + train, out(prep2, "clean data.txt")) in used, used
	assert not any(a == "job:" + train and e == out(prep, "clean data.txt") for a, e in used)
	assert any(a == "job:" + prep and e.startswith("blob:") for a, e in used), used
	# Every relation names a declared element.
	ids = {str(r.identifier) for r in doc.get_records() if r.is_element()}
	for a, e in used:
	    assert a in ids and e in ids, (a, e)
	# The document serializes again (PROV-N too).
	doc.get_provn()
	doc.serialize(format="json")
	PYEOF
'

test_expect_success 'prov-json: a single job names its input contents, declared' '
    make_jobs &&
    git roar export --format prov-json $TRAIN >one.json &&
    $PY - "$TRAIN" "$CLEAN" <<-\PYEOF
	import json, sys
	from prov.model import ProvDocument
	train, clean = sys.argv[1:]
	d = json.load(open("one.json"))
	ProvDocument.deserialize(content=json.dumps(d), format="json")
	assert list(d["activity"]) == ["job:" + train], d["activity"]
	# Its producer is not in the document: used names the content itself.
	assert [u["prov:entity"] for u in d["used"].values()] == ["blob:" + clean], d["used"]
	assert "blob:" + clean in d["entity"]
	PYEOF
'

test_done
