#!/usr/bin/python3
"""Alanine-dipeptide benchmark of activediff's generative Monte Carlo move
(issue 10), through OpenMM's own Python layer (Debian's python3-simtk).

Two steps, both on the CPU platform with one thread, LangevinMiddleIntegrator 300 K,
1/ps, 2 fs, examples/ala2/system.xml (OBC2):

  reference   plain MD, phi/psi every --sample-steps steps, written as gzipped
              JSON (the shipped bench/data/ala2_reference_20ns.json.gz came from
              `bench/mcmove_ala2.py reference --ns 20 --out ...`, ~1.2 h).
  compare     MD plus the move (the XML of `activediff mcmove`) against the
              reference: alternating timed blocks of plain MD and of MD plus the
              move in one run give the wall-time ratio per simulated ps; the
              integrated autocorrelation time of the alphaR indicator and the
              state populations with block-bootstrap 95 % intervals are
              compared with the reference's. Writes a JSON and a markdown table.

The numbers land in BENCHMARKS.md ("the generative Monte Carlo move on alanine
dipeptide"). States are PRODUCT.md's, as featurize/states.h and
examples/openmm-move/run_move.py define them.
"""
import argparse
import base64
import gzip
import json
import math
import os
import random
import sys
import time

import numpy as np
import openmm as mm
from openmm import app, unit

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "examples", "openmm-move"))
from run_move import STATES, dihedral, state_of  # noqa: E402  one definition of the states

ALA2 = os.path.join(ROOT, "examples", "ala2")
# phi = C(ACE)-N-CA-C, psi = N-CA-C-N(NME) in examples/ala2/ala2.pdb (as featurize finds them).
TORSION_ATOMS = (4, 6, 8, 14, 16)
TIMESTEP_PS = 0.002
TEMPERATURE_K = 300.0
MOLAR_GAS_CONSTANT_KJ_PER_MOL_K = 0.00831446261815324


def write_atomically(path, data, gz=False, backup=True):
    if backup and os.path.exists(path):  # an earlier result is kept as #name.N#, never replaced
        d, b = os.path.split(os.path.abspath(path))
        k = 1
        while os.path.exists(os.path.join(d, "#%s.%d#" % (b, k))):
            k += 1
        os.rename(path, os.path.join(d, "#%s.%d#" % (b, k)))
    tmp = path + ".tmp"
    with (gzip.open(tmp, "wt") if gz else open(tmp, "w")) as f:
        json.dump(data, f)
    os.replace(tmp, path)


INTEGRATORS = ("langevin-middle", "ghmc")


def ghmc_integrator(temperature_K, friction_per_ps, timestep_ps):
    """Generalized hybrid Monte Carlo: a partial momentum refresh, then one
    velocity-Verlet step with RATTLE accepted by Metropolis on the total
    energy (the momentum flipped on rejection). It leaves exp(-U/kT) exactly
    invariant at any step size, so MD plus the move with it is an exact
    chain, and its own populations carry no discretization bias."""
    kT = MOLAR_GAS_CONSTANT_KJ_PER_MOL_K * temperature_K
    i = mm.CustomIntegrator(timestep_ps)
    for name, value in (("kT", kT), ("b", math.exp(-friction_per_ps * timestep_ps)), ("ke", 0.0),
                        ("energy_before", 0.0), ("energy_after", 0.0), ("accept", 0.0),
                        ("ghmc_accepted", 0.0), ("ghmc_trials", 0.0)):
        i.addGlobalVariable(name, value)
    for name in ("sigma", "x_before", "v_before", "x_unconstrained"):
        i.addPerDofVariable(name, 0.0)
    i.addUpdateContextState()  # the move acts here, as with any integrator
    i.addComputePerDof("sigma", "sqrt(kT/m)")
    i.addComputePerDof("v", "sqrt(b)*v + sqrt(1-b)*sigma*gaussian")
    i.addConstrainVelocities()
    i.addComputeSum("ke", "0.5*m*v*v")
    i.addComputeGlobal("energy_before", "ke + energy")
    i.addComputePerDof("x_before", "x")
    i.addComputePerDof("v_before", "v")
    i.addComputePerDof("v", "v + 0.5*dt*f/m")
    i.addComputePerDof("x", "x + v*dt")
    i.addComputePerDof("x_unconstrained", "x")
    i.addConstrainPositions()
    i.addComputePerDof("v", "v + (x - x_unconstrained)/dt + 0.5*dt*f/m")
    i.addConstrainVelocities()
    i.addComputeSum("ke", "0.5*m*v*v")
    i.addComputeGlobal("energy_after", "ke + energy")
    i.addComputeGlobal("accept", "step(exp(-(energy_after - energy_before)/kT) - uniform)")
    i.addComputePerDof("x", "accept*x + (1 - accept)*x_before")
    i.addComputePerDof("v", "accept*v - (1 - accept)*v_before")
    i.addComputeGlobal("ghmc_accepted", "ghmc_accepted + accept")
    i.addComputeGlobal("ghmc_trials", "ghmc_trials + 1")
    return i


