#!/usr/bin/env bash
# The quality protocol of issue 11 (featurize/include/activediff/featurize/quality.h)
# on the shipped MD: train on one 5 ns run, score against the other (MD the
# model never saw), each direction; K sampling seeds per direction, N = the
# training frames per draw (5,000); all through the activediff CLI:
#   featurize (each run alone) -> train -> sample --seed k (k = 1..K) -> evaluate --training
# and prints, per direction and pooled, the mean +- standard error over seeds of
#   ratio  = JS(samples, unseen) / JS(training frames, unseen)   (36 x 36 Ramachandran, nats)
#   replay = the same for a bootstrap of the training frames (a perfect memorizer)
#   KDE    = the best periodic Gaussian KDE of the training frames (bandwidth chosen on the unseen frames)
# The baselines do not depend on the model: every evaluate computes them with
# the same K seeds, and the table takes them from the first report.
# Usage: bench/quality_protocol.sh [options]
#   --config FILE      training config (default examples/configs/2d-active.toml; a
#                      25d-*.toml config featurizes 25d and scores its phi/psi)
#   --steps N          training steps (default: the config's training.steps)
#   --set KEY=VALUE    override a training config key (repeatable), as train --set
#   --seeds K          sampling seeds per direction and baseline seeds (default 10)
#   --sample "ARGS"    extra sample options, e.g. "--sampler sscs --steps 100"
#   --baselines-only   skip train/sample: featurize and the baselines alone
#   --out DIR          work directory (default out/quality-<config name>); reruns back
#                      earlier outputs up as #name.N# (the output policy)
#   --json FILE        also write the table as JSON
# Runs are sequential; one training per direction. The trainer holds out its
# validation blocks from the gradient steps, but they come from the same run
# and count among the N training frames (they are not unseen MD).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
AD="${ACTIVEDIFF:-${ACTIVEDIFF_BUILD_DIR:-$ROOT/build}/workflows/activediff}"
PY=/usr/bin/python3
EX="$ROOT/examples/ala2"
CONFIG="$ROOT/examples/configs/2d-active.toml"; STEPS=""; SETS=(); SEEDS=10; SAMPLE=""; OUT=""; JSON=""; BASELINES_ONLY=0
while [ $# -gt 0 ]; do
  case "$1" in
    --config) CONFIG="$2"; shift 2 ;;
    --steps) STEPS="$2"; shift 2 ;;
    --set) SETS+=(--set "$2"); shift 2 ;;
    --seeds) SEEDS="$2"; shift 2 ;;
    --sample) SAMPLE="$2"; shift 2 ;;
    --baselines-only) BASELINES_ONLY=1; shift ;;
    --out) OUT="$2"; shift 2 ;;
    --json) JSON="$2"; shift 2 ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "quality_protocol.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -x "$AD" ] || { echo "quality_protocol.sh: $AD not built; run workflows/setup.sh" >&2; exit 1; }
[ -f "$CONFIG" ] || { echo "quality_protocol.sh: --config $CONFIG: no such file" >&2; exit 2; }
case "$SEEDS" in ''|*[!0-9]*|0) echo "quality_protocol.sh: --seeds must be an integer >= 1" >&2; exit 2 ;; esac
NAME="$(basename "$CONFIG" .toml)"
case "$NAME" in 25d*) FEATURES=25d ;; *) FEATURES=2d ;; esac
OUT="${OUT:-$ROOT/out/quality-$NAME}"
mkdir -p "$OUT"
TRAIN_EXTRA=("${SETS[@]+"${SETS[@]}"}")
[ -n "$STEPS" ] && TRAIN_EXTRA+=(--steps "$STEPS")
# shellcheck disable=SC2206
SAMPLE_EXTRA=($SAMPLE)

echo "== featurize ($FEATURES, each run alone) =="
for r in 1 2; do
  "$AD" featurize -q -f "$EX/md/run$r.xtc" -s "$EX/ala2.pdb" --features "$FEATURES" -o "$OUT/md-run$r" >/dev/null
done
N_OF() { $PY -c "import numpy, sys; print(numpy.load(sys.argv[1] + '/features.npy', mmap_mode='r').shape[0])" "$1"; }

