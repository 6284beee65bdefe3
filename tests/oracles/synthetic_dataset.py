#!/usr/bin/python3
"""Make a 'generated' dataset from an MD dataset, independently of activediff:
every k-th frame plus Gaussian noise (periodic features wrapped to (-pi, pi]),
then optionally damaged rows: NaN, +inf, and a negative first bond length.

usage: synthetic_dataset.py md_dir out_dir stride noise_rad damaged(0|1)
"""
import json
import os
import sys

import numpy as np

md, out, stride, noise, damaged = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5] == "1"
meta = json.load(open(os.path.join(md, "meta.json")))
x = np.load(os.path.join(md, "features.npy"))[::stride].copy()
rng = np.random.default_rng(7)
periodic = np.array([f["periodic"] for f in meta["features"]])
x[:, periodic] += rng.normal(0.0, noise, size=(x.shape[0], periodic.sum()))
x[:, periodic] = np.pi - np.mod(np.pi - x[:, periodic], 2 * np.pi)  # (-pi, pi]
if damaged:
    x[0, 0] = np.nan
    x[1, -1] = np.inf
    bond = [i for i, f in enumerate(meta["features"]) if f["kind"] == "bond"]
    if bond:
        x[2, bond[0]] = -0.1
os.makedirs(out)
n = x.shape[0]
np.save(os.path.join(out, "features.npy"), x)
np.save(os.path.join(out, "time_ps.npy"), np.arange(n, dtype=np.float64))
np.save(os.path.join(out, "source_file.npy"), np.zeros(n, dtype=np.int64))
np.save(os.path.join(out, "source_frame.npy"), np.arange(n, dtype=np.int64))
meta["frames"] = n
meta["sources"] = [{"file": "synthetic", "frames": n}]
json.dump(meta, open(os.path.join(out, "meta.json"), "w"), indent=1)
