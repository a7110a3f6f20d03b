#!/usr/bin/env bash
# tour.sh — the README's set-up and tour, run as printed, so they cannot drift.
#
# 1. tools/quickstart.sh (the README's first set-up command) with WB set to the
#    built binary and OUT to a scratch directory: every command it runs must
#    exit 0.  (tools/test.sh, the second one, is the suite this test belongs
#    to; the README's cmake line is how ctest built $WB.)
# 2. Every command of the README's "Five-minute tour" sh code blocks, read from
#    README.md itself (continuation lines joined, comments dropped), in order,
#    through bash in a scratch directory where the files the tour names exist:
#    glove.6B.300d.txt is fixtures/vectors/demo.glove.txt, ft300 a store of the
#    same vectors, emails.csv, cooking.train and cooking.valid links to
#    ../shared/data.  Each must exit 0.  Lines that use the shared data (or
#    what the shared-data lines make) are skipped, with a message, when
#    ../shared/data is absent or under sanitizers (WB_TEST_SCALE < 1); the
#    numpy line when python3 has no numpy.  (The tour's Python snippet is
#    docs/python.md's, tested by the module's own tests.)
# A few outputs are checked as well: the summary's 240,129 parameters, the
# tour's eval printing P@5 and listing errors with five tags each, one predict
# answer per e-mail.  Takes about 3 minutes with the shared data, seconds without.
# Exit 0 pass, 1 fail, 77 skip.
set -u
. "$(dirname "$0")/lib.bash"
need_wb tour.sh
if [ -z "${WB_FIXTURES:-}" ] || [ -z "${WB_TOOLS:-}" ]; then
    echo "tour.sh: set WB_FIXTURES and WB_TOOLS (ctest does); skipping" >&2
    exit 77
fi
ROOT=$(cd "$WB_FIXTURES/.." && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/wb-tour.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT

# ---- 1. the quick start ---------------------------------------------------------------------------
if WB="$WB" OUT="$T/quickstart" bash "$WB_TOOLS/quickstart.sh" >"$T/qs.out" 2>"$T/qs.err"; then
    ok
else
    bad "tools/quickstart.sh failed: $(tail -n 5 "$T/qs.err")"
fi
want=$(sed -n '/^set -x/,$p' "$WB_TOOLS/quickstart.sh" | grep -c '\$wb ')
[ "$(grep -c "^+ $WB " "$T/qs.err")" -eq "$want" ] && ok ||
    bad "quickstart ran $(grep -c "^+ $WB " "$T/qs.err") wordbench commands, the script has $want"

# ---- 2. the README tour -----------------------------------------------------------------------------
# Commands of the tour section, one per line: code blocks only, "\" continuations joined, a "#" that
# starts a comment (outside quotes, after white space) cut off.
awk '
/^## / { intour = ($0 ~ /^## Five-minute tour/) }
intour && /^```/ { if (inblock) inblock = 0; else inblock = ($0 ~ /^```sh/) ? 1 : 2; next } # 2: another language
intour && inblock == 2 { next }
intour && inblock {
    line = $0
    if (line ~ /\\$/) { acc = acc substr(line, 1, length(line) - 1); next }
    line = acc line; acc = ""
    out = ""; q = ""
    for (i = 1; i <= length(line); i++) {
        c = substr(line, i, 1)
        if (q == "" && c == "#" && (i == 1 || substr(line, i - 1, 1) ~ /[ \t]/)) break
        if (q == "" && (c == "\"" || c == "\047")) q = c
        else if (c == q) q = ""
        out = out c
    }
    sub(/[ \t]+$/, "", out)
    if (out != "") print out
}' "$ROOT/README.md" >"$T/tour.txt"
ntour=$(wc -l <"$T/tour.txt")
[ "$ntour" -ge 15 ] && ok || bad "README tour: only $ntour commands found: $(cat "$T/tour.txt")"

W=$T/tour
mkdir "$W"
ln -s "$WB_FIXTURES/vectors/demo.glove.txt" "$W/glove.6B.300d.txt"
"$WB" convert -q "$WB_FIXTURES/vectors/demo.glove.txt" "$W/ft300" >/dev/null 2>&1 || bad "convert the stand-in of ft300"
SD=${WB_SHARED_DATA:-}
shared=0
why="../shared/data is absent"
if awk -v s="${WB_TEST_SCALE:-1}" 'BEGIN { exit !(s < 1) }'; then
    why="WB_TEST_SCALE < 1 (sanitizer build)"
