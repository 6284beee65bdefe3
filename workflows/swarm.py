#!/usr/bin/python3
"""A swarm of short MD runs started from generated seeds, against plain MD.

    workflows/swarm.py --model RUN_DIR --runs 8 --length-ps 20 --out swarm/

1. `activediff seed` draws --runs starting structures from the model, spread
   over the metastable states (template: --topology, the System's structure).
2. `activediff simulate` runs each for --length-ps; as many plain MD runs of
   the same length start from the template itself (seeds 1..N).
3. `activediff featurize` gives each run's phi/psi; states are PRODUCT.md's
   (featurize/states.h; the Python copy in examples/openmm-move/run_move.py).

Writes swarm.json (configuration, versions, every run's phi/psi per frame and
the summary) and report.md: pooled state populations of the swarm and of
plain MD, and per run the time to the first transition (the first frame in a
metastable state other than the start's; runs without one are censored at
their length). `--report-from swarm.json` recomputes the summary and the
report from the JSON's frames alone.
"""
import argparse
import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "examples", "openmm-move"))
from run_move import STATES, state_of  # noqa: E402  one Python copy of featurize/states.h

ALA2 = os.path.join(ROOT, "examples", "ala2")
MAIN_STATES = [s for s in STATES if s != "other"]


def run(cmd, **kw):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)
    if r.returncode != 0:
        sys.exit("swarm.py: %s failed (exit %d):\n%s" % (" ".join(cmd), r.returncode, r.stdout))
    return r.stdout


def split_pdb_models(path, out_dir):
    """One PDB per MODEL block of a multi-model PDB (CONECT records copied to each)."""
    lines = open(path).read().splitlines()
    header = [l for l in lines if l.startswith(("TITLE", "REMARK"))]
    conect = [l for l in lines if l.startswith("CONECT")]
    models, current = [], None
    for l in lines:
        if l.startswith("MODEL"):
            current = []
        elif l.startswith("ENDMDL"):
            models.append(current)
            current = None
        elif current is not None:
            current.append(l)
    files = []
    for k, body in enumerate(models):
        f = os.path.join(out_dir, "seed_%03d.pdb" % k)
        with open(f, "w") as h:
            h.write("\n".join(header + body + conect + ["END"]) + "\n")
        files.append(f)
    return files


def phi_psi_of(activediff, topology, trajectory, work):
    """(time_ps, phi_deg, psi_deg) per frame through activediff featurize."""
    out = os.path.join(work, os.path.basename(trajectory) + "-2d")
    run([activediff, "featurize", "-q", "--features", "2d", "-s", topology, "-f", trajectory, "-o", out])
    features = np.load(os.path.join(out, "features.npy"))
    times = np.load(os.path.join(out, "time_ps.npy"))
    return [[float(t), float(np.degrees(f[0])), float(np.degrees(f[1]))] for t, f in zip(times, features)]


def first_transition_ps(start_state, frames):
    for t, phi, psi in frames:
        s = state_of(phi, psi)
        if s != start_state and s != "other":
            return t
    return None


def summarize(runs, length_ps):
    """Everything report.md says, from the runs' frames alone."""
    summary = {}
    for kind in ("swarm", "plain_md"):
        rs = [r for r in runs if r["kind"] == kind]
        labels = [state_of(phi, psi) for r in rs for _, phi, psi in r["frames"]]
        pops = {s: (labels.count(s) / len(labels) if labels else 0.0) for s in STATES}
        firsts = [first_transition_ps(r["start_state"], r["frames"]) for r in rs]
        seen = [t for t in firsts if t is not None]
        starts = {s: sum(1 for r in rs if r["start_state"] == s) for s in STATES}
        summary[kind] = {
            "runs": len(rs), "frames": len(labels), "populations": pops, "runs_per_start_state": starts,
            "first_transition_ps": firsts,
            "runs_with_a_transition": len(seen),
            # Censored runs count with their length: a lower bound of the mean.
            "mean_first_transition_ps_censored_at_length": (
                float(np.mean([t if t is not None else length_ps for t in firsts])) if firsts else None),
            "states_visited": [s for s in MAIN_STATES if pops[s] > 0.0]}
    return summary


def report_md(doc):
    s, c = doc["summary"], doc["config"]
    lines = ["# Swarm from generated seeds against plain MD", "",
             "%d runs of %g ps each side (frames every %g ps); model %s." % (
                 c["runs"], c["length_ps"], c["frame_interval_ps"], doc["model"]), "",
             "| | " + " | ".join(STATES) + " | runs with a transition | mean first transition, ps (censored at %g) |"
             % c["length_ps"],
             "|---|" + "---|" * (len(STATES) + 2)]
    for kind, name in (("swarm", "swarm (seeds spread over states)"), ("plain_md", "plain MD from the template")):
        k = s[kind]
        lines.append("| %s | " % name + " | ".join("%.3f" % k["populations"][st] for st in STATES) +
                     " | %d / %d | %.2f |" % (k["runs_with_a_transition"], k["runs"],
                                              k["mean_first_transition_ps_censored_at_length"]))
    lines += ["", "Start states: swarm %s; plain MD %s." % (
        ", ".join("%s %d" % (st, n) for st, n in s["swarm"]["runs_per_start_state"].items() if n),
        ", ".join("%s %d" % (st, n) for st, n in s["plain_md"]["runs_per_start_state"].items() if n)), ""]
    return "\n".join(lines)


def write_outputs(out_dir, doc):
    for name, text in (("swarm.json", json.dumps(doc, indent=1)), ("report.md", report_md(doc))):
        tmp = os.path.join(out_dir, name + ".tmp")
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, os.path.join(out_dir, name))


