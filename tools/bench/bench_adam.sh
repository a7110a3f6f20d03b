#!/usr/bin/env bash
# bench_adam.sh — Adam on fine-tuned embedding rows (issue 12): cooking `kim` fine-tuned, the test P@1
# after given epochs, wordbench's catch-up (the default: dense Adam's trajectory at sparse cost) and lazy
# (torch.optim.SparseAdam's rule) next to PyTorch's dense torch.optim.Adam, in one run.
#
# Every implementation trains the same 8 (--epochs) epochs once, evaluating on the test file after every
# epoch; the table shows P@1 at --at epochs, training examples/s, and Δ points to PyTorch.  Optional
# --dense adds wordbench --adam dense (every row every step: the exact reference, slow).
#
# Data: ../shared/data/cooking (cooking.train; cooking.valid as the test set, records with tags
# cooking.train lacks skipped on both sides).  Vectors: tools/bench/make_vec.sh cooking (fastText
# skipgram on the training titles) into --workdir, converted to a store there.
set -euo pipefail
prog=bench_adam.sh
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=lib.bash
. "$here/lib.bash"

usage() {
    cat <<'USAGE'
usage: tools/bench/bench_adam.sh [options]

  --build DIR      a build with wordbench (default: build)
  --workdir DIR    vectors, store, models, logs (default: /tmp/wb-bench-adam; outside the repository)
  --data DIR       the shared data sets (default: ../shared/data)
  --epochs N       epochs (default: 8)
  --at LIST        epochs to report, comma separated (default: 3,6,8)
  --threads N      threads of each side (default: 2)
  --seed N         (default: 1)
  --nice N         run every trainer at nice N (default: 10; 0 = off)
  --dense          also wordbench --adam dense
  --skip-torch     wordbench only (no PyTorch column)
  -h, --help       this help
USAGE
}

build="$repo/build"; work=/tmp/wb-bench-adam; data="$repo/../shared/data"
epochs=8; at="3,6,8"; threads=2; seed=1; nicen=10; dense=0; skip_torch=0
while [ $# -gt 0 ]; do
    case $1 in
    --build) need_value "$1" $#; build=$2; shift 2 ;;
    --workdir) need_value "$1" $#; work=$2; shift 2 ;;
    --data) need_value "$1" $#; data=$2; shift 2 ;;
    --epochs) need_value "$1" $#; positive_int "$1" "$2"; epochs=$2; shift 2 ;;
    --at) need_value "$1" $#; at=$2; shift 2 ;;
    --threads) need_value "$1" $#; positive_int "$1" "$2"; threads=$2; shift 2 ;;
    --seed) need_value "$1" $#; positive_int "$1" "$2"; seed=$2; shift 2 ;;
    --nice) need_value "$1" $#; nicen=$2; shift 2 ;;
    --dense) dense=1; shift ;;
    --skip-torch) skip_torch=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage_error "unknown option '$1'" ;;
    esac
