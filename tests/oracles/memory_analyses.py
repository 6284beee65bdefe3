#!/usr/bin/python3
"""Independent checks of `activediff fisher-memory` and `activediff speciation`
(MATH.md 6), with numpy and scipy only: no Van Loan, no activediff code.

usage: memory_analyses.py fisher report.json
       memory_analyses.py speciation report.json dataset_dir

fisher: passive J(t) against the closed form exp(-2kt) / sigma^2(t); active
J(t) = m^T S^{-1} m with m' = A m, m(0) = (1, 0), and the x0-only kernel
covariance from the Lyapunov ODE S' = A S + S A^T + Q, S(0) = diag(0, Ta/tau),
integrated with scipy's DOP853 at rtol 1e-13.

speciation: Lambda = numpy's largest eigenvalue (eigvalsh) of the covariance of
the dataset's features unwrapped at its branch cuts and standardized (n - 1);
passive t_s against ln(1 + Lambda / V) / (2 k); active t_s as the root (brentq)
of m_x(t)^2 Lambda - S_xx(t) on the same ODE.

Prints every discrepancy; exit 0 and 'OK' when everything agrees.
"""
import json
import sys

import numpy as np
from scipy.integrate import solve_ivp
from scipy.optimize import brentq

problems = []


def check(what, got, want, rtol):
    if not np.isfinite(got) or abs(got - want) > rtol * abs(want):
        problems.append(f"{what}: activediff {got!r}, oracle {want!r} (rel {abs(got - want) / abs(want):.3g})")


def active_moments(sde):
    k, tau, ta, tp = sde["k"], sde["tau"], sde["active_temperature"], sde["passive_temperature"]
    a = np.array([[-k, 1.0], [0.0, -1.0 / tau]])
    q = np.diag([2.0 * tp, 2.0 * ta / tau**2])

    def rhs(_, y):
        m = y[:2]
        s = np.array([[y[2], y[3]], [y[3], y[4]]])
        ds = a @ s + s @ a.T + q
        return np.concatenate([a @ m, [ds[0, 0], ds[0, 1], ds[1, 1]]])

    y0 = np.array([1.0, 0.0, 0.0, 0.0, ta / tau])
    return rhs, y0


def active_solution(sde, t_max):
    rhs, y0 = active_moments(sde)
    sol = solve_ivp(rhs, (0.0, t_max), y0, method="DOP853", rtol=1e-13, atol=1e-22, dense_output=True)
    assert sol.success, sol.message
    return sol


def fisher(report):
    t = np.array(report["t"])
    for p in report["processes"]:
        sde = p["sde"]
        j = np.array(p["j"])
        if sde["kind"] == "passive":
            k, temp = sde["k"], sde["temperature"]
            sigma2 = -temp / k * np.expm1(-2 * k * t)
            want = np.exp(-2 * k * t) / sigma2
            for ti, g, w in zip(t, j, want):
                check(f"{p['label']} J({ti:.4g}) closed form", g, w, 1e-10)
        else:
            sol = active_solution(sde, float(t.max()))
            for ti, g in zip(t, j):
                y = sol.sol(ti)
                m = y[:2]
                s = np.array([[y[2], y[3]], [y[3], y[4]]])
                check(f"{p['label']} J({ti:.4g}) ODE", g, float(m @ np.linalg.solve(s, m)), 1e-6)
        if len(j) != len(t):
            problems.append(f"{p['label']}: {len(j)} values for {len(t)} times")
    # Larger tau decays more slowly (the paper's Fig. 6): at every time.
    actives = sorted((p for p in report["processes"] if p["sde"]["kind"] == "active"), key=lambda p: p["sde"]["tau"])
    for lo, hi in zip(actives, actives[1:]):
        if not np.all(np.array(hi["j"]) > np.array(lo["j"])):
            problems.append(f"{hi['label']} does not keep more memory than {lo['label']} at every t")


def speciation(report, dataset):
    meta = json.load(open(f"{dataset}/meta.json"))
    x = np.load(f"{dataset}/features.npy").copy()
    for c, f in enumerate(meta["features"]):
        if f["periodic"]:
            cut = f["branch_cut_rad"]
            x[:, c] = cut + np.mod(x[:, c] - cut, 2 * np.pi)
    z = (x - x.mean(axis=0)) / x.std(axis=0, ddof=1)
    eig = np.linalg.eigvalsh(np.cov(z, rowvar=False))
    lam = float(eig.max())
    check("largest eigenvalue", report["largest_eigenvalue"], lam, 1e-9)
    got = sorted(report["data"]["eigenvalues"], reverse=True)
    for i, (g, w) in enumerate(zip(got, sorted(eig, reverse=True))):
        if abs(g - w) > 1e-9 * lam:
            problems.append(f"eigenvalue {i}: activediff {g}, numpy {w}")
    v = report["config"]["processes"]["stationary_variance"]
    sde = report["passive"]["sde"]
    check("passive t_s closed form", report["passive"]["t_speciation"], np.log1p(lam / v) / (2 * sde["k"]), 1e-9)
    for a in report["active"]:
        sol = active_solution(a["sde"], 10.0)
        f = lambda t: sol.sol(t)[0] ** 2 * lam - sol.sol(t)[2]
        want = brentq(f, 1e-9, 10.0, xtol=1e-14, rtol=1e-14)
        check(f"active tau={a['tau']} t_s ODE root", a["t_speciation"], want, 1e-7)


def main():
    what, report = sys.argv[1], json.load(open(sys.argv[2]))
    if what == "fisher":
        fisher(report)
    elif what == "speciation":
        speciation(report, sys.argv[3])
    else:
        sys.exit(f"unknown check {what}")
    for p in problems:
        print(p)
    print("OK" if not problems else f"{len(problems)} problems")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
