#!/usr/bin/env bash
# bench_coldstart.sh — a cold start on a big store (issue 12): how long `wordbench train` takes from the
# command's start to the end of its first training step, and `wordbench predict` from start to exit, with
# the store's pages dropped from the page cache (posix_fadvise DONTNEED through wb_evict, as `vmtouch -e`
# does; the machine's caches are not dropped globally) and warm, for each read-ahead mode of
# wb_store_prefetch (WB_PREFETCH=off|advise-nofirst|advise|populate|pread; advise is the default).
#
#   section rows   wb_bench_prefetch: only the rows of a 20,000-word vocabulary coming in, per mode:
#                  the first 2,700 of them (a first minibatch; asked for first with --first, as train
#                  does, except in modes off and advise-nofirst) and all of them, in a shuffled order
#   section train  `wordbench train` (tutorial, frozen, 1 epoch): data_s, setup_s (store open + the
#                  vocabulary's look-ups + model), first_batch_s, from --json; cold and warm
#   section predict `wordbench predict` of --predict-lines lines with the model trained above: wall s
#
# Data: --lines lines of 100 words drawn (seed 1) from 20,000 words spread evenly over the store, as
# bench_pressure.sh makes them (mdb_dump of the rows database).  Runs are sequential, alternating the
# modes, --reps times each; every figure printed is the median of the repetitions.  Everything goes to
# --workdir; the report is printed and saved as WORKDIR/report-coldstart.md.
set -euo pipefail

usage() {
    cat <<'EOF'
usage: tools/bench/bench_coldstart.sh [options]

  --store DIR          store (default: /work/bench-data/glove2m.store, 2.2M x 300)
  --build DIR          build directory with wordbench, wb_evict, wb_bench_prefetch (default: ./build)
  --workdir DIR        data, models, logs (default: /tmp/wb-coldstart)
  --lines N            training lines (default: 3200)
  --predict-lines N    lines given to predict (default: 1000)
  --reps N             repetitions of each run (default: 3)
  --modes LIST         read-ahead modes, comma-separated (default: off,advise-nofirst,advise,populate,pread;
                       advise-nofirst: advise without the first minibatch's rows first)
  --threads N          training threads (default: 2)
  --nice N             niceness of every run (default: 10)
  -h, --help           this help
EOF
}

repo=$(cd "$(dirname "$0")/../.." && pwd)
prog=bench_coldstart.sh
. "$repo/tools/bench/lib.bash"
store=/work/bench-data/glove2m.store
build="$repo/build"
work=/tmp/wb-coldstart
lines=3200
plines=1000
reps=3
modes=off,advise-nofirst,advise,populate,pread
threads=2
nicev=10
while [ $# -gt 0 ]; do
    case "$1" in
        --store) store=$2; shift 2 ;;
        --build) build=$(cd "$2" && pwd); shift 2 ;;
        --workdir) work=$2; shift 2 ;;
        --lines) lines=$2; shift 2 ;;
        --predict-lines) plines=$2; shift 2 ;;
        --reps) reps=$2; shift 2 ;;
        --modes) modes=$2; shift 2 ;;
        --threads) threads=$2; shift 2 ;;
        --nice) nicev=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "bench_coldstart.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done
W=$build/wordbench
EV=$build/wb_evict
PF=$build/wb_bench_prefetch
for b in "$W" "$EV" "$PF"; do [ -x "$b" ] || { echo "bench_coldstart.sh: $b not built (cmake --build $build)" >&2; exit 1; }; done
mkdir -p "$work"
files=("$store/vectors.npy" "$store/norms.npy" "$store/index.lmdb/data.mdb")
IFS=, read -r -a mlist <<<"$modes"

# ---- data -----------------------------------------------------------------------------------------
if [ ! -s "$work/train.tsv" ]; then
    spread_data "$store" "$work/train.tsv" "$lines"
fi
cut -f1 "$work/train.tsv" | tr ' ' '\n' | awk 'NF && !seen[$0]++' >"$work/words.txt"
head -n "$plines" "$work/train.tsv" | cut -f1 >"$work/predict.txt"
evict() { "$EV" --rounds 1 "${files[@]}" 2>/dev/null; }
jget() { /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }
res="$work/coldstart.tsv"
: >"$res"

