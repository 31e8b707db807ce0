#!/bin/bash
# git roar run over real Python programs (/usr/bin/python3; numpy where installed):
# np.savez is an output only, np.load an input; json.load then json.dump in place.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-run.sh"

PY=/usr/bin/python3
if ! test -f "$PRELOAD_LIB" || ! test -x "$PY"; then
    test_skip 'git roar run over python' "libroar-preload.so or $PY missing"
    test_done
fi

test_expect_success '6. json.load then json.dump to the same path: in old, out new' '
    roar_setup &&
    echo "{\"n\": 1}" >state.json &&
    old=$(edge in state.json) &&
    cat >"$TEST_DIR/bump.py" <<-\EOF &&
	import json
	with open("state.json") as f:
	    d = json.load(f)
	d["n"] += 1
	with open("state.json", "w") as f:
	    json.dump(d, f)
	EOF
    roar_run -t preload $PY "$TEST_DIR/bump.py" &&
    test_grep "\"n\": 2" state.json &&
    expect_edges <<-EOF &&
	$old
	$(edge out state.json)
	EOF
    expect_no_incomplete
'

test_expect_success '6. r+ open, read, seek, write in place: in old, out new' '
    roar_setup &&
    echo "hello world" >f &&
    old=$(edge in f) &&
    roar_run -t preload $PY -c "f = open(\"f\", \"r+\"); s = f.read(); f.seek(0); f.write(s.upper()); f.close()" &&
    echo "HELLO WORLD" >expect && test_cmp expect f &&
    expect_edges <<-EOF
	$old
	$(edge out f)
	EOF
'

if ! $PY -c "import numpy" 2>/dev/null; then
    test_skip '28. numpy savez and load' "numpy is not importable by $PY"
    test_done
fi

test_expect_success '28. np.savez: out only, even over an existing file' '
    roar_setup &&
    roar_run $PY -c "import numpy as np; np.savez(\"arrays.npz\", a=np.arange(10))" &&
    expect_edges <<-EOF &&
	$(edge out arrays.npz)
	EOF
    roar_run $PY -c "import numpy as np; np.savez(\"arrays.npz\", a=np.arange(20))" &&
    expect_edges <<-EOF
	$(edge out arrays.npz)
	EOF
'

test_expect_success '28. np.save then np.load: out, then in' '
    roar_setup &&
    roar_run $PY -c "import numpy as np; np.save(\"x.npy\", np.ones(4))" &&
    expect_edges <<-EOF &&
	$(edge out x.npy)
	EOF
    roar_run $PY -c "import numpy as np; print(np.load(\"x.npy\").sum())" >printed &&
    echo 4.0 >expect && test_cmp expect printed &&
    expect_edges <<-EOF
	$(edge in x.npy)
	$(edge out printed)
	EOF
'

test_expect_success '28. np.load of an npz, then savez of a new one: in and out' '
    roar_setup &&
    $PY -c "import numpy as np; np.savez(\"in.npz\", a=np.arange(3))" &&
    roar_run $PY -c "import numpy as np; d = np.load(\"in.npz\"); np.savez(\"out.npz\", b=d[\"a\"] * 2)" &&
    expect_edges <<-EOF &&
	$(edge in in.npz)
	$(edge out out.npz)
	EOF
    expect_no_incomplete
'

test_done
