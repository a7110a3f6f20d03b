#!/usr/bin/env bash
# The main job on the fixtures, from nothing: install what is missing, build,
# convert the demo vectors into a store, describe it, and query it.
# Usage: tools/quickstart.sh   (from anywhere; writes build/ and out/ in the repo)
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
wb=build/wordbench
mkdir -p out
set -x
$wb convert --force fixtures/vectors/demo.glove.txt out/demo.store
$wb info out/demo.store
$wb lookup --no-vector out/demo.store king queen
$wb neighbors -k 5 out/demo.store king
$wb neighbors -k 3 out/demo.store king - man + woman
$wb verify out/demo.store
