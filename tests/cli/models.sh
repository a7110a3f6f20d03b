#!/usr/bin/env bash
# models.sh — end-to-end tests of the model kinds of issue 11 through the
# CLI: `summary` of the character CNN with the paper's shapes, of the
# recurrent and bag-of-words models; training charcnn, lstm, gru
# (bidirectional, max over time, over a store) and bow (counts and tf-idf,
# n-grams, multi-label) on the fixture data sets above chance, then eval,
# predict and summary of the files; --class-weights in its three forms and
# its errors; option errors (exit 2, nothing on stdout).
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
# a bag-of-words model on the multi-label topics
run "$WB" train --data "$TX/demo_topics.txt" --test-size 0.2 --model bow --ngrams 2 --epochs 20 --lr 0.05 -q --json -o "$T/bow-ml.wbm"
expect_rc 0 "train bow multilabel"
ge "$(json_get test_p_at_1)" 0.8 && ok || bad "bow multilabel P@1 $(json_get test_p_at_1)"

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

# ---- option errors: exit 2, nothing on stdout -------------------------------------
for args in "--model tutorial --units 8" "--model bow --store $T/demo" "--model charcnn --store $T/demo" \
    "--model bow --ngrams 4" "--model lstm --rnn-pool mean" "--model tutorial --ngrams 2" "--hidden-layers 9" \
    "--model charcnn --maxlen 50"; do
    # shellcheck disable=SC2086
    run "$WB" train "${S[@]}" $args -o "$T/x.wbm"
    [ "$rc" -eq 2 ] && [ ! -s "$T/out" ] && [ ! -e "$T/x.wbm" ] && ok || bad "train $args: exit $rc (stderr: $(cat "$T/err"))"
done

finish models.sh