elif [ -n "$SD" ] && [ -f "$SD/spamassassin/emails.csv" ] && [ -f "$SD/cooking/cooking.train" ] &&
    [ -f "$SD/cooking/cooking.valid" ] && [ -f "$SD/wordsim/wordsim353.tsv" ] &&
    [ -f "$SD/wordsim/questions-words.txt" ]; then
    shared=1
    ln -s "$SD/spamassassin/emails.csv" "$W/emails.csv"
    ln -s "$SD/cooking/cooking.train" "$W/cooking.train"
    ln -s "$SD/cooking/cooking.valid" "$W/cooking.valid"
    ln -s "$SD/wordsim/wordsim353.tsv" "$W/wordsim353.tsv"
    ln -s "$SD/wordsim/questions-words.txt" "$W/questions-words.txt"
fi
has_numpy=0 # the python3 on PATH, else Debian's (where python3-numpy is)
PYPATH=$PATH
if python3 -c 'import numpy' >/dev/null 2>&1; then
    has_numpy=1
elif /usr/bin/python3 -c 'import numpy' >/dev/null 2>&1; then
    has_numpy=1 PYPATH=/usr/bin:$PATH
fi

i=0
while IFS= read -r cmd; do
    i=$((i + 1))
    case "$cmd" in
    cmake\ *) continue ;; # how ctest built $WB
    wb=*) continue ;;     # $wb is the binary under test
    esac
    if [ "$shared" -eq 0 ] && printf '%s' "$cmd" | grep -qE 'emails\.csv|cooking|spam\.wbm|spam-search|errors\.tsv|wordsim353|questions-words'; then
        echo "tour.sh: skipped ($why): $cmd" >&2
        continue
    fi
    if [ "$has_numpy" -eq 0 ] && printf '%s' "$cmd" | grep -q 'import numpy'; then
        echo "tour.sh: skipped (python3 without numpy): $cmd" >&2
        continue
    fi
    (cd "$W" && PATH=$PYPATH wb="$WB" bash -o pipefail -c "$cmd") >"$T/out.$i" 2>"$T/err.$i" </dev/null
    rc=$?
    [ "$rc" -eq 0 ] && ok || bad "README tour line $i exited $rc: $cmd
$(tail -n 5 "$T/err.$i")"
    case "$cmd" in
    *summary\ --model\ tutorial*) grep -q '^Total params: 240,129$' "$T/out.$i" && ok || bad "tour summary: $(cat "$T/out.$i")" ;;
    *numpy.load*) grep -qx '(60, 16)' "$T/out.$i" && ok || bad "tour numpy line: $(cat "$T/out.$i")" ;;
    *lookup\ glove300\ king\ queen*) [ "$(grep -c . "$T/out.$i")" -eq 2 ] && ok || bad "tour lookup: $(cat "$T/out.$i")" ;;
    *eval\ cooking.wbm*)
        grep -q '^P@5	0\.' "$T/out.$i" && grep -q "warning: cooking.valid: 1 true label in 1 record is not among the model's" "$T/err.$i" &&
            awk -F'\t' '{ if (split($3, a, ", ") != 5) exit 1 }' "$W/errors.tsv" && [ -s "$W/errors.tsv" ] && ok ||
            bad "tour eval: $(cat "$T/out.$i" "$T/err.$i"; head -n 2 "$W/errors.tsv")" ;;
    *predict\ cooking.wbm*) [ "$(awk -F'\t' '{ print NF }' "$T/out.$i")" = 6 ] && ok || bad "tour predict: $(cat "$T/out.$i")" ;;
    *predict\ spam.wbm\ emails.csv*) [ "$(wc -l <"$W/spam.tsv")" -eq 6046 ] && ok || bad "tour predict of emails.csv: $(wc -l <"$W/spam.tsv") lines for 6046 e-mails" ;;
    esac
done <"$T/tour.txt"

finish tour.sh
