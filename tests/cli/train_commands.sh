#!/usr/bin/env bash
# train_commands.sh — end-to-end tests of `wordbench train | eval | predict |
# summary`: the Real Python tutorial's summary tables, training every model
# and embedding mode on the fixture data sets, accuracy well above chance,
# determinism, kill -9 then --resume giving the same model file as an
# uninterrupted run, early stopping, the model file running without the
# store (--embed-vectors), a different or missing store, a damaged model
# file, bad options (exit 2), and, when ../shared/data is present, spam with
# `tutorial` and cooking with `kim` clearly beating the majority baseline.
# Exit 0 pass, 1 fail, 77 skip.
set -u
. "$(dirname "$0")/lib.bash"
need_wb train_commands.sh
if [ -z "${WB_FIXTURES:-}" ]; then
    echo "train_commands.sh: set WB_FIXTURES (ctest does); skipping" >&2
    exit 77
fi
TX=$WB_FIXTURES/text
VEC=$WB_FIXTURES/vectors
T=$(mktemp -d "${TMPDIR:-/tmp}/wb-train.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT

run() { "$@" >"$T/out" 2>"$T/err" </dev/null; rc=$?; }
expect_rc() { [ "$rc" -eq "$1" ] && ok || bad "$2: exit $rc, expected $1 (stderr: $(head -c 400 "$T/err"))"; }
json_get() { /usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$T/out" "$1" 2>/dev/null ||
    sed -n "s/.*\"$1\": \([^,}]*\).*/\1/p" "$T/out"; }
# awk comparison: ge A B → success when A >= B
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; }

"$WB" convert -q "$VEC/demo.glove.txt" "$T/demo" || { bad "convert demo"; finish train_commands.sh; }
"$WB" convert -q "$VEC/medium.glove.txt" "$T/other" >/dev/null 2>&1

# ---- summary: the Real Python tutorial's tables -----------------------------
run "$WB" summary --model tutorial --emb-dim 100 --vocab-size 1747 --maxlen 100
expect_rc 0 "summary tutorial"
grep -q '^Total params: 240,129$' "$T/out" && grep -q '174,700' "$T/out" && grep -q '64,128' "$T/out" &&
    grep -q '1,290' "$T/out" && grep -qE "^ dense_1 \(Dense\) +\(None, 1\) +11 +\['dense\[0\]\[0\]'\]$" "$T/out" &&
    grep -qE "^ input_1 \(InputLayer\) +\(None, 100\) +0 +\[\]$" "$T/out" &&
    grep -qE "^ conv1d \(Conv1D\) +\(None, 96, 128\) +64,128 +\['embedding\[0\]\[0\]'\]$" "$T/out" && ok ||
    bad "summary tutorial: $(cat "$T/out")"
run "$WB" summary --model pool --emb-dim 50 --vocab-size 1747 --embeddings frozen --json
expect_rc 0 "summary pool"
[ "$(json_get total)" = 87871 ] && [ "$(json_get trainable)" = 521 ] && ok || bad "summary pool: $(cat "$T/out")"
run "$WB" summary --model kim --emb-dim 300 --vocab-size 20000 --classes 5 --json
[ "$(json_get total)" = $((20000 * 300 + 3 * 100 + 300 * (3 + 4 + 5) * 100 + 300 * 5 + 5)) ] && ok ||
    bad "summary kim total: $(cat "$T/out")"
