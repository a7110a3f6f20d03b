#!/usr/bin/env bash
# resume.sh — `train --resume`: what it says and what it refuses.
#   - no checkpoint yet: starts at epoch 1 with one note, and the model is
#     the one a run without --resume makes; --resume=require fails (exit 1);
#   - a checkpoint: "resuming at epoch N of M", and the same model file as
#     an uninterrupted run;
#   - a checkpoint of another model: exit 1 naming every differing option
#     with both values;
#   - options that change the results (lr, batch size, seed, threads, the training
#     examples) differ: a warning naming them, the run goes on;
#   - temporaries MODEL.tmpXXXXXX / MODEL.ckpt.tmpXXXXXX of a dead writer
#     are removed at the next start, a live writer's (flock held) are kept;
#   - --resume=other is a usage error (exit 2).
# Exit 0 pass, 1 fail, 77 skip.
set -u
. "$(dirname "$0")/lib.bash"
need_wb resume.sh
if [ -z "${WB_FIXTURES:-}" ]; then
    echo "resume.sh: set WB_FIXTURES (ctest does); skipping" >&2
    exit 77
fi
TX=$WB_FIXTURES/text
T=$(mktemp -d "${TMPDIR:-/tmp}/wb-resume.XXXXXX") || exit 1
BG=
trap '[ -n "$BG" ] && kill "$BG" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT


"$WB" convert -q "$WB_FIXTURES/vectors/demo.glove.txt" "$T/demo" || { bad "convert demo"; finish resume.sh; }
K=(--data "$TX/demo_sentiment.tsv" --test-size 0.2 --maxlen 20 -q --store "$T/demo" --model kim --embeddings finetune --no-restore-best --seed 7)

# no checkpoint yet
"$WB" train "${K[@]}" --epochs 4 -o "$T/plain.wbm" >/dev/null 2>&1
run "$WB" train "${K[@]}" --epochs 4 -o "$T/a.wbm" --resume
expect_rc 0 "--resume without a checkpoint"
has "no checkpoint $T/a.wbm.ckpt yet: starting at epoch 1" "fresh start note"
[ "$(wc -l <"$T/err")" -eq 1 ] && ok || bad "fresh start: more than one line on stderr: $(cat "$T/err")"
cmp -s "$T/plain.wbm" "$T/a.wbm" && ok || bad "--resume without a checkpoint differs from a run without --resume"
run "$WB" train "${K[@]}" --epochs 4 -o "$T/req.wbm" --resume=require
expect_rc 1 "--resume=require without a checkpoint"
has "req.wbm.ckpt: no checkpoint to resume from" "--resume=require message"
[ ! -e "$T/req.wbm" ] && ok || bad "--resume=require without a checkpoint wrote a model"

# a checkpoint: resuming at epoch N, same model as the uninterrupted run
"$WB" train "${K[@]}" --epochs 8 -o "$T/full.wbm" >/dev/null 2>&1
"$WB" train "${K[@]}" --epochs 3 -o "$T/r.wbm" >/dev/null 2>&1
run "$WB" train "${K[@]}" --epochs 8 -o "$T/r.wbm" --resume=require
expect_rc 0 "--resume=require with a checkpoint"
has "resuming at epoch 4 of 8 (checkpoint $T/r.wbm.ckpt)" "resuming note"
cp "$T/r.wbm.ckpt" "$T/r2.ckpt"
run "$WB" train "${K[@]}" --epochs 9 -o "$T/r2.wbm" --checkpoint "$T/r2.ckpt" --resume --json
expect_rc 0 "resume --json"
grep -q '"epochs": 9, "resumed_from": 8,' "$T/out" && ok || bad "resume --json: $(cat "$T/out")"
grep -q warning "$T/err" && bad "resume with the same options warned: $(cat "$T/err")" || ok
cmp -s "$T/full.wbm" "$T/r.wbm" && ok || bad "resumed run differs from the uninterrupted one"
run "$WB" train "${K[@]}" --epochs 8 -o "$T/r.wbm" --resume
expect_rc 0 "resume a finished run"
has "has done 8 epochs of 8: nothing left to train" "finished checkpoint note"

