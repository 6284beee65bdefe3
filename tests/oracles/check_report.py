#!/usr/bin/python3
"""Recompute the numbers of an activediff report.json from the datasets with
numpy alone, and the floor from the two MD runs; print every discrepancy.

usage: check_report.py report.json reference_dir generated_dir
exit 0 and 'OK' when every number agrees.
"""
import json
import os
import sys

import numpy as np

report = json.load(open(sys.argv[1]))
ref_dir, gen_dir = sys.argv[2], sys.argv[3]


def load(d):
    meta = json.load(open(os.path.join(d, "meta.json")))
    names = [f["name"] for f in meta["features"]]
    x = np.load(os.path.join(d, "features.npy"))
    return x, names, np.load(os.path.join(d, "source_file.npy"))


def hist(phi, psi):
    edges = np.linspace(-180.0, 180.0, 37)
    wrap = lambda a: (np.degrees(a) + 180.0) % 360.0 - 180.0
    h, _, _ = np.histogram2d(wrap(phi), wrap(psi), bins=[edges, edges])
    return h


def js(p, q):
    p, q = p.ravel() / p.sum(), q.ravel() / q.sum()
    m = 0.5 * (p + q)
    a = p > 0
    b = q > 0
    return 0.5 * np.sum(p[a] * np.log(p[a] / m[a])) + 0.5 * np.sum(q[b] * np.log(q[b] / m[b]))


def states(phi, psi):
    phi, psi = np.degrees(phi), np.degrees(psi)
    out = (psi >= 50) | (psi < -120)
    return {"alphaR": np.mean((phi > -180) & (phi < 0) & (psi > -120) & (psi < 50)),
            "beta": np.mean((phi > -180) & (phi < -90) & out),
            "PPII": np.mean((phi > -90) & (phi < 0) & out),
            "L": np.mean((phi > 0) & (phi < 180))}


xr, names, src = load(ref_dir)
xg, _, _ = load(gen_dir)
i, j = names.index("phi"), names.index("psi")
finite = np.all(np.isfinite(xg), axis=1)
bonds = [k for k, f in enumerate(json.load(open(os.path.join(gen_dir, "meta.json")))["features"]) if f["kind"] == "bond"]
valid = finite & (np.all(xg[:, bonds] > 0, axis=1) if bonds else True)
errors = []


def close(name, ours, theirs, tol):
    if not abs(ours - theirs) <= tol:
        errors.append("%s: report %r, recomputed %r" % (name, ours, theirs))


close("js_nats", report["ramachandran"]["js_nats"], js(hist(xr[:, i], xr[:, j]), hist(xg[valid, i], xg[valid, j])), 1e-9)
half = src < (src.max() + 2) // 2 if src.max() >= 1 else np.arange(len(src)) < len(src) // 2
close("floor_js_nats", report["ramachandran"]["floor_js_nats"],
      js(hist(xr[half, i], xr[half, j]), hist(xr[~half, i], xr[~half, j])), 1e-9)
for side, x in (("reference", xr), ("generated", xg[valid])):
    for state, fraction in states(x[:, i], x[:, j]).items():
        close("%s %s" % (side, state), report["states"][side]["states"][state]["fraction"], fraction, 1e-12)
close("valid", report["validity"]["valid"], int(valid.sum()), 0)
close("non_finite", report["validity"]["non_finite"], int((~finite).sum()), 0)
print("\n".join(errors) if errors else "OK")
sys.exit(1 if errors else 0)
