#!/usr/bin/env bash
# models.sh — end-to-end tests of the model kinds of issue 11 through the
# CLI: `summary` of the character CNN with the paper's shapes, of the
# recurrent and bag-of-words models; training charcnn, lstm, gru
# (bidirectional, max over time, over a store) and bow (counts and tf-idf,
# n-grams, multi-label; the cache of sparse rows changes no byte) on the
# fixture data sets above chance, then eval,
# predict and summary of the files; --class-weights in its three forms and
# its errors; numeric features (--feature-col, --feature-dense) that carry
# the label a text does not, two text columns with a maxlen each: train,
# summary (the merge), eval, predict of CSV records, a missing column
# (file:line, exit 1), explain of such records (each input's spans by
# column, the features; --json) and report -d (errors explained per input,
# every column in the configuration); explain of lstm, charcnn and bow;
# option errors (exit 2, nothing on stdout).
# Exit 0 pass, 1 fail, 77 skip.
set -u
. "$(dirname "$0")/lib.bash"
need_wb models.sh
if [ -z "${WB_FIXTURES:-}" ]; then
    echo "models.sh: set WB_FIXTURES (ctest does); skipping" >&2
    exit 77
fi
TX=$WB_FIXTURES/text
T=$(mktemp -d "${TMPDIR:-/tmp}/wb-models.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT

run() { "$@" >"$T/out" 2>"$T/err" </dev/null; rc=$?; }
expect_rc() { [ "$rc" -eq "$1" ] && ok || bad "$2: exit $rc, expected $1 (stderr: $(head -c 400 "$T/err"))"; }
json_get() { /usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$T/out" "$1" 2>/dev/null; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; }

"$WB" convert -q "$WB_FIXTURES/vectors/demo.glove.txt" "$T/demo" >/dev/null || { bad "convert demo"; finish models.sh; }

# ---- summary ------------------------------------------------------------------
# Zhang et al.'s small model: 1014 characters, 69 + 2 ids, 4 classes
run "$WB" summary --model charcnn --classes 4
expect_rc 0 "summary charcnn"
for s in '(None, 1014)' '(None, 1008, 256)' '(None, 336, 256)' '(None, 330, 256)' '(None, 110, 256)' \
    '(None, 102, 256)' '(None, 34, 256)' '(None, 8704)' '(None, 1024)' '(None, 4)'; do
    grep -qF "$s" "$T/out" || bad "summary charcnn lacks $s"
done
grep -qE '^ conv1d \(Conv1D\) +\(None, 1008, 256\) +123,904 ' "$T/out" && # 256·7·69 + 256
    grep -q '^Total params: 11,337,988$' "$T/out" && ok || bad "summary charcnn: $(cat "$T/out")"
run "$WB" summary --model lstm --bidirectional --rnn-pool max --units 64 --emb-dim 50 --vocab-size 1000 --maxlen 40 --json
expect_rc 0 "summary lstm"
/usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1])); t = [l["type"] for l in d["layers"]]
assert t == ["InputLayer", "Embedding", "Bidirectional", "GlobalMaxPooling1D", "Dense"], t
b = d["layers"][2]
assert b["shape"] == [None, 40, 128] and b["params"] == 2 * (4 * 64 * 50 + 4 * 64 * 64 + 4 * 64), b
' "$T/out" && ok || bad "summary lstm: $(cat "$T/out")"
run "$WB" summary --model gru --units 8 --emb-dim 4 --vocab-size 10 --maxlen 5 --json
[ "$(json_get total)" = $((40 + 3 * 8 * 4 + 3 * 8 * 8 + 2 * 3 * 8 + 8 + 1)) ] && ok || bad "summary gru: $(cat "$T/out")"
run "$WB" summary --model bow --vocab-size 500 --classes 3 --json
[ "$(json_get total)" = $((500 * 3 + 3)) ] && ok || bad "summary bow: $(cat "$T/out")"

