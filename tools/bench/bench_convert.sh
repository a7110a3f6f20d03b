#!/usr/bin/env bash
# tools/bench/bench_convert.sh — wordbench convert vs gensim, side by side, on
# a synthetic GloVe file; then store look-up figures.  Prints a markdown
# report (machine line, exact commands, figures, ratios) on stdout and keeps
# a copy in WORKDIR.  Progress goes to stderr.
#
# What it measures, each tool under `/usr/bin/time -v` (wall time, peak RSS):
#   (a) wordbench convert --quiet --force FILE STORE
#   (b) gensim: KeyedVectors.load_word2vec_format(FILE, binary=False,
#       no_header=True) then .save(PATH)            (skipped with --no-gensim)
#   (c) single-thread look-ups/s and gather rows/s  (wb_bench_lookup)
#   (d) open the store + resolve the sampled words  (wb_bench_lookup)
# The page cache is not dropped (that needs root): the input is read once
# with cat before each tool so both start from a warm cache, and `sync` runs
# before each tool so neither pays for the other's dirty pages.
#
# Not here: building (cmake), the generator itself (wb_gen_glove --help),
# multi-threaded look-ups.  See tools/bench/README.md.
set -euo pipefail

prog=bench_convert.sh
rows=400000
dim=300
workdir=/tmp/wb-bench
build=./build
gensim=1
sample=20000
repeat=10
seed=1
input_arg=""
runs=1

usage() {
    cat <<EOF
usage: tools/bench/bench_convert.sh [options]
Benchmark 'wordbench convert' against gensim on a generated GloVe file, then store look-ups.
  --rows N       rows of the generated file (default $rows)
  --dim D        numbers per row (default $dim)
  --workdir DIR  where the input, the store and the reports go (default $workdir)
  --build DIR    CMake build directory holding wordbench, wb_gen_glove, wb_bench_lookup
                 (default $build)
  --no-gensim    skip the gensim run
  --sample K     words sampled for the look-up figures (default $sample)
  --repeat N     passes of wb_bench_lookup over the sampled words (default $repeat)
  --seed S       generator seed (default $seed)
  --input FILE   convert this existing GloVe text file instead of generating one (its rows
                 and dim are counted; the look-up words are sampled from it)
  --runs N       runs of wordbench convert; the report takes the fastest and lists all
                 (default $runs; gensim runs once)
  -h, --help     this text
The input is reused when WORKDIR already holds it with the recorded size.
Exit status: 0 success, 1 a tool failed or is missing, 2 usage error.
EOF
}

. "$(dirname "$0")/lib.bash"

while [[ $# -gt 0 ]]; do
    case $1 in
        --rows) need_value "$1" $#; positive_int "$1" "$2"; rows=$((10#$2)); shift 2 ;;
        --dim) need_value "$1" $#; positive_int "$1" "$2"; dim=$((10#$2)); shift 2 ;;
        --sample) need_value "$1" $#; positive_int "$1" "$2"; sample=$((10#$2)); shift 2 ;;
        --repeat) need_value "$1" $#; positive_int "$1" "$2"; repeat=$((10#$2)); shift 2 ;;
        --seed) need_value "$1" $#; [[ $2 =~ ^[0-9]+$ ]] || usage_error "--seed: expected an integer, found '$2'"
                seed=$2; shift 2 ;;
        --workdir) need_value "$1" $#; [[ -n $2 ]] || usage_error "--workdir: empty"; workdir=$2; shift 2 ;;
        --build) need_value "$1" $#; [[ -n $2 ]] || usage_error "--build: empty"; build=$2; shift 2 ;;
        --no-gensim) gensim=0; shift ;;
        --input) need_value "$1" $#; [[ -f $2 && -r $2 ]] || usage_error "--input: not a readable file: '$2'"
                 input_arg=$2; shift 2 ;;
        --runs) need_value "$1" $#; positive_int "$1" "$2"; runs=$((10#$2)); shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) usage_error "unknown option or argument '$1'" ;;
    esac
done
(( rows <= 4294967295 )) || usage_error "--rows: out of range: $rows (a store holds at most 2^32-1 rows)"
(( dim <= 1000000 )) || usage_error "--dim: out of range: $dim (allowed 1..1000000)"
if [[ -n $input_arg ]]; then
    dim=$(head -n1 "$input_arg" | awk '{ print NF - 1 }')
    rows=$(wc -l <"$input_arg")
    (( rows > 0 && dim > 0 )) || usage_error "--input: '$input_arg' does not look like GloVe text"
