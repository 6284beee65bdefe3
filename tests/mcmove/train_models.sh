#!/usr/bin/env bash
# The models the move's tests share (ctest fixture mcmove_models, or one test
# process's own scratch copy when run without ctest): the shipped run1 as 2D
# features, passive and active models trained 1,500 steps on it with their
# move XML (interval 20; passive at 40 density steps, active at the default),
# and a passive model trained on run1 reweighted towards beta (every frame with
# phi < -110 degrees, every 8th of the others) for the exactness test.
#
#   train_models.sh ACTIVEDIFF EXAMPLES_DIR OUTPUT_DIR
#
# Written under OUTPUT_DIR.partial and renamed when complete; an OUTPUT_DIR
# from an earlier run is replaced only if it carries this script's marker.
set -euo pipefail
activediff=$1 examples=$2 out=$3
marker=.activediff-mcmove-test-models
if [[ -z "$out" || "$out" == / ]]; then
  echo "train_models.sh: the output directory must be a new or earlier-made directory, not '$out'" >&2
  exit 2
fi
if [[ -e "$out" && ! -e "$out/$marker" ]]; then
  echo "train_models.sh: $out exists and was not made by this script; refusing to replace it" >&2
  exit 2
fi
partial="$out.partial"
if [[ -e "$partial" && ! -e "$partial/$marker" ]]; then
  echo "train_models.sh: $partial exists and was not made by this script; refusing to replace it" >&2
  exit 2
fi
rm -rf -- "$partial"
mkdir -p -- "$partial"
touch -- "$partial/$marker"

"$activediff" featurize -q --features 2d -s "$examples/ala2/ala2.pdb" -f "$examples/ala2/md/run1.xtc" \
  -o "$partial/md" >/dev/null
train() {  # dataset run-name config
  "$activediff" train -q -d "$partial/$1" -o "$partial/$2" -c "$examples/configs/$3.toml" --steps 1500 \
    --set training.validation_every=1500 --set training.checkpoint_every=1500
}
train md run-passive 2d-passive
"$activediff" mcmove -q -m "$partial/run-passive" -s "$examples/ala2/ala2.pdb" --interval 20 --density-steps 40 \
  -o "$partial/move-passive.xml"
train md run-active 2d-active
"$activediff" mcmove -q -m "$partial/run-active" -s "$examples/ala2/ala2.pdb" --interval 20 \
  -o "$partial/move-active.xml"

/usr/bin/python3 - "$partial/md" "$partial/md-biased" <<'EOF'
import json, os, sys
import numpy as np
source, target = sys.argv[1:3]
os.makedirs(target)
meta = json.load(open(os.path.join(source, "meta.json")))
features = np.load(os.path.join(source, "features.npy"))
keep = (features[:, 0] < -110 * np.pi / 180) | (np.arange(len(features)) % 8 == 0)
for name in meta["files"].values():
    np.save(os.path.join(target, name), np.load(os.path.join(source, name))[keep])
meta["frames"] = int(keep.sum())
meta["sources"][0]["frames"] = int(keep.sum())
json.dump(meta, open(os.path.join(target, "meta.json"), "w"))
EOF
train md-biased run-biased 2d-passive

if [[ -e "$out" ]]; then rm -rf -- "$out"; fi
mv -- "$partial" "$out"
