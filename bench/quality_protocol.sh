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
#   --calls "N ..."    also sample each model with --steps N for each N (the
#                      ratio against network calls, e.g. "10 20 50 100 1000";
#                      one training per direction serves them all); the table
#                      then has one row per N and direction, and --plot draws it
#   --plot FILE        with --calls: a PNG of the ratio against calls (gnuplot),
#                      the replay and best-KDE baselines drawn as lines
#   --peer             train and sample with the PyTorch peer (bench/torch_peer.py)
#                      instead of activediff (needs --steps; --sample takes the
#                      peer's sample options: --sampler em|heun|deis, --steps, --grid);
#                      featurize and evaluate stay activediff's
#   --summary-only     featurize, train and sample nothing: redo the table (and
#                      --json, --plot) from the reports an earlier run left in --out
#   --baselines-only   skip train/sample: featurize and the baselines alone
#   --models-from DIR  train nothing: sample the two models an earlier run left in
#                      DIR (DIR/train-run1, DIR/train-run2) with this run's --sample
#                      and --calls, writing samples and reports under --out (give
#                      another --out than DIR to keep the earlier tables' reports);
#                      --config, --steps and --set then only name the models
#   --out DIR          work directory (default out/quality-<config name>); reruns back
#                      earlier outputs up as #name.N# (the output policy)
#   --json FILE        also write the table as JSON
# Runs are sequential; one training per direction. Every training gets
# --set training.validation_fraction=0 first (a later --set wins): the
# baselines use all N training frames, so the model must see all N too. The
# trainer's default holds out one contiguous block of a run, and a 5 ns run's
# basin populations drift from block to block (run1's held-out last 10 % is
# 0.69 alphaR, the rest 0.40), so the held-out model was scored on frames it
# never saw (BENCHMARKS.md, "the validation block").
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
AD="${ACTIVEDIFF:-${ACTIVEDIFF_BUILD_DIR:-$ROOT/build}/workflows/activediff}"
PY=/usr/bin/python3
EX="$ROOT/examples/ala2"
CONFIG="$ROOT/examples/configs/2d-active.toml"; STEPS=""; SETS=(); SEEDS=10; SAMPLE=""; OUT=""; JSON=""; BASELINES_ONLY=0; CALLS=""; PLOT=""; SUMMARY_ONLY=0; PEER=0; MODELS_FROM=""
while [ $# -gt 0 ]; do
  case "$1" in
    --config) CONFIG="$2"; shift 2 ;;
    --steps) STEPS="$2"; shift 2 ;;
    --set) SETS+=(--set "$2"); shift 2 ;;
    --seeds) SEEDS="$2"; shift 2 ;;
    --sample) SAMPLE="$2"; shift 2 ;;
    --baselines-only) BASELINES_ONLY=1; shift ;;
    --calls) CALLS="$2"; shift 2 ;;
    --plot) PLOT="$2"; shift 2 ;;
    --summary-only) SUMMARY_ONLY=1; shift ;;
    --peer) PEER=1; shift ;;
    --models-from) MODELS_FROM="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --json) JSON="$2"; shift 2 ;;
    -h|--help) awk 'NR > 1 && /^set -euo/ {exit} NR > 1' "$0"; exit 0 ;;
    *) echo "quality_protocol.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -x "$AD" ] || { echo "quality_protocol.sh: $AD not built; run workflows/setup.sh" >&2; exit 1; }
[ -f "$CONFIG" ] || { echo "quality_protocol.sh: --config $CONFIG: no such file" >&2; exit 2; }
case "$SEEDS" in ''|*[!0-9]*|0) echo "quality_protocol.sh: --seeds must be an integer >= 1" >&2; exit 2 ;; esac
for c in $CALLS; do
  case "$c" in *[!0-9]*|0) echo "quality_protocol.sh: --calls takes integers >= 1, got '$c'" >&2; exit 2 ;; esac
done
[ -z "$PLOT" ] || [ -n "$CALLS" ] || { echo "quality_protocol.sh: --plot needs --calls" >&2; exit 2; }
[ "$PEER" = 0 ] || [ -n "$STEPS" ] || { echo "quality_protocol.sh: --peer needs --steps" >&2; exit 2; }
# The trainer and sampler: activediff's, or the peer's (same options where the
# protocol passes any: --set, --steps, --seed, and the sampler's --steps).
if [ "$PEER" = 1 ]; then
  # The peer's model goes to RUN/model: it refuses samples inside its model's directory.
  TRAIN_CMD() { mkdir -p "$2" && $PY "$ROOT/bench/torch_peer.py" train -q --data "$1" --out "$2/model" \
                  --config "$3" "${@:4}"; }
  SAMPLE_CMD() { $PY "$ROOT/bench/torch_peer.py" sample --model "$1/model" --out "$2" --n "$3" --seed "$4" "${@:5}"; }
