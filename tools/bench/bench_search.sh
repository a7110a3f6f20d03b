#!/usr/bin/env bash
# bench_search.sh — the figures of `wordbench search` and `compare` (issue 9) for docs/benchmarks.md.
#
# Sections (--sections, default all, run in this order):
#   compare   spam (spamassassin/emails.csv), 5-fold CV, model tutorial and kim x embeddings learned,
#             frozen, finetune, multichannel (pretrained: fastText skipgram vectors of the e-mails'
#             text, tools/bench/make_vec.sh), then `wordbench compare`
#   cooking   cooking.train cut into a training part (first 10,404 lines) and a validation part (last
#             2,000); a random search, --jobs 2, --time-budget 300, tuned on the validation part, and
#             `fasttext supervised -autotune-validation` with -autotune-duration 300 on the same parts;
#             both final models scored on cooking.valid (P@1).  Lines whose tags never occur in the
#             training part are dropped from the validation part and cooking.valid for both (wordbench
#             cannot score a tag it has no output for; fastText would count such a line as a miss).
#   walltime  spam, 3-fold CV, tutorial x the four embeddings modes: the search with --jobs 2 (one
#             OpenBLAS thread each) against the same trials one after another (--jobs 1)
#   memory    peak Pss and Rss of the whole --jobs 2 search of `walltime` (every process, sampled by
#             tools/bench/treemem.py) against one `wordbench train` of one of its trials
#   shared    four `wordbench train` processes on glove400k.store (400,000 x 300, 480 MB) at once,
#             frozen, on synthetic texts of 20,000 of its words: Pss of their store mappings and in
#             total, against four PyTorch-style processes that each load the matrix
#             (numpy.load + torch.nn.Embedding.from_pretrained)
#
# Usage: tools/bench/bench_search.sh [--sections "compare cooking walltime memory shared"]
#        [--work DIR] [--build DIR] [--budget S] [--epochs N]
# Writes a markdown report on stdout (machine line, exact commands, figures); logs and run
# directories stay in --work (default /work/bench-data/i9), outside the repository.
# Needs: a built wordbench (--build, default build-test), /usr/bin/python3 with numpy and torch,
# fasttext, ../shared/data.  The machine may be shared: every peer is measured in the same run.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
sections="compare cooking walltime memory shared"
work=/work/bench-data/i9
build="$repo/build-test"
budget=300
epochs=5
while [ $# -gt 0 ]; do
    case "$1" in
        --sections) sections=$2; shift 2 ;;
        --work) work=$2; shift 2 ;;
        --build) build=$2; shift 2 ;;
        --budget) budget=$2; shift 2 ;;
        --epochs) epochs=$2; shift 2 ;;
        -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
        *) echo "bench_search.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
wb="$build/wordbench"
py=/usr/bin/python3
data="$repo/../shared/data"
[ -x "$wb" ] || { echo "bench_search.sh: $wb not found (cmake --build $build)" >&2; exit 1; }
mkdir -p "$work"
log() { echo "bench_search.sh: $*" >&2; }
cmd() { printf '    %s\n' "$*"; } # an exact command, indented for the report

echo "## wordbench search / compare ($(date -u +%Y-%m-%d), $(git -C "$repo" rev-parse --short HEAD))"
echo
echo "Machine: $(lscpu | grep 'Model name' | sed 's/Model name: *//'), $(nproc) cores, shared with other jobs"
echo "(load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)); figures of one run of this script."
echo

store_of() { # vec store
    [ -d "$2" ] || "$wb" convert -q "$1" "$2" >/dev/null
}

