#!/usr/bin/env bash
# kill9_loop.sh — training and search survive being killed again and again (issue 18, "Kill -9, again
# and again"): the same command line is started, killed with SIGKILL at a random moment, and started
# again, N times (20 by default), then once more to the end.
#
# Training (`wordbench train ... --resume`): the final model must be byte for byte the model of an
# uninterrupted run, and no temporary file (MODEL.tmp*, MODEL.ckpt.tmp*) may be left in the directory.
# This is what a pre-emptible cluster job or a retry loop does, so the same command line must serve the
# first start (no checkpoint yet: a fresh start with a note) and every restart (resume from the checkpoint
# of the last complete epoch), and a temporary left by a kill during a write must be removed by the next
# start.  The output path holds an older model from the start: after every kill it must be byte for byte
# that older model or the final one (a model save is atomic: the previous result stays intact).
# Kill moments: every third start is killed the moment a write begins (a temporary file appears), so
# that kills during a checkpoint write are certain to happen; the others at seeded random moments (in
# the data set's load, a training step, sometimes a write).  The test also checks that the checkpoint
# never goes back from one start to the next and that it moves on (the kills interrupt training, not
# only start-ups).
#
# Search (`wordbench search`, when this wordbench has it): a grid search in its own process group, the
# whole group killed (as a scheduler does) at seeded random moments.  After every kill the trial log
# holds only whole lines, each valid JSON, no trial twice, and the log of the previous start as its
# prefix (nothing logged is lost or rewritten); the last run's table is the uninterrupted search's and
# its log report counts no damaged line and no duplicate.
#
# Environment: WB, WB_FIXTURES, WB_TEST_SCALE (< 1: fewer epochs), WB_KILL9_STARTS (kills per part,
# default 20; a manual long run: WB_KILL9_STARTS=200, the epochs grow with it).  About 15 s for the
# training part (40 epochs of a kim model on the demo data), 20 s for the search.  Exit 0 pass, 1 fail,
# 77 skip.
set -u

. "$(dirname "$0")/lib.bash"
need_wb kill9_loop.sh
if [ -z "${WB_FIXTURES:-}" ]; then
    echo "kill9_loop.sh: set WB_FIXTURES (ctest does); skipping" >&2
    exit 77
fi
TX=$WB_FIXTURES/text
T=$(mktemp -d "${TMPDIR:-/tmp}/wb-kill9-loop.XXXXXX") || exit 1
BGPID=
cleanup() {
    [ -n "$BGPID" ] && { kill -9 -- "-$BGPID" 2>/dev/null; kill -9 "$BGPID" 2>/dev/null; }
    wait 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

"$WB" convert -q "$WB_FIXTURES/vectors/demo.glove.txt" "$T/demo" >/dev/null || { bad "convert demo"; finish kill9_loop.sh; }
N=${WB_KILL9_STARTS:-20}
case "$N" in '' | *[!0-9]*) echo "kill9_loop.sh: WB_KILL9_STARTS=$N is not a number" >&2; exit 2 ;; esac
[ "$N" -lt 3 ] && N=3
epochs=40
awk -v s="${WB_TEST_SCALE:-1}" 'BEGIN { exit !(s < 1) }' && epochs=20
[ "$epochs" -lt $((2 * N)) ] && epochs=$((2 * N))
K=(train --data "$TX/demo_sentiment.tsv" --test-size 0.2 --maxlen 20 -q --store "$T/demo" --model kim
   --embeddings finetune --no-restore-best --seed 7 --epochs "$epochs")

# The same command line must start fresh when there is no checkpoint yet.
start=$(date +%s%N)
"$WB" "${K[@]}" -o "$T/probe.wbm" --resume >/dev/null 2>"$T/err"
rc=$?
ms1=$((($(date +%s%N) - start) / 1000000))
[ $rc -eq 0 ] && grep -q 'no checkpoint .* yet' "$T/err" && ok ||
    bad "the first --resume without a checkpoint (exit $rc) must start fresh with a note: $(head -c 300 "$T/err")"

