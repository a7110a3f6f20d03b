#!/usr/bin/env bash
# make_old_models.sh OLD_WORDBENCH — write fixtures/models/: small model files made by an older
# wordbench (the committed ones: commit dc25ce4, the last build before the model became a graph of
# parts, issue 11) and the predictions that build printed for them, so that
# tests/cli/old_models.sh can check that today's build loads them and predicts the same
# probabilities (exactly on the machine named in fixtures/models/MACHINE, whose OpenBLAS kernels
# made them; within 1e-6 elsewhere).
# Every kind (dense, pool, tutorial, kim), every embedding mode (learned, frozen, finetune,
# multichannel, embedded rows), the three tasks, class weights and an SGD optimizer; the store is
# fixtures/vectors/demo.glove.txt converted (the test converts it again with today's build).
#   e.g. git worktree add /tmp/wb-old dc25ce4 && cmake -S /tmp/wb-old -B /tmp/wb-old/b \
#          -DCMAKE_BUILD_TYPE=Release && cmake --build /tmp/wb-old/b -j2 --target wordbench_cli &&
#        tools/make_old_models.sh /tmp/wb-old/b/wordbench
set -eu
OLD=$1
FX=$(cd "$(dirname "$0")/../fixtures" && pwd)
OUT=$FX/models
T=$(mktemp -d "${TMPDIR:-/tmp}/wb-oldmodels.XXXXXX")
trap 'rm -rf "$T"' EXIT
mkdir -p "$OUT"
rm -f "$OUT"/*.wbm "$OUT"/*.pred "$OUT"/cases.txt
"$OLD" convert -q "$FX/vectors/demo.glove.txt" "$T/demo" >/dev/null
S=(--data "$FX/text/demo_sentiment.tsv" --maxlen 20 --epochs 2 --seed 3 --threads 1)
M=(--data "$FX/text/demo_topics.txt" --maxlen 16 --epochs 2 --seed 3 --threads 1)
C=(--data "$FX/sklearn/demo_topics_first.txt" --maxlen 16 --epochs 2 --seed 3 --threads 1)
go() { # name train-args...: train with OLD, keep the file and OLD's predictions of both test texts
    local name=$1
    shift
    "$OLD" train -q "$@" -o "$T/$name.wbm" >/dev/null
    cp "$T/$name.wbm" "$OUT/$name.wbm"
    "$OLD" predict -k 3 --json -s "$T/demo" "$OUT/$name.wbm" "$FX/text/demo_sentiment_test.tsv" > "$OUT/$name.pred"
    echo "$name $*" | sed "s#$FX/#fixtures/#g; s#$T/#STORE/#g" >> "$OUT/cases.txt"
}
go s-dense-learned "${S[@]}" --model dense --embeddings learned --emb-dim 8
go s-tutorial-frozen "${S[@]}" --model tutorial --store "$T/demo" --embeddings frozen --oov random --filters 8
go s-kim-finetune "${S[@]}" --model kim --store "$T/demo" --embeddings finetune --oov random --filters 4
go s-pool-multichannel "${S[@]}" --model pool --store "$T/demo" --embeddings multichannel --oov learn
go s-tutorial-embed "${S[@]}" --model tutorial --store "$T/demo" --embeddings frozen --oov random --embed-vectors --filters 8
go s-tutorial-balanced "${S[@]}" --model tutorial --store "$T/demo" --embeddings finetune --class-weights balanced \
    --optimizer sgd --momentum 0.9 --l2 0.001 --filters 8
go m-kim-multichannel "${M[@]}" --model kim --store "$T/demo" --embeddings multichannel --oov learn --dropout 0.3 --filters 4
go c-pool-finetune "${C[@]}" --model pool --store "$T/demo" --embeddings finetune --oov zero --optimizer rmsprop --clipnorm 1
lscpu | sed -n 's/^Model name: *//p' > "$OUT/MACHINE"
"$OLD" --version > "$OUT/VERSION" 2>&1 || true
ls -l "$OUT"
