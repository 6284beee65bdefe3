#!/usr/bin/python3
"""Independent check of a study run (workflows/study, issue 12).

From the grid of the config file alone (not the workflow's manifest), finds
every cell run's JSON in the run directory, checks that each ran as the grid
says (training steps and seed, sampler, steps and seed, equal N, the quality
section of evaluate --training), recomputes with numpy the per-cell mean,
sd and standard error over seeds of the quality ratio, the state populations
and the energies, the per-setting winner, and compares all of it with
report/study.json and the rows of report/study.md.
  study_table.py --run DIR --config tiny.yaml
Prints what it checked; exits 1 naming the first mismatch.
"""
import argparse
import json
import math
import os
import sys
import tomllib

import numpy as np
import yaml

STATES = ["alphaR", "beta", "PPII", "L", "other"]


def fail(msg):
    print("study_table.py: FAIL: " + msg)
    sys.exit(1)


def close(a, b, what, tol=1e-9):
    if a is None or b is None:
        if a is not None or b is not None:
            fail(f"{what}: {a} != {b}")
        return
    if not math.isclose(a, b, rel_tol=tol, abs_tol=tol):
        fail(f"{what}: recomputed {a!r}, study.json {b!r}")


def load(path):
    if not os.path.exists(path):
        fail(f"missing {path}")
    with open(path) as f:
        return json.load(f)


def tau_text(t):
    t = float(t)
    return "%.1f" % t if t == int(t) else "%g" % t


