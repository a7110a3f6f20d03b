#!/usr/bin/env bash
# report_search.sh — `wordbench report RUN_DIR`: a small grid search and a
# nested random search on the fixtures, then one page about both: the search
# sections (what was searched, the results table with one row per
# configuration and the best marked, the mean learning curves, the nested
# estimate, the fixed part), the refit model best.wbm evaluated on --data; a search over
# embeddings modes: the compare table, with compare --json's figures; eval and explain of a
# RUN_DIR use its best.wbm (none: exit 1 saying so);
# well-formed (xmllint when installed); a directory without plan.json is
# exit 1 naming it, nothing written.  Exit 0 pass, 1 fail, 77 skip.
set -u
. "$(dirname "$0")/lib.bash"
need_wb report_search.sh
if [ -z "${WB_FIXTURES:-}" ]; then
    echo "report_search.sh: set WB_FIXTURES (ctest does); skipping" >&2
    exit 77
fi
TX=$WB_FIXTURES/text
T=$(mktemp -d "${TMPDIR:-/tmp}/wb-rsearch.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT

run() { "$@" >"$T/out" 2>"$T/err" </dev/null; rc=$?; }
expect_rc() { [ "$rc" -eq "$1" ] && ok || bad "$2: exit $rc, expected $1 (stderr: $(head -c 400 "$T/err"))"; }

run "$WB" search --data "$TX/demo_sentiment.tsv" --test "$TX/demo_sentiment_test.tsv" --maxlen 20 --emb-dim 16 \
    --filters 8 --widths 3 --epochs 3 --param dropout=0.2,0.5 --param lr=0.01,0.003 --cv 2 --jobs 1 -o "$T/grid" -q
expect_rc 0 "grid search"
run "$WB" search --data "$TX/demo_sentiment.tsv" --maxlen 20 --emb-dim 16 --filters 8 --widths 3 --epochs 2 \
    --param dropout=0.1..0.5 --n-iter 2 --cv 2 --nested 2 --no-refit --jobs 1 -o "$T/nest" -q
expect_rc 0 "nested search"

run "$WB" report "$T/grid" "$T/nest" --data "$TX/demo_sentiment_test.tsv" -o "$T/r.html"
expect_rc 0 "report RUN_DIR RUN_DIR"
R=$T/r.html
[ -s "$R" ] && [ ! -s "$T/out" ] && ok || bad "report: the page, nothing on stdout"
grep -q "<h2 id=\"r0\">Search $T/grid</h2>" "$R" && grep -q "<h2 id=\"r1\">Search $T/nest</h2>" "$R" && ok ||
    bad "report: a section per search"
grep -q 'Grid search, 4 configurations, 2-fold cross-validation; 9 of 9 trials done; ranked by <b>acc</b>' "$R" &&
    grep -q 'Random search, 2 configurations, nested cross-validation (2 outer .* 2 inner folds); 12 of 12 trials done' "$R" &&
    ok || bad "report: what was searched: $(grep -o '<p>[A-Z][a-z]* search[^<]*' "$R")"
# the grid's table: 4 rows, rank 1 marked best (the nested one: 2 rows)
[ "$(grep -c '<tr class="best"><td>1 ★</td>' "$R")" = 2 ] && ok || bad "report: one best row per search"
[ "$(sed -n '/id="r0"/,/id="r1"/p' "$R" | grep -c '<tr[^>]*><td>[0-9]')" = 4 ] && ok || bad "report: 4 rows in the grid's table"
grep -q 'Loss, mean over folds' "$R" && grep -q '#1: dropout=' "$R" && ok || bad "report: the search's learning curves"
grep -q '<h3>Nested estimate</h3>' "$R" && grep -q 'Nested estimate of acc over 2 of 2 outer folds: 0\.[0-9]* ± ' "$R" && ok ||
    bad "report: the nested estimate"
grep -q 'fixed part</td><td class="l"><code>--data ' "$R" && grep -q '<code>dropout=0.2,0.5</code>' "$R" && ok ||
    bad "report: the search's fixed part and parameters"
# the grid's refit model comes with it, evaluated on --data; the nested search has none
grep -q "<h2 id=\"m0\">$T/grid/best.wbm" "$R" && ! grep -q 'nest/best.wbm' "$R" && grep -q 'Most confident errors' "$R" && ok ||
    bad "report: RUN_DIR/best.wbm"
if command -v xmllint >/dev/null; then
    xmllint --noout "$R" && ok || bad "report: not well-formed"
fi
# eval, predict and explain take a RUN_DIR for its refit model best.wbm
run "$WB" eval "$T/grid" "$TX/demo_sentiment_test.tsv" --json
expect_rc 0 "eval RUN_DIR"
cp "$T/out" "$T/eval-dir.json"
run "$WB" eval "$T/grid/best.wbm" "$TX/demo_sentiment_test.tsv" --json
cmp -s "$T/out" "$T/eval-dir.json" && [ -s "$T/out" ] && ok || bad "eval RUN_DIR differs from eval RUN_DIR/best.wbm"
run sh -c "echo 'great fun film' | \"$WB\" explain \"$T/grid\" --json"
expect_rc 0 "explain RUN_DIR"
run "$WB" eval "$T/nest" "$TX/demo_sentiment_test.tsv"
expect_rc 1 "eval of a RUN_DIR without a refit model"
grep -q "nest: a directory without best.wbm" "$T/err" && [ ! -s "$T/out" ] && ok || bad "eval RUN_DIR without best.wbm: $(cat "$T/err")"
# a search over embeddings modes (two groups: dropout 0.2 and 0.5): the compare table, the same
# figures as `wordbench compare --json`
"$WB" convert -q "$WB_FIXTURES/vectors/demo.glove.txt" "$T/demo" >/dev/null 2>&1 || bad "convert demo"
run "$WB" search --data "$TX/demo_sentiment.tsv" --maxlen 20 --store "$T/demo" --filters 8 --widths 3 --epochs 2 \
    --param embeddings=learned,frozen --param dropout=0.2,0.5 --cv 3 --no-refit --jobs 1 -o "$T/emb" -q
expect_rc 0 "search over embeddings"
run "$WB" compare "$T/emb" --json
expect_rc 0 "compare --json"
cp "$T/out" "$T/compare.json"
run "$WB" report "$T/emb" -o "$T/c.html"
expect_rc 0 "report of a search over embeddings"
C=$T/c.html
grep -q '<h3>Embeddings compared</h3>' "$C" && [ "$(grep -c '<td class="l" rowspan="2">dropout=0\.[25]</td>' "$C")" = 2 ] &&
    [ "$(grep -c '<td class="l">learned[^<]*</td><td>[^<]*</td><td>(base)</td>' "$C")" = 2 ] && ok ||
    bad "report: the compare table, a group per dropout, learned the base: $(sed -n '/Embeddings compared/,/<\/table>/p' "$C")"
if command -v xmllint >/dev/null; then
    xmllint --noout "$C" && ok || bad "report with a compare table: not well-formed"
fi
/usr/bin/python3 - "$T/compare.json" "$C" <<'EOF' && ok || bad "report: the compare table's figures differ from compare --json"
import json, sys
d = json.load(open(sys.argv[1]))
page = open(sys.argv[2], encoding="utf-8").read()
for g in d["groups"]:
    for m in g["modes"]:
        cell = "%.4f \u00b1 %.4f" % (m["mean"], m["sd"])
        if cell not in page:
            sys.exit("%s: %s not in the page" % (m["embeddings"], cell))
        if m["diff"] is not None:
            row = "<td>%+.4f</td><td>%.3g</td><td>%.3g</td>" % (m["diff"], m["p_t"], m["p_nb"])
            if row not in page:
                sys.exit("%s: %s not in the page" % (m["embeddings"], row))
EOF
mkdir "$T/empty"
run "$WB" report "$T/empty" -o "$T/e.html"
expect_rc 1 "report of a directory without a search"
grep -q "empty: no search here (no plan.json)" "$T/err" && [ ! -e "$T/e.html" ] && ok || bad "report no plan: $(cat "$T/err")"
finish report_search.sh
