#!/usr/bin/python3
"""Alanine dipeptide with activediff's generative Monte Carlo move, from
OpenMM's own Python layer (Debian's python3-simtk): no binding to build.

    activediff mcmove -m RUN_DIR -s examples/ala2/ala2.pdb --interval 50 -o move.xml
    examples/openmm-move/run_move.py --plugin-dir "$(activediff --plugin-dir)" --move move.xml

Runs LangevinMiddle MD (Reference or CPU platform) with the move added to
examples/ala2/system.xml and prints the move's acceptance and the alphaR /
beta populations of phi/psi; with --plain-md also the same run without the
move, each run's wall time, and what the move buys: tau_int(alphaR) against
wall time per simulated ps. --json writes the numbers (and the final
positions) for scripts; the C++ example run_move.cpp runs the same and gives
the same trajectory.
"""
import argparse
import json
import math
import os
import sys
import tempfile
import time

import openmm as mm
from openmm import app, unit

HERE = os.path.dirname(os.path.abspath(__file__))
ALA2 = os.path.join(HERE, "..", "ala2")


def dihedral(p, a, b, c, d):
    def sub(u, v):
        return [u[0] - v[0], u[1] - v[1], u[2] - v[2]]

    def cross(u, v):
        return [u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]]

    def dot(u, v):
        return u[0] * v[0] + u[1] * v[1] + u[2] * v[2]

    b1, b2, b3 = sub(p[b], p[a]), sub(p[c], p[b]), sub(p[d], p[c])
    n1, n2 = cross(b1, b2), cross(b2, b3)
    return math.degrees(math.atan2(math.sqrt(dot(b2, b2)) * dot(b1, n2), dot(n1, n2)))


STATES = ("alphaR", "beta", "PPII", "L", "other")


def state_of(phi, psi):
    # PRODUCT.md's metastable states, as featurize/states.h defines them
    # (open intervals, degrees in [-180, 180)).
    inside = -120.0 < psi < 50.0
    outside = psi >= 50.0 or psi < -120.0
    if -180.0 < phi < 0.0 and inside:
        return "alphaR"
    if -180.0 < phi < -90.0 and outside:
        return "beta"
    if -90.0 < phi < 0.0 and outside:
        return "PPII"
    if 0.0 < phi < 180.0:
        return "L"
    return "other"


def positions_nm(context):
    return [[v[0], v[1], v[2]] for v in context.getState(getPositions=True).getPositions().value_in_unit(unit.nanometer)]


