#!/usr/bin/env bash
# The models the move's tests share (ctest fixture mcmove_models, or one test
# process's own scratch copy when run without ctest): the shipped run1 as 2D
# features, passive and active models trained 1,500 steps on it with their
# move XML (interval 20; passive at 80 density steps, active at the default),
# and a passive model trained on run1 reweighted towards beta (every frame with
# phi < -110 degrees, every 8th of the others) for the exactness test; and
# for the 25D move's test a passive 25D model trained on draws from a
# shifted version of a closed-form product law (target25.json: per feature
# its kind, centre and width; the test builds the System whose Boltzmann law
# in internal coordinates is that product times the Z-matrix volume element).
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
"$activediff" mcmove -q -m "$partial/run-passive" -s "$examples/ala2/ala2.pdb" --interval 20 --density-steps 80 \
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

"$activediff" featurize -q --features 25d -s "$examples/ala2/ala2.pdb" -f "$examples/ala2/md/run1.xtc" \
  -o "$partial/md25" >/dev/null
/usr/bin/python3 - "$partial/md25" "$partial/synthetic25" <<'EOF'
# The target: bonds and angles harmonic about MD's mean with 8x / 3x MD's
# spread (soft, so the volume element b^2 sin(theta) shifts their means by
# a measurable amount), torsions von Mises (kappa 4) about the point opposite
# their branch cut. The training draws: centres shifted by 0.1 widths
# (0.1 rad), widths 1.1x, kappa 3.5 -- a deliberately wrong proposal q.
import json, os, sys
import numpy as np
source, target = sys.argv[1:3]
os.makedirs(target)
meta = json.load(open(os.path.join(source, "meta.json")))
md = np.load(os.path.join(source, "features.npy"))
rng = np.random.default_rng(25)
n = 20000
law, draws = [], np.empty((n, md.shape[1]))
for d, f in enumerate(meta["features"]):
    if f["kind"] == "torsion":
        centre = float(np.angle(np.exp(1j * (f["branch_cut_rad"] + np.pi))))
        law.append({"kind": "torsion", "centre": centre, "kappa": 4.0})
        draws[:, d] = np.angle(np.exp(1j * rng.vonmises(centre + 0.1, 3.5, n)))
    else:
        width = float(md[:, d].std() * (8.0 if f["kind"] == "bond" else 3.0))
        centre = float(md[:, d].mean())
        law.append({"kind": f["kind"], "centre": centre, "width": width})
        draws[:, d] = centre + 0.1 * width + 1.1 * width * rng.standard_normal(n)
np.save(os.path.join(target, "features.npy"), draws)
for name in ("time_ps", "source_file", "source_frame"):
    values = np.load(os.path.join(source, meta["files"][name]))
    np.save(os.path.join(target, meta["files"][name]), np.resize(values, n))
meta["frames"] = n
meta["sources"][0]["frames"] = n
json.dump(meta, open(os.path.join(target, "meta.json"), "w"))
json.dump({"temperature_K": 300.0, "features": law}, open(os.path.join(target, "target25.json"), "w"), indent=1)
EOF
"$activediff" train -q -d "$partial/synthetic25" -o "$partial/run-synthetic25" -c "$examples/configs/2d-passive.toml" \
  --steps 4000 --set training.validation_every=4000 --set training.checkpoint_every=4000

if [[ -e "$out" ]]; then rm -rf -- "$out"; fi
mv -- "$partial" "$out"
