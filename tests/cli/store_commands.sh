#!/usr/bin/env bash
# store_commands.sh — end-to-end tests of the store commands of the CLI:
# convert, info, lookup, neighbors, verify, export, run on the demo fixture
# ($WB_FIXTURES/vectors/demo.glove.txt: 60 words x 16 dims, built so that
# `neighbors STORE king - man + woman` puts queen first).
#
# Checks, for every command: the exit status (0 ok, 1 failure, 2 usage),
# that results go to stdout and diagnostics to stderr (captured separately;
# every diagnostic line starts with "wordbench"), that --json output is one
# valid JSON document (checked with /usr/bin/python3 when it is there), that
# --help exits 0 and prints the defaults, that a bad input file is reported as
# file:line, and round trips: export -> convert gives the same vectors bit for
# bit (glove, word2vec, word2vec-bin), as do convert from stdin and from a .gz.
#
# Leaves out: concurrency (concurrent_publish.sh) and crashes (kill9.sh).
# Environment: WB (the wordbench binary), WB_FIXTURES.  Exit 0 pass, 1 fail,
# 77 skip.
set -u

. "$(dirname "$0")/lib.bash"
if [ -z "${WB_FIXTURES:-}" ]; then
    echo "store_commands.sh: set WB_FIXTURES (ctest does); skipping" >&2
    exit 77
fi
need_wb store_commands.sh
DEMO=$WB_FIXTURES/vectors/demo.glove.txt
if [ ! -r "$DEMO" ]; then
    echo "store_commands.sh: FAIL: fixture $DEMO is missing" >&2
    exit 1
fi
PY=/usr/bin/python3
if [ -x "$PY" ]; then HAVE_PY=1; else HAVE_PY=0; echo "note: $PY missing: JSON checks skipped" >&2; fi

T=$(mktemp -d "${TMPDIR:-/tmp}/wb-store-cmds.XXXXXX") || exit 1
trap 'chmod -R u+rwX "$T" 2>/dev/null; rm -rf "$T"' EXIT
cd "$T" || exit 1


# run CMD...: run with stdin from /dev/null (unless RUN_STDIN is set), stdout
# to $T/out, stderr to $T/err; the exit status in $rc.
run() {
    "$@" <"${RUN_STDIN:-/dev/null}" >"$T/out" 2>"$T/err"
    rc=$?
}
show_err() { head -c 600 "$T/err" | tr '\n' '|'; }
show_out() { head -c 300 "$T/out" | tr '\n' '|'; }