run "$WB" summary --model kim --widths 200 --maxlen 100
expect_rc 2 "summary: width > maxlen"
# the functional graph: kim's three convolutions read one embedding, one concatenation reads the pools
run "$WB" summary --model kim --embeddings multichannel --json
expect_rc 0 "summary kim multichannel"
/usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1])); L = {l["name"]: l for l in d["layers"]}
assert [l["name"] for l in d["layers"] if l["type"] == "Concatenate"] == ["concatenate", "concatenate_1"]
assert L["concatenate"]["connected_to"] == ["embedding_static", "embedding_tuned"]
assert all(L["conv1d_%d" % i]["connected_to"] == ["concatenate"] for i in (1, 2, 3))
assert L["concatenate_1"]["connected_to"] == ["global_max_pooling1d_%d" % i for i in (1, 2, 3)]
assert L["input_1"]["connected_to"] == [] and L["dropout"]["connected_to"] == ["concatenate_1"]
' "$T/out" && ok || bad "summary kim multichannel graph: $(cat "$T/out")"

# ---- train, eval, predict on the sentiment fixture ---------------------------
TR=(--data "$TX/demo_sentiment.tsv" --test "$TX/demo_sentiment_test.tsv" --maxlen 20 -q)
run "$WB" train "${TR[@]}" --store "$T/demo" --model tutorial --epochs 12 -o "$T/tut.wbm" --json --history "$T/h.csv"
expect_rc 0 "train tutorial frozen"
acc=$(json_get test_acc)
ge "$acc" 0.8 && ok || bad "tutorial frozen: test accuracy $acc < 0.8"
[ "$(json_get embeddings)" = frozen ] && ok || bad "default embeddings with --store: $(json_get embeddings)"
[ "$(wc -l <"$T/h.csv")" -eq 13 ] && head -n 1 "$T/h.csv" | grep -q '^epoch,loss,acc,val_loss,val_acc,seconds$' && ok ||
    bad "history: $(head -n 3 "$T/h.csv")"
run "$WB" eval "$T/tut.wbm" "$TX/demo_sentiment_test.tsv" --json
expect_rc 0 "eval"
[ "$(json_get examples)" = 100 ] && [ "$(json_get acc)" = "$acc" ] && ok || bad "eval acc $(json_get acc) != train's test_acc $acc"
run "$WB" eval "$T/tut.wbm" "$TX/demo_sentiment_test.tsv" --errors -
expect_rc 0 "eval --errors -"
grep -q "demo_sentiment_test.tsv:[0-9]*	[01]	[01] 0\.[0-9]*	" "$T/out" && ok || bad "error listing: $(head -n 3 "$T/out")"
printf 'the cake was great and happy\nterrible bad sad coffee\n' >"$T/in.txt"
run "$WB" predict "$T/tut.wbm" "$T/in.txt"
expect_rc 0 "predict"
[ "$(cut -f1 "$T/out" | tr '\n' ' ')" = "1 0 " ] && ok || bad "predict: $(cat "$T/out")"
run "$WB" predict "$T/tut.wbm" "$T/in.txt" --top-k 2 --json
[ "$(grep -c '"label": "0"' "$T/out")" -eq 2 ] && [ "$(grep -c '"label": "1"' "$T/out")" -eq 2 ] && ok || bad "predict --top-k 2 --json: $(cat "$T/out")"
"$WB" predict "$T/tut.wbm" - <"$T/in.txt" >"$T/stdin.out" 2>/dev/null && cmp -s "$T/stdin.out" <("$WB" predict "$T/tut.wbm" "$T/in.txt") && ok ||
    bad "predict from stdin differs"
run "$WB" summary "$T/tut.wbm"
grep -q 'Non-trainable params: 912$' "$T/out" && ok || bad "summary of a frozen model file: $(tail -n 4 "$T/out")"
# --max-memory: a model that needs more is refused before anything is allocated (exit 1, stderr only)
run "$WB" predict --max-memory 1M -b 65536 "$T/tut.wbm" "$T/in.txt"
expect_rc 1 "predict over --max-memory"
[ ! -s "$T/out" ] && grep -q 'more than the memory limit of 1.0 MiB' "$T/err" && ok || bad "--max-memory message: $(cat "$T/err")"
run "$WB" eval --max-memory 64M "$T/tut.wbm" "$TX/demo_sentiment_test.tsv"
expect_rc 0 "eval under --max-memory 64M"
run "$WB" summary --max-memory 12X "$T/tut.wbm"
expect_rc 2 "--max-memory 12X"
grep -q "max-memory must be a size" "$T/err" && ok || bad "--max-memory usage message: $(cat "$T/err")"

