# tools/bench/lib.bash — shared by the benchmark scripts (sourced after they
# set $prog): messages on stderr and option checks.
#   die MSG             "$prog: MSG", exit 1
#   usage_error MSG     "$prog: MSG" + "try --help", exit 2
#   note MSG            "$prog: MSG" (progress)
#   need_value OPT ARGC the option has a value after it
#   positive_int OPT V  V is an integer >= 1 (at most 15 digits)
#   spread_data STORE OUT LINES
#                       OUT: LINES lines of 100 words drawn (seed 1) from 20,000 words spread evenly
#                       over STORE's rows (mdb_dump of its rows database), each with a random label
#                       (pos/neg) after a tab: a real vocabulary's access pattern over a big store

die() { echo "$prog: $*" >&2; exit 1; }
usage_error() { echo "$prog: $*" >&2; echo "$prog: try --help" >&2; exit 2; }
note() { echo "$prog: $*" >&2; }

need_value() { [[ $2 -ge 2 ]] || usage_error "$1 needs a value"; }
positive_int() {
    if ! [[ $2 =~ ^[0-9]+$ && ${#2} -le 15 ]] || (( 10#$2 < 1 )); then
        usage_error "$1: expected a positive integer, found '$2'"
    fi
}

spread_data() {
    command -v mdb_dump >/dev/null || die "mdb_dump is needed (lmdb-utils)"
    mdb_dump -s rows "$1/index.lmdb" | /usr/bin/python3 -c '
import random, sys
lines = sys.stdin.buffer.read().split(b"\n")
vals = lines[lines.index(b"HEADER=END") + 2::2]
vals = [v for v in vals if v.startswith(b" ")]
step = max(1, len(vals) // 20000)
words = [bytes.fromhex(v.strip().decode()) for v in vals[::step][:20000]]
words = [w for w in words if w.strip() and not any(c in w for c in b" \t\r\n")]
r = random.Random(1)
with open(sys.argv[1], "wb") as f:
    for _ in range(int(sys.argv[2])):
        f.write(b" ".join(r.choice(words) for _ in range(100)) + b"\t" + (b"pos" if r.random() < 0.5 else b"neg") + b"\n")
' "$2" "$3"
}
