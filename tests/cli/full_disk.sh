#!/usr/bin/env bash
# full_disk.sh — every command that writes files meets a full disk (issue 18): it exits 1 naming the
# file and the system's reason, leaves no temporary behind (MODEL.tmp*, MODEL.ckpt.tmp*,
# .STORE.wbtmp-*), and the previous result stays intact (a model at the -o path byte for byte, a store
# that `--force` would have replaced still verifies with its old fingerprint).
#
#   file size limit   always: `ulimit -f` with SIGXFSZ ignored makes a write past the limit fail with
#                     EFBIG ("File too large"), the same error path as a full disk, without privileges.
#                     train whose model write fails; train whose checkpoint write fails (the -o path
#                     then holds the older model or a complete model of an earlier epoch, never part of
#                     one); convert into a new path; convert --force over a store; export-embeddings.
#   a full tmpfs      when the kernel lets an unprivileged user namespace mount one (`unshare -rm`;
#                     skipped with a note otherwise): a 2 MiB tmpfs holding the older model and a filler
#                     that leaves less room than the write needs — train -o, convert and
#                     export-embeddings into it fail with "No space left on device", nothing is left
#                     behind and the space used afterwards is what it was before.
#
# Environment: WB, WB_FIXTURES.  A few seconds.  Exit 0 pass, 1 fail, 77 skip.
set -u

. "$(dirname "$0")/lib.bash"
need_wb full_disk.sh
if [ -z "${WB_FIXTURES:-}" ]; then
    echo "full_disk.sh: set WB_FIXTURES (ctest does); skipping" >&2
    exit 77