def make_integrator(name, seed):
    if name == "ghmc":
        integrator = ghmc_integrator(TEMPERATURE_K, 1.0, TIMESTEP_PS)
    else:
        # LangevinMiddle, as activediff simulate (and the shipped MD): OpenMM 7.7's
        # LangevinIntegrator gave alphaR 0.29 against 0.40-0.47 here (BENCHMARKS.md).
        integrator = mm.LangevinMiddleIntegrator(TEMPERATURE_K, 1.0, TIMESTEP_PS)
    integrator.setRandomNumberSeed(seed)
    return integrator


def ghmc_acceptance(integrator):
    if not isinstance(integrator, mm.CustomIntegrator):
        return None
    return integrator.getGlobalVariableByName("ghmc_accepted") / max(1.0, integrator.getGlobalVariableByName("ghmc_trials"))


def load_system(system_xml):
    system = mm.XmlSerializer.deserialize(open(system_xml).read())
    if system.usesPeriodicBoundaryConditions():
        sys.exit("mcmove_ala2.py: %s is periodic; the benchmark is for implicit solvent" % system_xml)
    return system


def make_context(system_xml, pdb, move_xml, seed, integrator_name="langevin-middle"):
    system = load_system(system_xml)
    if move_xml:
        system.addForce(mm.XmlSerializer.deserialize(open(move_xml).read()))
    integrator = make_integrator(integrator_name, seed)
    # One CPU thread: for 22 atoms the thread hand-off costs more than it gains (BENCHMARKS.md).
    context = mm.Context(system, integrator, mm.Platform.getPlatformByName("CPU"), {"Threads": "1"})
    context.setPositions(app.PDBFile(pdb).positions)
    mm.LocalEnergyMinimizer.minimize(context, 10.0, 200)
    context.setVelocitiesToTemperature(TEMPERATURE_K, seed)
    return context, integrator


def phi_psi(context):
    p = context.getState(getPositions=True).getPositions(asNumpy=True).value_in_unit(unit.nanometer)
    a = TORSION_ATOMS
    return dihedral(p, *a[0:4]), dihedral(p, *a[1:5])


