#!/usr/bin/env bash
# bench_models.sh — the model kinds of issue 11 side by side with their peers, in one run:
#
#   charcnn   spam    wordbench train --model charcnn      vs  the PyTorch twin (peers_models.py)
#   lstm      spam    wordbench train --model lstm         vs  nn.LSTM over packed sequences (SparseAdam rows)
#   gru       spam    wordbench train --model gru          vs  nn.GRU over packed sequences (SparseAdam rows)
#   bow       spam    wordbench train --model bow          vs  scikit-learn CountVectorizer/TfidfVectorizer
#   bow       cooking                                          + LogisticRegression (one-vs-rest)
#
# Both sides read the same files: spam is split once (seeded, stratified 80/20) by torch_train.py
# --write-split into WORKDIR/spam-{train,test}.csv; cooking is cooking.train with cooking.valid (labels
# the training file lacks are dropped from the test set on both sides).  Every pair runs one after the
# other, the order alternating, under the same nice level and thread count; the report gives each side's
# examples/s (training steps only), the ratio, and the test accuracy (P@1 for cooking), the machine
# line and every command.  The machine is shared with other jobs: compare ratios, not absolute figures.
# The recurrent peers update their embedding lazily (sparse gradients + SparseAdam, as wordbench does):
# with PyTorch's default dense Adam over the 145k x 100 embedding, one spam epoch of the LSTM twin did not
# finish in 20 minutes, which would measure Adam over unused rows rather than the recurrent layer.
#
# Not here: the multi-input figure (bench_multi.sh), the CNNs of issue 5 (bench_train.sh).
set -euo pipefail

usage() {
    cat <<'EOF'
usage: tools/bench/bench_models.sh [options]

  --cases LIST     any of charcnn lstm gru bow-spam bow-cooking (default: all)
  --epochs N       epochs of lstm/gru/charcnn (default: 3)
  --bow-epochs N   epochs of bow (default: 10)
  --maxlen N       lstm/gru maxlen (default: 200)
  --threads N      threads of both sides (default: 2)
  --nice N         nice level of both sides (default: 10)
  --build DIR      build directory with wordbench (default: ./build)
  --workdir DIR    data, models, logs (default: /tmp/wb-bench-models)
  -h, --help       this help
EOF
}

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
shared="$repo/../shared/data"
cases="charcnn lstm gru bow-spam bow-cooking"
epochs=3 bow_epochs=10 maxlen=200 threads=2 nicen=10
build="$repo/build"
work=/tmp/wb-bench-models
while [ $# -gt 0 ]; do
    case "$1" in
        --cases) cases=${2//,/ }; shift 2 ;;
        --epochs) epochs=$2; shift 2 ;;
        --bow-epochs) bow_epochs=$2; shift 2 ;;
        --maxlen) maxlen=$2; shift 2 ;;
        --threads) threads=$2; shift 2 ;;
        --nice) nicen=$2; shift 2 ;;
        --build) build=$(cd "$2" && pwd); shift 2 ;;
        --workdir) work=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "bench_models.sh: unknown option '$1'" >&2; echo "try --help" >&2; exit 2 ;;
    esac
done
for n in "$epochs" "$bow_epochs" "$maxlen" "$threads"; do
    case "$n" in ''|*[!0-9]*|0) echo "bench_models.sh: '$n' is not a positive integer" >&2; exit 2 ;; esac
done
for c in $cases; do
    case $c in charcnn|lstm|gru|bow-spam|bow-cooking) ;; *) echo "bench_models.sh: unknown case '$c'" >&2; exit 2 ;; esac
