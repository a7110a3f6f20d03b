#!/usr/bin/env bash
# slurm.sh — `wordbench search --slurm` on a real one-node Slurm cluster
# started for the test: munged with its own key and socket, slurmctld and
# slurmd on private ports (proctrack/linuxproc, task/none, select/cons_tres,
# NodeName = hostname -s with CPUs=2), everything under a temporary
# directory.  It submits a small search (an sbatch --array job and the
# refit job), waits for both, collects, and checks that the table equals a
# local --jobs 2 run of the same search; then that re-running the search
# submits nothing more, and that a trial whose result is removed is
# submitted again.  The daemons it started are stopped through their pid
# files whatever happens (trap).  Skips (77) without slurmctld / slurmd /
# munged / sbatch, or when not root (the daemons run as root here).
# Exit 0 pass, 1 fail, 77 skip.
set -u
. "$(dirname "$0")/lib.bash"
need_wb slurm.sh
if [ -z "${WB_FIXTURES:-}" ]; then
    echo "slurm.sh: set WB_FIXTURES (ctest does); skipping" >&2
    exit 77
fi
for p in slurmctld slurmd munged sbatch squeue; do
    if ! command -v "$p" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$p" ]; then
        echo "slurm.sh: $p is not installed (Debian: slurm-wlm, munge); skipping" >&2
        exit 77
    fi
done
if [ "$(id -u)" -ne 0 ]; then
    echo "slurm.sh: needs root to run slurmd; skipping" >&2
    exit 77
fi
PATH=$PATH:/usr/sbin
TX=$WB_FIXTURES/text
D=$(mktemp -d "${TMPDIR:-/tmp}/wb-slurm.XXXXXX") || exit 1
chmod 700 "$D"

