#!/usr/bin/env bash
# The main job on the shipped alanine-dipeptide example. Installs what is
# missing, builds, then into ${1:-out/main-job}:
#   1. a short MD run through OpenMM (activediff simulate) with its energies,
#   2. the whole pipeline on the shipped 2 x 5 ns reference MD:
#      featurize -> train (active noise) -> sample -> rebuild -> evaluate,
#      ending in report.md / report.json with plots,
#   3. the trained model as an OpenMM Monte Carlo move (activediff mcmove):
#      MD with the move beside plain MD, acceptance, populations, tau_int,
#      wall time and independent samples per wall second.
# The budget (MAIN_JOB_STEPS training steps, MAIN_JOB_SAMPLES samples) is
# chosen to finish in minutes on 2 cores; raise it for publication numbers.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${ACTIVEDIFF_BUILD_DIR:-$ROOT/build}"
OUT="${1:-$ROOT/out/main-job}"
"$ROOT/workflows/setup.sh"
AD="$BUILD_DIR/workflows/activediff"
EX="$ROOT/examples/ala2"
mkdir -p "$OUT"

echo "== simulate: 20 ps of alanine dipeptide (amber99sb-ildn/OBC2, 300 K) =="
# A previous main job's outputs are backed up (#md.xtc.1# ...), never deleted.
"$AD" simulate --system "$EX/system.xml" --pdb "$EX/ala2.pdb" -o "$OUT/md.xtc" \
  --length 0.02 --frame-interval 0.2 --equilibrate 10 --seed 7 --platform CPU --threads 1
"$AD" energy --system "$EX/system.xml" -f "$OUT/md.xtc" -o "$OUT/md-energies.csv"

ACTIVEDIFF_BUILD_DIR="$BUILD_DIR" "$ROOT/workflows/pipeline.sh" --out "$OUT" --features 2d --process active \
  --tau 0.5 --steps "${MAIN_JOB_STEPS:-10000}" --samples "${MAIN_JOB_SAMPLES:-10000}" --energy-samples 300
echo "== the generative Monte Carlo move inside OpenMM: 20 ps of MD + move beside 20 ps of plain MD (CPU) =="
"$AD" mcmove -q -m "$OUT/2d-active" -s "$EX/ala2.pdb" --interval 50 -o "$OUT/2d-active/move.xml"
# Pinned to one CPU: OpenMM's CPU platform hands each step to a worker thread,
# and with an idle second CPU every hand-off waits ~100 us, which would make
# plain MD 5x slower than it is and the wall-time comparison meaningless
# (docs/departures.md "Wall time: one core").
PIN=()
if command -v taskset > /dev/null; then PIN=(taskset -c 0); fi
"${PIN[@]}" /usr/bin/python3 "$ROOT/examples/openmm-move/run_move.py" --plugin-dir "$("$AD" --plugin-dir)" \
  --move "$OUT/2d-active/move.xml" --platform CPU --steps 10000 --interval 50 --plain-md \
  --json "$OUT/2d-active/move_run.json" | tee "$OUT/2d-active/move_run.txt"
echo "main job finished: report in $OUT/2d-active/report/report.md, the move in $OUT/2d-active/move_run.txt"
