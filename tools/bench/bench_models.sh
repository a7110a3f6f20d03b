#!/usr/bin/env bash
# bench_models.sh — issue 11's figures: `wordbench train --model charcnn|lstm|gru|bow` side by side with
# their twins in one run: PyTorch 1.13 (tools/bench/torch_models.py) for charcnn, lstm and gru,
# scikit-learn (tools/bench/sklearn_bow.py: CountVectorizer [+ TfidfTransformer] + LogisticRegression)
# for bow. Each pair runs one after the other on the same files with the same seed and settings, under
# nice, at --threads threads each (wordbench --threads N, torch.set_num_threads(N), OvR n_jobs=N), and
# the script prints a markdown report: examples/s (or fit and wall time for bow), the ratio, the test
# accuracy (spam) or P@1 (cooking), the load before and after, the machine line and every command.
#
# Data: spamassassin/emails.csv split once (seeded, stratified, 80/20) by torch_train.py --write-split
# (as bench_train.sh), cooking.train / cooking.valid (test records with an unseen tag dropped on both
# sides). Within the ~20 minutes a shared 2-core machine allows:
#   charcnn   a seeded --char-train-record subset of the spam training split, --char-epochs epochs, tested
#             on a --char-test-record subset of the test split (l0 1014: ~1.5 GFLOP a training example).
#   lstm/gru  the whole spam split, --rnn-epochs epochs, learned embeddings (E 100), 100 units, maxlen
#             --rnn-maxlen, --num-words 20000, last state. Two torch twins: "padded" (nn.LSTM/GRU over the
#             padded batch, no masking: the same maths for every text at least maxlen tokens long, which
#             the report counts) on the whole split, and "packed" (pack_padded_sequence, the masking
#             twin) on a --packed-train-record subset: its backward on CPU is quadratic in maxlen.
#   bow       spam counts (1-grams) and tf-idf (1-2-grams) with maxlen 1000, cooking counts with maxlen
#             100; wordbench's --l2 is scikit-learn's C = 1 on the same objective (1 / (C·n), and / labels
#             for multi-label, whose loss wordbench averages over the labels too; the decay reaches every
#             row at every step, as scikit-learn's penalty). What wordbench's speed is made of, for tf-idf
#             and cooking: the same run without the cache of sparse rows (WB_BOW_CACHE_MB=0: features
#             re-derived every step) and with --l2 0 (no decay of idle rows to catch up).
# wordbench runs with --no-restore-best: with --test and no --valid the test split would pick the epoch.
set -euo pipefail
prog=bench_models.sh
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.bash"

usage() {
    cat <<'EOF'
usage: tools/bench/bench_models.sh [options]

  --models LIST          charcnn lstm gru lstm-bi bow, space or comma separated (default: charcnn lstm gru bow)
  --char-train N         charcnn training records, a seeded subset of the spam split (default: 640)
  --char-test N          charcnn test records (default: 300)
  --char-epochs N        (default: 2)
  --rnn-epochs N         (default: 1)
  --rnn-maxlen N         (default: 100)
  --packed-train N       training records of the packed torch twin (default: 160)
  --bow-epochs N         (default: 10)
  --threads N            threads of every trainer (default: 2)
  --seed S               (default: 1)
  --nice N               run every trainer under nice -n N (default: 5; 0 = off)
  --build DIR            build directory with wordbench (default: ./build)
  --workdir DIR          splits, models, logs (default: /tmp/wb-bench-models)
  -h, --help             this help

The report is printed and saved as WORKDIR/report-twins.md; each run's output stays in
WORKDIR/twins-*.{out,err}, one JSON record per run in WORKDIR/twins-results.jsonl.
EOF
}

repo=$(cd "$here/../.." && pwd)
shared="$repo/../shared/data"
models="charcnn lstm gru bow"
char_train=640 char_test=300 char_epochs=2 rnn_epochs=1 rnn_maxlen=100 packed_train=160 bow_epochs=10
threads=2 seed=1 nicen=5
build="$repo/build"
work=/tmp/wb-bench-models
while [ $# -gt 0 ]; do
    case "$1" in
        --models) need_value "$1" $#; models=${2//,/ }; shift 2 ;;
        --char-train) need_value "$1" $#; positive_int "$1" "$2"; char_train=$2; shift 2 ;;
        --char-test) need_value "$1" $#; positive_int "$1" "$2"; char_test=$2; shift 2 ;;
        --char-epochs) need_value "$1" $#; positive_int "$1" "$2"; char_epochs=$2; shift 2 ;;
        --rnn-epochs) need_value "$1" $#; positive_int "$1" "$2"; rnn_epochs=$2; shift 2 ;;
        --rnn-maxlen) need_value "$1" $#; positive_int "$1" "$2"; rnn_maxlen=$2; shift 2 ;;
        --packed-train) need_value "$1" $#; positive_int "$1" "$2"; packed_train=$2; shift 2 ;;
        --bow-epochs) need_value "$1" $#; positive_int "$1" "$2"; bow_epochs=$2; shift 2 ;;
        --threads) need_value "$1" $#; positive_int "$1" "$2"; threads=$2; shift 2 ;;
        --seed) need_value "$1" $#; [[ $2 =~ ^[0-9]+$ ]] || usage_error "--seed: expected an integer >= 0"; seed=$2; shift 2 ;;
        --nice) need_value "$1" $#; [[ $2 =~ ^[0-9]+$ ]] || usage_error "--nice: expected an integer >= 0"; nicen=$2; shift 2 ;;
        --build) need_value "$1" $#; build=$(cd "$2" && pwd); shift 2 ;;
        --workdir) need_value "$1" $#; work=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) usage_error "unknown option '$1'" ;;
    esac
