#!/usr/bin/env bash
# Sampler throughput at equal network calls: activediff `sample` against the
# PyTorch peer (bench/torch_peer.py), interleaved rounds in one run on one core.
#   bench/sampler_speed_vs_peer.sh AD_RUN PEER_RUN [N] [ROUNDS] [OUT_DIR]
# AD_RUN: an activediff training directory; PEER_RUN: a torch_peer.py train
# directory (same config). Both sample N (default 50,000) with DEIS-20 at batch
# 512, one thread; samples/s is each tool's own figure (sampling only, not the
# program start). Prints one line per round and the median ratio.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
AD="${ACTIVEDIFF:-$ROOT/build/workflows/activediff}"
ad_run=$1 peer_run=$2 n=${3:-50000} rounds=${4:-3} out=${5:-$(mktemp -d /tmp/sampler-speed.XXXXXX)}
mkdir -p "$out"
cpu=$(taskset -pc $$ | sed 's/.*: //; s/[,-].*//')
for r in $(seq 1 "$rounds"); do
  taskset -c "$cpu" "$AD" sample -q -m "$ad_run" -n "$n" --sampler deis --steps 20 --batch-size 512 --threads 1 \
    --seed "$r" -o "$out/ad-$r" --overwrite
  taskset -c "$cpu" /usr/bin/python3 "$ROOT/bench/torch_peer.py" sample --model "$peer_run" --n "$n" --sampler deis \
    --steps 20 --batch 512 --threads 1 --seed "$r" --out "$out/peer-$r" >/dev/null 2>&1
  /usr/bin/python3 - "$out/ad-$r.json" "$out/peer-$r.json" "$r" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))["summary"]["samples_per_s"]
p = json.load(open(sys.argv[2]))["samples_per_s"]
print("round %s: activediff %.0f samples/s, peer %.0f samples/s, ratio %.2f" % (sys.argv[3], a, p, a / p))
PY
done
