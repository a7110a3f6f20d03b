#!/usr/bin/env bash
# tools/bench/bench_evaluate.sh — `wordbench evaluate` vs gensim 4.2's
# KeyedVectors.evaluate_word_analogies, side by side on the same vectors:
# wall time and peak RSS of each process, and whether their results agree.
# Prints a markdown report (machine line, exact commands, figures, ratios)
# on stdout and keeps a copy in WORKDIR; progress goes to stderr.
#
# Inputs (made when missing, under flock /work/bench-data/.lock when they
# live there):
#   TEXT   a GloVe file with the analogy words inserted (default
#          /work/bench-data/glove400k-analogy.txt, from glove400k.txt by
#          tools/bench/make_analogy_vectors.py)
#   STORE  TEXT converted by wordbench (default TEXT without .txt + .store)
#   KV     TEXT saved in gensim's own format (default TEXT without .txt +
#          .kv), which gensim then loads memory-mapped: its fastest start.
# Runs, each under /usr/bin/time (wall, peak RSS), after one untimed
# wordbench run so the store's pages are in the page cache for both:
#   (a) wordbench evaluate STORE --analogies Q --restrict-vocab N --json
#   (b) tools/gensim_wordeval.py KV --format kv --analogies Q --restrict-vocab N
#       --compare (a)'s JSON   (gensim's evaluate_word_analogies; its time
#       inside Python is reported apart from loading)
# The comparison requires equal correct / incorrect counts in every section.
#
# Not here: building (cmake), the generator (tools/bench/gen_glove.c).
set -euo pipefail

prog=bench_evaluate.sh
text=/work/bench-data/glove400k-analogy.txt
base=/work/bench-data/glove400k.txt
questions=../shared/data/wordsim/questions-words.txt
restrict=300000
workdir=/tmp/wb-bench-evaluate
build=./build
threads=0
gensim=1

usage() {
    cat <<EOF
usage: tools/bench/bench_evaluate.sh [options]
Benchmark 'wordbench evaluate' against gensim's evaluate_word_analogies.
  --text FILE        GloVe file with the analogy words (default $text; made from
                     --base by tools/bench/make_analogy_vectors.py when missing)
  --base FILE        generated GloVe file to insert the words into (default $base)
  --questions FILE   analogy questions (default $questions)
  --restrict-vocab N vocabulary rows (default $restrict)
  --threads N        wordbench --threads (default $threads = one per core)
  --workdir DIR      reports and JSON results (default $workdir)
  --build DIR        CMake build directory holding wordbench (default $build)
  --no-gensim        wordbench only
  -h, --help         this text
Exit status: 0 success (also when the results differ: the report says so),
1 a tool failed or is missing, 2 usage error.
EOF
}

. "$(dirname "$0")/lib.bash"

while [[ $# -gt 0 ]]; do
    case $1 in
        --text) need_value "$1" $#; text=$2; shift 2 ;;
        --base) need_value "$1" $#; base=$2; shift 2 ;;
        --questions) need_value "$1" $#; questions=$2; shift 2 ;;
        --restrict-vocab) need_value "$1" $#; [[ $2 =~ ^[0-9]+$ ]] || usage_error "--restrict-vocab: expected a number, found '$2'"
                          restrict=$2; shift 2 ;;
        --threads) need_value "$1" $#; [[ $2 =~ ^[0-9]+$ ]] || usage_error "--threads: expected a number, found '$2'"
                   threads=$2; shift 2 ;;
        --workdir) need_value "$1" $#; [[ -n $2 ]] || usage_error "--workdir: empty"; workdir=$2; shift 2 ;;
        --build) need_value "$1" $#; [[ -n $2 ]] || usage_error "--build: empty"; build=$2; shift 2 ;;
        --no-gensim) gensim=0; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage_error "unknown option or argument '$1'" ;;
    esac
done

here=$(cd "$(dirname "$0")" && pwd)
wb=$(cd "$build" 2>/dev/null && pwd)/wordbench
[[ -x $wb ]] || die "no wordbench in $build (build it first: cmake --build $build --target wordbench_cli)"
[[ -x /usr/bin/time ]] || die "needs GNU time (/usr/bin/time, Debian package 'time')"
[[ -r $questions ]] || die "cannot read $questions"
py=/usr/bin/python3
if (( gensim )); then
    $py -c "import gensim" 2>/dev/null || die "gensim is not installed for $py (Debian python3-gensim), or use --no-gensim"
fi
store=${text%.txt}.store
kv=${text%.txt}.kv
mkdir -p "$workdir"

