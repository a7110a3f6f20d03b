#!/usr/bin/env bash
# old_models.sh — model files written by an older wordbench still load and predict the same:
# fixtures/models/*.wbm were made by commit dc25ce4 (the last build before the model became a
# graph of parts, issue 11; tools/make_old_models.sh), with the predictions that build printed
# (*.pred). Today's build predicts them with the store converted again from the same vectors;
# the output must be byte-identical on the machine named in fixtures/models/MACHINE (its OpenBLAS
# kernels made the files) and within 1e-6 per probability elsewhere. Every kind, embedding mode
# and task is covered (fixtures/models/cases.txt). Also: eval and summary accept each file.
# Exit 0 pass, 1 fail, 77 skip.
set -u
. "$(dirname "$0")/lib.bash"
need_wb old_models.sh
if [ -z "${WB_FIXTURES:-}" ]; then
    echo "old_models.sh: set WB_FIXTURES (ctest does); skipping" >&2
    exit 77
fi
MD=$WB_FIXTURES/models
T=$(mktemp -d "${TMPDIR:-/tmp}/wb-oldmodels.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
"$WB" convert -q "$WB_FIXTURES/vectors/demo.glove.txt" "$T/demo" >/dev/null || { bad "convert demo"; finish old_models.sh; }
same_machine=0
[ "$(cat "$MD/MACHINE")" = "$(lscpu | sed -n 's/^Model name: *//p')" ] && same_machine=1
close() { # A B: the same records and labels, probabilities within 1e-6
    /usr/bin/python3 - "$1" "$2" <<'PY'
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
ok = len(a) == len(b) and all(
    x["line"] == y["line"] and [l["label"] for l in x["labels"]] == [l["label"] for l in y["labels"]]
    and all(abs(l["prob"] - m["prob"]) <= 1e-6 for l, m in zip(x["labels"], y["labels"])) for x, y in zip(a, b))
sys.exit(0 if ok else 1)
PY
}
n=0
for f in "$MD"/*.wbm; do
    name=$(basename "$f" .wbm)
    n=$((n + 1))
    run "$WB" predict -k 3 --json -s "$T/demo" "$f" "$WB_FIXTURES/text/demo_sentiment_test.tsv"
    expect_rc 0 "predict $name"
    if [ $same_machine = 1 ]; then
        cmp -s "$T/out" "$MD/$name.pred" && ok || bad "$name: predictions differ from the old build's: $(diff "$T/out" "$MD/$name.pred" | head -4)"
    else
        close "$T/out" "$MD/$name.pred" && ok || bad "$name: predictions differ from the old build's by more than 1e-6"
    fi
    run "$WB" summary "$f"
    expect_rc 0 "summary $name"
    data=$(awk -v n="$name" '$1 == n { for (i = 2; i <= NF; i++) if ($i == "--data") print $(i + 1) }' "$MD/cases.txt")
    run "$WB" eval -s "$T/demo" "$f" "$WB_FIXTURES/${data#fixtures/}"
    expect_rc 0 "eval $name"
done
[ "$n" -ge 8 ] && ok || bad "only $n old model files in $MD"
finish old_models.sh
