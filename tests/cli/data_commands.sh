#!/usr/bin/env bash
# data_commands.sh — end-to-end tests of `wordbench data stats|show`: exit
# codes, stdout/stderr separation, what `show` prints (labels by id, tokens
# after --num-words / --maxlen / truncation, <oov>, no padding), `stats
# --json`, file:line errors, splits (--test-size/--seed, --valid/--test,
# --split), unknown labels, --task, the dataset cache (hit, invalidation),
# --feature-col, bad option values.  Uses fixtures/text/ and the demo store;
# the shared data sets only when present.  Exit 0 pass, 1 fail, 77 skip.
set -u
. "$(dirname "$0")/lib.bash"
need_wb data_commands.sh
if [ -z "${WB_FIXTURES:-}" ]; then
    echo "data_commands.sh: set WB_FIXTURES (ctest does); skipping" >&2
    exit 77
fi
TX=$WB_FIXTURES/text
T=$(mktemp -d "${TMPDIR:-/tmp}/wb-data.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
export XDG_CACHE_HOME=$T/xdg # the default data-set cache of these runs

run() { "$@" >"$T/out" 2>"$T/err" </dev/null; rc=$?; }
expect_rc() { [ "$rc" -eq "$1" ] && ok || bad "$2: exit $rc, expected $1 (stderr: $(head -c 300 "$T/err"))"; }

# show: labels (the row's label ids in id order, i.e. byte order of the names:
# the model sees a set, so 'sauce cheese' in the file shows as cheese,sauce),
# keras tokens, one line per row
run "$WB" data show "$TX/cooking.txt"
expect_rc 0 "show cooking.txt"
first=$(head -n 1 "$T/out")
[ "$first" = "$(printf 'cheese,sauce\thow much does potato starch affect a cheese sauce recipe')" ] && ok ||
    bad "show: first line is '$first'"
[ ! -s "$T/err" ] && ok || bad "show wrote to stderr: $(cat "$T/err")"

# --maxlen truncates (post by default), --truncating pre keeps the end; padding never shown
run "$WB" data show --maxlen 3 --head 1 "$TX/cooking.txt"
[ "$(cat "$T/out")" = "$(printf 'cheese,sauce\thow much does')" ] && ok || bad "maxlen 3 post: '$(cat "$T/out")'"
run "$WB" data show --maxlen 3 --truncating pre --head 1 "$TX/cooking.txt"
[ "$(cat "$T/out")" = "$(printf 'cheese,sauce\tcheese sauce recipe')" ] && ok || bad "maxlen 3 pre: '$(cat "$T/out")'"
run "$WB" data show --maxlen 40 --head 1 "$TX/cooking.txt"
[ "$(cat "$T/out")" = "$(printf 'cheese,sauce\thow much does potato starch affect a cheese sauce recipe')" ] && ok ||
    bad "maxlen 40 shows padding: '$(cat "$T/out")'"

# --num-words 2 keeps no word (ids < 2 are padding and OOV): every token is <oov>
run "$WB" data show --num-words 2 --head 1 "$TX/cooking.txt"
grep -q -v -E '^[^	]*	(<oov>( <oov>)*)?$' "$T/out" && bad "num-words 2: '$(cat "$T/out")'" || ok

# --head
run "$WB" data show --head 1 "$TX/header.tsv"
[ "$(wc -l < "$T/out")" -eq 1 ] && ok || bad "--head 1 printed $(wc -l < "$T/out") lines"

# stats --json parses and counts rows
run "$WB" data stats --json "$TX/header.tsv"
expect_rc 0 "stats --json"
if [ -x /usr/bin/python3 ]; then
    /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["rows"] > 0 and d["labels"]' "$T/out" &&
        ok || bad "stats --json is not the expected JSON: $(head -c 300 "$T/out")"
fi

# coverage against a store
run "$WB" convert -q "$WB_FIXTURES/vectors/demo.glove.txt" "$T/demo.store"
expect_rc 0 "convert demo"
run "$WB" data stats --store "$T/demo.store" "$TX/cooking.txt"
expect_rc 0 "stats --store"
grep -q '^coverage ' "$T/out" && ok || bad "stats --store prints no coverage line"

# errors: file:line on stderr, exit 1, nothing on stdout for stats
run "$WB" data stats "$TX/missing_label.tsv"
expect_rc 1 "missing label"
grep -q 'missing_label.tsv:3:' "$T/err" && ok || bad "missing label: stderr lacks file:line: $(cat "$T/err")"
[ ! -s "$T/out" ] && ok || bad "stats printed results despite the error"
run "$WB" data stats "$T/nonexistent.tsv"
expect_rc 1 "missing file"

# usage errors: exit 2
run "$WB" data frobnicate "$TX/header.tsv"
expect_rc 2 "unknown verb"
run "$WB" data show --maxlen x "$TX/header.tsv"
expect_rc 2 "bad --maxlen"
run "$WB" data show --tokenizer nope "$TX/header.tsv"
expect_rc 2 "bad --tokenizer"
run "$WB" data --help
expect_rc 0 "--help"
grep -q 'default: keras' "$T/out" && ok || bad "--help lacks the tokenizer default"

# ---- splits, valid/test files, unknown labels, task -----------------------
rows=$T/rows.tsv
for i in $(seq 1 50); do
    if [ $((i % 10)) -lt 3 ]; then l=b; else l=a; fi
    printf 'w%d shared word\t%s\n' "$i" "$l"
done >"$rows"
json() { /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($1)" "$T/out"; }
if [ -x /usr/bin/python3 ]; then
    run "$WB" data stats --json --test-size 0.3 --seed 5 "$rows"
    expect_rc 0 "stats --test-size"
    [ "$(json 'd["splits"]["train"], d["splits"]["test"], d["splits"]["valid"]')" = "35 15 0" ] && ok ||
        bad "--test-size 0.3 of 50 rows: $(head -c 400 "$T/out")"
    # stratified by default: 35 a / 15 b -> 10.5 and 4.5 in test, each within one row
    [ "$(json '[(r["name"], r["test"]) for r in d["label_table"]] in ([("a", 10), ("b", 5)], [("a", 11), ("b", 4)])')" = True ] &&
        ok || bad "stratified test split: $(json 'd["label_table"]')"
    [ "$(json 'd["task"]')" = binary ] && ok || bad "task of rows.tsv: $(json 'd["task"]')"
fi
run "$WB" data show --split test --test-size 0.3 --seed 5 "$rows"
cp "$T/out" "$T/test1"
run "$WB" data show --split test --test-size 0.3 --seed 5 "$rows"
cmp -s "$T/out" "$T/test1" && ok || bad "the same seed gave a different test split"
[ "$(wc -l <"$T/test1")" -eq 15 ] && ok || bad "--split test printed $(wc -l <"$T/test1") rows, expected 15"
grep -q '^[ab]	<oov> shared word$' "$T/test1" && ! grep -q -v '<oov> shared word$' "$T/test1" && ok ||
    bad "test rows: a word seen only in test must be <oov>: $(head -3 "$T/test1")"
run "$WB" data show --split test --test-size 0.3 --seed 6 "$rows"
cmp -s "$T/out" "$T/test1" && bad "seeds 5 and 6 gave the same test split" || ok
run "$WB" data show --split train --test-size 0.3 --seed 5 "$rows"
[ "$(wc -l <"$T/out")" -eq 35 ] && ! grep -q '<oov>' "$T/out" && ok || bad "--split train: $(head -3 "$T/out")"

printf 'good film\tpos\nbad film\tneg\nfine film\tpos\n' >"$T/train.tsv"
printf 'great film\tpos\nawful film\tneg\nmeh\tneutral\nok film\tpos\n' >"$T/valid.tsv"
printf 'good\tneg\n' >"$T/test.tsv"
run "$WB" data stats --valid "$T/valid.tsv" --test "$T/test.tsv" "$T/train.tsv"
expect_rc 1 "unknown label in the valid file"
grep -q 'valid.tsv:3: .*neutral' "$T/err" && ok || bad "unknown label: stderr lacks file:line: $(cat "$T/err")"
[ ! -s "$T/out" ] && ok || bad "unknown label: results on stdout"
run "$WB" data stats --valid "$T/valid.tsv" --test "$T/test.tsv" --unknown-label skip "$T/train.tsv"
expect_rc 0 "--unknown-label skip"
grep -q '^splits          train 3, test 1, valid 3$' "$T/out" && ok || bad "splits with valid/test files: $(cat "$T/out")"
grep -q 'skipped' "$T/err" && ok || bad "--unknown-label skip: no warning on stderr"
run "$WB" data show --split valid --valid "$T/valid.tsv" --test "$T/test.tsv" --unknown-label skip "$T/train.tsv"
[ "$(cat "$T/out")" = "$(printf 'pos\t<oov> film\nneg\t<oov> film\npos\t<oov> film')" ] && ok ||
    bad "show --split valid: '$(cat "$T/out")'"
run "$WB" data show --maxlen 1 --split valid --valid "$T/valid.tsv" --test "$T/test.tsv" --unknown-label skip "$T/train.tsv"
[ "$(cat "$T/out")" = "$(printf 'pos\t<oov>\nneg\t<oov>\npos\t<oov>')" ] && ok ||
    bad "show --maxlen 1 --split valid: '$(cat "$T/out")'"
run "$WB" data show --split test --test "$T/test.tsv" "$T/train.tsv"
[ "$(cat "$T/out")" = "$(printf 'neg\tgood')" ] && ok || bad "show --split test: '$(cat "$T/out")'"

run "$WB" data stats --maxlen 1 "$T/train.tsv"
grep -q '^truncated       3 rows (100.0%) are longer than --maxlen 1; 50.0% of tokens cut$' "$T/out" && ok ||
    bad "stats --maxlen 1: $(cat "$T/out")"
run "$WB" data show --split test --test-size 0.3 --seed 5 --split-mode random "$rows"
expect_rc 0 "--split-mode random"
[ "$(wc -l <"$T/out")" -eq 15 ] && ok || bad "--split-mode random: $(wc -l <"$T/out") test rows"
run "$WB" data show --text-col body --text-col title --label-col tags --head 1 "$TX/basic.csv"
expect_rc 0 "several --text-col"
# one input per column, each shown as is (tab-separated)
[ "$(cat "$T/out")" = "$(printf 'oven bacon\the said hi and left\thello world')" ] && [ ! -s "$T/err" ] && ok ||
    bad "several --text-col: $(cat "$T/out" "$T/err")"

run "$WB" data stats --task binary "$TX/cooking.txt"
expect_rc 1 "--task binary on multi-label data"
grep -q 'cooking.txt:1: .*multilabel' "$T/err" && ok || bad "--task binary: $(cat "$T/err")"
printf 'a\tx\nb\ty\nc\tz\n' >"$T/three.tsv"
run "$WB" data stats --task binary "$T/three.tsv"
expect_rc 1 "--task binary with three labels"
grep -q 'three.tsv:3: third label' "$T/err" && ok || bad "third label: $(cat "$T/err")"
run "$WB" data stats --task multilabel "$T/three.tsv"
expect_rc 0 "--task multilabel"
grep -q '^task            multilabel$' "$T/out" && ok || bad "forced task not shown: $(cat "$T/out")"

# ---- the dataset cache ------------------------------------------------------
C=$T/cache
cp "$rows" "$T/c.tsv"
run "$WB" data stats --cache-dir "$C" --test-size 0.2 "$T/c.tsv"
expect_rc 0 "cache: first run"
grep -q 'dataset cache written: ' "$T/err" && ok || bad "cache: first run: $(cat "$T/err")"
cp "$T/out" "$T/first"
run "$WB" data stats --cache-dir "$C" --test-size 0.2 "$T/c.tsv"
grep -q 'dataset cache hit: ' "$T/err" && ok || bad "cache: second run is no hit: $(cat "$T/err")"
cmp -s "$T/out" "$T/first" && ok || bad "cache: a hit prints other statistics: $(diff "$T/first" "$T/out")"
run "$WB" data stats -q --cache-dir "$C" --test-size 0.2 "$T/c.tsv"
[ ! -s "$T/err" ] && ok || bad "cache: --quiet still writes: $(cat "$T/err")"
if [ -x /usr/bin/python3 ]; then
    run "$WB" data stats --json --cache-dir "$C" --test-size 0.2 "$T/c.tsv"
    [ "$(json 'd["cache"]["hit"], d["cache"]["written"]')" = "True False" ] && ok ||
        bad "cache --json: $(head -c 600 "$T/out")"
    run "$WB" data stats --json --no-cache "$T/c.tsv"
    [ "$(json 'd["cache"]')" = None ] && ok || bad "--no-cache: cache is not null"
    run "$WB" data stats --json "$T/c.tsv"
    case $(json 'd["cache"]["file"]') in "$XDG_CACHE_HOME/wordbench/"*.wbds) ok ;; *) bad "default cache: $(head -c 600 "$T/out")" ;; esac
    [ ! -s "$T/err" ] && ok || bad "the default cache is not silent: $(cat "$T/err")"
