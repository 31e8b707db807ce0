#!/bin/bash
# git roar run with awkward names: paths with spaces, newlines and bytes that are not
# UTF-8, a repository and a preload library under a path with a space and a colon, and
# the user's own LD_PRELOAD, which must keep working.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-run.sh"

if ! test -f "$PRELOAD_LIB"; then
    test_skip 'git roar run' "libroar-preload.so not built"
    test_done
fi

test_expect_success '25. a path with spaces: raw in the record' '
    roar_setup &&
    echo "spaced" >"with space" &&
    roar_run cp "with space" "out put" &&
    expect_edges <<-EOF
	$(edge in "with space")
	$(edge out "out put")
	EOF
'

test_expect_success '25. a path with a newline and one with a leading space: C-quoted' '
    roar_setup &&
    nl="new
line" &&
    echo "n" >"$nl" &&
    roar_run cp "$nl" " lead" &&
    expect_edges <<-EOF
	in $(oid "$nl") 2 "new\nline"
	out $(oid " lead") 2 " lead"
	EOF
'

test_expect_success '25. non-UTF-8 bytes in a name: octal escapes; the argv in $'"'"'...'"'"'' '
    roar_setup &&
    bad=$(printf "caf\351") &&
    echo "latin1" >"$bad" &&
    roar_run cat "$bad" &&
    expect_edges <<-EOF &&
	in $(oid "$bad") 7 "caf\351"
	EOF
    test "$(record_field command)" = "cat \$'"'"'caf\\351'"'"'"
'

test_expect_success '25. valid UTF-8 stays raw' '
    roar_setup &&
    echo "u" >"données.csv" &&
    roar_run cat "données.csv" &&
    expect_edges <<-EOF
	$(edge in "données.csv")
	EOF
'

test_expect_success '35. a repository whose path has a space and a colon' '
    top="$TEST_DIR/my repo:1" &&
    git init -q "$top" && cd "$top" &&
    roar_setup &&
    echo "in" >in &&
    roar_run sh -c "cat in >out" &&
    expect_edges <<-EOF
	$(edge in in)
	$(edge out out)
	EOF
'

test_expect_success '35. a preload library under a path with a space and a colon' '
    roar_setup &&
    inst="$TEST_DIR/inst dir:x" &&
    mkdir -p "$inst/bin" "$inst/lib/roar" &&
    cp "$ROAR_BUILD_DIR/git-roar" "$inst/bin/" &&
    cp "$PRELOAD_LIB" "$inst/lib/roar/" &&
    echo "x" >in &&
    "$inst/bin/git-roar" run sh -c "cat in | cat >out" 2>err &&
    f=$(ls .git/roar/pending/) &&
    grep -E "^(in|out) " ".git/roar/pending/$f" >actual &&
    cat >expect <<-EOF &&
	$(edge in in)
	$(edge out out)
	EOF
    test_cmp expect actual &&
    test_grep -v "ld.so\|ERROR" err
'

test_expect_success '35. without the library next to git-roar: fatal, naming where it looked' '
    inst="$TEST_DIR/bare" &&
    mkdir -p "$inst/bin" &&
    cp "$ROAR_BUILD_DIR/git-roar" "$inst/bin/" &&
    test_expect_code 128 "$inst/bin/git-roar" run -t preload true 2>err &&
    test_grep "fatal: cannot find the preload library: .*$inst/bin/lib/roar/libroar-preload.so" err
'

test_expect_success '35. the user'"'"'s own LD_PRELOAD still loads, and tracing works' '
    if ! command -v cc >/dev/null; then echo "# no C compiler: not checked"; exit 0; fi &&
    roar_setup &&
    cat >"$TEST_DIR/mine.c" <<-\EOF &&
	#include <fcntl.h>
	#include <stdlib.h>
	#include <unistd.h>
	__attribute__((constructor)) static void mine(void)
	{
	    const char *p = getenv("MINE_MARK");
	    int fd;
	    if (p && (fd = open(p, O_WRONLY | O_CREAT | O_APPEND, 0644)) >= 0) {
	        (void)write(fd, "loaded\n", 7);
	        close(fd);
	    }
	}
	EOF
    cc -shared -fPIC -o "$TEST_DIR/libmine.so" "$TEST_DIR/mine.c" &&
    echo "x" >in &&
    MINE_MARK="$TEST_DIR/mark" LD_PRELOAD="$TEST_DIR/libmine.so" roar_run sh -c "cat in >out" &&
    test -s "$TEST_DIR/mark" &&
    expect_edges <<-EOF
	$(edge in in)
	$(edge out out)
	EOF
'

test_done
