#!/usr/bin/env bash
# kill9.sh — a convert killed with SIGKILL never damages or half-publishes a store.
#
# Generates a ~90 MB GloVe text with awk (200 000 words x 50 dims; an eighth
# of that when WB_TEST_SCALE < 1, e.g. under ASan), builds a small store at
# STORE, then repeatedly starts `convert --force BIG STORE` and kills it with
# kill -9 after 0.05 s, 0.2 s, 0.5 s, ... up to just before and after the
# time a full convert takes (so some kills land while publishing).  After
# each kill:
#   - STORE is a complete store: `verify` passes and its fingerprint is the
#     old store's or, only if the kill came after the publish, the new one's;
#   - a look-up in it works;
#   - a later `convert --force` to STORE succeeds, and no `.STORE.wbtmp-*`
#     directory is left behind (stale temporaries of dead converts are
#     removed).
# Then a convert into a NEW path is killed: no store may appear at that path,
# and the next convert into it succeeds and leaves no temporary.
#
# Environment: WB, WB_TEST_SCALE.  About 15 s (about 30 s with ASan).
# Exit 0 pass, 1 fail, 77 skip.
set -u

. "$(dirname "$0")/lib.bash"
need_wb kill9.sh

T=$(mktemp -d "${TMPDIR:-/tmp}/wb-kill9.XXXXXX") || exit 1
BGPID=
cleanup() {
    [ -n "$BGPID" ] && kill -9 "$BGPID" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
cd "$T" || exit 1

TO=60 # seconds any single command may take before it counts as hung

ROWS=200000
case ${WB_TEST_SCALE:-1} in 1 | 1.0 | "") ;; *) ROWS=25000 ;; esac
D=50

# ---- inputs -------------------------------------------------------------------------

# 1000 distinct vectors, cycled; every word distinct.
awk -v n=$ROWS -v d=$D 'BEGIN {
    for (k = 0; k < 1000; k++) { s = ""
        for (j = 0; j < d; j++) s = s " " sprintf("%.5f", (((k * 31 + j * 17) % 2001) - 1000) / 997)
        v[k] = s }
    for (i = 0; i < n; i++) print "word" i v[(i * 7) % 1000] }' >big.txt
printf 'word1 1 2 3\nword2 3 2 1\nsmall 0.5 0.25 0.125\n' >small.txt
printf 'word1 3 3 3\nword2 1 1 1\nother 0.5 0.5 0.5\n' >small2.txt
echo "kill9.sh: input $(wc -c <big.txt) bytes, $ROWS rows" >&2

fingerprint() { "$WB" info --json "$1" 2>/dev/null | sed -n 's/.*"fingerprint": "\([0-9a-f]*\)".*/\1/p'; }
tmp_left() { find "$(dirname "$1")" -maxdepth 1 -name ".$(basename "$1").wbtmp-*" | tr '\n' ' '; }

# The fingerprint and duration of a complete convert of big.txt.
start=$(date +%s.%N)
if ! timeout $TO "$WB" convert -q big.txt ref >/dev/null 2>err.txt; then
    echo "kill9.sh: FAIL: the reference convert failed: $(head -c 300 err.txt)" >&2
    exit 1
fi
FULL=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
NEWFP=$(fingerprint ref)
[ -n "$NEWFP" ] && ok || bad "no fingerprint for the reference store"
rm -rf ref
echo "kill9.sh: a full convert takes ${FULL}s" >&2

# ---- kill -9 a convert --force over an existing store ------------------------------

# kill times: fixed early ones, then fractions of the full duration
DELAYS="0.05 0.2 0.5"
for f in 0.4 0.8 0.95 1.05; do
    DELAYS="$DELAYS $(awk -v t="$FULL" -v f=$f 'BEGIN { printf "%.3f", t * f }')"
done

for x in small small2; do
    timeout $TO "$WB" convert -q $x.txt ref_$x >/dev/null 2>err.txt || bad "convert of $x.txt failed: $(head -c 300 err.txt)"