# expect_rc WANT DESC: exit status of the last run.
expect_rc() {
    if [ "$rc" -eq "$1" ]; then ok; else bad "$2: exit $rc, expected $1; stderr: $(show_err)"; fi
}
# The last run printed nothing on stdout / stderr.
quiet_out() { if [ -s "$T/out" ]; then bad "$1: stdout should be empty, has: $(show_out)"; else ok; fi; }
quiet_err() { if [ -s "$T/err" ]; then bad "$1: stderr should be empty, has: $(show_err)"; else ok; fi; }
# stderr is non-empty and each line is a wordbench diagnostic (usage errors
# add one "Try 'wordbench CMD --help'." line).
diag_err() {
    if [ ! -s "$T/err" ]; then
        bad "$1: expected a diagnostic on stderr, got nothing"
        return
    fi
    local badline
    badline=$(grep -v -e '^wordbench' -e "^Try 'wordbench" "$T/err" | head -1)
    if [ -n "$badline" ]; then bad "$1: stderr line does not start with 'wordbench': $badline"; else ok; fi
}
# out_has / err_has DESC TEXT: fixed-string search.
out_has() { if grep -qF -- "$2" "$T/out"; then ok; else bad "$1: stdout lacks '$2'; stdout: $(show_out)"; fi; }
err_has() { if grep -qF -- "$2" "$T/err"; then ok; else bad "$1: stderr lacks '$2'; stderr: $(show_err)"; fi; }
# json_ok DESC: stdout is one valid JSON document.
json_ok() {
    [ "$HAVE_PY" = 1 ] || return 0
    if "$PY" -m json.tool <"$T/out" >/dev/null 2>"$T/json.err"; then ok; else
        bad "$1: --json output does not parse: $(head -c 200 "$T/json.err"); output: $(show_out)"
    fi
}
# json_eval DESC EXPR: python expression over d = the parsed stdout is true.
json_eval() {
    [ "$HAVE_PY" = 1 ] || return 0
    if "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" "$T/out" 2>"$T/json.err"; then
        ok
    else
        bad "$1: JSON check failed: $2; output: $(show_out) $(head -c 200 "$T/json.err")"
    fi
}
# Bytes of an NPY file after its 4096-byte header.
npy_data() { tail -c +4097 "$1"; }
# same_vectors DESC A B: the two stores hold the same vectors and norms, bit for bit.
same_vectors() {
    if cmp -s <(npy_data "$2/vectors.npy") <(npy_data "$3/vectors.npy") &&
        cmp -s <(npy_data "$2/norms.npy") <(npy_data "$3/norms.npy"); then
        ok
    else
        bad "$1: vectors.npy/norms.npy data of $2 and $3 differ"
    fi
}
# No temporary store directories left next to $1.
no_tmp_left() {
    local left
    left=$(find "$(dirname "$1")" -maxdepth 1 -name ".$(basename "$1").wbtmp-*" | head -1)
    if [ -n "$left" ]; then bad "$2: temporary directory left behind: $left"; else ok; fi
}
fingerprint() { "$WB" info --json "$1" 2>/dev/null | sed -n 's/.*"fingerprint": "\([0-9a-f]*\)".*/\1/p'; }

WORDS=$(cut -d' ' -f1 "$DEMO" | tr '\n' ' ')

# ---- help and the top level -------------------------------------------------

for cmd in convert info lookup neighbors verify export; do
    run "$WB" "$cmd" --help
    expect_rc 0 "$cmd --help"
    out_has "$cmd --help" "usage: wordbench $cmd"
    quiet_err "$cmd --help"
done
run "$WB" verify -h
expect_rc 0 "verify -h"
out_has "verify -h" "usage: wordbench verify"
run "$WB" convert --help
for d in "(default: auto)" "(default: f32)" "(default: first)" "(default: 0)"; do out_has "convert --help defaults" "$d"; done
run "$WB" neighbors --help
out_has "neighbors --help default k" "(default: 10)"
run "$WB" export --help
out_has "export --help default format" "(default: glove)"
run "$WB" --help
expect_rc 0 "wordbench --help"
for cmd in convert info lookup neighbors verify export; do out_has "wordbench --help lists commands" "$cmd"; done
run "$WB" help neighbors
expect_rc 0 "wordbench help neighbors"
out_has "wordbench help neighbors" "usage: wordbench neighbors"
run "$WB" --version
expect_rc 0 "wordbench --version"
out_has "wordbench --version" "wordbench "
run "$WB"
expect_rc 2 "wordbench without a command"
quiet_out "wordbench without a command"
run "$WB" frobnicate
expect_rc 2 "unknown command"
diag_err "unknown command"
err_has "unknown command" "frobnicate"

# ---- convert ---------------------------------------------------------------

run "$WB" convert "$DEMO" s
expect_rc 0 "convert demo"
out_has "convert demo" "converted 60 rows x 16 dim"
quiet_err "convert demo (stderr is not a terminal: no progress)"
for f in vectors.npy norms.npy index.lmdb/data.mdb; do
    if [ -f "s/$f" ]; then ok; else bad "convert demo: s/$f missing"; fi
done
no_tmp_left s "convert demo"
FP=$(fingerprint s)
if [ -n "$FP" ]; then ok; else bad "info --json gives no fingerprint"; fi

