#!/bin/bash
# A version manager's own shims, scripts and state are not inputs (SPEC §4.8, issue 17
# item 6; docs/filters.md "Version managers"): a python run through pyenv records the
# interpreter and the script's files, not pyenv's libexec, shims, plugins or `version`.
# The user's files stay: a .python-version (or .ruby-version, .tool-versions, .nvmrc)
# in the work tree selects the interpreter and is an input, and so is a data file
# beside a manager's root. Under both tracers.
#
# The real pyenv of this machine, when python3 is its shim; rbenv, nodenv, asdf, nvm and
# conda as fake install trees. Those must lie outside /tmp (filtered by default, which
# would make the test prove nothing): the script runs in its own mount namespace with a
# tmpfs on /mnt, seen by no other process.
if test -z "${ROAR_VM_NS:-}" && test "$(id -u)" = 0 && test -d /mnt &&
    unshare -m true 2>/dev/null; then
    ROAR_VM_NS=1 exec unshare -m bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-run.sh"

require_preload 'git roar run: version managers'
tracers=preload
if ebpf_usable; then
    tracers="preload ebpf"
else
    test_skip 'version managers under -t ebpf' "the eBPF tracer cannot run here: $ebpf_why"
fi

# expect_ins_outs IN_PATH... -- OUT_PATH...: the record's edges are exactly these, with
# the files' current ids (ins in record order: sorted by path).
expect_ins_outs() {
    local ins=
    while test "$1" != --; do ins="$ins$(edge in "$1")
"; shift; done
    shift
    {
        printf '%s' "$ins" | sort -t ' ' -k 4
        for p in "$@"; do edge out "$p"; done
    } | expect_edges
}

# ---- the real pyenv ------------------------------------------------------------------
shim=$(command -v python3 2>/dev/null)
case $shim in
*/shims/python3) pyroot=$(cd "${shim%/shims/python3}" && pwd -P) ;;
*) pyroot= ;;
esac
pyver=
if test -n "$pyroot"; then
    pyver=$(cd / && python3 -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null)
    test -d "$pyroot/versions/$pyver" || pyver=
fi

if test -z "$pyver"; then
    test_skip 'python3 through the pyenv shim' "python3 is not a pyenv shim here ($shim)"
else
    for tracer in $tracers; do
        test_expect_success "pyenv shim, -t $tracer: pyenv's own files are not inputs" '
            echo "$pyver" >.python-version && echo data >a.txt &&
            roar_run -t '"$tracer"' python3 -c "open(\"b.txt\", \"w\").write(open(\"a.txt\").read())" &&
            cat "$TEST_DIR/rec" &&
            test_cmp a.txt b.txt &&
            test_grep "^in [0-9a-f]* [0-9]* \.python-version$" "$TEST_DIR/rec" &&
            test_grep "^in $(oid a.txt) 5 a.txt$" "$TEST_DIR/rec" &&
            test_grep "^out $(oid b.txt) 5 b.txt$" "$TEST_DIR/rec" &&
            test_grep -v -E "^in .* $pyroot/(shims|libexec|plugins|pyenv\.d|bin)/" "$TEST_DIR/rec" &&
            test_grep -v -E "^in .* $pyroot/version$" "$TEST_DIR/rec" &&
            # what is left of the root is the interpreter itself
            { grep "^in .* $pyroot/" "$TEST_DIR/rec" |
                grep -v -E " $pyroot/versions/$pyver/bin/python[0-9.]*$" >others || :; } &&
            test_must_be_empty others &&
            expect_no_incomplete
        '
    done
fi

# ---- fake managers ---------------------------------------------------------------------
if test -z "${ROAR_VM_NS:-}" || ! mount -t tmpfs roar-vm /mnt 2>/dev/null; then
    test_skip 'fake rbenv, nodenv, asdf, nvm and conda trees' \
        'needs root and a private mount namespace (unshare -m) for a tmpfs on /mnt'
    test_done
fi
VMHOME=/mnt/home
mkdir -p "$VMHOME"
echo "beside the managers" >"$VMHOME/data.txt"

# A stand-in interpreter: copies $1 to $2, as a real one would run a script.
stand_in() {
    mkdir -p "$(dirname "$1")" &&
    printf '#!/bin/sh\ncat "$1" >"$2"\n' >"$1" && chmod +x "$1"
}