# every model and embedding mode trains and beats chance clearly
for spec in "dense learned" "pool learned" "tutorial finetune" "kim frozen" "kim finetune" "kim multichannel" "tutorial learned"; do
    set -- $spec
    st=(--store "$T/demo")
    [ "$2" = learned ] && st=(--emb-dim 16)
    run "$WB" train "${TR[@]}" "${st[@]}" --model "$1" --embeddings "$2" --epochs 15 -o "$T/m.wbm" --json
    expect_rc 0 "train $spec"
    a=$(json_get test_acc)
    ge "$a" 0.7 && ok || bad "train $spec: test accuracy $a < 0.7"
done
run "$WB" train "${TR[@]}" --store "$T/demo" --model kim --embeddings frozen --oov learn --epochs 3 -o "$T/m.wbm" --mem-report --json
expect_rc 0 "train --oov learn --mem-report"
grep -q '"overlay_rows": [1-9]' "$T/out" && grep -q '"rss_anon": [1-9]' "$T/out" && ok || bad "--mem-report / oov learn overlay: $(cat "$T/out")"
run "$WB" train "${TR[@]}" --store "$T/demo" --model kim --epochs 3 -o "$T/m.wbm" --mem-report --json
grep -q '"overlay_rows": 0,' "$T/out" && ok || bad "frozen training made overlay rows: $(cat "$T/out")"

# multi-label topics: P@1 well above the best single label
run "$WB" train --data "$TX/demo_topics.txt" --test-size 0.25 --seed 3 --store "$T/demo" --model kim --embeddings finetune --epochs 15 -o "$T/top.wbm" --json -q
expect_rc 0 "train multilabel"
[ "$(json_get task)" = multilabel ] && ge "$(json_get test_p_at_1)" 0.8 && ok || bad "topics: $(cat "$T/out")"
run "$WB" eval "$T/top.wbm" "$TX/demo_topics.txt" -k 2 --json
expect_rc 0 "eval multilabel -k 2"
[ "$(json_get k)" = 2 ] && ok || bad "eval -k 2: $(cat "$T/out")"
echo "queen king castle" | "$WB" predict "$T/top.wbm" --threshold 0.5 >"$T/out" 2>"$T/err"
grep -q '^royalty	' "$T/out" && ok || bad "predict --threshold: $(cat "$T/out" "$T/err")"

# --adam: every mode trains, and the file says which (lazy: no key, as files from before it); a bad value
# is a usage error
for am in catchup lazy dense; do
    run "$WB" train --data "$TX/demo_topics.txt" --test-size 0.25 --seed 3 --store "$T/demo" --model kim --embeddings finetune --epochs 2 --adam "$am" -o "$T/adam.wbm" --json -q
    expect_rc 0 "train --adam $am"
    if [ "$am" = lazy ]; then ! grep -aq "^adam " "$T/adam.wbm"; else grep -aq "^adam $am\$" "$T/adam.wbm"; fi &&
        [ -s "$T/out" ] && ok || bad "--adam $am: the model file's adam key"
done
run "$WB" train --data "$TX/demo_topics.txt" --store "$T/demo" --model kim --embeddings finetune --adam eager -o "$T/adam.wbm"
expect_rc 2 "train --adam eager"
grep -q "adam" "$T/err" && [ ! -s "$T/out" ] && ok || bad "--adam eager: $(cat "$T/err")"

