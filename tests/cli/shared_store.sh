#!/usr/bin/env bash
# shared_store.sh — four `wordbench train` processes on one store at once
# share its pages: the sum of their Pss over the store's mappings
# (vectors.npy, norms.npy, the LMDB index; /proc/PID/smaps) is about one
# copy's Rss (within 1.3x), not four.  The store (20,000 x 64 generated
# here) and the data set (2,000 distinct words of it) are made by the test;
# the processes train frozen embeddings for many epochs and are stopped (by
# pid) once every one has mapped the store and its store Rss has stopped
# growing.  Exit 0 pass, 1 fail, 77 skip.
set -u
. "$(dirname "$0")/lib.bash"
need_wb shared_store.sh
if [ ! -r /proc/self/smaps ]; then
    echo "shared_store.sh: no /proc/PID/smaps; skipping" >&2
    exit 77
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/wb-shared.XXXXXX") || exit 1
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT

# 20,000 words x 64 dims, deterministic values
awk 'BEGIN { s = 12345; for (i = 0; i < 20000; i++) { printf "w%d", i;
    for (d = 0; d < 64; d++) { s = (s * 1103515245 + 12345) % 2147483648; printf " %.4f", s / 2147483648 - 0.5 }
    printf "\n" } }' >"$T/vec.txt"
"$WB" convert -q "$T/vec.txt" "$T/store" >/dev/null 2>&1 || { bad "convert"; finish shared_store.sh; }
# 800 texts of 40 words drawn from w0..w1999; label = whether w0..w999 dominate
awk 'BEGIN { s = 7; for (i = 0; i < 800; i++) { lo = 0; t = "";
    for (j = 0; j < 40; j++) { s = (s * 1103515245 + 12345) % 2147483648; w = int(s / 2147483648 * 2000);
        lo += w < 1000; t = t (j ? " " : "") "w" w }
    printf "%s\t%d\n", t, (lo > 20) } }' >"$T/data.tsv"

# Store pages resident in process $1: "pss rss" in kB over the store's mappings.
store_mem() {
    awk -v dir="$T/store/" '
        /^[0-9a-f]+-[0-9a-f]+ / { in_store = index($0, dir) > 0; next }
        in_store && /^Pss:/ { pss += $2 }
        in_store && /^Rss:/ { rss += $2 }
        END { printf "%d %d\n", pss, rss }' "/proc/$1/smaps" 2>/dev/null
}

for i in 1 2 3 4; do
    "$WB" train --data "$T/data.tsv" --store "$T/store" --embeddings frozen --model tutorial --filters 16 \
        --maxlen 40 --epochs 100000 -q -o "$T/m$i.wbm" >/dev/null 2>"$T/err$i" </dev/null &
    pids+=($!)
done

# Wait until every process has the store mapped and its store Rss is stable.
stable=0
prev=""
for _ in $(seq 1 300); do
    now=""
    all=1
    for p in "${pids[@]}"; do
        kill -0 "$p" 2>/dev/null || break 2
        m=$(store_mem "$p")
        [ -n "$m" ] && [ "${m#* }" -gt 0 ] 2>/dev/null || all=0
        now="$now $m"
    done
    if [ "$all" -eq 1 ] && [ "$now" = "$prev" ]; then
        stable=$((stable + 1))
        [ "$stable" -ge 3 ] && break
    else
        stable=0
    fi
    prev=$now
    sleep 0.2
done
[ "$stable" -ge 3 ] && ok || bad "the trainers never settled: $now; $(cat "$T"/err* | head -c 500)"

sum_pss=0
max_rss=0
for p in "${pids[@]}"; do
    read -r pss rss <<<"$(store_mem "$p")"
    sum_pss=$((sum_pss + pss))
    [ "$rss" -gt "$max_rss" ] && max_rss=$rss
done
echo "shared_store.sh: store pages of 4 trainers: sum of Pss $sum_pss kB, one trainer's Rss $max_rss kB"
[ "$max_rss" -gt 0 ] && ok || bad "no store page resident"
# about one copy (pages are shared), not four
[ $((sum_pss * 10)) -le $((max_rss * 13)) ] && [ $((sum_pss * 10)) -ge $((max_rss * 7)) ] && ok ||
    bad "sum of Pss $sum_pss kB is not within 0.7-1.3x one trainer's Rss $max_rss kB"
for p in "${pids[@]}"; do
    kill -0 "$p" 2>/dev/null && ok || bad "trainer $p died: $(cat "$T"/err*)"
done

finish shared_store.sh
