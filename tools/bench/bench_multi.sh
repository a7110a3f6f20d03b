#!/usr/bin/env bash
# bench_multi.sh — the multi-input figure of issue 11: on the SpamAssassin e-mails split into subject, body
# and hand-made numeric features (tools/bench/make_spam_fields.py, 5 stratified folds), the test accuracy,
# mean ± standard deviation over the folds, of
#   body       one text input (the body)
#   two texts  subject and body, one branch and vocabulary each (--maxlen subject=S,body=B)
#   + features the two texts and the numeric columns links, caps, length, exclaims, html (standardised
#              with the training fold's statistics; --feature-dense N squashes them first)
# all with the same model kind, embedding size, epochs and seed, one after the other in one run; the
# report gives each variant's accuracy per fold, mean ± std (population), examples/s, the machine line
# and every command.  The machine is shared: compare the variants, not the absolute speed.
# No peer runs here: the issue names none for this figure (Keras' functional API is not packaged).
set -euo pipefail

usage() {
    cat <<'EOF'
usage: tools/bench/bench_multi.sh [options]

  --model NAME       model kind of every branch (default: pool)
  --emb-dim N        embedding dimension (default: 50)
  --epochs N         epochs (default: 5)
  --maxlen S,B       subject and body maxlen (default: 20,300)
  --feature-dense N  --feature-dense of the third variant (default: 0)
  --folds N          folds (default: 5)
  --build DIR        build directory with wordbench (default: ./build)
  --workdir DIR      data, models, logs (default: /tmp/wb-bench-multi)
  -h, --help         this help
EOF
}

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
model=pool emb=50 epochs=5 maxlen=20,300 fdense=0 folds=5
build="$repo/build"
work=/tmp/wb-bench-multi
while [ $# -gt 0 ]; do
    case "$1" in
        --model) model=$2; shift 2 ;;
        --emb-dim) emb=$2; shift 2 ;;
        --epochs) epochs=$2; shift 2 ;;
        --maxlen) maxlen=$2; shift 2 ;;
        --feature-dense) fdense=$2; shift 2 ;;
        --folds) folds=$2; shift 2 ;;
        --build) build=$(cd "$2" && pwd); shift 2 ;;
        --workdir) work=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "bench_multi.sh: unknown option '$1'" >&2; echo "try --help" >&2; exit 2 ;;
    esac
done
wb="$build/wordbench"
[ -x "$wb" ] || { echo "bench_multi.sh: $wb is not built" >&2; exit 1; }
ms=${maxlen%,*} mb=${maxlen#*,}
mkdir -p "$work"
if [ ! -s "$work/fold$folds-test.csv" ]; then
    /usr/bin/python3 "$here/make_spam_fields.py" --folds "$folds" "$work"
fi
# --no-restore-best: the test fold is also the validation set; keep the last epoch rather than the one the
# test fold would pick
common=(--format csv --model "$model" --emb-dim "$emb" --epochs "$epochs" --num-words 20000 --seed 1 --no-restore-best --json -q)
feats=(--feature-col links --feature-col caps --feature-col length --feature-col exclaims --feature-col html)
declare -A args
args[body]="--text-col body --maxlen $mb"
args[two]="--text-col subject --text-col body --maxlen subject=$ms,body=$mb"
args[feat]="--text-col subject --text-col body --maxlen subject=$ms,body=$mb ${feats[*]} --feature-dense $fdense"
: >"$work/results.tsv"
for k in $(seq 1 "$folds"); do
    for v in body two feat; do
        # shellcheck disable=SC2086
        cmd=("$wb" train --data "$work/fold$k-train.csv" --test "$work/fold$k-test.csv" "${common[@]}" ${args[$v]} \
             -o "$work/$v-$k.wbm")
        echo "+ ${cmd[*]}" >>"$work/commands.log"
        out=$("${cmd[@]}")
        acc=$(printf '%s' "$out" | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["test_acc"], d["examples_per_s"])')
        printf '%s\t%s\t%s\n' "$v" "$k" "$acc" | tr ' ' '\t' >>"$work/results.tsv"
        echo "fold $k $v: $acc" >&2
    done
done
echo "machine: $(lscpu | grep 'Model name' | sed 's/  */ /g'), $(nproc) cores, shared with other jobs"
echo "command: tools/bench/bench_multi.sh --model $model --emb-dim $emb --epochs $epochs --maxlen $maxlen --feature-dense $fdense --folds $folds"
echo "per run: wordbench train --data foldK-train.csv --test foldK-test.csv ${common[*]} VARIANT (commands in $work/commands.log)"
/usr/bin/python3 - "$work/results.tsv" <<'EOF'
import sys, statistics
rows = [l.split("\t") for l in open(sys.argv[1]).read().split("\n") if l]
names = {"body": "body (one text input)", "two": "subject + body (two inputs)", "feat": "subject + body + 5 features"}
print("| variant | accuracy per fold | mean ± std | examples/s (mean) |")
print("|---|---|---|---|")
for v in ("body", "two", "feat"):
    acc = [float(r[2]) for r in rows if r[0] == v]
    eps = [float(r[3]) for r in rows if r[0] == v]
    print("| %s | %s | %.4f ± %.4f | %.0f |" % (names[v], " ".join("%.4f" % a for a in acc), statistics.mean(acc),
                                             statistics.pstdev(acc), statistics.mean(eps)))
EOF