run "$WB" convert "$DEMO" s
expect_rc 1 "convert onto an existing store without --force"
quiet_out "convert onto an existing store"
diag_err "convert onto an existing store"
err_has "convert onto an existing store" "--force"
[ "$(fingerprint s)" = "$FP" ] && ok || bad "a refused convert changed the store"

run "$WB" convert --force -q --json "$DEMO" s
expect_rc 0 "convert --force --json"
quiet_err "convert --force --json"
json_ok "convert --json"
json_eval "convert --json fields" "d['rows'] == 60 and d['dim'] == 16 and d['format'] == 'glove' and d['gzip'] is False and d['dtype'] == 'f32' and d['store'] == 's'"
json_eval "convert --json fingerprint" "d['fingerprint'] == '$FP'"
no_tmp_left s "convert --force"

# a directory that is not a store is never replaced
mkdir notastore && echo precious >notastore/file.txt
run "$WB" convert --force "$DEMO" notastore
expect_rc 1 "convert --force onto a non-store directory"
diag_err "convert --force onto a non-store directory"
[ "$(cat notastore/file.txt 2>/dev/null)" = precious ] && ok || bad "convert --force destroyed a non-store directory"

# bad input: file:line in the message, no store, no temporary left
{ head -2 "$DEMO"; head -3 "$DEMO" | tail -1 | cut -d' ' -f1-16; tail -n +4 "$DEMO"; } >bad_dim.txt
run "$WB" convert bad_dim.txt sbad
expect_rc 1 "convert of a file with a short line"
quiet_out "convert of a bad file"
diag_err "convert of a bad file"
err_has "convert of a bad file names file:line" "bad_dim.txt:3:"
[ -e sbad ] && bad "a failed convert left a store at sbad" || ok
no_tmp_left sbad "failed convert"
{ head -4 "$DEMO"; head -5 "$DEMO" | tail -1 | sed 's/ [^ ]*$/ 1.0x/'; tail -n +6 "$DEMO"; } >bad_num.txt
run "$WB" convert bad_num.txt sbad
expect_rc 1 "convert of a file with a bad number"
err_has "convert bad number names file:line" "bad_num.txt:5:"
run "$WB" convert no_such_input.txt sbad
expect_rc 1 "convert of a missing input"
diag_err "convert of a missing input"
err_has "convert of a missing input names it" "no_such_input.txt"
: >empty.txt
run "$WB" convert empty.txt sbad
expect_rc 1 "convert of an empty input"
diag_err "convert of an empty input"
[ -e sbad ] && bad "a failed convert left a store at sbad" || ok

# usage errors: exit 2, stdout empty, a "wordbench CMD:" line and a Try line
usage_case() { # DESC ARGS...
    local desc=$1
    shift
    run "$WB" "$@"
    expect_rc 2 "$desc"
    quiet_out "$desc"
    diag_err "$desc"
    err_has "$desc (try --help)" "--help"
}
usage_case "convert --format xml" convert --format xml "$DEMO" su
err_has "convert --format xml names the value" "xml"
usage_case "convert --dtype f64" convert --dtype f64 "$DEMO" su
usage_case "convert --duplicates sometimes" convert --duplicates sometimes "$DEMO" su
usage_case "convert --threads 999" convert --threads 999 "$DEMO" su
usage_case "convert --dim 0" convert --dim 0 "$DEMO" su
usage_case "convert --limit -1" convert --limit -1 "$DEMO" su
usage_case "convert --bad-lines without --skip-bad" convert --bad-lines bl.txt "$DEMO" su
usage_case "convert with one argument" convert "$DEMO"
usage_case "convert with three arguments" convert "$DEMO" su extra
usage_case "convert --bogus" convert --bogus "$DEMO" su
err_has "unknown option is named" "--bogus"
usage_case "info without a store" info
usage_case "info with two stores" info s s
usage_case "info -x" info -x s
usage_case "lookup without a word" lookup s
usage_case "neighbors -k 0" neighbors -k 0 s king
usage_case "neighbors -k abc" neighbors -k abc s king
usage_case "neighbors -k 100001" neighbors -k 100001 s king
usage_case "neighbors -k without a value" neighbors s king -k
usage_case "neighbors query ending with an operator" neighbors s king -
usage_case "neighbors two words without an operator" neighbors s king queen
usage_case "verify without a store" verify
usage_case "export --format xml" export --format xml s out.txt
usage_case "export without an output" export s
[ -e su ] && bad "a usage error created a store" || ok