done
FP_SMALL=$(fingerprint ref_small)
FP_SMALL2=$(fingerprint ref_small2)
[ -n "$FP_SMALL" ] && [ -n "$FP_SMALL2" ] && [ "$FP_SMALL" != "$FP_SMALL2" ] && ok || bad "small stores: fingerprints '$FP_SMALL' '$FP_SMALL2'"
timeout $TO "$WB" convert -q small.txt STORE >/dev/null 2>err.txt || bad "first small convert failed: $(head -c 300 err.txt)"
round=0
killed_early=0
for d in $DELAYS; do
    round=$((round + 1))
    OLDFP=$(fingerprint STORE)
    if [ -z "$OLDFP" ]; then
        bad "round $round: STORE has no fingerprint before the kill"
        continue
    fi
    "$WB" convert -q --force big.txt STORE >/dev/null 2>"conv.err" &
    BGPID=$!
    sleep "$d"
    if kill -9 "$BGPID" 2>/dev/null; then was_running=1; else was_running=0; fi
    wait "$BGPID" 2>/dev/null
    st=$?
    BGPID=
    # 137 = killed; 0 = it finished first; anything else is a crash or an error
    if [ $st -ne 137 ] && [ $st -ne 0 ]; then
        bad "round $round (kill after ${d}s): convert exited $st on its own: $(head -c 300 conv.err)"
    fi
    [ $was_running = 1 ] || echo "note: round $round: the convert finished before the kill after ${d}s" >&2
    fp=$(fingerprint STORE)
    if [ "$fp" = "$OLDFP" ]; then
        ok
        killed_early=$((killed_early + 1))
    elif [ "$fp" = "$NEWFP" ]; then
        ok # the kill came after the publish
    else
        bad "round $round (kill after ${d}s): STORE fingerprint '$fp' is neither the old ($OLDFP) nor the new ($NEWFP) one: $("$WB" info STORE 2>&1 | head -2 | tr '\n' '|')"
    fi
    if timeout $TO "$WB" verify STORE >/dev/null 2>verify.err; then ok; else
        bad "round $round (kill after ${d}s): verify of STORE failed: $(head -c 300 verify.err)"
    fi
    if timeout $TO "$WB" lookup --no-vector STORE word1 >/dev/null 2>lookup.err; then ok; else
        bad "round $round (kill after ${d}s): lookup in STORE failed: $(head -c 300 lookup.err)"
    fi
    # a later convert --force succeeds and cleans up after the dead one
    if [ $((round % 2)) -eq 1 ]; then src=small2.txt; else src=small.txt; fi
    if timeout $TO "$WB" convert -q --force $src STORE >/dev/null 2>err.txt; then ok; else
        bad "round $round: convert --force after the kill failed: $(head -c 300 err.txt)"
    fi
    left=$(tmp_left STORE)
    [ -z "$left" ] && ok || bad "round $round (kill after ${d}s): temporary left after the next convert: $left"
    timeout $TO "$WB" verify STORE >/dev/null 2>&1 && ok || bad "round $round: verify after the next convert failed"
    want=$([ $src = small.txt ] && echo "$FP_SMALL" || echo "$FP_SMALL2")
    [ "$(fingerprint STORE)" = "$want" ] && ok || bad "round $round: STORE does not hold $src after the next convert"
done
[ $killed_early -ge 3 ] && ok || bad "only $killed_early kills landed before the publish: the test did not exercise the old-store case"

# ---- kill -9 a convert into a new path ---------------------------------------------

for d in 0.05 0.3; do
    rm -rf NEW
    "$WB" convert -q big.txt NEW >/dev/null 2>conv.err &
    BGPID=$!
    sleep "$d"
    if kill -9 "$BGPID" 2>/dev/null; then
        wait "$BGPID" 2>/dev/null
        BGPID=
        # The kill may land after the atomic rename (the convert had published
        # and was exiting): then NEW must be a complete store.  Anything else
        # at NEW is a half-written store.
        if [ ! -e NEW ]; then
            ok
        elif timeout $TO "$WB" verify NEW >/dev/null 2>&1; then
            echo "note: the kill after ${d}s landed after the publish; NEW is complete" >&2
            ok
        else
            bad "kill after ${d}s of a convert into a new path left a broken NEW: $(ls -a NEW | tr '\n' ' ')"
        fi
        rm -rf NEW
    else
        wait "$BGPID" 2>/dev/null
        st=$?
        BGPID=
        if [ $st -ne 0 ]; then
            bad "convert into NEW exited $st before the kill after ${d}s: $(head -c 300 conv.err)"
        else
            echo "note: the convert into NEW finished before the kill after ${d}s; not a crash test" >&2
        fi
        rm -rf NEW
    fi
    if timeout $TO "$WB" convert -q small.txt NEW >/dev/null 2>err.txt; then ok; else
        bad "convert into NEW after a killed convert failed: $(head -c 300 err.txt)"
    fi
    left=$(tmp_left NEW)
    [ -z "$left" ] && ok || bad "temporary left after converting into NEW: $left"
    timeout $TO "$WB" verify NEW >/dev/null 2>&1 && ok || bad "verify of NEW failed"
done

# A stale temporary of a process that no longer exists is removed by the next
# convert; one of a live process is left alone.
sleep 60 &
LIVE=$!
mkdir ".STORE.wbtmp-$LIVE"
DEAD=$LIVE
while kill -0 "$DEAD" 2>/dev/null; do DEAD=$((DEAD + 7919)); done
mkdir ".STORE.wbtmp-$DEAD"
timeout $TO "$WB" convert -q --force small.txt STORE >/dev/null 2>err.txt && ok || bad "convert with stale temporaries failed: $(head -c 300 err.txt)"
[ -e ".STORE.wbtmp-$DEAD" ] && bad "the stale temporary of dead pid $DEAD was not removed" || ok
[ -e ".STORE.wbtmp-$LIVE" ] && ok || bad "the temporary of live pid $LIVE was removed"
kill "$LIVE" 2>/dev/null
wait "$LIVE" 2>/dev/null
rmdir ".STORE.wbtmp-$LIVE" 2>/dev/null

echo "kill9.sh: $round kills over an existing store ($killed_early before the publish), ${SECONDS}s"
finish kill9.sh