# ---- rows -----------------------------------------------------------------------------------------
for rep in $(seq 1 "$reps"); do
    for m in "${mlist[@]}"; do
        for temp in cold warm; do
            w=(); [ $temp = warm ] && w=(--warm)
            pm=$m; [ "$m" = advise-nofirst ] && pm=advise
            [ "$m" = advise-nofirst ] || [ "$m" = off ] || w+=(--first)
            nice -n "$nicev" "$PF" "$store" "$work/words.txt" --mode "$pm" "${w[@]}" >"$work/rows-$m-$temp-$rep.json"
            printf 'rows\t%s\t%s\t%s\t%s\n' "$m" "$temp" "$(jget "$work/rows-$m-$temp-$rep.json" 'd["first_s"]')" \
                "$(jget "$work/rows-$m-$temp-$rep.json" 'd["all_s"]')" >>"$res"
        done
    done
done

# ---- train and predict ----------------------------------------------------------------------------
tcmd=("$W" train --data "$work/train.tsv" --store "$store" --model tutorial --embeddings frozen --epochs 1
      --maxlen 100 --threads "$threads" --seed 1 -q --json)
"${tcmd[@]}" -o "$work/model.wbm" >/dev/null # the data set's cache and a model for predict
pcmd=("$W" predict "$work/model.wbm" "$work/predict.txt")
for rep in $(seq 1 "$reps"); do
    for m in "${mlist[@]}"; do
        for temp in cold warm; do
            [ $temp = cold ] && evict
            WB_PREFETCH=$m nice -n "$nicev" "${tcmd[@]}" -o "$work/model-$m.wbm" >"$work/train-$m-$temp-$rep.json"
            j="$work/train-$m-$temp-$rep.json"
            printf 'train\t%s\t%s\t%s\t%s\t%s\n' "$m" "$temp" "$(jget "$j" 'd["data_s"]')" "$(jget "$j" 'd["setup_s"]')" \
                "$(jget "$j" 'd["first_batch_s"]')" >>"$res"
            cmp -s "$work/model-$m.wbm" "$work/model.wbm" || { echo "bench_coldstart.sh: WB_PREFETCH=$m trained another model" >&2; exit 1; }
        done
        for temp in cold warm; do
            [ $temp = cold ] && evict
            t0=$(date +%s.%N)
            WB_PREFETCH=$m nice -n "$nicev" "${pcmd[@]}" >"$work/predict-$m.out"
            t1=$(date +%s.%N)
            printf 'predict\t%s\t%s\t%s\n' "$m" "$temp" "$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')" >>"$res"
            cmp -s "$work/predict-$m.out" "$work/predict-${mlist[0]}.out" ||
                { echo "bench_coldstart.sh: WB_PREFETCH=$m predicted otherwise" >&2; exit 1; }
        done
    done
done

# ---- report ---------------------------------------------------------------------------------------
{
    echo "## bench_coldstart.sh"
    echo
    echo "Machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, shared with other work (load average $(cut -d' ' -f1-3 /proc/loadavg))."
    echo "Store: $store; data: $lines lines x 100 words over $(wc -l <"$work/words.txt") distinct words; medians of $reps runs; nice $nicev."
    echo
    /usr/bin/python3 - "$res" <<'PY'
import statistics as st, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
def med(kind, m, t, col):
    v = [float(r[col]) for r in rows if r[0] == kind and r[1] == m and r[2] == t]
    return "%.3f" % st.median(v) if v else "-"
modes = list(dict.fromkeys(r[1] for r in rows))
print("| mode | rows: first 2,700 cold | all cold | all warm | train cold: setup_s | first_batch_s | train warm: first_batch_s | predict cold s | predict warm s |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for m in modes:
    print("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (m, med("rows", m, "cold", 3), med("rows", m, "cold", 4),
          med("rows", m, "warm", 4), med("train", m, "cold", 4), med("train", m, "cold", 5), med("train", m, "warm", 5),
          med("predict", m, "cold", 3), med("predict", m, "warm", 3)))
PY
    echo
    echo "Commands: \`wb_bench_prefetch STORE words.txt --mode M [--warm]\`; \`WB_PREFETCH=M ${tcmd[*]} -o MODEL\`; \`WB_PREFETCH=M ${pcmd[*]}\`"
} | tee "$work/report-coldstart.md"
