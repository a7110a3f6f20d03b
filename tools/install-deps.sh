#!/usr/bin/env bash
# Install the Debian 12 packages wordbench needs to build and test, if any are
# missing.  Safe to run again: it installs only what dpkg does not report as
# installed.  Needs root (or sudo).  Usage: tools/install-deps.sh [--peers]
#   --peers  also install the benchmark peers and reference generators
#            (python3-gensim, python3-torch, fasttext, python3-keras-preprocessing,
#            python3-numpy, time, clang for libFuzzer) — never needed by the tests.
set -euo pipefail
pkgs=(cmake make gcc g++ pkg-config
      liblmdb-dev libjemalloc-dev libxxhash-dev libopenblas-dev zlib1g-dev
      libutf8proc-dev libcsv-dev libcmocka-dev libfast-float-dev
      slurm-wlm munge    # tests/cli/slurm.sh starts a one-node cluster
      python3)           # the CLI tests read --json output with it
if [[ "${1:-}" == "--peers" ]]; then
  pkgs+=(python3-numpy python3-gensim python3-torch fasttext python3-keras-preprocessing
         python3-sklearn time hyperfine clang libclang-rt-14-dev lmdb-utils)
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
