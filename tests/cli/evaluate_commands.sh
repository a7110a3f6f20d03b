#!/usr/bin/env bash
# evaluate_commands.sh — end-to-end tests of `wordbench evaluate` and
# `wordbench export-embeddings`: results on stdout (text and --json),
# nothing on stderr with --quiet, usage errors (exit 2), data errors naming
# file:line (exit 1); equality with gensim 4.2 when it is installed (CI
# installs python3-gensim), on fixtures/wordeval in six configurations and,
# when ../shared/data is present, on the real WordSim-353, SimLex-999 and
# Google analogy files; a model's view beside its store (rows changed by
# fine-tuning counted, a frozen model's view equal to the store); a model's
# embedding exported as a store that opens, verifies, holds the model's
# vocabulary with the store's rows for a frozen model, and is refused over
# an existing store without --force.  Exit 0 pass, 1 fail, 77 skip.
set -u
. "$(dirname "$0")/lib.bash"
need_wb evaluate_commands.sh
if [ -z "${WB_FIXTURES:-}" ] || [ -z "${WB_TOOLS:-}" ]; then
    echo "evaluate_commands.sh: set WB_FIXTURES and WB_TOOLS (ctest does); skipping" >&2
    exit 77
fi
FX=$WB_FIXTURES/wordeval
T=$(mktemp -d "${TMPDIR:-/tmp}/wb-evaluate.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
PY=/usr/bin/python3

run() { "$@" >"$T/out" 2>"$T/err" </dev/null; rc=$?; }
expect_rc() { [ "$rc" -eq "$1" ] && ok || bad "$2: exit $rc, expected $1 (stderr: $(head -c 400 "$T/err"))"; }
quiet_ok() { [ ! -s "$T/err" ] && ok || bad "$1: stderr not empty: $(head -c 300 "$T/err")"; }
# jq-like: py EXPR on the JSON in $T/out (j = the document)
jget() { $PY -c "import json,sys; j=json.load(open(sys.argv[1])); print($1)" "$T/out" 2>/dev/null; }

"$WB" convert -q "$FX/vectors.txt" "$T/fx" || { bad "convert the fixture"; finish evaluate_commands.sh; }

# ---- output and exit codes ---------------------------------------------------
run "$WB" evaluate "$T/fx" -a "$FX/questions.txt" -p "$FX/pairs.tsv"
expect_rc 0 "evaluate text"
grep -q '^  Total accuracy  *80.5% (70/87)' "$T/out" && grep -q '^  capital-country ' "$T/out" &&
    grep -q 'pearson' "$T/out" && grep -q '^  store  *0.7397' "$T/out" && ok || bad "text output: $(cat "$T/out")"
run "$WB" evaluate "$T/fx" -a "$FX/questions.txt" -p "$FX/pairs.tsv" --json --quiet
expect_rc 0 "evaluate --json"
quiet_ok "evaluate --json --quiet"
[ "$(jget 'j["results"][0]["analogies"][0]["total"]["correct"]')" = 70 ] &&
    [ "$(jget 'j["results"][0]["analogies"][0]["questions"]')" = 89 ] &&
    [ "$(jget 'j["results"][0]["pairs"][0]["pairs"]')" = 75 ] &&
    [ "$(jget 'j["kind"]')" = store ] && [ "$(jget 'len(j["results"])')" = 1 ] && ok || bad "json: $(head -c 600 "$T/out")"
run "$WB" evaluate "$T/fx" -p "$FX/pairs.tsv" -p "$FX/pairs.tsv" --json -j 2
[ "$(jget 'len(j["results"][0]["pairs"])')" = 2 ] && [ "$(jget 'len(j["results"][0]["analogies"])')" = 0 ] && ok ||
    bad "two pairs files: $(head -c 300 "$T/out")"
run "$WB" evaluate "$T/fx" -a "$FX/questions.txt" -r 5 --json
[ "$(jget 'j["results"][0]["analogies"][0]["oov"]')" = 89 ] && ok || bad "--restrict-vocab 5: all out of vocabulary"

run "$WB" evaluate "$T/fx"
expect_rc 2 "nothing to evaluate"
grep -q 'analogies' "$T/err" && [ ! -s "$T/out" ] && ok || bad "usage message: $(cat "$T/err")"
run "$WB" evaluate "$T/fx" -a "$FX/questions.txt" --method cos
expect_rc 2 "--method cos"
run "$WB" evaluate "$T/fx" -a "$FX/questions.txt" --restrict-vocab x
expect_rc 2 "--restrict-vocab x"
run "$WB" evaluate "$T/fx" -a "$FX/questions.txt" --store "$T/fx"
expect_rc 2 "--store with a store"
run "$WB" evaluate -a "$FX/questions.txt"
expect_rc 2 "no STORE"
run "$WB" evaluate "$T/nosuch" -a "$FX/questions.txt"
expect_rc 1 "missing store"
printf 'athens greece rome italy\n: s\n' >"$T/q_bad.txt"
run "$WB" evaluate "$T/fx" -a "$T/q_bad.txt"
expect_rc 1 "question before a section"
grep -q "q_bad.txt:1: " "$T/err" && [ ! -s "$T/out" ] && ok || bad "file:line in the error: $(cat "$T/err")"
printf '# c\ncat\tdog\t\xff\n' >"$T/p_bad.tsv"
run "$WB" evaluate "$T/fx" -p "$T/p_bad.tsv"
expect_rc 1 "pairs not UTF-8"
grep -q "p_bad.tsv:2: .*UTF-8" "$T/err" && ok || bad "pairs error: $(cat "$T/err")"
run "$WB" evaluate "$T/fx" -a "$T/nosuch.txt"
expect_rc 1 "missing questions file"

# ---- equality with gensim ------------------------------------------------------
if $PY -c "import gensim" 2>/dev/null; then
    while read -r name restrict cs dummy method; do
        extra=()
        [ "$cs" = 1 ] && extra+=(--case-sensitive)
        [ "$dummy" = 1 ] && extra+=(--dummy4unknown)
        "$WB" evaluate "$T/fx" -a "$FX/questions.txt" -p "$FX/pairs.tsv" -r "$restrict" --method "$method" "${extra[@]}" \
            --json -q >"$T/wb.json" 2>"$T/err" || bad "evaluate $name"
        if $PY "$WB_TOOLS/gensim_wordeval.py" "$FX/vectors.txt" --analogies "$FX/questions.txt" --pairs "$FX/pairs.tsv" \
            --restrict-vocab "$restrict" --method "$method" "${extra[@]}" --compare "$T/wb.json" >"$T/cmp" 2>"$T/err"; then
            ok
        else
            bad "gensim vs wordbench ($name): $(cat "$T/cmp") $(tail -3 "$T/err")"
        fi
    done < <(grep '^config ' "$FX/expected.txt" | cut -d' ' -f2-)
    WS=${WB_SHARED_DATA:-}/wordsim
    if [ -n "${WB_SHARED_DATA:-}" ] && [ -r "$WS/questions-words.txt" ]; then
        # The real benchmark files on vectors for their own words (random, seeded; lower-cased as GloVe
        # spells them, so the Google set's capitalised names go through the upper-casing) plus fillers:
        # all 19544 questions and both pair files are seen.
        $PY - "$WS" "$T/ws.txt" <<'PYEOF' || bad "make vectors for the wordsim words"
import sys, numpy as np
ws, out = sys.argv[1], sys.argv[2]
words = []
for name, split in (("questions-words.txt", None), ("wordsim353.tsv", "\t"), ("simlex999.txt", "\t")):
    for line in open(ws + "/" + name, encoding="utf-8"):
        if line.startswith(":") or line.startswith("#"):
            continue
        f = line.split(split)
        words += [w.strip().lower() for w in (f[:4] if split is None else f[:2]) if w.strip()]
words = list(dict.fromkeys(words)) + ["filler%d" % i for i in range(1000)]
rng = np.random.default_rng(1)
with open(out, "w", encoding="utf-8") as f:
    for w in rng.permutation(words):
        f.write(w + " " + " ".join("%.5g" % x for x in rng.normal(0, 1, 20)) + "\n")
PYEOF
        "$WB" convert -q "$T/ws.txt" "$T/ws" >/dev/null 2>&1 || bad "convert the wordsim vectors"
        "$WB" evaluate "$T/ws" -a "$WS/questions-words.txt" -p "$WS/wordsim353.tsv" -p "$WS/simlex999.txt" --json -q \
            >"$T/wb.json" 2>"$T/err" || bad "evaluate the shared wordsim files"
        $PY "$WB_TOOLS/gensim_wordeval.py" "$T/ws.txt" --analogies "$WS/questions-words.txt" \
            --pairs "$WS/wordsim353.tsv" --pairs "$WS/simlex999.txt" --compare "$T/wb.json" >"$T/cmp" 2>"$T/err" && ok ||
            bad "gensim vs wordbench on the shared wordsim files: $(cat "$T/cmp") $(tail -2 "$T/err")"
        # where gensim raises (no pair in the vocabulary), wordbench reports no correlation
        "$WB" evaluate "$T/fx" -p "$WS/wordsim353.tsv" --json -q >"$T/wb.json" 2>/dev/null || bad "evaluate ws353 on the fixture"
        $PY "$WB_TOOLS/gensim_wordeval.py" "$FX/vectors.txt" --pairs "$WS/wordsim353.tsv" --compare "$T/wb.json" \
            >"$T/cmp" 2>"$T/err" && ok || bad "all pairs out of vocabulary: $(cat "$T/cmp")"
    else
        echo "evaluate_commands.sh: ../shared/data/wordsim absent: real benchmark files not compared" >&2
    fi
else
    echo "evaluate_commands.sh: gensim not installed for $PY: equality with gensim not checked (CI installs it)" >&2
fi

# ---- models: the view beside the store, and export --------------------------------
VEC=$WB_FIXTURES/vectors
TX=$WB_FIXTURES/text
"$WB" convert -q "$VEC/demo.glove.txt" "$T/demo" || bad "convert demo"
printf ': royal\nking queen man woman\nprince princess boy girl\nfather mother son daughter\n: plural\ndog dogs cat cats\n' >"$T/q.txt"
printf 'king\tqueen\t8\nman\twoman\t8.5\ndog\tcat\t7\ncity\tvillage\t7.5\ngood\tbad\t2\nhappy\tsad\t1.5\ncoffee\ttea\t7\napple\tbanana\t6\nking\tapple\t1\nhorse\tlion\t5\n' >"$T/p.tsv"
TR=(--data "$TX/demo_sentiment.tsv" --maxlen 20 -q --store "$T/demo" --model kim --epochs 3 --seed 5)
"$WB" train "${TR[@]}" --embeddings finetune -o "$T/ft.wbm" >/dev/null 2>&1 || bad "train finetune"
"$WB" train "${TR[@]}" --embeddings frozen -o "$T/fr.wbm" >/dev/null 2>&1 || bad "train frozen"
run "$WB" evaluate "$T/ft.wbm" -a "$T/q.txt" -p "$T/p.tsv" --json -q
expect_rc 0 "evaluate a fine-tuned model"
quiet_ok "evaluate model --quiet"
[ "$(jget 'j["kind"]')" = model ] && [ "$(jget '[r["view"] for r in j["results"]]')" = "['store', 'model']" ] &&
    [ "$(jget 'j["results"][1]["changed"] > 0 and j["results"][1]["in_store"] > 0')" = True ] && ok ||
    bad "model json: $(head -c 600 "$T/out")"
cp "$T/out" "$T/model.json"
run "$WB" evaluate "$T/demo" -a "$T/q.txt" -p "$T/p.tsv" --json -q
$PY -c "import json,sys; a=json.load(open(sys.argv[1]))['results'][0]; b=json.load(open(sys.argv[2]))['results'][0]
[x.pop('seconds') for x in (a, b)]; sys.exit(a != b)" "$T/model.json" "$T/out" && ok ||
    bad "the model's 'store' column differs from evaluating the store"
run "$WB" evaluate "$T/ft.wbm" -a "$T/q.txt" -p "$T/p.tsv"
expect_rc 0 "evaluate model text"
grep -q 'changed by training' "$T/out" && grep -qE '^  section +store +model' "$T/out" && ok ||
    bad "model text output: $(cat "$T/out")"
run "$WB" evaluate "$T/fr.wbm" -p "$T/p.tsv" --json
[ "$(jget 'j["results"][1]["changed"]')" = 0 ] &&
    [ "$(jget 'j["results"][0]["pairs"][0]["spearman"] == j["results"][1]["pairs"][0]["spearman"]')" = True ] && ok ||
    bad "frozen model: nothing changed, same numbers: $(head -c 400 "$T/out")"

run "$WB" export-embeddings "$T/ft.wbm" "$T/ft.store" --json
expect_rc 0 "export-embeddings"
rows=$(jget 'j["rows"]')
[ "$(jget 'j["rows"] == j["from_store"] + j["changed"] + j["own"] and j["changed"] > 0')" = True ] && ok ||
    bad "export counts: $(cat "$T/out")"
run "$WB" verify "$T/ft.store"
expect_rc 0 "verify the exported store"
run "$WB" info "$T/ft.store" --json
[ "$(jget 'j["rows"]')" = "$rows" ] && [ "$(jget 'j["source"]')" = ft.wbm ] && [ "$(jget 'j["source_format"]')" = model ] && ok ||
    bad "info of the export: $(cat "$T/out")"
run "$WB" export-embeddings "$T/ft.wbm" "$T/ft.store"
expect_rc 1 "export over an existing store"
grep -q 'force' "$T/err" && ok || bad "export exists message: $(cat "$T/err")"
run "$WB" export-embeddings "$T/ft.wbm" "$T/ft.store" --force --dtype f16
expect_rc 0 "export --force --dtype f16"
run "$WB" evaluate "$T/ft.store" -a "$T/q.txt" -p "$T/p.tsv" -q
expect_rc 0 "evaluate the exported store"
# a frozen model exports the store's own rows
"$WB" export-embeddings "$T/fr.wbm" "$T/fr.store" -q >/dev/null 2>&1 || bad "export frozen"
a=$("$WB" lookup "$T/fr.store" king queen 2>/dev/null | cut -f3-)
b=$("$WB" lookup "$T/demo" king queen 2>/dev/null | cut -f3-)
[ -n "$a" ] && [ "$a" = "$b" ] && ok || bad "frozen export: rows differ from the store's ($a vs $b)"
# learned embeddings: no store, the vocabulary view
"$WB" train --data "$TX/demo_sentiment.tsv" --maxlen 20 -q --model pool --embeddings learned --emb-dim 8 --epochs 2 \
    -o "$T/le.wbm" >/dev/null 2>&1 || bad "train learned"
run "$WB" evaluate "$T/le.wbm" -p "$T/p.tsv" --json -q
[ "$(jget '[r["view"] for r in j["results"]]')" = "['model']" ] && ok || bad "learned model view: $(head -c 300 "$T/out")"
run "$WB" export-embeddings "$T/le.wbm" "$T/le.store" -q
expect_rc 0 "export learned"
run "$WB" export-embeddings "$T/le.wbm"
expect_rc 2 "export-embeddings without OUT_STORE"
run "$WB" export-embeddings "$T/nosuch.wbm" "$T/x.store"
expect_rc 1 "export a missing model"
[ ! -e "$T/x.store" ] && ok || bad "a failed export left $T/x.store"

finish evaluate_commands.sh