def prepare_output(out):
    """A new directory; an earlier swarm output is kept as #name.N#; anything else is refused."""
    out = os.path.abspath(out)
    if out in ("/", os.path.expanduser("~")) or os.path.dirname(out) == "/":
        sys.exit("swarm.py: refusing to write into %s (a system path or home)" % out)
    if os.path.exists(out):
        if not os.path.isfile(os.path.join(out, "swarm.json")):
            sys.exit("swarm.py: %s exists and is not a swarm output; choose another --out" % out)
        d, b = os.path.split(out)
        k = 1
        while os.path.exists(os.path.join(d, "#%s.%d#" % (b, k))):
            k += 1
        os.rename(out, os.path.join(d, "#%s.%d#" % (b, k)))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--activediff", default=os.environ.get("ACTIVEDIFF", "activediff"), help="the activediff program")
    ap.add_argument("--model", help="checkpoint or training output directory (2D phi/psi model)")
    ap.add_argument("--system", default=os.path.join(ALA2, "system.xml"))
    ap.add_argument("--topology", default=os.path.join(ALA2, "ala2.pdb"), help="template structure (System order)")
    ap.add_argument("--runs", type=int, default=8, help="swarm runs (and as many plain MD runs)")
    ap.add_argument("--length-ps", type=float, default=20.0)
    ap.add_argument("--frame-interval-ps", type=float, default=0.1)
    ap.add_argument("--platform", default="CPU")
    ap.add_argument("--seed", type=int, default=1, help="seed of the model draws; MD seeds are 1..runs")
    ap.add_argument("-j", "--jobs", type=int, default=1, help="MD runs at a time")
    ap.add_argument("--out", help="output directory")
    ap.add_argument("--report-from", help="recompute summary and report.md from this swarm.json (nothing is run)")
    a = ap.parse_args()
    if a.report_from:
        doc = json.load(open(a.report_from))
        doc["summary"] = summarize(doc["runs"], doc["config"]["length_ps"])
        print(report_md(doc))
        print(json.dumps(doc["summary"], indent=1))
        return
    if not a.model or not a.out:
        ap.error("--model and --out are required (or --report-from)")
    if a.runs < 1 or a.length_ps <= 0 or a.frame_interval_ps <= 0 or a.frame_interval_ps > a.length_ps or a.jobs < 1:
        ap.error("need --runs >= 1, --jobs >= 1 and 0 < --frame-interval-ps <= --length-ps")
    out = prepare_output(a.out)
    work = tempfile.mkdtemp(prefix=".swarm-", dir=os.path.dirname(out))
    try:
        seeds_pdb = os.path.join(work, "seeds.pdb")
        run([a.activediff, "seed", "-q", "-m", a.model, "--system", a.system, "-s", a.topology, "-n", str(a.runs),
             "--seed", str(a.seed), "--platform", a.platform, "-o", seeds_pdb])
        seeds = json.load(open(os.path.join(work, "seeds.json")))
        seed_files = split_pdb_models(seeds_pdb, work)
        template_state = None
        tf = phi_psi_of(a.activediff, a.topology, a.topology, work)
        template_state = state_of(tf[0][1], tf[0][2])
        jobs = []
        for k in range(a.runs):
            jobs.append(("swarm", k, seed_files[k], seeds["result"]["per_seed"][k]["state"]))
            jobs.append(("plain_md", k, a.topology, template_state))

        def simulate(job):
            kind, k, structure, start = job
            xtc = os.path.join(work, "%s_%03d.xtc" % (kind, k))
            run([a.activediff, "simulate", "-q", "--system", a.system, "--structure", structure, "-o", xtc,
                 "--length", repr(a.length_ps / 1000.0), "--frame-interval", repr(a.frame_interval_ps),
                 "--equilibrate", "0", "--seed", str(k + 1), "--platform", a.platform, "--threads", "1"])
            return {"kind": kind, "index": k, "start_state": start, "md_seed": k + 1,
                    "frames": phi_psi_of(a.activediff, structure, xtc, work)}

        with concurrent.futures.ThreadPoolExecutor(a.jobs) as pool:
            runs = list(pool.map(simulate, jobs))
            for r in runs:
                print("%-8s run %d from %-6s: %d frames" % (r["kind"], r["index"], r["start_state"], len(r["frames"])),
                      file=sys.stderr)
        version = run([a.activediff, "--version"]).strip()
        doc = {"command": " ".join(sys.argv), "activediff_version": version, "model": a.model,
               "config": {"runs": a.runs, "length_ps": a.length_ps, "frame_interval_ps": a.frame_interval_ps,
                          "platform": a.platform, "seed": a.seed, "system": a.system, "topology": a.topology,
                          "md": "activediff simulate, LangevinMiddle 300 K 1/ps 2 fs, minimized, no equilibration"},
               "seeds": seeds["result"], "template_state": template_state, "runs": runs}
        doc["summary"] = summarize(runs, a.length_ps)
        os.makedirs(os.path.join(work, "out"))
        shutil.copy(seeds_pdb, os.path.join(work, "out", "seeds.pdb"))
        shutil.copy(os.path.join(work, "seeds.json"), os.path.join(work, "out", "seeds.json"))
        write_outputs(os.path.join(work, "out"), doc)
        os.rename(os.path.join(work, "out"), out)
        print(report_md(doc))
        print("wrote %s/swarm.json and %s/report.md" % (out, out))
    finally:
        shutil.rmtree(work, ignore_errors=True)  # this script's own mkdtemp directory


if __name__ == "__main__":
    main()