done
for a in ${at//,/ }; do positive_int --at "$a"; (( a <= epochs )) || usage_error "--at $a is after the last epoch ($epochs)"; done
case "$work" in "$repo"|"$repo"/*) usage_error "--workdir must be outside the repository" ;; esac
py=/usr/bin/python3
wb="$build/wordbench"
[ -x "$wb" ] || die "$wb not found: cmake --build $build --target wordbench_cli"
[ -r "$data/cooking/cooking.train" ] || die "$data/cooking/cooking.train not found"
mkdir -p "$work"
work=$(cd "$work" && pwd)
pre=()
[ "$nicen" = 0 ] || pre=(nice -n "$nicen")
cmds="$work/adam-commands.txt"; results="$work/adam-results.jsonl"
: > "$cmds"; : > "$results"

vec=$("$here/make_vec.sh" --data "$data" --out "$work" cooking)
printf '%s\n' "$here/make_vec.sh --data $data --out $work cooking" >> "$cmds"
store="$work/cooking-300.store"
if ! [ -d "$store" ] || [ "$vec" -nt "$store" ]; then
    printf '%s\n' "$wb convert --force --quiet $vec $store" >> "$cmds"
    "$wb" convert --force --quiet "$vec" "$store" > /dev/null
fi

run() { # name cmd...
    local name=$1 t0 t1 rc; shift
    printf '%s\n' "$*" >> "$cmds"
    note "$name: $*"
    t0=$(date +%s.%N)
    set +e
    "$@" > "$work/$name.out" 2> "$work/$name.err"
    rc=$?
    set -e
    t1=$(date +%s.%N)
    [ "$rc" = 0 ] || note "$name failed (exit $rc): see $work/$name.err"
    printf '{"name": "%s", "rc": %d, "wall": %s, "out": "%s", "history": "%s"}\n' "$name" "$rc" \
        "$(echo "$t1 - $t0" | bc)" "$work/$name.out" "$work/$name.csv" >> "$results"
}

wbrun() { # mode
    run "wordbench-$1" "${pre[@]}" "$wb" train --data "$data/cooking/cooking.train" --test "$data/cooking/cooking.valid" \
        --format fasttext --unknown-label skip --store "$store" --model kim --embeddings finetune --adam "$1" \
        --epochs "$epochs" --batch-size 32 --threads "$threads" --seed "$seed" -o "$work/model-$1.wbm" \
        --history "$work/wordbench-$1.csv" --json --quiet
}
wbrun catchup
wbrun lazy
[ "$dense" = 0 ] || wbrun dense
[ "$skip_torch" = 1 ] || run torch "${pre[@]}" "$py" "$here/torch_train.py" --train "$data/cooking/cooking.train" \
    --valid "$data/cooking/cooking.valid" --format fasttext --unknown-label skip --vectors "$vec" --model kim \
    --embeddings finetune --epochs "$epochs" --eval-every-epoch --batch-size 32 --threads "$threads" --seed "$seed" --quiet

machine="$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1) · $(nproc) CPUs · Linux $(uname -r) · $(date -u '+%Y-%m-%d %H:%M UTC')"
"$py" - "$results" "$cmds" "$machine" "$at" "$(cut -d' ' -f1-3 /proc/loadavg)" "$nicen" <<'PY' | tee "$work/report-adam.md"
import csv, json, sys
results, cmds, machine, at, load, nicen = sys.argv[1:7]
at = [int(a) for a in at.split(",")]
rows = {}
for line in open(results):
    r = json.loads(line)
    if r["rc"] != 0:
        rows[r["name"]] = None
        continue
    if r["name"] == "torch":
        doc = [json.loads(l) for l in open(r["out"]) if l.startswith("{")][-1]
        p = doc["epoch_test_metric"]
        rows["torch"] = (p, doc["examples_per_s"])
    else:
        doc = [json.loads(l) for l in open(r["out"]) if l.startswith("{")][-1]
        with open(r["history"]) as f:
            hist = list(csv.DictReader(f))
        p = [float(h["val_p_at_1"]) for h in hist]
        rows[r["name"]] = (p, doc.get("examples_per_s"))
names = {"wordbench-catchup": "wordbench --adam catchup (default)", "wordbench-lazy": "wordbench --adam lazy",
         "wordbench-dense": "wordbench --adam dense", "torch": "PyTorch torch.optim.Adam (dense)"}
print("Adam on fine-tuned rows: cooking `kim` fine-tuned, test P@1 (cooking.valid) after each listed epoch")
print()
print("| implementation | " + " | ".join("P@1 ep %d" % a for a in at) + " | ex/s |" + (" Δ vs torch (points) |" if "torch" in rows else ""))
print("|---|" + "---:|" * len(at) + "---:|" + ("---|" if "torch" in rows else ""))
tp = rows.get("torch")
for k in ("wordbench-catchup", "wordbench-lazy", "wordbench-dense", "torch"):
    if k not in rows:
        continue
    v = rows[k]
    if v is None:
        print("| %s | failed |" % names[k])
        continue
    p, xs = v
    cells = ["%.3f" % p[a - 1] if p[a - 1] is not None else "-" for a in at]
    delta = ""
    if tp and k != "torch":
        delta = " " + ", ".join("%+.1f" % (100 * (p[a - 1] - tp[0][a - 1])) for a in at) + " |"
    elif tp:
        delta = " |"
    print("| %s | %s | %s |%s" % (names[k], " | ".join(cells), "{:,.0f}".format(xs) if xs else "-", delta))
print()
print("Machine: %s; load at the end %s; every trainer at nice %s (the machine was shared with other jobs:" % (machine, load, nicen))
print("ex/s are indicative only).  Commands:")
print()
print("```")
print(open(cmds).read().rstrip())
print("```")
PY