# ---- training every new kind on the fixtures ------------------------------------
S=(--data "$TX/demo_sentiment.tsv" --test "$TX/demo_sentiment_test.tsv" -q --json)
train_ok() { # name min-acc args...
    local name=$1 min=$2
    shift 2
    run "$WB" train "${S[@]}" "$@" -o "$T/$name.wbm"
    expect_rc 0 "train $name"
    local acc
    acc=$(json_get test_acc)
    ge "$acc" "$min" && ok || bad "$name: test accuracy $acc < $min"
    run "$WB" eval "$T/$name.wbm" "$TX/demo_sentiment_test.tsv" --json
    [ "$(json_get acc)" = "$acc" ] && ok || bad "$name: eval accuracy $(json_get acc) != train's $acc"
    printf 'the cake was great and happy\nterrible bad sad coffee\n' | "$WB" predict "$T/$name.wbm" - >"$T/pred" 2>"$T/err" &&
        [ "$(wc -l <"$T/pred")" -eq 2 ] && ok || bad "$name: predict: $(cat "$T/pred" "$T/err")"
    run "$WB" summary "$T/$name.wbm"
    expect_rc 0 "summary of $name"
}
train_ok lstm 0.8 --model lstm --maxlen 20 --epochs 12 --units 16 --emb-dim 16
train_ok gru-bi-max 0.8 --model gru --bidirectional --rnn-pool max --maxlen 20 --epochs 10 --units 8 --store "$T/demo" --embeddings finetune
grep -q 'Bidirectional' "$T/out" && ok || bad "summary of the GRU file: $(cat "$T/out")"
train_ok bow-tfidf 0.8 --model bow --bow tfidf --ngrams 2 --epochs 20 --lr 0.05
train_ok charcnn 0.6 --model charcnn --maxlen 120 --widths 5,3,3 --filters 16 --hidden 32 --epochs 15
# explain of the single-input kinds: a line per text, spans with their scores, the text marked
for name in lstm charcnn bow-tfidf; do
    printf 'the cake was great and happy\nterrible bad sad coffee\n' >"$T/two.txt"
    run "$WB" explain --color never "$T/$name.wbm" "$T/two.txt"
    [ "$rc" -eq 0 ] && [ "$(grep -c '^line [12]' "$T/out")" -eq 2 ] && grep -qE '^ +[-+][0-9]+\.[0-9]{4}  [^ ]' "$T/out" &&
        [ "$(grep -c '^  text: ' "$T/out")" -eq 2 ] && grep -qE '\[[-+]' "$T/out" && ok ||
        bad "explain $name: exit $rc $(head -c 400 "$T/out" "$T/err")"
done
# a bag-of-words model on the multi-label topics
run "$WB" train --data "$TX/demo_topics.txt" --test-size 0.2 --model bow --ngrams 2 --epochs 20 --lr 0.05 -q --json -o "$T/bow-ml.wbm"
expect_rc 0 "train bow multilabel"
ge "$(json_get test_p_at_1)" 0.8 && ok || bad "bow multilabel P@1 $(json_get test_p_at_1)"
# with --l2 (the decay of idle rows), the cache of sparse rows counted in --mem-report and
# changing no byte of the model file (WB_BOW_CACHE_MB=0: none)
BL2=(train --data "$TX/demo_topics.txt" --test-size 0.2 --model bow --ngrams 2 --epochs 3 --lr 0.05 --l2 1e-3 -q)
run "$WB" "${BL2[@]}" --json --mem-report -o "$T/bow-l2.wbm"
expect_rc 0 "train bow --l2"
/usr/bin/python3 -c 'import json,sys; sys.exit(not json.load(open(sys.argv[1]))["mem"]["bow_cache_bytes"] > 0)' "$T/out" &&
    ok || bad "bow: no bow_cache_bytes in --mem-report: $(cat "$T/out")"
run env WB_BOW_CACHE_MB=0 "$WB" "${BL2[@]}" --mem-report -o "$T/bow-l2-nocache.wbm"
expect_rc 0 "train bow --l2 without the cache"
! grep -q 'bag-of-words rows cached' "$T/err" && cmp -s "$T/bow-l2.wbm" "$T/bow-l2-nocache.wbm" && ok ||
    bad "bow: the model file depends on the cache of sparse rows ($(head -c 300 "$T/err"))"