fi
run "$WB" data stats --cache-dir "$C" --test-size 0.2 --num-words 5 "$T/c.tsv"
grep -q 'dataset cache written: ' "$T/err" && ok || bad "cache: a changed option reused the cache: $(cat "$T/err")"
printf 'one more row\ta\n' >>"$T/c.tsv"
run "$WB" data stats --cache-dir "$C" --test-size 0.2 "$T/c.tsv"
grep -q 'dataset cache written: ' "$T/err" && ok || bad "cache: a changed input reused the cache: $(cat "$T/err")"
grep -q '^rows            51 ' "$T/out" && ok || bad "cache: changed input, stale rows: $(head -1 "$T/out")"
run "$WB" data show --cache-dir "$C" --test-size 0.2 --head 2 "$T/c.tsv"
expect_rc 0 "show with the cache"
[ "$(wc -l <"$T/out")" -eq 2 ] && ok || bad "show --cache-dir --head 2: $(cat "$T/out")"

# ---- numeric features -------------------------------------------------------
if [ -x /usr/bin/python3 ]; then
    run "$WB" data stats --json --text-col body --label-col tags --label-sep ' ' --feature-col score "$TX/basic.csv"
    expect_rc 0 "--feature-col"
    [ "$(json '[(f["name"], f["count"], f["min"], f["max"]) for f in d["features"]]')" = "[('score', 3, -2000, 1.5)]" ] &&
        ok || bad "--feature-col: $(head -c 600 "$T/out")"