fi
(( sample <= rows )) || sample=$rows

# ---- tools -----------------------------------------------------------------
[[ -d $build ]] || die "no build directory '$build' (build first: cmake -S . -B build && cmake --build build -j; or pass --build DIR)"
build=$(cd "$build" && pwd)
WB=$build/wordbench
GEN=$build/wb_gen_glove
LOOKUP=$build/wb_bench_lookup
for target in wordbench_cli:"$WB" wb_gen_glove:"$GEN" wb_bench_lookup:"$LOOKUP"; do
    exe=${target#*:}
    [[ -x $exe ]] || die "missing $exe (build it: cmake --build '$build' --target ${target%%:*})"
done
TIME=/usr/bin/time
[[ -x $TIME ]] || die "missing $TIME: install GNU time (Debian package 'time': apt-get install time)"
"$TIME" -v true >/dev/null 2>&1 || die "$TIME does not accept -v: GNU time is needed (Debian package 'time')"
PY=/usr/bin/python3
if (( gensim )); then
    [[ -x $PY ]] || die "missing $PY (apt-get install python3), or pass --no-gensim"
    gensim_version=$("$PY" -c 'import gensim; print(gensim.__version__)' 2>/dev/null) ||
        die "gensim is not importable by $PY (apt-get install python3-gensim), or pass --no-gensim"
    [[ $gensim_version == 4.* ]] || note "warning: gensim $gensim_version; the baseline is meant for gensim 4.x (no_header needs >= 4.0)"
    numpy_version=$("$PY" -c 'import numpy; print(numpy.__version__)')
    python_version=$("$PY" -c 'import platform; print(platform.python_version())')
fi
wb_version=$("$WB" --version 2>/dev/null | head -n1) || wb_version="(unknown version)"

mkdir -p "$workdir" || die "cannot create the work directory $workdir"
workdir=$(cd "$workdir" && pwd)
input=$workdir/glove-${rows}x${dim}-s${seed}.txt
words=$workdir/words-${rows}x${dim}-s${seed}-k${sample}.txt
if [[ -n $input_arg ]]; then
    input=$(cd "$(dirname "$input_arg")" && pwd)/$(basename "$input_arg")
    words=$workdir/words-$(basename "$input_arg" .txt)-k${sample}.txt
fi
store=$workdir/store-${rows}x${dim}
gensim_out=$workdir/gensim-${rows}x${dim}
report=$workdir/report-${rows}x${dim}.md

# Shell-quote a command for display.
show() { local out="" a; for a in "$@"; do out+="$(printf '%q' "$a") "; done; echo "${out% }"; }
# Bytes of a file (0 when missing).
file_bytes() { if [[ -f $1 ]]; then stat -c %s "$1"; else echo 0; fi; }
# Bytes of a directory tree or file.
tree_bytes() { du -sb "$1" 2>/dev/null | cut -f1; }
# Decimal megabytes with one decimal.
mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1e6 }'; }

# ---- disk space --------------------------------------------------------------
# Text ~8.7 bytes per number; the store and gensim's copy ~4 bytes per number
# each, the store twice while --force swaps it.  Only what is not there yet counts.
est_text=$(( rows * (dim * 87 / 10 + 16) ))
est_store=$(( rows * dim * 4 + rows * 64 ))
need=$(( 3 * est_store + 16 * 1024 * 1024 ))
(( gensim )) && need=$(( need + est_store ))
[[ -f $input ]] || need=$(( need + est_text ))
[[ -n $input_arg ]] && need=$(( 3 * est_store + 16 * 1024 * 1024 + (gensim ? est_store : 0) ))
avail=$(df -P -B1 "$workdir" | awk 'NR == 2 { print $4 }')
if [[ -n $avail ]] && (( avail < need )); then
    die "not enough space in $workdir: about $(mb "$need") MB needed, $(mb "$avail") MB free (use --workdir or fewer --rows)"
fi

# ---- input -------------------------------------------------------------------
gen_cmd=("$GEN" --rows "$rows" --dim "$dim" --seed "$seed")
# The stamp names the options and a checksum of a small sample of the
# generator's output, so a changed generator invalidates old inputs.
gen_sum=$("$GEN" --rows 64 --dim 8 --seed "$seed" | cksum | cut -d' ' -f1) ||
    die "wb_gen_glove does not run: $GEN"