# ---- class weights -------------------------------------------------------------
run "$WB" train "${S[@]}" --model pool --maxlen 20 --epochs 2 --class-weights balanced -o "$T/cw1.wbm"
expect_rc 0 "--class-weights balanced"
run "$WB" train "${S[@]}" --model pool --maxlen 20 --epochs 2 --class-weights 1=3 -o "$T/cw2.wbm"
expect_rc 0 "--class-weights 1=3"
printf '# label<TAB>weight\n0\t0.5\n1\t3\n' >"$T/cw.tsv"
run "$WB" train "${S[@]}" --model pool --maxlen 20 --epochs 2 --class-weights "$T/cw.tsv" -o "$T/cw3.wbm"
expect_rc 0 "--class-weights FILE"
cmp -s "$T/cw1.wbm" "$T/cw2.wbm" && bad "balanced and 1=3 gave the same model" || ok
run "$WB" train "${S[@]}" --model pool --maxlen 20 --epochs 2 --class-weights spam=2 -o "$T/cw4.wbm"
expect_rc 2 "--class-weights with an unknown label"
[ ! -s "$T/out" ] && grep -q "'spam': no such label" "$T/err" && ok || bad "unknown label message: $(cat "$T/err")"
printf '0\t1\n1\tlots\n' >"$T/bad.tsv"
run "$WB" train "${S[@]}" --model pool --maxlen 20 --epochs 2 --class-weights "$T/bad.tsv" -o "$T/cw5.wbm"
expect_rc 1 "--class-weights FILE with a bad weight"
grep -q "bad.tsv:2: class weight of '1' must be a number" "$T/err" && [ ! -e "$T/cw5.wbm" ] && ok ||
    bad "bad weight file: $(cat "$T/err")"

# ---- numeric features and several text inputs ----------------------------------
# A CSV whose body says nothing about the label (the same sentences either way) and whose subject
# half the time does not: the 'links' feature carries the label, the subject helps.
fields_csv "$T/fields.csv"
head -n 1 "$T/fields.csv" >"$T/fields-test.csv" && sed -n '2,41p' "$T/fields.csv" >>"$T/fields-test.csv"
F=(--data "$T/fields.csv" --test "$T/fields-test.csv" --format csv -q --json --model pool --emb-dim 8 --hidden 8 --epochs 25 --lr 0.02)
run "$WB" train "${F[@]}" --text-col body --maxlen 8 -o "$T/body.wbm"
expect_rc 0 "train on the body alone"
body_acc=$(json_get test_acc)
run "$WB" train "${F[@]}" --text-col body --maxlen 8 --feature-col links --feature-col caps --feature-dense 4 -o "$T/feat.wbm"
expect_rc 0 "train body + features"
feat_acc=$(json_get test_acc)
ge "$feat_acc" 0.95 && ge "$feat_acc" "$(awk -v a="$body_acc" 'BEGIN { print a + 0.3 }')" && ok ||
    bad "body + features: test accuracy $feat_acc (body alone $body_acc)"
run "$WB" summary "$T/feat.wbm"
expect_rc 0 "summary of body + features"
grep -qE '^ features \(InputLayer\) +\(None, 2\) ' "$T/out" && grep -qE '^ feature_dense \(Dense\) +\(None, 4\) +12 ' "$T/out" &&
    grep -qE "^ concatenate \(Concatenate\) +\(None, 12\) +0 +\['global_max_pooling1d\[0\]\[0\]', 'feature_dense\[0\]\[0\]'\]" "$T/out" &&
    ok || bad "summary of body + features: $(cat "$T/out")"
run "$WB" eval "$T/feat.wbm" "$T/fields-test.csv" --json
[ "$rc" -eq 0 ] && [ "$(json_get acc)" = "$feat_acc" ] && ok || bad "eval body + features: $(cat "$T/out" "$T/err")"
run "$WB" predict "$T/feat.wbm" "$T/fields-test.csv"
[ "$rc" -eq 0 ] && [ "$(wc -l <"$T/out")" -eq 40 ] && ok || bad "predict body + features: $(head -c 300 "$T/out" "$T/err")"
cut -d, -f1-4 "$T/fields-test.csv" >"$T/nocaps.csv"
run "$WB" predict "$T/feat.wbm" "$T/nocaps.csv"
[ "$rc" -eq 1 ] && [ ! -s "$T/out" ] && grep -q "nocaps.csv:1: the header has no feature column 'caps'" "$T/err" && ok ||
    bad "predict without a feature column: exit $rc $(cat "$T/err")"