# ---- info --------------------------------------------------------------------

run "$WB" info s
expect_rc 0 "info"
quiet_err "info"
out_has "info rows" "rows           60"
out_has "info dim" "dim            16"
out_has "info dtype" "dtype          f32"
out_has "info invalid UTF-8" "invalid UTF-8  0"
out_has "info source" "demo.glove.txt"
out_has "info fingerprint" "$FP"
run "$WB" info --json s
expect_rc 0 "info --json"
json_ok "info --json"
json_eval "info --json fields" "d['rows'] == 60 and d['dim'] == 16 and d['dtype'] == 'f32' and d['source'] == 'demo.glove.txt' and d['source_format'] == 'glove' and d['source_gzip'] is False and d['normalized'] is False and d['format_version'] == 2 and d['blocks'] == 1"
json_eval "info --json sizes" "d['vectors_bytes'] == 4096 + 60 * 16 * 4 and d['norms_bytes'] == 4096 + 60 * 4 and d['index_bytes'] > 0"
json_eval "info --json source_bytes" "d['source_bytes'] == $(wc -c <"$DEMO")"
run "$WB" info no_such_store
expect_rc 1 "info of a missing store"
quiet_out "info of a missing store"
diag_err "info of a missing store"
err_has "info of a missing store names it" "no_such_store"
run "$WB" info notastore
expect_rc 1 "info of a directory that is not a store"
diag_err "info of a directory that is not a store"
run "$WB" info "$DEMO"
expect_rc 1 "info of a regular file"
diag_err "info of a regular file"

# ---- lookup ------------------------------------------------------------------

run "$WB" lookup s king
expect_rc 0 "lookup king"
quiet_err "lookup king"
KING=$(head -1 "$DEMO")
if awk -v want="$KING" 'BEGIN { n = split(want, w, " ") }
    { split($0, f, "\t"); if (f[1] != "king" || f[2] != "0") exit 1
      m = split(f[3], v, " "); if (m != n - 1) exit 1
      for (i = 1; i < n; i++) { d = v[i] - w[i + 1]; if (d < -1e-6 || d > 1e-6) exit 1 } }
    END { if (NR != 1) exit 1 }' "$T/out"; then ok; else bad "lookup king: wrong line: $(show_out)"; fi
