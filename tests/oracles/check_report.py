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
# Histogram grids and bin edges (users replot from them), recomputed with
# numpy.histogram2d / numpy.histogram, and the 1D free-energy profiles.
wrap = lambda a: (np.degrees(a) + 180.0) % 360.0 - 180.0
edges = np.linspace(-180.0, 180.0, 37)
hist_json = report["histograms"]
for key in ("phi_edges_deg", "psi_edges_deg"):
    if not np.allclose(hist_json["phi_psi"][key], edges, rtol=0, atol=1e-12):
        errors.append("histograms.phi_psi.%s: not the 37 edges of 10-degree bins on [-180, 180]" % key)
kt = 0.00831446261815324 * report["free_energy_profiles"]["temperature_k"]
close("kt_kj_mol", report["free_energy_profiles"]["kt_kj_mol"], kt, 1e-12)
for side, x in (("reference", xr), ("generated", xg[valid])):
    h2 = np.histogram2d(wrap(x[:, i]), wrap(x[:, j]), bins=[edges, edges])[0]
    if not np.array_equal(np.array(hist_json["phi_psi"][side], dtype=float), h2):
        errors.append("histograms.phi_psi.%s differs from numpy.histogram2d" % side)
    for name, k in (("phi", i), ("psi", j)):
        if not np.allclose(hist_json[name]["edges_deg"], edges, rtol=0, atol=1e-12):
            errors.append("histograms.%s.edges_deg are not the 10-degree edges" % name)
        h1 = np.histogram(wrap(x[:, k]), bins=edges)[0].astype(float)
        if not np.array_equal(np.array(hist_json[name][side], dtype=float), h1):
            errors.append("histograms.%s.%s differs from numpy.histogram" % (name, side))
        with np.errstate(divide="ignore"):
            f = -kt * np.log(h1 / h1.max())
        ours = np.array([np.inf if v is None else v for v in report["free_energy_profiles"][name][side]])
        if not np.allclose(ours, f, rtol=0, atol=1e-9):
            errors.append("free_energy_profiles.%s.%s differs from -kT ln(p/p_max)" % (name, side))
close("valid", report["validity"]["valid"], int(valid.sum()), 0)
close("non_finite", report["validity"]["non_finite"], int((~finite).sum()), 0)
print("\n".join(errors) if errors else "OK")
sys.exit(1 if errors else 0)
