#!/usr/bin/env bash
# bench_pressure.sh — `wordbench train` on a big store under capped address space and memory pressure
# (issue 18): the same training with and without a second process (wb_evict) that throws the store's
# pages out of memory every 100 ms, both under `ulimit -v` = the store's file sizes + 512 MiB.
#
# For each embedding mode (frozen, finetune) and each repetition, two runs, in alternating order:
#   undisturbed  the store's pages are dropped from the page cache once before the start (a cold start);
#   evicted      the same cold start, then wb_evict --pid TRAINER every --interval ms pages out the
#                trainer's mappings of the store (process_madvise MADV_PAGEOUT; a page some process maps
#                never leaves the page cache otherwise) and drops the files from the page cache
#                (posix_fadvise DONTNEED, as `vmtouch -e` does).
# Every run must finish and write the same model file as the undisturbed run of its mode (checked with
# cmp; a difference is reported and makes the exit status 1).  Reported per run: examples/s (training
# steps only, from --json), wall seconds, peak RSS and major page faults (/usr/bin/time -v), anonymous
# RSS (--mem-report), and the rounds the evictor made.
#
# Data: --lines lines of 100 words drawn (seed 1) from 20,000 words spread evenly over the store
# (read from its rows database with mdb_dump), each with a random label: training touches 20,000 rows
# scattered over the whole matrix, the access pattern of a real vocabulary over a big store.
# Everything goes to --workdir; the report is printed and saved as WORKDIR/report-pressure.md.
set -euo pipefail

usage() {
    cat <<'EOF'
usage: tools/bench/bench_pressure.sh [options]

  --store DIR      store (default: /work/bench-data/glove2m.store, 2.2M x 300)
  --build DIR      build directory with wordbench and wb_evict (default: ./build)
  --workdir DIR    data, models, logs (default: /tmp/wb-pressure)
  --epochs N       training epochs (default: 2)
  --lines N        training lines (default: 3200)
  --interval MS    evictor period (default: 100)
  --reps N         repetitions of each pair of runs (default: 2)
  --threads N      training threads (default: 2)
  -h, --help       this help
EOF
}

repo=$(cd "$(dirname "$0")/../.." && pwd)
prog=bench_pressure.sh
. "$repo/tools/bench/lib.bash"
store=/work/bench-data/glove2m.store
build="$repo/build"
work=/tmp/wb-pressure
epochs=2
lines=3200
interval=100
reps=2
threads=2
while [ $# -gt 0 ]; do
    case "$1" in
        --store) store=$2; shift 2 ;;
        --build) build=$(cd "$2" && pwd); shift 2 ;;
        --workdir) work=$2; shift 2 ;;
        --epochs) epochs=$2; shift 2 ;;
        --lines) lines=$2; shift 2 ;;
        --interval) interval=$2; shift 2 ;;
        --reps) reps=$2; shift 2 ;;
        --threads) threads=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "bench_pressure.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done
W=$build/wordbench
EV=$build/wb_evict
for b in "$W" "$EV"; do [ -x "$b" ] || { echo "bench_pressure.sh: $b not built (cmake --build $build)" >&2; exit 1; }; done
mkdir -p "$work"
files=("$store/vectors.npy" "$store/norms.npy" "$store/index.lmdb/data.mdb")
store_bytes=0
for f in "${files[@]}"; do store_bytes=$((store_bytes + $(stat -c %s "$f"))); done
limit_kb=$(( (store_bytes + 512 * 1024 * 1024) / 1024 ))

# ---- data -----------------------------------------------------------------------------------------
if [ ! -s "$work/train.tsv" ]; then
    spread_data "$store" "$work/train.tsv" "$lines"
fi