start=$(date +%s%N)
"$WB" "${K[@]}" -o "$T/full.wbm" >/dev/null 2>&1 || { bad "uninterrupted run"; finish kill9_loop.sh; }
ms=$((($(date +%s%N) - start) / 1000000))
cmp -s "$T/probe.wbm" "$T/full.wbm" && ok || bad "the fresh start of --resume and a run without it give different models"
rm -f "$T"/probe.wbm*
# the older model the output path holds until the loop's last save replaces it
"$WB" "${K[@]:0:${#K[@]}-1}" 1 -o "$T/old.wbm" >/dev/null 2>&1 || { bad "the older model"; finish kill9_loop.sh; }
cmp -s "$T/old.wbm" "$T/full.wbm" && { bad "the older model is the final one"; finish kill9_loop.sh; }
rm -f "$T"/old.wbm.*
cp "$T/old.wbm" "$T/k.wbm"
# the faster of the two runs (the machine may be loaded), at least 300 ms
[ "$ms1" -lt "$ms" ] && ms=$ms1
[ "$ms" -lt 300 ] && ms=300

# One start: run the command line in the background and kill it with SIGKILL, either after $1 seconds or,
# with $1 = write, the moment a temporary file appears that was not there when it started (a model or
# checkpoint write in progress; the write's fsync keeps it open long enough to be caught most times),
# or after 10 s when none does.  Sets rc (137 when killed) and e (epochs done when the start began, as
# its note says: 0 for the fresh start, empty when it was killed before the note).
# The poll for a new temporary forks nothing (a glob into an array), so it sees most writes.
shopt -s nullglob
one_start() {
    local old f t0 hit
    local -a now
    now=("$T"/k.wbm*.tmp*)
    old=" ${now[*]} "
    "$WB" "${K[@]}" -o "$T/k.wbm" --resume >"$T/out" 2>"$T/err" &
    BGPID=$!
    if [ "$1" = write ]; then
        t0=$SECONDS hit=
        while [ -z "$hit" ] && [ $((SECONDS - t0)) -lt 10 ] && kill -0 "$BGPID" 2>/dev/null; do
            now=("$T"/k.wbm*.tmp*)
            for f in "${now[@]}"; do case "$old" in *" $f "*) ;; *) hit=$f ;; esac; done
        done
    else
        sleep "$1"
    fi
    if kill -9 "$BGPID" 2>/dev/null; then kills=$((kills + 1)); fi
    wait "$BGPID" 2>/dev/null
    rc=$?
    BGPID=
    # a run that ended before its kill must have succeeded; then training is over (a retry loop stops
    # at exit 0: a start after it would train afresh)
    [ "$rc" -eq 0 ] && done=1
    [ "$rc" -eq 137 ] || [ "$rc" -eq 0 ] || bad "a run of the loop exited $rc: $(head -c 300 "$T/err")"
    if grep -q 'no checkpoint .* yet' "$T/err"; then e=0
    else e=$(sed -n 's/.*resuming at epoch \([0-9]*\) of.*/\1/p' "$T/err" | head -n 1); [ -n "$e" ] && e=$((e - 1)); fi
    trace="$trace ${e:--}"
    # the output path is the older model or the final one, never anything between
    if cmp -s "$T/k.wbm" "$T/old.wbm"; then :
    elif cmp -s "$T/k.wbm" "$T/full.wbm"; then trace="$trace(final)"
    else bad "after a kill the output model is neither the older model nor the final one (epochs done:$trace)"; fi
    if [ -n "$e" ]; then
        # a checkpoint never goes back: each start resumes at least where the previous one did
        [ "$e" -ge "$last" ] || bad "a start resumed after $e epochs, an earlier one after $last"
        [ "$e" -gt "$last" ] && advanced=$((advanced + 1))
        last=$e
    fi
    # a temporary that was not there before was left by this kill during a write: a later start must
    # remove it
    now=("$T"/k.wbm*.tmp*)
    for f in "${now[@]}"; do
        case "$old" in *" $f "*) ;; *) found_tmp=$((found_tmp + 1)); trace="$trace(tmp)"; break ;; esac
    done
}