run "$WB" predict --format tsv "$T/feat.wbm" "$T/fields-test.csv"
expect_rc 2 "predict --format tsv with a model of features"
run "$WB" train "${F[@]}" --text-col body --maxlen 8 --feature-dense 4 -o "$T/x.wbm"
[ "$rc" -eq 2 ] && [ ! -e "$T/x.wbm" ] && ok || bad "--feature-dense without --feature-col: exit $rc"
# two text inputs (one vocabulary and branch each) + the features
run "$WB" train "${F[@]}" --text-col subject --text-col body --maxlen subject=3,body=8 --feature-col links \
    --feature-col caps -o "$T/multi.wbm"
expect_rc 0 "train subject + body + features"
multi_acc=$(json_get test_acc)
ge "$multi_acc" 0.95 && ok || bad "subject + body + features: test accuracy $multi_acc"
run "$WB" summary "$T/multi.wbm"
grep -qE '^ subject \(InputLayer\) +\(None, 3\) ' "$T/out" && grep -qE '^ body \(InputLayer\) +\(None, 8\) ' "$T/out" &&
    grep -qE "^ concatenate \(Concatenate\) +\(None, 18\) +0 +\['subject_global_max_pooling1d\[0\]\[0\]', 'body_global_max_pooling1d\[0\]\[0\]', 'features\[0\]\[0\]'\]" "$T/out" &&
    ok || bad "summary of subject + body + features: $(cat "$T/out")"
# one --maxlen for every column (and none: the model kind's default, 100 for pool)
run "$WB" train "${F[@]}" --text-col subject --text-col body --maxlen 8 --epochs 1 -o "$T/one.wbm"
expect_rc 0 "train subject + body, one --maxlen"
run "$WB" summary "$T/one.wbm"
grep -qE '^ subject \(InputLayer\) +\(None, 8\) ' "$T/out" && grep -qE '^ body \(InputLayer\) +\(None, 8\) ' "$T/out" && ok ||
    bad "summary of subject + body with --maxlen 8: $(cat "$T/out")"
run "$WB" train "${F[@]}" --text-col subject --text-col body --epochs 1 -o "$T/one100.wbm"
expect_rc 0 "train subject + body, the default maxlen"
run "$WB" summary "$T/one100.wbm"
grep -qE '^ subject \(InputLayer\) +\(None, 100\) ' "$T/out" && grep -qE '^ body \(InputLayer\) +\(None, 100\) ' "$T/out" && ok ||
    bad "summary of subject + body with the default maxlen: $(cat "$T/out")"
run "$WB" eval "$T/multi.wbm" "$T/fields-test.csv" --json
[ "$rc" -eq 0 ] && [ "$(json_get acc)" = "$multi_acc" ] && ok || bad "eval subject + body: $(cat "$T/out" "$T/err")"
run "$WB" predict --json "$T/multi.wbm" "$T/fields-test.csv"
[ "$rc" -eq 0 ] && [ "$(wc -l <"$T/out")" -eq 40 ] && head -n 1 "$T/out" | grep -q '"line": 2,' && ok ||
    bad "predict subject + body: $(head -c 300 "$T/out" "$T/err")"
# explain reads the CSV records as predict does: each text input's spans under its column, then the features
run "$WB" explain "$T/multi.wbm" "$T/fields-test.csv"
[ "$rc" -eq 0 ] && [ ! -s "$T/err" ] && [ "$(grep -c '^line ' "$T/out")" -eq 40 ] && [ "$(grep -c '^  \[subject\]' "$T/out")" -eq 40 ] &&
    [ "$(grep -c '^  \[body\]' "$T/out")" -eq 40 ] && [ "$(grep -c '^  \[features\]' "$T/out")" -eq 40 ] &&
    grep -qE '^ +[-+][0-9.]+  links = [0-9]' "$T/out" && grep -qE '^ +[-+][0-9.]+  caps = [0-9.]' "$T/out" &&
    grep -qE '^ +[-+][0-9.]+  (win|money|now|hello|there|weekly|meeting|your|account)$' "$T/out" && ok ||
    bad "explain subject + body + features: exit $rc $(head -c 600 "$T/out" "$T/err")"