run "$WB" lookup s king queen man
expect_rc 0 "lookup of three words"
[ "$(cut -f1 "$T/out" | tr '\n' ' ')" = "king queen man " ] && ok || bad "lookup of three words: $(show_out)"
run "$WB" lookup --no-vector s queen
expect_rc 0 "lookup --no-vector"
[ "$(cat "$T/out")" = "$(printf 'queen\t1')" ] && ok || bad "lookup --no-vector queen: '$(show_out)'"
run "$WB" lookup s zzzmissing
expect_rc 1 "lookup of a missing word"
quiet_out "lookup of a missing word"
diag_err "lookup of a missing word"
err_has "lookup of a missing word names it" "zzzmissing"
run "$WB" lookup s king zzzmissing queen
expect_rc 1 "lookup with one missing word"
[ "$(cut -f1 "$T/out" | tr '\n' ' ')" = "king queen " ] && ok || bad "lookup with a missing word: found words not printed: $(show_out)"
err_has "lookup with one missing word" "zzzmissing"
run "$WB" lookup s ""
expect_rc 1 "lookup of the empty word"
run "$WB" lookup s -- -k
expect_rc 1 "lookup after -- takes -k as a word"
err_has "lookup -- -k" "'-k'"
run "$WB" lookup --json s king zzzmissing
expect_rc 1 "lookup --json with a missing word"
json_ok "lookup --json"
json_eval "lookup --json content" "len(d) == 2 and d[0]['word'] == 'king' and d[0]['row'] == 0 and len(d[0]['vector']) == 16 and d[1]['word'] == 'zzzmissing' and d[1]['row'] is None"
run "$WB" lookup --json --no-vector s queen
json_eval "lookup --json --no-vector" "d == [{'word': 'queen', 'row': 1}]"
run "$WB" lookup no_such_store king
expect_rc 1 "lookup in a missing store"
quiet_out "lookup in a missing store"
diag_err "lookup in a missing store"
# every word of the fixture looks up to its line number - 1
# shellcheck disable=SC2086
run "$WB" lookup --no-vector s $WORDS
expect_rc 0 "lookup of all 60 words"
if awk -F'\t' '$2 != NR - 1 { exit 1 } END { if (NR != 60) exit 1 }' "$T/out"; then ok; else
    bad "lookup of all words: rows are not 0..59 in order"
fi

# ---- neighbors ---------------------------------------------------------------

run "$WB" neighbors s king - man + woman
expect_rc 0 "neighbors king - man + woman"
quiet_err "neighbors"
[ "$(head -1 "$T/out" | cut -f1)" = queen ] && ok || bad "king - man + woman: first is not queen: $(show_out)"
[ "$(wc -l <"$T/out")" -eq 10 ] && ok || bad "neighbors: default k should give 10 lines, got $(wc -l <"$T/out")"
if cut -f1 "$T/out" | grep -qx -e king -e man -e woman; then bad "neighbors returned a query word"; else ok; fi
if awk -F'\t' 'NR > 1 && $2 > prev + 1e-9 { exit 1 } { prev = $2; if ($2 < -1 || $2 > 1) exit 1 }' "$T/out"; then ok; else
    bad "neighbors: scores are not descending cosines: $(show_out)"
fi
run "$WB" neighbors s "king - man + woman"
expect_rc 0 "neighbors with the query as one argument"
[ "$(head -1 "$T/out" | cut -f1)" = queen ] && ok || bad "one-argument query: first is not queen"
run "$WB" neighbors -k 3 s king - man + woman
expect_rc 0 "neighbors -k 3"
[ "$(wc -l <"$T/out")" -eq 3 ] && ok || bad "neighbors -k 3 gave $(wc -l <"$T/out") lines"
run "$WB" neighbors --k 100 s king - man + woman
expect_rc 0 "neighbors -k larger than the store"
[ "$(wc -l <"$T/out")" -eq 57 ] && ok || bad "neighbors -k 100 on 60 rows minus 3 query words gave $(wc -l <"$T/out") lines"
run "$WB" neighbors --json -k 5 s king - man + woman
expect_rc 0 "neighbors --json"
json_ok "neighbors --json"
json_eval "neighbors --json content" "len(d) == 5 and d[0]['word'] == 'queen' and all(-1 <= e['cosine'] <= 1 for e in d) and all(isinstance(e['row'], int) for e in d)"
run "$WB" neighbors s king - zzzmissing
expect_rc 1 "neighbors with a missing word"
quiet_out "neighbors with a missing word"
diag_err "neighbors with a missing word"
err_has "neighbors with a missing word names it" "zzzmissing"
run "$WB" neighbors no_such_store king
expect_rc 1 "neighbors in a missing store"
diag_err "neighbors in a missing store"

# ---- verify ------------------------------------------------------------------

