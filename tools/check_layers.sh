#!/usr/bin/env bash
# Check the layer rule of src/ (docs/design.md, "Layers"): a file of a layer
# may include headers of its own layer and of the layers listed before it,
# never of a later one.
#   base < store < text < nn < model < experiment
# A header's layer is its folder for internal headers ("store/store_int.h")
# and, for a public header "wordbench/X.h", the folder of src/*/X.c (a public
# header without a source of its own, such as a types-only header, counts as
# base).  Public headers in include/wordbench/ are checked too: X.h may
# include only headers of X's layer or earlier.
# Usage: tools/check_layers.sh [ROOT]     exit 0 when the rule holds, 1 and
#        one line per violation (file:line: ...) otherwise.
#        tools/check_layers.sh --self-test  checks that a violation is caught.
set -euo pipefail
layers=(base store text nn model experiment)

rank() { # layer name -> index, or empty
    local i
    for i in "${!layers[@]}"; do [[ ${layers[$i]} == "$1" ]] && { echo "$i"; return; }; done
}

check() {
    local root=$1 bad=0 f layer r line inc hl hr
    declare -A pub=()
    for f in "$root"/src/*/*.c "$root"/src/*/*.cc; do
        [[ -e $f ]] || continue
        layer=$(basename "$(dirname "$f")")
        pub[$(basename "${f%.*}")]=$layer
    done
    header_layer() { # include path -> layer
        case $1 in
            wordbench/*) local n=${1#wordbench/}; n=${n%.h}; echo "${pub[$n]:-base}" ;;
            */*) echo "${1%%/*}" ;;
            *) echo "" ;;
        esac
    }
    for f in "$root"/src/*/* "$root"/include/wordbench/*.h; do
        [[ -f $f ]] || continue
        case $f in *.c|*.cc|*.h) ;; *) continue ;; esac
        if [[ $f == "$root"/include/* ]]; then
            n=$(basename "$f" .h); layer=${pub[$n]:-base}
        else
            layer=$(basename "$(dirname "$f")")
        fi
        r=$(rank "$layer")
        if [[ -z $r ]]; then echo "${f#$root/}: folder '$layer' is not a layer (${layers[*]})"; bad=1; continue; fi
        while IFS=: read -r line inc; do
            inc=${inc#*\"}; inc=${inc%%\"*}
            hl=$(header_layer "$inc")
            if [[ -z $hl ]]; then
                # a bare internal header must sit beside the file
                [[ -f $(dirname "$f")/$inc ]] && continue
                echo "${f#$root/}:$line: \"$inc\": name internal headers by layer (\"layer/$inc\")"; bad=1; continue
            fi
            hr=$(rank "$hl")
            if [[ -z $hr ]]; then echo "${f#$root/}:$line: \"$inc\": unknown layer '$hl'"; bad=1; continue; fi
            if (( hr > r )); then
                echo "${f#$root/}:$line: $layer includes \"$inc\" of the later layer $hl"; bad=1
            fi
        done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" || true)
    done
    return $bad
}

if [[ ${1:-} == --self-test ]]; then
    tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
    mkdir -p "$tmp/src/base" "$tmp/src/store" "$tmp/src/model" "$tmp/include/wordbench"
    printf '#include "wordbench/store.h"\n' > "$tmp/src/base/err.c"
    printf '#include "wordbench/err.h"\n' > "$tmp/src/store/store.c"
    printf '#include "wordbench/err.h"\n#include "store/store_int.h"\n' > "$tmp/src/model/model.c"
    : > "$tmp/src/store/store_int.h"
    if check "$tmp" >/dev/null; then echo "self-test: base including store was not caught"; exit 1; fi
    printf '#include "wordbench/err.h"\n' > "$tmp/src/base/err.c"
    check "$tmp" || { echo "self-test: a clean tree was refused"; exit 1; }
    printf '#include "model/x.h"\n' > "$tmp/src/store/store_int.h"
    if check "$tmp" >/dev/null; then echo "self-test: an internal header of a later layer was not caught"; exit 1; fi
    printf '#include "wordbench/model.h"\n' > "$tmp/src/store/store_int.h"
    if check "$tmp" >/dev/null; then echo "self-test: a public header of a later layer was not caught"; exit 1; fi
    echo "self-test ok"; exit 0
fi
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
check "$root" && echo "layers ok: ${layers[*]}"