for dir in "1 2" "2 1"; do
  set -- $dir; TRAIN=$1; UNSEEN=$2
  RUN="$OUT/train-run$TRAIN"
  N=$(N_OF "$OUT/md-run$TRAIN")
  if [ "$BASELINES_ONLY" = 1 ]; then
    # The training frames stand in for the samples: ratio 1 by definition.
    echo "== baselines: train run$TRAIN ($N frames), unseen run$UNSEEN =="
    "$AD" evaluate --reference "$OUT/md-run$UNSEEN" --generated "$OUT/md-run$TRAIN" --training "$OUT/md-run$TRAIN" \
      --quality-seeds "$SEEDS" -o "$RUN-baselines" >/dev/null
    continue
  fi
  echo "== train on run$TRAIN ($N frames, $(basename "$CONFIG")${STEPS:+, $STEPS steps}) =="
  "$AD" train -q -d "$OUT/md-run$TRAIN" -o "$RUN" -c "$CONFIG" "${TRAIN_EXTRA[@]+"${TRAIN_EXTRA[@]}"}" >/dev/null
  for k in $(seq 1 "$SEEDS"); do
    echo "== run$TRAIN: sample seed $k ($N samples), evaluate against run$UNSEEN =="
    "$AD" sample -q -m "$RUN" -o "$RUN/gen-$k" -n "$N" --seed "$k" "${SAMPLE_EXTRA[@]+"${SAMPLE_EXTRA[@]}"}" >/dev/null
    "$AD" evaluate --reference "$OUT/md-run$UNSEEN" --generated "$RUN/gen-$k" --training "$OUT/md-run$TRAIN" \
      --quality-seeds "$SEEDS" -o "$RUN/report-$k" >/dev/null
  done
done

$PY - "$OUT" "$SEEDS" "$BASELINES_ONLY" "$JSON" <<'EOF'
import json, math, sys
out, K, baselines_only, json_out = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4]

def stats(values):
    m = sum(values) / len(values)
    se = math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1) / len(values)) if len(values) > 1 else float("nan")
    return m, se

table, pooled = {}, {"ratio": [], "replay": [], "kde": []}
for train, unseen in ((1, 2), (2, 1)):
    run = "%s/train-run%d" % (out, train)
    reports = ["%s-baselines/report.json" % run] if baselines_only else ["%s/report-%d/report.json" % (run, k) for k in range(1, K + 1)]
    q = [json.load(open(r))["quality"] for r in reports]
    row = {"train": "run%d" % train, "unseen": "run%d" % unseen, "n": q[0]["n"], "seeds": K,
           "kde_bandwidth_deg": q[0]["kde"]["bandwidth_deg"]}
    if not baselines_only:
        ratios = [x["ratio"] for x in q]
        row["ratio"] = dict(zip(("mean", "standard_error"), stats(ratios)), per_seed=ratios)
        pooled["ratio"] += ratios
    for b in ("replay", "kde"):
        row[b] = {"mean": q[0][b]["mean"], "standard_error": q[0][b]["standard_error"], "per_seed": q[0][b]["per_seed"]}
        pooled[b] += q[0][b]["per_seed"]
    table["train-run%d" % train] = row
table["pooled"] = {k: dict(zip(("mean", "standard_error"), stats(v))) for k, v in pooled.items() if v}
fmt = lambda r: "%.3f +- %.3f" % (r["mean"], r["standard_error"] if r["standard_error"] is not None else float("nan"))
print("\nquality ratio, mean +- standard error over %d seeds (N = training frames a draw)" % K)
print("%-24s %-18s %-18s %-18s %s" % ("direction", "model", "replay", "best KDE", "KDE h (deg)"))
for key, row in table.items():
    if key == "pooled":
        continue
    print("%-24s %-18s %-18s %-18s %.1f" % ("train %s, unseen %s" % (row["train"], row["unseen"]),
          fmt(row["ratio"]) if "ratio" in row else "-", fmt(row["replay"]), fmt(row["kde"]), row["kde_bandwidth_deg"]))
p = table["pooled"]
print("%-24s %-18s %-18s %-18s" % ("both directions", fmt(p["ratio"]) if "ratio" in p else "-", fmt(p["replay"]), fmt(p["kde"])))
if json_out:
    json.dump(table, open(json_out, "w"), indent=1)
EOF
