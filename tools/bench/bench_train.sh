#!/usr/bin/env bash
# bench_train.sh — `wordbench train` side by side with the same CNNs in PyTorch 1.13 (issue 5, Figures).
#
# For every data set × model (tutorial, kim) × embeddings (frozen, finetune) it runs `wordbench train` and
# tools/bench/torch_train.py on the same files with the same seed, one after the other, alternating which
# goes first, and prints a markdown report: examples/s of both, their ratio against the issue's targets
# (≥ 3× frozen, ≥ 10× fine-tuned), test accuracy or P@1 of both, the machine line and every command.
#
# Data sets (--data, default "synthetic spam cooking"):
#   synthetic  wb_gen_glove writes a 20000 × 300 GloVe file, converted to a store; --syn-rows lines of
#              100 words drawn uniformly from its words, TAB, a random label (pos/neg), plus a test file of
#              a quarter as many lines: both sides see a 20k vocabulary, maxlen 100, dim 300. Throughput
#              only: the labels are random, so accuracy is ~50% by construction.
#   spam       spamassassin/emails.csv split once (seeded, stratified, 80/20) by torch_train.py
#              --write-split into WORKDIR/spam-{train,test}.csv; both sides get --valid spam-test.csv.
#              Vectors: make_vec.sh on the training split.
#   cooking    cooking.train with --valid cooking.valid (multi-label, P@1). Vectors: make_vec.sh.
# Everything big goes to --workdir (default /tmp/wb-bench), never into the repository.
#
# Every trainer runs under /usr/bin/time: the report gives each run's CPU time (user + sys) next to its
# examples/s (on a loaded machine the work done is measurable when the wall-clock speed-up is not).
# --sgemm (issue 12) runs wordbench under tools/bench/sgemm_rate.c's LD_PRELOAD shim, which charges every
# cblas_sgemm call's thread CPU time to its shape, then replays the same shapes with one-threaded OpenBLAS
# in the same script: the report shows the fraction of the machine's sgemm rate the run's sgemms reach.
#
# Not here: multichannel/learned embeddings, the memory figures of issue 5, perf profiles.
set -euo pipefail