# Inputs, made once; several helpers may share /work/bench-data.
lock=/dev/null
[[ $(dirname "$text") == /work/bench-data ]] && lock=/work/bench-data/.lock
(
    flock 9
    if [[ ! -s $text ]]; then
        [[ -r $base ]] || die "cannot read $base to make $text"
        note "inserting the analogy words into $base -> $text"
        $py "$here/make_analogy_vectors.py" "$base" "$questions" "$text.tmp"
        mv "$text.tmp" "$text"
    fi
    if [[ ! -d $store ]]; then
        note "converting $text -> $store"
        "$wb" convert --quiet "$text" "$store"
    fi
    if (( gensim )) && [[ ! -s $kv ]]; then
        note "saving $text in gensim's format -> $kv (a few minutes)"
        $py "$here/../gensim_wordeval.py" "$text" --format glove --save-kv "$kv.tmp"
        for f in "$kv.tmp"*; do mv "$f" "${f/$kv.tmp/$kv}"; done
    fi
) 9>"$lock"

wbjson=$workdir/wordbench.json
gsjson=$workdir/gensim.json
wbcmd=("$wb" evaluate "$store" --analogies "$questions" --restrict-vocab "$restrict" --threads "$threads" --quiet --json)
gscmd=("$py" "$here/../gensim_wordeval.py" "$kv" --format kv --analogies "$questions" --restrict-vocab "$restrict"
       --out "$gsjson" --compare "$wbjson")

# timed RUN...: sets T_WALL (s), T_RSS (KB), T_CPU (user + system s); stdout to $T_OUT
timed() {
    local tf rc=0 u s
    tf=$(mktemp)
    /usr/bin/time -f "%e %M %U %S" -o "$tf" "$@" >"$T_OUT" || rc=$?
    read -r T_WALL T_RSS u s < <(tail -1 "$tf")
    T_CPU=$($py -c "print('%.1f' % ($u + $s))")
    rm -f "$tf"
    return $rc
}

note "warming the page cache (one untimed wordbench run)"
"${wbcmd[@]}" >/dev/null
note "wordbench evaluate"
T_OUT=$wbjson timed "${wbcmd[@]}"
wb_wall=$T_WALL wb_rss=$T_RSS wb_cpu=$T_CPU
wb_inner=$($py -c "import json,sys; print('%.2f' % json.load(open(sys.argv[1]))['results'][0]['seconds'])" "$wbjson")
wb_acc=$($py -c "import json,sys; t=json.load(open(sys.argv[1]))['results'][0]['analogies'][0]['total']; print('%.4f (%d/%d)' % (t['accuracy'], t['correct'], t['correct']+t['incorrect']))" "$wbjson")
if (( gensim )); then
    note "gensim evaluate_word_analogies (this takes a while)"
    set +e
    T_OUT=$workdir/compare.txt timed "${gscmd[@]}"
    agree=$?
    set -e
    gs_wall=$T_WALL gs_rss=$T_RSS gs_cpu=$T_CPU
    read -r gs_inner gs_load < <($py -c "import json,sys; j=json.load(open(sys.argv[1])); print('%.2f %.2f' % (j['seconds'], j['load_seconds']))" "$gsjson")
fi

report=$workdir/report.md
{
    echo "### wordbench evaluate vs gensim evaluate_word_analogies ($(date -u +%Y-%m-%d))"
    echo
    echo "- machine: $(lscpu | grep 'Model name' | sed 's/  */ /g'), $(nproc) cores (shared with other jobs: compare ratios, not absolute times)"
    echo "- vectors: $text ($(wc -l <"$text") rows), store $store; questions $questions; restrict_vocab $restrict"
    echo "- wordbench: \`${wbcmd[*]}\`"
    (( gensim )) && echo "- gensim $($py -c 'import gensim; print(gensim.__version__)'): \`${gscmd[*]}\`"
    echo
    echo "| | wall time | CPU time | peak RSS | benchmark time | accuracy |"
    echo "|---|---|---|---|---|---|"
    echo "| wordbench evaluate | ${wb_wall} s | ${wb_cpu} s | $((wb_rss / 1024)) MB | ${wb_inner} s | $wb_acc |"
    if (( gensim )); then
        echo "| gensim (KeyedVectors.load mmap + evaluate_word_analogies) | ${gs_wall} s | ${gs_cpu} s | $((gs_rss / 1024)) MB | ${gs_inner} s (load ${gs_load} s) | $($py -c "import json,sys; t=json.load(open(sys.argv[1]))['analogies'][0]['total']; print('%.4f (%d/%d)' % (t['accuracy'], t['correct'], t['correct']+t['incorrect']))" "$gsjson") |"
        echo
        echo "- wall time: wordbench is $($py -c "print('%.1f' % ($gs_wall / $wb_wall))")x faster (CPU time: $($py -c "print('%.1f' % ($gs_cpu / max($wb_cpu, 0.1)))")x less); peak RSS: $($py -c "print('%.2f' % ($wb_rss / $gs_rss))") of gensim's"
        if (( agree == 0 )); then echo "- results: $(tail -1 "$workdir/compare.txt")"
        else echo "- results DIFFER:"; sed 's/^/  - /' "$workdir/compare.txt"; fi
    fi
} | tee "$report"
