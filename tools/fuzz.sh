#!/usr/bin/env bash
# tools/fuzz.sh TARGET MINUTES — run one libFuzzer target for MINUTES minutes.
#
# TARGET is text, bin, store, npy, reader, model or triallog (or fuzz_<name>; the list
# is tests/fuzz/fuzz_*.c).  The script
#   1. configures and builds the target with clang, libFuzzer, ASan and UBSan
#      (library instrumented too) in build-fuzz/ (or $WB_FUZZ_BUILD), if needed;
#   2. runs it at nice 19 on a fresh working corpus seeded from
#      tests/fuzz/corpus/TARGET (read only), with a crash or leak input
#      written to the working directory;
#   3. merges the inputs that reached new coverage into
#      tests/fuzz/corpus/TARGET (libFuzzer -merge=1; WB_FUZZ_MERGE=0 skips it),
#      so that test_fuzz_regress replays them from then on;
#   4. prints one summary line: target, commit, seconds, executions,
#      edges covered, corpus size, result.
# Exit status: 0 when the run ended without a finding, 1 with one (the input
# is named on stderr: copy it to tests/fuzz/regress/TARGET-<sha1>.bin once the
# bug is fixed), 2 on usage errors.
# Extra libFuzzer options can be passed in $WB_FUZZ_OPTS.  tests/fuzz/README.md
# explains each target's input layout and its results.
set -euo pipefail

usage() {
    echo "usage: tools/fuzz.sh TARGET MINUTES   (TARGET: text bin store npy reader model triallog)" >&2
    exit 2
}
[ $# -eq 2 ] || usage
root=$(cd "$(dirname "$0")/.." && pwd)
t=${1#fuzz_}
minutes=$2
case $minutes in ''|*[!0-9]*) usage ;; esac
[ "$minutes" -ge 1 ] || usage
[ -f "$root/tests/fuzz/fuzz_$t.c" ] || { echo "tools/fuzz.sh: no target tests/fuzz/fuzz_$t.c" >&2; usage; }
command -v clang >/dev/null || { echo "tools/fuzz.sh: clang is needed (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }

build=${WB_FUZZ_BUILD:-$root/build-fuzz}
flags="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g"
if [ ! -f "$build/CMakeCache.txt" ]; then
    CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DWB_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags" \
        -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
fi
cmake --build "$build" -j2 --target "fuzz_$t" >/dev/null
bin=$build/tests/fuzz_$t

seeds=$root/tests/fuzz/corpus/$t
mkdir -p "$seeds"
work=$(mktemp -d "${TMPDIR:-/tmp}/wbfuzz-$t-XXXXXX")
mkdir -p "$work/corpus"
opts=(-max_total_time=$((minutes * 60)) -timeout=25 -rss_limit_mb=2048 -print_final_stats=1
      -artifact_prefix="$work/")
case $t in
    text) opts+=(-max_len=8192) ;;   # numbers longer than fast_float's 768 stored digits
esac
# shellcheck disable=SC2206
opts+=(${WB_FUZZ_OPTS:-})
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -z "$(git -C "$root" status --porcelain -- src include tests/fuzz 2>/dev/null)" ] || commit="$commit+changes"

echo "fuzz_$t: $minutes min, working corpus $work/corpus, seeds $seeds" >&2
set +e
nice -n 19 "$bin" "${opts[@]}" "$work/corpus" "$seeds" >"$work/log" 2>&1
status=$?
set -e

execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -n 1 || true)
secs=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log" | tail -n 1 || true)
edges=$(grep -o 'cov: [0-9]*' "$work/log" | tail -n 1 | sed 's/cov: //' || true)
finding=$(ls "$work" | grep -E '^(crash|leak|timeout|oom)-' | head -n 1 || true)
# A slow unit (> 10 s, libFuzzer's -report_slow_units) is saved but is no failure: on a shared machine
# it is usually load; replay it to see.
slow=$(ls "$work" | grep -E '^slow-unit-' | head -n 1 || true)
[ -z "$slow" ] || echo "fuzz_$t: note: slow input saved as $work/$slow (replay: $bin $work/$slow)" >&2
if [ $status -ne 0 ] || [ -n "$finding" ]; then
    tail -n 60 "$work/log" >&2
    echo "fuzz_$t: FINDING ${finding:-exit $status}: $work/$finding (log $work/log)" >&2
    echo "fuzz_$t: reproduce with $bin $work/$finding" >&2
    echo "fuzz_$t commit $commit: ${execs:-?} executions, ${edges:-?} edges, finding ${finding:-exit $status}"
    exit 1
fi
added=0
if [ "${WB_FUZZ_MERGE:-1}" != 0 ]; then
    before=$(ls "$seeds" | wc -l)
    nice -n 19 "$bin" -merge=1 "${opts[@]:1}" "$seeds" "$work/corpus" >"$work/merge.log" 2>&1 || {
        tail -n 20 "$work/merge.log" >&2
        echo "fuzz_$t: the merge into $seeds failed (log $work/merge.log)" >&2
        exit 1
    }
    added=$(( $(ls "$seeds" | wc -l) - before ))
fi
echo "fuzz_$t commit $commit: $((minutes * 60)) s, ${execs:-?} executions (${secs:-?}/s), ${edges:-?} edges, corpus $(ls "$seeds" | wc -l) files (+$added), no finding"
[ -n "$slow" ] || rm -rf "$work"
