#!/usr/bin/env bash
# dataset_cache.sh — the data set as a mapped directory, end to end:
#   - the default cache ($XDG_CACHE_HOME/wordbench), --cache-dir, --no-cache (nothing left),
#     a pipe (<(cat FILE)) built without the cache;
#   - `data cache` lists entries (text and --json) and `data cache --clear` removes them
#     (only wordbench's files), usage errors exit 2;
#   - numpy maps every array as it is (numpy.load(..., mmap_mode="r")): shapes, dtypes,
#     and each row holds min(length, maxlen) non-zero ids;
#   - kill -9 during a build never leaves a data set a later run accepts: after each kill
#     the next run succeeds and prints what a clean run prints, and no leftover remains;
#   - two `data stats` started at once build one data set;
#   - --maxlen NAME=N gives one input per --text-col (show prints one field each; train
#     refuses it until models take several inputs).
# Environment: WB, WB_FIXTURES, WB_TEST_SCALE.  About 10 s.  Exit 0 pass, 1 fail, 77 skip.
set -u
. "$(dirname "$0")/lib.bash"
need_wb dataset_cache.sh
if [ -z "${WB_FIXTURES:-}" ]; then
    echo "dataset_cache.sh: set WB_FIXTURES (ctest does); skipping" >&2
    exit 77
