#!/usr/bin/env bash
# tools/bench/bench_cooking_wordsim.sh — what fine-tuning does to word
# vectors, measured: fastText skip-gram vectors trained on the cooking
# titles, then a `kim` classifier fine-tuned on the cooking tags with those
# vectors, then `wordbench evaluate MODEL` on WordSim-353, SimLex-999 and the
# Google analogies: the store's numbers beside the model's view of it (the
# fine-tuned rows in place).  The store's numbers are also checked against
# gensim's on the .vec file.  Prints a markdown report on stdout (kept in
# WORKDIR); progress on stderr.
#
# Steps:
#   1. the text of cooking.train without its labels, tokenized as the `keras`
#      tokenizer does (lower case, Keras' punctuation filters -> spaces), so
#      the skip-gram words are the classifier's words
#   2. fasttext skipgram -dim 100 -epoch 25 -minCount 2 -thread 1 (one
#      thread: reproducible)
#   3. wordbench convert; wordbench train --model kim --embeddings finetune
#      (the README's cooking command: --valid cooking.valid, 10 epochs,
#      patience 2)
#   4. wordbench evaluate MODEL --pairs ws353 --pairs simlex --analogies Q
#   5. gensim_wordeval.py on the .vec file --compare the store column
#
# Needs ../shared/data/{cooking,wordsim}, fasttext (Debian package
# fasttext), and for step 5 gensim.  Not here: the training speed figures
# (tools/bench/bench_train.sh).
set -euo pipefail

prog=bench_cooking_wordsim.sh
data=../shared/data
workdir=/tmp/wb-bench-cooking
build=./build
epochs=10

usage() {
    cat <<EOF
usage: tools/bench/bench_cooking_wordsim.sh [options]
Skip-gram vectors of the cooking titles vs a kim model fine-tuned on them, on WordSim-353 & co.
  --data DIR     the shared data (default $data)
  --workdir DIR  vectors, store, model, report (default $workdir)
  --build DIR    CMake build directory holding wordbench (default $build)
  --epochs N     training epochs of the classifier (default $epochs)
  -h, --help     this text
Exit status: 0 success, 1 a tool failed or is missing, 2 usage error.
EOF
}
. "$(dirname "$0")/lib.bash"
while [[ $# -gt 0 ]]; do
    case $1 in
        --data) need_value "$1" $#; data=$2; shift 2 ;;
        --workdir) need_value "$1" $#; workdir=$2; shift 2 ;;
        --build) need_value "$1" $#; build=$2; shift 2 ;;
        --epochs) need_value "$1" $#; [[ $2 =~ ^[1-9][0-9]*$ ]] || usage_error "--epochs: expected a positive number"
                  epochs=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) usage_error "unknown option or argument '$1'" ;;
    esac
done
here=$(cd "$(dirname "$0")" && pwd)
wb=$(cd "$build" 2>/dev/null && pwd)/wordbench
[[ -x $wb ]] || die "no wordbench in $build"
command -v fasttext >/dev/null || die "needs fasttext (Debian package fasttext)"
data=$(cd "$data" 2>/dev/null && pwd) || die "no directory $data"
ck=$data/cooking ws=$data/wordsim
[[ -r $ck/cooking.train && -r $ws/wordsim353.tsv ]] || die "needs $ck and $ws"
mkdir -p "$workdir"
cd "$workdir"

note "1. text of cooking.train, keras-tokenized"
sed 's/__label__[^ ]* //g' "$ck/cooking.train" | tr 'A-Z' 'a-z' | tr '!"#$%&()*+,./:;<=>?@[\\]^_`{|}~\t-' ' ' >titles.txt
note "2. fasttext skipgram"
fasttext skipgram -input titles.txt -output sg -dim 100 -epoch 25 -minCount 2 -thread 1 -verbose 0
note "3. convert, train kim (finetune)"
"$wb" convert --quiet --force sg.vec sg.store >/dev/null
train=("$wb" train --data "$ck/cooking.train" --valid "$ck/cooking.valid" --unknown-label skip --store sg.store
       --model kim --embeddings finetune --epochs "$epochs" --patience 2 --seed 1 -q -o kim.wbm)
"${train[@]}" >train.txt
note "4. evaluate"
ev=("$wb" evaluate kim.wbm --pairs "$ws/wordsim353.tsv" --pairs "$ws/simlex999.txt" --analogies "$ws/questions-words.txt")
"${ev[@]}" >evaluate.txt
"${ev[@]}" --json -q >evaluate.json
cmp_line="gensim not installed: store column not compared"
if /usr/bin/python3 -c "import gensim" 2>/dev/null; then
    note "5. gensim on sg.vec"
    if /usr/bin/python3 "$here/../gensim_wordeval.py" sg.vec --format word2vec --pairs "$ws/wordsim353.tsv" \
        --pairs "$ws/simlex999.txt" --analogies "$ws/questions-words.txt" --compare evaluate.json >compare.txt 2>/dev/null; then
        cmp_line=$(tail -1 compare.txt)
    else
        cmp_line="gensim and wordbench DIFFER: $(tr '\n' ';' <compare.txt)"
    fi
fi
{
    echo "### fastText skip-gram vectors of the cooking titles vs the kim model fine-tuned on them ($(date -u +%Y-%m-%d))"
    echo
    echo "- machine: $(lscpu | grep 'Model name' | sed 's/  */ /g'), $(nproc) cores (shared)"
    echo "- vectors: \`fasttext skipgram -input titles.txt -output sg -dim 100 -epoch 25 -minCount 2 -thread 1\` on cooking.train's titles ($(head -1 sg.vec | cut -d' ' -f1) words)"
    echo "- model: \`${train[*]}\` — $(cat train.txt)"
    echo "- \`${ev[*]}\`"
    echo "- store column vs gensim 4.2 on sg.vec: $cmp_line"
    echo
    echo '```'
    cat evaluate.txt
    echo '```'
} | tee report.md