run "$WB" explain --json --top 3 "$T/multi.wbm" "$T/fields-test.csv"
[ "$rc" -eq 0 ] && /usr/bin/python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 40 and rows[0]["line"] == 2, len(rows)
for r in rows:
    x = r["explained"]
    assert [i["column"] for i in x["inputs"]] == ["subject", "body"], x["inputs"]
    assert [f["column"] for f in x["features"]] == ["links", "caps"], x["features"]
    words = {"subject": {"hello", "there", "win", "money", "now", "weekly", "meeting", "your", "account"}}
    for i in x["inputs"]:
        assert len(i["spans"]) <= 3 and len(i["against"]) <= 3
        for s in i["spans"] + i["against"]:
            assert 0 <= s["start"] and s["start"] + s["len"] <= len(i["tokens"]), s
            if i["column"] == "subject": assert s["text"] in words["subject"], s
    total = sum(t[1] for i in x["inputs"] for t in i["tokens"]) + sum(f["score"] for f in x["features"])
    assert abs(total - x["sum"]) < 1e-4 * (1 + abs(total)), (total, x["sum"])
assert any(i["spans"] or i["against"] for r in rows for i in r["explained"]["inputs"])
' "$T/out" && ok || bad "explain --json subject + body + features: exit $rc $(head -c 600 "$T/out" "$T/err")"
run "$WB" explain "$T/feat.wbm" "$T/fields-test.csv"
[ "$rc" -eq 0 ] && [ "$(grep -c '^  \[body\]' "$T/out")" -eq 40 ] && [ "$(grep -c '^  \[features\]' "$T/out")" -eq 40 ] &&
    ok || bad "explain body + squashed features: exit $rc $(head -c 600 "$T/out" "$T/err")"
run "$WB" explain "$T/feat.wbm" "$T/nocaps.csv"
[ "$rc" -eq 1 ] && [ ! -s "$T/out" ] && grep -q "nocaps.csv:1: the header has no feature column 'caps'" "$T/err" && ok ||
    bad "explain without a feature column: exit $rc $(cat "$T/err")"
run "$WB" explain --per-sentence "$T/multi.wbm" "$T/fields-test.csv"
[ "$rc" -eq 2 ] && [ ! -s "$T/out" ] && ok || bad "explain --per-sentence of records: exit $rc"
# report explains the errors per input and lists every column in its configuration (threshold 1: the 20
# spam records are errors)
run "$WB" report "$T/multi.wbm" -d "$T/fields-test.csv" --threshold 1 --errors 5 -o "$T/multi.html"
[ "$rc" -eq 0 ] && grep -q '20 of 40 examples are errors; the 5 with the most probable wrong label' "$T/multi.html" &&
    [ "$(grep -c '<span class="col">subject</span>' "$T/multi.html")" -eq 5 ] &&
    [ "$(grep -c '<span class="col">body</span>' "$T/multi.html")" -eq 5 ] &&
    [ "$(grep -c '<span class="col">features</span> for' "$T/multi.html")" -eq 5 ] &&
    grep -q '<td class="l">text input 2: column body</td><td class="l"><code>maxlen 8, vocabulary [0-9]* ids</code>' "$T/multi.html" &&
    grep -q '<td class="l">text input 1: column subject</td><td class="l"><code>maxlen 3, ' "$T/multi.html" &&
    grep -q '<td class="l">feature columns</td><td class="l"><code>links, caps (2, standardised)' "$T/multi.html" &&
    xmllint --noout "$T/multi.html" 2>/dev/null && ok || bad "report of subject + body: exit $rc $(cat "$T/err")"
