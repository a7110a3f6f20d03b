#!/usr/bin/env bash
# concurrent_publish.sh — readers never see a half-published or mixed store.
#
# Four reader processes loop `wordbench lookup`, `neighbors` and `verify`
# against STORE while this script republishes a new store under the same name
# 20 times with `convert --force`, alternating two inputs A and B that hold
# the same words with different vectors in a different row order:
#   A: word wI at row I,       vector (I, 1, f(I)...)
#   B: word wI at row N-1-I,   vector (I, 2, g(I)...)
# so any mix of A's index with B's vectors (or the reverse) shows up as a
# wrong row/vector pair.  Every reader invocation must exit 0 and print a
# consistent answer, and verify must always pass.  Two long-lived readers
# (`export STORE -` into a pipe that is read only after the republishing
# started, so export holds the store open across several swaps) must each
# produce exactly the export of A or of B.
#
# Leaves out: crashes during convert (kill9.sh).  Environment: WB,
# WB_TEST_SCALE (< 1 under sanitizers: readers pause between invocations).
# Takes about 10 s (about 15 s under ASan, with 10 republishes); a command
# still running 20 s after the end counts as hung.  A race shows up as a
# failure only when a reader opens the store at the instant of a swap: a
# buggy build fails some runs, not all; a correct one passes every run.
# Exit 0 pass, 1 fail, 77 skip.
set -u

. "$(dirname "$0")/lib.bash"
need_wb concurrent_publish.sh

T=$(mktemp -d "${TMPDIR:-/tmp}/wb-concurrent.XXXXXX") || exit 1
READERS=()
cleanup() {
    touch "$T/stop" 2>/dev/null
    for p in "${READERS[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
cd "$T" || exit 1


N=3000                 # rows (the export, ~150 KB, must not fit in a 64 KB pipe)
D=8                    # dims
PUBLISHES=20
NREADERS=4
DEADLINE=$((SECONDS + 40)) # readers stop by then whatever happens
TO=20                  # seconds any single command may take before it counts as hung
# Under sanitizers (tools/test.sh sets WB_TEST_SCALE=0.25) every process is
# slower: readers pause between invocations so the publisher is not starved,
# and there are 10 republishes instead of 20.
PAUSE=0
case ${WB_TEST_SCALE:-1} in 1 | 1.0 | "") ;; *) PAUSE=0.2 PUBLISHES=10 ;; esac

# ---- inputs and references ---------------------------------------------------

awk -v n=$N -v d=$D 'BEGIN { for (i = 0; i < n; i++) { printf "w%d %d 1", i, i
    for (j = 2; j < d; j++) printf " %g", ((i * (j + 3)) % 97) / 8 - 6; printf "\n" } }' >A.txt
awk -v n=$N -v d=$D 'BEGIN { for (i = n - 1; i >= 0; i--) { printf "w%d %d 2", i, i
    for (j = 2; j < d; j++) printf " %g", ((i * (j + 5)) % 89) / 4 - 11; printf "\n" } }' >B.txt
for x in A B; do
    if ! timeout $TO "$WB" convert -q "$x.txt" "ref$x" >/dev/null 2>"$T/err.$x"; then
        echo "concurrent_publish.sh: FAIL: cannot build the reference store $x: $(head -c 300 "$T/err.$x")" >&2
        exit 1
    fi
    timeout $TO "$WB" export "ref$x" "ref$x.txt" 2>/dev/null || { echo "FAIL: export of ref$x" >&2; exit 1; }
done
cmp -s refA.txt refB.txt && { echo "FAIL: the two inputs export the same" >&2; exit 1; }
QW="w17 w1499 w2998"  # words looked up by the readers
NB_A=$("$WB" neighbors -k 1 refA w1234 | cut -f1)
NB_B=$("$WB" neighbors -k 1 refB w1234 | cut -f1)
if [ -n "$NB_A" ] && [ -n "$NB_B" ]; then ok; else bad "neighbors on the reference stores gave nothing"; fi

if ! timeout $TO "$WB" convert -q A.txt STORE >/dev/null 2>"$T/err.first"; then
    echo "concurrent_publish.sh: FAIL: first convert into STORE failed: $(head -c 300 "$T/err.first")" >&2
    exit 1
fi

# ---- readers ------------------------------------------------------------------

# reader ID: loop until $T/stop.  To fit many store opens into the time,
# each iteration forks only wordbench (the rest are shell builtins); the
# answers are appended to files and checked after the run.  A "=" line ends
# every answer; $T/rID.status gets "COMMAND EXIT" per invocation.
reader() {
    local id=$1 it=0
    local lk="$T/r$id.lookup" nb="$T/r$id.neighbors" st="$T/r$id.status" err="$T/r$id.err"
    : >"$lk"
    : >"$nb"
    : >"$st"
    : >"$err"
    while [ ! -e "$T/stop" ] && [ $it -lt 3000 ] && [ $SECONDS -lt $DEADLINE ]; do
        case $(((it + id) % 3)) in
        0)
            # shellcheck disable=SC2086
            "$WB" lookup STORE $QW >>"$lk" 2>>"$err"
            echo "lookup $?" >>"$st"
            echo "=" >>"$lk"
            ;;
        1)
            "$WB" neighbors -k 1 STORE w1234 >>"$nb" 2>>"$err"
            echo "neighbors $?" >>"$st"
            echo "=" >>"$nb"
            ;;
        2)
            "$WB" verify STORE >/dev/null 2>>"$err"
            echo "verify $?" >>"$st"
            ;;
        esac
        it=$((it + 1))
        [ "$PAUSE" = 0 ] || sleep $PAUSE
    done
}