# N kills: the 1st, 4th, 7th... the moment a write begins, the others at seeded random moments in
# [50 ms, 50 ms + two Nths of the uninterrupted run] (a start spends ~0.2 s before it trains, so some
# die starting and most while training, and the training is still going at the last kill); then, until
# some kill has left a temporary behind, up to 10 more starts killed during a write (and, under load,
# more starts until the checkpoint has moved on three times; see below).  Then the same
# command line once more, to the end.
delays=$(awk -v ms="$ms" -v n="$N" 'BEGIN { srand(18); for (i = 1; i <= n; i++) printf "%s\n", i % 3 != 1 ? sprintf("%.3f", (50 + rand() * 2 * ms / n) / 1000) : "write" }')
kills=0 found_tmp=0 advanced=0 last=0 trace= starts=0 done=0
for d in $delays; do [ "$done" -eq 1 ] && break; one_start "$d"; starts=$((starts + 1)); done
while [ "$done" -eq 0 ] && [ "$found_tmp" -eq 0 ] && [ "$starts" -lt $((N + 10)) ]; do one_start write; starts=$((starts + 1)); done
# on a loaded machine (sanitizers, other jobs) a start may need longer than its timing run to finish an
# epoch: until the checkpoint has moved on three times, up to 20 more starts killed after a fifth of the
# uninterrupted run (one epoch or more of it)
while [ "$done" -eq 0 ] && [ "$advanced" -lt 3 ] && [ "$starts" -lt $((N + 30)) ]; do
    one_start "$(awk -v ms="$ms" 'BEGIN { printf "%.3f", (150 + ms / 5) / 1000 }')"
    starts=$((starts + 1))
done
"$WB" "${K[@]}" -o "$T/k.wbm" --resume >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" -eq 0 ] && ok || bad "the last run exited $rc: $(head -c 300 "$T/err")"
cmp -s "$T/full.wbm" "$T/k.wbm" && ok || bad "after $kills kills the model differs from the uninterrupted run"
left=$(cd "$T" && ls -a | grep -E '\.tmp|wbtmp' || true)
[ -z "$left" ] && ok || bad "temporaries left after the loop: $left"
[ "$kills" -ge $((starts * 2 / 3)) ] && [ "$kills" -ge $((N / 2)) ] && ok || bad "only $kills of $starts kills hit a running process (the runs are too short to test)"
# the kills must interrupt training, not only start-ups: the checkpoint has to move on between starts
[ "$advanced" -ge 3 ] && ok || bad "the checkpoint advanced only $advanced times in $starts starts (epochs done at each start:$trace)"
[ "$found_tmp" -ge 1 ] && ok || bad "no kill in $starts starts left a temporary file behind (the cleanup was not exercised)"
echo "kill9_loop.sh: $kills kills in $starts starts, run ${ms} ms, $epochs epochs; epochs done at each start" \
    "((tmp): the kill left a temporary):$trace" >&2

# ---- search: the trial log under kill -9 ---------------------------------------------------------------
if ! "$WB" search --help >/dev/null 2>&1; then
    echo "kill9_loop.sh: this wordbench has no 'search' command: its part left out" >&2
    finish kill9_loop.sh
fi
PY=/usr/bin/python3
S=(search --data "$TX/demo_sentiment.tsv" --test "$TX/demo_sentiment_test.tsv" --maxlen 20 --model tutorial
   --emb-dim 8 --filters 8 --widths 3 --epochs 30 --lr 0.01 --param hidden=4,16 --param dropout=0,0.3 --cv 3
   -j 2 --json -q)
