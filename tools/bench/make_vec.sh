#!/usr/bin/env bash
# make_vec.sh — train real pretrained vectors (.vec) for the benchmark data sets with Debian's fastText.
#
# The text of each data set is tokenized the way the models will see it (Keras' text_to_word_sequence:
# lower-case, punctuation to spaces, split on spaces), so the vectors cover the tokenizer's words, then
# `fasttext skipgram` learns word vectors from it (no subwords: -minn 0 -maxn 0, so no 2M-bucket matrix).
# Vectors and the intermediate text go to --out (default /tmp/wb-bench), never into the repository.
#
#   cooking  the titles of cooking.train (labels stripped): the training split only
#   spam     the text field (the whole raw e-mail, headers included: a model with maxlen 100 sees mostly
#            headers) of every row of --spam-csv (default emails.csv; pass a training split to keep the
#            test e-mails out of the vectors)
#
# Not here: GloVe/word2vec training, subword vectors, hyper-parameter search.
set -euo pipefail

usage() {
    cat <<'EOF'
usage: tools/bench/make_vec.sh [options] [cooking|spam|all]

  --data DIR        the shared data sets (default: ../shared/data relative to the repository)
  --spam-csv FILE   CSV whose 'text' column trains the spam vectors (default: DATA/spamassassin/emails.csv)
  --out DIR         where .vec files go (default: /tmp/wb-bench)
  --dim N           vector dimension (default: 300)
  --epoch N         fastText epochs (default: 5)
  --min-count N     fastText -minCount (default: 2)
  --thread N        fastText threads (default: 2)
  --force           retrain even if the .vec exists
  -h, --help        this help

Writes OUT/cooking-DIM.vec and/or OUT/spam-DIM.vec (word2vec text with a header) and prints their paths.
Needs /usr/bin/fasttext (Debian package fasttext) and /usr/bin/python3.
EOF
}

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
data="$repo/../shared/data"
spam_csv=""
out=/tmp/wb-bench
dim=300
epoch=5
mincount=2
thread=2
force=0
which=all
while [ $# -gt 0 ]; do
    case "$1" in
        --data) data=$2; shift 2 ;;
        --spam-csv) spam_csv=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --dim) dim=$2; shift 2 ;;
        --epoch) epoch=$2; shift 2 ;;
        --min-count) mincount=$2; shift 2 ;;
        --thread) thread=$2; shift 2 ;;
        --force) force=1; shift ;;
        -h|--help) usage; exit 0 ;;
        cooking|spam|all) which=$1; shift ;;
        *) echo "make_vec.sh: unknown argument '$1'" >&2; echo "try --help" >&2; exit 2 ;;
    esac
done
for n in "$dim" "$epoch" "$mincount" "$thread"; do
    case "$n" in ''|*[!0-9]*|0) echo "make_vec.sh: '$n' is not a positive integer" >&2; exit 2 ;; esac
done
[ -n "$spam_csv" ] || spam_csv="$data/spamassassin/emails.csv"
if ! command -v fasttext >/dev/null; then
    echo "make_vec.sh: fasttext not found: apt-get install -y fasttext" >&2
    exit 1
fi
case "$out" in "$repo"|"$repo"/*) echo "make_vec.sh: --out must be outside the repository" >&2; exit 2 ;; esac
mkdir -p "$out"

# Print every text of a data set as one line of Keras tokens.
extract() { # kind input output
    /usr/bin/python3 - "$1" "$2" "$3" <<'PY'
import csv, sys
kind, src, dst = sys.argv[1:4]
try:
    from keras_preprocessing.text import text_to_word_sequence
except ImportError:          # the same rule, written out
    FILT = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
    TAB = str.maketrans({c: " " for c in FILT})
    def text_to_word_sequence(t):
        return [w for w in t.lower().translate(TAB).split(" ") if w]
n = 0
with open(dst + ".tmp", "w", encoding="utf-8") as out:
    with open(src, encoding="utf-8", errors="replace", newline="") as f:
        if kind == "csv":
            csv.field_size_limit(sys.maxsize)
            rd = csv.reader(f)
            col = next(rd).index("text")
            texts = (row[col] for row in rd if row)
        else:
            texts = (" ".join(t for t in line.split() if not t.startswith("__label__")) for line in f)
        for t in texts:
            toks = text_to_word_sequence(t)
            if toks:
                out.write(" ".join(toks) + "\n")
                n += 1
import os
os.replace(dst + ".tmp", dst)
print("make_vec.sh: %s: %d texts -> %s" % (src, n, dst), file=sys.stderr)
PY
}

train() { # name kind input
    local name=$1 kind=$2 input=$3 vec="$out/$1-$dim.vec"
    local stamp="input=$input dim=$dim epoch=$epoch minCount=$mincount minn=0 maxn=0"
    if [ -s "$vec" ] && [ "$force" = 0 ] && [ "$(cat "$vec.stamp" 2>/dev/null)" = "$stamp" ]; then
        echo "make_vec.sh: $vec exists for the same input and options (--force to retrain)" >&2
        echo "$vec"
        return
    fi
    [ -r "$input" ] || { echo "make_vec.sh: cannot read $input" >&2; exit 1; }
    extract "$kind" "$input" "$out/$name.tokens.txt"
    local cmd=(fasttext skipgram -input "$out/$name.tokens.txt" -output "$out/$name-$dim.tmp"
               -dim "$dim" -epoch "$epoch" -minCount "$mincount" -thread "$thread" -minn 0 -maxn 0 -verbose 1)
    echo "make_vec.sh: ${cmd[*]}" >&2
    local t0=$SECONDS
    "${cmd[@]}" >&2
    mv "$out/$name-$dim.tmp.vec" "$vec"
    echo "$stamp" > "$vec.stamp"
    rm -f "$out/$name-$dim.tmp.bin"
    echo "make_vec.sh: $vec: $(head -1 "$vec") in $((SECONDS - t0)) s" >&2
    echo "$vec"
}

case "$which" in
    cooking) train cooking fasttext "$data/cooking/cooking.train" ;;
    spam) train spam csv "$spam_csv" ;;
    all) train cooking fasttext "$data/cooking/cooking.train"; train spam csv "$spam_csv" ;;
esac
