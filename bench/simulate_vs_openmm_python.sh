#!/usr/bin/env bash
# ns/day of `activediff simulate` against OpenMM's Python Simulation on the same
# system, platform (CPU), thread count and machine, in one run, alternating
# the two REPEATS times. Usage: bench/simulate_vs_openmm_python.sh [length_ns] [threads] [repeats]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
AD="${ACTIVEDIFF_BUILD_DIR:-$ROOT/build}/workflows/activediff"
LENGTH="${1:-0.2}"; THREADS="${2:-1}"; REPEATS="${3:-3}"
EX="$ROOT/examples/ala2"
WORK="$(mktemp -d)"; trap 'rm -rf "$WORK"' EXIT
for i in $(seq "$REPEATS"); do
  "$AD" simulate --system "$EX/system.xml" --pdb "$EX/ala2.pdb" -o "$WORK/ad$i.xtc" --length "$LENGTH" \
    --equilibrate 1 --platform CPU --threads "$THREADS" >/dev/null 2>&1
  ours=$(/usr/bin/python3 -c "import json;print('%.1f'%json.load(open('$WORK/ad$i.json'))['result']['ns_per_day'])")
  theirs=$(/usr/bin/python3 "$ROOT/bench/simulate_vs_openmm_python.py" "$EX/system.xml" "$EX/ala2.pdb" \
    "$LENGTH" "$THREADS" "$WORK/py$i.dcd" | awk '{print $2}')
  ratio=$(/usr/bin/python3 -c "print('%.2f'%($ours/$theirs))")
  echo "repeat $i: activediff $ours ns/day, OpenMM Python $theirs ns/day, ratio $ratio"
done