run "$WB" verify s
expect_rc 0 "verify"
quiet_err "verify"
out_has "verify" "ok"
out_has "verify prints the fingerprint" "$FP"
run "$WB" verify --json s
expect_rc 0 "verify --json"
json_ok "verify --json"
json_eval "verify --json content" "d['ok'] is True and d['blocks_checked'] == 1 and d['first_bad_block'] == -1 and d['norms_ok'] is True and d['index_ok'] is True and d['index_pages_ok'] is True and d['index_checksum'] is True"
run "$WB" verify no_such_store
expect_rc 1 "verify of a missing store"
diag_err "verify of a missing store"

# a flipped byte in the vector data: open works, verify fails with exit 1
cp -r s scorrupt
printf '\x55' | dd of=scorrupt/vectors.npy bs=1 seek=$((4096 + 700)) conv=notrunc status=none
run "$WB" verify scorrupt
expect_rc 1 "verify of a store with a flipped vector byte"
quiet_out "verify of a corrupt store (text mode)"
diag_err "verify of a corrupt store"
err_has "verify of a corrupt store names the block" "block 0"
run "$WB" verify --json scorrupt
expect_rc 1 "verify --json of a corrupt store"
json_ok "verify --json of a corrupt store"
json_eval "verify --json of a corrupt store" "d['ok'] is False and d['first_bad_block'] == 0 and d['norms_ok'] is True"
diag_err "verify --json of a corrupt store"
# a truncated file: every command reports it, nobody crashes
cp -r s strunc
truncate -s -1 strunc/vectors.npy
for cmd in info verify "lookup" "neighbors"; do
    case $cmd in
    lookup | neighbors) run "$WB" "$cmd" strunc king ;;
    *) run "$WB" "$cmd" strunc ;;
    esac
    expect_rc 1 "$cmd of a truncated store"
    quiet_out "$cmd of a truncated store"
    diag_err "$cmd of a truncated store"
    err_has "$cmd of a truncated store" "truncated"
    err_has "$cmd of a truncated store names the file" "vectors.npy"
done

# ---- f16 store -----------------------------------------------------------------

run "$WB" convert -q --dtype f16 "$DEMO" s16
expect_rc 0 "convert --dtype f16"
run "$WB" info --json s16
json_eval "f16 info" "d['dtype'] == 'f16' and d['vectors_bytes'] == 4096 + 60 * 16 * 2"
run "$WB" neighbors -k 1 s16 king - man + woman
expect_rc 0 "neighbors on f16"
[ "$(cut -f1 "$T/out")" = queen ] && ok || bad "f16: king - man + woman is not queen: $(show_out)"
run "$WB" verify s16
expect_rc 0 "verify f16"

# ---- export and round trips ------------------------------------------------------

run "$WB" export s out.glove.txt
expect_rc 0 "export glove"
quiet_out "export to a file writes nothing on stdout"
quiet_err "export"
[ "$(wc -l <out.glove.txt)" -eq 60 ] && ok || bad "export glove: $(wc -l <out.glove.txt) lines, expected 60"
[ "$(cut -d' ' -f1 out.glove.txt | tr '\n' ' ')" = "$WORDS" ] && ok || bad "export glove: words or order differ"
left=$(find . -maxdepth 1 -name '*wbtmp*' | tr '\n' ' ')
[ -z "$left" ] && ok || bad "export left a temporary file: $left"
run "$WB" export s -
expect_rc 0 "export to stdout"
cmp -s "$T/out" out.glove.txt && ok || bad "export - differs from export to a file"
run "$WB" convert -q out.glove.txt s_rt
expect_rc 0 "convert of the export"
same_vectors "export glove -> convert" s s_rt
[ "$(fingerprint s_rt)" = "$FP" ] && ok || bad "export -> convert: fingerprint changed"
# shellcheck disable=SC2086
a=$("$WB" lookup s $WORDS 2>&1)
# shellcheck disable=SC2086
b=$("$WB" lookup s_rt $WORDS 2>&1)
[ -n "$a" ] && [ "$a" = "$b" ] && ok || bad "export -> convert: lookup output differs"

