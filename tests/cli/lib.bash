# tests/cli/lib.bash — shared by the CLI test scripts (sourced, not run:
# ctest runs only tests/cli/*.sh).  Provides:
#   need_wb NAME        skip (77) when $WB is unset, fail when it is not executable
#   ok / bad MSG        count a passed / failed check (bad prints MSG on stderr)
#   finish NAME         print "NAME: N passed, M failed" and exit 0 or 1
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
