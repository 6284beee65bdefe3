#!/usr/bin/env bash
# The whole activediff pipeline on MD trajectories:
#   featurize -> train -> sample -> rebuild -> evaluate (report.md, report.json, PNGs)
# Usage: workflows/pipeline.sh [options]
#   --out DIR            output directory (default out/pipeline)
#   --features 2d|25d    feature set (default 2d)
#   --process P          passive | active | cld (default active); trains with the
#                        shipped examples/configs/<features>-<process>.toml
#   --config FILE        another training config (its [process] decides the process)
#   --tau T              active correlation time (default: the config's)
#   --steps N            training steps (default 5000)
#   --samples N          generated samples (default 20000)
#   --sampler S          deis | em | heun | rk45 | sscs (default: the config's)
#   --sampler-steps N    reverse-time steps (default: the config's)
#   --seed N             sampling seed (default 1; -1 draws one, recorded in the outputs)
#   --energy-samples N   structures scored per side (default 1000)
#   --trajectories "A B" reference trajectories (default: the shipped examples/ala2/md runs)
#   --select "ARGS"      frames featurize takes from each trajectory: by time in ps as gmx
#                        ("-b 100 -e 4000 -dt 2") or by index ("--first-frame 100 --stride 2")
#   --dry-run            print the activediff command lines instead of running them
# Needs a built activediff (workflows/setup.sh). Every stage writes JSON with
# its configuration; the report links the plots. Rerunning into the same --out
# backs the earlier outputs up as #name.N# (activediff's output policy).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
AD="${ACTIVEDIFF_BUILD_DIR:-$ROOT/build}/workflows/activediff"
EX="$ROOT/examples/ala2"
OUT="$ROOT/out/pipeline"; FEATURES=2d; PROCESS=active; TAU=""; STEPS=5000; SAMPLES=20000; CONFIG=""
SAMPLER=""; SAMPLER_STEPS=""; SEED=1; ENERGY_SAMPLES=1000; TRAJECTORIES="$EX/md/run1.xtc $EX/md/run2.xtc"
DRY_RUN=0; SELECT=""
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
    --config) CONFIG="$2"; shift 2 ;;
    --seed) SEED="$2"; shift 2 ;;
    --dry-run) DRY_RUN=1; shift ;;
    --energy-samples) ENERGY_SAMPLES="$2"; shift 2 ;;
    --trajectories) TRAJECTORIES="$2"; shift 2 ;;
    --select) SELECT="$2"; shift 2 ;;
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
    *) echo "pipeline.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ "$DRY_RUN" = 1 ] || [ -x "$AD" ] || { echo "pipeline.sh: $AD not built; run workflows/setup.sh" >&2; exit 1; }
case "$PROCESS" in passive|active|cld) ;; *) echo "pipeline.sh: --process must be passive, active or cld" >&2; exit 2 ;; esac
# Each process trains with its own shipped config (passive at the fair-baseline
# temperature, CLD with its own sampler), not the active one with a new kind.
if [ -z "$CONFIG" ]; then
  CONFIG="$ROOT/examples/configs/$FEATURES-$PROCESS.toml"
  [ -f "$CONFIG" ] || { echo "pipeline.sh: no shipped config for $FEATURES $PROCESS ($CONFIG); give --config" >&2; exit 2; }
fi
[ -f "$CONFIG" ] || { echo "pipeline.sh: --config $CONFIG: no such file" >&2; exit 2; }
CONFIG_KIND="$(sed -n '/^\[process\]/,/^\[/s/^kind *= *"\([a-z]*\)".*/\1/p' "$CONFIG" | head -1)"
[ "$CONFIG_KIND" = "$PROCESS" ] || [ -z "$CONFIG_KIND" ] || PROCESS="$CONFIG_KIND"
if [ -n "$TAU" ] && [ "$PROCESS" != active ]; then
  echo "pipeline.sh: --tau is for the active process, not $PROCESS" >&2; exit 2
fi
TRAIN_EXTRA=(); SAMPLE_EXTRA=()
[ -n "$TAU" ] && TRAIN_EXTRA+=(--tau "$TAU")
[ -n "$SAMPLER" ] && SAMPLE_EXTRA+=(--sampler "$SAMPLER")
[ -n "$SAMPLER_STEPS" ] && SAMPLE_EXTRA+=(--steps "$SAMPLER_STEPS")
if [ "$PROCESS" = active ]; then
  LABEL_TAU="${TAU:-$(sed -n '/^\[process\]/,/^\[/s/^tau *= *\([0-9.eE+-]*\).*/\1/p' "$CONFIG" | head -1)}"
  LABEL="active (tau $LABEL_TAU)"
else
  LABEL="$PROCESS"
fi
RUN="$OUT/$FEATURES-$PROCESS"
run() {  # the command line, or only its words with --dry-run
  if [ "$DRY_RUN" = 1 ]; then printf '%q ' "$@"; echo; else "$@"; fi
}
run_quiet() {  # the same, its standard output dropped (featurize prints its JSON summary)
  if [ "$DRY_RUN" = 1 ]; then run "$@"; else "$@" >/dev/null; fi
}
[ "$DRY_RUN" = 1 ] || mkdir -p "$OUT"

echo "== featurize ($FEATURES) =="
# shellcheck disable=SC2086
run_quiet "$AD" featurize -f $TRAJECTORIES -s "$EX/ala2.pdb" --features "$FEATURES" -o "$OUT/md-$FEATURES" -q \
  --summary "$OUT/md-$FEATURES.json" $SELECT
echo "== train ($LABEL, $STEPS steps, $(basename "$CONFIG")) =="
# An earlier run in the same place is backed up by activediff (#name.N#), never deleted.
run "$AD" train -d "$OUT/md-$FEATURES" -o "$RUN" -c "$CONFIG" "${TRAIN_EXTRA[@]}" --steps "$STEPS" \
  --set training.checkpoint_every=$(( STEPS < 1000 ? STEPS : 1000 )) --set training.validation_every=$(( STEPS < 500 ? STEPS : 500 ))
echo "== sample ($SAMPLES, sampler ${SAMPLER:-of the config}, seed $SEED) =="
run "$AD" sample -m "$RUN" -o "$RUN/generated" -n "$SAMPLES" "${SAMPLE_EXTRA[@]}" --seed "$SEED"
echo "== rebuild (first 200 generated structures to PDB) =="
run "$AD" rebuild --features "$RUN/generated" --topology "$EX/ala2.pdb" -o "$RUN/generated.pdb" --limit 200
echo "== evaluate =="
run "$AD" evaluate --reference "$OUT/md-$FEATURES" --generated "$RUN/generated" -o "$RUN/report" \
  --topology "$EX/ala2.pdb" --system "$EX/system.xml" --energy-samples "$ENERGY_SAMPLES" \
  --model "$RUN/checkpoint.adck" --training-log "$RUN/training_log.json" --generated-label "$LABEL"
echo "report: $RUN/report/report.md"