usage() {
    cat <<'EOF'
usage: tools/bench/bench_train.sh [options]

  --data LIST        data sets, space or comma separated: synthetic spam cooking (default: all three)
  --models LIST      tutorial kim (default: both)
  --embeddings LIST  frozen finetune (default: both)
  --epochs N         epochs on spam and cooking (default: 3)
  --syn-rows N       synthetic training lines (default: 3200)
  --syn-epochs N     epochs on the synthetic set (default: 1)
  --threads N        threads for both trainers (default: 2)
  --seed S           seed for both trainers and the synthetic data (default: 1)
  --nice N           run the trainers under nice -n N (default: 10; 0 = off)
  --torch-only       skip wordbench train (still needs wb_gen_glove for the synthetic set)
  --wb-only          skip PyTorch (with --wb-threads1 and --sgemm: the thread split and sgemm figures alone)
  --prepare-only     make the data, vectors and stores, print where they are, run no trainer
  --report-only      run nothing: print the report from WORKDIR's train-results.jsonl (and sgemm logs) of an
                     earlier or interrupted run (give it the same --workdir, --threads, --sparse)
  --sparse           PyTorch fine-tuning with sparse gradients + SparseAdam instead of dense Adam
  --wb-threads1      also run wordbench with --threads 1 (the unsplit step) next to each pair and report
                     the speed-up of --threads N over it, in wall time and in CPU time
  --vec DS=FILE      use FILE (word2vec/GloVe text) as the vectors of data set DS (spam, cooking) instead of
                     making them with make_vec.sh (repeatable; e.g. vectors another run already made)
  --sgemm            measure wordbench's sgemm rate in the run against a one-threaded replay of the same
                     shapes (builds tools/bench/sgemm_rate.c into WORKDIR with cc; needs pkg-config openblas)
  --build DIR        build directory with wordbench and wb_gen_glove (default: ./build)
  --workdir DIR      data, vectors, stores, models, logs (default: /tmp/wb-bench)
  -h, --help         this help

The report is printed and saved as WORKDIR/report-train.md; each run's stdout/stderr stay in
WORKDIR/train-*.{out,err}, one JSON record per run in WORKDIR/train-results.jsonl.
EOF
}

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
shared="$repo/../shared/data"
datasets="synthetic spam cooking"
models="tutorial kim"
embs="frozen finetune"
epochs=3
syn_rows=3200
syn_epochs=1
threads=2
seed=1
nicen=10
torch_only=0
wb_only=0
prepare_only=0
report_only=0
sparse=0
wb1=0
sgemm=0
declare -A VEC_OVERRIDE=()
build="$repo/build"
work=/tmp/wb-bench
while [ $# -gt 0 ]; do
    case "$1" in
        --data) datasets=${2//,/ }; shift 2 ;;
        --models) models=${2//,/ }; shift 2 ;;
        --embeddings) embs=${2//,/ }; shift 2 ;;
        --epochs) epochs=$2; shift 2 ;;
        --syn-rows) syn_rows=$2; shift 2 ;;
        --syn-epochs) syn_epochs=$2; shift 2 ;;
        --threads) threads=$2; shift 2 ;;
        --seed) seed=$2; shift 2 ;;
        --nice) nicen=$2; shift 2 ;;
        --torch-only) torch_only=1; shift ;;
        --wb-only) wb_only=1; shift ;;
        --prepare-only) prepare_only=1; shift ;;
        --report-only) report_only=1; shift ;;
        --sparse) sparse=1; shift ;;
        --wb-threads1) wb1=1; shift ;;
        --sgemm) sgemm=1; shift ;;
        --vec)
            case "$2" in spam=?*|cooking=?*) ;; *) echo "bench_train.sh: --vec takes spam=FILE or cooking=FILE" >&2; exit 2 ;; esac
            VEC_OVERRIDE[${2%%=*}]=${2#*=}; shift 2 ;;
        --build) build=$(cd "$2" && pwd); shift 2 ;;
        --workdir) work=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "bench_train.sh: unknown option '$1'" >&2; echo "try --help" >&2; exit 2 ;;
    esac
done
for n in "$epochs" "$syn_rows" "$syn_epochs" "$threads"; do
    case "$n" in ''|*[!0-9]*|0) echo "bench_train.sh: '$n' is not a positive integer" >&2; exit 2 ;; esac
