#!/usr/bin/env bash
# The main job on the shipped alanine-dipeptide example. Installs what is
# missing, builds, then runs the pipeline into ${1:-out/main-job}.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${ACTIVEDIFF_BUILD_DIR:-$ROOT/build}"
OUT="${1:-$ROOT/out/main-job}"
"$ROOT/workflows/setup.sh"
AD="$BUILD_DIR/workflows/activediff"
EX="$ROOT/examples/ala2"
mkdir -p "$OUT"

echo "== simulate: 20 ps of alanine dipeptide (amber99sb-ildn/OBC2, 300 K) =="
rm -f "$OUT"/md.*
"$AD" simulate --system "$EX/system.xml" --pdb "$EX/ala2.pdb" -o "$OUT/md.xtc" \
  --length 0.02 --frame-interval 0.2 --equilibrate 10 --seed 7 --platform CPU --threads 1
echo "== energy: OpenMM potential energies of the shipped reference trajectory =="
"$AD" energy --system "$EX/system.xml" -f "$EX/md/run1.xtc" -o "$OUT/run1-energies.csv" --stride 10
echo "main job finished: outputs in $OUT"