stamp_text="${gen_cmd[*]:1} gen-cksum $gen_sum"
stamp=$input.stamp
if [[ -n $input_arg ]]; then
    note "using $input ($rows rows x $dim)"
    if [[ ! -s $words ]]; then
        awk -v step=$(( rows / sample > 0 ? rows / sample : 1 )) -v k="$sample" \
            'NR % step == 1 && n < k { print $1; n++ }' "$input" >"$words.tmp" && mv -f "$words.tmp" "$words"
    fi
elif [[ -f $input && -f $stamp ]] && [[ $(head -n1 "$stamp") == "$stamp_text" ]] &&
   [[ $(sed -n 2p "$stamp") == "$(file_bytes "$input")" ]]; then
    note "reusing $input ($(mb "$(file_bytes "$input")") MB)"
else
    note "generating $input ..."
    rm -f "$stamp"
    t0=$(date +%s.%N)
    "${gen_cmd[@]}" --out "$input.tmp" --words-out "$words.tmp" --sample "$sample" ||
        die "wb_gen_glove failed (exit $?)"
    t1=$(date +%s.%N)
    mv -f "$input.tmp" "$input"
    mv -f "$words.tmp" "$words"
    printf '%s\n%s\n' "$stamp_text" "$(file_bytes "$input")" >"$stamp"
    note "generated $(mb "$(file_bytes "$input")") MB in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s"
fi
if [[ ! -s $words ]]; then
    note "writing the word list $words ..."
    "${gen_cmd[@]}" --out /dev/null --words-out "$words.tmp" --sample "$sample" ||
        die "wb_gen_glove failed (exit $?)"
    mv -f "$words.tmp" "$words"
fi
input_bytes=$(file_bytes "$input")

# ---- measuring -----------------------------------------------------------------
# time_field FILE LABEL: the value after "LABEL: " in a `time -v` report.
time_field() {
    awk -v k="$2" 'index($0, k ": ") { sub(/^.*: /, ""); print; exit }' "$1"
}
# wall_seconds FILE: "Elapsed (wall clock) time" as seconds ([h:]m:ss.cc).
wall_seconds() {
    time_field "$1" "Elapsed (wall clock) time (h:mm:ss or m:ss)" |
        awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.2f", s }'
}
# warm: input in the page cache, no dirty pages pending.
warm() { cat "$input" >/dev/null; sync; }
# run_timed NAME CMD...: run under time -v; report in $workdir/time-NAME.txt,
# stdout in NAME.out, stderr in NAME.err.
run_timed() {
    local name=$1; shift
    local rc=0
    "$TIME" -v -o "$workdir/time-$name.txt" "$@" >"$workdir/$name.out" 2>"$workdir/$name.err" || rc=$?
    if (( rc != 0 )); then
        echo "$prog: $name failed (exit $rc): $*" >&2
        grep -h '^Command terminated by signal' "$workdir/time-$name.txt" 2>/dev/null | sed 's/^/  /' >&2 || true
        tail -n 20 "$workdir/$name.err" | sed 's/^/  /' >&2
        echo "  (stdout: $workdir/$name.out, stderr: $workdir/$name.err)" >&2
        exit 1
    fi
}

wb_cmd=("$WB" convert --quiet --force "$input" "$store")
wb_runs=""   # "wall/cpu" of every run, for the report
wb_best=""
for (( r = 1; r <= runs; r++ )); do
    note "wordbench convert (run $r of $runs) ..."
    warm
    run_timed wordbench-convert-$r "${wb_cmd[@]}"
    t=$workdir/time-wordbench-convert-$r.txt
    w=$(wall_seconds "$t")
    c=$(awk -v u="$(time_field "$t" "User time (seconds)")" -v s="$(time_field "$t" "System time (seconds)")" 'BEGIN { printf "%.2f", u + s }')
    wb_runs+="${wb_runs:+, }${w} s (CPU ${c} s)"
    if [[ -z $wb_best ]] || awk -v a="$w" -v b="$(wall_seconds "$wb_best")" 'BEGIN { exit !(a < b) }'; then wb_best=$t; fi
done
wb_wall=$(wall_seconds "$wb_best")
wb_rss=$(time_field "$wb_best" "Maximum resident set size (kbytes)")
wb_user=$(time_field "$wb_best" "User time (seconds)")
wb_sys=$(time_field "$wb_best" "System time (seconds)")
wb_cpu=$(time_field "$wb_best" "Percent of CPU this job got")
store_bytes=$(tree_bytes "$store")