else
  TRAIN_CMD() { "$AD" train -q -d "$1" -o "$2" -c "$3" "${@:4}"; }
  SAMPLE_CMD() { "$AD" sample -q -m "$1" -o "$2" -n "$3" --seed "$4" "${@:5}"; }
fi
# One label per sampling setting: "default" (the config's sampler, no --steps) and c<N>.
LABELS=(default); for c in $CALLS; do LABELS+=("c$c"); done
NAME="$(basename "$CONFIG" .toml)"
case "$NAME" in 25d*) FEATURES=25d ;; *) FEATURES=2d ;; esac
OUT="${OUT:-$ROOT/out/quality-$NAME}"
if [ -n "$MODELS_FROM" ]; then
  for r in 1 2; do
    [ -f "$MODELS_FROM/train-run$r/checkpoint.adck" ] || [ -f "$MODELS_FROM/train-run$r/model/model.pt" ] ||
      { echo "quality_protocol.sh: --models-from $MODELS_FROM: no trained model in train-run$r" >&2; exit 2; }
  done
fi
mkdir -p "$OUT"
TRAIN_EXTRA=(--set training.validation_fraction=0 "${SETS[@]+"${SETS[@]}"}")
[ -n "$STEPS" ] && TRAIN_EXTRA+=(--steps "$STEPS")
# shellcheck disable=SC2206
SAMPLE_EXTRA=($SAMPLE)
# The --calls settings give their own --steps: the rest of --sample stays.
SAMPLE_NO_STEPS=(); skip=0
for w in "${SAMPLE_EXTRA[@]+"${SAMPLE_EXTRA[@]}"}"; do
  if [ "$skip" = 1 ]; then skip=0; continue; fi
  case "$w" in --steps) skip=1 ;; --steps=*) ;; *) SAMPLE_NO_STEPS+=("$w") ;; esac
done

[ "$SUMMARY_ONLY" = 0 ] || [ -d "$OUT/train-run1" ] || { echo "quality_protocol.sh: --summary-only: no earlier run in $OUT" >&2; exit 2; }
# --summary-only skips featurize, train and sample: the reports are already in $OUT.
if [ "$SUMMARY_ONLY" = 0 ]; then
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
    if [ -n "$MODELS_FROM" ]; then
      MODEL="$MODELS_FROM/train-run$TRAIN"
      echo "== the model trained on run$TRAIN: $MODEL =="
      mkdir -p "$RUN"
    else
      MODEL="$RUN"
      echo "== train on run$TRAIN ($N frames, $(basename "$CONFIG")${STEPS:+, $STEPS steps}) =="
      TRAIN_CMD "$OUT/md-run$TRAIN" "$RUN" "$CONFIG" "${TRAIN_EXTRA[@]+"${TRAIN_EXTRA[@]}"}" >/dev/null
    fi
    for label in "${LABELS[@]}"; do
      if [ "$label" = default ]; then
        suffix=""; steps=("${SAMPLE_EXTRA[@]+"${SAMPLE_EXTRA[@]}"}")
      else
        suffix="-$label"; steps=("${SAMPLE_NO_STEPS[@]+"${SAMPLE_NO_STEPS[@]}"}" --steps "${label#c}")
      fi
      for k in $(seq 1 "$SEEDS"); do
        echo "== run$TRAIN: sample ${label#c}${suffix:+ steps}, seed $k ($N samples), evaluate against run$UNSEEN =="
        SAMPLE_CMD "$MODEL" "$RUN/gen$suffix-$k" "$N" "$k" "${steps[@]+"${steps[@]}"}" >/dev/null
        "$AD" evaluate --reference "$OUT/md-run$UNSEEN" --generated "$RUN/gen$suffix-$k" --training "$OUT/md-run$TRAIN" \
          --quality-seeds "$SEEDS" -o "$RUN/report$suffix-$k" >/dev/null
      done
    done
  done
fi

SET_WORDS="${SETS[*]+"${SETS[*]}"}"
WHO=""; [ "$PEER" = 0 ] || WHO="PyTorch peer, "
QP_TITLE="$WHO$NAME${STEPS:+, $STEPS training steps}${MODELS_FROM:+ (models from $MODELS_FROM)}${SET_WORDS:+, ${SET_WORDS//--set /}}${SAMPLE:+, sample $SAMPLE}, $SEEDS seeds a direction" \
$PY - "$OUT" "$SEEDS" "$BASELINES_ONLY" "$JSON" "$PLOT" "${LABELS[@]}" <<'EOF'
import json, math, os, subprocess, sys, tempfile
out, K, baselines_only, json_out, plot = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4], sys.argv[5]
labels = sys.argv[6:]

def stats(values):
    m = sum(values) / len(values)
    se = math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1) / len(values)) if len(values) > 1 else float("nan")
    return m, se

def suffix(label):
    return "" if label == "default" else "-" + label

