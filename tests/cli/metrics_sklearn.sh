#!/usr/bin/env bash
# metrics_sklearn.sh — the figures of `wordbench eval --json` checked live
# against scikit-learn (Debian python3-sklearn; skipped with a message when it
# is missing, CI installs it): models trained on the fixtures for the three
# tasks, their probabilities printed by `predict --json` (every label, %.9g,
# so the floats are exact), and tools/sklearn_metrics.py computing the same
# figures with sklearn from them; then tools/make_metrics_reference.py is run
# again into a scratch directory and must give fixtures/metrics/ byte for
# byte (a newer sklearn that disagrees is noticed here).
# Exit 0 pass, 1 fail, 77 skip.
set -u
. "$(dirname "$0")/lib.bash"
need_wb metrics_sklearn.sh
PY=/usr/bin/python3
if ! $PY -c 'import sklearn, numpy' 2>/dev/null; then
    echo "metrics_sklearn.sh: python3-sklearn is not installed (tools/install-deps.sh installs it); skipping" >&2
    exit 77
fi
if [ -z "${WB_FIXTURES:-}" ] || [ -z "${WB_TOOLS:-}" ]; then
    echo "metrics_sklearn.sh: set WB_FIXTURES and WB_TOOLS (ctest does); skipping" >&2
    exit 77
fi
TX=$WB_FIXTURES/text
T=$(mktemp -d "${TMPDIR:-/tmp}/wb-sklearn.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT

# the committed fixtures are what this sklearn computes
$PY "$WB_TOOLS/make_metrics_reference.py" "$T/ref" >/dev/null 2>"$T/err" || bad "make_metrics_reference.py: $(cat "$T/err")"
for f in "$WB_FIXTURES"/metrics/*.txt; do
    # the first line names the versions; the figures must agree
    if diff <(tail -n +2 "$f") <(tail -n +2 "$T/ref/$(basename "$f")") >"$T/diff"; then ok; else
        bad "fixtures/metrics/$(basename "$f") differs from this scikit-learn's: $(head -c 600 "$T/diff")"
    fi
done

# eval --json against sklearn on the model's own probabilities
check() { # name, model, test file, threshold, k
    local name=$1 model=$2 file=$3 th=$4 k=$5
    "$WB" eval "$model" "$file" --json --threshold "$th" -k "$k" >"$T/eval.json" 2>"$T/err" ||
        { bad "$name: eval: $(cat "$T/err")"; return; }
    # the texts as predict reads them: fastText lines lose their labels, TSV its label column
    case "$file" in
    *.tsv) cut -f1 "$file" >"$T/texts" ;;
    *) sed -E 's/(__label__[^ ]+ )+//' "$file" >"$T/texts" ;;
    esac
    "$WB" predict "$model" "$T/texts" --json --top-k 1000 >"$T/pred.jsonl" 2>"$T/err" ||
        { bad "$name: predict: $(cat "$T/err")"; return; }
    if $PY "$WB_TOOLS/sklearn_metrics.py" "$T/eval.json" "$T/pred.jsonl" "$file" "$th" "$k" >"$T/out" 2>&1; then ok; else
        bad "$name: eval --json differs from scikit-learn: $(cat "$T/out")"
    fi
}
"$WB" train -q --data "$TX/demo_sentiment.tsv" --maxlen 20 --model kim --embeddings learned --emb-dim 16 \
    --epochs 3 -o "$T/bin.wbm" >/dev/null 2>&1 || bad "train binary"
check binary "$T/bin.wbm" "$TX/demo_sentiment_test.tsv" 0.5 1
check "binary at 0.3" "$T/bin.wbm" "$TX/demo_sentiment_test.tsv" 0.3 1
"$WB" train -q --data "$TX/demo_topics.txt" --maxlen 20 --model pool --hidden 16 --embeddings learned --emb-dim 16 \
    --epochs 4 -o "$T/ml.wbm" >/dev/null 2>&1 || bad "train multilabel"
check multilabel "$T/ml.wbm" "$TX/demo_topics.txt" 0.4 2
# a multi-class copy of the topics: the first label of every line only
sed -E 's/^(__label__[^ ]+ )(__label__[^ ]+ )+/\1/' "$TX/demo_topics.txt" >"$T/mc.txt"
"$WB" train -q --data "$T/mc.txt" --maxlen 20 --model kim --embeddings learned --emb-dim 16 --epochs 3 \
    -o "$T/mc.wbm" >/dev/null 2>&1 || bad "train multiclass"
check multiclass "$T/mc.wbm" "$T/mc.txt" 0.5 3
finish metrics_sklearn.sh