done
for m in $models; do case $m in charcnn|lstm|gru|lstm-bi|bow) ;; *) usage_error "unknown model '$m'" ;; esac; done
case "$work" in "$repo"|"$repo"/*) usage_error "--workdir must be outside the repository" ;; esac

py=/usr/bin/python3          # Debian's interpreter: the one with python3-torch and python3-sklearn
wb="$build/wordbench"
[ -x "$wb" ] || die "$wb not found: cmake --build $build --target wordbench_cli"
"$py" -c 'import torch, sklearn, keras_preprocessing' 2>/dev/null ||
    die "$py lacks torch, sklearn or keras_preprocessing (Debian: python3-torch python3-sklearn python3-keras-preprocessing)"
csv="$shared/spamassassin/emails.csv"
[ -r "$csv" ] || die "$csv not found"
[ -r "$shared/cooking/cooking.train" ] || die "$shared/cooking/cooking.train not found"
mkdir -p "$work"
work=$(cd "$work" && pwd)
results="$work/twins-results.jsonl"
cmds="$work/twins-commands.txt"
: > "$results"
: > "$cmds"
pre=()
[ "$nicen" = 0 ] || pre=(nice -n "$nicen")
export OPENBLAS_NUM_THREADS=$threads OMP_NUM_THREADS=$threads   # scikit-learn's lbfgs / numpy BLAS
load_before="$(uptime | sed 's/.*load average: //')"

record_cmd() { printf '%s\n' "$*" >> "$cmds"; }
quiet_run() { record_cmd "$*"; "$@" >&2; }

# ---- data --------------------------------------------------------------------------------------------
if [ ! -s "$work/spam-test.csv" ] || [ "$work/spam-test.csv" -ot "$csv" ]; then
    quiet_run "$py" "$here/torch_train.py" --train "$csv" --format csv --test-size 0.2 --seed 1 --write-split "$work/spam"
fi
quiet_run "$py" "$here/torch_models.py" --train "$work/spam-train.csv" --seed "$seed" \
    --write-subset "$work/spam-train-$char_train.csv" "$char_train"
quiet_run "$py" "$here/torch_models.py" --train "$work/spam-test.csv" --seed "$seed" \
    --write-subset "$work/spam-test-$char_test.csv" "$char_test"
quiet_run "$py" "$here/torch_models.py" --train "$work/spam-train.csv" --seed "$seed" \
    --write-subset "$work/spam-train-$packed_train.csv" "$packed_train"
CK="$shared/cooking"

# ---- runs --------------------------------------------------------------------------------------------
n=0
run() { # name impl cmd... : one trainer, its wall time and its last JSON line
    local name=$1 impl=$2 base t0 t1 rc
    shift 2
    n=$((n + 1))
    base="$work/twins-$n-$name-$impl"
    record_cmd "$*"
    note "$name: $impl"
    t0=$(date +%s.%N)
    set +e
    "${pre[@]}" "$@" > "$base.out" 2> "$base.err"
    rc=$?
    set -e
    t1=$(date +%s.%N)
    [ "$rc" = 0 ] || note "$name $impl failed (exit $rc): see $base.err"
    "$py" - "$name" "$impl" "$rc" "$t0" "$t1" "$base.out" >> "$results" <<'PY'
import json, sys
name, impl, rc, t0, t1, out = sys.argv[1:7]
res = None
for line in open(out, encoding="utf-8", errors="replace"):
    if line.strip().startswith("{"):
        try:
            res = json.loads(line)
        except ValueError:
            pass
print(json.dumps({"name": name, "impl": impl, "rc": int(rc), "wall": round(float(t1) - float(t0), 2), "result": res}))
PY
}
WBT=("$wb" train --threads "$threads" --seed "$seed" --no-restore-best --no-cache --json --quiet)
TM=("$py" "$here/torch_models.py" --threads "$threads" --seed "$seed" --quiet)
SK=("$py" "$here/sklearn_bow.py" --threads "$threads")
spam_wb=(--data "$work/spam-train.csv" --test "$work/spam-test.csv" --format csv)
spam_py=(--train "$work/spam-train.csv" --test "$work/spam-test.csv" --format csv)
ntrain=$("$py" -c 'import csv,sys; csv.field_size_limit(sys.maxsize); print(sum(1 for _ in csv.reader(open(sys.argv[1], newline="", encoding="utf-8", errors="replace"))) - 1)' "$work/spam-train.csv")

for m in $models; do
    case $m in
    charcnn)
        ch_wb=(--data "$work/spam-train-$char_train.csv" --test "$work/spam-test-$char_test.csv" --format csv)
        ch_py=(--train "$work/spam-train-$char_train.csv" --test "$work/spam-test-$char_test.csv" --format csv)
        run charcnn wordbench "${WBT[@]}" "${ch_wb[@]}" --model charcnn --tokenizer char --maxlen 1014 \
            --epochs "$char_epochs" --history "$work/charcnn-history.csv" -o "$work/charcnn.wbm"
        run charcnn torch "${TM[@]}" "${ch_py[@]}" --model charcnn --maxlen 1014 --epochs "$char_epochs" --epoch-test
        ;;
    lstm|gru|lstm-bi)
        kind=${m%-bi}
        bi=()
        [ "$m" = "$kind" ] || bi=(--bidirectional)
        rnn=(--model "$kind" "${bi[@]}" --maxlen "$rnn_maxlen" --num-words 20000 --emb-dim 100 --units 100
             --rnn-pool last --epochs "$rnn_epochs")
        run "$m" wordbench "${WBT[@]}" "${spam_wb[@]}" "${rnn[@]}" -o "$work/$m.wbm"
        run "$m" torch-padded "${TM[@]}" "${spam_py[@]}" "${rnn[@]}" --rnn-impl padded
        run "$m" torch-packed "${TM[@]}" --train "$work/spam-train-$packed_train.csv" --test "$work/spam-test.csv" \
            --format csv "${rnn[@]}" --rnn-impl packed
        ;;
    bow)
        l2=$("$py" -c "print('%.3g' % (1 / $ntrain))")
        run bow-spam-counts wordbench "${WBT[@]}" "${spam_wb[@]}" --model bow --bow counts --ngrams 1 --maxlen 1000 \
            --epochs "$bow_epochs" --lr 0.01 --l2 "$l2" -o "$work/bow1.wbm"
        run bow-spam-counts sklearn "${SK[@]}" "${spam_py[@]}" --bow counts --ngrams 1 --maxlen 1000
        run bow-spam-tfidf2 wordbench "${WBT[@]}" "${spam_wb[@]}" --model bow --bow tfidf --ngrams 2 --maxlen 1000 \
            --epochs "$bow_epochs" --lr 0.05 --l2 "$l2" -o "$work/bow2.wbm"
        run bow-spam-tfidf2 sklearn "${SK[@]}" "${spam_py[@]}" --bow tfidf --ngrams 2 --maxlen 1000
        run bow-spam-tfidf2 wordbench-nocache env WB_BOW_CACHE_MB=0 "${WBT[@]}" "${spam_wb[@]}" --model bow --bow tfidf \
            --ngrams 2 --maxlen 1000 --epochs "$bow_epochs" --lr 0.05 --l2 "$l2" -o "$work/bow2n.wbm"
        run bow-spam-tfidf2 wordbench-l2-0 "${WBT[@]}" "${spam_wb[@]}" --model bow --bow tfidf --ngrams 2 --maxlen 1000 \
            --epochs "$bow_epochs" --lr 0.05 --l2 0 -o "$work/bow2z.wbm"
        ck_wb=(--data "$CK/cooking.train" --test "$CK/cooking.valid" --format fasttext --unknown-label skip)
        nck=$(wc -l < "$CK/cooking.train")
        ntag=$(tr ' ' '\n' < "$CK/cooking.train" | grep '^__label__' | sort -u | wc -l)
        l2c=$("$py" -c "print('%.3g' % (1 / ($nck * $ntag)))")
        run bow-cooking-counts sklearn "${SK[@]}" --train "$CK/cooking.train" --test "$CK/cooking.valid" \
            --format fasttext --unknown-label skip --bow counts --ngrams 1 --maxlen 100
        run bow-cooking-counts wordbench "${WBT[@]}" "${ck_wb[@]}" --model bow --bow counts --ngrams 1 --maxlen 100 \
            --epochs "$bow_epochs" --lr 0.01 --l2 "$l2c" -o "$work/bow3.wbm"
        run bow-cooking-counts wordbench-nocache env WB_BOW_CACHE_MB=0 "${WBT[@]}" "${ck_wb[@]}" --model bow --bow counts \
            --ngrams 1 --maxlen 100 --epochs "$bow_epochs" --lr 0.01 --l2 "$l2c" -o "$work/bow3n.wbm"
        run bow-cooking-counts wordbench-l2-0 "${WBT[@]}" "${ck_wb[@]}" --model bow --bow counts --ngrams 1 --maxlen 100 \
            --epochs "$bow_epochs" --lr 0.01 --l2 0 -o "$work/bow3z.wbm"
        ;;
    esac
done

# ---- report ------------------------------------------------------------------------------------------
machine="$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1) · $(nproc) CPUs · Linux $(uname -r) $(uname -m) · $(date -u '+%Y-%m-%d %H:%M UTC')"
load_after="$(uptime | sed 's/.*load average: //')"
"$py" - "$results" "$cmds" "$machine" "$load_before" "$load_after" "$threads" "$nicen" <<'PY' | tee "$work/report-twins.md"
import json, sys
results, cmds, machine, lb, la, threads, nicen = sys.argv[1:8]
rows = [json.loads(l) for l in open(results)]
import csv, os, sklearn, torch
print("**Machine:** %s (shared with other sessions: load average %s before, %s after) · %s threads per "
      "trainer, nice %s · torch %s, scikit-learn %s\n" % (machine, lb, la, threads, nicen, torch.__version__,
                                                          sklearn.__version__))
print("| model | data | impl | train × epochs | ex/s | wordbench / twin | test acc or P@1 | train s | wall s |")
print("|---|---|---|---:|---:|---:|---:|---:|---:|")
wbe = {}
for r in rows:
    res = r["result"] or {}
    if r["impl"] == "wordbench":
        wbe[r["name"]] = (res.get("examples_per_s"), res.get("seconds"), r["wall"])
for r in rows:
    res = r["result"] or {}
    name = r["name"]
    data = "cooking" if "cooking" in name else "spam"
    metric = res.get("test_p_at_1", res.get("test_acc"))
    mk = "P@1 " if "test_p_at_1" in res else ""
    eps, secs = res.get("examples_per_s"), res.get("seconds")
    w = wbe.get(name, (None, None, None))
    if name.startswith("bow"):          # one fit, no epochs: the ratio is of the wall time (twin / wordbench)
        ratio = "%.2f× faster (wall)" % (r["wall"] / w[2]) if r["impl"] == "sklearn" and w[2] else ""
        eps = None
    else:
        ratio = "%.2f×" % (w[0] / eps) if r["impl"] != "wordbench" and w[0] and eps else ""
    ep = res.get("epochs", 1)
    extra = ""
    if "short_share" in res:
        extra = " (%.1f%% shorter than maxlen)" % (100 * res["short_share"])
    ntrain = res.get("train", "—")
    print("| %s | %s | %s%s | %s × %s | %s | %s | %s | %s | %.1f |" % (
        name, data, r["impl"], extra, ntrain, ep if not name.startswith("bow") or r["impl"] != "sklearn" else "lbfgs",
        "—" if eps is None else "%.1f" % eps, ratio,
        "failed (%d)" % r["rc"] if r["rc"] else ("—" if metric is None else "%s%.4f" % (mk, metric)),
        "—" if secs is None else "%.1f" % secs, r["wall"]))
print()
print("ex/s: training examples × epochs / seconds of the training loop (evaluation excluded). "
      "wordbench / twin: the ratio of those (> 1: wordbench faster); for bow the twin's wall time over "
      "wordbench's (whole command: read, tokenize, fit, evaluate). train s: wordbench's training loop "
      "(bow: the epochs' steps; its n-gram table, idf and cache of sparse rows are in the wall time only), "
      "torch's epochs, scikit-learn's vectorize + fit.")
hist = os.path.join(os.path.dirname(results), "charcnn-history.csv")
tc = [r["result"] for r in rows if r["name"] == "charcnn" and r["impl"] == "torch" and r["result"]]
if os.path.exists(hist) and tc and "epoch_test" in tc[0]:
    # wordbench's history scores --test after every epoch (val_* columns); torch_models.py --epoch-test
    wb_acc = [float(r["val_acc"]) for r in csv.DictReader(open(hist))]
    print("\ncharcnn test accuracy after each epoch:\n")
    print("| epoch | " + " | ".join(str(i + 1) for i in range(len(wb_acc))) + " |")
    print("|---|" + "---:|" * len(wb_acc))
    print("| wordbench | " + " | ".join("%.4f" % v for v in wb_acc) + " |")
    print("| torch | " + " | ".join("%.4f" % v for v in tc[0]["epoch_test"]) + " |")
print("\nCommands, exactly as run:\n\n```")
print(open(cmds).read().rstrip())
print("```")
PY
