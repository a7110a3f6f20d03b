#!/usr/bin/env bash
# Install the Debian 12 packages wordbench needs to build and test, if any are
# missing.  Safe to run again: it installs only what dpkg does not report as
# installed.  Needs root (or sudo).  Usage: tools/install-deps.sh [--peers]
#   --peers  also install the benchmark peers and reference generators
#            (python3-keras-preprocessing, time, hyperfine,
#            clang for libFuzzer) — never needed by the tests.
# The Python module's build and tests need python3-dev, python3-numpy, python3-pytest,
# python3-torch and python3-gensim (also tests/cli/evaluate_commands.sh, which compares
# `wordbench evaluate` with gensim); the Debian package step needs dpkg-dev and file.
set -euo pipefail
pkgs=(cmake make gcc g++ pkg-config
      liblmdb-dev libjemalloc-dev libxxhash-dev libopenblas-dev zlib1g-dev
      libutf8proc-dev libcsv-dev libcmocka-dev libfast-float-dev
      python3-dev python3-numpy python3-pytest python3-torch python3-gensim dpkg-dev file
      fasttext    # eval checked against fastText's test (tests/cli/first_hour.sh)
      python3-sklearn   # eval's metrics checked against scikit-learn (tests/cli/metrics_sklearn.sh)
      chromium libxml2-utils   # the report rendered headless and its SVG checked (tests/cli/explain_report.sh)
      python3-xxhash   # tools/model_digest.py (tests/cli/dataset_reference.sh)
      slurm-wlm munge)   # tests/cli/slurm.sh starts a one-node cluster
if [[ "${1:-}" == "--peers" ]]; then
  pkgs+=(python3-keras-preprocessing
         time hyperfine clang libclang-rt-14-dev lmdb-utils)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
echo "wordbench: installing ${missing[*]}" >&2
sudo=""
[[ $(id -u) -ne 0 ]] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
