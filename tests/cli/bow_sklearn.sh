#!/usr/bin/env bash
# bow_sklearn.sh — parity of `wordbench train --model bow` with scikit-learn: for each file
# fixtures/sklearn/bow_*.txt (tools/sklearn_ref_bow.py: LogisticRegression on CountVectorizer
# [+ TfidfTransformer] at the C of the same objective; binary, multiclass softmax, multi-label, counts and
# tf-idf, 1- and 2-grams) train the bow model to convergence (full batch, Adam) with the file's options,
# predict every label's probability of its test records and compare: both minimise the same strictly
# convex function, so the probabilities agree to 1e-3 (measured: ≤ 5e-5). A control run with twice the L2
# must disagree (the check can tell objectives apart). Needs no Python at test time but for reading
# JSON. Exit 0 pass, 1 fail, 77 skip.
set -u
. "$(dirname "$0")/lib.bash"
need_wb bow_sklearn.sh
if [ -z "${WB_FIXTURES:-}" ]; then
    echo "bow_sklearn.sh: set WB_FIXTURES (ctest does); skipping" >&2
    exit 77
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/wb-bowsk.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
TOL=1e-3

# worst |p - p_sklearn| over the test records and labels of REF, predictions (JSON Lines) in PRED
worst() {
    /usr/bin/python3 - "$1" "$2" <<'PY'
import json, sys
ref, pred = sys.argv[1], sys.argv[2]
rows, labels = [], None
for line in open(ref, encoding="utf-8"):
    if line.startswith("labels "):
        labels = line.split()[1:]
    elif line[:1].isdigit():
        rows.append([float(v) for v in line.split()])
got = [json.loads(l) for l in open(pred, encoding="utf-8")]
if len(got) != len(rows):
    sys.exit("%d predictions for %d reference records" % (len(got), len(rows)))
w = 0.0
for r, g in zip(rows, got):
    p = {d["label"]: d["prob"] for d in g["labels"]}
    w = max(w, max(abs(p[l] - v) for l, v in zip(labels, r)))
print("%.3g" % w)
PY
}

# fit REF [extra train options]: train, predict, print the worst difference (or fail)
fit() {
    local ref=$1 args test fmt nl
    shift
    read -r -a args <<<"$(sed -n 's/^train //p' "$ref")"
    read -r test fmt <<<"$(sed -n 's/^test //p' "$ref")"
    nl=$(sed -n 's/^labels //p' "$ref" | wc -w)
    for i in "${!args[@]}"; do [ "${args[$i]}" = --data ] && args[$((i + 1))]=$WB_FIXTURES/${args[$((i + 1))]}; done
    run "$WB" train "${args[@]}" "$@" --batch-size 65536 --epochs 500 --lr 0.05 --threads 1 --seed 1 --no-cache -q \
        -o "$T/m.wbm"
    [ "$rc" -eq 0 ] || { echo "train exit $rc: $(head -c 400 "$T/err")"; return 1; }
    run "$WB" predict -f "$fmt" -k "$nl" --json "$T/m.wbm" "$WB_FIXTURES/$test"
    [ "$rc" -eq 0 ] || { echo "predict exit $rc: $(head -c 400 "$T/err")"; return 1; }
    worst "$ref" "$T/out"
}
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 <= b + 0) }'; }

n=0
for ref in "$WB_FIXTURES"/sklearn/bow_*.txt; do
    n=$((n + 1))
    name=$(basename "$ref" .txt)
    d=$(fit "$ref") && le "$d" "$TOL" && ok || bad "$name: worst probability difference to scikit-learn $d > $TOL"
done
[ "$n" -ge 4 ] && ok || bad "only $n reference files in $WB_FIXTURES/sklearn"

# control: the same data with twice the L2 is another optimum, which the comparison must see
ref=$WB_FIXTURES/sklearn/bow_counts1_binary.txt
l2=$(sed -n 's/^train .*--l2 \([^ ]*\).*/\1/p' "$ref")
d=$(fit "$ref" --l2 "$(awk -v v="$l2" 'BEGIN { printf "%.9g", 2 * v }')") && ! le "$d" "$TOL" && ok ||
    bad "control: twice the L2 still within $TOL of scikit-learn ($d)"
finish bow_sklearn.sh