# a record with more labels than any small fixed buffer: eval must count all 80 (with k = C = 80 every
# label is predicted, so P@80 = (80 + 1) / (2 * 80) exactly)
{
    for i in $(seq 1 80); do printf '__label__t%02d ' "$i"; done
    printf 'queen king castle\n__label__t01 dog cat\n'
} >"$T/many.txt"
run "$WB" train --data "$T/many.txt" --model pool --emb-dim 4 --epochs 1 -o "$T/many.wbm" -q
expect_rc 0 "train 80 labels"
run "$WB" eval "$T/many.wbm" "$T/many.txt" -k 80 --json
[ "$(json_get p_at_k)" = 0.50625 ] && ok || bad "eval of a record with 80 labels: $(cat "$T/out")"

# ---- determinism, kill -9 and --resume ----------------------------------------
scale=${WB_TEST_SCALE:-1}
slow=0 # sanitizer builds run with WB_TEST_SCALE < 1: shorter runs, no shared data
awk -v s="$scale" 'BEGIN { exit !(s < 1) }' && slow=1
long=40
[ "$slow" -eq 1 ] && long=12
K=(--data "$TX/demo_sentiment.tsv" --test-size 0.2 --maxlen 20 -q --store "$T/demo" --model kim --embeddings finetune --no-restore-best --seed 7)
"$WB" train "${K[@]}" --epochs 8 -o "$T/a.wbm" >/dev/null 2>&1
"$WB" train "${K[@]}" --epochs 8 -o "$T/b.wbm" >/dev/null 2>&1
cmp -s "$T/a.wbm" "$T/b.wbm" && ok || bad "two runs with the same seed differ"
"$WB" train "${K[@]}" --epochs 8 --seed 8 -o "$T/c.wbm" >/dev/null 2>&1
cmp -s "$T/a.wbm" "$T/c.wbm" && bad "another seed gave the same model" || ok
"$WB" train "${K[@]}" --epochs 3 -o "$T/r.wbm" >/dev/null 2>&1
run "$WB" train "${K[@]}" --epochs 8 -o "$T/r.wbm" --resume
expect_rc 0 "resume"
cmp -s "$T/a.wbm" "$T/r.wbm" && ok || bad "resumed run differs from the uninterrupted one"
# the same with the unsplit step (--threads 1: one lane, OpenBLAS at one
# thread) and with 3 lanes (minibatches of 32 cut 10/11/11)
for th in 1 3; do
  "$WB" train "${K[@]}" --threads "$th" --epochs 8 -o "$T/a$th.wbm" >/dev/null 2>&1
  "$WB" train "${K[@]}" --threads "$th" --epochs 8 -o "$T/b$th.wbm" >/dev/null 2>&1
  cmp -s "$T/a$th.wbm" "$T/b$th.wbm" && ok || bad "two runs with --threads $th differ"
  "$WB" train "${K[@]}" --threads "$th" --epochs 3 -o "$T/r$th.wbm" >/dev/null 2>&1
  run "$WB" train "${K[@]}" --threads "$th" --epochs 8 -o "$T/r$th.wbm" --resume
  expect_rc 0 "resume --threads $th"
  cmp -s "$T/a$th.wbm" "$T/r$th.wbm" && ok || bad "resumed run with --threads $th differs from the uninterrupted one"
done
run "$WB" train "${K[@]}" --threads 0 --epochs 1 -o "$T/z.wbm"
expect_rc 2 "--threads 0"
# kill -9 at some moment of a longer run, then resume: same final model
rm -f "$T/k.wbm" "$T/k.wbm.ckpt"
"$WB" train "${K[@]}" --epochs "$long" -o "$T/full.wbm" >/dev/null 2>&1
"$WB" train "${K[@]}" --epochs "$long" -o "$T/k.wbm" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 100); do [ -e "$T/k.wbm.ckpt" ] && break; sleep 0.05; done
sleep 0.2
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
run "$WB" train "${K[@]}" --epochs "$long" -o "$T/k.wbm" --resume
expect_rc 0 "resume after kill -9"
ls "$T"/k.wbm*.tmp* >/dev/null 2>&1 && bad "a temporary of the killed run is left: $(ls "$T"/k.wbm*.tmp*)" || ok
cmp -s "$T/full.wbm" "$T/k.wbm" && ok || bad "kill -9 + resume differs from the uninterrupted run"

