#!/usr/bin/env bash
# dataset_reference.sh — the mapped, streamed data set changes nothing about the results:
# for every case of fixtures/dataset/cases.txt, `data show` prints the same rows and
# `train --seed 5 --threads 1` writes the same model bytes (tools/model_digest.py: without the
# run record, which names the training file) as the in-memory data set of
# commit d50a41b (main before issue 14) did (fixtures/dataset/reference.txt, made by
# tools/make_dataset_reference.sh).
# Runs every case twice with one cache directory: the first run builds each data set, the
# second maps it from the cache (a hit); one case also with --no-cache (a temporary data
# set) and with a stdin training file.  Model bytes depend on the CPU's OpenBLAS
# kernels, so they are compared only on the machine the reference names (rows always);
# elsewhere the runs are compared with one another.  Cases on ../shared/data are skipped
# when it is absent.  Exit 0 pass, 1 fail, 77 skip.
set -u
. "$(dirname "$0")/lib.bash"
need_wb dataset_reference.sh
if [ -z "${WB_FIXTURES:-}" ] || [ -z "${WB_TOOLS:-}" ]; then
    echo "dataset_reference.sh: set WB_FIXTURES and WB_TOOLS (ctest does); skipping" >&2
    exit 77
fi
if ! /usr/bin/python3 -c 'import xxhash' 2>/dev/null; then
    echo "dataset_reference.sh: python3-xxhash is missing (tools/install-deps.sh installs it); skipping" >&2
    exit 77
fi
digest() { /usr/bin/python3 "$WB_TOOLS/model_digest.py" "$1"; }
T=$(mktemp -d "${TMPDIR:-/tmp}/wb-dsref.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
REF=$WB_FIXTURES/dataset/reference.txt
SD=${WB_SHARED_DATA:-$WB_FIXTURES/../../shared/data}
same_machine=0
[ "$(sed -n 's/^# machine: //p' "$REF")" = "$(lscpu | sed -n 's/^Model name: *//p')" ] && same_machine=1
[ $same_machine = 1 ] || echo "dataset_reference.sh: another machine than the reference's: model bytes compared between runs only" >&2

for round in build hit; do
    if ! XDG_CACHE_HOME=$T/xdg bash "$WB_TOOLS/make_dataset_reference.sh" "$WB" "$SD" "$T/$round.txt" 2>"$T/err"; then
        bad "$round: the reference script failed: $(tail -c 400 "$T/err")"
        continue
    fi
    ok
    while read -r name model show; do
        case $name in '#'* | '') continue ;; esac
        line=$(grep "^$name " "$REF")
        [ -n "$line" ] || { bad "$round: $name: not in the reference"; continue; }
        set -- $line
        [ "$show" = "$3" ] && ok || bad "$round: $name: data show prints other rows than the in-memory data set"
        if [ $same_machine = 1 ]; then
            [ "$model" = "$2" ] && ok || bad "$round: $name: other model bytes than the in-memory data set"
        fi
    done <"$T/$round.txt"
done
# the build and the cache hit give the same bytes, whatever the machine
[ -s "$T/build.txt" ] && diff <(grep -v '^#' "$T/build.txt") <(grep -v '^#' "$T/hit.txt") >/dev/null && ok ||
    bad "a cache hit trains other bytes than the first build"
# a temporary data set (--no-cache) and a training file from stdin (never cached) train the same bytes
F=$WB_FIXTURES/text
want=$(sed -n 's/^sentiment \([0-9a-f]*\) .*/\1/p' "$T/build.txt")
args="--test $F/demo_sentiment_test.tsv --maxlen 12 --model tutorial --emb-dim 8 --filters 6 --epochs 2 --adam lazy"
# shellcheck disable=SC2086
"$WB" train -q --threads 1 --seed 5 --no-cache --data "$F/demo_sentiment.tsv" $args -o "$T/nc.wbm" >/dev/null 2>"$T/err"
[ "$(digest "$T/nc.wbm")" = "$want" ] && ok || bad "--no-cache trains other bytes: $(cat "$T/err")"
# shellcheck disable=SC2086
XDG_CACHE_HOME=$T/xdg2 "$WB" train -q --threads 1 --seed 5 --data - $args -o "$T/in.wbm" <"$F/demo_sentiment.tsv" >/dev/null 2>"$T/err"
[ "$(digest "$T/in.wbm")" = "$want" ] && ok || bad "stdin trains other bytes: $(cat "$T/err")"
[ ! -e "$T/xdg2/wordbench" ] || [ -z "$(ls "$T/xdg2/wordbench")" ] && ok || bad "stdin left a cache entry: $(ls "$T/xdg2/wordbench")"
n=$(ls "$T/xdg/wordbench" | grep -c '\.wbds$')
[ "$n" -ge 3 ] && ok || bad "the runs left $n data sets in the cache"
finish dataset_reference.sh