done
case "$work" in "$repo"|"$repo"/*) echo "bench_models.sh: --workdir must be outside the repository" >&2; exit 2 ;; esac

py=/usr/bin/python3
wb="$build/wordbench"
peer="$here/peers_models.py"
die() { echo "bench_models.sh: $*" >&2; exit 1; }
[ -x "$wb" ] || die "$wb not found: cmake --build $build --target wordbench_cli"
"$py" -c 'import torch, keras_preprocessing, sklearn' 2>/dev/null || die "$py lacks torch, keras_preprocessing or sklearn"
[ -r "$shared/spamassassin/emails.csv" ] || die "$shared/spamassassin/emails.csv not found"
mkdir -p "$work"
work=$(cd "$work" && pwd)
results="$work/results.jsonl" cmds="$work/commands.txt"
: > "$results"
: > "$cmds"
pre=(nice -n "$nicen")
log() { echo "bench_models.sh: $*" >&2; }

if [ ! -s "$work/spam-test.csv" ]; then
    echo "$py $here/torch_train.py --train $shared/spamassassin/emails.csv --format csv --test-size 0.2 --seed 1 --write-split $work/spam" >> "$cmds"
    "$py" "$here/torch_train.py" --train "$shared/spamassassin/emails.csv" --format csv --test-size 0.2 --seed 1 \
        --write-split "$work/spam" >&2
fi
SPAM_WB=(--data "$work/spam-train.csv" --test "$work/spam-test.csv" --text-col text --label-col label --cache-dir "$work/cache")
SPAM_PEER=(--train "$work/spam-train.csv" --valid "$work/spam-test.csv" --format csv --text-col text --label-col label)
COOK_WB=(--data "$shared/cooking/cooking.train" --test "$shared/cooking/cooking.valid" --unknown-label skip --cache-dir "$work/cache")
COOK_PEER=(--train "$shared/cooking/cooking.train" --valid "$shared/cooking/cooking.valid" --format fasttext)

# one side: name, then the command; its JSON line goes to results.jsonl with "case" and "side"
side() {
    local cs=$1 sd=$2
    shift 2
    echo "${pre[*]} $*" >> "$cmds"
    log "$cs / $sd: $*"
    local out="$work/$cs-$sd.json" err="$work/$cs-$sd.err"
    if ! "${pre[@]}" "$@" >"$out" 2>"$err"; then
        log "$cs / $sd failed: $(tail -n 3 "$err")"
        return 0
    fi
    tail -n 1 "$out" | "$py" -c 'import json,sys; d=json.loads(sys.stdin.read()); d["case"]=sys.argv[1]; d["side"]=sys.argv[2]; print(json.dumps(d))' "$cs" "$sd" >> "$results"
}

n=0
pair() { # case, then "wb" args..., "--", peer args...
    local cs=$1
    shift
    local wbargs=() peerargs=()
    while [ "$1" != "--" ]; do wbargs+=("$1"); shift; done
    shift
    peerargs=("$@")
    if [ $((n % 2)) = 0 ]; then
        side "$cs" wordbench "$wb" train -q --json --threads "$threads" "${wbargs[@]}" -o "$work/$cs.wbm"
        side "$cs" peer "$py" "$peer" --threads "$threads" "${peerargs[@]}"
    else
        side "$cs" peer "$py" "$peer" --threads "$threads" "${peerargs[@]}"
        side "$cs" wordbench "$wb" train -q --json --threads "$threads" "${wbargs[@]}" -o "$work/$cs.wbm"
    fi
    n=$((n + 1))
}

for c in $cases; do
    case $c in
    charcnn) pair charcnn "${SPAM_WB[@]}" --model charcnn --epochs "$epochs" -- \
        --model charcnn "${SPAM_PEER[@]}" --maxlen 1014 --epochs "$epochs" ;;
    lstm) pair lstm "${SPAM_WB[@]}" --model lstm --units 100 --emb-dim 100 --maxlen "$maxlen" --epochs "$epochs" -- --sparse \
        --model lstm "${SPAM_PEER[@]}" --units 100 --emb-dim 100 --maxlen "$maxlen" --epochs "$epochs" ;;
    gru) pair gru "${SPAM_WB[@]}" --model gru --units 100 --emb-dim 100 --maxlen "$maxlen" --epochs "$epochs" -- --sparse \
        --model gru "${SPAM_PEER[@]}" --units 100 --emb-dim 100 --maxlen "$maxlen" --epochs "$epochs" ;;
    bow-spam) pair bow-spam "${SPAM_WB[@]}" --model bow --bow tfidf --ngrams 2 --epochs "$bow_epochs" --lr 0.01 -- \
        --model bow "${SPAM_PEER[@]}" --bow tfidf --ngrams 2 ;;
    bow-cooking) pair bow-cooking "${COOK_WB[@]}" --model bow --bow tfidf --ngrams 2 --epochs "$bow_epochs" --lr 0.01 -- \
        --model bow "${COOK_PEER[@]}" --bow tfidf --ngrams 2 ;;
    esac
done

# ---- report ----------------------------------------------------------------------------------------
{
    echo "# bench_models.sh — $(date -u +%Y-%m-%dT%H:%MZ)"
    echo
    echo "Machine: $(lscpu | grep 'Model name' | sed 's/  */ /g'), $(nproc) cores, shared with other jobs" \
         "(load average $(cut -d' ' -f1-3 /proc/loadavg)); threads $threads, nice $nicen."
    echo
    "$py" - "$results" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
by = {}
for r in rows:
    by.setdefault(r["case"], {})[r["side"]] = r
print("| case | wordbench ex/s | peer ex/s | ratio | wordbench metric | peer metric | wordbench s | peer s |")
print("|---|---|---|---|---|---|---|---|")
for c, s in by.items():
    w, p = s.get("wordbench", {}), s.get("peer", {})
    def metric(d):
        for k in ("test_p_at_1", "test_acc"):
            if k in d:
                return "%s %.4f" % ("P@1" if k == "test_p_at_1" else "acc", d[k])
        return "—"
    we, pe = w.get("examples_per_s"), p.get("examples_per_s")
    if pe is None and p.get("seconds") and w.get("seconds"):
        # scikit-learn: whole runs (vectorizing + fitting vs reading + tokenizing + training)
        wt = w.get("data_s", 0) + w.get("setup_s", 0) + w["seconds"]
        w = dict(w, seconds=round(wt, 3))
        ratio = "%.2f× the time" % (wt / p["seconds"])
    else:
        ratio = "%.2f×" % (we / pe) if we and pe else "—"
    print("| %s | %s | %s | %s | %s | %s | %s | %s |" % (c, "%.1f" % we if we else "—", "%.1f" % pe if pe else "—", ratio,
          metric(w), metric(p), w.get("seconds", "—"), p.get("seconds", "—")))
PY
    echo
    echo "Commands:"
    echo
    sed 's/^/    /' "$cmds"
} | tee "$work/report.md"