# shim_manager NAME PROG: a ~/.NAME root as pyenv, rbenv and nodenv lay theirs out: a
# shim that execs libexec/NAME, which reads the work tree's .PROG-version or the root's
# `version`, sources its exec hooks and execs versions/<v>/bin/PROG.
shim_manager() {
    local root="$VMHOME/.$1"
    mkdir -p "$root/shims" "$root/libexec" "$root/$1.d/exec" "$root/plugins/x/bin" &&
    echo 1.0 >"$root/version" && echo ": hook" >"$root/$1.d/exec/rehash.bash" &&
    cat >"$root/shims/$2" <<-EOF &&
	#!/bin/sh
	exec "$root/libexec/$1" exec $2 "\$@"
	EOF
    cat >"$root/libexec/$1" <<-EOF &&
	#!/bin/sh
	shift; prog=\$1; shift
	if test -f .$2-version; then v=\$(cat .$2-version); else v=\$(cat "$root/version"); fi
	for h in "$root"/$1.d/exec/*.bash; do . "\$h"; done
	exec "$root/versions/\$v/bin/\$prog" "\$@"
	EOF
    chmod +x "$root/shims/$2" "$root/libexec/$1" &&
    stand_in "$root/versions/1.0/bin/$2"
}

shim_manager rbenv ruby
shim_manager nodenv node

# asdf: ~/.asdf/shims/<prog> execs bin/asdf, which reads .tool-versions, sources the
# plugin's exec-env and execs installs/<plugin>/<v>/bin/<prog>.
mkdir -p "$VMHOME/.asdf/shims" "$VMHOME/.asdf/bin" "$VMHOME/.asdf/plugins/python/bin"
cat >"$VMHOME/.asdf/shims/python" <<EOF
#!/bin/sh
# asdf-plugin: python 3.11.0
exec "$VMHOME/.asdf/bin/asdf" exec python "\$@"
EOF
cat >"$VMHOME/.asdf/bin/asdf" <<EOF
#!/bin/sh
shift; prog=\$1; shift
v=\$(sed -n 's/^python //p' .tool-versions)
. "$VMHOME/.asdf/plugins/python/bin/exec-env"
exec "$VMHOME/.asdf/installs/python/\$v/bin/\$prog" "\$@"
EOF
echo ": exec-env" >"$VMHOME/.asdf/plugins/python/bin/exec-env"
chmod +x "$VMHOME/.asdf/shims/python" "$VMHOME/.asdf/bin/asdf"
stand_in "$VMHOME/.asdf/installs/python/3.11.0/bin/python"

# nvm: a shell function from nvm.sh, sourced, that reads .nvmrc (or alias/default) and
# puts versions/node/<v>/bin first on PATH.
mkdir -p "$VMHOME/.nvm/alias"
echo v20.1.0 >"$VMHOME/.nvm/alias/default"
cat >"$VMHOME/.nvm/nvm.sh" <<EOF
nvm_use() {
    if test -f .nvmrc; then v=\$(cat .nvmrc); else v=\$(cat "$VMHOME/.nvm/alias/default"); fi
    PATH="$VMHOME/.nvm/versions/node/\$v/bin:\$PATH"
}
EOF
stand_in "$VMHOME/.nvm/versions/node/v20.1.0/bin/node"

# conda: a base and an environment, activated by sourcing conda.sh and the environment's
# activate.d scripts, as `conda activate` and `conda run` do.
C=$VMHOME/miniconda3
mkdir -p "$C/conda-meta" "$C/etc/profile.d" "$C/condabin" "$C/envs/e/conda-meta" \
    "$C/envs/e/etc/conda/activate.d"
echo '{}' >"$C/conda-meta/history"
echo '{}' >"$C/envs/e/conda-meta/history"
echo "CONDA_EXE=$C/bin/conda" >"$C/etc/profile.d/conda.sh"
echo "CONDA_PREFIX=$C/envs/e; cat $C/envs/e/conda-meta/history >/dev/null" \
    >"$C/envs/e/etc/conda/activate.d/env.sh"
stand_in "$C/envs/e/bin/python"

# One job per tracer runs every fake manager, each the way its users do: rbenv and
# nodenv through their shims (rbenv with the work tree's .ruby-version, nodenv with the
# root's `version`), asdf through its shim with the work tree's .tool-versions, nvm
# sourced then `node` with the work tree's .nvmrc, conda's conda.sh and activate.d
# sourced then the environment's python; and a data file beside the roots is read.
for tracer in $tracers; do
    test_expect_success "rbenv, nodenv, asdf, nvm, conda, -t $tracer: only the interpreters and the user's files" '
        echo 1.0 >.ruby-version && echo "python 3.11.0" >.tool-versions &&
        echo v20.1.0 >.nvmrc && echo data >a.txt &&
        roar_run -t '"$tracer"' bash -c "
            \"$VMHOME/.rbenv/shims/ruby\" a.txt rb.txt &&
            \"$VMHOME/.nodenv/shims/node\" a.txt nd.txt &&
            \"$VMHOME/.asdf/shims/python\" a.txt as.txt &&
            . \"$VMHOME/.nvm/nvm.sh\" && nvm_use && cat \"$VMHOME/.nvm/alias/default\" >/dev/null &&
            node a.txt nv.txt &&
            . \"$C/etc/profile.d/conda.sh\" && . \"$C/envs/e/etc/conda/activate.d/env.sh\" &&
            \"$C/envs/e/bin/python\" a.txt co.txt &&
            cat \"$VMHOME/data.txt\" >da.txt" &&
        cat "$TEST_DIR/rec" &&
        expect_ins_outs .ruby-version .tool-versions .nvmrc a.txt "$VMHOME/data.txt" \
            "$VMHOME/.rbenv/versions/1.0/bin/ruby" "$VMHOME/.nodenv/versions/1.0/bin/node" \
            "$VMHOME/.asdf/installs/python/3.11.0/bin/python" \
            "$VMHOME/.nvm/versions/node/v20.1.0/bin/node" "$C/envs/e/bin/python" \
            -- as.txt co.txt da.txt nd.txt nv.txt rb.txt &&
        expect_no_incomplete
    '
done

test_expect_success 'a job that runs no manager but reads beside one keeps its data' '
    roar_run -t preload cat "$VMHOME/data.txt" >c.txt &&
    expect_ins_outs "$VMHOME/data.txt" -- c.txt
'

umount /mnt
test_done