fi
TX=$WB_FIXTURES/text
T=$(mktemp -d "${TMPDIR:-/tmp}/wb-full-disk.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT

"$WB" convert -q "$WB_FIXTURES/vectors/demo.glove.txt" "$T/demo" >/dev/null 2>&1 || { bad "convert demo"; finish full_disk.sh; }
K=(train --data "$TX/demo_sentiment.tsv" --test-size 0.2 --maxlen 20 -q --store "$T/demo" --model kim
   --embeddings finetune --seed 7)
"$WB" "${K[@]}" --epochs 1 -o "$T/old.wbm" >/dev/null 2>&1 || { bad "the older model"; finish full_disk.sh; }
rm -f "$T/old.wbm.ckpt"
"$WB" "${K[@]}" --epochs 2 -o "$T/new.wbm" >/dev/null 2>&1 || { bad "the newer model"; finish full_disk.sh; }
msize=$(stat -c %s "$T/new.wbm") csize=$(stat -c %s "$T/new.wbm.ckpt")
[ "$csize" -gt $((msize + 8192)) ] || { bad "the checkpoint ($csize B) is not larger than the model ($msize B)"; finish full_disk.sh; }
fp() { "$WB" info --json "$1" 2>/dev/null | sed -n 's/.*"fingerprint": *"\([0-9a-f]*\)".*/\1/p'; }
old_fp=$(fp "$T/demo")
[ -n "$old_fp" ] || { bad "info --json gives no fingerprint"; finish full_disk.sh; }
# temporaries of any writer in a directory
leftovers() { (cd "$1" && ls -a | grep -E '\.tmp|wbtmp' || true); }

# ---- a file size limit ---------------------------------------------------------------------------------
# limited KB CMD...: run CMD with writes limited to KB KiB per file and SIGXFSZ ignored (inherited
# through exec), stdout to $T/out, stderr to $T/err, exit status in rc
limited() {
    local kb=$1
    shift
    (trap '' XFSZ; ulimit -f "$kb" && exec "$@") >"$T/out" 2>"$T/err"
    rc=$?
}
mkdir "$T/f"
cp "$T/old.wbm" "$T/f/m.wbm"
# the model write fails (the limit is half the model)
limited $((msize / 2048)) "$WB" "${K[@]}" --epochs 2 -o "$T/f/m.wbm"
[ "$rc" -eq 1 ] && grep -q 'm\.wbm.*File too large' "$T/err" && ok ||
    bad "train with the model write failing: exit $rc, $(head -c 300 "$T/err")"
cmp -s "$T/old.wbm" "$T/f/m.wbm" && ok || bad "a failed model write changed the older model"
[ -z "$(leftovers "$T/f")" ] && ok || bad "temporaries after a failed model write: $(leftovers "$T/f")"
# the checkpoint write fails (the limit lies between the model and the checkpoint): the model may have
# been saved for the first epoch, completely
rm -f "$T/f"/m.wbm.ckpt
limited $(((msize + csize) / 2048)) "$WB" "${K[@]}" --epochs 2 -o "$T/f/m.wbm"
[ "$rc" -eq 1 ] && grep -q 'm\.wbm\.ckpt.*File too large' "$T/err" && ok ||
    bad "train with the checkpoint write failing: exit $rc, $(head -c 300 "$T/err")"
if cmp -s "$T/old.wbm" "$T/f/m.wbm"; then ok
else "$WB" summary "$T/f/m.wbm" >/dev/null 2>"$T/err2" && ok || bad "after a failed checkpoint write the model does not load: $(head -c 300 "$T/err2")"; fi
[ ! -e "$T/f/m.wbm.ckpt" ] && ok || bad "a failed first checkpoint write left a checkpoint"
[ -z "$(leftovers "$T/f")" ] && ok || bad "temporaries after a failed checkpoint write: $(leftovers "$T/f")"
# convert into a new path: nothing appears
limited 8 "$WB" convert -q "$WB_FIXTURES/vectors/demo.glove.txt" "$T/f/s"
[ "$rc" -eq 1 ] && grep -q "$T/f/.*File too large" "$T/err" && ok || bad "convert under a size limit: exit $rc, $(head -c 300 "$T/err")"
[ ! -e "$T/f/s" ] && [ -z "$(leftovers "$T/f")" ] && ok || bad "a failed convert left: $(ls -a "$T/f")"
# convert --force over a store: the store stays what it was
cp -r "$T/demo" "$T/f/d"
limited 8 "$WB" convert -q --force "$WB_FIXTURES/vectors/glove.txt" "$T/f/d"
[ "$rc" -eq 1 ] && grep -q "$T/f/.*File too large" "$T/err" && ok || bad "convert --force under a size limit: exit $rc, $(head -c 300 "$T/err")"
"$WB" verify -q "$T/f/d" >/dev/null 2>"$T/err" && [ "$(fp "$T/f/d")" = "$old_fp" ] && ok ||
    bad "the store a failed convert --force would have replaced: $(head -c 300 "$T/err")"
[ -z "$(leftovers "$T/f")" ] && ok || bad "temporaries after a failed convert --force: $(leftovers "$T/f")"
# export-embeddings into a new store
limited 8 "$WB" export-embeddings -q "$T/new.wbm" "$T/f/x"
[ "$rc" -eq 1 ] && grep -q "$T/f/.*File too large" "$T/err" && ok || bad "export-embeddings under a size limit: exit $rc, $(head -c 300 "$T/err")"
[ ! -e "$T/f/x" ] && [ -z "$(leftovers "$T/f")" ] && ok || bad "a failed export-embeddings left: $(ls -a "$T/f")"

# ---- a full tmpfs ----------------------------------------------------------------------------------
# The commands run in a private mount namespace over $T/mnt; one namespace per command, so each starts
# with: the older model as m.wbm, a filler leaving FREE KiB, then CMD.  The results come out through
# $T: rc, err, the listing before and after, the space used before and after, m.wbm's copy.
cat >"$T/inner.sh" <<'EOF'
M=$1 free=$2 T=$3
shift 3
mount -t tmpfs -o size=2m,mode=0755 wbtest "$M" || exit 99
cp "$T/old.wbm" "$M/m.wbm"
dd if=/dev/zero of="$M/filler" bs=4k 2>/dev/null
truncate -s -$((free * 1024)) "$M/filler"
used() { df -k --output=used "$M" | tail -n 1; }
used >"$T/used_before"
"$@" >"$T/out" 2>"$T/err"
echo $? >"$T/rc"
used >"$T/used_after"
(cd "$M" && ls -a) >"$T/ls_after"
cp "$M/m.wbm" "$T/m_after.wbm"
EOF
mkdir "$T/mnt"
if ! unshare -rm sh -c "mount -t tmpfs -o size=64k wbtest '$T/mnt'" 2>/dev/null; then
    echo "full_disk.sh: cannot mount a tmpfs in a user namespace here (unshare -rm): the full-tmpfs part left out" >&2
    finish full_disk.sh
fi
# full CMD...: the namespace run (the mount point stands as @M in CMD's arguments); rc from inside
full() {
    local free=$1 a
    shift
    local -a args=()
    for a in "$@"; do args+=("${a//@M/$T/mnt}"); done
    rm -f "$T/rc" "$T/m_after.wbm"
    unshare -rm bash "$T/inner.sh" "$T/mnt" "$free" "$T" "${args[@]}"
    rc=$(cat "$T/rc" 2>/dev/null || echo "none (the namespace script failed)")
    what="exit $rc, $(head -c 300 "$T/err")"
}
nothing_left() { ! grep -qvxE '\.|\.\.|m\.wbm|filler' "$T/ls_after" && [ "$(cat "$T/used_before")" = "$(cat "$T/used_after")" ]; }
full $((msize / 2048)) "$WB" "${K[@]}" --epochs 2 -o @M/m.wbm
[ "$rc" = 1 ] && grep -q "$T/mnt/m\.wbm.*No space left on device" "$T/err" && ok || bad "train into a full tmpfs: $what"
cmp -s "$T/old.wbm" "$T/m_after.wbm" && ok || bad "train into a full tmpfs changed the older model"
nothing_left && ok || bad "train into a full tmpfs left: $(tr '\n' ' ' <"$T/ls_after"), $(cat "$T/used_before") KiB used before, $(cat "$T/used_after") after"
full 8 "$WB" convert -q "$WB_FIXTURES/vectors/demo.glove.txt" @M/s
[ "$rc" = 1 ] && grep -q "$T/mnt/.*No space left on device" "$T/err" && ok || bad "convert into a full tmpfs: $what"
nothing_left && ok || bad "convert into a full tmpfs left: $(tr '\n' ' ' <"$T/ls_after"), $(cat "$T/used_before") KiB used before, $(cat "$T/used_after") after"
full 8 "$WB" export-embeddings -q "$T/new.wbm" @M/x
[ "$rc" = 1 ] && grep -q "$T/mnt/.*No space left on device" "$T/err" && ok || bad "export-embeddings into a full tmpfs: $what"
nothing_left && ok || bad "export-embeddings into a full tmpfs left: $(tr '\n' ' ' <"$T/ls_after")"
finish full_disk.sh
