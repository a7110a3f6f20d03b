#!/usr/bin/env bash
# explain_report.sh — end-to-end tests of `wordbench explain` and `wordbench
# report` on models trained from the fixtures: the n-grams listed and marked
# ([+ +] / [- -] off a terminal, ANSI colours with --color always, none with
# NO_COLOR), --json lines with the fields docs/cli.md names, --per-sentence
# with --target, --label; the report page written atomically (-o required,
# nothing left behind on failure, '-' = stdout), well-formed (xmllint when
# installed); exit codes and stdout vs stderr.  Exit 0 pass, 1 fail, 77 skip.
set -u
. "$(dirname "$0")/lib.bash"
need_wb explain_report.sh
if [ -z "${WB_FIXTURES:-}" ]; then
    echo "explain_report.sh: set WB_FIXTURES (ctest does); skipping" >&2
    exit 77
fi
TX=$WB_FIXTURES/text
T=$(mktemp -d "${TMPDIR:-/tmp}/wb-explain.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
PY=/usr/bin/python3

run() { "$@" >"$T/out" 2>"$T/err" </dev/null; rc=$?; }
runin() { local in=$1; shift; "$@" <"$in" >"$T/out" 2>"$T/err"; rc=$?; }
expect_rc() { [ "$rc" -eq "$1" ] && ok || bad "$2: exit $rc, expected $1 (stderr: $(head -c 400 "$T/err"))"; }

"$WB" train -q --data "$TX/demo_sentiment.tsv" --maxlen 20 --model kim --embeddings learned --emb-dim 16 \
    --epochs 10 -o "$T/s.wbm" >/dev/null 2>&1 || { bad "train sentiment"; finish explain_report.sh; }
"$WB" train -q --data "$TX/demo_topics.txt" --maxlen 20 --model kim --embeddings learned --emb-dim 16 \
    --epochs 10 -o "$T/t.wbm" >/dev/null 2>&1 || { bad "train topics"; finish explain_report.sh; }
printf 'Puppy of a quuxly good, happy village!\nThe king is sad and terrible.\n' >"$T/in.txt"

# ---- explain ----------------------------------------------------------------------
runin "$T/in.txt" "$WB" explain "$T/s.wbm"
expect_rc 0 "explain"
[ "$(grep -c '^line ' "$T/out")" = 2 ] && [ ! -s "$T/err" ] && ok || bad "explain: two texts, nothing on stderr: $(cat "$T/out" "$T/err")"
grep -qE '^ +[+-][0-9]+\.[0-9]{4}  [a-z]' "$T/out" && grep -q '^  text: .*\[+.*+\]' "$T/out" && ! grep -q $'\033' "$T/out" && ok ||
    bad "explain: listed n-grams and [+ +] markers without colour off a terminal: $(cat "$T/out")"
runin "$T/in.txt" "$WB" explain --color always "$T/s.wbm"
grep -q $'\033\[30;48;5;' "$T/out" && ! grep -q '\[+' "$T/out" && ok || bad "explain --color always: $(cat -v "$T/out" | head -5)"
runin "$T/in.txt" env NO_COLOR=1 "$WB" explain --color auto "$T/s.wbm"
! grep -q $'\033' "$T/out" && ok || bad "explain NO_COLOR"
runin "$T/in.txt" "$WB" explain --json --top 3 "$T/s.wbm"
expect_rc 0 "explain --json"
$PY - "$T/out" <<'EOF' && ok || bad "explain --json fields: $(head -c 600 "$T/out")"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert [l["line"] for l in lines] == [1, 2]
for l in lines:
    x = l["explained"]
    assert x["label"] == l["labels"][0]["label"] and x["predicted"] is True
    assert 1 <= len(x["spans"]) <= 3 and len(x["against"]) <= 3
    assert all(s["score"] > 0 for s in x["spans"]) and all(s["score"] < 0 for s in x["against"])
    assert [s["score"] for s in x["spans"]] == sorted((s["score"] for s in x["spans"]), reverse=True)
    toks = x["tokens"]
    assert x["total_tokens"] == len(toks) and x["skipped"] == 0
    assert abs(sum(t[1] for t in toks) - x["sum"]) < 1e-4 * (1 + abs(x["sum"]))
    for s in x["spans"]:
        assert s["text"] == " ".join(t[0] for t in toks[s["start"]:s["start"] + s["len"]])
assert lines[0]["explained"]["tokens"][0][0] == "puppy"
EOF
# --label: explain the other label; the scores flip
runin "$T/in.txt" "$WB" explain --json --label 0 "$T/s.wbm"
a=$($PY -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["explained"]["label"])' "$T/out")
[ "$a" = 0 ] && ok || bad "explain --label 0: $(head -c 300 "$T/out")"
# multi-label, per sentence
printf 'Son woman kitchen. Princess house village sleep queen queen! Castle prince king.\n' >"$T/doc.txt"
runin "$T/doc.txt" "$WB" explain --per-sentence --target royalty "$T/t.wbm"
expect_rc 0 "explain --per-sentence"
[ "$(grep -c '^[> ] [0-9]' "$T/out")" = 3 ] && grep -q 'target royalty: [0-9] of 3 sentences' "$T/out" && grep -q '^> ' "$T/out" && ok ||
    bad "explain --per-sentence: $(cat "$T/out")"
runin "$T/doc.txt" "$WB" explain --per-sentence --json "$T/t.wbm"
$PY - "$T/out" "$T/doc.txt" <<'EOF' && ok || bad "explain --per-sentence --json: $(head -c 600 "$T/out")"
import json, sys
d = json.loads(open(sys.argv[1]).read())
text = open(sys.argv[2]).read().rstrip("\n")
assert d["target"] == d["explained"]["label"] and len(d["sentences"]) == 3
assert d["target_sentences"] == sum(s["target"] for s in d["sentences"])
for s in d["sentences"]:
    assert text[s["start"]:s["end"]] == s["text"] and s["explained"]["label"] == d["target"]
EOF
# --document: the whole input is one text, its sentences over several lines
printf 'Son woman kitchen.\n\nPrincess house village sleep queen\nqueen! Castle prince king.\n' >"$T/doc2.txt"
runin "$T/doc2.txt" "$WB" explain --document --per-sentence --json "$T/t.wbm"
$PY - "$T/out" "$T/doc2.txt" <<'EOF' && ok || bad "explain --document: $(head -c 600 "$T/out")"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1
d = json.loads(lines[0])
text = open(sys.argv[2]).read()
assert [s["text"] for s in d["sentences"]] == ["Son woman kitchen.", "Princess house village sleep queen\nqueen!", "Castle prince king."]
for s in d["sentences"]:
    assert text[s["start"]:s["end"]] == s["text"]
EOF
# errors: usage 2, data 1, stdout empty
runin "$T/in.txt" "$WB" explain --label nosuch "$T/s.wbm"
expect_rc 2 "explain --label nosuch"
[ ! -s "$T/out" ] && grep -q 'no such label' "$T/err" && ok || bad "explain --label nosuch: message $(cat "$T/err")"
runin "$T/in.txt" "$WB" explain --target 1 "$T/s.wbm"
expect_rc 2 "explain --target without --per-sentence"
runin "$T/in.txt" "$WB" explain --color sometimes "$T/s.wbm"
expect_rc 2 "explain --color sometimes"
run "$WB" explain "$T/nosuch.wbm"
expect_rc 1 "explain: missing model"
run "$WB" explain "$T/s.wbm" "$T/nosuch.txt"
expect_rc 1 "explain: missing input"
[ ! -s "$T/out" ] && ok || bad "explain errors print nothing on stdout"

# ---- report -------------------------------------------------------------------------
run "$WB" report "$T/s.wbm"
expect_rc 2 "report without -o"
run "$WB" report "$T/s.wbm" "$T/t.wbm" --data "$TX/demo_sentiment_test.tsv" -o "$T/r.html" --unknown-label error
expect_rc 1 "report --unknown-label error: data of another model's labels"
[ ! -e "$T/r.html" ] && [ -z "$(ls "$T" | grep tmp)" ] && ok || bad "report failure left files: $(ls "$T")"
# as eval: by default a label the model does not know is a true label never predicted (a warning says so)
run "$WB" report "$T/s.wbm" "$T/t.wbm" --data "$TX/demo_sentiment_test.tsv" -o "$T/r.html"
expect_rc 0 "report: another model's labels kept"
grep -q "t.wbm: 100 labels of .* the model does not know kept as true labels never predicted" "$T/err" &&
    grep -q 'unknown true labels</td><td>100<' "$T/r.html" && ok || bad "report keep: $(cat "$T/err")"
rm -f "$T/r.html"
run "$WB" report "$T/s.wbm" --data "$TX/demo_sentiment_test.tsv" -o "$T/r.html" --title "sentiment & co" --errors 3
expect_rc 0 "report"
[ -s "$T/r.html" ] && [ ! -s "$T/out" ] && grep -q 'report written' "$T/err" && ok || bad "report: file, stdout empty"
[ "$(grep -c 'class="err"' "$T/r.html")" = 3 ] && grep -q '<title>sentiment &amp; co</title>' "$T/r.html" && ok ||
    bad "report: three errors and the title"
[ "$(stat -c %a "$T/r.html")" != 600 ] && ok || bad "report: the page is not private"
if command -v xmllint >/dev/null; then
    xmllint --noout "$T/r.html" && ok || bad "report: not well-formed"
else
    echo "explain_report.sh: xmllint missing (libxml2-utils): well-formedness not checked" >&2
fi
run "$WB" report "$T/s.wbm" "$T/s.wbm" --data "$TX/demo_sentiment_test.tsv" -o - -q
expect_rc 0 "report -o -"
grep -q 'id="compare"' "$T/out" && [ ! -s "$T/err" ] && ok || bad "report -o -: the page on stdout, nothing on stderr"
run "$WB" report "$T/t.wbm" -o "$T/cfg.html" -q
expect_rc 0 "report without data"
grep -q 'No labelled data given' "$T/cfg.html" && ok || bad "report without data: the note"
run "$WB" report "$T/s.wbm" --top-classes 1 -o "$T/x.html"
expect_rc 2 "report --top-classes 1"
finish explain_report.sh
