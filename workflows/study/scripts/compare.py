#!/usr/bin/python3
"""The study's comparison report (issue 12, Build 2).

Reads report/cells.json (written by the Snakefile: one record per cell run,
i.e. per feature set, split, process, budget, sampler and seed, with the paths
of its evaluate report.json, sample JSON and train summary) and writes

  study.json   every cell (seeds pooled): mean, sd and standard error over
               seeds of the quality ratio, JS, state populations, energies;
               the replay/KDE baselines and MD populations of each split; a
               verdict per (budget, sampler) setting and a summary in words;
  study.md     the same as tables and sentences, with the plots linked;
  *.png        ratio vs network calls per process, ratio vs training budget,
               state populations with confidence intervals against MD.

The quality measure is evaluate's (featurize/include/activediff/featurize/
quality.h): nothing here redefines it, the script only pools seeds.
  /usr/bin/python3 workflows/study/scripts/compare.py --manifest report/cells.json --out report
"""
import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

STATES = ["alphaR", "beta", "PPII", "L", "other"]
# Two-sided 95 % Student t quantiles by degrees of freedom (CIs over few seeds).
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228,
        12: 2.179, 15: 2.131, 20: 2.086, 30: 2.042}


def t975(df):
    if df <= 0:
        return float("nan")
    keys = sorted(k for k in T975 if k <= df)
    return T975[keys[-1]] if df <= 30 else 1.96


def stats(values):
    """Mean, sample sd (ddof 1), standard error, min, max over seeds; None where undefined."""
    v = np.asarray([x for x in values if x is not None and math.isfinite(x)], dtype=float)
    out = {"n": int(v.size), "per_seed": [None if x is None else float(x) for x in values]}
    if v.size == 0:
        out.update(mean=None, sd=None, se=None, min=None, max=None)
        return out
    sd = float(np.std(v, ddof=1)) if v.size > 1 else None
    out.update(mean=float(np.mean(v)), sd=sd, se=None if sd is None else sd / math.sqrt(v.size),
               min=float(np.min(v)), max=float(np.max(v)))
    return out


def load(path):
    with open(path) as f:
        return json.load(f)


def get(d, *keys):
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def fmt(x, digits=3):
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    return f"{x:.{digits}f}"


def fmt_stat(s, digits=3):
    """mean +- sd over seeds (the spread); '-' parts where undefined."""
    if s is None or s["mean"] is None:
        return "-"
    if s["sd"] is None:
        return fmt(s["mean"], digits)
    return f"{fmt(s['mean'], digits)} +- {fmt(s['sd'], digits)}"


def read_run(record, base):
    report = load(os.path.join(base, record["report"]))
    sample = load(os.path.join(base, record["samples"]))
    train_path = os.path.join(base, record["train_summary"])
    train = load(train_path) if os.path.exists(train_path) else {}
    quality = report.get("quality")
    if quality is None:
        raise SystemExit(f"compare.py: {record['report']} has no quality section (evaluate --training missing?)")
    run = {
        "ratio": quality["ratio"],
        "generated_js_nats": quality.get("generated_js_nats"),
        "training_js_nats": quality.get("training_js_nats"),
        "replay": {"mean": get(quality, "replay", "mean"), "standard_error": get(quality, "replay", "standard_error")},
        "kde": {"mean": get(quality, "kde", "mean"), "standard_error": get(quality, "kde", "standard_error"),
                "bandwidth_deg": get(quality, "kde", "bandwidth_deg")},
        "n": quality.get("n"),
        "protocol": quality.get("protocol"),
        "populations": {s: get(report, "states", "generated", "states", s, "fraction") for s in STATES},
        "md_populations": get(report, "states", "reference", "states"),
        "energy_median": get(report, "energies", "generated", "median"),
        "md_energy_median": get(report, "energies", "reference", "median"),
        "energy_w1": get(report, "energies", "wasserstein1_kj_mol"),
        "valid_fraction": (report["validity"]["valid"] / report["validity"]["samples"])
        if get(report, "validity", "samples") else None,
        "likelihood": get(report, "likelihood", "nats_per_dim"),
        "calls": get(sample, "summary", "network_calls_per_sample"),
        "samples_per_s": get(sample, "summary", "samples_per_s"),
        "train_it_per_s": get(train, "summary", "it_per_s"),
    }
    return run