def run_block(context, integrator, steps, sample_steps, trace):
    """steps of MD (with whatever forces the System has), phi/psi every sample_steps; wall seconds."""
    start = time.perf_counter()
    for _ in range(steps // sample_steps):
        integrator.step(sample_steps)
        trace.append(phi_psi(context))
    return time.perf_counter() - start


def indicator(trace, state="alphaR"):
    return np.array([1.0 if state_of(phi, psi) == state else 0.0 for phi, psi in trace])


def tau_int_samples(x):
    """Integrated autocorrelation time in samples, as featurize/populations.h
    defines it: 1/2 + the sum of the normalized autocorrelation, summed with
    Sokal's automatic window (lag >= 5 tau); inf if x never changes."""
    x = np.asarray(x, dtype=float)
    n = len(x)
    x = x - x.mean()
    var = float(np.dot(x, x)) / n
    if var == 0.0:
        return float("inf")
    f = np.fft.rfft(x, 2 * n)
    acf = np.fft.irfft(f * np.conj(f))[:n] / (var * np.arange(n, 0, -1))
    tau = 0.5
    for m in range(1, n // 2):
        tau += acf[m]
        if m >= 5.0 * tau:
            break
    return max(0.5, tau)


def populations(trace):
    labels = [state_of(phi, psi) for phi, psi in trace]
    return {s: labels.count(s) / len(labels) for s in STATES}


def block_bootstrap(trace, blocks, draws, rng):
    """Per-state population draws from resampling `blocks` contiguous blocks with replacement."""
    labels = np.array([STATES.index(state_of(phi, psi)) for phi, psi in trace])
    size = len(labels) // blocks
    counts = np.array([[np.sum(labels[b * size:(b + 1) * size] == s) for s in range(len(STATES))]
                       for b in range(blocks)], dtype=float)
    out = np.empty((draws, len(STATES)))
    for d in range(draws):
        pick = [rng.randrange(blocks) for _ in range(blocks)]
        out[d] = counts[pick].sum(axis=0) / (size * blocks)
    return out


def reference(a):
    """Plain MD; resumable: the output holds the run's OpenMM checkpoint, and
    --resume continues an earlier (partial) output of this script to --ns."""
    context, integrator = make_context(a.system, a.pdb, None, a.seed, a.integrator)
    trace, wall, done = [], 0.0, 0
    if a.resume and os.path.exists(a.out):
        ref = load_reference(a.out)
        if (ref.get("sample_interval_ps") != a.sample_steps * TIMESTEP_PS or ref.get("seed") != a.seed
                or ref.get("integrator", "langevin-middle") != a.integrator):
            sys.exit("mcmove_ala2.py: %s was made with another --sample-steps, --seed or --integrator" % a.out)
        context.loadCheckpoint(base64.b64decode(ref["openmm_checkpoint_base64"]))
        trace, wall = ref["trace"], ref["wall_s"]
        done = len(trace) * a.sample_steps
        print("reference: resuming %s at %.2f ns" % (a.out, done * TIMESTEP_PS / 1000), flush=True)
    else:
        integrator.step(int(a.equilibrate_ps / TIMESTEP_PS))
    steps = int(round(a.ns * 1000.0 / TIMESTEP_PS))
    chunk = max(1, int(round(200.0 / TIMESTEP_PS)) // a.sample_steps) * a.sample_steps  # 0.2 ns a save
    first_write = True
    while done < steps:
        n = min(chunk, steps - done)
        wall += run_block(context, integrator, n, a.sample_steps, trace)
        done += n
        print("reference: %.2f of %.2f ns, %.0f ns/day" % (done * TIMESTEP_PS / 1000, a.ns,
              done * TIMESTEP_PS / 1000 / wall * 86400), flush=True)
        data = {
            "command": " ".join(sys.argv), "openmm": mm.__version__, "platform": "CPU", "threads": 1,
            "temperature_K": TEMPERATURE_K, "friction_per_ps": 1.0, "timestep_ps": TIMESTEP_PS, "seed": a.seed,
            "integrator": a.integrator, "ghmc_acceptance": ghmc_acceptance(integrator),
            "equilibrate_ps": a.equilibrate_ps, "sample_interval_ps": a.sample_steps * TIMESTEP_PS,
            "simulated_ns": done * TIMESTEP_PS / 1000, "target_ns": a.ns, "complete": done >= steps,
            "wall_s": wall, "ns_per_day": done * TIMESTEP_PS / 1000 / wall * 86400,
            "torsion_atoms": TORSION_ATOMS,
            "openmm_checkpoint_base64": base64.b64encode(context.createCheckpoint()).decode(),
            "phi_psi_centideg": [[int(round(p * 100)), int(round(q * 100))] for p, q in trace]}
        # This run's own partial output is replaced as it grows; anything else is backed up first.
        write_atomically(a.out, data, gz=True, backup=first_write and not a.resume)
        first_write = False


def load_reference(path):
    with gzip.open(path, "rt") as f:
        ref = json.load(f)
    ref["trace"] = [(p / 100.0, q / 100.0) for p, q in ref["phi_psi_centideg"]]
    return ref


def compare(a):
    ref = load_reference(a.reference)
    move_json = json.load(open(os.path.splitext(a.move)[0] + ".json"))
    interval = int(move_json["config"]["interval_steps"])
    if a.sample_steps % interval and interval % a.sample_steps:
        sys.exit("mcmove_ala2.py: --sample-steps %d and the move's interval %d must divide one another"
                 % (a.sample_steps, interval))
    moved, moved_i = make_context(a.system, a.pdb, a.move, a.seed, a.integrator)
    plain, plain_i = make_context(a.system, a.pdb, None, a.seed + 1, a.integrator)
    for c in (moved_i, plain_i):
        c.step(int(a.equilibrate_ps / TIMESTEP_PS))
    attempted0 = moved.getParameter("ActivediffMovesAttempted")
    accepted0 = moved.getParameter("ActivediffMovesAccepted")
    block_steps = int(round(a.move_ns * 1000.0 / TIMESTEP_PS / a.rounds))
    block_steps -= block_steps % (a.sample_steps * interval // math.gcd(a.sample_steps, interval))
    moved_trace, plain_trace, rounds = [], [], []
    for r in range(a.rounds):  # alternate so both see the same machine load
        t_plain = run_block(plain, plain_i, block_steps, a.sample_steps, plain_trace)
        t_moved = run_block(moved, moved_i, block_steps, a.sample_steps, moved_trace)
        rounds.append({"plain_md_s": t_plain, "md_plus_move_s": t_moved, "ratio": t_moved / t_plain})
        print("round %d: plain %.1f s, with move %.1f s, ratio %.3f" % (r + 1, t_plain, t_moved, t_moved / t_plain),
              flush=True)
    # Through a CustomIntegrator (ghmc) OpenMM 7.7 writes its stale copy of
    # every Context parameter back after updateContextState, so the move's
    # counters read 0 there (docs/departures.md); acceptance is then not reported.
    run = {"command": " ".join(sys.argv), "openmm": mm.__version__, "move": move_json, "integrator": a.integrator,
           "ghmc_acceptance": ghmc_acceptance(moved_i),
           "sample_interval_ps": a.sample_steps * TIMESTEP_PS, "rounds": rounds, "seed": a.seed,
           "attempted": moved.getParameter("ActivediffMovesAttempted") - attempted0,
           "accepted": moved.getParameter("ActivediffMovesAccepted") - accepted0,
           "md_plus_move_phi_psi_centideg": centideg(moved_trace), "plain_md_phi_psi_centideg": centideg(plain_trace)}
    analyze_run(run, ref, a)


def centideg(trace):
    return [[int(round(p * 100)), int(round(q * 100))] for p, q in trace]


def analyze(a):
    """Recomputes a compare output against a (longer) reference, running nothing."""
    run = json.load(open(a.run))
    analyze_run(run.get("run", run), load_reference(a.reference), a)


def analyze_run(run, ref, a):
    moved_trace = [(p / 100.0, q / 100.0) for p, q in run["md_plus_move_phi_psi_centideg"]]
    plain_trace = [(p / 100.0, q / 100.0) for p, q in run["plain_md_phi_psi_centideg"]]
    rounds, attempted, accepted = run["rounds"], run["attempted"], run["accepted"]
    dt_sample_ps = run["sample_interval_ps"]
    tau_moved = tau_int_samples(indicator(moved_trace)) * dt_sample_ps
    tau_ref = tau_int_samples(indicator(ref["trace"])) * ref["sample_interval_ps"]
    wall_ratio = sum(x["md_plus_move_s"] for x in rounds) / sum(x["plain_md_s"] for x in rounds)
    rng = random.Random(run["seed"])
    boot_ref = block_bootstrap(ref["trace"], a.blocks, a.draws, rng)
    boot_moved = block_bootstrap(moved_trace, a.blocks, a.draws, rng)
    pop_ref, pop_moved = populations(ref["trace"]), populations(moved_trace)
    states = {}
    for i, s in enumerate(STATES):
        diff = boot_moved[:, i] - boot_ref[:, i]
        lo, hi = np.percentile(diff, [2.5, 97.5])
        states[s] = {"md_plus_move": pop_moved[s], "reference": pop_ref[s],
                     "md_plus_move_ci95": list(np.percentile(boot_moved[:, i], [2.5, 97.5])),
                     "reference_ci95": list(np.percentile(boot_ref[:, i], [2.5, 97.5])),
                     "difference_ci95": [lo, hi],
                     "equal_within_ci": bool(lo <= 0.0 <= hi)}
    result = {
        "command": " ".join(sys.argv), "run": run,
        "reference": {k: v for k, v in ref.items() if k not in ("trace", "phi_psi_centideg", "openmm_checkpoint_base64")},
        "reference_ns": len(ref["trace"]) * ref["sample_interval_ps"] / 1000.0,
        "md_plus_move_ns": len(moved_trace) * dt_sample_ps / 1000.0,
        "wall_ratio_per_simulated_ps": wall_ratio,
        "acceptance": accepted / attempted if attempted > 0 else None,
        "tau_int_alphaR_ps": {"md_plus_move": tau_moved, "plain_md_reference": tau_ref,
                              "plain_md_same_run": tau_int_samples(indicator(plain_trace)) * dt_sample_ps},
        "tau_int_ratio": tau_ref / tau_moved,
        "independent_samples_per_wall_s_ratio": tau_ref / tau_moved / wall_ratio,
        "bootstrap": {"blocks": a.blocks, "draws": a.draws},
        "states": states,
        "targets": {"tau_int_ratio_at_least": 20.0, "wall_ratio_at_most": 1.3, "reference_ns_at_least": 20.0,
                    "met": bool(tau_ref / tau_moved >= 20.0 and wall_ratio <= 1.3
                                and len(ref["trace"]) * ref["sample_interval_ps"] >= 20000.0 - 1e-6
                                # "other" (frames on a box edge, a few in 10^4 at centidegree
                                # resolution) is reported, not judged.
                                and all(v["equal_within_ci"] for k, v in states.items() if k != "other"))}}
    write_atomically(a.out, result)
    lines = ["| | MD + move | plain %s reference (%.1f ns) |" % (ref.get("integrator", "langevin-middle"), result["reference_ns"]),
             "|---|---|---|",
             "| tau_int(alphaR), ps | %.2f | %.1f |" % (tau_moved, tau_ref),
             "| acceptance | %s | - |" % ("%d / %d (%.2f)" % (accepted, attempted, result["acceptance"])
                                         if attempted > 0 else "not readable (CustomIntegrator)")]
    for s in STATES:
        v = states[s]
        lines.append("| %s | %.3f [%.3f, %.3f] | %.3f [%.3f, %.3f] |" % (
            s, v["md_plus_move"], *v["md_plus_move_ci95"], v["reference"], *v["reference_ci95"]))
    lines.append("")
    lines.append("wall time per simulated ps, MD + move / plain MD (alternating blocks): %.3f; "
                 "tau_int ratio %.1f; independent samples per wall second %.1fx" % (
                     wall_ratio, result["tau_int_ratio"], result["independent_samples_per_wall_s_ratio"]))
    print("\n".join(lines))
    with open(os.path.splitext(a.out)[0] + ".md.tmp", "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(os.path.splitext(a.out)[0] + ".md.tmp", os.path.splitext(a.out)[0] + ".md")


def conditional(a):
    """The move alone, every other coordinate fixed (a CustomIntegrator that
    only calls updateContextState): its chain must sample exp(-U(phi, psi |
    rest)/kT) on the torus, which a grid of OpenMM energies gives
    independently of the plugin (fragments found and turned here, in numpy)."""
    system = load_system(a.system)
    platform = mm.Platform.getPlatformByName("Reference")
    grid_context = mm.Context(system, mm.VerletIntegrator(0.001), platform)
    grid_context.setPositions(app.PDBFile(a.pdb).positions)
    mm.LocalEnergyMinimizer.minimize(grid_context, 1.0, 500)
    start = grid_context.getState(getPositions=True).getPositions(asNumpy=True).value_in_unit(unit.nanometer)
    neighbours = {i: set() for i in range(system.getNumParticles())}
    for f in system.getForces():
        if isinstance(f, mm.HarmonicBondForce):
            for k in range(f.getNumBonds()):
                i, j = f.getBondParameters(k)[:2]
                neighbours[i].add(j)
                neighbours[j].add(i)
    for k in range(system.getNumConstraints()):
        i, j = system.getConstraintParameters(k)[:2]
        neighbours[i].add(j)
        neighbours[j].add(i)

    def side(blocked, first):  # atoms reachable from first without crossing blocked
        seen, stack, out = {blocked, first}, [first], []
        while stack:
            x = stack.pop()
            out.append(x)
            for y in neighbours[x] - seen:
                seen.add(y)
                stack.append(y)
        return out

    t = TORSION_ATOMS
    fragments = (side(t[1], t[2]), side(t[2], t[3]))

    def turned(p, fragment, origin, towards, angle_rad):  # Rodrigues about origin -> towards
        k = (p[towards] - p[origin]) / np.linalg.norm(p[towards] - p[origin])
        q = p.copy()
        v = p[fragment] - p[origin]
        q[fragment] = (p[origin] + v * math.cos(angle_rad) + np.cross(k, v) * math.sin(angle_rad)
                       + np.outer(v @ k, k) * (1.0 - math.cos(angle_rad)))
        return q

    def with_torsions(phi_rad, psi_rad):
        p = turned(start, fragments[0], t[1], t[2], phi_rad - math.radians(dihedral(start, *t[0:4])))
        return turned(p, fragments[1], t[2], t[3], psi_rad - math.radians(dihedral(p, *t[1:5])))

    kT = MOLAR_GAS_CONSTANT_KJ_PER_MOL_K * TEMPERATURE_K
    h = 2.0 * math.pi / a.grid
    cells = []
    for i in range(a.grid):
        for j in range(a.grid):
            phi, psi = -math.pi + (i + 0.5) * h, -math.pi + (j + 0.5) * h
            grid_context.setPositions(with_torsions(phi, psi))
            e = grid_context.getState(getEnergy=True).getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole)
            cells.append((state_of(math.degrees(phi), math.degrees(psi)), e))
    e_min = min(e for _, e in cells)
    weight = {s: 0.0 for s in STATES}
    for s, e in cells:
        weight[s] += math.exp(-(e - e_min) / kT)
    total = sum(weight.values())
    exact = {s: w / total for s, w in weight.items()}

    system.addForce(mm.XmlSerializer.deserialize(open(a.move).read()))
    integrator = mm.CustomIntegrator(0.001)
    integrator.addUpdateContextState()
    context = mm.Context(system, integrator, platform)
    context.setPositions(start)
    trace = []
    started = time.perf_counter()
    for k in range(a.attempts):
        integrator.step(1)
        trace.append(phi_psi(context))
        if (k + 1) % max(1, a.attempts // 10) == 0:
            print("conditional: %d of %d attempts, %.1f ms each" % (
                k + 1, a.attempts, (time.perf_counter() - started) / (k + 1) * 1000), flush=True)
    labels = np.array([STATES.index(state_of(p, q)) for p, q in trace])
    # An independence sampler samples pi restricted to where q proposes: a
    # state the chain never visits (L: the model puts ~no mass there) is left
    # out and the exact law renormalized over the others.
    visited = [s for i, s in enumerate(STATES) if np.any(labels == i)]
    exact_visited = {s: exact[s] / sum(exact[v] for v in visited) for s in visited}
    batches = 50
    states = {}
    for i, s in enumerate(STATES):
        x = (labels == i).astype(float)
        means = x[: len(x) // batches * batches].reshape(batches, -1).mean(axis=1)
        se = float(means.std(ddof=1) / math.sqrt(batches))
        states[s] = {"chain": float(x.mean()), "batch_means_se": se, "exact_on_grid": exact[s],
                     "exact_over_visited_states": exact_visited.get(s),
                     "z": (float(x.mean()) - exact_visited[s]) / se if s in exact_visited and se > 0 else None}
    result = {"command": " ".join(sys.argv), "openmm": mm.__version__, "grid_cells_per_torsion": a.grid,
              "attempts": a.attempts, "state_changes": int((labels[1:] != labels[:-1]).sum()),
              "ms_per_attempt": (time.perf_counter() - started) / a.attempts * 1000, "states": states}
    write_atomically(a.out, result)
    for s in STATES:
        v = states[s]
        print("%-7s chain %.4f +- %.4f   exact (grid) %.4f, over the visited states %s" % (
            s, v["chain"], v["batch_means_se"], v["exact_on_grid"],
            "-" if v["exact_over_visited_states"] is None else "%.4f" % v["exact_over_visited_states"]))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--system", default=os.path.join(ALA2, "system.xml"))
    ap.add_argument("--pdb", default=os.path.join(ALA2, "ala2.pdb"))
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--equilibrate-ps", type=float, default=100.0)
    ap.add_argument("--sample-steps", type=int, default=100, help="MD steps between phi/psi samples")
    ap.add_argument("--integrator", choices=INTEGRATORS, default="langevin-middle",
                    help="MD between moves: LangevinMiddle (as activediff simulate) or exact GHMC")
    sub = ap.add_subparsers(dest="step", required=True)
    r = sub.add_parser("reference", help="plain MD reference run")
    r.add_argument("--ns", type=float, default=20.0)
    r.add_argument("--out", required=True, help="gzipped JSON to write (rewritten every 0.2 ns)")
    r.add_argument("--resume", action="store_true", help="continue the partial run in --out")
    c = sub.add_parser("compare", help="MD plus the move against the reference")
    c.add_argument("--move", required=True, help="XML from activediff mcmove (its JSON beside it)")
    c.add_argument("--plugin-dir", required=True, help="activediff --plugin-dir")
    c.add_argument("--reference", required=True)
    c.add_argument("--move-ns", type=float, default=2.0, help="simulated ns with the move (and as much plain MD)")
    c.add_argument("--rounds", type=int, default=10, help="alternating timed blocks")
    c.add_argument("--blocks", type=int, default=40, help="blocks for the bootstrap")
    c.add_argument("--draws", type=int, default=2000)
    c.add_argument("--out", required=True, help="JSON to write (a .md table beside it)")
    z = sub.add_parser("analyze", help="recompute a compare output against a (longer) reference")
    z.add_argument("--run", required=True, help="JSON written by compare")
    z.add_argument("--reference", required=True)
    z.add_argument("--blocks", type=int, default=40)
    z.add_argument("--draws", type=int, default=2000)
    z.add_argument("--out", required=True)
    k = sub.add_parser("conditional", help="the move alone, the rest fixed, against a grid of OpenMM energies")
    k.add_argument("--move", required=True, help="XML from activediff mcmove, made with --interval 1")
    k.add_argument("--plugin-dir", required=True, help="activediff --plugin-dir")
    k.add_argument("--attempts", type=int, default=20000)
    k.add_argument("--grid", type=int, default=72, help="grid cells per torsion (72: 5 degrees)")
    k.add_argument("--out", required=True, help="JSON to write")
    ap.add_argument("--cpu", type=int, help="pin to this CPU (default: the first allowed one); 'none' is -1")
    a = ap.parse_args()
    # One core for the whole process: with one CPU thread OpenMM's CPU platform
    # still hands each step to a worker thread, and on these VMs waking it on
    # an idle second vCPU cost ~100 us a hand-off (82 against 436 ns/day
    # unpinned and pinned, measured 2026-12-01; BENCHMARKS.md).
    cpu = min(os.sched_getaffinity(0)) if a.cpu is None else a.cpu
    if cpu >= 0:
        os.sched_setaffinity(0, {cpu})
    if a.sample_steps < 1:
        sys.exit("mcmove_ala2.py: --sample-steps must be >= 1")
    if a.step == "reference":
        if a.ns <= 0:
            sys.exit("mcmove_ala2.py: --ns must be > 0")
        reference(a)
    elif a.step == "analyze":
        analyze(a)
    else:
        mm.Platform.loadPluginsFromDirectory(mm.Platform.getDefaultPluginsDirectory())
        mm.Platform.loadPluginsFromDirectory(a.plugin_dir)
        if mm.Platform.getPluginLoadFailures():
            sys.exit("mcmove_ala2.py: plugin load failures: " + "; ".join(mm.Platform.getPluginLoadFailures()))
        if a.step == "conditional":
            conditional(a)
        else:
            compare(a)


if __name__ == "__main__":
    main()