# resume with fewer widths than kim's default three
"$WB" train "${K[@]}" --widths 3,4 --epochs 2 -o "$T/w.wbm" >/dev/null 2>&1
run "$WB" train "${K[@]}" --widths 3,4 --epochs 3 -o "$T/w.wbm" --resume
expect_rc 0 "resume kim --widths 3,4"

# early stopping: patience 1 with a learning rate far too high
run "$WB" train "${TR[@]}" --store "$T/demo" --model kim --epochs 30 --patience 2 --lr 5 -o "$T/es.wbm" --json
expect_rc 0 "early stopping"
[ "$(json_get stopped_early)" = True ] || [ "$(json_get stopped_early)" = true ] && ok || bad "no early stop: $(cat "$T/out")"

# ---- the store's read-ahead (WB_PREFETCH) changes no output --------------------------
for mode in off advise populate pread; do
    WB_PREFETCH=$mode "$WB" train "${TR[@]}" --store "$T/demo" --model tutorial --embeddings finetune --epochs 2 \
        --threads 2 --seed 5 -o "$T/pf-$mode.wbm" >/dev/null 2>"$T/err" && ok || bad "train WB_PREFETCH=$mode: $(head -c 400 "$T/err")"
    WB_PREFETCH=$mode "$WB" predict "$T/pf-$mode.wbm" "$TX/demo_sentiment_test.tsv" >"$T/pf-$mode.out" 2>"$T/err" && ok ||
        bad "predict WB_PREFETCH=$mode: $(head -c 400 "$T/err")"
done
for mode in advise populate pread; do
    cmp -s "$T/pf-off.wbm" "$T/pf-$mode.wbm" && cmp -s "$T/pf-off.out" "$T/pf-$mode.out" && [ -s "$T/pf-off.out" ] && ok ||
        bad "WB_PREFETCH=$mode: another model file or other predictions than without read-ahead"
done

# ---- model files and stores --------------------------------------------------------
run "$WB" train "${TR[@]}" --store "$T/demo" --model tutorial --embeddings finetune --epochs 3 --embed-vectors -o "$T/emb.wbm"
expect_rc 0 "train --embed-vectors"
"$WB" predict "$T/emb.wbm" "$T/in.txt" >"$T/with" 2>/dev/null
mv "$T/demo" "$T/demo.moved"
run "$WB" predict "$T/emb.wbm" "$T/in.txt"
expect_rc 0 "predict with embedded vectors and no store"
cmp -s "$T/out" "$T/with" && ok || bad "embedded vectors give other predictions"
run "$WB" predict "$T/tut.wbm" "$T/in.txt"
expect_rc 1 "predict without its store"
grep -q "demo" "$T/err" && ok || bad "missing store message: $(cat "$T/err")"
run "$WB" predict "$T/tut.wbm" "$T/in.txt" --store "$T/demo.moved"
expect_rc 0 "predict --store at a new place"
if [ -d "$T/other" ]; then
    run "$WB" predict "$T/tut.wbm" "$T/in.txt" --store "$T/other"
    expect_rc 1 "predict with another store"
    grep -q "fingerprint" "$T/err" && ok || bad "other store message: $(cat "$T/err")"
fi
mv "$T/demo.moved" "$T/demo"
cp "$T/tut.wbm" "$T/bad.wbm"
printf '\x55' | dd of="$T/bad.wbm" bs=1 seek=200 conv=notrunc 2>/dev/null
run "$WB" eval "$T/bad.wbm" "$TX/demo_sentiment_test.tsv"
expect_rc 1 "damaged model file"
grep -q "bad.wbm" "$T/err" && grep -qi "checksum\|damaged" "$T/err" && ok || bad "damaged model message: $(cat "$T/err")"
head -c 100 "$T/tut.wbm" >"$T/short.wbm"
run "$WB" predict "$T/short.wbm" "$T/in.txt"
expect_rc 1 "truncated model file"
run "$WB" eval "$T/tut.wbm" "$TX/demo_topics.txt" --unknown-label error
expect_rc 1 "eval with unknown labels"
grep -q "demo_topics.txt:1:" "$T/err" && ok || bad "unknown label message: $(cat "$T/err")"

