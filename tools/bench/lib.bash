# tools/bench/lib.bash — shared by the benchmark scripts (sourced after they
# set $prog): messages on stderr and option checks.
#   die MSG             "$prog: MSG", exit 1
#   usage_error MSG     "$prog: MSG" + "try --help", exit 2
#   note MSG            "$prog: MSG" (progress)
#   need_value OPT ARGC the option has a value after it
#   positive_int OPT V  V is an integer >= 1 (at most 15 digits)

die() { echo "$prog: $*" >&2; exit 1; }
usage_error() { echo "$prog: $*" >&2; echo "$prog: try --help" >&2; exit 2; }
note() { echo "$prog: $*" >&2; }

need_value() { [[ $2 -ge 2 ]] || usage_error "$1 needs a value"; }
positive_int() {
    if ! [[ $2 =~ ^[0-9]+$ && ${#2} -le 15 ]] || (( 10#$2 < 1 )); then
        usage_error "$1: expected a positive integer, found '$2'"
    fi
}
