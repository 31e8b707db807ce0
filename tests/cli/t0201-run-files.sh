#!/bin/bash
# SPEC §4.4-§4.6 through real programs under the real shim: one syscall pattern per
# fixture (tests/trace/fx_*), the exact in/out/del lines each job must hold.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-run.sh"

if ! test -f "$PRELOAD_LIB"; then
    test_skip 'git roar run' "libroar-preload.so not built"
    test_done
fi

test_expect_success '1. open RDONLY + read: in' '
    roar_setup &&
    echo "some input" >in &&
    roar_run "$(fx read)" &&
    expect_edges <<-EOF &&
	$(edge in in)
	EOF
    expect_no_incomplete
'

test_expect_success '2. O_WRONLY|O_CREAT|O_TRUNC + write: out' '
    roar_setup &&
    roar_run "$(fx write_trunc)" &&
    expect_edges <<-EOF
	$(edge out out)
	EOF
'

test_expect_success '2b. the same over an existing file: out only, the old content no input' '
    roar_setup &&
    echo "old content" >out &&
    roar_run "$(fx write_trunc)" &&
    expect_edges <<-EOF
	$(edge out out)
	EOF
'

test_expect_success '3. O_RDWR|O_CREAT|O_TRUNC + write (np.savez): out only, never in' '
    roar_setup &&
    echo "previous" >out &&
    roar_run "$(fx rdwr_creat_trunc)" &&
    expect_edges <<-EOF
	$(edge out out)
	EOF
'

test_expect_success '4. O_RDWR|O_TRUNC then read(): out only' '
    roar_setup &&
    echo "will be emptied" >f &&
    roar_run "$(fx rdwr_trunc_read)" &&
    test_must_be_empty f &&
    expect_edges <<-EOF
	$(edge out f)
	EOF
'

test_expect_success '5. O_RDWR|O_TRUNC then mmap(PROT_READ): out only' '
    roar_setup &&
    echo "will be emptied" >f &&
    roar_run "$(fx rdwr_trunc_mmap)" &&
    test $(size f) = 4096 &&
    expect_edges <<-EOF
	$(edge out f)
	EOF
'

test_expect_success '6. O_RDWR, read, then at once write in place: in = old id, out = new id' '
    roar_setup &&
    echo "abcdef" >f &&
    old=$(edge in f) &&
    roar_run -t preload "$(fx rdwr_inplace)" &&
    echo "Xbcdef" >expect && test_cmp expect f &&
    expect_edges <<-EOF &&
	$old
	$(edge out f)
	EOF
    expect_no_incomplete
'

test_expect_success '6. the same on a large file: still the old id, never the new' '
    roar_setup &&
    head -c 20000000 /dev/zero | tr "\0" a >f &&
    old=$(edge in f) &&
    roar_run -t preload "$(fx rdwr_inplace)" &&
    expect_edges <<-EOF
	$old
	$(edge out f)
	EOF
'

test_expect_success '8. write temp + rename over the final name: out = final only' '
    roar_setup &&
    echo "old final" >final &&
    roar_run "$(fx rename)" &&
    expect_edges <<-EOF
	$(edge out final)
	EOF
'

test_expect_success '9. write temp + link + unlink temp: out = final' '
    roar_setup &&
    roar_run "$(fx link)" &&
    expect_edges <<-EOF
	$(edge out final)
	EOF
'

test_expect_success '10. create + unlink: nothing recorded' '
    roar_setup &&
    roar_run "$(fx create_unlink)" &&
    ! test -e scratch &&
    expect_edges </dev/null
'

test_expect_success '11. unlink a pre-existing file: del' '
    roar_setup &&
    echo "doomed" >gone && mkdir d && echo x >d/also &&
    roar_run rm gone d/also &&
    expect_edges <<-EOF
	del d/also
	del gone
	EOF
'

test_expect_success '12. read A, close, pipe() reuses the number, write the pipe: A only in' '
    roar_setup &&
    echo "input" >in &&
    # the fixture expects fd 3 to be the lowest free number
    roar_run "$(fx pipe_reuse)" 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &&
    expect_edges <<-EOF
	$(edge in in)
	EOF
'

test_expect_success '12. the same with fopen/fclose, socket() and socketpair()' '
    roar_setup &&
    echo "input" >in &&
    roar_run "$(fx fopen_reuse)" &&
    expect_edges <<-EOF
	$(edge in in)
	EOF
'

test_expect_success '13. dup2 onto a closed number, then write: the right file' '
    roar_setup &&
    roar_run "$(fx dup2)" &&
    expect_edges <<-EOF
	$(edge out out)
	EOF
'

test_expect_success '19. fopen r: in; fopen w: out; fopen a + write on an existing file: in (old) and out' '
    roar_setup &&
    echo "read me" >in && echo "appended to" >app &&
    in_app=$(edge in app) &&
    roar_run -t preload "$(fx fopen)" &&
    expect_edges <<-EOF
	$in_app
	$(edge in in)
	$(edge out app)
	$(edge out out)
	EOF
'

test_expect_success '19. mkstemp + write + rename over a tracked file: out, old content no input' '
    roar_setup &&
    echo "tracked v1" >target && git add target && git commit -qm v1 &&
    roar_run "$(fx mkstemp_rename)" &&
    echo fresh >expect && test_cmp expect target &&
    expect_edges <<-EOF
	$(edge out target)
	EOF
'

test_expect_success '19. sed -i (temp file + rename) reads and replaces: in old, out new' '
    roar_setup &&
    printf "one\ntwo\n" >f &&
    old=$(edge in f) &&
    roar_run -t preload sed -i s/one/ONE/ f &&
    expect_edges <<-EOF
	$old
	$(edge out f)
	EOF
'

test_expect_success '20. zero-byte write to an untouched file: not an output' '
    roar_setup &&
    echo "keep" >f &&
    roar_run "$(fx zero_write)" &&
    expect_edges </dev/null
'

test_expect_success '20. ": > f" on a non-empty file: out (empty)' '
    roar_setup &&
    echo "not empty" >f &&
    roar_run sh -c ": > f" &&
    test_must_be_empty f &&
    expect_edges <<-EOF
	$(edge out f)
	EOF
'

test_expect_success '20. touch of an existing file: nothing' '
    roar_setup &&
    echo "x" >f &&
    roar_run -t preload touch f &&
    expect_edges </dev/null
'

test_expect_success '24. sendfile: in and out' '
    roar_setup &&
    head -c 70000 /dev/urandom >in &&
    roar_run "$(fx sendfile)" &&
    test_cmp in out &&
    expect_edges <<-EOF
	$(edge in in)
	$(edge out out)
	EOF
'

test_expect_success '7. mmap PROT_WRITE|MAP_SHARED: in (old) and out (new)' '
    roar_setup &&
    printf "abcd" >f && head -c 8192 /dev/zero >>f &&
    old=$(edge in f) &&
    roar_run -t preload "$(fx mmap)" &&
    expect_edges <<-EOF
	$old
	$(edge out f)
	EOF
'

test_expect_success '17/18. openat with a dirfd, chdir then a relative open: the right paths' '
    roar_setup &&
    mkdir sub && echo x >sub/x &&
    roar_run "$(fx openat)" &&
    expect_edges <<-EOF &&
	$(edge in sub/x)
	EOF
    roar_run "$(fx chdir)" &&
    expect_edges <<-EOF
	$(edge in sub/x)
	EOF
'

test_done
