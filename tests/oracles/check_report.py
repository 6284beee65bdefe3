#!/usr/bin/python3
"""Recompute the numbers of an activediff report.json from the datasets with
numpy alone, and the floor from the two MD runs; print every discrepancy.

usage: check_report.py report.json reference_dir generated_dir [training_dir]
exit 0 and 'OK' when every number agrees. With training_dir (evaluate
--training), also the "quality" section: the ratio from the arrays, the
summaries of the replay and KDE baselines, the chosen bandwidth.
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
# 25D: each feature's histogram (the counts features.png draws), recomputed
# with numpy.histogram on the given edges; the edges themselves from the
# reference's 0.1-99.9 % range widened by 15 % each side.
if "features" in report:
    meta_ref = json.load(open(os.path.join(ref_dir, "meta.json")))["features"]
    for k, entry in enumerate(report["features"]):
        h = entry["histogram"]
        edges_k = np.array(h["edges"])
        f = meta_ref[k]
        values = {"reference": xr[:, k].copy(), "generated": xg[valid, k].copy()}
        for side in values:
            if f["periodic"]:  # unwrapped to [cut, cut + 2 pi)
                values[side] = f["branch_cut_rad"] + np.mod(values[side] - f["branch_cut_rad"], 2 * np.pi)
            if f["unit"] == "rad":
                values[side] = np.degrees(values[side])
        a = np.sort(values["reference"][np.isfinite(values["reference"])])
        lo, hi = a[int(0.001 * (len(a) - 1))], a[int(0.999 * (len(a) - 1))]
        pad = 0.15 * max(hi - lo, 1e-6)
        if not np.allclose(edges_k, np.linspace(lo - pad, hi + pad, len(edges_k)), rtol=0, atol=1e-9):
            errors.append("features[%d].histogram.edges differ from the reference's padded range" % k)
        for side in ("reference", "generated"):
            counts = np.histogram(values[side], bins=edges_k)[0]
            ours = np.array(h[side])
            # Bins are closed on the left here and in numpy; only a value on an
            # edge (to rounding) may fall on the other side.
            if ours.shape != counts.shape or np.abs(ours - counts).sum() > 2:
                errors.append("features[%d] (%s).histogram.%s differs from numpy.histogram" % (k, entry["name"], side))
if len(sys.argv) > 4:
    q = report["quality"]
    xt, _, _ = load(sys.argv[4])
    n = len(xt)
    close("quality.n", q["n"], n, 0)
    close("quality.bins", q["bins"], 36, 0)
    gv = xg[valid]
    m = len(gv)
    close("quality.generated.valid_samples", q["generated"]["valid_samples"], m, 0)
    used = gv[(np.arange(n) * m) // n] if m > n else gv  # evenly spaced: floor(i * m / n)
    hu = hist(xr[:, i], xr[:, j])
    d0 = js(hist(xt[:, i], xt[:, j]), hu)
    dg = js(hist(used[:, i], used[:, j]), hu)
    close("quality.training_js_nats", q["training_js_nats"], d0, 1e-9)
    close("quality.generated_js_nats", q["generated_js_nats"], dg, 1e-9)
    close("quality.ratio", q["ratio"], dg / d0, 1e-9)
    first, count = q["seeds"]["first"], q["seeds"]["count"]
    for name in ("replay", "kde"):
        b = q[name]
        v = np.array(b["per_seed"])
        if b["seeds"] != list(range(first, first + count)) or len(v) != count:
            errors.append("quality.%s: seeds are not %d ... %d" % (name, first, first + count - 1))
        close("quality.%s.mean" % name, b["mean"], v.mean(), 1e-12)
        if count > 1:
            close("quality.%s.standard_error" % name, b["standard_error"], v.std(ddof=1) / np.sqrt(count), 1e-12)
        close("quality.%s.n" % name, b["n"], n, 0)
        # A draw of n points has a JS no smaller than 0 and a ratio in a sane range.
        if not np.all((v > 0) & (v < 100)):
            errors.append("quality.%s.per_seed outside (0, 100): %r" % (name, v))
    k = q["kde"]
    if k["search_seeds"] != list(range(first + count, first + 2 * count)):
        errors.append("quality.kde.search_seeds are not the %d seeds after the evaluation seeds" % count)
    g = np.array(k["grid_mean_ratio"])
    h = np.array(k["bandwidth_grid_deg"])
    best = h[g == g.min()].min()
    close("quality.kde.bandwidth_deg (argmin of grid_mean_ratio)", k["bandwidth_deg"], best, 1e-12)
    close("quality.kde.bandwidth_rad", k["bandwidth_rad"], np.radians(k["bandwidth_deg"]), 1e-15)
close("non_finite", report["validity"]["non_finite"], int((~finite).sum()), 0)
print("\n".join(errors) if errors else "OK")
sys.exit(1 if errors else 0)