done
[ "$torch_only$wb_only" != 11 ] || { echo "bench_train.sh: --torch-only and --wb-only exclude each other" >&2; exit 2; }
case "$seed$nicen" in *[!0-9]*) echo "bench_train.sh: --seed and --nice take integers >= 0" >&2; exit 2 ;; esac
for d in $datasets; do case $d in synthetic|spam|cooking) ;; *) echo "bench_train.sh: unknown data set '$d'" >&2; exit 2 ;; esac; done
for m in $models; do case $m in tutorial|kim) ;; *) echo "bench_train.sh: unknown model '$m'" >&2; exit 2 ;; esac; done
for e in $embs; do case $e in frozen|finetune) ;; *) echo "bench_train.sh: unknown embeddings '$e'" >&2; exit 2 ;; esac; done
case "$work" in "$repo"|"$repo"/*) echo "bench_train.sh: --workdir must be outside the repository" >&2; exit 2 ;; esac

py=/usr/bin/python3          # Debian's interpreter: the one with python3-torch
wb="$build/wordbench"
gen="$build/wb_gen_glove"
tt="$here/torch_train.py"
mkdir -p "$work"
work=$(cd "$work" && pwd)
results="$work/train-results.jsonl"
cmds="$work/train-commands.txt"
if [ "$report_only" = 1 ]; then
    [ -s "$results" ] || { echo "bench_train.sh: no $results to report" >&2; exit 1; }
    datasets=""  # no data, no runs: straight to the report
else
    : > "$results"
    : > "$cmds"
fi
pre=()
[ "$nicen" = 0 ] || pre=(nice -n "$nicen")

die() { echo "bench_train.sh: $*" >&2; exit 1; }
"$py" -c 'import torch, keras_preprocessing' 2>/dev/null ||
    die "$py lacks torch or keras_preprocessing (Debian: python3-torch python3-keras-preprocessing)"
[ "$torch_only" = 1 ] || [ -x "$wb" ] || die "$wb not found: cmake --build $build --target wordbench_cli"
# The test file goes to `wordbench train` as --test when the CLI has it (--valid is then its validation
# set), else as --valid (the contract the harness was first written against).
wb_test=--valid
wb_unknown=0
wb_last=()
if [ "$torch_only" = 0 ]; then
    wbhelp=$("$wb" train --help 2>&1) ||
        die "'$wb train' is not available in this build (use --torch-only, or build a wordbench with train)"
    case "$wbhelp" in *"--test FILE"*) wb_test=--test ;; esac
    case "$wbhelp" in *"--unknown-label"*) wb_unknown=1 ;; esac
    # the test file is also the validation set: keep the last epoch, as PyTorch's side reports it (the best
    # epoch by the test split would be chosen on the test set)
    case "$wbhelp" in *"--no-restore-best"*) wb_last=(--no-restore-best) ;; esac
fi

log() { echo "bench_train.sh: $*" >&2; }
record_cmd() { printf '%s\n' "$*" >> "$cmds"; }

convert() { # vec store
    if [ "$torch_only" = 1 ]; then return; fi
    if [ -d "$2" ] && [ "$2.src" -nt "$1" ] && [ "$(cat "$2.src" 2>/dev/null)" = "$1" ]; then return; fi
    record_cmd "$wb convert --force --quiet $1 $2"
    "$wb" convert --force --quiet "$1" "$2" >/dev/null
    echo "$1" > "$2.src"
}

# ---- data --------------------------------------------------------------------------------------------

declare -A D_TRAIN D_VALID D_FMT D_VEC D_STORE D_EPOCHS D_WBOPTS D_TTOPTS
for ds in $datasets; do
    case $ds in
    synthetic)
        [ -x "$gen" ] || die "$gen not found: cmake --build $build --target wb_gen_glove"
        g="$work/syn-glove-20000x300-s$seed.txt"
        if [ ! -s "$g" ]; then
            record_cmd "$gen --rows 20000 --dim 300 --seed $seed --out $g"
            "$gen" --rows 20000 --dim 300 --seed "$seed" --out "$g.tmp" && mv "$g.tmp" "$g"
        fi
        tr="$work/syn-train-$syn_rows-s$seed.tsv"
        te="$work/syn-test-$syn_rows-s$seed.tsv"
        record_cmd "$py - $g $tr $te $syn_rows $seed   # 100 uniform random words per line, random pos/neg label"
        "$py" - "$g" "$tr" "$te" "$syn_rows" "$seed" <<'PY'
import random, sys
from keras_preprocessing.text import text_to_word_sequence
g, tr, te, n, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
with open(g, encoding="utf-8") as f:
    words = [line.split(" ", 1)[0] for line in f]
# only words that Keras' tokenizer keeps as they are (all of wb_gen_glove's should be)
words = [w for w in words if text_to_word_sequence(w) == [w]]
rng = random.Random(seed)
for path, rows in ((tr, n), (te, max(1, n // 4))):
    with open(path, "w", encoding="utf-8") as out:
        for _ in range(rows):
            out.write(" ".join(rng.choice(words) for _ in range(100)) + "\t" + rng.choice(("pos", "neg")) + "\n")
print("bench_train.sh: synthetic: %d words, %d + %d lines" % (len(words), n, max(1, n // 4)), file=sys.stderr)
PY
        D_TRAIN[$ds]=$tr; D_VALID[$ds]=$te; D_FMT[$ds]=tsv; D_VEC[$ds]=$g
        D_STORE[$ds]="$work/syn-20000x300-s$seed.store"; D_EPOCHS[$ds]=$syn_epochs; D_WBOPTS[$ds]=""; D_TTOPTS[$ds]=""
        ;;
    spam)
        csv="$shared/spamassassin/emails.csv"
        [ -r "$csv" ] || die "$csv not found"
        if [ ! -s "$work/spam-test.csv" ] || [ "$work/spam-test.csv" -ot "$csv" ]; then
            record_cmd "$py $tt --train $csv --format csv --test-size 0.2 --seed 1 --write-split $work/spam"
            "$py" "$tt" --train "$csv" --format csv --test-size 0.2 --seed 1 --write-split "$work/spam" >&2
        fi
        if [ -n "${VEC_OVERRIDE[spam]:-}" ]; then
            vec=${VEC_OVERRIDE[spam]}
        else
            record_cmd "$here/make_vec.sh --out $work --spam-csv $work/spam-train.csv spam"
            vec=$("$here/make_vec.sh" --out "$work" --spam-csv "$work/spam-train.csv" spam)
        fi
        D_TRAIN[$ds]="$work/spam-train.csv"; D_VALID[$ds]="$work/spam-test.csv"; D_FMT[$ds]=csv
        D_VEC[$ds]=$vec; D_STORE[$ds]="$work/spam-300.store"; D_EPOCHS[$ds]=$epochs
        D_WBOPTS[$ds]="--text-col text --label-col label"; D_TTOPTS[$ds]="--text-col text --label-col label"
        ;;
    cooking)
        [ -r "$shared/cooking/cooking.train" ] || die "$shared/cooking/cooking.train not found"
        if [ -n "${VEC_OVERRIDE[cooking]:-}" ]; then
            vec=${VEC_OVERRIDE[cooking]}
        else
            record_cmd "$here/make_vec.sh --out $work cooking"
            vec=$("$here/make_vec.sh" --out "$work" cooking)
        fi
        D_TRAIN[$ds]="$shared/cooking/cooking.train"; D_VALID[$ds]="$shared/cooking/cooking.valid"
        D_FMT[$ds]=fasttext; D_VEC[$ds]=$vec; D_STORE[$ds]="$work/cooking-300.store"
        D_EPOCHS[$ds]=$epochs; D_WBOPTS[$ds]=""; D_TTOPTS[$ds]="--unknown-label skip"
        # cooking.valid has tags cooking.train lacks: both sides drop those records from the test set
        [ "$wb_unknown" = 0 ] || D_WBOPTS[$ds]="--unknown-label skip"
        ;;
    esac
    [ -r "${D_VEC[$ds]}" ] || die "$ds: cannot read the vectors ${D_VEC[$ds]}"
    convert "${D_VEC[$ds]}" "${D_STORE[$ds]}"
    log "$ds: train ${D_TRAIN[$ds]}, test ${D_VALID[$ds]}, format ${D_FMT[$ds]}, vectors ${D_VEC[$ds]}, store ${D_STORE[$ds]}"
done
[ "$prepare_only" = 0 ] || exit 0
[ "$report_only" = 1 ] || [ -x /usr/bin/time ] || die "/usr/bin/time not found (Debian: time)"
shim=()
if [ "$sgemm" = 1 ] && [ "$torch_only" = 0 ]; then
    cc -O2 -DSGEMM_SHIM -shared -fPIC "$here/sgemm_rate.c" -o "$work/libsgemm_shim.so" -ldl -lpthread ||
        die "cannot build the sgemm shim"
    # shellcheck disable=SC2046
    cc -O2 "$here/sgemm_rate.c" -o "$work/sgemm_rate" $(pkg-config --cflags --libs openblas) ||
        die "cannot build sgemm_rate (pkg-config openblas)"
    record_cmd "cc -O2 -DSGEMM_SHIM -shared -fPIC $here/sgemm_rate.c -o $work/libsgemm_shim.so -ldl -lpthread"
    record_cmd "cc -O2 $here/sgemm_rate.c -o $work/sgemm_rate \$(pkg-config --cflags --libs openblas)"
fi

# ---- runs --------------------------------------------------------------------------------------------

run() { # impl ds model emb
    local impl=$1 ds=$2 m=$3 e=$4 base cmd rc t0 t1
    base="$work/train-$ds-$m-$e-$impl"
    if [ "$impl" = wordbench ] || [ "$impl" = wordbench1 ]; then
        local th=$threads
        [ "$impl" = wordbench ] || th=1
        # shellcheck disable=SC2206
        [ "$sgemm" = 0 ] || shim=(env "LD_PRELOAD=$work/libsgemm_shim.so" "WB_SGEMM_LOG=$base.sgemm")
        rm -f "$base.sgemm"
        cmd=("${pre[@]}" "${shim[@]}" "$wb" train --data "${D_TRAIN[$ds]}" "$wb_test" "${D_VALID[$ds]}" --format "${D_FMT[$ds]}"
             ${D_WBOPTS[$ds]} --store "${D_STORE[$ds]}" --model "$m" --embeddings "$e"
             --epochs "${D_EPOCHS[$ds]}" --batch-size 32 --threads "$th" --seed "$seed"
             -o "$work/model-$ds-$m-$e-$impl.wbm" "${wb_last[@]}" --json --quiet)
    else
        # shellcheck disable=SC2206
        cmd=("${pre[@]}" "$py" "$tt" --train "${D_TRAIN[$ds]}" --valid "${D_VALID[$ds]}" --format "${D_FMT[$ds]}"
             ${D_TTOPTS[$ds]} --vectors "${D_VEC[$ds]}" --model "$m" --embeddings "$e" --epochs "${D_EPOCHS[$ds]}"
             --batch-size 32 --threads "$threads" --seed "$seed" --quiet)
        [ "$sparse" = 0 ] || cmd+=(--sparse)
    fi
    record_cmd "${cmd[*]}"
    cmd=(/usr/bin/time -f "%U %S" -o "$base.time" "${cmd[@]}")
    log "$ds $m $e: $impl"
    t0=$(date +%s.%N)
    set +e
    "${cmd[@]}" > "$base.out" 2> "$base.err"
    rc=$?
    set -e
    t1=$(date +%s.%N)
    [ "$rc" = 0 ] || log "$impl failed (exit $rc): see $base.err"
    "$py" - "$impl" "$ds" "$m" "$e" "$rc" "$t0" "$t1" "$base.out" "$base.time" >> "$results" <<'PY'
import json, sys
impl, ds, m, e, rc, t0, t1, out, tfile = sys.argv[1:10]
cpu = None
try:
    u, s_ = open(tfile).read().split()[-2:]   # /usr/bin/time -f "%U %S" (a "Command exited" line may come first)
    cpu = round(float(u) + float(s_), 2)
except (OSError, ValueError):
    pass
res = None
try:
    for line in open(out, encoding="utf-8", errors="replace"):
        line = line.strip()
        if line.startswith("{"):
            try:
                res = json.loads(line)      # the last JSON document on stdout
            except ValueError:
                pass
except OSError:
    pass
print(json.dumps({"impl": impl, "data": ds, "model": m, "embeddings": e, "rc": int(rc),
                  "wall": round(float(t1) - float(t0), 3), "cpu": cpu, "result": res}))
PY
}

i=0
for ds in $datasets; do
    for m in $models; do
        for e in $embs; do
            if [ "$torch_only" = 1 ]; then
                run torch "$ds" "$m" "$e"
            elif [ "$wb_only" = 1 ]; then
                run wordbench "$ds" "$m" "$e"
            elif [ $((i % 2)) = 0 ]; then
                run wordbench "$ds" "$m" "$e"; run torch "$ds" "$m" "$e"
            else
                run torch "$ds" "$m" "$e"; run wordbench "$ds" "$m" "$e"
            fi
            [ "$wb1" = 0 ] || [ "$torch_only" = 1 ] || run wordbench1 "$ds" "$m" "$e"
            i=$((i + 1))
        done
    done
done

# ---- report ------------------------------------------------------------------------------------------

machine="$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1) · $(nproc) CPUs ($(lscpu | sed -n 's/^Core(s) per socket:[[:space:]]*//p' | head -1) cores/socket) · Linux $(uname -r) $(uname -m) · $(date -u '+%Y-%m-%d %H:%M UTC')"
versions="$("$py" -c 'import torch, numpy, platform; print("torch %s, numpy %s, Python %s (/usr/bin/python3)" % (torch.__version__, numpy.__version__, platform.python_version()))')"
load="$(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$sgemm" = 1 ] && [ -x "$work/sgemm_rate" ]; then
    for sg in "$work"/train-*-wordbench*.sgemm; do
        [ -s "$sg" ] && ! [ "$sg.md" -nt "$sg" ] || continue
        log "sgemm replay of $(basename "$sg" .sgemm)"
        record_cmd "${pre[*]} $work/sgemm_rate $sg"
        "${pre[@]}" "$work/sgemm_rate" "$sg" > "$sg.md" || log "sgemm_rate failed on $sg"
    done