table, pooled = {}, {"replay": [], "kde": []}
ratios_by_label = {label: [] for label in labels}
calls_by_label = {}
for train, unseen in ((1, 2), (2, 1)):
    run = "%s/train-run%d" % (out, train)
    for label in ([None] if baselines_only else labels):
        reports = (["%s-baselines/report.json" % run] if baselines_only else
                   ["%s/report%s-%d/report.json" % (run, suffix(label), k) for k in range(1, K + 1)])
        q = [json.load(open(r))["quality"] for r in reports]
        row = {"train": "run%d" % train, "unseen": "run%d" % unseen, "n": q[0]["n"], "seeds": K,
               "kde_bandwidth_deg": q[0]["kde"]["bandwidth_deg"]}
        if label is not None:
            sample = json.load(open("%s/gen%s-1.json" % (run, suffix(label))))
            sample = sample.get("summary", sample)  # activediff's sample JSON, or the peer's flat one
            row.update(sampling=label, sampler=sample["sampler"], steps=sample["steps"],
                       network_calls_per_sample=sample["network_calls_per_sample"])
            calls_by_label[label] = sample["network_calls_per_sample"]
            ratios = [x["ratio"] for x in q]
            row["ratio"] = dict(zip(("mean", "standard_error"), stats(ratios)), per_seed=ratios)
            ratios_by_label[label] += ratios
        for b in ("replay", "kde"):
            row[b] = {"mean": q[0][b]["mean"], "standard_error": q[0][b]["standard_error"], "per_seed": q[0][b]["per_seed"]}
        if label in (None, labels[0]):
            for b in ("replay", "kde"):
                pooled[b] += q[0][b]["per_seed"]
        table["train-run%d%s" % (train, "" if label in (None, "default") else "-" + label)] = row
table["pooled"] = {k: dict(zip(("mean", "standard_error"), stats(v))) for k, v in pooled.items() if v}
if not baselines_only:
    table["pooled"]["ratio"] = dict(zip(("mean", "standard_error"), stats(ratios_by_label["default"])))
    table["pooled_by_sampling"] = {
        label: dict(zip(("mean", "standard_error"), stats(v)), network_calls_per_sample=calls_by_label[label])
        for label, v in ratios_by_label.items()}
fmt = lambda r: "%.3f +- %.3f" % (r["mean"], r["standard_error"] if r["standard_error"] is not None else float("nan"))
print("\nquality ratio, mean +- standard error over %d seeds (N = training frames a draw)" % K)
print("%-32s %-6s %-18s %-18s %-18s %s" % ("direction", "calls", "model", "replay", "best KDE", "KDE h (deg)"))
for key, row in table.items():
    if key.startswith("pooled"):
        continue
    print("%-32s %-6s %-18s %-18s %-18s %.1f" % (
        "train %s, unseen %s" % (row["train"], row["unseen"]), "%g" % row["network_calls_per_sample"] if "network_calls_per_sample" in row else "-",
        fmt(row["ratio"]) if "ratio" in row else "-", fmt(row["replay"]), fmt(row["kde"]), row["kde_bandwidth_deg"]))
p = table["pooled"]
for label in ([] if baselines_only else labels):
    r = table["pooled_by_sampling"][label]
    print("%-32s %-6s %-18s %-18s %-18s" % ("both directions", "%g" % r["network_calls_per_sample"], fmt(r), fmt(p["replay"]), fmt(p["kde"])))
if baselines_only:
    print("%-32s %-6s %-18s %-18s %-18s" % ("both directions", "-", "-", fmt(p["replay"]), fmt(p["kde"])))
if json_out:
    json.dump(table, open(json_out, "w"), indent=1)
if plot:
    # The pooled ratio against calls, the baselines as horizontal lines.
    pts = sorted(set((r["network_calls_per_sample"], r["mean"], r["standard_error"])
                     for r in table["pooled_by_sampling"].values()))
    fd, data = tempfile.mkstemp(suffix=".dat")
    with os.fdopen(fd, "w") as f:
        for c, m, se in pts:
            f.write("%g %g %g\n" % (c, m, se))
    tmp_png = plot + ".tmp.png"
    script = "\n".join([
        "set terminal pngcairo size 1000,560", "set output '%s'" % tmp_png, "set logscale x",
        "set xrange [%g:%g]" % (pts[0][0] / 1.3, pts[-1][0] * 1.3), "set offsets 0, 0, graph 0.08, graph 0.08",
        "set xlabel 'network calls a sample'", "set ylabel 'quality ratio (JS / JS of the training frames)'",
        "set title '%s'" % os.environ.get("QP_TITLE", "").replace("'", ""), "set key bottom right",
        "plot '%s' using 1:2:3 with yerrorlines title 'model (mean +- s.e., both directions)', \\" % data,
        "  %g with lines dashtype 2 title 'replay', \\" % p["replay"]["mean"],
        "  %g with lines dashtype 3 title 'best KDE (data limit)'" % p["kde"]["mean"]])
    subprocess.run(["gnuplot"], input=script, text=True, check=True)
    os.unlink(data)
    os.replace(tmp_png, plot)
    print("plot:", plot)
EOF
