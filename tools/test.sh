#!/usr/bin/env bash
# Build and run the whole test suite: install what is missing, build with
# warnings as errors, run every test (unit + CLI end-to-end) with CTest, then
# build again with AddressSanitizer + UndefinedBehaviorSanitizer and run the
# unit and CLI tests under it (the Python tests too, with the sanitizer run-times preloaded into
# python3).  With CI=true or --package, last: build the Debian package, install it, use it, remove it
# (tools/test_package.sh; needs root).  Exit status 0 only when everything passes.
# Usage: tools/test.sh [--package]       (.ci/run calls tools/test.sh with CI=true)
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
jobs=$(nproc)
echo "== build (warnings are errors)"
cmake -S . -B build-test -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWB_WERROR=ON >/dev/null
cmake --build build-test -j"$jobs" >/dev/null
echo "== tests"
(cd build-test && ctest --output-on-failure -j"$jobs")
echo "== build with ASan + UBSan"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DWB_WERROR=ON -DWB_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs" >/dev/null
echo "== tests under ASan + UBSan"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
   WB_TEST_SCALE=${WB_TEST_SCALE:-0.25} ctest --output-on-failure -j"$jobs")
if [[ "${CI:-}" == "true" || "${1:-}" == "--package" ]]; then
  echo "== Debian package: cpack, apt-get install, use, remove"
  tools/test_package.sh
fi
