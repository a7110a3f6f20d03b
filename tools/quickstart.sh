#!/usr/bin/env bash
# The main job on the fixtures, from nothing: install what is missing, build,
# convert the demo vectors into a store, describe and query it, train the
# Real Python tutorial's CNN on a small sentiment set with frozen and with
# fine-tuned embeddings, evaluate both and predict two sentences.
# Usage: tools/quickstart.sh   (from anywhere; writes build/ and out/ in the repo)
# With WB=path/to/wordbench set, nothing is installed or built and that binary
# runs; OUT=DIR puts the outputs elsewhere (tests/cli/tour.sh does both).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${WB:-}" ]; then
    tools/install-deps.sh
    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build build -j"$(nproc)" >/dev/null
fi
wb=${WB:-build/wordbench}
out=${OUT:-out}
mkdir -p "$out"
set -x
$wb convert --force fixtures/vectors/demo.glove.txt "$out/demo.store"
$wb info "$out/demo.store"
$wb lookup --no-vector "$out/demo.store" king queen
$wb neighbors -k 5 "$out/demo.store" king
$wb neighbors -k 3 "$out/demo.store" king - man + woman
$wb verify "$out/demo.store"
$wb summary --model tutorial --emb-dim 100 --vocab-size 1747 --maxlen 100
$wb train --data fixtures/text/demo_sentiment.tsv --test fixtures/text/demo_sentiment_test.tsv \
    --store "$out/demo.store" --model tutorial --embeddings frozen --maxlen 20 --epochs 12 -o "$out/frozen.wbm"
$wb train --data fixtures/text/demo_sentiment.tsv --test fixtures/text/demo_sentiment_test.tsv \
    --store "$out/demo.store" --model tutorial --embeddings finetune --maxlen 20 --epochs 12 -o "$out/finetune.wbm"
$wb eval "$out/frozen.wbm" fixtures/text/demo_sentiment_test.tsv
$wb eval "$out/finetune.wbm" fixtures/text/demo_sentiment_test.tsv
printf 'the cake was great and the coffee good\nterrible bread and sad tea\n' | $wb predict --top-k 2 "$out/finetune.wbm"