def run(system_xml, pdb, move_xml, platform, steps, interval, seed, atoms):
    system = mm.XmlSerializer.deserialize(open(system_xml).read())
    if move_xml:
        system.addForce(mm.XmlSerializer.deserialize(open(move_xml).read()))
    # LangevinMiddle, as activediff simulate: OpenMM 7.7's LangevinIntegrator samples
    # visibly different populations at 2 fs (BENCHMARKS.md).
    integrator = mm.LangevinMiddleIntegrator(300.0, 1.0, 0.002)
    integrator.setRandomNumberSeed(seed)
    # One CPU thread: for a 22-atom molecule the thread hand-off costs more than it gains (BENCHMARKS.md).
    properties = {"Threads": "1"} if platform == "CPU" else {}
    context = mm.Context(system, integrator, mm.Platform.getPlatformByName(platform), properties)
    context.setPositions(app.PDBFile(pdb).positions)
    context.setVelocitiesToTemperature(300.0, seed)
    trace, jumps, accepted_before = [], 0, 0.0
    start = time.perf_counter()
    for _ in range(steps // interval):
        q = positions_nm(context)
        integrator.step(interval)
        p = positions_nm(context)
        phi, psi = dihedral(p, *atoms[0:4]), dihedral(p, *atoms[1:5])
        jump = max(abs((phi - dihedral(q, *atoms[0:4]) + 180.0) % 360.0 - 180.0),
                   abs((psi - dihedral(q, *atoms[1:5]) + 180.0) % 360.0 - 180.0))
        if move_xml:
            accepted = context.getParameter("ActivediffMovesAccepted")
            if accepted > accepted_before and jump > 90.0:
                jumps += 1
            accepted_before = accepted
        trace.append([phi, psi])
    # The whole loop, phi/psi read-out included (the same for both runs).
    wall_s = time.perf_counter() - start
    result = {"steps": steps, "interval": interval, "platform": platform, "seed": seed, "phi_psi_deg": trace,
              "positions_nm": p, "wall_s": wall_s}
    if move_xml:
        result["attempted"] = context.getParameter("ActivediffMovesAttempted")
        result["accepted"] = context.getParameter("ActivediffMovesAccepted")
        result["torsion_jumps_over_90_deg_at_accepted_moves"] = jumps
    states = [state_of(phi, psi) for phi, psi in trace]
    result["populations"] = {s: states.count(s) / len(states) for s in STATES}
    tau = tau_int([1.0 if s == "alphaR" else 0.0 for s in states])
    # None (JSON null) where the series never changes: strict JSON has no Infinity.
    result["alphaR_tau_int_ps"] = tau * interval * 0.002 if math.isfinite(tau) else None
    return result


def speedup(with_move, plain):
    """MD + move against plain MD of the same length: wall time per simulated
    ps, tau_int(alphaR), and their quotient, the gain in independent alphaR
    samples per wall-clock second (None where a run never changed state)."""
    wall_ratio = with_move["wall_s"] / plain["wall_s"]
    tau_move, tau_plain = with_move["alphaR_tau_int_ps"], plain["alphaR_tau_int_ps"]
    finite = tau_move is not None and tau_plain is not None
    return {"wall_ratio": wall_ratio,
            "tau_int_ratio": tau_plain / tau_move if finite else None,
            "independent_samples_per_wall_s_ratio": tau_plain / tau_move / wall_ratio if finite else None}


def tau_int(x):
    """Integrated autocorrelation time in samples, as featurize/populations.h
    defines it: 1/2 + the sum of the normalized autocorrelation, summed with
    Sokal's automatic window (lag >= 5 tau); inf if x never changes."""
    n = len(x)
    mean = sum(x) / n
    var = sum((v - mean) ** 2 for v in x) / n
    if var == 0.0:
        return float("inf")
    tau = 0.5
    for lag in range(1, n // 2):
        tau += sum((x[i] - mean) * (x[i + lag] - mean) for i in range(n - lag)) / ((n - lag) * var)
        if lag >= 5.0 * tau:
            break
    return max(0.5, tau)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--plugin-dir", required=True, help="activediff --plugin-dir")
    ap.add_argument("--move", required=True, help="the XML written by activediff mcmove")
    ap.add_argument("--system", default=os.path.join(ALA2, "system.xml"))
    ap.add_argument("--pdb", default=os.path.join(ALA2, "ala2.pdb"))
    ap.add_argument("--platform", default="Reference", choices=["Reference", "CPU"])
    ap.add_argument("--steps", type=int, default=5000)
    ap.add_argument("--interval", type=int, default=50, help="MD steps between samples of phi/psi (use the move's)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--plain-md", action="store_true", help="also run without the move")
    ap.add_argument("--json", help="write the results here")
    a = ap.parse_args()
    if a.steps < a.interval or a.interval < 1:
        sys.exit("run_move.py: --steps must be >= --interval >= 1")
    mm.Platform.loadPluginsFromDirectory(mm.Platform.getDefaultPluginsDirectory())
    mm.Platform.loadPluginsFromDirectory(a.plugin_dir)
    failures = mm.Platform.getPluginLoadFailures()
    if failures:
        sys.exit("run_move.py: plugin load failures: " + "; ".join(failures))
    atoms = json.load(open(os.path.splitext(a.move)[0] + ".json"))["move"]["phi_psi_atoms"]
    out = {"with_move": run(a.system, a.pdb, a.move, a.platform, a.steps, a.interval, a.seed, atoms)}
    if a.plain_md:
        out["plain_md"] = run(a.system, a.pdb, None, a.platform, a.steps, a.interval, a.seed, atoms)
    m = out["with_move"]
    print("move: %d of %d accepted (%.2f)" % (m["accepted"], m["attempted"], m["accepted"] / max(m["attempted"], 1)))
    for name, r in out.items():
        print("%-9s " % name + "  ".join("%s %.3f" % (s, r["populations"][s]) for s in STATES) +
              "  tau_int(alphaR) %s ps" % ("inf" if r["alphaR_tau_int_ps"] is None else "%.2f" % r["alphaR_tau_int_ps"]))
    if a.plain_md:
        summary = speedup(out["with_move"], out["plain_md"])
        out["speedup"] = summary
        print("wall: with the move %.2f s, plain MD %.2f s for %g ps (%.2fx per simulated ps)" %
              (m["wall_s"], out["plain_md"]["wall_s"], a.steps * 0.002, summary["wall_ratio"]))
        if summary["independent_samples_per_wall_s_ratio"] is None:
            print("independent alphaR samples per wall second: not comparable (a run never changed state)")
        else:
            print("tau_int(alphaR) %.1fx shorter with the move: %.1fx more independent alphaR samples per wall second" %
                  (summary["tau_int_ratio"], summary["independent_samples_per_wall_s_ratio"]))
    if a.json:
        d, b = os.path.split(os.path.abspath(a.json))
        # A temporary of our own (never a user's file), renamed into place once complete.
        fd, tmp = tempfile.mkstemp(prefix="." + b + ".", suffix=".tmp", dir=d)
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(out, f)
            os.chmod(tmp, 0o644)  # mkstemp's 0600 is for the temporary, not the result
        except BaseException:
            os.remove(tmp)  # our own temporary, never a user's file
            raise
        if os.path.exists(a.json):  # an earlier result is kept as #name.N#, never replaced
            k = 1
            while os.path.exists(os.path.join(d, "#%s.%d#" % (b, k))):
                k += 1
            os.rename(a.json, os.path.join(d, "#%s.%d#" % (b, k)))
        os.replace(tmp, a.json)


if __name__ == "__main__":
    main()