fi
TX=$WB_FIXTURES/text
T=$(mktemp -d "${TMPDIR:-/tmp}/wb-dscache.XXXXXX") || exit 1
BGPID=
cleanup() {
    [ -n "$BGPID" ] && kill -9 "$BGPID" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
export XDG_CACHE_HOME=$T/xdg
C=$XDG_CACHE_HOME/wordbench
run() { "$@" >"$T/out" 2>"$T/err" </dev/null; rc=$?; }
expect_rc() { [ "$rc" -eq "$1" ] && ok || bad "$2: exit $rc, expected $1 (stderr: $(head -c 300 "$T/err"))"; }
count() { find "$C" -maxdepth 1 -name "$1" 2>/dev/null | wc -l; }
PY=
/usr/bin/python3 -c 'import numpy' 2>/dev/null && PY=/usr/bin/python3

# ---- where the data set lives ------------------------------------------------------
run "$WB" data stats "$TX/demo_sentiment.tsv"
expect_rc 0 "stats with the default cache"
[ ! -s "$T/err" ] && ok || bad "the default cache is not silent: $(cat "$T/err")"
[ "$(count '*.wbds')" -eq 1 ] && ok || bad "default cache: $(ls -la "$C" 2>&1)"
mkdir "$T/tmp"
TMPDIR=$T/tmp run "$WB" data stats --no-cache "$TX/demo_topics.txt"
expect_rc 0 "--no-cache"
[ "$(count '*.wbds')" -eq 1 ] && ok || bad "--no-cache left a data set: $(ls "$C")"
[ -z "$(ls -A "$T/tmp")" ] && ok || bad "--no-cache left a temporary directory: $(ls -A "$T/tmp")"
run "$WB" data stats --no-cache --cache-dir "$T/c2" "$TX/demo_topics.txt"
expect_rc 2 "--no-cache with --cache-dir"
run "$WB" data stats --cache-dir "$T/deep/er/c3" "$TX/demo_topics.txt"
expect_rc 0 "--cache-dir with missing parents"
grep -q "dataset cache written: $T/deep/er/c3/[0-9a-f]\{16\}\.wbds" "$T/err" && ok || bad "--cache-dir line: $(cat "$T/err")"
# a pipe is read once, never hashed (hashing would consume it): built as stdin is, and
# the rows are those of the file itself
"$WB" data show --maxlen 12 --cache-dir "$T/c4" "$TX/demo_sentiment.tsv" >"$T/want" 2>/dev/null
run "$WB" data show --maxlen 12 --cache-dir "$T/c4" <(cat "$TX/demo_sentiment.tsv")
expect_rc 0 "show of a pipe"
cmp -s "$T/out" "$T/want" && [ -s "$T/want" ] && ok || bad "show of a pipe prints other rows: $(head -c 300 "$T/out")"
[ "$(find "$T/c4" -maxdepth 1 -name '*.wbds' | wc -l)" -eq 1 ] && ok || bad "a pipe was cached: $(ls "$T/c4")"

# ---- data cache ---------------------------------------------------------------------
run "$WB" data show --maxlen 12 "$TX/demo_sentiment.tsv"
expect_rc 0 "show --maxlen 12"
run "$WB" data cache
expect_rc 0 "data cache"
[ "$(grep -c 'rows  maxlen' "$T/out")" -eq 2 ] && ok || bad "data cache lists: $(cat "$T/out")"
grep -q "demo_sentiment.tsv$" "$T/out" && ok || bad "data cache names no source: $(cat "$T/out")"
grep -q "^3 entries, .* in $C\$" "$T/out" && ok || bad "data cache summary: $(tail -1 "$T/out")"
if [ -n "$PY" ]; then
    run "$WB" data cache --json
    $PY -c '
import json, sys
d = json.load(open(sys.argv[1]))
e = [x for x in d["entries"] if x["complete"]]
assert [x["kind"] for x in d["entries"]].count("input") == 1
assert len(e) == 2 and sorted(x["maxlen"] for x in e) == [0, 12], e
assert all(x["rows"] == 400 and x["source"].endswith("demo_sentiment.tsv") for x in e), e
assert d["bytes"] == sum(x["bytes"] for x in d["entries"])' "$T/out" && ok || bad "data cache --json: $(head -c 500 "$T/out")"
fi
for args in "$TX/demo_sentiment.tsv" "--no-cache"; do
    # shellcheck disable=SC2086
    run "$WB" data cache $args
    expect_rc 2 "data cache $args"
done
run "$WB" data stats --clear "$TX/demo_sentiment.tsv"
expect_rc 2 "stats --clear"

# ---- numpy maps the arrays as they are ----------------------------------------------
if [ -n "$PY" ]; then
    D=$(ls -d "$C"/*.wbds | while read -r d; do [ -e "$d/x0.npy" ] && echo "$d"; done | head -1)
    $PY -c '
import numpy as np, sys
d = sys.argv[1]
x = np.load(d + "/x0.npy", mmap_mode="r")
assert isinstance(x, np.memmap) and x.dtype == np.uint16 and x.shape == (400, 12), (type(x), x.dtype, x.shape)
n = np.load(d + "/len0.npy", mmap_mode="r")
assert n.dtype == np.uint32 and n.shape == (400,)
assert ((x != 0).sum(axis=1) == np.minimum(n, 12)).all()
off = np.load(d + "/label_offsets.npy", mmap_mode="r")
ids = np.load(d + "/label_ids.npy", mmap_mode="r")
sp = np.load(d + "/split.npy", mmap_mode="r")
assert off.dtype == np.uint64 and off.shape == (401,) and off[0] == 0 and off[-1] == len(ids) == 400
assert ids.dtype == np.uint32 and set(np.unique(ids)) <= {0, 1} and sp.dtype == np.uint8 and (sp == 0).all()
' "$D" && ok || bad "numpy cannot map $D as expected"
fi

run "$WB" data cache --clear
expect_rc 0 "data cache --clear"
grep -q '^removed 3 entries' "$T/out" && ok || bad "clear: $(cat "$T/out")"
touch "$C/mine.txt"
run "$WB" data cache --clear --json
[ -e "$C/mine.txt" ] && ok || bad "--clear removed a file that is not wordbench's"
grep -q '"removed": 0' "$T/out" && ok || bad "clear --json: $(cat "$T/out")"

# ---- kill -9 during a build -----------------------------------------------------------
ROWS=60000
case ${WB_TEST_SCALE:-1} in 1 | 1.0 | "") ;; *) ROWS=15000 ;; esac
awk -v n=$ROWS 'BEGIN { for (i = 0; i < n; i++) { s = "";
    for (j = 0; j < 40; j++) s = s " w" ((i * 7 + j * 13) % 5003);
    print s "\t" (i % 3 ? "a" : "b") } }' >"$T/big.tsv"
KC=$T/kc
opts="--cache-dir $KC --test-size 0.1 --maxlen 30"
start=$(date +%s.%N)
# shellcheck disable=SC2086
"$WB" data stats -q --json $opts "$T/big.tsv" >"$T/ref.json" 2>"$T/err" || bad "the reference build failed: $(cat "$T/err")"
FULL=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
sed -i 's/"hit": [a-z]*, "written": [a-z]*, "rejected": [a-z]*, "waited": [a-z]*//' "$T/ref.json"
for f in 0.1 0.3 0.5 0.7 0.9; do
    rm -rf "$KC"
    # shellcheck disable=SC2086
    "$WB" data stats -q $opts "$T/big.tsv" >/dev/null 2>&1 &
    BGPID=$!
    sleep "$(awk -v t="$FULL" -v f=$f 'BEGIN { printf "%.3f", t * f }')"
    kill -9 $BGPID 2>/dev/null
    wait $BGPID 2>/dev/null
    BGPID=
    # shellcheck disable=SC2086
    "$WB" data stats -q --json $opts "$T/big.tsv" >"$T/after.json" 2>"$T/err"
    [ $? -eq 0 ] && ok || bad "after a kill at ${f}: $(cat "$T/err")"
    sed -i 's/"hit": [a-z]*, "written": [a-z]*, "rejected": [a-z]*, "waited": [a-z]*//' "$T/after.json"
    cmp -s "$T/ref.json" "$T/after.json" && ok || bad "after a kill at ${f}: other statistics"
    [ -z "$(find "$KC" -maxdepth 1 -name '*.tmp-*')" ] && ok || bad "after a kill at ${f}: a leftover: $(ls "$KC")"
done

# ---- two builders at once -------------------------------------------------------------
rm -rf "$KC"
# shellcheck disable=SC2086
"$WB" data stats --json $opts "$T/big.tsv" >"$T/a.json" 2>&1 &
p1=$!
# shellcheck disable=SC2086
"$WB" data stats --json $opts "$T/big.tsv" >"$T/b.json" 2>&1 &
p2=$!
wait $p1 && wait $p2 && ok || bad "two builders at once failed: $(cat "$T/a.json" "$T/b.json" | head -c 400)"
[ "$(cat "$T/a.json" "$T/b.json" | grep -c '"written": true')" -eq 1 ] && ok || bad "two builders wrote $(cat "$T/a.json" "$T/b.json" | grep -c '"written": true') data sets"
[ "$(find "$KC" -maxdepth 1 -name '*.wbds*' | wc -l)" -eq 1 ] && ok || bad "two builders left: $(ls "$KC")"

# ---- one input per text column ------------------------------------------------------
run "$WB" data show --text-col title --text-col body --label-col tags --label-sep ' ' --maxlen body=5,title=2 "$TX/basic.csv"
expect_rc 0 "show --maxlen title=2,body=5"
[ "$(head -1 "$T/out")" = "$(printf 'bacon,oven\thello world\the said hi and left')" ] && ok ||
    bad "one field per input: '$(head -1 "$T/out")'"
run "$WB" data stats --text-col title --text-col body --label-col tags --maxlen title=2,body=5 "$TX/basic.csv"
[ "$(grep -c '^input  ' "$T/out")" -eq 2 ] && ok || bad "stats per input: $(cat "$T/out")"
for m in "title=2" "title=2,body=x" "title=2,nope=3" "title=2,title=3,body=1" "=3"; do
    run "$WB" data show --text-col title --text-col body --label-col tags --maxlen "$m" "$TX/basic.csv"
    expect_rc 2 "--maxlen $m"
done
# train takes every input (one branch each); the default model's convolution (width 5) does not fit title=2
run "$WB" train -q --data "$TX/basic.csv" --text-col title --text-col body --label-col tags --maxlen title=2,body=5 \
    --model pool --epochs 1 -o "$T/m.wbm"
[ "$rc" -eq 0 ] && [ -s "$T/m.wbm" ] && ok || bad "train with two text inputs: exit $rc $(cat "$T/err")"
run "$WB" train -q --data "$TX/basic.csv" --text-col title --text-col body --label-col tags --maxlen title=2,body=5 -o "$T/m2.wbm"
[ "$rc" -eq 2 ] && [ ! -e "$T/m2.wbm" ] && grep -q 'convolution width 5 must be in 1..maxlen (2)' "$T/err" && ok ||
    bad "a convolution wider than an input: exit $rc $(cat "$T/err")"

finish dataset_cache.sh
