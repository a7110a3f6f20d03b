#!/usr/bin/env bash
# make_dataset_reference.sh — write fixtures/dataset/reference.txt: for every case of
# fixtures/dataset/cases.txt, the SHA-256 of the model file `wordbench train` writes
# (--threads 1, --seed 5; without the run record train adds at the end, which names the
# training file's path: tools/model_digest.py, the plain sha256sum of older files) and of the rows `wordbench data show` prints with the same
# data-set options, as made by a given wordbench binary.  The committed file was made by
# the in-memory data set of commit d50a41b (main before issue 14 made the data set a mapped
# file; dc25ce4 made the first one, and differs only on `spam`: since then a model file keeps
# its class weights, and the reader reads CR LF inside CSV fields as LF); tests/cli/dataset_reference.sh checks that today's build gives the same
# bytes.  Remake it with a build of the new model code on the old data set when the model
# file format changes.
#
# Usage: tools/make_dataset_reference.sh WORDBENCH_BINARY [SHARED_DATA_DIR [OUT]]
#   (OUT: another file than fixtures/dataset/reference.txt; the test writes one and compares)
#   e.g. git worktree add /tmp/old d50a41b && cmake -S /tmp/old -B /tmp/old/b &&
#        cmake --build /tmp/old/b -j2 && tools/make_dataset_reference.sh /tmp/old/b/wordbench
# The model bytes depend on the CPU's OpenBLAS kernels, so the file records the machine
# (`lscpu` model name); the test compares model bytes only on that machine and the rows
# everywhere.  A build with `--adam` (issue 12) trains with `--adam lazy`, the only rule of the
# reference's build, whose model files it writes byte for byte.
set -euo pipefail
WB=${1:?usage: $0 WORDBENCH_BINARY [SHARED_DATA_DIR [OUT]]}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
F=$ROOT/fixtures/text
S=${2:-$ROOT/../shared/data}
OUT=${3:-$ROOT/fixtures/dataset/reference.txt}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
{
    echo "# made by tools/make_dataset_reference.sh with $("$WB" --version 2>&1 | head -1)"
    echo "# machine: $(lscpu | sed -n 's/^Model name: *//p')"
    echo "# NAME MODEL_SHA256 SHOW_SHA256"
} >"$T/ref"
lazy=
"$WB" train --help 2>&1 | grep -q -- '--adam' && lazy="--adam lazy"
while IFS=$'\t' read -r name args; do
    case $name in '#'* | '') continue ;; esac
    ds=${args%% | *}
    tr=${args#* | }
    ds=${ds//\$F/$F}
    ds=${ds//\$S/$S}
    if [[ $ds == *"$S"* && ! -d $S ]]; then
        echo "$name: $S is absent, skipped" >&2
        continue
    fi
    data=$(sed 's/.*--data \([^ ]*\).*/\1/' <<<"$ds")
    dsopts=${ds/--data $data/}
    # shellcheck disable=SC2086
    "$WB" train -q --threads 1 --seed 5 $lazy $ds $tr -o "$T/m.wbm" >/dev/null
    # shellcheck disable=SC2086
    "$WB" data show -q $dsopts "$data" >"$T/show"
    echo "$name $(/usr/bin/python3 "$ROOT/tools/model_digest.py" "$T/m.wbm") $(sha256sum <"$T/show" | cut -c1-64)" >>"$T/ref"
    rm -f "$T/m.wbm" "$T/m.wbm.ckpt"
done <"$ROOT/fixtures/dataset/cases.txt"
mv "$T/ref" "$OUT"
echo "wrote $OUT" >&2