# the table of a --json output without wall-clock figures and paths
table() { $PY -c '
import json, sys
d = json.load(open(sys.argv[1]))
for r in d["table"]:
    r.pop("train_s", None); r.pop("examples_per_s", None)
d.pop("run_dir", None); d.pop("log", None)
if d.get("refit"): d["refit"].pop("model", None)
print(json.dumps(d, sort_keys=True))' "$1"; }
start=$(date +%s%N)
"$WB" "${S[@]}" -o "$T/sfull" >"$T/sfull.json" 2>"$T/err" || { bad "uninterrupted search: $(head -c 300 "$T/err")"; finish kill9_loop.sh; }
sms=$((($(date +%s%N) - start) / 1000000))
ntrials=$(wc -l <"$T/sfull/trials.jsonl")
# N starts, each in a process group of its own (setsid) killed as a whole, at seeded random moments in
# [10%, 60%] of the uninterrupted search (a re-run has only the trials not logged yet: with later moments
# most re-runs would finish before their kill, with earlier ones few trials would be logged); then once
# more to the end.  At least half the kills must hit a running search, and at least two of them must
# come after the log has grown (kills between trials, not only in start-ups).  After each kill: the
# log (whole lines of JSON, no trial twice, the previous log its prefix).  A re-run runs only the trials
# not logged yet, so a start may finish the search: its table must be the uninterrupted one, and the
# next start begins a new search in a new run directory (a round).
delays=$(awk -v ms="$sms" -v n="$N" 'BEGIN { srand(9); for (i = 1; i <= n; i++) printf "%.3f\n", (0.1 + rand() * 0.5) * ms / 1000 }')
skills=0 strace= rounds=0 grew=0
: >"$T/prev.jsonl"
for d in $delays; do
    setsid "$WB" "${S[@]}" -o "$T/s" >"$T/out" 2>"$T/err" &
    BGPID=$!
    sleep "$d"
    kill -9 -- "-$BGPID" 2>/dev/null && skills=$((skills + 1))
    wait "$BGPID" 2>/dev/null
    rc=$?
    # the whole group is gone before the next start (a worker that outlived the kill would hold the run
    # directory's lock); zombies not yet reaped by init do not count
    for _ in $(seq 1 100); do
        ps -eo pgid=,stat= | awk -v g="$BGPID" '$1 == g && $2 !~ /^Z/ { f = 1 } END { exit !f }' || break
        sleep 0.05
    done
    BGPID=
    [ "$rc" -eq 137 ] || [ "$rc" -eq 0 ] || bad "a search of the loop exited $rc: $(head -c 300 "$T/err")"
    if [ "$rc" -eq 0 ]; then
        [ "$(table "$T/out")" = "$(table "$T/sfull.json")" ] && ok ||
            bad "a search finished within the loop, its table differs from the uninterrupted one"
        rounds=$((rounds + 1)) strace="$strace (done)"
        rm -rf "$T/s"
        : >"$T/prev.jsonl"
        continue
    fi
    [ -f "$T/s/trials.jsonl" ] || { strace="$strace 0"; continue; }
    msg=$($PY - "$T/s/trials.jsonl" "$T/prev.jsonl" <<'PYEOF'
import json, sys
b = open(sys.argv[1], "rb").read()
prev = open(sys.argv[2], "rb").read()
if not b.startswith(prev):
    print("the log of the previous start is not a prefix of this one's"); sys.exit()
if b and not b.endswith(b"\n"):
    print("a half line at the end: %r" % b[-80:]); sys.exit()
seen = set()
for i, l in enumerate(b.splitlines(), 1):
    try:
        r = json.loads(l)
    except ValueError:
        print("line %d is not JSON: %r" % (i, l[:80])); sys.exit()
    k = (r.get("plan"), r.get("trial"))
    if k in seen:
        print("trial %s twice (line %d)" % (k[1], i)); sys.exit()
    seen.add(k)
PYEOF
)
    [ -z "$msg" ] || bad "after a kill of the search: $msg"
    [ "$(wc -l <"$T/s/trials.jsonl")" -gt "$(wc -l <"$T/prev.jsonl")" ] && grew=$((grew + 1))
    cp "$T/s/trials.jsonl" "$T/prev.jsonl"
    strace="$strace $(wc -l <"$T/s/trials.jsonl")"
done
"$WB" "${S[@]}" -o "$T/s" >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" -eq 0 ] && ok || bad "the last search exited $rc: $(head -c 300 "$T/err")"
[ "$rc" -eq 0 ] && [ "$(table "$T/out")" = "$(table "$T/sfull.json")" ] && ok ||
    bad "after $skills kills the search's table differs from the uninterrupted one"
[ "$rc" -eq 0 ] && $PY -c 'import json, sys; l = json.load(open(sys.argv[1]))["log"]; sys.exit(l["damaged"] or l["duplicates"])' "$T/out" &&
    ok || bad "the last search's log report: $(head -c 300 "$T/out")"
[ "$(wc -l <"$T/s/trials.jsonl")" -eq "$ntrials" ] && ok || bad "the log holds $(wc -l <"$T/s/trials.jsonl") trials, the uninterrupted one $ntrials"
[ "$skills" -ge $((N / 2)) ] && ok || bad "only $skills of $N kills hit a running search (trials logged after each kill:$strace)"
[ "$grew" -ge 2 ] && ok || bad "the log grew between kills only $grew times in $N starts (trials logged after each kill:$strace)"
echo "kill9_loop.sh: search: $skills kills in $N starts ($rounds searches finished within the loop), run ${sms} ms;" \
    "trials logged after each kill:$strace" >&2
finish kill9_loop.sh
