# tests/cli/lib.bash — shared by the CLI test scripts (sourced, not run:
# ctest runs only tests/cli/*.sh).  Provides:
#   need_wb NAME        skip (77) when $WB is unset, fail when it is not executable
#   ok / bad MSG        count a passed / failed check (bad prints MSG on stderr)
#   finish NAME         print "NAME: N passed, M failed" and exit 0 or 1
#   run CMD...          run CMD with stdin from /dev/null, stdout to $T/out, stderr to $T/err,
#                       its status in $rc ($T: the script's scratch directory)
#   expect_rc N WHAT    check that the last run exited N
#   has TEXT WHAT       check that the last run's stderr holds TEXT (fixed string)
#   search_table FILE   a search --json result without times and paths (to compare two runs)
#   fields_csv FILE     a CSV of two text columns and two numeric features (several-input tests)
pass=0
fail=0

need_wb() {
    if [ -z "${WB:-}" ]; then
        echo "$1: set WB (ctest does); skipping" >&2
        exit 77
    fi
    if [ ! -x "$WB" ]; then
        echo "$1: FAIL: WB=$WB is not an executable" >&2
        exit 1
    fi
}

ok() { pass=$((pass + 1)); }

bad() {
    fail=$((fail + 1))
    echo "FAIL: $*" >&2
}

finish() {
    echo "$1: $pass passed, $fail failed"
    [ "$fail" -eq 0 ] && exit 0 || exit 1
}

run() { "$@" >"$T/out" 2>"$T/err" </dev/null; rc=$?; }
expect_rc() { [ "$rc" -eq "$1" ] && ok || bad "$2: exit $rc, expected $1 (stderr: $(head -c 600 "$T/err"))"; }
has() { grep -qF -- "$1" "$T/err" && ok || bad "$2: stderr lacks '$1': $(head -c 600 "$T/err")"; }

# search_table FILE: the result of a `wordbench search --json` (FILE) without its wall-clock figures and
# paths, as one line: two runs of one search compare equal on it.
search_table() {
    /usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
for r in d["table"]:
    r.pop("train_s"); r.pop("examples_per_s")
d.pop("run_dir"); d.pop("log")
if d["refit"]: d["refit"].pop("model")
print(json.dumps(d, sort_keys=True))' "$1"
}

# fields_csv FILE: a CSV of two text columns and two numeric features (label,subject,body,links,caps; 120
# records, ham/spam alternating) whose body says nothing about the label (the same sentences either way),
# whose subject half the time does not, and whose 'links' feature carries it.
fields_csv() {
    awk 'BEGIN {
        print "label,subject,body,links,caps"
        split("hello there|win money now|weekly meeting|your account", subj, "|")
        split("see you soon|thanks for the notes|call me later|the file is attached", body, "|")
        for (i = 0; i < 120; i++) {
            spam = i % 2
            s = (i % 4 < 2) ? subj[1] : (spam ? subj[2] : subj[3])
            printf "%s,%s,\"%s, %d\",%d,%.3f\n", spam ? "spam" : "ham", s, body[1 + int(i / 2) % 4], i % 5, spam ? 3 + i % 4 : i % 3 == 0, (i % 7) / 10
        }
    }' >"$1"
}
