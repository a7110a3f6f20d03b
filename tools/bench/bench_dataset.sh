#!/usr/bin/env bash
# bench_dataset.sh — the mapped, streamed data set (issue 14): memory and time of building it,
# of training from it, of a cache hit, and of two trainings sharing it.
#
# Corpora (wb_gen_corpus, TSV, 60 words a row from a 100,000-word Zipf vocabulary, two labels):
#   600k  600,000 rows (about 249 MB), the issue's example;
#   5m    5,000,000 rows (about 2.1 GB).
# They are written once to --corpora (default /work/bench-data/i14, under flock of
# /work/bench-data/.lock) and reused.  Every data set is built into a fresh cache under --workdir.
#
# Measured (GNU time for wall / peak RSS / CPU; `train --json --mem-report` for the rest):
#   stats-build   data stats --top 0 (builds the maxlen-0 data set: the streamed pass)
#   stats-hit     the same again (a cache hit)
#   train-build   train --model pool --emb-dim 16 --maxlen 60 --epochs 1 (builds the maxlen-60 set)
#   train-hit     the same again: first_batch_s is the cache-hit start (command start → first step)
#   start         data show --maxlen 60 --head 1 on that data set: the cache-hit start alone, wall and CPU
#   pss           two train-hit runs at once: Σ Pss of their data-set mappings, sampled every second
#   old-*         with --old BIN (the in-memory data set, e.g. a build of dc25ce4 or d50a41b): stats and train on 600k
# Build throughput = input bytes / (user + sys CPU seconds of stats-build): MB/s per core.
#
# Usage: tools/bench/bench_dataset.sh [--sizes "600k 5m"] [--runs "stats train pss"] [--build DIR]
#                                     [--old BIN] [--workdir DIR] [--corpora DIR]
# Prints a markdown report and saves it as WORKDIR/report-dataset.md.  The machine may be shared:
# the report gives CPU seconds beside wall seconds.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
sizes="600k 5m"
build=$repo/build
old=
workdir=/work/bench-data/i14/run
corpora=/work/bench-data/i14
runs="stats train pss"
while [ $# -gt 0 ]; do
    case $1 in
    --sizes) sizes=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --old) old=$2; shift 2 ;;
    --workdir) workdir=$2; shift 2 ;;
    --corpora) corpora=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    -h | --help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "bench_dataset.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
WB=$build/wordbench
GEN=$build/wb_gen_corpus
for b in "$WB" "$GEN"; do
    [ -x "$b" ] || { echo "bench_dataset.sh: $b missing (cmake --build $build --target wordbench_cli wb_gen_corpus)" >&2; exit 1; }
done
mkdir -p "$workdir" "$corpora"
R=$workdir/report-dataset.md
TIMEF="%e %M %U %S"

corpus() { # size -> path, generated once
    local rows f
    case $1 in 600k) rows=600000 ;; 5m) rows=5000000 ;; *) echo "unknown size $1" >&2; exit 2 ;; esac
    f=$corpora/corpus-$1.tsv
    if [ ! -s "$f" ]; then
        flock /work/bench-data/.lock sh -c "[ -s '$f' ] || { '$GEN' --rows $rows --out '$f.tmp' && mv '$f.tmp' '$f'; }"
    fi
    echo "$f"
}

# run NAME CMD...: time it; sets W (wall s), M (peak RSS KB), CPU (user+sys s); stdout in $workdir/NAME.out
run() {
    local name=$1
    shift
    /usr/bin/time -f "$TIMEF" -o "$workdir/$name.time" "$@" >"$workdir/$name.out" 2>"$workdir/$name.err"
    read -r W M U S <"$workdir/$name.time"
    CPU=$(awk -v u="$U" -v s="$S" 'BEGIN { printf "%.2f", u + s }')
}
jget() { /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
mb() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }

# Σ Pss / Rss (KB) of the mappings of files under DIR in the processes PIDS
pss_of() {
    local dir=$1
    shift
    local p
    for p in "$@"; do
        awk -v d="$dir" '/^[0-9a-f]+-[0-9a-f]+ / { m = index($0, d) > 0; next }
            m && /^Pss:/ { pss += $2 } m && /^Rss:/ { rss += $2 } END { print pss + 0, rss + 0 }' "/proc/$p/smaps" 2>/dev/null || echo "0 0"
    done
}

{
    echo "## Data sets larger than RAM (issue 14)"
    echo
    echo "Machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores (shared with other jobs while measured:"
    echo "wall times are noisy, CPU seconds less so), $(free -g | awk '/^Mem:/ { print $2 }') GB RAM. $(date -u +%Y-%m-%d)."
    echo "Command: \`tools/bench/bench_dataset.sh --sizes \"$sizes\" --runs \"$runs\"${old:+ --old $old}\`"
    echo
    echo "| corpus | run | wall s | CPU s | peak RSS MB | anon RSS MB | notes |"
    echo "|---|---|---:|---:|---:|---:|---|"
} >"$R"