# check_lookup FILE: every answer is 3 lines "wI<TAB>row<TAB>v0 v1 ...", all
# of A or all of B.  Prints the first problems.
check_lookup() {
    awk -F'\t' -v n=$N '
        function done_answer() {
            if (lines != 3) { print "an answer has " lines " lines instead of 3"; bad++ }
            if (na && nb) { print "one answer mixes lines of A and of B"; bad++ }
            lines = na = nb = 0 }
        $0 == "=" { done_answer(); next }
        { lines++; i = substr($1, 2) + 0; split($3, v, " ")
          if (v[1] != i) { print "word " $1 " row " $2 " has the vector of w" v[1] " (index of one store, vectors of the other)"; bad++ }
          else if (v[2] == 1 && $2 == i) na++
          else if (v[2] == 2 && $2 == n - 1 - i) nb++
          else { print "word " $1 " row " $2 " has v1 " v[2] " (a mix of A and B)"; bad++ } }
        END { exit bad > 0 }' "$1" | head -3
    return "${PIPESTATUS[0]}"
}

for id in $(seq 1 $NREADERS); do
    reader "$id" &
    READERS+=($!)
done
# wait until every reader has run at least once, so they overlap the publishing
for _ in $(seq 1 400); do
    n=0
    for id in $(seq 1 $NREADERS); do [ -s "$T/r$id.status" ] && n=$((n + 1)); done
    [ $n -eq $NREADERS ] && break
    sleep 0.05
done

# Two long-lived readers: export into a pipe nobody reads yet; export blocks
# on the full pipe while holding the store open, then the consumer drains it.
for k in 1 2; do
    (timeout 60 "$WB" export STORE - 2>"$T/long$k.err"
        echo $? >"$T/long$k.rc") | { sleep $((k * 1)); cat >"$T/long$k.txt"; } &
done

# ---- publisher -------------------------------------------------------------------

published=0
for k in $(seq 1 $PUBLISHES); do
    if [ $((k % 2)) -eq 1 ]; then src=B.txt; else src=A.txt; fi
    if timeout $TO "$WB" convert -q --force "$src" STORE >/dev/null 2>"$T/pub.err"; then
        published=$((published + 1))
        ok
    else
        bad "republish $k (convert --force $src STORE) failed: $(head -c 300 "$T/pub.err")"
    fi
done
[ "$published" -eq $PUBLISHES ] && ok || bad "only $published of $PUBLISHES republishes succeeded"

touch "$T/stop"
# readers finish their current invocation; one that does not within $TO s hangs
for _ in $(seq 1 $((TO * 10))); do
    alive=0
    for p in "${READERS[@]}"; do kill -0 "$p" 2>/dev/null && alive=$((alive + 1)); done
    [ $alive -eq 0 ] && break
    sleep 0.1
done
if [ $alive -ne 0 ]; then
    bad "$alive reader(s) still running ${TO}s after the end: a wordbench command hangs"
    for p in "${READERS[@]}"; do pkill -9 -P "$p" 2>/dev/null; kill -9 "$p" 2>/dev/null; done
fi
for p in "${READERS[@]}"; do wait "$p" 2>/dev/null; done
READERS=()
wait # the long-lived readers

# ---- results ------------------------------------------------------------------------

total=0
for id in $(seq 1 $NREADERS); do
    c=$(wc -l <"$T/r$id.status")
    total=$((total + c))
    nfail=$(grep -cv ' 0$' "$T/r$id.status")
    if [ "$nfail" -eq 0 ]; then ok; else
        bad "reader $id: $nfail of $c invocations failed: $(grep -v ' 0$' "$T/r$id.status" | sort | uniq -c | tr '\n' ' ')- stderr: $(head -3 "$T/r$id.err" | tr '\n' '|')"
    fi
    [ -s "$T/r$id.err" ] && [ "$nfail" -eq 0 ] && bad "reader $id: diagnostics although every invocation succeeded: $(head -2 "$T/r$id.err" | tr '\n' '|')"
    if msg=$(check_lookup "$T/r$id.lookup"); then ok; else
        bad "reader $id: inconsistent lookup answers: $(echo "$msg" | tr '\n' '|')"
    fi
    wrong=$(grep -v '^=$' "$T/r$id.neighbors" | cut -f1 | grep -vx -e "$NB_A" -e "$NB_B" | sort | uniq -c | tr '\n' ' ')
    [ -z "$wrong" ] && ok || bad "reader $id: neighbors gave $wrong, expected '$NB_A' (A) or '$NB_B' (B)"
    [ "$c" -ge 3 ] && ok || bad "reader $id ran only $c times"
done
for k in 1 2; do
    rc=$(cat "$T/long$k.rc" 2>/dev/null || echo missing)
    if [ "$rc" = 0 ]; then ok; else bad "long-lived export $k: exit $rc: $(head -c 300 "$T/long$k.err")"; fi
    if cmp -s "$T/long$k.txt" refA.txt || cmp -s "$T/long$k.txt" refB.txt; then ok; else
        bad "long-lived export $k is neither A's nor B's export ($(wc -c <"$T/long$k.txt") bytes)"
    fi
done
timeout $TO "$WB" verify STORE >/dev/null 2>"$T/final.err" && ok || bad "final verify failed: $(head -c 300 "$T/final.err")"
want=$([ $((published % 2)) -eq 1 ] && echo refB.txt || echo refA.txt)
timeout $TO "$WB" export STORE final.txt 2>/dev/null && cmp -s final.txt "$want" && ok ||
    bad "after $published republishes STORE does not hold the last input published"
left=$(find . -maxdepth 1 -name '.STORE.wbtmp-*' | head -3 | tr '\n' ' ')
[ -z "$left" ] && ok || bad "temporary directories left behind: $left"

echo "concurrent_publish.sh: $total reader invocations, $published republishes in ${SECONDS}s"
finish concurrent_publish.sh
