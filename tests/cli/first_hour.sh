#!/usr/bin/env bash
# first_hour.sh — the rough edges a new user met (issue 17), each as seen
# from the command line:
#   - CR LF and lone CR inside fields read as LF (Python's text mode): the
#     tokens of an e-mail with CRLF lines have no '\r';
#   - predict --threshold lists labels best first;
#   - eval --errors: a binary listing shows the probability of the label it
#     shows; multi-label listings follow --errors-by top1|topk|exact|threshold
#     (their counts equal the metrics' complements) and show the k best
#     labels with probabilities; --errors - --json is a usage error;
#   - eval of a file with labels the model never saw: keep (default; a true
#     label never predicted, one warning naming it), skip, error (exit 1);
#     both checked against fastText's `test` meter on the same predictions
#     (tools/fasttext_meter.py, itself checked against `fasttext test`);
#   - predict reads records (--format lines|fasttext|tsv|csv, --text-col,
#     --id-col): one output line per record, an empty record marked, a
#     warning when plain lines look labelled;
#   - messages: a store that moved (the path came from the model file: --store
#     or --embed-vectors), a binary file where text is expected (what it is,
#     not its bytes), convert of a file that is not vectors, bytes that do
#     not print escaped in every message;
#   - train of a multi-label model shows P@1 per epoch (not exact match) and,
#     with --valid, the saved model's validation P@1 / R@1, equal to eval's;
# Exit 0 pass, 1 fail, 77 skip.
set -u
. "$(dirname "$0")/lib.bash"
need_wb first_hour.sh
if [ -z "${WB_FIXTURES:-}" ]; then
    echo "first_hour.sh: set WB_FIXTURES (ctest does); skipping" >&2
    exit 77