# ---- usage errors: exit 2 ------------------------------------------------------------
run "$WB" train -o "$T/x.wbm"
expect_rc 2 "train without --data"
run "$WB" train --data "$TX/demo_sentiment.tsv"
expect_rc 2 "train without -o"
run "$WB" train --data "$TX/demo_sentiment.tsv" --embeddings frozen -o "$T/x.wbm"
expect_rc 2 "frozen without --store"
run "$WB" train --data "$TX/demo_sentiment.tsv" --store "$T/demo" --emb-dim 50 -o "$T/x.wbm"
expect_rc 2 "store dim differs from --emb-dim"
grep -q "16" "$T/err" && grep -q "50" "$T/err" && ok || bad "dim mismatch message: $(cat "$T/err")"
run "$WB" train --data "$TX/demo_sentiment.tsv" --model vgg -o "$T/x.wbm"
expect_rc 2 "unknown model"
run "$WB" train --data "$TX/demo_sentiment.tsv" --dropout 1.5 -o "$T/x.wbm"
expect_rc 2 "dropout out of range"
run "$WB" train --data "$TX/demo_sentiment.tsv" --widths 3,x -o "$T/x.wbm"
expect_rc 2 "bad widths"
[ ! -e "$T/x.wbm" ] && ok || bad "a failed train left $T/x.wbm"
run "$WB" predict "$T/tut.wbm" "$T/in.txt" --threshold 0.5
expect_rc 2 "--threshold on a binary model"

# ---- shared data (skipped when absent) -------------------------------------------------
SD=${WB_SHARED_DATA:-}
if [ "$slow" -eq 1 ]; then
    echo "train_commands.sh: WB_TEST_SCALE < 1 (sanitizer build): shared-data training skipped" >&2
elif [ -n "$SD" ] && [ -f "$SD/spamassassin/emails.csv" ] && [ -f "$SD/cooking/cooking.train" ]; then
    ep=3
    # spam: majority class share vs tutorial (learned embeddings: no pretrained vectors here)
    run "$WB" train --data "$SD/spamassassin/emails.csv" --test-size 0.2 --seed 1 --model tutorial --emb-dim 50 \
        --epochs "$ep" -o "$T/spam.wbm" --json -q
    expect_rc 0 "train spam"
    maj=$("$WB" data stats "$SD/spamassassin/emails.csv" --json 2>/dev/null | /usr/bin/python3 -c "
import json,sys
d=json.load(sys.stdin); c=[l['count'] for l in d['labels']]; print(max(c)/sum(c))" 2>/dev/null || echo 0.7)
    a=$(json_get test_acc)
    ge "$a" "$(awk -v m="$maj" 'BEGIN { print m + 0.1 }')" && ok || bad "spam: test accuracy $a vs majority $maj"
    # cooking: P@1 of kim vs the most frequent tag's share
    run "$WB" train --data "$SD/cooking/cooking.train" --test "$SD/cooking/cooking.valid" --unknown-label skip \
        --model kim --emb-dim 50 --epochs "$((ep * 2))" -o "$T/cook.wbm" --json -q
    expect_rc 0 "train cooking"
    p=$(json_get test_p_at_1)
    ge "$p" 0.15 && ok || bad "cooking: P@1 $p (the most frequent tag 'baking' is about 0.07)"
else
    echo "train_commands.sh: ../shared/data absent: shared-data checks skipped" >&2
fi

finish train_commands.sh