TRAIN="--model pool --emb-dim 16 --maxlen 60 --epochs 1 --threads 1 --mem-report --json -q"
for size in $sizes; do
    f=$(corpus "$size")
    bytes=$(stat -c %s "$f")
    cache=$workdir/cache-$size
    rm -rf "$cache"
    if [[ " $runs " == *" stats "* ]]; then
        run "$size-stats-build" "$WB" data stats --top 0 --json --cache-dir "$cache" "$f"
        rate=$(awk -v b="$bytes" -v c="$CPU" 'BEGIN { printf "%.0f", b / 1e6 / c }')
        echo "| $size ($((bytes / 1000000)) MB) | \`data stats\` (build) | $W | $CPU | $(mb "$M") | | $rate MB/s per CPU second |" >>"$R"
        run "$size-stats-hit" "$WB" data stats --top 0 --json --cache-dir "$cache" "$f"
        echo "| $size | \`data stats\` (cache hit) | $W | $CPU | $(mb "$M") | | |" >>"$R"
    fi
    if [[ " $runs " == *" train "* ]]; then
        run "$size-train-build" "$WB" train --data "$f" --cache-dir "$cache" $TRAIN -o "$workdir/$size.wbm"
        anon=$(jget "$workdir/$size-train-build.out" 'd["mem"]["rss_anon"]')
        model=$(jget "$workdir/$size-train-build.out" 'd["mem"]["model_block"] + d["mem"]["overlay_bytes"]')
        data_s=$(jget "$workdir/$size-train-build.out" 'round(d["data_s"], 2)')
        echo "| $size | \`train\` 1 epoch (builds the maxlen-60 set) | $W | $CPU | $(mb "$M") | $((anon / 1048576)) | data ${data_s} s; model $((model / 1048576)) MB |" >>"$R"
        run "$size-train-hit" "$WB" train --data "$f" --cache-dir "$cache" $TRAIN -o "$workdir/$size.wbm"
        anon=$(jget "$workdir/$size-train-hit.out" 'd["mem"]["rss_anon"]')
        fb=$(jget "$workdir/$size-train-hit.out" 'round(d["first_batch_s"], 3)')
        ds=$(du -sb "$cache"/*.wbds | sort -n | tail -1 | cut -f1)
        echo "| $size | \`train\` 1 epoch (cache hit) | $W | $CPU | $(mb "$M") | $((anon / 1048576)) | start → first step ${fb} s; data set $((ds / 1000000)) MB |" >>"$R"
        run "$size-start" "$WB" data show --maxlen 60 --head 1 --cache-dir "$cache" "$f"
        echo "| $size | start alone: \`data show --maxlen 60 --head 1\` (the same cache hit: key, map, verify, vocabulary) | $W | $CPU | $(mb "$M") | | |" >>"$R"
    fi
    if [ "$size" = 600k ] && [ -n "$old" ]; then
        run "$size-old-stats" "$old" data stats --top 0 "$f"
        echo "| $size | old: \`data stats\` (in memory) | $W | $CPU | $(mb "$M") | | |" >>"$R"
        run "$size-old-train" "$old" train --data "$f" $TRAIN -o "$workdir/$size-old.wbm"
        anon=$(jget "$workdir/$size-old-train.out" 'd["mem"]["rss_anon"]')
        echo "| $size | old: \`train\` 1 epoch (in memory) | $W | $CPU | $(mb "$M") | $((anon / 1048576)) | |" >>"$R"
    fi
    if [ "$size" = 600k ] && [[ " $runs " == *" pss "* ]]; then
        dsdir=
        for d in "$cache"/*.wbds; do if [ -e "$d/x0.npy" ]; then dsdir=$d; fi; done
        "$WB" train --data "$f" --cache-dir "$cache" $TRAIN -o "$workdir/p1.wbm" >/dev/null 2>&1 &
        p1=$!
        "$WB" train --data "$f" --cache-dir "$cache" $TRAIN -o "$workdir/p2.wbm" >/dev/null 2>&1 &
        p2=$!
        best=0 r1=0 r2=0
        while kill -0 $p1 2>/dev/null && kill -0 $p2 2>/dev/null; do
            read -r a ra < <(pss_of "$dsdir" $p1)
            read -r b rb < <(pss_of "$dsdir" $p2)
            if [ $((a + b)) -gt "$best" ]; then best=$((a + b)) r1=$ra r2=$rb; fi
            sleep 1
        done
        wait $p1 $p2 || true
        echo "| 600k | two \`train\` at once | | | | | data-set mappings: Rss $((r1 / 1024)) + $((r2 / 1024)) MB, Σ Pss $((best / 1024)) MB (files $(( $(du -sb "$dsdir" | cut -f1) / 1000000 )) MB) |" >>"$R"
    fi
done
{
    echo
    echo "Anonymous RSS is \`RssAnon\` at the end of training (\`--mem-report\`); peak RSS (\`VmHWM\`) also counts the"
    echo "mapped data set's pages. Model = parameter block + learned embedding rows with their Adam moments."
} >>"$R"
cat "$R"