fi
"$py" - "$results" "$cmds" "$machine" "$versions" "$load" "$threads" "$sparse" "$torch_only" "$work" <<'PY' | tee "$work/report-train.md"
import json, os, sys
results, cmds, machine, versions, load, threads, sparse, torch_only, work = sys.argv[1:10]
rows = [json.loads(l) for l in open(results)]
by = {}
for r in rows:
    by.setdefault((r["data"], r["model"], r["embeddings"]), {})[r["impl"]] = r

def metric(r):
    res = (r or {}).get("result") or {}
    for k in ("test_p_at_1", "test_acc"):  # multi-label: P@1 (wordbench also reports exact-match acc)
        if k in res:
            return res[k], ("acc" if k == "test_acc" else "P@1")
    return None, None

def eps(r):
    res = (r or {}).get("result") or {}
    return res.get("examples_per_s")

def f(x, fmt):
    return "—" if x is None else fmt % x

print("## Training throughput: wordbench train vs PyTorch 1.13\n")
print("**Machine:** %s · load average before the report %s · %s threads per trainer" % (machine, load, threads))
print("**Peer:** %s; %s\n" % (versions,
      "fine-tuning with sparse gradients + SparseAdam" if sparse == "1" else
      "fine-tuning with dense torch.optim.Adam over all parameters (PyTorch's default)"))
