# tests/cli/lib.bash — shared by the CLI test scripts (sourced, not run:
# ctest runs only tests/cli/*.sh).  Provides:
#   need_wb NAME        skip (77) when $WB is unset, fail when it is not executable
#   ok / bad MSG        count a passed / failed check (bad prints MSG on stderr)
#   finish NAME         print "NAME: N passed, M failed" and exit 0 or 1
#   run CMD...          run CMD with stdin from /dev/null, stdout to $T/out, stderr to $T/err,
#                       its status in $rc ($T: the script's scratch directory)
#   expect_rc N WHAT    check that the last run exited N
#   has TEXT WHAT       check that the last run's stderr holds TEXT (fixed string)
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
