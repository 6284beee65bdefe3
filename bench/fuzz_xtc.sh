#!/usr/bin/env bash
# Corrupted-XTC fuzzing on full-length files (issue 9): the CI test
# CorruptXtcFuzz (tests/featurize/test_fuzz_xtc.cpp) on whole copies of
# examples/ala2/md/run1.xtc (5,000 frames) instead of 200-frame cuts. Same
# generator (tests/oracles/xtc_fuzz.py), same rules, same tally.
# Usage: bench/fuzz_xtc.sh [files=100] [seed=9] [jobs=$(nproc)]
# Prints the tally lines (fuzz-tally: ...) and the wall time; exit status is
# the test's (0: no rule broken).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${ACTIVEDIFF_BUILD_DIR:-$ROOT/build}"
TESTS="$BUILD/tests/featurize/featurize_tests"
[ -x "$TESTS" ] || { echo "build featurize_tests first: cmake --build $BUILD --target featurize_tests" >&2; exit 2; }
export ACTIVEDIFF_FUZZ_FRAMES=0
export ACTIVEDIFF_FUZZ_COUNT="${1:-100}"
export ACTIVEDIFF_FUZZ_SEED="${2:-9}"
export ACTIVEDIFF_FUZZ_JOBS="${3:-$(nproc)}"
WORK="$(mktemp -d)"; trap 'rm -rf "$WORK"' EXIT
LOG="$WORK/log"
# Run copies of the program and the test, so that a rebuild meanwhile cannot
# swap them.
cp "$BUILD/workflows/activediff" "$WORK/activediff"
cp "$BUILD/workflows/activediff-torch" "$WORK/activediff-torch"  # the part activediff hands torch commands to
cp "$BUILD/workflows/activediff-openmm" "$WORK/activediff-openmm"  # the part it hands OpenMM commands to
cp "$TESTS" "$WORK/featurize_tests"
export ACTIVEDIFF_FUZZ_BINARY="$WORK/activediff"
start=$(date +%s)
status=0
"$WORK/featurize_tests" --gtest_filter='CorruptXtcFuzz.*' >"$LOG" 2>&1 || status=$?
end=$(date +%s)
grep -E '^fuzz-tally:' "$LOG" || true
# Each failure as the test reported it (first lines only).
grep -A2 'Failure' "$LOG" | grep -E '^(featurize|energy) on ' | cut -c1-400 || true
echo "wall time: $((end - start)) s, files $ACTIVEDIFF_FUZZ_COUNT, seed $ACTIVEDIFF_FUZZ_SEED, jobs $ACTIVEDIFF_FUZZ_JOBS, test exit $status"
exit "$status"