def cell_key(r):
    return (r["features"], r["split"], r["process"], r["budget"], r["sampler"])


def gnuplot(script, workdir):
    path = os.path.join(workdir, "plot.gp")
    with open(path, "w") as f:
        f.write(script)
    done = subprocess.run(["gnuplot", path], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit("compare.py: gnuplot failed: " + done.stderr[-2000:])


def gq(s):
    return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"') + '"'


def plot_ratio_vs_calls(group, cells, budget, out_png, tmp):
    processes = list(dict.fromkeys(c["process"] for c in cells))
    kinds = list(dict.fromkeys((c["sampler_options"].get("sampler") or c["sampler"]) for c in cells))
    series = []
    for pi, p in enumerate(processes):
        for ki, k in enumerate(kinds):
            pts = sorted((c["network_calls_per_sample"], c["ratio"]["mean"], c["ratio"]["se"] or 0.0)
                         for c in cells if c["process"] == p and c["budget"] == budget
                         and (c["sampler_options"].get("sampler") or c["sampler"]) == k
                         and c["network_calls_per_sample"] and c["ratio"]["mean"] is not None)
            if not pts:
                continue
            data = os.path.join(tmp, f"calls-{pi}-{ki}.dat")
            with open(data, "w") as f:
                f.writelines(f"{x} {y} {e}\n" for x, y, e in pts)
            label = f"{cells_label(cells, p)}, {k}"
            series.append(f"{gq(data)} using 1:2:3 with yerrorlines lc {pi + 1} pt {ki + 4} ps 1.3 title {gq(label)}")
    base = group["baselines"]
    xs = [c["network_calls_per_sample"] for c in cells if c["budget"] == budget and c["network_calls_per_sample"]]
    xs = [x for x in xs if not isinstance(x, list)] or [1]
    script = (f"set terminal pngcairo size 900,640 font ',10'\nset output {gq(out_png)}\n"
              f"set title {gq('quality ratio against network calls a sample (' + str(budget) + ' training steps; mean +- se over seeds)')}\n"
              f"set logscale x\nset xrange [{min(xs) / 1.5}:{max(xs) * 1.5}]\nset samples 400\n"
              f"set xtics ({', '.join(f'{x:g}' for x in sorted(set(xs)))})\n"
              "set xlabel 'network calls a sample'\nset ylabel 'quality ratio (lower is better, 1 = training frames)'\n"
              "set key outside below\nset grid\n")
    lines = list(series)
    for name, dash in (("replay", 2), ("kde", 3)):
        m = base[name]["mean"]
        if m is not None:
            lines.append(f"{m} with lines dt {dash} lc rgb 'gray30' title {gq(('replay of the training frames' if name == 'replay' else 'best KDE (data limit)') + f' {m:.3f}')}")
    gnuplot(script + "plot " + ", \\\n  ".join(lines) + "\n", tmp)


def cells_label(cells, process):
    for c in cells:
        if c["process"] == process:
            return c["label"]
    return process


def plot_ratio_vs_budget(group, cells, sampler, out_png, tmp):
    processes = list(dict.fromkeys(c["process"] for c in cells))
    lines = []
    for pi, p in enumerate(processes):
        pts = sorted((c["budget"], c["ratio"]["mean"], c["ratio"]["se"] or 0.0) for c in cells
                     if c["process"] == p and c["sampler"] == sampler and c["ratio"]["mean"] is not None)
        if not pts:
            continue
        data = os.path.join(tmp, f"budget-{pi}.dat")
        with open(data, "w") as f:
            f.writelines(f"{x} {y} {e}\n" for x, y, e in pts)
        lines.append(f"{gq(data)} using 1:2:3 with yerrorlines lc {pi + 1} pt {pi + 4} ps 1.3 title {gq(cells_label(cells, p))}")
    base = group["baselines"]
    for name, dash in (("replay", 2), ("kde", 3)):
        m = base[name]["mean"]
        if m is not None:
            lines.append(f"{m} with lines dt {dash} lc rgb 'gray30' title {gq(('replay' if name == 'replay' else 'best KDE') + f' {m:.3f}')}")
    xs = [c["budget"] for c in cells] or [1]
    script = (f"set terminal pngcairo size 900,640 font ',10'\nset output {gq(out_png)}\n"
              f"set title {gq('quality ratio against training budget (sampler ' + sampler + '; mean +- se over seeds)')}\n"
              f"set logscale x\nset xrange [{min(xs) / 1.5}:{max(xs) * 1.5}]\nset samples 400\n"
              f"set xtics ({', '.join(f'{x:g}' for x in sorted(set(xs)))})\n"
              "set xlabel 'training steps'\nset ylabel 'quality ratio (lower is better)'\nset key outside below\nset grid\n")
    gnuplot(script + "plot " + ", \\\n  ".join(lines) + "\n", tmp)


def plot_populations(group, cells, budget, sampler, out_png, tmp):
    states = [s for s in STATES if s != "other" or any((c["populations"][s]["mean"] or 0) > 0 for c in cells)]
    chosen = [c for c in cells if c["budget"] == budget and c["sampler"] == sampler]
    n_series = len(chosen) + 1
    width = 0.8 / n_series
    lines = []
    md = group["md"]["populations"] or {}
    data = os.path.join(tmp, "pop-md.dat")
    with open(data, "w") as f:
        for si, s in enumerate(states):
            m = md.get(s) or {}
            if m.get("fraction") is not None:
                f.write(f"{si - 0.4 + width / 2} {m['fraction']} {m['ci_low']} {m['ci_high']}\n")
    lines.append(f"{gq(data)} using 1:2:3:4 with yerrorbars lc rgb 'black' pt 7 ps 1.3 title 'MD (unseen run), 95% block-bootstrap CI'")
    for ci, c in enumerate(chosen):
        data = os.path.join(tmp, f"pop-{ci}.dat")
        with open(data, "w") as f:
            for si, s in enumerate(states):
                p = c["populations"][s]
                if p["mean"] is None:
                    continue
                half = c["population_ci95_halfwidth"][s] or 0.0
                f.write(f"{si - 0.4 + width * (ci + 1.5)} {p['mean']} {p['mean'] - half} {p['mean'] + half}\n")
        lines.append(f"{gq(data)} using 1:2:3:4 with yerrorbars lc {ci + 1} pt {ci + 4} ps 1.3 title {gq(c['label'])}")
    tics = ", ".join(f"{gq(s)} {i}" for i, s in enumerate(states))
    script = (f"set terminal pngcairo size 900,640 font ',10'\nset output {gq(out_png)}\n"
              f"set title {gq(f'state populations ({budget} steps, {sampler}; 95% CI over seeds) against MD')}\n"
              f"set xtics ({tics})\nset xrange [-0.6:{len(states) - 0.4}]\nset yrange [0:*]\n"
              "set ylabel 'fraction'\nset key outside below\nset grid ytics\n")
    gnuplot(script + "plot " + ", \\\n  ".join(lines) + "\n", tmp)


def verdict(setting_cells):
    """The best process of one (features, split, budget, sampler) setting against the runner-up."""
    ranked = sorted((c for c in setting_cells if c["ratio"]["mean"] is not None), key=lambda c: c["ratio"]["mean"])
    if not ranked:
        return None
    best = ranked[0]
    out = {"best": best["process"], "best_label": best["label"], "best_ratio": best["ratio"]["mean"],
           "best_se": best["ratio"]["se"], "ranking": [c["process"] for c in ranked]}
    if len(ranked) > 1:
        second = ranked[1]
        diff = second["ratio"]["mean"] - best["ratio"]["mean"]
        se1, se2 = best["ratio"]["se"], second["ratio"]["se"]
        se_diff = math.sqrt(se1 ** 2 + se2 ** 2) if se1 is not None and se2 is not None else None
        z = diff / se_diff if se_diff else None
        strength = ("clear" if z >= 2 else "marginal" if z >= 1 else "within the spread") if z is not None \
            else "no spread (one seed)"
        out.update(runner_up=second["process"], runner_up_label=second["label"], runner_up_ratio=second["ratio"]["mean"],
                   margin=diff, margin_se=se_diff, margin_z=z, strength=strength)
    return out


def summary_words(groups):
    sentences = []
    for g in groups:
        vs = [v for v in g["verdicts"] if v["verdict"] is not None]
        if not vs:
            continue
        head = f"{g['features']}, {g['split']}:"
        wins = {}
        for v in vs:
            w = v["verdict"]
            wins.setdefault(w["best_label"], []).append(v)
        parts = []
        for label, items in sorted(wins.items(), key=lambda kv: -len(kv[1])):
            clear = [v for v in items if v["verdict"].get("strength") == "clear"]
            judged = [v for v in items if v["verdict"].get("margin_z") is not None]
            how = (f"{len(clear)} of them by more than 2 standard errors of the difference" if judged
                   else "one seed: no spread to judge the margin by")
            parts.append(f"{label} has the lowest mean ratio in {len(items)} of {len(vs)} (budget, sampler) settings"
                         f" ({how})")
        sentences.append(head + " " + "; ".join(parts) + ".")
        biggest = max((v for v in vs if v["verdict"].get("margin_z") is not None),
                      key=lambda v: v["verdict"]["margin_z"], default=None)
        if biggest is not None:
            w = biggest["verdict"]
            sentences.append(
                f"The widest lead: {w['best_label']} at {biggest['budget']} steps with {biggest['sampler']}, ratio "
                f"{w['best_ratio']:.3f} against {w['runner_up_label']}'s {w['runner_up_ratio']:.3f} "
                f"(margin {w['margin']:.3f}, {w['margin_z']:.1f} standard errors).")
        ties = [v for v in vs if v["verdict"].get("strength") in ("within the spread", "marginal")]
        if ties:
            sentences.append(f"In {len(ties)} setting(s) the lead is under 2 standard errors: there the seeds do not "
                             "separate the winner from the runner-up.")
        kde = g["baselines"]["kde"]["mean"]
        if kde is not None:
            best_overall = min((c for c in g["cells"] if c["ratio"]["mean"] is not None),
                               key=lambda c: c["ratio"]["mean"], default=None)
            if best_overall is not None:
                sentences.append(
                    f"The best cell overall ({best_overall['label']}, {best_overall['budget']} steps, "
                    f"{best_overall['sampler']}: {best_overall['ratio']['mean']:.3f}) is "
                    f"{'at or below' if best_overall['ratio']['mean'] <= kde else 'above'} the best-KDE data limit "
                    f"({kde:.3f}); replaying the training frames gives {g['baselines']['replay']['mean']:.3f}.")
    return " ".join(sentences)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--manifest", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--base", default=".", help="directory the manifest's paths are relative to (default: .)")
    ap.add_argument("--no-plots", action="store_true")
    args = ap.parse_args()
    manifest = load(args.manifest)
    os.makedirs(args.out, exist_ok=True)

    runs = {}
    protocol = None
    for record in manifest["cells"]:
        run = read_run(record, args.base)
        protocol = protocol or run["protocol"]
        runs.setdefault(cell_key(record), []).append((record, run))

    cells = []
    for key, items in runs.items():
        items.sort(key=lambda x: x[0]["seed"])
        record = items[0][0]
        rs = [r for _, r in items]
        calls = sorted({r["calls"] for r in rs if r["calls"] is not None})
        pops = {s: stats([r["populations"][s] for r in rs]) for s in STATES}
        cell = {
            "features": record["features"], "split": record["split"], "process": record["process"],
            "process_kind": record["process_kind"], "label": record["label"], "tau": record["tau"],
            "budget": record["budget"], "sampler": record["sampler"], "sampler_options": record["sampler_options"],
            "seeds": [x[0]["seed"] for x in items],
            "network_calls_per_sample": calls[0] if len(calls) == 1 else (calls or None),
            "n": rs[0]["n"],
            "ratio": stats([r["ratio"] for r in rs]),
            "generated_js_nats": stats([r["generated_js_nats"] for r in rs]),
            "populations": pops,
            "population_ci95_halfwidth": {s: (t975(p["n"] - 1) * p["se"]) if p["se"] is not None else None
                                          for s, p in pops.items()},
            "energy_median_kj_mol": stats([r["energy_median"] for r in rs]),
            "energy_w1_kj_mol": stats([r["energy_w1"] for r in rs]),
            "valid_fraction": stats([r["valid_fraction"] for r in rs]),
            "likelihood_nats_per_dim": stats([r["likelihood"] for r in rs]),
            "samples_per_s": stats([r["samples_per_s"] for r in rs]),
            "train_it_per_s": stats([r["train_it_per_s"] for r in rs]),
            "reports": [x[0]["report"] for x in items],
        }
        cells.append(cell)

    groups = []
    for features in manifest["features"]:
        for split, spec in manifest["splits"].items():
            members = [c for c in cells if c["features"] == features and c["split"] == split]
            if not members:
                continue
            first = runs[(features, split, members[0]["process"], members[0]["budget"], members[0]["sampler"])][0][1]
            group = {"features": features, "split": split, "train_run": spec["train"], "unseen_run": spec["unseen"],
                     "n": first["n"], "training_js_nats": first["training_js_nats"],
                     "baselines": {"replay": first["replay"], "kde": first["kde"]},
                     "md": {"populations": first["md_populations"], "energy_median_kj_mol": first["md_energy_median"]},
                     "cells": members, "verdicts": []}
            for budget in manifest["budgets"]:
                for sampler in manifest["samplers"]:
                    setting = [c for c in members if c["budget"] == budget and c["sampler"] == sampler]
                    if setting:
                        group["verdicts"].append({"budget": budget, "sampler": sampler, "verdict": verdict(setting)})
            groups.append(group)

    # Job seconds from Snakemake's benchmark files (informational; a model counts once).
    job_seconds = {}
    seen = set()
    for record in manifest["cells"]:
        for rule, path in (record.get("benchmarks") or {}).items():
            full = os.path.join(args.base, path)
            if full in seen or not os.path.exists(full):
                continue
            seen.add(full)
            with open(full) as f:
                rows = [ln.split("\t") for ln in f.read().splitlines()[1:] if ln.strip()]
            if rows:
                job_seconds[rule] = job_seconds.get(rule, 0.0) + float(rows[-1][0])
    if job_seconds:
        job_seconds["total"] = sum(job_seconds.values())

    summary = summary_words(groups)
    plots = {}
    if not args.no_plots:
        if shutil.which("gnuplot") is None:
            raise SystemExit("compare.py: gnuplot not found (apt-get install gnuplot-nox; workflows/setup.sh)")
        with tempfile.TemporaryDirectory(prefix="study-plots.") as tmp:
            for g in groups:
                tag = f"{g['features']}_{g['split']}"
                budget = max(c["budget"] for c in g["cells"])
                names = {"ratio_vs_calls": f"ratio_vs_calls_{tag}.png", "ratio_vs_budget": f"ratio_vs_budget_{tag}.png",
                         "populations": f"populations_{tag}.png"}
                plot_ratio_vs_calls(g, g["cells"], budget, os.path.join(args.out, names["ratio_vs_calls"]), tmp)
                plot_ratio_vs_budget(g, g["cells"], manifest["report_sampler"],
                                     os.path.join(args.out, names["ratio_vs_budget"]), tmp)
                plot_populations(g, g["cells"], budget, manifest["report_sampler"],
                                 os.path.join(args.out, names["populations"]), tmp)
                plots[tag] = names
                g["plots"] = names

    result = {"study_report": 1, "title": manifest["title"], "protocol": protocol,
              "spread": "per cell: mean, sample sd (ddof 1) and standard error sd/sqrt(n) over seeds; population "
                        "CIs: mean +- t(0.975, n-1) * se; verdicts: margin between the two lowest mean ratios in "
                        "units of sqrt(se1^2 + se2^2)",
              "grid": {k: manifest[k] for k in ("features", "splits", "processes", "budgets", "samplers", "seeds",
                                                 "evaluate", "report_sampler")},
              "groups": groups, "summary": summary, "plots": plots, "job_seconds": job_seconds}
    with open(os.path.join(args.out, "study.json"), "w") as f:
        json.dump(result, f, indent=1, allow_nan=False, default=lambda x: None)
        f.write("\n")
    with open(os.path.join(args.out, "study.md"), "w") as f:
        f.write(markdown(result))
    print(f"compare.py: {len(cells)} cells, {sum(len(v) for v in runs.values())} runs -> "
          f"{os.path.join(args.out, 'study.md')}")


