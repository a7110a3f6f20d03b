#!/usr/bin/env bash
# eval_metrics.sh — `wordbench eval`'s figures without scikit-learn (the
# sklearn comparison is metrics_sklearn.sh): the issue-10 bug (a binary
# model's R@1 was correct / positives, 1.49 on the quick-start) stays fixed,
# the JSON fields hang together (per-class supports and confusion counts add
# up to the examples, micro figures of a single-label task equal accuracy),
# the text report's table, and `train --tune-threshold`: the threshold goes
# into the model file, eval and predict use it, --threshold overrides it;
# bad options exit 2 with nothing on stdout.
# Exit 0 pass, 1 fail, 77 skip.
set -u
. "$(dirname "$0")/lib.bash"
need_wb eval_metrics.sh
if [ -z "${WB_FIXTURES:-}" ]; then
    echo "eval_metrics.sh: set WB_FIXTURES (ctest does); skipping" >&2
    exit 77
fi
TX=$WB_FIXTURES/text
T=$(mktemp -d "${TMPDIR:-/tmp}/wb-evalm.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
PY=/usr/bin/python3

run() { "$@" >"$T/out" 2>"$T/err" </dev/null; rc=$?; }
expect_rc() { [ "$rc" -eq "$1" ] && ok || bad "$2: exit $rc, expected $1 (stderr: $(head -c 400 "$T/err"))"; }
# py EXPR: evaluate EXPR with j = the JSON document in $T/out; exit 0 when true
py() { $PY -c "import json,sys; j=json.load(open(sys.argv[1])); sys.exit(0 if ($1) else 1)" "$T/out"; }
jget() { $PY -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$T/out" "$1"; }

# ---- binary: the quick-start's case ------------------------------------------------------------
"$WB" train -q --data "$TX/demo_sentiment.tsv" --maxlen 20 --model kim --embeddings learned --emb-dim 16 \
    --epochs 3 -o "$T/bin.wbm" >/dev/null 2>&1 || bad "train binary"
run "$WB" eval "$T/bin.wbm" "$TX/demo_sentiment_test.tsv" --json
expect_rc 0 "eval binary --json"
py 'j["r_at_k"] <= 1 and j["p_at_k"] <= 1' && ok || bad "binary R@1 above 1: $(cat "$T/out")"
py 'abs(j["r_at_k"] - j["p_at_k"]) < 1e-12 and j["k"] == 1' && ok || bad "binary R@1 != P@1: $(cat "$T/out")"
py 'sum(c["support"] for c in j["classes"]) == j["examples"] == sum(x[2] for x in j["confusion"])' && ok ||
    bad "binary supports / confusion do not add up: $(cat "$T/out")"
py '[c["label"] for c in j["classes"]] == ["0", "1"] and 0 <= j["auc"] <= 1 and j["log_loss"] > 0' && ok ||
    bad "binary classes, auc, log loss: $(cat "$T/out")"
py 'abs(j["precision"] - j["classes"][1]["precision"]) < 1e-9 and abs(j["micro"]["f1"] - j["acc"]) < 1e-9' && ok ||
    bad "binary headline = class 1, micro F1 = accuracy: $(cat "$T/out")"
py 'j["threshold"] == 0.5' && ok || bad "untuned model's threshold: $(cat "$T/out")"
run "$WB" eval "$T/bin.wbm" "$TX/demo_sentiment_test.tsv"
expect_rc 0 "eval binary text"
grep -q '^ROC-AUC	0\.[0-9]*$' "$T/out" && grep -q '^log loss	' "$T/out" && grep -qE '^ +1 +[0-9]+ +[0-9]+$' "$T/out" &&
    grep -qE '^ +precision +recall +f1 +support$' "$T/out" && grep -qE '^ +macro avg +[0-9.]+ +[0-9.]+ +[0-9.]+ +100$' "$T/out" &&
    ! grep -q '^R@' "$T/out" && [ ! -s "$T/err" ] && ok || bad "eval binary text: $(cat "$T/out" "$T/err")"
run "$WB" eval "$T/bin.wbm" "$TX/demo_sentiment_test.tsv" --classes 0
! grep -q 'support' "$T/out" && grep -q '^accuracy	' "$T/out" && ok || bad "--classes 0 shows a table: $(cat "$T/out")"
run "$WB" eval "$T/bin.wbm" "$TX/demo_sentiment_test.tsv" --classes x
expect_rc 2 "--classes x"
[ ! -s "$T/out" ] && ok || bad "--classes x wrote to stdout"

# ---- --tune-threshold: stored, used by eval and predict, overridden by --threshold ---------------
run "$WB" train -q --data "$TX/demo_sentiment.tsv" --test-size 0.3 --seed 2 --maxlen 20 --model kim \
    --embeddings learned --emb-dim 16 --epochs 3 --tune-threshold -o "$T/tuned.wbm" --json
expect_rc 0 "train --tune-threshold"
th=$(jget threshold)
py '0 < j["threshold"] < 1 and 0 < j["threshold_f1"] <= 1' && ok || bad "tuned threshold: $(cat "$T/out")"
run "$WB" eval "$T/tuned.wbm" "$TX/demo_sentiment_test.tsv" --json
[ "$(jget threshold)" = "$th" ] && ok || bad "eval does not use the tuned threshold $th: $(cat "$T/out")"
run "$WB" eval "$T/tuned.wbm" "$TX/demo_sentiment_test.tsv" --json --threshold 0.5
[ "$(jget threshold)" = 0.5 ] && ok || bad "--threshold 0.5 does not override: $(cat "$T/out")"
# predict: the first label is 1 exactly when p(1) >= the tuned threshold
cut -f1 "$TX/demo_sentiment_test.tsv" >"$T/texts"
"$WB" predict "$T/tuned.wbm" "$T/texts" --top-k 2 --json >"$T/pred" 2>"$T/err" || bad "predict tuned: $(cat "$T/err")"
$PY - "$T/pred" "$th" <<'EOF' && ok || bad "predict ignores the tuned threshold $th"
import json, sys
import numpy as np
th = np.float32(float(sys.argv[2]))
for line in open(sys.argv[1]):
    ls = json.loads(line)["labels"]
    p1 = np.float32([x["prob"] for x in ls if x["label"] == "1"][0])
    if (ls[0]["label"] == "1") != (p1 >= th):
        sys.exit("line %s: first %s, p(1) %s" % (json.loads(line)["line"], ls[0]["label"], p1))
EOF
sed -E 's/^(__label__[^ ]+ )(__label__[^ ]+ )+/\1/' "$TX/demo_topics.txt" >"$T/mc.txt"
run "$WB" train -q --data "$T/mc.txt" --test-size 0.25 --maxlen 20 --model kim --embeddings learned --emb-dim 16 --epochs 2 --tune-threshold -o "$T/mc.wbm"
expect_rc 2 "--tune-threshold on a multiclass model"
[ ! -e "$T/mc.wbm" ] && grep -q 'no threshold' "$T/err" && ok || bad "multiclass --tune-threshold: $(cat "$T/err")"

# ---- multi-label: a tuned model predicts the labels at or above its threshold ------------------
run "$WB" train -q --data "$TX/demo_topics.txt" --test-size 0.25 --seed 3 --maxlen 20 --model pool --hidden 16 \
    --embeddings learned --emb-dim 16 --epochs 4 --tune-threshold -o "$T/ml.wbm" --json
expect_rc 0 "train multilabel --tune-threshold"
th=$(jget threshold)
run "$WB" eval "$T/ml.wbm" "$TX/demo_topics.txt" --json -k 2
py 'j["r_at_k"] <= 1 and j["task"] == "multilabel" and j["true_labels"] >= j["examples"]' && ok ||
    bad "multilabel eval: $(cat "$T/out")"
sed -E 's/(__label__[^ ]+ )+//' "$TX/demo_topics.txt" >"$T/mtexts"
"$WB" predict "$T/ml.wbm" "$T/mtexts" --json >"$T/pred" 2>"$T/err" || bad "predict multilabel: $(cat "$T/err")"
"$WB" predict "$T/ml.wbm" "$T/mtexts" --json --top-k 1000 >"$T/all" 2>"$T/err" || bad "predict --top-k 1000: $(cat "$T/err")"
$PY - "$T/pred" "$T/all" "$th" <<'EOF' && ok || bad "multi-label predict ignores the tuned threshold $th"
import json, sys
import numpy as np
th = np.float32(float(sys.argv[3]))
for a, b in zip(open(sys.argv[1]), open(sys.argv[2])):
    got = sorted(x["label"] for x in json.loads(a)["labels"])
    want = sorted(x["label"] for x in json.loads(b)["labels"] if np.float32(x["prob"]) >= th)
    if got != want:
        sys.exit("%s != %s" % (got, want))
EOF
"$WB" predict "$T/ml.wbm" "$T/mtexts" --top-k 1 >"$T/top1" 2>/dev/null
[ "$(awk -F'\t' 'NF != 2' "$T/top1" | wc -l)" -eq 0 ] && ok || bad "--top-k 1 on a tuned multi-label model: $(head -n 3 "$T/top1")"
finish eval_metrics.sh
