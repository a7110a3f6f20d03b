#!/usr/bin/env bash
# The Debian package as a user gets it: build it with CPack (cmake/deb.cmake), install it with
# `apt-get install ./wordbench_*.deb`, run the installed CLI (--version, a convert and a lookup) and
# the installed Python module, then remove the package (also when a step fails).  Needs root or sudo
# (it installs into /usr); tools/test.sh runs it when CI=true or with --package.
# Usage: tools/test_package.sh [BUILD_DIR]   (default build-deb)
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
build=${1:-build-deb}
sudo=""
[[ $(id -u) -ne 0 ]] && sudo="sudo"
if dpkg-query -W -f='${Status}' wordbench 2>/dev/null | grep -q "install ok installed"; then
  echo "test_package.sh: a wordbench package is installed already; remove it first" >&2
  exit 1
fi
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr -DWB_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null
rm -f "$build"/wordbench_*.deb
(cd "$build" && cpack -G DEB >/dev/null)
deb=$(ls "$build"/wordbench_*.deb)
dpkg-deb -f "$deb" Package Version Depends
tmp=$(mktemp -d)
cleanup() {
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq wordbench >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "./$deb" >/dev/null
# run from elsewhere, without PYTHONPATH, so that only the installed files can answer
cd "$tmp"
unset PYTHONPATH
[[ $(command -v wordbench) == /usr/bin/wordbench ]]
wordbench --version
wordbench convert -q "$src/fixtures/vectors/demo.glove.txt" demo.store
wordbench lookup --no-vector demo.store king queen
/usr/bin/python3 -c "import wordbench"
/usr/bin/python3 - <<'PY'
import wordbench
kv = wordbench.Store("demo.store")
assert wordbench.__file__.startswith("/usr/lib/python3/dist-packages/"), wordbench.__file__
assert kv.get_index("queen") == 1 and kv.most_similar("king", topn=1)[0][0] == "prince"
print("python: wordbench %s from %s, %d x %d store" % (wordbench.__version__, wordbench.__file__, len(kv), kv.vector_size))
PY
pkg-config --modversion wordbench
# a program of the user's own, built against the installed headers and library through pkg-config
cat > use.c <<'C'
#include <stdio.h>
#include <string.h>
#include <wordbench/store.h>
int main(int argc, char **argv) {
    wb_store *st; wb_err e = {0}; uint32_t row;
    if (argc < 3 || wb_store_open(&st, argv[1], &e) != 0) { fprintf(stderr, "%s\n", e.msg); return 1; }
    int rc = wb_store_lookup(st, argv[2], strlen(argv[2]), &row);
    if (rc == 0) printf("%s %u\n", argv[2], row);
    wb_store_close(st);
    return rc != 0;
}
C
cc -std=c11 -o use use.c $(pkg-config --cflags --libs wordbench)
[[ $(./use demo.store queen) == "queen 1" ]]
cd "$src"
cleanup
trap - EXIT
! dpkg-query -W -f='${Status}' wordbench 2>/dev/null | grep -q "install ok installed"
echo "package: installed, used and removed"