strip_times() { $py -c '
import json, sys
d = json.load(open(sys.argv[1]))
for r in d["table"]:
    r.pop("train_s"); r.pop("examples_per_s")
for k in ("run_dir", "log"): d.pop(k)
if d.get("refit"): d["refit"].pop("model")
if d.get("compare"): d["compare"].pop("run_dir", None)
print(json.dumps(d, sort_keys=True))' "$1"; }

spam_vec() {
    "$here/make_vec.sh" --out "$work" --dim 100 spam >/dev/null
    store_of "$work/spam-100.vec" "$work/spam-100.store"
}

for sec in $sections; do
case $sec in
compare)
    spam_vec
    run="$work/spam-cv"
    rm -rf "$run"
    args=(--data "$data/spamassassin/emails.csv" --store "$work/spam-100.store" --epochs "$epochs"
          --param model=tutorial,kim --param embeddings=learned,frozen,finetune,multichannel --cv 5 -j 2 -o "$run")
    log "compare: search ${args[*]}"
    t0=$(date +%s.%N)
    "$wb" search "${args[@]}" -q >"$work/spam-cv.txt"
    t1=$(date +%s.%N)
    "$wb" compare "$run" >"$work/spam-compare.txt"
    echo "### Spam, 5-fold cross-validation: pretrained vs learned"
    echo
    echo "Vectors: \`tools/bench/make_vec.sh --out $work --dim 100 spam\` (fastText skipgram, dim 100, on the"
    echo "Keras-tokenized text of all 6,046 e-mails, no labels), converted with \`wordbench convert\`."
    echo
    cmd "wordbench search ${args[*]}"
    cmd "wordbench compare $run"
    echo
    printf 'Search wall time: %.0f s (%d trials on 2 workers).\n\n' "$(echo "$t1 - $t0" | bc)" 41
    echo '```'
    cat "$work/spam-cv.txt"
    echo
    cat "$work/spam-compare.txt"
    echo '```'
    echo
    ;;
cooking)
    "$here/make_vec.sh" --out "$work" --dim 100 cooking >/dev/null
    store_of "$work/cooking-100.vec" "$work/cooking-100.store"
    C="$data/cooking"
    head -n 10404 "$C/cooking.train" >"$work/part.train"
    tail -n 2000 "$C/cooking.train" >"$work/part.valid.all"
    $py - "$work" "$C/cooking.valid" <<'PY'
import sys
work, valid = sys.argv[1], sys.argv[2]
known = set()
for l in open(work + "/part.train"):
    known.update(t for t in l.split() if t.startswith("__label__"))
for src, dst in ((work + "/part.valid.all", work + "/part.valid"), (valid, work + "/cooking.valid.known")):
    n = k = 0
    with open(dst, "w") as o:
        for l in open(src):
            n += 1
            if all(t in known for t in l.split() if t.startswith("__label__")):
                o.write(l)
                k += 1
    print("bench_search.sh: %s: %d of %d lines have only known tags" % (src, k, n), file=sys.stderr)
PY
    run="$work/cooking-search"
    rm -rf "$run"
    args=(--data "$work/part.train" --valid "$work/part.valid" --test "$work/cooking.valid.known"
          --unknown-label skip --store "$work/cooking-100.store" --model pool --hidden 0
          --param embeddings=learned,finetune --param lr=3e-3..3e-2:log --param epochs=5..15
          --param dropout=0.0..0.4 --param batch-size=16,32,64 --n-iter 200
          --time-budget "$budget" -j 2 -o "$run")
    log "cooking: search ${args[*]}"
    t0=$(date +%s.%N)
    "$wb" search "${args[@]}" --json -q >"$work/cooking-search.json" 2>"$work/cooking-search.err" || true
    t1=$(date +%s.%N)
    "$wb" search --collect "$run" -q >"$work/cooking-search.txt" 2>/dev/null || true # the table (nothing runs)
    ft="$work/ft-autotune"
    ftargs=(supervised -input "$work/part.train" -output "$ft" -autotune-validation "$work/part.valid"
            -autotune-duration "$budget" -thread 2 -verbose 2)
    log "cooking: fasttext ${ftargs[*]}"
    t2=$(date +%s.%N)
    # autotune checks its limit between trials only: on a loaded machine it can run far past it
    # (46 min for a 300 s budget once), so it gets 4x the budget, then counts as not finished
    ftp1="not finished in $((4 * budget)) s" ftargsdump=""
    t3=""
    if timeout "$((4 * budget))" fasttext "${ftargs[@]}" >"$work/ft-autotune.log" 2>&1; then
        t3=$(date +%s.%N)
        fasttext test "$ft.bin" "$work/cooking.valid.known" 1 >"$work/ft-test.txt"
        ftp1=$(awk '$1 == "P@1" { print $2 }' "$work/ft-test.txt")
        ftargsdump=$(fasttext dump "$ft.bin" args 2>/dev/null | tr '\n' ' ' | sed 's/  */ /g')
    fi
    [ -n "$t3" ] || t3=$(date +%s.%N)
    read -r wbp1 ntrials best <<<"$($py -c '
