#!/usr/bin/env bash
# activediff against the PyTorch peer (bench/torch_peer.py) at equal work,
# interleaved rounds in one run on one core, one thread each:
#   bench/speed_vs_peer.sh sample AD_RUN PEER_RUN [N] [ROUNDS] [OUT_DIR]
#       DEIS-20 at batch 512, N samples (default 50,000); samples/s is each
#       tool's own figure (sampling only, not the program start).
#       Other settings (speed at equal quality, not equal calls): the
#       environment's AD_SAMPLER and PEER_SAMPLER replace each tool's sampler
#       options (default "--sampler deis --steps 20" for both), e.g.
#         AD_SAMPLER='--sampler gsscs --steps 20 --grid log' PEER_SAMPLER='--sampler em --steps 1000'
#   bench/speed_vs_peer.sh train DATASET CONFIG [STEPS] [ROUNDS] [OUT_DIR]
#       STEPS training steps (default 2,000) of CONFIG on DATASET, one
#       validation at the end; it/s is each tool's own figure.
# Prints one line per round with the ratio activediff / peer.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
AD="${ACTIVEDIFF:-$ROOT/build/workflows/activediff}"
PEER=("/usr/bin/python3" "$ROOT/bench/torch_peer.py")
mode=${1:-}
case "$mode" in
  sample) [ $# -ge 3 ] || { echo "usage: $0 sample AD_RUN PEER_RUN [N] [ROUNDS] [OUT_DIR]" >&2; exit 2; }
          a=$2 b=$3 work=${4:-50000} ;;
  train)  [ $# -ge 3 ] || { echo "usage: $0 train DATASET CONFIG [STEPS] [ROUNDS] [OUT_DIR]" >&2; exit 2; }
          a=$2 b=$3 work=${4:-2000} ;;
  *) echo "usage: $0 sample|train ... (see the header)" >&2; exit 2 ;;
esac
rounds=${5:-3} out=${6:-$(mktemp -d /tmp/speed-vs-peer.XXXXXX)}
mkdir -p "$out"
read -r -a ad_sampler <<<"${AD_SAMPLER:---sampler deis --steps 20}"
read -r -a peer_sampler <<<"${PEER_SAMPLER:---sampler deis --steps 20}"
cpu=$(taskset -pc $$ | sed 's/.*: //; s/[,-].*//')
for r in $(seq 1 "$rounds"); do
  if [ "$mode" = sample ]; then
    taskset -c "$cpu" "$AD" sample -q -m "$a" -n "$work" "${ad_sampler[@]}" --batch-size 512 --threads 1 \
      --seed "$r" -o "$out/ad-$r" --overwrite >/dev/null
    taskset -c "$cpu" "${PEER[@]}" sample --model "$b" --n "$work" "${peer_sampler[@]}" --batch 512 \
      --threads 1 --seed "$r" --out "$out/peer-$r" >/dev/null 2>&1
    ad_json="$out/ad-$r.json" peer_json="$out/peer-$r.json" key=samples_per_s
  else
    taskset -c "$cpu" "$AD" train -q -d "$a" -c "$b" --steps "$work" --seed "$r" \
      --set "training.validation_every=$work" --set "training.checkpoint_every=$work" -o "$out/ad-$r" >/dev/null
    taskset -c "$cpu" "${PEER[@]}" train -q --data "$a" --config "$b" --steps "$work" --seed "$r" \
      --set "training.validation_every=$work" --threads 1 --out "$out/peer-$r" >/dev/null 2>&1
    ad_json="$out/ad-$r/train_summary.json" peer_json="$out/peer-$r/train.json" key=it_per_s
  fi
  /usr/bin/python3 - "$ad_json" "$peer_json" "$key" "$r" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))
a = a["summary"][sys.argv[3]]
p = json.load(open(sys.argv[2]))[sys.argv[3]]
print("round %s: activediff %.1f %s, peer %.1f, ratio %.2f" % (sys.argv[4], a, sys.argv[3], p, a / p))
PY
done
