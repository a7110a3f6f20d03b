#!/usr/bin/env bash
# data_commands.sh — end-to-end tests of `wordbench data stats|show`: exit
# codes, stdout/stderr separation, what `show` prints (labels, tokens after
# --num-words / --maxlen / truncation, <oov>, no padding), `stats --json`,
# file:line errors.  Uses fixtures/text/ and the demo store; the shared data
# sets only when present.  Exit 0 pass, 1 fail, 77 skip.
set -u
. "$(dirname "$0")/lib.bash"
need_wb data_commands.sh
if [ -z "${WB_FIXTURES:-}" ]; then
    echo "data_commands.sh: set WB_FIXTURES (ctest does); skipping" >&2
    exit 77
fi
TX=$WB_FIXTURES/text
T=$(mktemp -d "${TMPDIR:-/tmp}/wb-data.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT

run() { "$@" >"$T/out" 2>"$T/err" </dev/null; rc=$?; }
expect_rc() { [ "$rc" -eq "$1" ] && ok || bad "$2: exit $rc, expected $1 (stderr: $(head -c 300 "$T/err"))"; }

# show: labels, keras tokens, one line per row
run "$WB" data show "$TX/cooking.txt"
expect_rc 0 "show cooking.txt"
first=$(head -n 1 "$T/out")
[ "$first" = "$(printf 'sauce,cheese\thow much does potato starch affect a cheese sauce recipe')" ] && ok ||
    bad "show: first line is '$first'"
[ ! -s "$T/err" ] && ok || bad "show wrote to stderr: $(cat "$T/err")"

# --maxlen truncates (post by default), --truncating pre keeps the end; padding never shown
run "$WB" data show --maxlen 3 --head 1 "$TX/cooking.txt"
[ "$(cat "$T/out")" = "$(printf 'sauce,cheese\thow much does')" ] && ok || bad "maxlen 3 post: '$(cat "$T/out")'"
run "$WB" data show --maxlen 3 --truncating pre --head 1 "$TX/cooking.txt"
[ "$(cat "$T/out")" = "$(printf 'sauce,cheese\tcheese sauce recipe')" ] && ok || bad "maxlen 3 pre: '$(cat "$T/out")'"
run "$WB" data show --maxlen 40 --head 1 "$TX/cooking.txt"
[ "$(cat "$T/out")" = "$(printf 'sauce,cheese\thow much does potato starch affect a cheese sauce recipe')" ] && ok ||
    bad "maxlen 40 shows padding: '$(cat "$T/out")'"

# --num-words 2 keeps no word (ids < 2 are padding and OOV): every token is <oov>
run "$WB" data show --num-words 2 --head 1 "$TX/cooking.txt"
grep -q -v -E '^[^	]*	(<oov>( <oov>)*)?$' "$T/out" && bad "num-words 2: '$(cat "$T/out")'" || ok

# --head
run "$WB" data show --head 1 "$TX/header.tsv"
[ "$(wc -l < "$T/out")" -eq 1 ] && ok || bad "--head 1 printed $(wc -l < "$T/out") lines"

# stats --json parses and counts rows
run "$WB" data stats --json "$TX/header.tsv"
expect_rc 0 "stats --json"
if [ -x /usr/bin/python3 ]; then
    /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["rows"] > 0 and d["labels"]' "$T/out" &&
        ok || bad "stats --json is not the expected JSON: $(head -c 300 "$T/out")"
fi

# coverage against a store
run "$WB" convert -q "$WB_FIXTURES/vectors/demo.glove.txt" "$T/demo.store"
expect_rc 0 "convert demo"
run "$WB" data stats --store "$T/demo.store" "$TX/cooking.txt"
expect_rc 0 "stats --store"
grep -q '^coverage ' "$T/out" && ok || bad "stats --store prints no coverage line"

# errors: file:line on stderr, exit 1, nothing on stdout for stats
run "$WB" data stats "$TX/missing_label.tsv"
expect_rc 1 "missing label"
grep -q 'missing_label.tsv:3:' "$T/err" && ok || bad "missing label: stderr lacks file:line: $(cat "$T/err")"
[ ! -s "$T/out" ] && ok || bad "stats printed results despite the error"
run "$WB" data stats "$T/nonexistent.tsv"
expect_rc 1 "missing file"

# usage errors: exit 2
run "$WB" data frobnicate "$TX/header.tsv"
expect_rc 2 "unknown verb"
run "$WB" data show --maxlen x "$TX/header.tsv"
expect_rc 2 "bad --maxlen"
run "$WB" data show --tokenizer nope "$TX/header.tsv"
expect_rc 2 "bad --tokenizer"
run "$WB" data --help
expect_rc 0 "--help"
grep -q 'default: keras' "$T/out" && ok || bad "--help lacks the tokenizer default"

# shared data, when present
SD=${WB_SHARED_DATA:-}
if [ -n "$SD" ] && [ -r "$SD/spamassassin/emails.csv" ]; then
    run "$WB" data stats --json "$SD/spamassassin/emails.csv"
    expect_rc 0 "emails.csv stats"
    grep -q '"rows": 6046' "$T/out" && grep -q '"spam": 1896' "$T/out" && ok ||
        bad "emails.csv: $(head -c 300 "$T/out")"
fi

finish data_commands.sh