has1 = any(r["impl"] == "wordbench1" for r in rows)
print("| data | model | embeddings | wordbench ex/s | torch ex/s | ratio | target | %smetric | wordbench | torch | Δ points | wordbench CPU s | torch CPU s | torch epochs s |"
      % ("1-thread ex/s | %s threads / 1 | " % threads if has1 else ""))
print("|---|---|---|---:|---:|---:|---|%s---|---:|---:|---:|---:|---:|---|" % ("---:|---:|" if has1 else ""))
for (ds, m, e), d in by.items():
    w, t = d.get("wordbench"), d.get("torch")
    we, te = eps(w), eps(t)
    ratio = we / te if we and te else None
    # issue 12: synthetic >= 3x both; real data >= 6x frozen, >= 20x fine-tuned (issue 5 had 3x / 10x)
    target = 3.0 if ds == "synthetic" else (6.0 if e == "frozen" else 20.0)
    status = "—" if ratio is None else ("met" if ratio >= target else "not met")
    wm, kind = metric(w)
    tm, kind2 = metric(t)
    kind = kind or kind2 or ""
    delta = (wm - tm) * 100 if wm is not None and tm is not None else None
    tres = (t or {}).get("result") or {}
    eps_list = ", ".join("%.1f" % s for s in tres.get("epoch_seconds", []))
    wtxt = f(wm, "%.4f") if w else ("not run" if torch_only == "1" else "—")
    if w and w["rc"] != 0:
        wtxt = "failed (%d)" % w["rc"]
    ttxt = f(tm, "%.4f") if not (t and t["rc"] != 0) else "failed (%d)" % t["rc"]
    one = ""
    if has1:
        w1 = eps(d.get("wordbench1"))
        one = "%s | %s | " % (f(w1, "%.0f"), f(we / w1 if we and w1 else None, "%.2f×"))
    print("| %s | %s | %s | %s | %s | %s | ≥ %g× %s | %s%s | %s | %s | %s | %s | %s | %s |" % (
        ds, m, e, f(we, "%.0f"), f(te, "%.0f"), f(ratio, "%.2f×"), target, status,
        one, kind, wtxt, ttxt, f(delta, "%+.1f"), f((w or {}).get("cpu"), "%.1f"), f((t or {}).get("cpu"), "%.1f"),
        eps_list))