stop_daemons() {
    # by pid file only: the daemons this test started, nothing else
    for f in slurmd slurmctld munged; do
        [ -s "$D/$f.pid" ] && kill "$(cat "$D/$f.pid")" 2>/dev/null
    done
    for _ in $(seq 1 50); do
        alive=0
        for f in slurmd slurmctld munged; do
            [ -s "$D/$f.pid" ] && kill -0 "$(cat "$D/$f.pid")" 2>/dev/null && alive=1
        done
        [ "$alive" -eq 0 ] && break
        sleep 0.1
    done
    for f in slurmd slurmctld munged; do
        [ -s "$D/$f.pid" ] && kill -9 "$(cat "$D/$f.pid")" 2>/dev/null
    done
}
cleanup() {
    stop_daemons
    rm -rf "$D"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Two free TCP ports above 20000 (bash's /dev/tcp: a refused connection = free).
free_port() {
    local p
    for _ in $(seq 1 50); do
        p=$((20000 + RANDOM % 30000))
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
    done
    echo 26817
}
P1=$(free_port)
P2=$(free_port)
[ "$P1" = "$P2" ] && P2=$((P1 + 1))
H=$(hostname -s)

# ---- the cluster ---------------------------------------------------------------
dd if=/dev/urandom of="$D/munge.key" bs=1024 count=1 2>/dev/null && chmod 600 "$D/munge.key"
munged -f --key-file="$D/munge.key" --socket="$D/munge.sock" --pid-file="$D/munged.pid" \
    --log-file="$D/munged.log" --seed-file="$D/munged.seed" || { bad "munged did not start"; finish slurm.sh; }
mkdir -p "$D/state" "$D/spool"
cat >"$D/slurm.conf" <<EOF
ClusterName=wbtest
SlurmctldHost=$H
SlurmctldPort=$P1
SlurmdPort=$P2
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$D/munge.sock
CredType=cred/munge
StateSaveLocation=$D/state
SlurmdSpoolDir=$D/spool
SlurmctldPidFile=$D/slurmctld.pid
SlurmdPidFile=$D/slurmd.pid
SlurmctldLogFile=$D/slurmctld.log
SlurmdLogFile=$D/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
SwitchType=switch/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
ReturnToService=2
NodeName=$H CPUs=2 State=UNKNOWN
PartitionName=wbtest Nodes=$H Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$D/slurm.conf
slurmctld -f "$SLURM_CONF" || { bad "slurmctld did not start: $(tail -n 5 "$D/slurmctld.log")"; finish slurm.sh; }
slurmd -f "$SLURM_CONF" || { bad "slurmd did not start: $(tail -n 5 "$D/slurmd.log")"; finish slurm.sh; }
up=0
for _ in $(seq 1 100); do
    sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)' && { up=1; break; }
    sleep 0.2
done
[ "$up" -eq 1 ] && ok || { bad "the node never came up: $(sinfo 2>&1) $(tail -n 5 "$D/slurmctld.log" "$D/slurmd.log")"; finish slurm.sh; }

# Wait until none of our jobs is queued or running (at most $1 seconds).
wait_jobs() {
    for _ in $(seq 1 $(($1 * 5))); do
        [ -z "$(squeue -h 2>/dev/null)" ] && return 0
        sleep 0.2
    done
    return 1
}

# ---- the search ------------------------------------------------------------------
S=(--data "$TX/demo_sentiment.tsv" --test "$TX/demo_sentiment_test.tsv" --maxlen 20 --emb-dim 8 --filters 8
   --widths 3 --epochs 6 --lr 0.01 --param hidden=4,16 --param dropout=0,0.3 --cv 3)
strip() { /usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
for r in d["table"]:
    r.pop("train_s"); r.pop("examples_per_s")
for k in ("run_dir", "log"): d.pop(k)
if d["refit"]: d["refit"].pop("model")
print(json.dumps(d, sort_keys=True))' "$1"; }

"$WB" search "${S[@]}" -j 2 -o "$D/local" --json -q >"$D/local.json" 2>"$D/err" && ok || bad "local search: $(cat "$D/err")"
"$WB" search "${S[@]}" --slurm --partition wbtest --time 5 -o "$D/run" >"$D/out" 2>"$D/err"
rc=$?
[ "$rc" -eq 0 ] && grep -q 'submitted 12 trials and the refit' "$D/out" && ok || bad "submission: exit $rc: $(cat "$D/out" "$D/err")"
[ -s "$D/run/slurm/submit-0.sh" ] && [ "$(wc -l <"$D/run/slurm/submit-0.trials")" -eq 12 ] &&
    grep -q '^#SBATCH --array=0-11$' "$D/run/slurm/submit-0.sh" && grep -q '^#SBATCH --partition=wbtest$' "$D/run/slurm/submit-0.sh" &&
    ok || bad "job script: $(cat "$D/run/slurm/submit-0.sh")"
wait_jobs 240 && ok || bad "the jobs did not finish: $(squeue 2>&1)"
[ "$(ls "$D/run/tasks" 2>/dev/null | wc -l)" -eq 13 ] && ok ||
    bad "task logs: $(ls "$D/run/tasks" 2>&1); $(tail -n 3 "$D"/run/slurm/*.out 2>/dev/null | head -c 2000)"
"$WB" search --collect "$D/run" --json -q >"$D/collect.json" 2>"$D/err" && ok || bad "--collect: $(cat "$D/err")"
[ "$(strip "$D/collect.json")" = "$(strip "$D/local.json")" ] && ok ||
    bad "the Slurm table differs from the local one: $(strip "$D/collect.json") vs $(strip "$D/local.json")"
[ -s "$D/run/best.wbm" ] && ok || bad "no refit model"

# Re-running the search: everything is done, nothing is submitted, the table is printed.
"$WB" search "${S[@]}" --slurm --partition wbtest -o "$D/run" --json -q >"$D/again.json" 2>"$D/err" &&
    [ "$(strip "$D/again.json")" = "$(strip "$D/local.json")" ] && ok || bad "re-running a finished search: $(cat "$D/err")"

# A trial without a result (failed, pre-empted) is submitted again, and only it
# (with the refit, since the best configuration may change).
rm -f "$D/run/tasks/trial-4.jsonl"
grep -v '"trial": 4,' "$D/run/trials.jsonl" >"$D/t" && mv "$D/t" "$D/run/trials.jsonl"
"$WB" search "${S[@]}" --slurm --partition wbtest -o "$D/run" >"$D/out" 2>"$D/err"
grep -q 'submitted 1 trial and the refit to Slurm' "$D/out" && [ "$(cat "$D/run/slurm/submit-1.trials")" = 4 ] && ok ||
    bad "resubmission: $(cat "$D/out" "$D/err")"
wait_jobs 120 && ok || bad "the resubmitted job did not finish"
"$WB" search --collect "$D/run" --json -q >"$D/collect2.json" 2>"$D/err" &&
    [ "$(strip "$D/collect2.json")" = "$(strip "$D/local.json")" ] && ok || bad "table after resubmission: $(cat "$D/err")"

finish slurm.sh
