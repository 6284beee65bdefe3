#!/usr/bin/env bash
# The whole activediff pipeline on MD trajectories:
#   featurize -> train -> sample -> rebuild -> evaluate (report.md, report.json, PNGs)
# Usage: workflows/pipeline.sh [options]
#   --out DIR            output directory (default out/pipeline)
#   --features 2d|25d    feature set (default 2d)
#   --process P          passive | active | cld (default active)
#   --tau T              active correlation time (default 0.5)
#   --steps N            training steps (default 5000)
#   --samples N          generated samples (default 20000)
#   --sampler S          em | heun | rk45 | sscs (default em)
#   --sampler-steps N    reverse-time steps (default 100)
#   --energy-samples N   structures scored per side (default 1000)
#   --trajectories "A B" reference trajectories (default: the shipped examples/ala2/md runs)
# Needs a built activediff (workflows/setup.sh). Every stage writes JSON with
# its configuration; the report links the plots. Rerunning into the same --out
# backs the earlier outputs up as #name.N# (activediff's output policy).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
AD="${ACTIVEDIFF_BUILD_DIR:-$ROOT/build}/workflows/activediff"
EX="$ROOT/examples/ala2"
OUT="$ROOT/out/pipeline"; FEATURES=2d; PROCESS=active; TAU=0.5; STEPS=5000; SAMPLES=20000
SAMPLER=em; SAMPLER_STEPS=100; ENERGY_SAMPLES=1000; TRAJECTORIES="$EX/md/run1.xtc $EX/md/run2.xtc"
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT="$2"; shift 2 ;;
    --features) FEATURES="$2"; shift 2 ;;
    --process) PROCESS="$2"; shift 2 ;;
    --tau) TAU="$2"; shift 2 ;;
    --steps) STEPS="$2"; shift 2 ;;
    --samples) SAMPLES="$2"; shift 2 ;;
    --sampler) SAMPLER="$2"; shift 2 ;;
    --sampler-steps) SAMPLER_STEPS="$2"; shift 2 ;;
    --energy-samples) ENERGY_SAMPLES="$2"; shift 2 ;;
    --trajectories) TRAJECTORIES="$2"; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "pipeline.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -x "$AD" ] || { echo "pipeline.sh: $AD not built; run workflows/setup.sh" >&2; exit 1; }
CONFIG="$ROOT/examples/configs/$FEATURES-active.toml"
mkdir -p "$OUT"
RUN="$OUT/$FEATURES-$PROCESS"

echo "== featurize ($FEATURES) =="
# shellcheck disable=SC2086
"$AD" featurize -f $TRAJECTORIES -s "$EX/ala2.pdb" --features "$FEATURES" -o "$OUT/md-$FEATURES" -q \
  --summary "$OUT/md-$FEATURES.json" >/dev/null
echo "== train ($PROCESS, tau $TAU, $STEPS steps) =="
# An earlier run in the same place is backed up by activediff (#name.N#), never deleted.
"$AD" train -d "$OUT/md-$FEATURES" -o "$RUN" -c "$CONFIG" --process "$PROCESS" --tau "$TAU" --steps "$STEPS" \
  --set training.checkpoint_every=$(( STEPS < 1000 ? STEPS : 1000 )) --set training.validation_every=$(( STEPS < 500 ? STEPS : 500 ))
echo "== sample ($SAMPLES, $SAMPLER, $SAMPLER_STEPS steps) =="
"$AD" sample -m "$RUN" -o "$RUN/generated" -n "$SAMPLES" --sampler "$SAMPLER" --steps "$SAMPLER_STEPS" --seed 1
echo "== rebuild (first 200 generated structures to PDB) =="
"$AD" rebuild --features "$RUN/generated" --topology "$EX/ala2.pdb" -o "$RUN/generated.pdb" --limit 200
echo "== evaluate =="
"$AD" evaluate --reference "$OUT/md-$FEATURES" --generated "$RUN/generated" -o "$RUN/report" \
  --topology "$EX/ala2.pdb" --system "$EX/system.xml" --energy-samples "$ENERGY_SAMPLES" \
  --model "$RUN/checkpoint.adck" --training-log "$RUN/training_log.json" --generated-label "$PROCESS (tau $TAU)"
echo "report: $RUN/report/report.md"