# a checkpoint of another model
cp "$T/r.wbm.ckpt" "$T/keep.ckpt"
run "$WB" train "${K[@]}" --model tutorial --dropout 0.2 --epochs 9 -o "$T/r.wbm" --resume
expect_rc 1 "resume another model"
has "a checkpoint of another model: model tutorial (checkpoint: kim)" "another model: kind"
has "dropout 0.2 (checkpoint: 0.5)" "another model: dropout"
run "$WB" train "${K[@]}" --widths 3,4 --epochs 9 -o "$T/r.wbm" --resume
expect_rc 1 "resume other widths"
has "widths 3,4 (checkpoint: 3,4,5)" "another model: widths"
cmp -s "$T/r.wbm.ckpt" "$T/keep.ckpt" && ok || bad "a refused resume changed the checkpoint"

# options that change the results
run "$WB" train "${K[@]}" --epochs 9 --lr 0.01 --batch-size 16 -o "$T/r.wbm" --resume
expect_rc 0 "resume with another lr and batch size"
has "warning: options that change the results differ from the checkpoint $T/r.wbm.ckpt: lr 0.01 (checkpoint: 0.001), batch-size 16 (checkpoint: 32)" "lr/batch warning"
has "resuming at epoch 9 of 9" "resume after the warning"
run "$WB" train "${K[@]}" --epochs 9 --lr 0.01 --batch-size 16 --threads 1 -o "$T/r.wbm" --resume
expect_rc 0 "resume with another --threads"
has "threads 1 (checkpoint: 2)" "threads warning (other lanes sum in another order)"
tac "$TX/demo_sentiment.tsv" | grep -v '	label$' >"$T/rev.tsv"
V=(--maxlen 20 -q --store "$T/demo" --model kim --valid "$TX/demo_sentiment_test.tsv")
"$WB" train --data "$TX/demo_sentiment.tsv" "${V[@]}" --epochs 1 -o "$T/d.wbm" >/dev/null 2>&1
run "$WB" train --data "$T/rev.tsv" "${V[@]}" --epochs 2 --seed 5 -o "$T/d.wbm" --resume
expect_rc 0 "resume on other training examples"
has "seed 5 (checkpoint: 1), the training examples (another file, split or preprocessing)" "data/seed warning"

# stale temporaries: a dead writer's are removed, a live one's (flock held) kept
: >"$T/s.wbm.ckpt.tmpAbC123"
: >"$T/s.wbm.tmpXyZ789"
: >"$T/s.wbm.tmpLive00"
(exec 9>>"$T/s.wbm.tmpLive00" && flock 9 && exec sleep 30) >/dev/null 2>&1 </dev/null &
BG=$! # the sleep itself (exec), holding the lock on fd 9
for _ in $(seq 1 50); do flock -n "$T/s.wbm.tmpLive00" true 2>/dev/null || break; sleep 0.1; done
run "$WB" train "${K[@]}" --epochs 2 -o "$T/s.wbm" --resume
expect_rc 0 "train over stale temporaries"
[ ! -e "$T/s.wbm.ckpt.tmpAbC123" ] && [ ! -e "$T/s.wbm.tmpXyZ789" ] && ok || bad "stale temporaries left: $(ls "$T")"
[ -e "$T/s.wbm.tmpLive00" ] && ok || bad "the temporary of a live writer was removed"
has "removed 1 temporary file of an interrupted run (s.wbm.tmpXyZ789)" "stale model temporary note"
has "removed 1 temporary file of an interrupted run (s.wbm.ckpt.tmpAbC123)" "stale checkpoint temporary note"
kill "$BG" 2>/dev/null
wait "$BG" 2>/dev/null
BG=

# usage
run "$WB" train "${K[@]}" --epochs 2 -o "$T/u.wbm" --resume=yes
expect_rc 2 "--resume=yes"
run "$WB" train --help
grep -q -- '--resume\[=require\]' "$T/out" && ok || bad "--help: $(grep resume "$T/out")"

finish resume.sh
