#!/bin/bash
# Strings from others' notes reach no terminal, dot file, Mermaid diagram or Markdown
# comment raw (SPEC §8, issue 16 item 3): a hostile record with ESC, BEL and C1 bytes in
# its command, cwd, tracer, host, user, env, unknown keys and paths is shown escaped by
# every query.
. "$(dirname "$0")/lib.sh"

PUT="$ROAR_BUILD_DIR/tests/cli/helpers/roar-put-job"
PY=/usr/bin/python3

# no_raw_controls FILE...: no control byte but tab and newline, no DEL, no C1 (as UTF-8
# or as a bare byte), no bidi override in any FILE.
no_raw_controls() {
    $PY - "$@" <<-\PY
	import re, sys
	bad = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]|\xe2\x80[\xaa-\xae]")
	ok = True
	for name in sys.argv[1:]:
	    data = open(name, "rb").read()
	    m = bad.search(data)
	    if m:
	        ok = False
	        print(f"{name}: raw {m.group()!r} at byte {m.start()}:", file=sys.stderr)
	        print(data[max(0, m.start() - 60):m.end() + 20], file=sys.stderr)
	sys.exit(0 if ok else 1)
	PY
}

# hostile_jobs: two pending jobs, $J1 (writes a hostile path) and $J2 (reads it), whose
# every free-text field carries terminal escapes; the unknown keys hold them raw.
hostile_jobs() {
    git commit -q --allow-empty -m "base $(printf '\033]0;summary\007')" &&
    IN=$(printf 'in\n' | git hash-object --stdin) &&
    MID=$(printf 'mid\n' | git hash-object --stdin) &&
    OUT=$(printf 'out\n' | git hash-object --stdin) &&
    J1=$({
        printf '%s\n' "command printf \$'\\033]0;pwned\\a' \$'x\\302\\233y' 'a|b\`c'" \
            'cwd .' 'dirty 0' 'tracer "pre\033[2Jload"' 'host "evil\033]0;title\007"' \
            'user "mal\007lory \302\233 <m@x>"' \
            'start 2026-01-01T00:00:00.000Z' 'end 2026-01-01T00:00:01.000Z' 'exit 0' \
            "env HOSTILE=\$'\\033[2J\\a'"
        printf 'x-evil \033[2J\007\302\233 raw\n'
        printf 'x-\033]0;key\007 value\n'
        printf '%s\n' "in $IN 3 \"in\\033[2J.txt\"" "out $MID 4 \"mid\\007\\302\\233\\033]0;x\""
    } | "$PUT" --pending) &&
    J2=$(printf '%s\n' "command sh -c \$'cat mid* \\033[31m'" 'cwd "sub\033dir"' 'dirty 0' \
        'tracer preload' 'start 2026-01-01T00:00:02.000Z' 'end 2026-01-01T00:00:03.000Z' \
        'exit 0' "in $MID 4 \"mid\\007\\302\\233\\033]0;x\"" "out $OUT 4 \"out\\033[8m\"" |
        "$PUT" --pending)
}

test_expect_success 'show JOB: host, user, tracer, env and unknown keys escaped' '
    hostile_jobs &&
    git roar show $J1 >out &&
    no_raw_controls out &&
    test_grep -F "host      \"evil\\033]0;title\\007\"" out &&
    test_grep -F "user      \"mal\\007lory \\302\\233 <m@x>\"" out &&
    test_grep -F "tracer    \"pre\\033[2Jload\"" out &&
    test_grep -F "env       HOSTILE=\$'"'"'\\033[2J\\a'"'"'" out &&
    test_grep -F "x-evil    \"\\033[2J\\007\\302\\233 raw\"" out &&
    test_grep -F "\"x-\\033]0;key\\007\" value" out &&
    test_grep -F "\$'"'"'x\\302\\233y'"'"'" out &&
    test_grep -F "\"mid\\007\\302\\233\\033]0;x\"" out &&
    git roar show $J2 >out &&
    no_raw_controls out &&
    test_grep -F "cwd       \"sub\\033dir\"" out &&
    git roar show --json $J1 >json &&
    no_raw_controls json
'

test_expect_success 'log, status, lineage text/dot/mermaid, export dot: nothing raw' '
    hostile_jobs &&
    git roar log >log &&
    test "$(wc -l <log)" = 2 &&
    git roar status >status &&
    test_grep -F "\"out\\033[8m\"" status &&
    git roar lineage $J2 >text &&
    test "$(wc -l <text)" -ge 4 &&
    git roar lineage --format dot $J2 >dot &&
    git roar lineage --format mermaid $J2 >mm &&
    git roar lineage --down --format dot $J1 >down.dot &&
    git roar export --format dot >export.dot &&
    no_raw_controls log status text dot mm down.dot export.dot &&
    test_grep -F "\\\\033]0;x" dot &&
    test_grep -F "\\\\033]0;x" export.dot &&
    test_grep -F "\\033#91;2J" mm &&
    if command -v dot >/dev/null; then
        dot -Tsvg dot >/dev/null && dot -Tsvg export.dot >/dev/null
    fi
'

test_expect_success 'review: commit summaries and code spans escaped, text and Markdown' '
    hostile_jobs &&
    git roar review HEAD >review.txt &&
    git roar review --format markdown HEAD >review.md &&
    no_raw_controls review.txt review.md &&
    test_grep -F "\"base \\033]0;summary\\007\"" review.txt &&
    test_grep -F "base \\\\033\\]0;summary\\\\007" review.md
'

test_done