run "$WB" export --format word2vec s out.w2v.txt
expect_rc 0 "export word2vec"
[ "$(head -1 out.w2v.txt)" = "60 16" ] && ok || bad "export word2vec: header is '$(head -1 out.w2v.txt)'"
run "$WB" convert -q out.w2v.txt s_w2v
expect_rc 0 "convert of the word2vec export"
same_vectors "export word2vec -> convert" s s_w2v
run "$WB" info --json s_w2v
json_eval "word2vec detected" "d['source_format'] == 'word2vec'"

run "$WB" export -f word2vec-bin s out.bin
expect_rc 0 "export word2vec-bin"
run "$WB" convert -q out.bin s_bin
expect_rc 0 "convert of the word2vec-bin export"
same_vectors "export word2vec-bin -> convert" s s_bin
run "$WB" info --json s_bin
json_eval "word2vec-bin detected" "d['source_format'] == 'word2vec-bin'"

run "$WB" export s16 out16.txt
expect_rc 0 "export f16"
run "$WB" convert -q --dtype f16 out16.txt s16_rt
same_vectors "f16 export -> convert --dtype f16" s16 s16_rt

run "$WB" export s nodir/out.txt
expect_rc 1 "export into a missing directory"
diag_err "export into a missing directory"
run "$WB" export no_such_store out2.txt
expect_rc 1 "export of a missing store"
[ -e out2.txt ] && bad "export of a missing store created its output" || ok

# ---- stdin and gzip --------------------------------------------------------------

RUN_STDIN=$DEMO run "$WB" convert - s_stdin
expect_rc 0 "convert from stdin"
same_vectors "convert from stdin" s s_stdin
run "$WB" info --json s_stdin
json_eval "stdin source" "d['source'] == '-'"
cat "$DEMO" | "$WB" convert -q - s_pipe >/dev/null 2>"$T/err"
rc=$?
expect_rc 0 "convert from a pipe"
same_vectors "convert from a pipe" s s_pipe

gzip -9 -c "$DEMO" >demo.glove.txt.gz
run "$WB" convert --json demo.glove.txt.gz s_gz
expect_rc 0 "convert of a .gz"
json_eval "convert .gz reports gzip" "d['gzip'] is True and d['rows'] == 60"
same_vectors "convert of a .gz" s s_gz
run "$WB" info --json s_gz
json_eval "info of a gz-made store" "d['source_gzip'] is True and d['source'] == 'demo.glove.txt.gz'"
gzip -c "$DEMO" >plain_name.txt # gzip data under a name without .gz: detected by magic
run "$WB" convert -q plain_name.txt s_gz2
expect_rc 0 "convert of gzip data without a .gz name"
same_vectors "gzip detected by magic" s s_gz2
RUN_STDIN=demo.glove.txt.gz run "$WB" convert -q - s_gz3
expect_rc 0 "convert of gzip data from stdin"
same_vectors "gzip from stdin" s s_gz3
head -c 2000 demo.glove.txt.gz >cut.gz
run "$WB" convert cut.gz s_cut
expect_rc 1 "convert of a truncated .gz"
diag_err "convert of a truncated .gz"
[ -e s_cut ] && bad "a truncated .gz produced a store" || ok
no_tmp_left s_cut "truncated .gz"

# ---- read-only store -------------------------------------------------------------

cp -r s sro
chmod 0444 sro/vectors.npy sro/norms.npy sro/index.lmdb/data.mdb
chmod 0555 sro/index.lmdb sro
run "$WB" neighbors -k 1 sro king - man + woman
expect_rc 0 "neighbors on a read-only store"
[ "$(cut -f1 "$T/out")" = queen ] && ok || bad "read-only store: wrong neighbour"
run "$WB" verify sro
expect_rc 0 "verify of a read-only store"
[ -e sro/index.lmdb/lock.mdb ] && bad "reading a store created index.lmdb/lock.mdb" || ok
[ -e s/index.lmdb/lock.mdb ] && bad "reading a store created index.lmdb/lock.mdb" || ok

finish store_commands.sh