import json, sys
d = json.load(open(sys.argv[1]))
r = d["refit"]
print("%.4f %d %s" % (r["test"]["p@1"], d["done"] - 1, " ".join("%s=%s" % kv for kv in r["params"].items())))' "$work/cooking-search.json")"
    echo "### Cooking: random search vs fastText's autotune, ${budget} s each"
    echo
    echo "Tuned on the last 2,000 lines of cooking.train (1,994 with known tags), trained on the first 10,404;"
    echo "P@1 on cooking.valid (2,995 of its 3,000 lines: those whose tags all occur in the training part)."
    echo "Vectors for \`finetune\`: \`make_vec.sh --dim 100 cooking\` (skipgram on the training titles). The search"
    echo "space is a pool model (max over the embedded words, then the output layer: fastText's shape with"
    echo "max instead of mean pooling) with learned or fine-tuned embeddings, lr, epochs, dropout, batch size."
    echo
    cmd "wordbench search ${args[*]}"
    cmd "fasttext ${ftargs[*]}"
    cmd "fasttext test $ft.bin $work/cooking.valid.known 1"
    echo
    echo "| | trials in ${budget} s | P@1 on cooking.valid | wall time | best configuration |"
    echo "|---|---|---|---|---|"
    printf '| wordbench search, 2 workers | %s | **%s** | %.0f s (+ refit) | %s |\n' "$ntrials" "$wbp1" "$(echo "$t1 - $t0" | bc)" "$best"
    printf '| fastText autotune, 2 threads | — | %s | %.0f s | %s |\n' "$ftp1" "$(echo "$t3 - $t2" | bc)" \
        "$(echo "$ftargsdump" | grep -oE '(lr|epoch|dim|wordNgrams|loss|bucket|minn|maxn|dsub) [^ ]+' | tr '\n' ' ')"
    echo
    echo '```'
    head -n 12 "$work/cooking-search.txt"
    echo '```'
    echo
    ;;
walltime|memory)
    [ -n "${walltime_done:-}" ] && continue
    walltime_done=1
    spam_vec
    base=(--data "$data/spamassassin/emails.csv" --store "$work/spam-100.store" --epochs 3 --model tutorial
          --param embeddings=learned,frozen,finetune,multichannel --cv 3 --no-refit)
    rm -rf "$work/wt-j2" "$work/wt-j1"
    log "walltime: -j 2"
    "$py" "$here/treemem.py" run -- "$wb" search "${base[@]}" -j 2 -o "$work/wt-j2" --json -q \
        >"$work/wt-j2.json" 2>"$work/wt-j2.mem"
    log "walltime: -j 1"
    "$py" "$here/treemem.py" run -- "$wb" search "${base[@]}" -j 1 -o "$work/wt-j1" --json -q \
        >"$work/wt-j1.json" 2>"$work/wt-j1.mem"
    same=no
    [ "$(strip_times "$work/wt-j1.json")" = "$(strip_times "$work/wt-j2.json")" ] && same=yes
    log "memory: one train"
    "$py" "$here/treemem.py" run -- "$wb" train --data "$data/spamassassin/emails.csv" --store "$work/spam-100.store" \
        --epochs 3 --model tutorial --embeddings finetune --test-size 0.33 --threads 1 -q -o "$work/one.wbm" \
        >/dev/null 2>"$work/one.mem"
    mem() { $py -c 'import json,sys; d=json.loads(open(sys.argv[1]).read().strip().splitlines()[-1]); print(d[sys.argv[2]])' "$1" "$2"; }
    w2=$(mem "$work/wt-j2.mem" wall_s); w1=$(mem "$work/wt-j1.mem" wall_s)
    echo "### Search wall time and memory (spam, 3-fold CV, tutorial x 4 embeddings modes, 3 epochs: 12 trials)"
    echo
    cmd "wordbench search ${base[*]} -j 2 -o $work/wt-j2"
    cmd "wordbench search ${base[*]} -j 1 -o $work/wt-j1"
    cmd "wordbench train --data $data/spamassassin/emails.csv --store $work/spam-100.store --epochs 3 --model tutorial --embeddings finetune --test-size 0.33 --threads 1 -o $work/one.wbm"
    echo
    echo "each under \`tools/bench/treemem.py run --\` (sum over the process tree every 0.1 s)."
    echo
    echo "| run | wall time | peak Pss, all processes | peak Rss, all processes | processes |"
    echo "|---|---|---|---|---|"
    for f in wt-j2 wt-j1 one; do
        printf '| %s | %.1f s | %.0f MB | %.0f MB | %s |\n' "$f" "$(mem "$work/$f.mem" wall_s)" \
            "$(echo "$(mem "$work/$f.mem" peak_pss_kb) / 1024" | bc -l)" "$(echo "$(mem "$work/$f.mem" peak_rss_kb) / 1024" | bc -l)" \
            "$(mem "$work/$f.mem" max_procs)"
    done
    echo
    printf 'Speed-up of 2 workers over the same trials one after another: %.2fx; identical tables: %s.\n\n' \
        "$(echo "$w1 / $w2" | bc -l)" "$same"
    ;;
