#!/usr/bin/env bash
# Frames/s of `activediff featurize` (2d and 25d) against MDTraj (md.load +
# compute_phi + compute_psi) and `gmx rama` on the same XTC, in one run, each
# tool REPEATS times in alternation, best time kept (the machine is shared);
# then the peak memory of `activediff featurize` on run1.xtc and on a 10x
# longer file. Every timing is wall-clock of the whole job; MDTraj is also given
# without its interpreter start and imports (timed inside Python).
# Usage: bench/featurize_bench.sh [copies=10] [repeats=5]
#   input: examples/ala2/md/run1.xtc (5,000 frames) repeated `copies` times
#   (times made increasing), so startup costs do not dominate.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
AD="${ACTIVEDIFF:-${ACTIVEDIFF_BUILD_DIR:-$ROOT/build}/workflows/activediff}"
COPIES="${1:-10}"; REPEATS="${2:-5}"
PY=/usr/bin/python3
EX="$ROOT/examples/ala2"
WORK="$(mktemp -d)"; trap 'rm -rf "$WORK"' EXIT

# Inputs: run1 x COPIES for speed, run1 x 10 for the memory check.
$PY - "$EX/md/run1.xtc" "$EX/ala2.pdb" "$WORK" "$COPIES" <<'EOF'
import sys, numpy as np, mdtraj as md
src, top, work, copies = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
t = md.load(src, top=top)
for name, k in (("bench.xtc", copies), ("run1x10.xtc", 10)):
    xyz = np.tile(t.xyz, (k, 1, 1))
    time = np.arange(1, len(xyz) + 1, dtype=float)
    md.Trajectory(xyz, t.topology, time=time, unitcell_lengths=np.tile(t.unitcell_lengths[:1], (len(xyz), 1)),
                  unitcell_angles=np.tile(t.unitcell_angles[:1], (len(xyz), 1))).save(work + "/" + name)
EOF
FRAMES=$($PY -c "import mdtraj as md; print(len(md.load('$WORK/bench.xtc', top='$EX/ala2.pdb')))")

cat > "$WORK/mdtraj_phipsi.py" <<'EOF'
import sys, time
t0 = time.perf_counter()
import mdtraj as md
t1 = time.perf_counter()
t = md.load(sys.argv[1], top=sys.argv[2])
_, phi = md.compute_phi(t)
_, psi = md.compute_psi(t)
t2 = time.perf_counter()
print("%.6f %.6f %d" % (t2 - t1, t1 - t0, len(phi)))
EOF

seconds() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); echo "$e - $s" | bc -l; }
best() { printf '%s\n' "$@" | sort -g | head -1; }
inner() { $PY -c "import json; print(json.load(open('$1'))['summary']['seconds'])"; }
declare -a T2 T25 T2IN T25IN TMD TMDIN TGMX
for i in $(seq "$REPEATS"); do
  T2+=("$(seconds "$AD" featurize -q "$WORK/bench.xtc" -s "$EX/ala2.pdb" -o "$WORK/d2" --features 2d --summary "$WORK/s2.json")")
  T2IN+=("$(inner "$WORK/s2.json")")
  T25+=("$(seconds "$AD" featurize -q "$WORK/bench.xtc" -s "$EX/ala2.pdb" -o "$WORK/d25" --features 25d --summary "$WORK/s25.json")")
  T25IN+=("$(inner "$WORK/s25.json")")
  s=$(date +%s.%N); read -r inside imports n < <($PY "$WORK/mdtraj_phipsi.py" "$WORK/bench.xtc" "$EX/ala2.pdb")
  e=$(date +%s.%N); TMD+=("$(echo "$e - $s" | bc -l)"); TMDIN+=("$inside")
  TGMX+=("$(cd "$WORK" && seconds gmx -quiet -nocopyright rama -f "$WORK/bench.xtc" -s "$EX/ala2.tpr" -o "$WORK/rama$i.xvg")")
done
rate() { $PY -c "print('%.0f' % ($FRAMES / $1))"; }
b2=$(best "${T2[@]}"); b25=$(best "${T25[@]}"); b2in=$(best "${T2IN[@]}"); b25in=$(best "${T25IN[@]}"); bmd=$(best "${TMD[@]}"); bmdin=$(best "${TMDIN[@]}"); bgmx=$(best "${TGMX[@]}")
echo "input: $FRAMES frames (examples/ala2/md/run1.xtc x $COPIES), best of $REPEATS, load average $(cut -d' ' -f1 /proc/loadavg)"
printf '%-44s %8.3f s %10s frames/s\n' "activediff featurize --features 2d" "$b2" "$(rate "$b2")"
printf '%-44s %8.3f s %10s frames/s\n' "activediff featurize --features 25d" "$b25" "$(rate "$b25")"
printf '%-44s %8.3f s %10s frames/s\n' "activediff 2d (in process, after start-up)" "$b2in" "$(rate "$b2in")"
printf '%-44s %8.3f s %10s frames/s\n' "activediff 25d (in process, after start-up)" "$b25in" "$(rate "$b25in")"
printf '%-44s %8.3f s %10s frames/s\n' "gmx rama" "$bgmx" "$(rate "$bgmx")"
printf '%-44s %8.3f s %10s frames/s\n' "MDTraj load+compute_phi/psi (whole job)" "$bmd" "$(rate "$bmd")"
printf '%-44s %8.3f s %10s frames/s\n' "MDTraj load+compute_phi/psi (in Python)" "$bmdin" "$(rate "$bmdin")"

# Peak memory (max RSS; includes the decoder child process) for 1x and 10x input.
for f in "$EX/md/run1.xtc" "$WORK/run1x10.xtc"; do
  kb=$(/usr/bin/time -f %M "$AD" featurize -q "$f" -s "$EX/ala2.pdb" -o "$WORK/mem" --features 25d 2>&1 >/dev/null | tail -1)
  n=$($PY -c "import numpy as np; print(np.load('$WORK/mem/features.npy', mmap_mode='r').shape[0])")
  echo "peak memory, --features 25d, $n frames: $kb KB"
done