run "$WB" report "$T/feat.wbm" -d "$T/fields-test.csv" --threshold 1 --errors 2 -o "$T/feat.html"
[ "$rc" -eq 0 ] && grep -q '<td class="l">feature-dense</td><td class="l"><code>4 units, relu' "$T/feat.html" &&
    [ "$(grep -c '<span class="col">features</span> for' "$T/feat.html")" -eq 2 ] && ok ||
    bad "report of body + features: exit $rc $(cat "$T/err")"
# the tuned threshold of a model of several inputs: stored, used by eval
run "$WB" train "${F[@]}" --text-col subject --text-col body --maxlen subject=3,body=8 --feature-col links \
    --feature-col caps --tune-threshold -o "$T/multit.wbm"
tuned=$(json_get threshold)
run "$WB" eval "$T/multit.wbm" "$T/fields-test.csv" --json
[ "$rc" -eq 0 ] && [ -n "$tuned" ] && [ "$(json_get threshold)" = "$tuned" ] && ge "$(json_get acc)" 0.95 && ok ||
    bad "subject + body --tune-threshold: threshold '$tuned', eval: $(cat "$T/out" "$T/err")"
cut -d, -f1,3- "$T/fields-test.csv" >"$T/nosubject.csv"
run "$WB" eval "$T/multi.wbm" "$T/nosubject.csv"
[ "$rc" -eq 1 ] && grep -q "nosubject.csv:1: the header has no text column 'subject'" "$T/err" && ok ||
    bad "eval without the subject column: exit $rc $(cat "$T/err")"
run "$WB" explain "$T/multi.wbm" "$T/nosubject.csv"
[ "$rc" -eq 1 ] && [ ! -s "$T/out" ] && grep -q "nosubject.csv:1: the header has no text column 'subject'" "$T/err" && ok ||
    bad "explain without the subject column: exit $rc $(cat "$T/err")"
# the split step (--threads 2, the default) runs every input alike: the same bits twice; one lane trains too
run "$WB" train "${F[@]}" --text-col subject --text-col body --maxlen subject=3,body=8 --feature-col links \
    --feature-col caps --threads 2 -o "$T/multi2.wbm"
[ "$rc" -eq 0 ] && cmp -s "$T/multi.wbm" "$T/multi2.wbm" && ok || bad "two inputs on 2 lanes twice: not the same bytes (exit $rc)"
run "$WB" train "${F[@]}" --text-col subject --text-col body --maxlen subject=3,body=8 --feature-col links \
    --feature-col caps --threads 1 -o "$T/multi1.wbm"
[ "$rc" -eq 0 ] && ge "$(json_get test_acc)" 0.95 && ok || bad "two inputs on 1 lane: exit $rc $(cat "$T/err")"
# training data without a column the options name: file:1, exit 1, no model
run "$WB" train --data "$T/nosubject.csv" --format csv -q --model pool --text-col subject --text-col body \
    --maxlen subject=3,body=8 --epochs 1 -o "$T/x.wbm"
[ "$rc" -eq 1 ] && [ ! -e "$T/x.wbm" ] && grep -q "nosubject.csv:1: .*subject" "$T/err" && ok ||
    bad "train without the subject column: exit $rc $(cat "$T/err")"
run "$WB" train --data "$T/nocaps.csv" --format csv -q --model pool --text-col body --maxlen 8 --feature-col caps \
    --epochs 1 -o "$T/x.wbm"
[ "$rc" -eq 1 ] && [ ! -e "$T/x.wbm" ] && grep -q "nocaps.csv:1: .*caps" "$T/err" && ok ||
    bad "train without the caps column: exit $rc $(cat "$T/err")"

# ---- option errors: exit 2, nothing on stdout -------------------------------------
for args in "--model tutorial --units 8" "--model bow --store $T/demo" "--model charcnn --store $T/demo" \
    "--model bow --ngrams 4" "--model lstm --rnn-pool mean" "--model tutorial --ngrams 2" "--hidden-layers 9" \
    "--model charcnn --maxlen 50"; do
    # shellcheck disable=SC2086
    run "$WB" train "${S[@]}" $args -o "$T/x.wbm"
    [ "$rc" -eq 2 ] && [ ! -s "$T/out" ] && [ ! -e "$T/x.wbm" ] && ok || bad "train $args: exit $rc (stderr: $(cat "$T/err"))"
done

finish models.sh
