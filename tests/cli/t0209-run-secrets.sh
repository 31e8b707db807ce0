#!/bin/bash
# git roar run and secrets (SPEC §8): every form is redacted in the record, the notes
# and a --commit message, wherever it stands; the command still gets the real value;
# run says how many it redacted; reproduce refuses what was redacted.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-run.sh"
. "$(dirname "$0")/lib-queries.sh"

require_preload 'git roar run (secrets)'

GHP=ghp_0123456789abcdefABCDEF0123456789abcd

# no_secret FILE...: none of the secret strings these tests use is in FILE.
no_secret() {
    ! grep -E "hunter2|s3kr1t|xyzzy|pw0rd|$GHP|AKIAIOSFODNN7EXAMPLE|tok3n" "$@"
}

test_expect_success 'the command gets the real value; the record has *** and says how many' '
    roar_setup &&
    roar_run -t preload sh -c "echo \"\$0\" >out.txt" --password=hunter2 &&
    echo --password=hunter2 >expect &&
    test_cmp expect out.txt &&
    test "$(record_field command)" = "sh -c '"'"'echo \"\$0\" >out.txt'"'"' '"'"'--password=***'"'"'" &&
    no_secret "$TEST_DIR/rec" &&
    test_grep -x "roar: redacted 1 secret value from the record" "$TEST_DIR/err"
'

test_expect_success 'every form of the issue, in argv and inside a sh -c string' '
    roar_setup &&
    roar_run -t preload sh -c "
        : mysql --password=hunter2 prod; : -pxyzzy;
        : curl -u admin:pw0rd -H \"Authorization: Bearer tok3n\" \"https://h/x?token=s3kr1t&n=1\";
        : x admin:hunter2@db.example.com:/backups $GHP; echo \"\$@\" >args.txt" sh \
        --passwd=hunter2 --pass=xyzzy --pwd=pw0rd --auth=tok3n --credentials=s3kr1t \
        -u admin:pw0rd -H "Authorization: Bearer tok3n" admin:pw0rd@host:/x \
        "https://h/y?page=2&access_token=s3kr1t" $GHP AKIAIOSFODNN7EXAMPLE \
        --token xyzzy mysql -phunter2 &&
    no_secret "$TEST_DIR/rec" &&
    test_grep "hunter2" args.txt && test_grep "$GHP" args.txt &&
    cmd=$(record_field command) &&
    for want in "--passwd=***" "--pass=***" "--pwd=***" "--auth=***" "--credentials=***" \
        "admin:***" "Authorization: ***" "admin:***@host:/x" "access_token=***" \
        "--token '"'"'***'"'"'" "-p***" "mysql --password=*** prod" "-u admin:*** -H" \
        "?token=***&n=1" "admin:***@db.example.com:/backups"
    do
        case "$cmd" in *"$want"*) ;; *) echo "missing: $want in $cmd"; false ;; esac || return 1
    done &&
    test_grep -x "roar: redacted 20 secret values from the record" "$TEST_DIR/err"
'

test_expect_success 'ordinary arguments are recorded as typed, and nothing is said' '
    roar_setup &&
    roar_run -t preload sh -c "true" sh keyboard.csv --out=models/keys.csv --key-file k.pem \
        git@github.com:org/repo.git https://example.com/a?page=2 -u alice -p 8080 &&
    test "$(record_field command)" = "sh -c true sh keyboard.csv --out=models/keys.csv --key-file k.pem git@github.com:org/repo.git '"'"'https://example.com/a?page=2'"'"' -u alice -p 8080" &&
    test_grep -v redacted "$TEST_DIR/err"
'

test_expect_success 'roar.env: secret-looking names keep the name, never the value' '
    roar_setup &&
    git config roar.env API_PASS &&
    git config --add roar.env GITHUB_PAT &&
    git config --add roar.env DATA_URL &&
    git config --add roar.env PLAIN &&
    git config --add roar.env TAG &&
    API_PASS=hunter2 GITHUB_PAT=xyzzy DATA_URL="https://u:pw0rd@h/d" PLAIN=1 TAG=$GHP \
        roar_run -t preload sh -c "echo \"\$API_PASS\" >env.txt" &&
    echo hunter2 >expect && test_cmp expect env.txt &&
    grep "^env " "$TEST_DIR/rec" >actual &&
    cat >expect <<-\EOF &&
	env API_PASS='"'"'***'"'"'
	env GITHUB_PAT='"'"'***'"'"'
	env DATA_URL='"'"'https://u:***@h/d'"'"'
	env PLAIN=1
	env TAG='"'"'***'"'"'
	EOF
    test_cmp expect actual &&
    no_secret "$TEST_DIR/rec" &&
    test_grep -x "roar: redacted 4 secret values from the record" "$TEST_DIR/err"
'

test_expect_success 'the notes that get pushed hold no secret' '
    roar_setup &&
    echo x >in && git add in && git commit -qm base &&
    git roar init -q &&
    git roar run -t preload -q sh -c "cat in >out; : --token=hunter2 -u a:xyzzy" &&
    git add out && git commit -qm out &&
    git roar attach -q &&
    git notes --ref=roar list >notes && test -s notes &&
    git log --notes=roar --format=%N -1 >note &&
    test_grep "token=\*\*\*" note &&
    no_secret note &&
    git cat-file --batch-all-objects --batch >objects &&
    no_secret objects
'

test_expect_success 'run --commit -m: the message is redacted, the count said' '
    roar_setup &&
    echo x >in && git add in && git commit -qm base &&
    git roar init -q &&
    git roar run -t preload --commit -m "deploy with --password=hunter2 via https://u:xyzzy@h/" \
        -- sh -c "cat in >made; : $GHP" 2>err &&
    git log -1 --format=%s >msg &&
    echo "deploy with --password=*** via https://u:***@h/" >expect &&
    test_cmp expect msg &&
    test_grep -x "roar: redacted 2 secret values from the commit message" err &&
    test_grep -x "roar: redacted 1 secret value from the record" err &&
    git log --notes=roar --format=%N -1 >note &&
    no_secret note msg
'

test_expect_success 'run --commit: the default message is the command as recorded' '
    roar_setup &&
    echo x >in && git add in && git commit -qm base &&
    git roar init -q &&
    git roar run -t preload --commit -- sh -c "cat in >made2" --token=hunter2 2>err &&
    git log -1 --format=%B >msg &&
    test_grep "^roar: sh -c" msg &&
    test_grep "token=\*\*\*" msg &&
    no_secret msg
'

test_expect_success 'reproduce refuses each redacted form and names the job' '
    roar_setup &&
    for cmd in ": -u admin:xyzzy >o1" ": Authorization: Bearer tok3n >o1" \
        ": https://h/x?sig=s3kr1t >o1" ": $GHP >o1" ": admin:pw0rd@host:/x >o1"
    do
        rm -f o1 &&
        git roar run -t preload -q sh -c "$cmd" &&
        id=$(last_job) &&
        rm o1 &&
        test_expect_code 128 git roar reproduce --yes o1 >out 2>err &&
        test_grep "job ${id:0:7}.*secret redacted" err &&
        ! test -e o1 || return 1
    done
'

test_done