fi
TX=$WB_FIXTURES/text
T=$(mktemp -d "${TMPDIR:-/tmp}/wb-first.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT


# ---- CR inside fields ----------------------------------------------------------------
printf 'text,label\r\n"From: a@example.com\r\nSubject: hi\r\n\r\nbody\rend",spam\r\nplain,ham\r\n' >"$T/cr.csv"
run "$WB" data show "$T/cr.csv"
expect_rc 0 "data show CRLF inside a quoted field"
grep -q $'\r' "$T/out" && bad "a token keeps a CR: $(cat -A "$T/out")" || ok
grep -qx $'spam\tfrom a example com subject hi body end' "$T/out" && ok || bad "CRLF tokens: $(cat -A "$T/out")"

# ---- a multi-label model of the topics fixture ----------------------------------------------
"$WB" convert -q "$WB_FIXTURES/vectors/demo.glove.txt" "$T/demo" || bad "convert demo"
run "$WB" train --data "$TX/demo_topics.txt" --test-size 0.25 --seed 3 --store "$T/demo" --model kim \
    --embeddings finetune --epochs 15 -o "$T/top.wbm" -q
expect_rc 0 "train topics"

# ---- multi-label training: P@1 per epoch and in the summary with --valid --------------------------
head -n 240 "$TX/demo_topics.txt" >"$T/tt.txt"
tail -n 60 "$TX/demo_topics.txt" >"$T/tv.txt"
run "$WB" train --data "$T/tt.txt" --valid "$T/tv.txt" --store "$T/demo" --model kim --epochs 4 -o "$T/tv.wbm" \
    --history "$T/tv.csv"
expect_rc 0 "train multi-label --valid"
[ "$(grep -c '^Epoch [1-4]/4 240/240 .* loss [0-9.]* P@1 [0-9.]* val_loss [0-9.]* val_P@1 [0-9.]* val_R@1 [0-9.]*$' "$T/err")" -eq 4 ] &&
    ! grep -q 'acc' "$T/err" && ok || bad "multi-label epoch lines: $(cat "$T/err")"
grep -q '^validation (epoch [1-4]): 60 examples, loss [0-9.]*, P@1 [0-9.]*, R@1 [0-9.]*$' "$T/out" && ok ||
    bad "multi-label summary with --valid: $(cat "$T/out")"
head -n 1 "$T/tv.csv" | grep -qx 'epoch,loss,p_at_1,val_loss,val_p_at_1,val_r_at_1,seconds' && [ "$(wc -l <"$T/tv.csv")" -eq 5 ] &&
    ok || bad "multi-label history: $(cat "$T/tv.csv")"
summ=$(sed -n 's/^validation (epoch [0-9]*): 60 examples, loss [0-9.]*, \(P@1 [0-9.]*, R@1 [0-9.]*\)$/\1/p' "$T/out")
run "$WB" eval "$T/tv.wbm" "$T/tv.txt"
ev=$(awk -F'\t' '$1 == "P@1" { p = $2 } $1 == "R@1" { r = $2 } END { printf "P@1 %s, R@1 %s", p, r }' "$T/out")
[ "$summ" = "$ev" ] && ok || bad "train's validation '$summ' differs from eval's '$ev'"

# ---- predict --threshold: best first ------------------------------------------------------
printf 'queen king castle son\nwoman kitchen house\n' >"$T/q.txt"
run "$WB" predict "$T/top.wbm" "$T/q.txt" --threshold 0.001
expect_rc 0 "predict --threshold"
awk -F'\t' '{ if (NF < 4) exit 1; for (i = 4; i <= NF; i += 2) if ($i > $(i - 2)) exit 1 }' "$T/out" && ok ||
    bad "predict --threshold is not sorted by probability: $(cat "$T/out")"
run "$WB" predict "$T/top.wbm" "$T/q.txt" --threshold 0.001 --json
/usr/bin/python3 -c '
import json, sys
for line in open(sys.argv[1]):
    p = [l["prob"] for l in json.loads(line)["labels"]]
    assert len(p) >= 2 and p == sorted(p, reverse=True), p
' "$T/out" && ok || bad "predict --threshold --json is not sorted: $(cat "$T/out")"

# ---- predict reads records -----------------------------------------------------------------------
run "$WB" predict "$T/top.wbm" "$TX/demo_topics.txt"
expect_rc 0 "predict a labelled file as lines"
has "warning: $TX/demo_topics.txt:1 starts with '__label__': a labelled fastText file? predict reads plain lines, so its labels are read as words; give --format fasttext" "labelled-lines warning"
run "$WB" predict "$T/top.wbm" "$TX/demo_topics.txt" --format fasttext -k 2
expect_rc 0 "predict --format fasttext"
[ ! -s "$T/err" ] && ok || bad "predict --format fasttext warned: $(cat "$T/err")"
[ "$(wc -l <"$T/out")" -eq 300 ] && ok || bad "predict --format fasttext: $(wc -l <"$T/out") lines for 300 records"
sed 's/__label__[^ ]* //g' "$TX/demo_topics.txt" | "$WB" predict "$T/top.wbm" -k 2 >"$T/stripped.out" 2>/dev/null
cmp -s "$T/out" "$T/stripped.out" && ok || bad "--format fasttext predicts otherwise than the same lines without labels"
printf 'id,note,text\n"a-1",x,"queen\r\nking castle"\n"b 2",y,"dog\n\ncat"\n"c3",z,""\n' >"$T/recs.csv"
run "$WB" predict "$T/top.wbm" "$T/recs.csv" --format csv --id-col id
expect_rc 0 "predict --format csv --id-col"
[ "$(cut -f1 "$T/out" | tr '\n' ' ')" = "a-1 b 2 c3 " ] && [ "$(sed -n 3p "$T/out")" = $'c3\t(empty)' ] && ok ||
    bad "predict csv with ids: $(cat "$T/out")"
has "warning: $T/recs.csv: 1 record without any token (the first at line 7): no prediction, marked (empty)" "empty record warning"
sed -n 1p "$T/out" | grep -q $'^a-1\troyalty\t' && ok || bad "predict csv: the royal record: $(sed -n 1p "$T/out")"
run "$WB" predict "$T/top.wbm" "$T/recs.csv"
has "looks like CSV: predict reads one text per physical line; give --format csv" "csv-as-lines warning"
printf 'queen king\n\n...\ndog cat\n' >"$T/blank.txt"
run "$WB" predict "$T/top.wbm" "$T/blank.txt" --json
expect_rc 0 "predict with blank lines"
[ "$(wc -l <"$T/out")" -eq 4 ] && [ "$(grep -c '"labels": \[\], "empty": true}$' "$T/out")" -eq 2 ] &&
    grep -q '^{"line": 4, "labels": \[{"label": "animals"' "$T/out" && ok || bad "predict --json with empty records: $(cat "$T/out")"
printf 'queen king castle\tignored\nno tab dog cat\n' >"$T/recs.tsv"
run "$WB" predict "$T/top.wbm" "$T/recs.tsv" --format tsv
expect_rc 0 "predict --format tsv"
[ "$(cut -f1 "$T/out" | tr '\n' ' ')" = "royalty animals " ] && ok || bad "predict tsv: $(cat "$T/out")"
run "$WB" predict "$T/top.wbm" "$T/recs.tsv" --id-col id
expect_rc 2 "--id-col without --format csv"

# ---- messages ------------------------------------------------------------------------------------
printable() { LC_ALL=C grep -q '[^[:print:]]' "$T/err" && bad "$1: stderr holds bytes that do not print: $(cat -A "$T/err")" || ok; }
mv "$T/demo" "$T/demo.moved"
run "$WB" predict "$T/top.wbm" "$T/q.txt"
expect_rc 1 "predict with a moved store"
has "$T/demo: cannot open the store: No such file or directory; $T/top.wbm recorded this store path when it was trained: if the store has moved, give --store DIR (its fingerprint is checked), or train with --embed-vectors to run without the store" "moved store message"
run "$WB" predict "$T/top.wbm" "$T/q.txt" --store "$T/demo.moved"
expect_rc 0 "predict --store at the new place"
mv "$T/demo.moved" "$T/demo"
run "$WB" data stats "$T/top.wbm"
expect_rc 1 "data stats of a model file"
has "$T/top.wbm: a wordbench model file, not text (eval, predict and summary take it as MODEL)" "model file as text"
printable "data stats of a model file"
run "$WB" eval "$T/top.wbm" "$T/demo/vectors.npy"
expect_rc 1 "eval on an NPY file"
has "vectors.npy: an NPY array, not text" "NPY as text"
printable "eval on an NPY file"
run "$WB" data stats "$T/demo"
expect_rc 1 "data stats of a store"
has "$T/demo: a directory, not a text file (a store made by 'wordbench convert'?)" "store as text"
run "$WB" info "$T/top.wbm"
expect_rc 1 "info of a model file"
has "$T/top.wbm: a wordbench model file, not a store directory" "model file as a store"
run "$WB" convert "$T/recs.csv" "$T/no.store"
expect_rc 1 "convert a CSV"
has "cannot find any numbers after the word on the first line ('id,note,text'): this looks like CSV, not word vectors" "convert of a CSV"
run "$WB" convert "$TX/demo_topics.txt" "$T/no.store"
has "this looks like fastText training data (labels and text), not word vectors" "convert of fastText training data"
run "$WB" convert "$T/top.wbm" "$T/no.store"
expect_rc 1 "convert a model file"
has "$T/top.wbm: a wordbench model file, not word vectors" "convert of a model file"
printable "convert of a model file"
[ ! -e "$T/no.store" ] && ok || bad "a failed convert left $T/no.store"
run "$WB" lookup "$T/demo" "$(printf 'caf\xe9\rx\x01')"
expect_rc 1 "lookup of a word with control bytes"
has "'caf\xe9\rx\x01' is not in the store" "escaped word in a message"
printable "lookup of a word with control bytes"

# ---- eval --errors: binary -------------------------------------------------------------------
json_get() { /usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$T/out" "$1"; }
HAVE_PY=0
[ -x /usr/bin/python3 ] && HAVE_PY=1
"$WB" train --data "$TX/demo_sentiment.tsv" --test "$TX/demo_sentiment_test.tsv" --store "$T/demo" --model tutorial \
    --maxlen 20 --epochs 3 -o "$T/sent.wbm" -q >/dev/null 2>&1 || bad "train sentiment"
run "$WB" eval "$T/sent.wbm" "$TX/demo_sentiment_test.tsv" --errors "$T/err.tsv"
expect_rc 0 "eval --errors binary"
[ -s "$T/err.tsv" ] && ok || bad "binary model without errors: the check below would be void"
awk -F'\t' '{ split($3, a, " "); if (a[1] == $2 || a[2] < 0.5) exit 1 }' "$T/err.tsv" && ok ||
    bad "binary error listing: a shown label that is the truth, or its probability below 0.5: $(head -n 3 "$T/err.tsv")"
line=$(head -n 1 "$T/err.tsv")
n=$(printf '%s' "$line" | cut -f1 | sed 's/.*://')
shown=$(printf '%s' "$line" | cut -f3)
pred=$(sed -n "${n}p" "$TX/demo_sentiment_test.tsv" | cut -f1 | "$WB" predict "$T/sent.wbm" | cut -f1-2 | awk -F'\t' '{ printf "%s %.4f", $1, $2 }')
[ "$shown" = "$pred" ] && ok || bad "error listing says '$shown' where predict says '$pred'"
run "$WB" eval "$T/sent.wbm" "$TX/demo_sentiment_test.tsv" --errors - --json
expect_rc 2 "eval --errors - --json"
has "--errors - and --json would both write to stdout" "--errors - --json message"
run "$WB" eval "$T/sent.wbm" "$TX/demo_sentiment_test.tsv" --errors-by topk
expect_rc 2 "--errors-by without --errors"

# ---- eval --errors: multi-label ---------------------------------------------------------------
# the topics fixture with unknown labels: one record with a new label beside a known one, one with
# only new labels
{
    sed -n '1,40p' "$TX/demo_topics.txt"
    echo "__label__royalty __label__heraldry queen castle crown"
    echo "__label__porridge oats breakfast spoon"
} >"$T/top_test.txt"
if [ "$HAVE_PY" -eq 1 ]; then
    for rule in top1 topk exact threshold; do
        run "$WB" eval "$T/top.wbm" "$TX/demo_topics.txt" -k 2 --errors "$T/e_$rule.tsv" --errors-by "$rule" --json
        expect_rc 0 "eval --errors-by $rule"
        eval "n_$rule=$(json_get errors)"
    done
    N=$(json_get examples)
    acc=$(json_get acc)
    run "$WB" eval "$T/top.wbm" "$TX/demo_topics.txt" -k 1 --json
    p1=$(json_get p_at_k)
    [ "$n_top1" -eq "$(awk -v n="$N" -v p="$p1" 'BEGIN { printf "%d", n - n * p + 0.5 }')" ] && ok ||
        bad "errors-by top1: $n_top1 errors, but P@1 $p1 of $N examples"
    [ "$n_exact" -eq "$(awk -v n="$N" -v a="$acc" 'BEGIN { printf "%d", n - n * a + 0.5 }')" ] && ok ||
        bad "errors-by exact: $n_exact errors, but exact-match accuracy $acc of $N examples"
    [ "$n_topk" -le "$n_top1" ] && [ "$n_threshold" -le "$n_exact" ] && [ "$n_exact" -gt 0 ] && ok ||
        bad "errors-by counts: top1 $n_top1 topk $n_topk exact $n_exact threshold $n_threshold"
    awk -F'\t' '{ if (split($3, a, ", ") != 2) exit 1 }' "$T/e_top1.tsv" && ok ||
        bad "-k 2: two predictions per listed error expected: $(head -n 2 "$T/e_top1.tsv")"
    awk -F'\t' '{ n = split($3, a, ", "); for (i = 1; i <= n; i++) { split(a[i], b, " "); if (b[2] < 0.5) exit 1 } }' \
        "$T/e_exact.tsv" && ok || bad "errors-by exact shows a label below the threshold: $(head -n 3 "$T/e_exact.tsv")"
else
    echo "first_hour.sh: /usr/bin/python3 missing: --errors-by checks skipped" >&2
fi

# ---- eval: labels the model never saw ---------------------------------------------------------
run "$WB" eval "$T/top.wbm" "$T/top_test.txt" -k 2
expect_rc 0 "eval with unknown labels (keep)"
has "warning: $T/top_test.txt: 2 true labels in 2 records are not among the model's 4 labels (2 distinct: 'heraldry', 'porridge')" "keep warning"
[ "$(grep -c . "$T/err")" -eq 1 ] && ok || bad "more than one warning: $(cat "$T/err")"
run "$WB" eval "$T/top.wbm" "$T/top_test.txt" --unknown-label error
expect_rc 1 "eval --unknown-label error"
has "top_test.txt:41: label 'heraldry' is not one of the model's 4 labels" "unknown label error"
run "$WB" eval "$T/top.wbm" "$T/top_test.txt" --unknown-label skip
expect_rc 0 "eval --unknown-label skip"
has "2 labels the model does not know dropped (2 distinct: 'heraldry', 'porridge'); 1 record left without labels skipped" "skip warning"
grep -qx $'examples\t41' "$T/out" && ok || bad "skip: 41 examples expected: $(cat "$T/out")"

# the same predictions through fastText's meter
if [ "$HAVE_PY" -eq 1 ] && command -v fasttext >/dev/null; then
    M=$WB_TOOLS/fasttext_meter.py
    fasttext supervised -input "$TX/demo_topics.txt" -output "$T/ft" -epoch 25 -lr 0.5 -loss ova -thread 1 -seed 1 \
        -verbose 0 >/dev/null 2>&1 || bad "fasttext supervised"
    for k in 1 2; do
        fasttext predict-prob "$T/ft.bin" "$T/top_test.txt" "$k" >"$T/ftp$k.txt"
        fasttext test "$T/ft.bin" "$T/top_test.txt" "$k" >"$T/ftt$k.txt" 2>/dev/null
        /usr/bin/python3 "$M" "$TX/demo_topics.txt" "$T/top_test.txt" "$T/ftp$k.txt" "$k" skip >"$T/ftm$k.txt"
        # fastText prints 3 significant digits
        paste "$T/ftt$k.txt" "$T/ftm$k.txt" | awk -F'\t' '$1 != $3 { exit 1 }
            { d = $2 - $4; if (d < 0) d = -d; if (d > 0.005 * ($4 > 1 ? $4 : 1)) exit 1 }' && [ "$(wc -l <"$T/ftt$k.txt")" -eq 3 ] && ok ||
            bad "fasttext_meter.py differs from fasttext test at k=$k: $(cat "$T/ftt$k.txt" "$T/ftm$k.txt" | tr '\n' ' ')"
        "$WB" predict "$T/top.wbm" "$T/top_test.txt" --format fasttext --json --top-k "$k" -b 64 >"$T/wbp$k.txt"
        for mode in skip keep; do
            /usr/bin/python3 "$M" "$TX/demo_topics.txt" "$T/top_test.txt" "$T/wbp$k.txt" "$k" "$mode" >"$T/ref.txt"
            run "$WB" eval "$T/top.wbm" "$T/top_test.txt" -k "$k" -b 64 --unknown-label "$mode" --json
            got=$(/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("N\t%d\nP@%d\t%.6g\nR@%d\t%.6g" % (d["examples"], d["k"], d["p_at_k"], d["k"], d["r_at_k"]))' "$T/out")
            [ "$got" = "$(cat "$T/ref.txt")" ] && ok ||
                bad "eval --unknown-label $mode -k $k: $(echo $got) vs fastText's meter on the same predictions: $(cat "$T/ref.txt" | tr '\n' ' ')"
        done
    done
else
    echo "first_hour.sh: fasttext or /usr/bin/python3 missing: the fastText comparison is skipped" >&2
fi

finish first_hour.sh