print()
print("ex/s = training examples / seconds of the training loop (all epochs, evaluation excluded). "
      "Accuracy (binary, multiclass) or P@1 (multilabel: correct top-1 / N) on the test split; "
      "target also needs |Δ| ≤ 1 point on spam and cooking. Synthetic labels are random (accuracy ~0.5). "
      "CPU s = user + sys of the whole command (/usr/bin/time: loading, training, evaluation).")
if has1:
    print("\n%s threads vs 1: wall-clock examples/s and the CPU time of the same work\n" % threads)
    print("| data | model | embeddings | ex/s %s threads | ex/s 1 thread | wall %s / 1 | CPU s %s threads | CPU s 1 thread | CPU 1 / %s |"
          % (threads, threads, threads, threads))
    print("|---|---|---|---:|---:|---:|---:|---:|---:|")
    for (ds, m, e), d in by.items():
        w, w1 = d.get("wordbench"), d.get("wordbench1")
        if not w1:
            continue
        we, we1 = eps(w), eps(w1)
        c, c1 = (w or {}).get("cpu"), w1.get("cpu")
        print("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (ds, m, e, f(we, "%.0f"), f(we1, "%.0f"),
              f(we / we1 if we and we1 else None, "%.2f×"), f(c, "%.2f"), f(c1, "%.2f"),
              f(c1 / c if c and c1 else None, "%.2f")))
    print("\nCPU 1 / %s below 1 is the work the split adds (rows both lanes gather and project, the reduction, "
          "wake-ups); with %s idle cores the wall-clock speed-up of the training loop is at most %s × that ratio."
          % (threads, threads, threads))
