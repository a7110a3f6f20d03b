#!/usr/bin/env bash
# first_hour.sh — the rough edges a new user met (issue 17), each as seen
# from the command line:
#   - CR LF and lone CR inside fields read as LF (Python's text mode): the
#     tokens of an e-mail with CRLF lines have no '\r';
#   - predict --threshold lists labels best first;
# Exit 0 pass, 1 fail, 77 skip.
set -u
. "$(dirname "$0")/lib.bash"
need_wb first_hour.sh
if [ -z "${WB_FIXTURES:-}" ]; then
    echo "first_hour.sh: set WB_FIXTURES (ctest does); skipping" >&2
    exit 77
fi
TX=$WB_FIXTURES/text
T=$(mktemp -d "${TMPDIR:-/tmp}/wb-first.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT

run() { "$@" >"$T/out" 2>"$T/err" </dev/null; rc=$?; }
expect_rc() { [ "$rc" -eq "$1" ] && ok || bad "$2: exit $rc, expected $1 (stderr: $(head -c 600 "$T/err"))"; }
has() { grep -qF -- "$1" "$T/err" && ok || bad "$2: stderr lacks '$1': $(head -c 600 "$T/err")"; }

# ---- CR inside fields ----------------------------------------------------------------
printf 'text,label\r\n"From: a@example.com\r\nSubject: hi\r\n\r\nbody\rend",spam\r\nplain,ham\r\n' >"$T/cr.csv"
run "$WB" data show "$T/cr.csv"
expect_rc 0 "data show CRLF inside a quoted field"
grep -q $'\r' "$T/out" && bad "a token keeps a CR: $(cat -A "$T/out")" || ok
grep -qx $'spam\tfrom a example com subject hi body end' "$T/out" && ok || bad "CRLF tokens: $(cat -A "$T/out")"

# ---- a multi-label model of the topics fixture ----------------------------------------------
"$WB" convert -q "$WB_FIXTURES/vectors/demo.glove.txt" "$T/demo" || bad "convert demo"
run "$WB" train --data "$TX/demo_topics.txt" --test-size 0.25 --seed 3 --store "$T/demo" --model kim \
    --embeddings finetune --epochs 15 -o "$T/top.wbm" -q
expect_rc 0 "train topics"

# ---- predict --threshold: best first ------------------------------------------------------
printf 'queen king castle son\nwoman kitchen house\n' >"$T/q.txt"
run "$WB" predict "$T/top.wbm" "$T/q.txt" --threshold 0.001
expect_rc 0 "predict --threshold"
awk -F'\t' '{ if (NF < 4) exit 1; for (i = 4; i <= NF; i += 2) if ($i > $(i - 2)) exit 1 }' "$T/out" && ok ||
    bad "predict --threshold is not sorted by probability: $(cat "$T/out")"
run "$WB" predict "$T/top.wbm" "$T/q.txt" --threshold 0.001 --json
/usr/bin/python3 -c '
import json, sys
for line in open(sys.argv[1]):
    p = [l["prob"] for l in json.loads(line)["labels"]]
    assert len(p) >= 2 and p == sorted(p, reverse=True), p
' "$T/out" && ok || bad "predict --threshold --json is not sorted: $(cat "$T/out")"

finish first_hour.sh