if (( gensim )); then
    note "gensim load_word2vec_format + save ..."
    snippet=$workdir/gensim_convert.py
    cat >"$snippet" <<'EOF'
# The gensim baseline of tools/bench/bench_convert.sh: load a GloVe text file
# (no header) and save it in gensim's native format.  Prints one JSON line.
import json, sys, time
t0 = time.perf_counter()
from gensim.models import KeyedVectors
t1 = time.perf_counter()
kv = KeyedVectors.load_word2vec_format(sys.argv[1], binary=False, no_header=True)
t2 = time.perf_counter()
kv.save(sys.argv[2])
t3 = time.perf_counter()
print(json.dumps({"rows": len(kv), "dim": kv.vector_size, "import_s": t1 - t0,
                  "load_s": t2 - t1, "save_s": t3 - t2}))
EOF
    rm -rf "$gensim_out"
    mkdir -p "$gensim_out"
    warm
    gs_cmd=("$PY" "$snippet" "$input" "$gensim_out/vectors.kv")
    run_timed gensim "${gs_cmd[@]}"
    gs_wall=$(wall_seconds "$workdir/time-gensim.txt")
    gs_rss=$(time_field "$workdir/time-gensim.txt" "Maximum resident set size (kbytes)")
    gs_user=$(time_field "$workdir/time-gensim.txt" "User time (seconds)")
    gs_sys=$(time_field "$workdir/time-gensim.txt" "System time (seconds)")
    gs_cpu=$(time_field "$workdir/time-gensim.txt" "Percent of CPU this job got")
    gs_json=$(tail -n1 "$workdir/gensim.out")
    gs_get() { "$PY" -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$gs_json" "$1"; }
    gs_rows=$(gs_get rows)
    [[ $gs_rows == "$rows" ]] || die "gensim read $gs_rows rows, expected $rows (see $workdir/gensim.err)"
    gs_load=$(gs_get load_s)
    gs_save=$(gs_get save_s)
    gs_import=$(gs_get import_s)
    gensim_bytes=$(tree_bytes "$gensim_out")
    rm -rf "$gensim_out" # only its size matters; the space is better left free
fi

note "wb_bench_lookup ..."
lk_cmd=("$LOOKUP" "$store" "$words" --repeat "$repeat")
rc=0
"${lk_cmd[@]}" >"$workdir/lookup.json" 2>"$workdir/lookup.err" || rc=$?
if (( rc != 0 )); then
    sed 's/^/  /' "$workdir/lookup.err" >&2
    die "wb_bench_lookup failed (exit $rc): $(show "${lk_cmd[@]}")"
fi
# jget KEY: a number from the flat JSON line of wb_bench_lookup.
jget() { sed -n "s/.*\"$1\":\\([^,}]*\\).*/\\1/p" "$workdir/lookup.json"; }
lk_open=$(jget open_ms); lk_resolve=$(jget resolve_ms); lk_or=$(jget open_resolve_ms)
lk_found=$(jget found); lk_words=$(jget words)
lk_rate=$(jget lookups_per_s); lk_ns=$(jget ns_per_lookup)
g_rate=$(jget gather_rows_per_s); g_mbs=$(jget gather_mb_per_s); g_batch=$(jget gather_batch)
[[ -n $lk_rate && -n $g_rate ]] || die "cannot read the output of wb_bench_lookup: $(cat "$workdir/lookup.json")"

# ---- report ------------------------------------------------------------------
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
[[ -n $cpu ]] || cpu=$(uname -p)
mem_gib=$(free -g | awk '/^Mem:/ { print $2 }')
fs=$(df -PT "$workdir" | awk 'NR == 2 { print $2 }')
f1() { awk -v x="$1" 'BEGIN { printf "%.1f", x }'; }
f2() { awk -v x="$1" 'BEGIN { printf "%.2f", x }'; }
mbs() { awk -v b="$input_bytes" -v s="$1" 'BEGIN { if (s > 0) printf "%.1f", b / 1e6 / s; else print "n/a" }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "n/a" }'; }
thousands() {
    awk -v x="$1" 'BEGIN { s = sprintf("%.0f", x); n = length(s); o = ""
        for (i = 1; i <= n; i++) { o = o substr(s, i, 1); if (i < n && (n - i) % 3 == 0) o = o "," }
        print o }'
}
# compare A B MORE LESS: "N.Nx MORE" when A >= B, else "N.Nx LESS" (B / A).
compare() {
    awk -v a="$1" -v b="$2" -v m="$3" -v l="$4" 'BEGIN {
        if (a <= 0 || b <= 0) print "n/a"; else if (a >= b) printf "%.1fx %s", a / b, m; else printf "%.1fx %s", b / a, l }'
}

