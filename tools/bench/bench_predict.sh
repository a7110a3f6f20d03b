#!/usr/bin/env bash
# bench_predict.sh — inference speed (issue 12): `wordbench predict` over a file of --lines lines, next to
# PyTorch inference of the same model (tools/bench/torch_predict.py: torch.no_grad, batch 256) and
# `fasttext predict`, in one run.
#
# Data: cooking (../shared/data/cooking, fastText format).  Each tool learns from cooking.train (the timing
# is of prediction only): wordbench `train --model M --epochs 1` with learned embeddings (--emb-dim E),
# fastText `supervised` with its defaults.  The input is the texts of cooking.train (labels dropped),
# repeated up to --lines lines.  Timed: each tool's whole command (read, tokenize, model, write the best
# label per line; wall seconds from /usr/bin/time), --reps times, alternating; the report gives the best
# (least disturbed) run of each and examples/s = lines / that time.  torch_predict.py also reports its
# forward passes alone.  Runs at `nice --nice`.  Everything goes to --workdir; the report is printed and
# saved as WORKDIR/report-predict.md.  Exit 77 when the cooking data is absent.
set -euo pipefail

usage() {
    cat <<'EOF'
usage: tools/bench/bench_predict.sh [options]

  --build DIR      build directory with wordbench (default: ./build)
  --data DIR       cooking data (default: ../shared/data/cooking beside the repository)
  --workdir DIR    models, inputs, outputs (default: /tmp/wb-predict)
  --lines N        input lines (default: 100000)
  --model M        tutorial or kim (default: kim)
  --emb-dim N      embedding dimension (default: 100)
  --maxlen N       tokens per line (default: 100)
  --reps N         runs of each tool (default: 3)
  --threads N      wordbench predict --threads and torch threads (default: 1)
  --nice N         niceness (default: 10)
  -h, --help       this help
EOF
}

repo=$(cd "$(dirname "$0")/../.." && pwd)
build="$repo/build"
data="$repo/../shared/data/cooking"
work=/tmp/wb-predict
lines=100000
model=kim
emb=100
maxlen=100
reps=3
threads=1
nicev=10
while [ $# -gt 0 ]; do
    case "$1" in
        --build) build=$(cd "$2" && pwd); shift 2 ;;
        --data) data=$2; shift 2 ;;
        --workdir) work=$2; shift 2 ;;
        --lines) lines=$2; shift 2 ;;
        --model) model=$2; shift 2 ;;
        --emb-dim) emb=$2; shift 2 ;;
        --maxlen) maxlen=$2; shift 2 ;;
        --reps) reps=$2; shift 2 ;;
        --threads) threads=$2; shift 2 ;;
        --nice) nicev=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "bench_predict.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done
W=$build/wordbench
[ -x "$W" ] || { echo "bench_predict.sh: $W not built" >&2; exit 1; }
[ -s "$data/cooking.train" ] || { echo "bench_predict.sh: no $data/cooking.train; skipping" >&2; exit 77; }
command -v fasttext >/dev/null || { echo "bench_predict.sh: fasttext is needed" >&2; exit 1; }
mkdir -p "$work"

# ---- models and input -----------------------------------------------------------------------------
"$W" train --data "$data/cooking.train" --format fasttext --model "$model" --emb-dim "$emb" --maxlen "$maxlen" \
    --epochs 1 --seed 1 -q -o "$work/cooking.wbm"
fasttext supervised -input "$data/cooking.train" -output "$work/cooking-ft" >/dev/null 2>&1
sed -E 's/^(__label__[^ ]* )+//' "$data/cooking.train" >"$work/texts.txt"
: >"$work/input.txt"
while [ "$(wc -l <"$work/input.txt")" -lt "$lines" ]; do cat "$work/texts.txt" >>"$work/input.txt"; done
head -n "$lines" "$work/input.txt" >"$work/input.tmp" && mv "$work/input.tmp" "$work/input.txt"

# ---- runs -----------------------------------------------------------------------------------------
res="$work/predict.tsv"
: >"$res"
timed() { # name command...: wall seconds into $res
    local name=$1
    shift
    /usr/bin/time -f '%e %M' -o "$work/time-$name" nice -n "$nicev" "$@" >"$work/out-$name" 2>"$work/err-$name" ||
        { echo "bench_predict.sh: $name failed: $(tail -n 3 "$work/err-$name")" >&2; exit 1; }
    printf '%s\t%s\t%s\n' "$name" "$(cut -d' ' -f1 "$work/time-$name")" "$(cut -d' ' -f2 "$work/time-$name")" >>"$res"
}
wcmd=("$W" predict "$work/cooking.wbm" "$work/input.txt" --threads "$threads" -b 256)
tcmd=(/usr/bin/python3 "$repo/tools/bench/torch_predict.py" --train "$data/cooking.train" --input "$work/input.txt"
      --model "$model" --maxlen "$maxlen" --emb-dim "$emb" --threads "$threads" --out "$work/torch-labels.txt")
fcmd=(fasttext predict "$work/cooking-ft.bin" "$work/input.txt")
for rep in $(seq 1 "$reps"); do
    timed wordbench "${wcmd[@]}"
    timed torch "${tcmd[@]}"
    cp "$work/out-torch" "$work/torch-$rep.json"
    timed fasttext "${fcmd[@]}"
done
[ "$(wc -l <"$work/out-wordbench")" -eq "$lines" ] || { echo "bench_predict.sh: wordbench wrote $(wc -l <"$work/out-wordbench") lines" >&2; exit 1; }

# ---- report ---------------------------------------------------------------------------------------
{
    echo "## bench_predict.sh"
    echo
    echo "Machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, shared with other work (load average $(cut -d' ' -f1-3 /proc/loadavg))."
    echo "Input: $lines lines (cooking.train's texts repeated); model: $model, learned embeddings E=$emb, maxlen $maxlen; best of $reps runs; nice $nicev."
    echo
    /usr/bin/python3 - "$res" "$lines" "$work" "$reps" <<'PY'
import json, sys
res, n, work, reps = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
rows = [l.split("\t") for l in open(res)]
best = {}
for name, s, kb in rows:
    if name not in best or float(s) < best[name][0]:
        best[name] = (float(s), int(kb))
tj = [json.loads(open("%s/torch-%d.json" % (work, r)).read()) for r in range(1, reps + 1)]
fwd = max(t["forward_examples_per_s"] for t in tj)
print("| tool | wall s | examples/s | peak RSS MB | wordbench ratio |")
print("|---|---:|---:|---:|---:|")
w = best["wordbench"][0]
for name in ("wordbench", "torch", "fasttext"):
    s, kb = best[name]
    print("| %s | %.2f | %.0f | %.0f | %s |" % (name, s, n / s, kb / 1024, "1" if name == "wordbench" else "%.2f×" % (s / w)))
print()
print("PyTorch's forward passes alone (no reading, tokenizing, writing): %.0f examples/s (best run)." % fwd)
PY
    echo
    echo "Commands: \`${wcmd[*]}\`; \`${tcmd[*]}\`; \`${fcmd[*]}\`"
} | tee "$work/report-predict.md"