fi
run "$WB" data stats --text-col body --label-col tags --feature-col score "$TX/basic.csv"
grep -q '^features        score: count 3, min -2000, ' "$T/out" && ok || bad "features line: $(cat "$T/out")"
run "$WB" data stats --feature-col score "$TX/badnum.csv"
expect_rc 1 "a bad number in a feature column"
grep -q 'badnum.csv:3:' "$T/err" && ok || bad "bad feature number: $(cat "$T/err")"
run "$WB" data stats --feature-col nosuch "$TX/badnum.csv"
expect_rc 1 "a missing feature column"

# ---- bad values: exit 2, one message -----------------------------------------
for args in "--test-size 1" "--test-size -0.1" "--test-size x" "--test-size 0.2 --test $T/test.tsv" \
    "--seed -1" "--split-mode folds" "--task ternary" "--unknown-label ignore" "--maxlen 16777217" \
    "--num-words 2147483648" "--min-count x" "--alphabet abc" "--padding middle" "--split nope" \
    "--cache-dir $rows" "--feature-col="; do
    # shellcheck disable=SC2086
    run "$WB" data show $args "$T/train.tsv"
    expect_rc 2 "show $args"
    grep -q "Try 'wordbench data --help'" "$T/err" && ok || bad "show $args: no usage hint: $(cat "$T/err")"