{
    echo "## wordbench convert vs gensim: ${rows} x ${dim} GloVe text ($(mb "$input_bytes") MB)"
    echo
    echo "- Machine: $(uname -srm) · ${cpu} · $(nproc) CPUs · ${mem_gib} GiB RAM (\`free -g\` total) · work dir on ${fs}"
    echo "- Load while measuring (\`uptime\` at the end): $(uptime | sed 's/.*load average: //') on $(nproc) CPUs."
    echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC') · ${wb_version}$( (( gensim )) && echo " · gensim ${gensim_version}, numpy ${numpy_version}, Python ${python_version}")"
    if [[ -n $input_arg ]]; then
        echo "- Input: \`${input}\`, ${input_bytes} bytes, ${rows} rows x ${dim}, GloVe text without header (given with --input)."
    else
        echo "- Input: \`${input}\`, ${input_bytes} bytes, GloVe text without header (\`$(show "${gen_cmd[@]}")\`)."
    fi
    echo "  Files were in the page cache: the input was read once with \`cat\` and \`sync\` was run before each tool."
    echo "  MB = 10^6 bytes of input; MB/s = input bytes / wall time; peak RSS = \`Maximum resident set size\` of \`/usr/bin/time -v\`."
    echo
    echo "| tool | wall s | input MB/s | peak RSS MiB | user s | sys s | CPU | output |"
    echo "|---|---:|---:|---:|---:|---:|---:|---|"
    echo "| wordbench convert$( (( runs > 1 )) && echo " (fastest of $runs)") | $(f2 "$wb_wall") | $(mbs "$wb_wall") | $(mib "$wb_rss") | ${wb_user} | ${wb_sys} | ${wb_cpu} | store $(mb "$store_bytes") MB |"
    if (( gensim )); then
        echo "| gensim load_word2vec_format + save | $(f2 "$gs_wall") | $(mbs "$gs_wall") | $(mib "$gs_rss") | ${gs_user} | ${gs_sys} | ${gs_cpu} | $(mb "$gensim_bytes") MB |"
        echo "| **ratio gensim / wordbench** | **$(ratio "$gs_wall" "$wb_wall")** | | **$(ratio "$gs_rss" "$wb_rss")** | | | | |"
        echo
        echo "wordbench convert is **$(compare "$gs_wall" "$wb_wall" faster slower)** than gensim and needs **$(compare "$gs_rss" "$wb_rss" less more)** peak memory."
        echo "gensim inside the process: import $(f2 "$gs_import") s, load_word2vec_format $(f2 "$gs_load") s (no_header=True reads the file twice), save $(f2 "$gs_save") s."
    else
        echo "| gensim | skipped (--no-gensim) | | | | | | |"
    fi
    echo
    (( runs > 1 )) && echo "wordbench convert, every run: ${wb_runs} (CPU = user + sys)." && echo
    echo "| store look-ups (wb_bench_lookup, ${lk_words} sampled words, ${repeat} passes, 1 thread) | |"
    echo "|---|---:|"
    echo "| open store + resolve ${lk_words} words (wb_store_lookup_many) | $(f1 "$lk_or") ms (open $(f2 "$lk_open") ms, resolve $(f1 "$lk_resolve") ms; ${lk_found} found) |"
    echo "| look-ups per second (wb_store_lookup) | $(thousands "$lk_rate") /s ($(f1 "$lk_ns") ns each) |"
    echo "| gather (wb_store_gather, ${g_batch}-row batches, shuffled rows) | $(thousands "$g_rate") rows/s ($(f1 "$g_mbs") MB/s of float32) |"
    echo
    echo "Commands:"
    echo
    echo '```'
    show "$TIME" -v "${wb_cmd[@]}"
    (( gensim )) && echo "$(show "$TIME" -v "${gs_cmd[@]}")   # script below"
    show "${lk_cmd[@]}"
    echo '```'
    if (( gensim )); then
        echo
        echo "\`${snippet}\`:"
        echo
        echo '```python'
        cat "$snippet"
        echo '```'
    fi
} >"$report.tmp"
mv -f "$report.tmp" "$report"
cat "$report"
note "report saved to $report"
