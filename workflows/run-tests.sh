#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test suite.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${ACTIVEDIFF_BUILD_DIR:-$ROOT/build}"
# --tests: also the test-only packages (setup.sh TEST_PACKAGES: Slurm and munge).
"$ROOT/workflows/setup.sh" --tests
cd "$BUILD_DIR"
ctest --output-on-failure -j "${ACTIVEDIFF_TEST_JOBS:-2}" "$@"
