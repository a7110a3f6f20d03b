#!/usr/bin/env bash
# model_bitcheck.sh REF NEW — the guard of a change that must not change any
# model: train a matrix of models (every kind × embedding mode, oov modes,
# optimizers, class weights, both Conv1D paths, embedded vectors) on the
# fixture data sets with two wordbench binaries, and compare the model files
# byte for byte, the checkpoints section by section (their trainer state
# holds wall times), the predictions, and the predictions of REF's model
# files loaded by NEW.  Exit 0 when everything is identical, 1 otherwise.
# Usage: tools/model_bitcheck.sh /path/to/old/wordbench build/wordbench
set -u
REF=$1 NEW=$2
FX=$(cd "$(dirname "$0")/../fixtures" && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/wb-bitcheck.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
"$REF" convert -q "$FX/vectors/demo.glove.txt" "$T/demo" >/dev/null || exit 1
fail=0 n=0
same_sections() { # checkpoints: every section but TRST
    /usr/bin/python3 - "$1" "$2" <<'PY'
import struct, sys
def secs(p):
    b = open(p, 'rb').read(); out = {'hdr': b[:24]}; q = 24
    while q < len(b) - 8:
        tag, part, l = struct.unpack_from('<IIQ', b, q); q += 16
        out[(tag, part)] = b[q:q + l]; q += l
    return out
a, b = secs(sys.argv[1]), secs(sys.argv[2])
TRST = struct.unpack('<I', b'TRST')[0]
sys.exit(any(k[0] != TRST and a.get(k) != b.get(k) for k in set(a) | set(b)))
PY
}
go() { # name train-args...
    local name=$1 w B
    shift
    for w in ref new; do
        B=$REF; [ $w = new ] && B=$NEW
        "$B" train -q "$@" -o "$T/$name.$w.wbm" --json >"$T/$name.$w.json" 2>"$T/$name.$w.err" ||
            echo "train $name ($w) failed: $(head -c 300 "$T/$name.$w.err")"
        "$B" predict -k 3 --json "$T/$name.$w.wbm" "$FX/text/demo_sentiment_test.tsv" >"$T/$name.$w.pred" 2>&1
    done
    n=$((n + 1))
    cmp -s "$T/$name.ref.wbm" "$T/$name.new.wbm" || { echo "model $name differs"; fail=1; }
    same_sections "$T/$name.ref.wbm.ckpt" "$T/$name.new.wbm.ckpt" || { echo "checkpoint $name differs"; fail=1; }
    cmp -s "$T/$name.ref.pred" "$T/$name.new.pred" || { echo "predictions $name differ"; fail=1; }
    "$NEW" predict -k 3 --json "$T/$name.ref.wbm" "$FX/text/demo_sentiment_test.tsv" >"$T/$name.x.pred" 2>&1
    cmp -s "$T/$name.ref.pred" "$T/$name.x.pred" || { echo "predictions of the old file $name differ"; fail=1; }
}
S=(--data "$FX/text/demo_sentiment.tsv" --test "$FX/text/demo_sentiment_test.tsv" --maxlen 20 --epochs 3)
M=(--data "$FX/text/demo_topics.txt" --test-size 0.2 --maxlen 16 --epochs 3)
for k in dense pool tutorial kim; do
    for em in frozen finetune multichannel; do
        go "s-$k-$em" "${S[@]}" --model $k --store "$T/demo" --embeddings $em --oov random
        go "m-$k-$em" "${M[@]}" --model $k --store "$T/demo" --embeddings $em --oov learn --dropout 0.3
    done
    go "s-$k-learned" "${S[@]}" --model $k --embeddings learned --emb-dim 16
    go "s-$k-zero" "${S[@]}" --model $k --store "$T/demo" --embeddings finetune --oov zero --optimizer rmsprop --clipnorm 1
    go "s-$k-embed" "${S[@]}" --model $k --store "$T/demo" --embeddings frozen --oov random --embed-vectors
done
WB_CONV=windows go s-kim-windows "${S[@]}" --model kim --store "$T/demo" --embeddings finetune --oov random
go s-tutorial-balanced "${S[@]}" --model tutorial --store "$T/demo" --class-weights balanced --optimizer sgd --momentum 0.9 --l2 0.001
echo "model_bitcheck: $n cases, $([ $fail = 0 ] && echo identical || echo DIFFERENT)"
exit $fail