def markdown(result):
    lines = [f"# {result['title']}", ""]
    lines += ["## In words", "", result["summary"] or "(no cells)", ""]
    lines += ["## Protocol", "", result["protocol"] or "", "",
              "Spread: " + result["spread"] + ".", ""]
    if result.get("job_seconds"):
        js = result["job_seconds"]
        lines += ["Job time (Snakemake benchmarks, summed over jobs, not wall time): "
                  + ", ".join(f"{k} {v:.0f} s" for k, v in js.items()), ""]
    for g in result["groups"]:
        b = g["baselines"]
        lines += [f"## {g['features']}, train {g['train_run']}, unseen {g['unseen_run']} (N = {g['n']})", ""]
        lines += [f"Baselines (mean +- se over the quality seeds): replay {fmt(b['replay']['mean'])} +- "
                  f"{fmt(b['replay']['standard_error'])}, best KDE {fmt(b['kde']['mean'])} +- "
                  f"{fmt(b['kde']['standard_error'])} (bandwidth {fmt(b['kde']['bandwidth_deg'], 1)} deg).", ""]
        md = g["md"]["populations"] or {}
        pop_md = ", ".join(f"{s} {fmt(md[s]['fraction'])} [{fmt(md[s]['ci_low'])}, {fmt(md[s]['ci_high'])}]"
                           for s in STATES if s in md)
        lines += [f"MD (unseen run) populations with 95% CI: {pop_md}; median energy "
                  f"{fmt(g['md']['energy_median_kj_mol'], 1)} kJ/mol.", ""]
        lines += ["| process | budget | sampler | calls | seeds | ratio (mean +- sd) | ratio se | JS nats | "
                  + " | ".join(s for s in STATES if s != "other") + " | energy median kJ/mol | energy W1 kJ/mol | valid |",
                  "|---|---|---|---|---|---|---|---|" + "---|" * (len(STATES) - 1) + "---|---|---|"]
        for c in g["cells"]:
            calls = c["network_calls_per_sample"]
            calls = "-" if calls is None else (f"{calls:g}" if not isinstance(calls, list) else "/".join(f"{x:g}" for x in calls))
            pops = " | ".join(fmt_stat(c["populations"][s]) for s in STATES if s != "other")
            lines.append(f"| {c['label']} | {c['budget']} | {c['sampler']} | {calls} | {len(c['seeds'])} | "
                         f"{fmt_stat(c['ratio'])} | {fmt(c['ratio']['se'])} | {fmt_stat(c['generated_js_nats'], 4)} | "
                         f"{pops} | {fmt_stat(c['energy_median_kj_mol'], 1)} | {fmt_stat(c['energy_w1_kj_mol'], 1)} | "
                         f"{fmt_stat(c['valid_fraction'])} |")
        lines += ["", "Best process per setting (lowest mean ratio; margin to the runner-up in standard errors):", "",
                  "| budget | sampler | best | ratio | runner-up | margin | margin / se | verdict |",
                  "|---|---|---|---|---|---|---|---|"]
        for v in g["verdicts"]:
            w = v["verdict"]
            if w is None:
                continue
            lines.append(f"| {v['budget']} | {v['sampler']} | {w['best_label']} | {fmt(w['best_ratio'])} | "
                         f"{w.get('runner_up_label', '-')} | {fmt(w.get('margin'))} | {fmt(w.get('margin_z'), 1)} | "
                         f"{w.get('strength', '-')} |")
        if "plots" in g:
            lines += ["", f"![ratio against network calls]({g['plots']['ratio_vs_calls']})",
                      f"![ratio against training budget]({g['plots']['ratio_vs_budget']})",
                      f"![populations against MD]({g['plots']['populations']})"]
        lines.append("")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