def expected_processes(cfg):
    out = []
    for name, spec in cfg["processes"].items():
        for tau in spec.get("taus") or [None]:
            key = name if tau is None else f"{name}-tau{tau_text(tau)}"
            label = spec.get("label") or name
            if tau is not None:
                label = f"{label} (tau {tau_text(tau)})"
            out.append((key, name, tau, label))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", required=True)
    ap.add_argument("--config", required=True)
    ap.add_argument("--source", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."),
                    help="the repository (for the shipped process configs)")
    args = ap.parse_args()
    with open(args.config) as f:
        cfg = yaml.safe_load(f)
    run = args.run
    study = load(os.path.join(run, "report", "study.json"))
    with open(os.path.join(run, "report", "study.md")) as f:
        md_lines = f.read().splitlines()

    checked_runs = 0
    for features in cfg["features"]:
        for split, sp in cfg["splits"].items():
            n_train = load(os.path.join(run, "data", features, sp["train"], "meta.json"))["frames"]
            n_unseen = load(os.path.join(run, "data", features, sp["unseen"], "meta.json"))["frames"]
            groups = [g for g in study["groups"] if g["features"] == features and g["split"] == split]
            if len(groups) != 1:
                fail(f"study.json has {len(groups)} groups for {features}/{split}")
            group = groups[0]
            if group["n"] != n_train:
                fail(f"group N {group['n']} != training frames {n_train}")
            expected_cells = 0
            first_quality = None
            means = {}
            for key, kind, tau, label in expected_processes(cfg):
                for budget in cfg["budgets"]:
                    for sampler, sspec in cfg["samplers"].items():
                        ratios, pops, energies, w1s = [], {s: [] for s in STATES}, [], []
                        for seed in cfg["seeds"]:
                            base = os.path.join(run, "models", features, split, key, f"b{budget}", f"seed{seed}")
                            cell = os.path.join(run, "cells", features, split, key, f"b{budget}", sampler, f"seed{seed}")
                            train = load(os.path.join(base, "train_summary.json"))
                            tconf = train["config"]["model"]
                            if tconf["training"]["steps"] != budget or tconf["training"]["seed"] != seed:
                                fail(f"{base}: trained {tconf['training']['steps']} steps seed {tconf['training']['seed']}")
                            if tconf["process"]["kind"] != kind:
                                fail(f"{base}: process {tconf['process']['kind']} != {kind}")
                            if tau is not None and not math.isclose(tconf["process"]["tau"], float(tau)):
                                fail(f"{base}: tau {tconf['process']['tau']} != {tau}")
                            # Each process trains with its own shipped config: passive at its
                            # fair-baseline temperature (2d-passive.toml), not the active config's.
                            toml_path = os.path.join(args.source, cfg["processes"][kind]["config"].format(features=features))
                            with open(toml_path, "rb") as f:
                                shipped = tomllib.load(f)["process"]
                            if shipped.get("kind", kind) != kind:
                                fail(f"{toml_path}: kind {shipped.get('kind')} for process {kind}")
                            if kind == "passive" and not math.isclose(tconf["process"]["temperature"], shipped["temperature"]):
                                fail(f"{base}: passive trained at T = {tconf['process']['temperature']}, "
                                     f"its config says {shipped['temperature']}")
                            if tconf["runtime"]["threads"] != 1:
                                fail(f"{base}: {tconf['runtime']['threads']} threads, the tests pin 1")
                            sample = load(os.path.join(cell + "", "samples.json"))
                            ssum = sample["summary"]
                            seff = sample["config"]["effective_config"]["sampler"]
                            if ssum["samples"] != n_train:
                                fail(f"{cell}: {ssum['samples']} samples, not N = {n_train} training frames")
                            if seff["seed"] != seed:
                                fail(f"{cell}: sampling seed {seff['seed']} != {seed}")
                            if "sampler" in sspec and ssum["sampler"] != sspec["sampler"]:
                                fail(f"{cell}: sampler {ssum['sampler']} != {sspec['sampler']}")
                            if "steps" in sspec and ssum["steps"] != sspec["steps"]:
                                fail(f"{cell}: {ssum['steps']} steps != {sspec['steps']}")
                            if sspec.get("sampler") in ("deis", "em") and ssum["network_calls_per_sample"] != sspec["steps"]:
                                fail(f"{cell}: {ssum['network_calls_per_sample']} calls a sample, {sspec['steps']} steps")
                            report = load(os.path.join(cell, "report", "report.json"))
                            qual = report.get("quality")
                            if qual is None:
                                fail(f"{cell}: no quality section (evaluate --training)")
                            if qual["n"] != n_train or report["reference"]["frames"] != n_unseen:
                                fail(f"{cell}: quality N {qual['n']} / reference {report['reference']['frames']}")
                            close(qual["ratio"], qual["generated_js_nats"] / qual["training_js_nats"], f"{cell} ratio")
                            if first_quality is None:
                                first_quality = qual
                            for b in ("replay", "kde"):
                                if qual[b]["per_seed"] != first_quality[b]["per_seed"]:
                                    fail(f"{cell}: {b} baseline differs between cells of one split")
                            ratios.append(qual["ratio"])
                            for s in STATES:
                                pops[s].append(report["states"]["generated"]["states"][s]["fraction"])
                            if "energies" in report:
                                energies.append(report["energies"]["generated"]["median"])
                                w1s.append(report["energies"]["wasserstein1_kj_mol"])
                            checked_runs += 1
                        expected_cells += 1
                        found = [c for c in group["cells"] if c["process"] == key and c["budget"] == budget
                                 and c["sampler"] == sampler]
                        if len(found) != 1:
                            fail(f"study.json: {len(found)} rows for {key} b{budget} {sampler}")
                        c = found[0]
                        what = f"{features}/{split}/{key}/b{budget}/{sampler}"
                        r = np.array(ratios)
                        close(float(r.mean()), c["ratio"]["mean"], what + " ratio mean")
                        if len(r) > 1:
                            close(float(r.std(ddof=1)), c["ratio"]["sd"], what + " ratio sd")
                            close(float(r.std(ddof=1) / np.sqrt(len(r))), c["ratio"]["se"], what + " ratio se")
                        if c["ratio"]["per_seed"] != ratios:
                            fail(what + ": per-seed ratios differ")
                        for s in STATES:
                            close(float(np.mean(pops[s])), c["populations"][s]["mean"], f"{what} population {s}")
                        if energies:
                            close(float(np.mean(energies)), c["energy_median_kj_mol"]["mean"], what + " energy median")
                            close(float(np.mean(w1s)), c["energy_w1_kj_mol"]["mean"], what + " energy W1")
                        means[(budget, sampler, key)] = (float(r.mean()),
                                                         float(r.std(ddof=1) / np.sqrt(len(r))) if len(r) > 1 else None)
                        # The Markdown row: label | budget | sampler | ... | mean +- sd | se |
                        row = [ln for ln in md_lines if ln.startswith(f"| {label} | {budget} | {sampler} |")]
                        if len(row) != 1:
                            fail(f"study.md: {len(row)} rows for {label} {budget} {sampler}")
                        want = f"{r.mean():.3f} +- {r.std(ddof=1):.3f}" if len(r) > 1 else f"{r.mean():.3f}"
                        if f"| {want} |" not in row[0]:
                            fail(f"study.md row for {what} lacks ratio '{want}': {row[0]}")
            if len(group["cells"]) != expected_cells:
                fail(f"study.json has {len(group['cells'])} cells for {features}/{split}, the grid {expected_cells}")
            for b in ("replay", "kde"):
                close(first_quality[b]["mean"], group["baselines"][b]["mean"], f"{b} baseline")
            # The winner of each (budget, sampler) setting and its margin in standard errors.
            for v in group["verdicts"]:
                entries = sorted(((m, se, k) for (b, s, k), (m, se) in means.items()
                                  if b == v["budget"] and s == v["sampler"]))
                if v["verdict"]["best"] != entries[0][2]:
                    fail(f"winner at {v['budget']} {v['sampler']}: {v['verdict']['best']} != {entries[0][2]}")
                if len(entries) > 1 and entries[0][1] is not None:
                    z = (entries[1][0] - entries[0][0]) / math.hypot(entries[0][1], entries[1][1])
                    close(z, v["verdict"]["margin_z"], f"margin z at {v['budget']} {v['sampler']}", tol=1e-6)
            for name in group.get("plots", {}).values():
                with open(os.path.join(run, "report", name), "rb") as f:
                    if f.read(8) != b"\x89PNG\r\n\x1a\n":
                        fail(f"{name} is not a PNG")
            if "plots" not in group or len(group["plots"]) != 3:
                fail("three plots per group expected")
    if not study.get("summary"):
        fail("no summary in words")
    print(f"study_table.py: OK: {checked_runs} cell runs, every table value recomputed")


if __name__ == "__main__":
    main()