sg = []
for (ds, m, e), d in by.items():
    for impl in ("wordbench", "wordbench1"):
        path = os.path.join(work, "train-%s-%s-%s-%s.sgemm.md" % (ds, m, e, impl))
        if impl in d and os.path.exists(path):
            sg.append(("%s %s %s, wordbench --threads %s" % (ds, m, e, threads if impl == "wordbench" else 1), path))
if sg:
    print("\n### sgemm inside the run vs the machine's one-threaded sgemm at the same shapes\n")
    print("In the run: flops / thread CPU time of each cblas_sgemm call (LD_PRELOAD shim). Replay: the same "
          "shapes (M at each bucket's mean, same leading dimensions) timed alone with one OpenBLAS thread, "
          "in this script after the runs. The convolution's projection is the family with N = filters and "
          "K = the embedding width (K sgemms per width per lane); the others are the dense layers.\n")
    for title, path in sg:
        print("**%s**\n" % title)
        print(open(path).read().rstrip() + "\n")
bl = {}
for r in rows:
    res = r.get("result") or {}
    if r["impl"] == "torch" and "baseline" in res:
        bl[r["data"]] = (res["baseline"], res.get("train"), res.get("test"), res.get("vocab"), res.get("coverage"), res.get("split"))
if bl:
    print("\n| data | train | test | vocabulary (Keras) | vectors cover | majority baseline | split |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for ds, (b, ntr, nte, v, cov, split) in bl.items():
        print("| %s | %s | %s | %s | %s | %.4f | %s |" % (ds, ntr, nte, v, ("—" if cov is None else "%.1f%%" % (100 * cov)), b, split))
print("\nCommands, exactly as run:\n\n```")
print(open(cmds).read().rstrip())
print("```")
PY
