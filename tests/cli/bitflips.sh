#!/usr/bin/env bash
# bitflips.sh — a changed byte in a store's index never kills a process that opens it (issue 18,
# "corrupt index pages", as a user found it: one byte changed at a random offset of a 20,000-word
# store's data.mdb, 60 times, then `lookup` and `verify` on each copy; 4 of 120 runs used to die with
# SIGSEGV or SIGBUS, `verify` among them).
#
# A 20,000-word store (trees three pages deep, so most changes land below the root pages the open
# checks), then N times (60, 20 when WB_TEST_SCALE < 1; WB_BITFLIPS=N for more): a copy of data.mdb
# with one byte at a seeded random offset set to a random other value, then
#   - `lookup` of 20 words (the O(1) open): exit 0 or 1, never a signal;
#   - `lookup --verify-on-open`: exit 1 (the checksum of data.mdb no longer matches), never a signal;
#   - `verify`: exit 1 naming data.mdb, never a signal.
# The vectors are hard links (only the index is copied), so each round costs one 1 MB copy.
#
# Environment: WB, WB_TEST_SCALE, WB_BITFLIPS.  About 10 s on a quiet machine.  Exit 0 pass, 1 fail, 77 skip.
set -u

. "$(dirname "$0")/lib.bash"
need_wb bitflips.sh
T=$(mktemp -d "${TMPDIR:-/tmp}/wb-bitflips.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
N=60
awk -v s="${WB_TEST_SCALE:-1}" 'BEGIN { exit !(s < 1) }' && N=20
N=${WB_BITFLIPS:-$N}
case "$N" in '' | *[!0-9]*) echo "bitflips.sh: WB_BITFLIPS=$N is not a number" >&2; exit 2 ;; esac

awk 'BEGIN { srand(18); for (i = 0; i < 20000; i++) { printf "w%05d_%x", i, int(rand() * 65536);
      for (j = 0; j < 8; j++) printf " %.4f", rand() - 0.5; printf "\n" } }' >"$T/v.txt"
"$WB" convert -q "$T/v.txt" "$T/s" >/dev/null 2>"$T/err" || { bad "convert: $(head -c 300 "$T/err")"; finish bitflips.sh; }
words=$(awk 'NR % 997 == 1 { print $1 }' "$T/v.txt" | head -n 20 | tr '\n' ' ')
M=$T/s/index.lmdb/data.mdb
size=$(stat -c %s "$M")
[ "$size" -ge 200000 ] || { bad "the index is only $size bytes (want trees deeper than their root)"; finish bitflips.sh; }
mkdir -p "$T/f/index.lmdb"
ln "$T/s/vectors.npy" "$T/s/norms.npy" "$T/f/"
for x in "$T/s/index.lmdb/"*; do [ "$x" = "$M" ] || cp "$x" "$T/f/index.lmdb/"; done

RANDOM=18
died=0 lookup_failed=0
for _ in $(seq 1 "$N"); do
    cp "$M" "$T/f/index.lmdb/data.mdb"
    off=$(((RANDOM * 32768 + RANDOM) % size))
    old=$(od -An -tu1 -j "$off" -N 1 "$M" | tr -d ' ')
    val=$(((old + 1 + RANDOM % 255) % 256))
    printf "$(printf '\\%03o' "$val")" | dd of="$T/f/index.lmdb/data.mdb" bs=1 seek="$off" conv=notrunc 2>/dev/null
    where="byte $off set to $val (was $old)"
    # shellcheck disable=SC2086
    "$WB" lookup --no-vector "$T/f" $words >/dev/null 2>"$T/err"
    rc=$?
    if [ "$rc" -ge 2 ]; then died=$((died + 1)); bad "lookup exited $rc after $where: $(head -c 200 "$T/err")"; fi
    [ "$rc" -eq 1 ] && lookup_failed=$((lookup_failed + 1))
    # shellcheck disable=SC2086
    "$WB" lookup --no-vector --verify-on-open "$T/f" $words >/dev/null 2>"$T/err"
    rc=$?
    [ "$rc" -eq 1 ] && ok || { [ "$rc" -ge 128 ] && died=$((died + 1)); bad "lookup --verify-on-open exited $rc after $where: $(head -c 200 "$T/err")"; }
    "$WB" verify "$T/f" >/dev/null 2>"$T/err"
    rc=$?
    [ "$rc" -eq 1 ] && grep -q 'data\.mdb' "$T/err" && ok ||
        { [ "$rc" -ge 128 ] && died=$((died + 1)); bad "verify exited $rc after $where: $(head -c 200 "$T/err")"; }
done
[ "$died" -eq 0 ] && ok
echo "bitflips.sh: $N changed bytes in a $size-byte index: $died runs died by a signal; the plain lookup" \
    "failed cleanly $lookup_failed times, found nothing wrong the other times" >&2
finish bitflips.sh
