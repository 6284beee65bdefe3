#!/usr/bin/env bash
# Installs every Debian package activediff needs (idempotent: apt-get runs only
# when something is missing), then configures and builds in Release.
# Sourced by run-tests.sh and run-main-job.sh; usable alone:  workflows/setup.sh
#   --tests   also install TEST_PACKAGES, what only the tests need (run-tests.sh)
set -euo pipefail
WITH_TESTS=0
if [ "${1:-}" = "--tests" ]; then WITH_TESTS=1; shift; fi
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${ACTIVEDIFF_BUILD_DIR:-$ROOT/build}"

PACKAGES=(
  build-essential cmake ninja-build git pkg-config
  libgromacs-dev gromacs
  libopenmm-dev libopenmm-plugins
  libtorch-dev libopenblas0-pthread
  libeigen3-dev libfmt-dev libgtest-dev googletest libbenchmark-dev
  libcli11-dev libtomlplusplus-dev nlohmann-json3-dev
  gnuplot-nox
  python3 python3-numpy python3-simtk python3-mdtraj python3-torch
  snakemake
)

# Test-only packages: a one-node Slurm cluster on localhost for the study's
# Slurm profile test (tests/workflow, study_slurm). Not needed to use activediff.
TEST_PACKAGES=(
  slurm-wlm munge
)
if [ "$WITH_TESTS" = 1 ]; then PACKAGES+=("${TEST_PACKAGES[@]}"); fi

missing=()
for package in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep "install ok installed" >/dev/null || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# LibTorch must run on OpenBLAS, not the reference BLAS (5.7x faster training).
if ! update-alternatives --query libblas.so.3-x86_64-linux-gnu 2>/dev/null | grep "^Value: .*openblas" >/dev/null; then
  echo "setup: warning: libblas.so.3 does not point to OpenBLAS; LibTorch will be slow" >&2
fi

JOBS="${ACTIVEDIFF_JOBS:-$(nproc)}"
cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD_DIR" -j "$JOBS"