done
run "$WB" data stats --split test "$T/train.tsv"
expect_rc 2 "stats --split"
run "$WB" data show -
expect_rc 2 "show of stdin without --maxlen"
"$WB" data show --maxlen 5 - <"$T/train.tsv" >"$T/out" 2>"$T/err"
[ "$(head -n 1 "$T/out")" = "$(printf 'pos\tgood film')" ] && ok || bad "show --maxlen 5 of stdin: '$(cat "$T/out")'"
"$WB" data stats - <"$T/train.tsv" >"$T/out" 2>"$T/err"
grep -q '^rows            3 ' "$T/out" && ok || bad "stats of stdin: '$(cat "$T/out")'"
run "$WB" data show --tokenizer char --alphabet abc --head 1 "$T/train.tsv"
expect_rc 0 "--alphabet with the char tokenizer"
[ "$(cat "$T/out")" = "$(printf 'pos\t<oov> <oov> <oov> <oov> <oov> <oov> <oov> <oov> <oov>')" ] && ok ||
    bad "--alphabet abc: '$(cat "$T/out")'"

# shared data, when present
SD=${WB_SHARED_DATA:-}
if [ -n "$SD" ] && [ -r "$SD/spamassassin/emails.csv" ]; then
    run "$WB" data stats --json "$SD/spamassassin/emails.csv"
    expect_rc 0 "emails.csv stats"
    grep -q '"rows": 6046' "$T/out" && grep -q '"spam": 1896' "$T/out" && ok ||
        bad "emails.csv: $(head -c 300 "$T/out")"
fi
if [ -n "$SD" ] && [ -r "$SD/cooking/cooking.train" ]; then
    run "$WB" data stats --valid "$SD/cooking/cooking.valid" --unknown-label skip "$SD/cooking/cooking.train"
    expect_rc 0 "cooking stats with the valid file"
    grep -q '^splits          train 12404, test 0, valid [0-9]' "$T/out" && grep -q '^task            multilabel' "$T/out" &&
        ok || bad "cooking: $(head -c 300 "$T/out")"
fi

finish data_commands.sh
