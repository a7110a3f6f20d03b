#!/usr/bin/env bash
# search_multi.sh — `wordbench search` over data of several text columns
# and numeric features (issue 11): a CSV made here (subject, body, two
# numeric columns; models.sh's), a 2-fold grid over feature-dense (table,
# refit, a model file that summary / eval / predict take, the same model as
# `train` with the same options), per-column lengths (--param maxlen.NAME:
# the refit model's input shape), a log cut short then the same command
# again (the same table), nested CV, trials one by one then --collect (what
# Slurm runs: the same table), and the usage errors (exit 2, no run
# directory left) and a missing column (exit 1, file:line); with the fixtures'
# demo store, frozen rows for both inputs (the refit = train's model) and
# compare's store coverage over both vocabularies.
# Exit 0 pass, 1 fail, 77 skip.
set -u
. "$(dirname "$0")/lib.bash"
need_wb search_multi.sh
T=$(mktemp -d "${TMPDIR:-/tmp}/wb-searchm.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
PY=/usr/bin/python3

jget() { $PY -c 'import json, sys
d = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("/"):
    d = d[int(k)] if isinstance(d, list) else d[k]
print(d)' "$T/out" "$1"; }

# the CSV of models.sh (lib.bash: the links feature carries the label), its first 40 records as the test file
fields_csv "$T/fields.csv"
head -n 1 "$T/fields.csv" >"$T/test.csv" && sed -n '2,41p' "$T/fields.csv" >>"$T/test.csv"
B=(--data "$T/fields.csv" --test "$T/test.csv" --format csv --model pool --hidden 8 --epochs 25 --lr 0.02)
D=("${B[@]}" --emb-dim 8)
IN=(--text-col subject --text-col body --maxlen subject=3,body=8 --feature-col links --feature-col caps)
M=("${D[@]}" "${IN[@]}")

# ---- a grid over feature-dense, 2-fold CV ------------------------------------------------
run "$WB" search "${M[@]}" --param feature-dense=0,4 --cv 2 -j 2 -o "$T/g" --json
expect_rc 0 "search over feature-dense"
cp "$T/out" "$T/g.json"
$PY - "$T/out" <<'EOF' && ok || bad "feature-dense table: $(head -c 600 "$T/out")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["configurations"] == 2 and d["trials"] == 5 and d["done"] == 5, d
t = d["table"]
assert sorted(r["params"]["feature-dense"] for r in t) == ["0", "4"], t
assert all(r["folds"] == 2 and r["mean"]["acc"] >= 0.9 for r in t), t
assert d["refit"]["n_train"] == 120 and d["refit"]["n_test"] == 40 and d["refit"]["test"]["acc"] >= 0.95, d["refit"]
EOF
grep -q '"n_train": 60, "n_test": 60' "$T/g/trials.jsonl" && ok || bad "2-fold trials: $(head -c 300 "$T/g/trials.jsonl")"
best_fd=$(jget refit/params/feature-dense)
refit_acc=$(jget refit/test/acc)
# the refit model reads both columns and the features
run "$WB" summary "$T/g/best.wbm"
grep -qE '^ subject \(InputLayer\) +\(None, 3\) ' "$T/out" && grep -qE '^ body \(InputLayer\) +\(None, 8\) ' "$T/out" &&
    grep -qE '^ features \(InputLayer\) +\(None, 2\) ' "$T/out" && ok || bad "summary of best.wbm: $(cat "$T/out")"
run "$WB" eval "$T/g/best.wbm" "$T/test.csv" --json
[ "$rc" -eq 0 ] && [ "$(jget acc)" = "$refit_acc" ] && ok || bad "eval best.wbm: $(cat "$T/out" "$T/err")"
cp "$T/out" "$T/best-eval.json"
run "$WB" predict "$T/g/best.wbm" "$T/test.csv"
[ "$rc" -eq 0 ] && [ "$(wc -l <"$T/out")" -eq 40 ] && [ "$(cut -f1 "$T/out" | sort | uniq -c | awk '{print $1}' | tr '\n' ' ')" = "20 20 " ] &&
    ok || bad "predict with best.wbm: exit $rc $(head -c 300 "$T/out" "$T/err")"
# the refit is train's model: the same options (one lane, the last epoch) give the same evaluation, bit for bit
# (the features standardised on the same rows, every input's vocabulary and ids alike)
run "$WB" train "${M[@]}" --feature-dense "$best_fd" --threads 1 --no-restore-best -q -o "$T/train.wbm"
expect_rc 0 "train with the best configuration"
run "$WB" eval "$T/train.wbm" "$T/test.csv" --json
[ -s "$T/out" ] && cmp -s "$T/out" "$T/best-eval.json" && ok || bad "refit and train differ: $(cat "$T/out" "$T/best-eval.json")"
# the text table shows the parameter
run "$WB" search "${M[@]}" --param feature-dense=0,4 --cv 2 -o "$T/g"
[ "$rc" -eq 0 ] && grep -qE '^rank +feature-dense +acc' "$T/out" && grep -qE "^best: feature-dense=$best_fd: acc" "$T/out" && ok ||
    bad "text table: exit $rc $(cat "$T/out" "$T/err")"

# ---- the log cut short (a search killed after two trials), then the same command: the same table --------
head -n 2 "$T/g/trials.jsonl" >"$T/cut" && cp "$T/cut" "$T/g/trials.jsonl" && rm -f "$T/g/best.wbm"
run "$WB" search "${M[@]}" --param feature-dense=0,4 --cv 2 -j 2 -o "$T/g" --json
[ "$rc" -eq 0 ] && [ "$(search_table "$T/out")" = "$(search_table "$T/g.json")" ] && [ "$(wc -l <"$T/g/trials.jsonl")" -eq 5 ] &&
    [ -s "$T/g/best.wbm" ] && ok || bad "resumed search: exit $rc $(head -c 400 "$T/err")"

# ---- per-column lengths: --param maxlen.NAME -------------------------------------------------
run "$WB" search "${M[@]}" --param maxlen.body=2,6 --param maxlen.subject=1,3 --cv 2 -o "$T/ml" --json
expect_rc 0 "search over maxlen.body and maxlen.subject"
$PY - "$T/out" <<'EOF' && ok || bad "maxlen.NAME table: $(head -c 600 "$T/out")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["configurations"] == 4, d
got = sorted((r["params"]["maxlen.body"], r["params"]["maxlen.subject"]) for r in d["table"])
assert got == [("2", "1"), ("2", "3"), ("6", "1"), ("6", "3")], got
EOF
body=$(jget refit/params/maxlen.body) subj=$(jget refit/params/maxlen.subject)
run "$WB" summary "$T/ml/best.wbm"
grep -qE "^ subject \(InputLayer\) +\(None, $subj\) " "$T/out" && grep -qE "^ body \(InputLayer\) +\(None, $body\) " "$T/out" &&
    ok || bad "best.wbm of maxlen.body=$body maxlen.subject=$subj: $(grep InputLayer "$T/out")"

# ---- nested CV; trials one by one (Slurm's tasks), then --collect ------------------------------------
run "$WB" search "${M[@]}" --param feature-dense=0,4 --cv 2 --nested 2 -o "$T/n" --json -q
[ "$rc" -eq 0 ] && [ "$(jget trials)" = 13 ] && [ "$(jget done)" = 13 ] && $PY -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["nested"]["complete"] == 2 and d["nested"]["mean"] >= 0.9, d["nested"]' "$T/out" && ok ||
    bad "nested: exit $rc $(head -c 400 "$T/out" "$T/err")"
mkdir -p "$T/s" && cp "$T/g/plan.json" "$T/s/"
for i in 0 1 2 3 4; do
    "$WB" search --trial "$i" "$T/s" -q >/dev/null 2>"$T/err" || bad "--trial $i: $(cat "$T/err")"
done
run "$WB" search --collect "$T/s" --json -q
[ "$rc" -eq 0 ] && [ "$(search_table "$T/out")" = "$(search_table "$T/g.json")" ] && ok || bad "--collect: exit $rc $(head -c 400 "$T/err")"

# ---- a store: every input reads it (frozen rows); compare's coverage counts both inputs' words -------
if [ -n "${WB_FIXTURES:-}" ] && "$WB" convert -q "$WB_FIXTURES/vectors/demo.glove.txt" "$T/demo"; then
    run "$WB" search "${B[@]}" "${IN[@]}" --store "$T/demo" --param embeddings=learned,frozen --cv 2 --no-refit -o "$T/st" --json
    # 25 words: 7 of the subjects, 13 of the bodies and their 5 digits
    [ "$rc" -eq 0 ] && [ "$(jget compare/groups/0/coverage/words)" = 25 ] && [ "$(jget configurations)" = 2 ] && ok ||
        bad "embeddings over two inputs: exit $rc $(head -c 400 "$T/out" "$T/err")"
    run "$WB" search "${B[@]}" "${IN[@]}" --store "$T/demo" --embeddings frozen --cv 2 -o "$T/fr" -q
    expect_rc 0 "frozen search"
    run "$WB" eval "$T/fr/best.wbm" "$T/test.csv" --json
    expect_rc 0 "eval the frozen refit"
    cp "$T/out" "$T/fr-eval.json"
    run "$WB" train "${B[@]}" "${IN[@]}" --store "$T/demo" --embeddings frozen --threads 1 --no-restore-best -q -o "$T/fr.wbm"
    run "$WB" eval "$T/fr.wbm" "$T/test.csv" --json
    [ "$rc" -eq 0 ] && [ -s "$T/out" ] && cmp -s "$T/out" "$T/fr-eval.json" && ok || bad "frozen refit and train differ: $(cat "$T/out" "$T/fr-eval.json")"
fi

# ---- errors ----------------------------------------------------------------------------------------
for t in "2|is not a --text-col|--param maxlen.title=3,5" \
         "2|--param maxlen: --maxlen NAME=N|--param maxlen=4,8" \
         "2|--maxlen: 'title' is not a --text-col|--maxlen subject=3,title=8" \
         "2|--feature-dense must be a number|--param feature-dense=x" \
         "2|not a training option|--param maxlen-body=3"; do
    want=${t%%|*} rest=${t#*|}
    msg=${rest%%|*} a=${rest#*|}
    # shellcheck disable=SC2086  # $a is several words on purpose
    run "$WB" search "${M[@]}" $a -o "$T/e"
    [ "$rc" = "$want" ] && grep -qF -- "$msg" "$T/err" && [ ! -s "$T/out" ] && [ ! -e "$T/e" ] && ok ||
        bad "search $a: exit $rc (stderr: $(head -c 400 "$T/err"))"
done
# maxlen.NAME needs one input per column; feature-dense needs features (the configuration named)
run "$WB" search "${D[@]}" --text-col subject --text-col body --maxlen 8 --param maxlen.body=3 -q -o "$T/e"
[ "$rc" = 2 ] && grep -q 'maxlen.body: searches the length of one of several text inputs' "$T/err" && [ ! -e "$T/e" ] && ok ||
    bad "maxlen.NAME with --maxlen N: exit $rc $(cat "$T/err")"
run "$WB" search "${D[@]}" --text-col body --param feature-dense=0,4 -o "$T/e"
[ "$rc" = 2 ] && grep -q 'configuration 1 (feature-dense=4)' "$T/err" && [ ! -e "$T/e" ] && ok ||
    bad "feature-dense without --feature-col: exit $rc $(cat "$T/err")"
# a feature column the data lacks: exit 1 naming file:line
cut -d, -f1-4 "$T/fields.csv" >"$T/nocaps.csv"
run "$WB" search --data "$T/nocaps.csv" --format csv --text-col body --feature-col caps --epochs 1 -o "$T/e"
[ "$rc" = 1 ] && grep -q "nocaps.csv:1: .*caps" "$T/err" && [ ! -e "$T/e" ] && ok ||
    bad "missing feature column: exit $rc $(cat "$T/err")"

finish search_multi.sh