# ---- runs -----------------------------------------------------------------------------------------
results="$work/pressure-results.tsv"
: >"$results"
status=0
run() { # emb mode rep
    local emb=$1 mode=$2 rep=$3 tag="$1-$2-$3"
    "$EV" --rounds 1 "${files[@]}" 2>/dev/null # cold start for both modes
    local cmd=("$W" train --data "$work/train.tsv" --store "$store" --model tutorial --embeddings "$emb"
               --epochs "$epochs" --maxlen 100 --threads "$threads" --seed 1 -q --json --mem-report
               -o "$work/model-$emb-$mode.wbm")
    echo "${cmd[*]}" >"$work/cmd-$emb"
    (ulimit -v "$limit_kb"; exec /usr/bin/time -v -o "$work/time-$tag.txt" "${cmd[@]}") \
        >"$work/out-$tag.json" 2>"$work/err-$tag.txt" &
    local tp=$! ev="-"
    if [ "$mode" = evicted ]; then
        local child=""
        for _ in $(seq 1 200); do child=$(pgrep -P "$tp" | head -n 1 || true); [ -n "$child" ] && break; sleep 0.01; done
        if [ -n "$child" ]; then
            "$EV" --pid "$child" --interval "$interval" "${files[@]}" 2>"$work/evict-$tag.txt" || true
            ev=$(sed -n 's/^wb_evict: \([0-9]*\) rounds.*/\1/p' "$work/evict-$tag.txt")
        fi
    fi
    if ! wait "$tp"; then
        echo "bench_pressure.sh: $tag failed: $(tail -n 3 "$work/err-$tag.txt")" >&2
        status=1
        return
    fi
    local j="$work/out-$tag.json"
    eps=$(/usr/bin/python3 -c 'import json,sys; print("%.0f" % json.load(open(sys.argv[1]))["examples_per_s"])' "$j")
    anon=$(/usr/bin/python3 -c 'import json,sys; print("%.1f" % (json.load(open(sys.argv[1]))["mem"]["rss_anon"] / 1e6))' "$j")
    wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$work/time-$tag.txt")
    peak=$(awk '/Maximum resident set size/ {printf "%.1f", $NF / 1024}' "$work/time-$tag.txt")
    major=$(awk '/Major \(requiring I\/O\) page faults/ {print $NF}' "$work/time-$tag.txt")
    same="-"
    if [ "$mode" = evicted ]; then
        if cmp -s "$work/model-$emb-evicted.wbm" "$work/model-$emb-undisturbed.wbm"; then same=yes
        else same=NO; status=1; fi
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$emb" "$mode" "$rep" "$eps" "$wall" "$peak" "$major" "$anon" "$ev" "$same" >>"$results"
}
for emb in frozen finetune; do
    for rep in $(seq 1 "$reps"); do
        # alternate which goes first; the undisturbed model must exist before the comparison
        if [ $((rep % 2)) -eq 1 ] || [ ! -f "$work/model-$emb-undisturbed.wbm" ]; then
            run "$emb" undisturbed "$rep"; run "$emb" evicted "$rep"
        else
            run "$emb" evicted "$rep"; run "$emb" undisturbed "$rep"
            if cmp -s "$work/model-$emb-evicted.wbm" "$work/model-$emb-undisturbed.wbm"; then :; else
                echo "bench_pressure.sh: $emb: models differ" >&2; status=1; fi
        fi
    done
done

# ---- report ---------------------------------------------------------------------------------------
{
    echo "## bench_pressure.sh"
    echo
    echo "Machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, shared with other work (load average $(cut -d' ' -f1-3 /proc/loadavg))."
    echo "Store: $store ($(awk -v b="$store_bytes" 'BEGIN {printf "%.2f GB", b / 1e9}')), \`ulimit -v $limit_kb\` (store + 512 MiB)."
    echo "Data: $lines lines x 100 words from 20,000 words spread over the store, $epochs epochs, tutorial."
    echo "Evictor: \`wb_evict --pid TRAINER --interval $interval\` (MADV_PAGEOUT of the trainer's store mappings + POSIX_FADV_DONTNEED)."
    echo
    echo "| embeddings | run | rep | examples/s | wall | peak RSS MB | major faults | anon RSS MB | eviction rounds | same model |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"
    awk -F'\t' '{printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10}' "$results"
    echo
    echo "Commands:"
    for emb in frozen finetune; do echo "    (ulimit -v $limit_kb; $(cat "$work/cmd-$emb"))"; done
} | tee "$work/report-pressure.md"
exit $status