shared)
    st=/work/bench-data/glove400k.store
    [ -d "$st" ] || { log "shared: $st missing"; continue; }
    words="$work/g400k-words.txt"
    [ -s "$words" ] || head -n 20000 /work/bench-data/glove400k.txt | cut -d' ' -f1 >"$words"
    $py - "$words" "$work/syn20k.tsv" <<'PY'
import random, sys
words = [w.strip() for w in open(sys.argv[1]) if w.strip()]
rng = random.Random(1)
with open(sys.argv[2], "w") as o:
    for _ in range(2000):
        o.write(" ".join(rng.choice(words) for _ in range(100)) + "\t" + rng.choice(("pos", "neg")) + "\n")
PY
    pids=()
    for i in 1 2 3 4; do
        "$wb" train --data "$work/syn20k.tsv" --store "$st" --embeddings frozen --model tutorial --epochs 100000 \
            --threads 1 -q -o "$work/shared$i.wbm" >/dev/null 2>&1 &
        pids+=($!)
    done
    sleep 60 # every trainer has touched its rows (an epoch takes a few seconds)
    "$py" "$here/treemem.py" snapshot --path "$st/" "${pids[@]}" >"$work/shared-wb.jsonl"
    kill "${pids[@]}" 2>/dev/null; wait "${pids[@]}" 2>/dev/null || true
    pids=()
    for i in 1 2 3 4; do
        "$py" -c '
import sys, time, numpy, torch
m = torch.from_numpy(numpy.load(sys.argv[1]))       # the whole matrix in this process
emb = torch.nn.Embedding.from_pretrained(m, freeze=True)
x = emb(torch.arange(1000))                            # use it
time.sleep(600)' "$st/vectors.npy" &
        pids+=($!)
    done
    sleep 60
    "$py" "$here/treemem.py" snapshot --path "$st/" "${pids[@]}" >"$work/shared-torch.jsonl"
    kill "${pids[@]}" 2>/dev/null; wait "${pids[@]}" 2>/dev/null || true
    sum() { $py -c 'import json,sys; print(round(sum(json.loads(l)[sys.argv[2]] for l in open(sys.argv[1])) / 1024))' "$1" "$2"; }
    one() { $py -c 'import json,sys; print(round(max(json.loads(l)[sys.argv[2]] for l in open(sys.argv[1])) / 1024))' "$1" "$2"; }
    echo "### The shared store: four processes on one 400,000 x 300 matrix (480 MB)"
    echo
    cmd "wordbench train --data $work/syn20k.tsv --store $st --embeddings frozen --model tutorial --epochs 100000 --threads 1 -q -o ...   # x4, measured after 60 s"
    cmd "python3 -c 'm = torch.from_numpy(numpy.load(\"$st/vectors.npy\")); emb = torch.nn.Embedding.from_pretrained(m) ...'   # x4"
    cmd "tools/bench/treemem.py snapshot --path $st/ PID...   # /proc/PID/smaps"
    echo
    echo "syn20k.tsv: 2,000 texts of 100 words drawn from 20,000 of the store's words."
    echo
    echo "| 4 processes | sum of Pss, store mappings | one process's Rss, store mappings | sum of Pss, whole processes |"
    echo "|---|---|---|---|"
    echo "| wordbench train (frozen) | $(sum "$work/shared-wb.jsonl" path_pss_kb) MB | $(one "$work/shared-wb.jsonl" path_rss_kb) MB | $(sum "$work/shared-wb.jsonl" pss_kb) MB |"
    echo "| PyTorch, matrix loaded in each | $(sum "$work/shared-torch.jsonl" path_pss_kb) MB (the file is read, not mapped) | $(one "$work/shared-torch.jsonl" path_rss_kb) MB | $(sum "$work/shared-torch.jsonl" pss_kb) MB |"
    echo
    ;;
*) log "unknown section '$sec'"; exit 2 ;;
esac
done
