#!/usr/bin/python3
"""A plain PyTorch peer of activediff's 2D model recipe (issue 11), for
comparisons of speed and quality at equal network calls.

Independent code, written from MATH.md and from what activediff's C++ does
(each piece names the source it follows); it shares no code with activediff
and needs only Debian's python3-torch (1.13) and numpy, on the CPU.

  train    featurize dataset + activediff TOML config -> RUN_DIR/model.pt, train.json
  sample   RUN_DIR -> OUT_DIR (a featurize-style dataset that `activediff
           evaluate --generated OUT_DIR` reads) and OUT_DIR.json (timings)
  kernel   the forward kernel of a config's process at given times, as JSON;
           with --against EXPORT.json (from `activediff export`) it compares
           the end time, the standardization-free whitening sqrt(v_c(t)) and
           reports the largest relative difference

What is the same as activediff (file: function):
  data        featurize/src/dataset.cpp readDataset (meta.json, features.npy);
              featurize/src/dataset.cpp splitByTimeBlocks (10 contiguous blocks,
              evenly spaced validation blocks); model/src/feature_spec.cpp
              FeatureSpec::fitStandardization / toModel / fromModel (unwrap to
              [cut, cut + 2 pi), (f - mean) / sd with ddof 1 on the training
              rows; back: wrap to (-pi, pi]); featurize/src/periodic.cpp
              BranchCutHistogram (36 bins, least-populated bin's centre) for the
              branch cuts written with the samples
  process     model/src/linear_sde.cpp LinearSde::passive / active / cld;
              model/src/config.cpp defaultProcessParameters, effectiveEndTime;
              model/src/van_loan_kernel.cpp vanLoan (scaled to ||A||_1 h <= 0.5,
              then exact doubling), VanLoanKernel::givenX0 / marginalCovariance,
              chooseEndTime (||exp(A T)||_2 < 1e-3, rounded up to 0.05)
  network     model/src/torch/score_network.cpp ScoreNetworkImpl (mlp or
              resmlp, SiLU, log-time sinusoidal features, 0.25..64 cycles,
              anchor t_eps / 10, "every-layer" time projections without bias);
              parameter names equal activediff's (layer<i>, time_layer<i>), so
              the state dict of an `activediff export` module loads into it
  targets     model/src/training_targets.cpp requiredScoreChannels,
              TrainingTargets::coefficients / makeBatch (HSM: x0-only kernel,
              per-channel whitened targets, every sample weighs the same)
  training    model/src/torch/trainer.cpp train / drawTimes / validationBatches
              (Adam with torch defaults, linear warm-up of the learning rate,
              EMA with decay min(ema_decay, (1 + step) / (10 + step)), optional
              global-norm clipping, mean squared error, mixed / log-uniform /
              uniform times, fixed validation draws)
  samplers    model/src/samplers.cpp eulerMaruyama (no noise on the last step),
              heun, deis + deisCoefficients (exponential integrator of the
              probability flow, linear part A + Q P_t / 2 with P_t the precision
              of z_t for unit-variance data, Lagrange polynomial in sqrt(t) of
              the whitened residual, 24-node Gauss-Legendre, RK4 for Phi, 3
              substeps); model/src/time_grid.cpp makeTimeGrid (uniform,
              dense-near-eps, log); the prior N(0, marginalCovariance(T, 1))
              (model/src/torch/generator.cpp prior)

What differs (on purpose or not built):
  - random streams: numpy PCG64 instead of activediff's Rng, so runs with the
    same seed are reproducible here but not draw-for-draw equal to activediff's
  - samplers rk45 and sscs, the kernel grids log-sigma / edm, Tweedie
    denoising, --resume: not built (errors say so)
  - network.preconditioning = "marginal" (model/src/training_targets.cpp
    preconditioningTable) is applied around the module rather than inside
    it: the network sees W z, and training fits it to the target minus G z
    (the same loss as activediff's (F + G z - target)^2); sampling adds G z
  - the kernel's series at the scaled time is written as the Taylor series of
    exp(A h) and of S(h) (solution of dS/dt = A S + S A^T + Q), not as the
    blocks of Van Loan's 4x4 exponential; same scaling and doubling; a plain
    torch.linalg.matrix_exp of the 4x4 block lost 1e-8..5e-7 relative in
    sqrt(v_c) at t ~ 1e-3 and is not used
  - only DEIS's default linear part (Gaussian, reference variance 1) is built
  - validation draws come from their own numpy stream, so the validation loss
    is comparable across this script's runs, not draw-for-draw to activediff's

Validation (2026-12, bench/torch_peer.py kernel --against, scratch checks):
  whitening sqrt(v_c(t)) on the 129-point table of `activediff export`: max
  relative difference 1.3e-13 (active), 7e-16 (passive), 1.4e-15 (CLD); end
  times 7.30 / 6.95 / 1.30 equal; the network with an export's weights gives
  bit-identical outputs; 1000 steps on ala2 run1 (2d-*.toml): final window
  loss passive 0.3341 vs activediff 0.3342, active 0.3687 vs 0.3679, CLD
  0.2873 vs 0.2870. With network.preconditioning = "marginal" (2026-12-03):
  activediff's exported weights in this network and Preconditioner give the
  TorchScript module's outputs (which compute activediff's preconditioning
  table) to 1.2e-7 relative (passive) and 7.4e-8 (active) over t_eps..T;
  1,000 steps on run1: loss passive 0.3286 vs activediff 0.3302, active
  0.3850 vs 0.3858.

Examples (one core, one thread):
  taskset -c 0 /usr/bin/python3 bench/torch_peer.py train --data DATASET \
      --config examples/configs/2d-active.toml --steps 1000 --out /tmp/peer/run
  taskset -c 0 /usr/bin/python3 bench/torch_peer.py sample --model /tmp/peer/run \
      --n 20000 --sampler deis --steps 20 --seed 1 --out /tmp/peer/run-deis20
  activediff evaluate --reference DATASET --generated /tmp/peer/run-deis20 -o report
"""

import argparse
import copy
import json
import math
import os
import platform
import shutil
import sys
import time

import numpy as np
import torch

TWO_PI = 2.0 * math.pi
FORMAT = "torch-peer-model"
FORMAT_VERSION = 1


class PeerError(Exception):
    """An error the user can act on; main() prints it without a traceback."""


# --------------------------------------------------------------------------
# Configuration (model/include/activediff/model/config.h, model/src/config.cpp)

PROCESS_DEFAULTS = {
    "passive": {"k": 1.0, "temperature": 1.0},
    "active": {"k": 1.0, "tau": 0.5, "active_temperature": 1.0, "passive_temperature": 0.0},
    "cld": {"beta": 4.0, "mass": 0.25, "velocity_factor": 0.04},
}
PROCESS_PARAMETERS = ["k", "temperature", "tau", "active_temperature", "passive_temperature",
                      "beta", "mass", "velocity_factor"]

DEFAULTS = {
    "process": {"kind": "passive", "end_time": 0.0, "t_eps": 1e-3},
    "network": {"kind": "mlp", "width": 128, "depth": 4, "time_frequencies": 16,
                "all_channels": False, "preconditioning": "none",
                "time_conditioning": "every-layer"},
    "training": {"steps": 20000, "batch_size": 512, "learning_rate": 1e-3, "warmup_steps": 500,
                 "learning_rate_schedule": "constant", "time_sampling": "mixed", "ema_decay": 0.999, "gradient_clip": 0.0, "seed": 1,
                 "validation_fraction": 0.1, "validation_every": 1000,
                 "validation_samples": 4096, "checkpoint_every": 1000, "log_every": 100},
    "sampler": {"kind": "deis", "steps": 20, "grid": "dense-near-eps", "order": 3,
                "relative_tolerance": 1e-5, "absolute_tolerance": 1e-5, "tweedie": False,
                "stochasticity": 1.0,
                "count": 10000, "batch_size": 2048, "seed": 1, "use_ema": True},
    "runtime": {"device": "cpu", "threads": 1},
}


def _check_type(section, key, value, default, source):
    name = f"{section}.{key}"
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise PeerError(f"{source}: config key {name} must be true or false (got {value!r})")
    elif isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise PeerError(f"{source}: config key {name} must be an integer (got {value!r})")
    elif isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise PeerError(f"{source}: config key {name} must be a number (got {value!r})")
        value = float(value)
        if not math.isfinite(value):
            raise PeerError(f"{source}: config key {name} must be finite")
    elif isinstance(default, str):
        if not isinstance(value, str):
            raise PeerError(f"{source}: config key {name} must be a string (got {value!r})")
    return value


def _parse_override(text):
    """section.key=value; value read as TOML, else as a bare string (config.cpp applyOverride)."""
    import tomllib
    eq, dot = text.find("="), text.find(".")
    if eq < 0 or dot < 0 or dot > eq:
        raise PeerError(f"--set {text}: expected section.key=value (e.g. training.steps=5000)")
    section, key, value = text[:dot], text[dot + 1:eq], text[eq + 1:]
    try:
        parsed = tomllib.loads("v = " + value)["v"]
    except tomllib.TOMLDecodeError:
        parsed = value
    return section, key, parsed


def load_config(path, overrides=()):
    """The effective config: defaults, then the TOML file, then --set overrides."""
    import tomllib
    table = {}
    source = str(path) if path else "default config"
    if path:
        try:
            with open(path, "rb") as f:
                table = tomllib.load(f)
        except FileNotFoundError:
            raise PeerError(f"{path}: cannot open the config file") from None
        except tomllib.TOMLDecodeError as e:
            raise PeerError(f"{path}: not valid TOML: {e}") from None
    for o in overrides:
        section, key, value = _parse_override(o)
        table.setdefault(section, {})
        if not isinstance(table[section], dict):
            raise PeerError(f"--set {o}: {section} is not a section")
        table[section][key] = value
    if overrides:
        source += " with --set overrides"
    config = copy.deepcopy(DEFAULTS)
    config["process"].update(PROCESS_DEFAULTS["passive"])
    for section, entries in table.items():
        if section not in DEFAULTS:
            raise PeerError(f"{source}: unknown config section [{section}] "
                            f"(known: {', '.join(sorted(DEFAULTS))})")
        if not isinstance(entries, dict):
            raise PeerError(f"{source}: config entry {section} must be a [section]")
        if section == "process" and "kind" in entries:
            kind = entries["kind"]
            if kind not in PROCESS_DEFAULTS:
                raise PeerError(f"{source}: config key process.kind must be one of passive, "
                                f"active, cld (got {kind!r})")
            # The kind resets the parameters to that kind's defaults (config.cpp).
            for p in PROCESS_PARAMETERS:
                config["process"].pop(p, None)
            config["process"]["kind"] = kind
            config["process"].update(PROCESS_DEFAULTS[kind])
        for key, value in entries.items():
            if section == "process" and key == "kind":
                continue
            known = DEFAULTS[section]
            if section == "process":
                known = dict(known, **{p: 0.0 for p in PROCESS_PARAMETERS})
            if key not in known:
                raise PeerError(f"{source}: unknown config key {section}.{key} "
                                f"(known in [{section}]: {', '.join(sorted(known))})")
            config[section][key] = _check_type(section, key, value, known[key], source)
    validate_config(config, source)
    return config


def validate_config(c, source):
    def bad(key, value, expected):
        raise PeerError(f"{source}: config key {key} = {value!r} must be {expected}")
    p, n, t, s = c["process"], c["network"], c["training"], c["sampler"]
    make_process(p)  # positivity of the process parameters
    if not 0.0 < p["t_eps"] < 0.5:
        bad("process.t_eps", p["t_eps"], "in (0, 0.5)")
    if p["end_time"] < 0.0:
        bad("process.end_time", p["end_time"], ">= 0 (0: automatic)")
    if n["kind"] not in ("mlp", "resmlp"):
        bad("network.kind", n["kind"], "mlp or resmlp")
    if n["preconditioning"] not in ("none", "marginal"):
        bad("network.preconditioning", n["preconditioning"], "marginal or none")
    if n["time_conditioning"] not in ("every-layer", "input"):
        bad("network.time_conditioning", n["time_conditioning"], "every-layer or input")
    for key, lo, hi in (("width", 1, 65536), ("depth", 1, 256), ("time_frequencies", 1, 1024)):
        if not lo <= n[key] <= hi:
            bad("network." + key, n[key], f"in [{lo}, {hi}]")
    if t["steps"] < 1:
        bad("training.steps", t["steps"], ">= 1")
    if t["batch_size"] < 1:
        bad("training.batch_size", t["batch_size"], ">= 1")
    if not 0.0 < t["learning_rate"] < 10.0:
        bad("training.learning_rate", t["learning_rate"], "in (0, 10)")
    if t["time_sampling"] not in ("uniform", "log-uniform", "mixed"):
        bad("training.time_sampling", t["time_sampling"], "uniform, log-uniform or mixed")
    if t["warmup_steps"] < 0:
        bad("training.warmup_steps", t["warmup_steps"], ">= 0")
    if t["learning_rate_schedule"] not in ("constant", "cosine"):
        bad("training.learning_rate_schedule", t["learning_rate_schedule"], "constant or cosine")
    if not 0.0 <= t["ema_decay"] < 1.0:
        bad("training.ema_decay", t["ema_decay"], "in [0, 1)")
    if t["gradient_clip"] < 0.0:
        bad("training.gradient_clip", t["gradient_clip"], ">= 0 (0: off)")
    if not 0.0 <= t["validation_fraction"] < 1.0:
        bad("training.validation_fraction", t["validation_fraction"], "in [0, 1)")
    for key in ("validation_every", "validation_samples", "log_every", "checkpoint_every"):
        if t[key] < 1:
            bad("training." + key, t[key], ">= 1")
    # activediff's sampler keys are accepted so its configs load here; the
    # peer samples with its own options (sample --sampler em|heun|deis).
    if s["kind"] not in ("em", "heun", "rk45", "sscs", "deis", "gsscs", "sdeis"):
        bad("sampler.kind", s["kind"], "em, heun, rk45, sscs, deis, gsscs or sdeis")
    if not 0.0 <= s["stochasticity"] <= 1.0:
        bad("sampler.stochasticity", s["stochasticity"], "in [0, 1]")
    if not 1 <= s["order"] <= 3:
        bad("sampler.order", s["order"], "1, 2 or 3")


# --------------------------------------------------------------------------
# Processes (model/src/linear_sde.cpp) and their exact kernels
# (model/src/van_loan_kernel.cpp)

class Process:
    """dz = A z dt + G dW per feature dimension; A, Q are c x c (c = 1 or 2)."""

    def __init__(self, kind, a, q, aux_var, params):
        self.kind = kind
        self.a = np.array(a, dtype=np.float64)
        self.q = np.array(q, dtype=np.float64)
        self.channels = self.a.shape[0]
        self.aux_var = float(aux_var)
        self.params = params

    def has_noise(self, c):
        return self.q[c, c] > 0.0

    def describe(self):
        return f"{self.kind}(" + ", ".join(f"{k}={v:g}" for k, v in self.params.items()) + ")"


def make_process(p):
    kind = p["kind"]

    def positive(name, v):
        if not (math.isfinite(v) and v > 0.0):
            raise PeerError(f"{kind} process: parameter {name} = {v} must be > 0 and finite")
    if kind == "passive":
        k, temp = p["k"], p["temperature"]
        positive("k", k)
        positive("temperature", temp)
        return Process(kind, [[-k]], [[2.0 * temp]], 0.0, {"k": k, "T": temp})
    if kind == "active":
        k, tau, ta, tp = p["k"], p["tau"], p["active_temperature"], p["passive_temperature"]
        positive("k", k)
        positive("tau", tau)
        positive("active_temperature", ta)
        if not (math.isfinite(tp) and tp >= 0.0):
            raise PeerError(f"active process: parameter passive_temperature = {tp} must be >= 0")
        return Process(kind, [[-k, 1.0], [0.0, -1.0 / tau]],
                       [[2.0 * tp, 0.0], [0.0, 2.0 * ta / (tau * tau)]], ta / tau,
                       {"k": k, "tau": tau, "Ta": ta, "Tp": tp})
    if kind == "cld":
        beta, mass, gamma = p["beta"], p["mass"], p["velocity_factor"]
        positive("beta", beta)
        positive("mass", mass)
        positive("velocity_factor", gamma)
        friction = 2.0 * math.sqrt(mass)  # critical damping, Gamma^2 = 4 M
        return Process(kind, [[0.0, beta / mass], [-beta, -beta * friction / mass]],
                       [[0.0, 0.0], [0.0, 2.0 * friction * beta]], gamma * mass,
                       {"beta": beta, "M": mass, "gamma": gamma})
    raise PeerError(f"process.kind {kind!r}: expected passive, active or cld")


class Kernel:
    """Exact Gaussian kernels of a Process, float64, vectorized over t."""

    def __init__(self, process):
        self.process = process
        self.c = process.channels
        self.a = torch.tensor(process.a, dtype=torch.float64)
        self.q = torch.tensor(process.q, dtype=torch.float64)
        self.norm1 = float(np.abs(process.a).sum(axis=0).max())
        self.a_np = process.a
        self.terms = 24
        self.a_powers, self.l_powers = [], []
        an, ln = np.eye(self.c), process.q.copy()
        for n in range(self.terms):  # A^n / n!, L^n(Q) / (n+1)!
            self.a_powers.append(an / float(math.factorial(n)))
            self.l_powers.append(ln / float(math.factorial(n + 1)))
            an = an @ process.a
            ln = process.a @ ln + ln @ process.a.T

    def moments(self, t):
        """exp(A t) and S(t) = int_0^t exp(A s) Q exp(A^T s) ds: arrays [n, c, c].

        As activediff's vanLoan: at h = t / 2^j with ||A||_1 h <= 0.5 by Taylor
        series, then doubled exactly, S(2h) = S(h) + M S(h) M^T, M(2h) = M(h)^2
        (sums of PSD terms). The series (the S block of Van Loan's exponential,
        written as the solution of dS/dt = A S + S A^T + Q, S(0) = 0):
          exp(A h) = sum_n h^n A^n / n!,  S(h) = sum_n h^(n+1) L^n(Q) / (n+1)!,
        L(X) = A X + X A^T; ||L|| h <= 1, so 24 terms leave < 1e-23 relative,
        and S_xx ~ h^3 keeps its relative accuracy when Q_xx = 0 (a full 4x4
        matrix_exp loses it: 1e-8..5e-7 at t ~ 1e-3, measured)."""
        t = np.atleast_1d(np.asarray(t, dtype=np.float64))
        if not np.all(np.isfinite(t)) or np.any(t < 0.0):
            raise PeerError("transition kernel: times must be >= 0 and finite")
        x = self.norm1 * t
        j = np.zeros(t.shape, dtype=np.int64)
        big = x > 0.5
        j[big] = np.ceil(np.log2(x[big] / 0.5)).astype(np.int64)
        h = np.ldexp(t, -j)
        while np.any(self.norm1 * h > 0.5):  # rounding of log2
            over = self.norm1 * h > 0.5
            h[over] *= 0.5
            j[over] += 1
        hh = h[:, None, None]
        m = np.broadcast_to(self.a_powers[-1], (t.size,) + self.a_np.shape).copy()
        s = np.broadcast_to(self.l_powers[-1], m.shape).copy()
        for n in range(self.terms - 2, -1, -1):  # Horner: smallest terms first
            m = m * hh + self.a_powers[n]
            s = s * hh + self.l_powers[n]
        s = s * hh
        s = 0.5 * (s + s.transpose(0, 2, 1))
        for k in range(int(j.max()) if j.size else 0):
            use = (j > k)[:, None, None]
            s2 = s + m @ s @ m.transpose(0, 2, 1)
            s = np.where(use, 0.5 * (s2 + s2.transpose(0, 2, 1)), s)
            m = np.where(use, m @ m, m)
        return m, s

    def marginal(self, t, x0_variance, moments=None):
        """Cov z_t for x0 of variance x0_variance and aux0 from its start law."""
        m, s = self.moments(t) if moments is None else moments
        m0 = m[:, :, 0]
        cov = s + x0_variance * m0[:, :, None] * m0[:, None, :]
        if self.c == 2:
            m1 = m[:, :, 1]
            cov = cov + self.process.aux_var * m1[:, :, None] * m1[:, None, :]
        return cov

    def given_x0(self, t):
        """z_t | x_0 ~ N(mean x_0, cov): (mean [n, c], cov [n, c, c])."""
        mom = self.moments(t)
        return mom[0][:, :, 0], self.marginal(t, 0.0, mom)

    def transition_norm(self, t):
        m = torch.linalg.matrix_exp(self.a * float(t)).numpy()
        return float(np.linalg.norm(m, 2))

    def choose_end_time(self, tolerance=1e-3):
        hi = 0.125
        while self.transition_norm(hi) >= tolerance:
            hi *= 2.0
            if hi > 1e7:
                raise PeerError(self.process.describe() + ": the process never forgets its start")
        lo = 0.0
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            if self.transition_norm(mid) < tolerance:
                hi = mid
            else:
                lo = mid
        chosen = math.ceil(hi / 0.05) * 0.05
        while self.transition_norm(chosen) >= tolerance:
            chosen += 0.05
        return chosen


def cholesky_on_channels(cov):
    """Lower Cholesky factor of [n, c, c] covariances (channel_ops.h choleskyLower)."""
    c = cov.shape[-1]
    l = np.zeros_like(cov)
    l[:, 0, 0] = np.sqrt(np.maximum(cov[:, 0, 0], 0.0))
    if c == 2:
        l00 = l[:, 0, 0]
        l[:, 1, 0] = np.where(l00 > 0.0, cov[:, 1, 0] / np.where(l00 > 0.0, l00, 1.0), 0.0)
        l[:, 1, 1] = np.sqrt(np.maximum(cov[:, 1, 1] - l[:, 1, 0] ** 2, 0.0))
    return l


def conditional_sd(cov):
    """sqrt(v_c), v_c = 1 / (S^-1)_cc: [n, c] (training_targets.cpp coefficients)."""
    if cov.shape[-1] == 1:
        return np.sqrt(cov[:, 0, 0])[:, None]
    det = cov[:, 0, 0] * cov[:, 1, 1] - cov[:, 0, 1] * cov[:, 1, 0]
    return np.stack([np.sqrt(det / cov[:, 1, 1]), np.sqrt(det / cov[:, 0, 0])], axis=1)


def output_channels(process, all_channels):
    """requiredScoreChannels: each channel with noise (all with all_channels)."""
    return [ch for ch in range(process.channels) if all_channels or process.has_noise(ch)]


def make_batch(kernel, outputs, x0, t, noise):
    """HSM inputs and whitened targets (TrainingTargets::makeBatch), float64.

    x0 [B, D], t [B], noise [B, c D] -> zt [B, c D], target [B, len(outputs) D]."""
    c = kernel.c
    d = x0.shape[1]
    mean, cov = kernel.given_x0(t)
    l = cholesky_on_channels(cov)
    w = conditional_sd(cov)
    nx = noise[:, :d]
    zx = mean[:, 0:1] * x0 + l[:, 0, 0:1] * nx
    if c == 1:
        return zx, -(w[:, 0:1] / l[:, 0, 0:1]) * nx
    na = noise[:, d:]
    za = mean[:, 1:2] * x0 + l[:, 1, 0:1] * nx + l[:, 1, 1:2] * na
    # s_true = -L^{-T} noise; target_c = sqrt(v_c) s_true_c.
    inv00 = 1.0 / l[:, 0, 0:1]
    inv11 = 1.0 / l[:, 1, 1:2]
    inv01 = -l[:, 1, 0:1] / (l[:, 0, 0:1] * l[:, 1, 1:2])
    blocks = {0: -w[:, 0:1] * (inv00 * nx + inv01 * na), 1: -w[:, 1:2] * (inv11 * na)}
    return np.concatenate([zx, za], axis=1), np.concatenate([blocks[o] for o in outputs], axis=1)


# --------------------------------------------------------------------------
# Network (model/src/torch/score_network.cpp)

class ScoreNet(torch.nn.Module):
    def __init__(self, net_config, inputs, outputs, t_eps, end_time):
        super().__init__()
        self.kind = net_config["kind"]
        f = net_config["time_frequencies"]
        width, depth = net_config["width"], net_config["depth"]
        self.log_anchor = math.log(t_eps / 10.0)
        self.log_range = math.log(end_time) - self.log_anchor
        if not (t_eps > 0.0 and self.log_range > 0.0):
            raise PeerError("score network: needs 0 < t_eps < end_time")
        freq = [2.0 * math.pi * 0.25 * 256.0 ** ((i / (f - 1)) if f > 1 else 0.0) for i in range(f)]
        self.register_buffer("frequencies", torch.tensor(freq, dtype=torch.float32))
        sizes = [(inputs + 2 * f, width)]
        hidden = depth - 1 if self.kind == "mlp" else 2 * depth
        sizes += [(width, width)] * hidden + [(width, outputs)]
        self.n_layers = len(sizes)
        for i, (a, b) in enumerate(sizes):
            setattr(self, f"layer{i}", torch.nn.Linear(a, b))
        self.timed = []
        if net_config["time_conditioning"] == "every-layer":
            step = 1 if self.kind == "mlp" else 2
            for i in range(1, self.n_layers - 1, step):
                setattr(self, f"time_layer{i}", torch.nn.Linear(2 * f, width, bias=False))
                self.timed.append(i)

    def _linear(self, i, x, time_features):
        y = getattr(self, f"layer{i}")(x)
        if i in self.timed:
            y = y + getattr(self, f"time_layer{i}")(time_features)
        return y

    def forward(self, z, t):
        u = (torch.log(t) - self.log_anchor) / self.log_range
        phase = u[:, None] * self.frequencies[None, :]
        tf = torch.cat([torch.sin(phase), torch.cos(phase)], dim=1)
        h = torch.cat([z, tf], dim=1)
        n = self.n_layers
        silu = torch.nn.functional.silu
        if self.kind == "mlp":
            for i in range(n - 1):
                h = silu(self._linear(i, h, tf))
            return self._linear(n - 1, h, tf)
        h = self._linear(0, h, tf)
        for i in range(1, n - 2, 2):
            h = h + self._linear(i + 1, silu(self._linear(i, silu(h), tf)), tf)
        return self._linear(n - 1, silu(h), tf)


class Preconditioner:
    """network.preconditioning (training_targets.h preconditioningTable): with
    C(t) the marginal covariance of z_t for unit-variance data, the network
    sees W z with W = L_C^{-1}, and its whitened output is G z + F with
    G = -diag(sqrt(v_c)) C^{-1} (rows of the output channels). Disabled, W = I
    and G = 0. Per-row times (training) or one time (sampling, cached)."""

    def __init__(self, kernel, outputs, enabled):
        self.kernel, self.outputs, self.enabled = kernel, outputs, enabled
        self.cache = {}

    def _table(self, t):
        t = np.atleast_1d(np.asarray(t, dtype=np.float64))
        cov = self.kernel.marginal(t, 1.0)
        l = cholesky_on_channels(cov)
        sd = conditional_sd(self.kernel.given_x0(t)[1])
        precision = np.linalg.inv(cov)
        w = np.zeros((t.size, 3))  # xx, aux-x, aux-aux
        w[:, 0] = 1.0 / l[:, 0, 0]
        if self.kernel.c == 2:
            w[:, 1] = -l[:, 1, 0] / (l[:, 0, 0] * l[:, 1, 1])
            w[:, 2] = 1.0 / l[:, 1, 1]
        g = np.stack([-sd[:, ch:ch + 1] * precision[:, ch, :] for ch in self.outputs], axis=1)
        return w, g  # g: [n, outputs, c]

    def table(self, t):
        if np.ndim(t) == 0:
            key = float(t)
            if key not in self.cache:
                self.cache[key] = self._table(key)
            return self.cache[key]
        return self._table(t)

    def inputs(self, z, t, dims):
        """W z, z [n, c D] (t scalar or [n])."""
        if not self.enabled:
            return z
        w, _ = self.table(t)
        out = np.empty_like(z)
        out[:, :dims] = w[:, 0:1] * z[:, :dims]
        if self.kernel.c == 2:
            out[:, dims:] = w[:, 1:2] * z[:, :dims] + w[:, 2:3] * z[:, dims:]
        return out

    def gaussian(self, z, t, dims):
        """G z: [n, len(outputs) D] in whitened units (zero when disabled)."""
        n = z.shape[0]
        if not self.enabled:
            return np.zeros((n, len(self.outputs) * dims))
        _, g = self.table(t)
        out = np.zeros((n, len(self.outputs) * dims))
        for block in range(len(self.outputs)):
            for ch in range(self.kernel.c):
                out[:, block * dims:(block + 1) * dims] += g[:, block, ch:ch + 1] * z[:, ch * dims:(ch + 1) * dims]
        return out


# --------------------------------------------------------------------------
# Data (featurize/src/dataset.cpp, model/src/feature_spec.cpp)

def unwrap_from_cut(a, cut):
    off = np.mod(a - cut, TWO_PI)
    off = np.where(off >= TWO_PI, 0.0, off)
    return cut + off


def wrap_to_pi(a):
    w = a - TWO_PI * np.round(a / TWO_PI)  # IEEE remainder (ties to even): [-pi, pi]
    return np.where(w <= -math.pi, w + TWO_PI, w)


def branch_cut(values, bins=36):
    """The centre of the least-populated of 36 bins (BranchCutHistogram::cutRad)."""
    v = values[np.isfinite(values)]
    from_start = unwrap_from_cut(v, -math.pi) + math.pi
    b = np.clip(np.floor(from_start / TWO_PI * bins).astype(np.int64), 0, bins - 1)
    counts = np.bincount(b, minlength=bins)
    return -math.pi + (int(np.argmin(counts)) + 0.5) * TWO_PI / bins


def read_dataset(directory):
    meta_file = os.path.join(directory, "meta.json")
    if not os.path.isdir(directory):
        raise PeerError(f"{directory}: not a dataset directory")
    try:
        with open(meta_file) as f:
            meta = json.load(f)
    except FileNotFoundError:
        raise PeerError(f"{meta_file}: missing or unreadable") from None
    except json.JSONDecodeError as e:
        raise PeerError(f"{meta_file}: invalid JSON: {e}") from None
    try:
        if meta["format"] != "activediff-dataset":
            raise PeerError(f"{meta_file}: not an activediff dataset")
        names = [f["name"] for f in meta["features"]]
        spec = {
            "feature_set": meta["feature_set"],
            "names": names,
            "units": [f["unit"] for f in meta["features"]],
            "kinds": [f["kind"] for f in meta["features"]],
            "periodic": [bool(f["periodic"]) for f in meta["features"]],
            "branch_cuts_rad": [f["branch_cut_rad"] for f in meta["features"]],
        }
        frames = int(meta["frames"])
        if int(meta["dimension"]) != len(names):
            raise PeerError(f"{meta_file}: dimension disagrees with the feature list")
    except (KeyError, TypeError) as e:
        raise PeerError(f"{meta_file}: missing or malformed field {e}") from None
    for name, periodic, cut in zip(names, spec["periodic"], spec["branch_cuts_rad"]):
        if periodic and cut is None:
            raise PeerError(f"{meta_file}: periodic feature {name} has no branch cut")
    features_file = os.path.join(directory, "features.npy")
    try:
        x = np.load(features_file)
    except (OSError, ValueError) as e:
        raise PeerError(f"{features_file}: cannot read: {e}") from None
    if x.dtype != np.float64 or x.ndim != 2:
        raise PeerError(f"{features_file}: must be a 2-D float64 array")
    if x.shape != (frames, len(names)):
        raise PeerError(f"{features_file}: shape {x.shape}, meta.json says ({frames}, {len(names)})")
    if not np.all(np.isfinite(x)):
        raise PeerError(f"{features_file}: contains non-finite values")
    return x, spec


def split_by_time_blocks(frames, validation_fraction, blocks=10):
    """featurize's splitByTimeBlocks: contiguous blocks, evenly spaced validation ones."""
    blocks = min(blocks, frames)
    v = int(math.floor(blocks * validation_fraction + 0.5))  # std::lround
    is_val = [(b + 1) * v // blocks > b * v // blocks for b in range(blocks)]
    block_of = (np.arange(frames, dtype=np.int64) * blocks) // frames
    mask = np.array(is_val)[block_of]
    return np.nonzero(~mask)[0], np.nonzero(mask)[0]


def unwrap_features(spec, f):
    u = f.copy()
    for d, periodic in enumerate(spec["periodic"]):
        if periodic:
            u[:, d] = unwrap_from_cut(u[:, d], spec["branch_cuts_rad"][d])
    return u


def fit_standardization(spec, train_rows):
    u = unwrap_features(spec, train_rows)
    mean = u.mean(axis=0)
    sd = u.std(axis=0, ddof=1)
    for d, s in enumerate(sd):
        if not s > 1e-12:
            raise PeerError(f"standardization: feature {spec['names'][d]} is constant in the training data")
    spec["mean"], spec["stddev"] = mean.tolist(), sd.tolist()


def to_model(spec, f):
    return (unwrap_features(spec, f) - np.array(spec["mean"])) / np.array(spec["stddev"])


def from_model(spec, x):
    f = x * np.array(spec["stddev"]) + np.array(spec["mean"])
    for d, periodic in enumerate(spec["periodic"]):
        if periodic:
            f[:, d] = wrap_to_pi(f[:, d])
    return f


# --------------------------------------------------------------------------
# Outputs: written under a temporary name, then renamed; an existing output of
# this script is backed up to #name.N#, anything else is refused.

def _is_our_output(path):
    try:
        if os.path.isdir(path):
            if os.path.exists(os.path.join(path, "model.pt")) and os.path.exists(os.path.join(path, "train.json")):
                with open(os.path.join(path, "train.json")) as f:
                    return json.load(f).get("torch_peer_output") == "train"
            with open(os.path.join(path, "meta.json")) as f:
                return json.load(f).get("torch_peer_output") == "sample"
        with open(path) as f:
            return json.load(f).get("torch_peer_output") in ("sample-summary", "kernel")
    except (OSError, ValueError, AttributeError):
        return False


def _backup_name(path):
    parent, name = os.path.split(os.path.abspath(path))
    n = 1
    while os.path.lexists(os.path.join(parent, f"#{name}.{n}#")):
        n += 1
    return os.path.join(parent, f"#{name}.{n}#")


def check_output_path(path, inputs=()):
    """Refuses (before any work) outputs that would replace inputs or foreign files."""
    ap = os.path.abspath(path)
    for i in inputs:
        ai = os.path.abspath(i)
        if ap == ai or ai.startswith(ap + os.sep) or ap.startswith(ai + os.sep):
            raise PeerError(f"{path}: the output would overlap the input {i}")
    if os.path.lexists(path) and not _is_our_output(path):
        raise PeerError(f"{path}: exists and is not an output of torch_peer.py; refusing to replace it "
                        "(choose another output path)")
    parent = os.path.dirname(ap)
    if not os.path.isdir(parent):
        raise PeerError(f"{path}: the parent directory {parent} does not exist")


def temporary_path(path):
    parent, name = os.path.split(os.path.abspath(path))
    return os.path.join(parent, f".{name}.tmp-{os.getpid()}")


def commit_output(tmp, path):
    """Moves a finished temporary output into place (backing up an old one of ours)."""
    if os.path.lexists(path):
        if not _is_our_output(path):
            raise PeerError(f"{path}: appeared meanwhile and is not ours; the output stays at {tmp}")
        backup = _backup_name(path)
        os.rename(path, backup)
        print(f"backed up the existing {path} to {backup}", file=sys.stderr)
    os.rename(tmp, path)


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


def setup_threads(threads):
    if threads < 1:
        raise PeerError(f"--threads {threads}: must be >= 1")
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass


# --------------------------------------------------------------------------
# Training (model/src/torch/trainer.cpp)

def learning_rate_at(tc, step):
    """The rate of step 1..steps (model/src/config.cpp learningRateAt): the
    linear warm-up, then the peak or half a cosine from it to 0 at the end."""
    warmup, steps, peak = tc["warmup_steps"], tc["steps"], tc["learning_rate"]
    if warmup > 0 and step < warmup:
        return peak * step / warmup
    if tc["learning_rate_schedule"] == "constant" or steps <= warmup:
        return peak
    progress = min(max((step - warmup) / (steps - warmup), 0.0), 1.0)
    return peak * 0.5 * (1.0 + math.cos(math.pi * progress))


def draw_times(rng, ts, n, t_eps, end_time):
    u = rng.random(n)
    log_t = t_eps * np.exp(math.log(end_time / t_eps) * u)
    if ts == "log-uniform":
        return log_t
    lin = t_eps + (end_time - t_eps) * u
    if ts == "uniform":
        return lin
    return np.where(rng.random(n) < 0.5, lin, log_t)  # mixed: 1/2 each


def to_f32(a):
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))


def cmd_train(args):
    setup_threads(args.threads)
    overrides = list(args.set or [])
    overrides.append(f"training.steps={args.steps}")
    if args.seed is not None:
        overrides.append(f"training.seed={args.seed}")
    config = load_config(args.config, overrides)
    check_output_path(args.out, [args.data, args.config])
    tc = config["training"]
    features, spec = read_dataset(args.data)
    train_idx, val_idx = split_by_time_blocks(features.shape[0], tc["validation_fraction"])
    if train_idx.size < 2:
        raise PeerError(f"{args.data}: no training rows after the validation split")
    fit_standardization(spec, features[train_idx])
    x_train = to_model(spec, features[train_idx])
    x_val = to_model(spec, features[val_idx])

    process = make_process(config["process"])
    kernel = Kernel(process)
    t_eps = config["process"]["t_eps"]
    if config["process"]["end_time"] > 0.0:
        end_time = config["process"]["end_time"]
        norm = kernel.transition_norm(end_time)
        if norm >= 1e-3:
            raise PeerError(f"config key process.end_time = {end_time} is too short for "
                            f"{process.describe()}: ||exp(A T)|| = {norm:.3g} >= 0.001; use end_time >= "
                            f"{kernel.choose_end_time():g}")
    else:
        end_time = kernel.choose_end_time()
    if not end_time > t_eps:
        raise PeerError(f"process.end_time {end_time} must be > process.t_eps {t_eps}")
    config["process"]["end_time"] = end_time
    outputs = output_channels(process, config["network"]["all_channels"])
    dims = x_train.shape[1]
    c = process.channels

    pre = Preconditioner(kernel, outputs, config["network"]["preconditioning"] == "marginal")
    torch.manual_seed(tc["seed"])
    net = ScoreNet(config["network"], c * dims, len(outputs) * dims, t_eps, end_time)
    ema = copy.deepcopy(net)
    for p in ema.parameters():
        p.requires_grad_(False)
    params = list(net.parameters())
    ema_params = list(ema.parameters())
    optimizer = torch.optim.Adam(params, lr=tc["learning_rate"])
    rng = np.random.default_rng(tc["seed"])

    # Fixed validation draws (trainer.cpp validationBatches): every validation
    # row in turn, times and noises from their own seed.
    val_batches = []
    if x_val.shape[0] > 0:
        vrng = np.random.default_rng([tc["seed"], 0x9E3779B9])
        for start in range(0, tc["validation_samples"], 4096):
            n = min(4096, tc["validation_samples"] - start)
            rows = (start + np.arange(n)) % x_val.shape[0]
            t = draw_times(vrng, tc["time_sampling"], n, t_eps, end_time)
            noise = vrng.standard_normal((n, c * dims))
            zt, target = make_batch(kernel, outputs, x_val[rows], t, noise)
            target = target - pre.gaussian(zt, t, dims)
            val_batches.append((to_f32(pre.inputs(zt, t, dims)), to_f32(t), to_f32(target)))

    def validation_loss(model):
        if not val_batches:
            return None
        with torch.no_grad():
            total, count = 0.0, 0
            for z, t, target in val_batches:
                total += float(torch.nn.functional.mse_loss(model(z, t), target, reduction="sum"))
                count += target.numel()
        return total / count

    history = {"step": [], "loss": [], "it_per_s": [],
               "validation": {"step": [], "loss": [], "loss_ema": []}}
    bs = tc["batch_size"]
    window_loss, window_steps = 0.0, 0
    last_loss = float("nan")
    run_start = time.perf_counter()
    window_start = run_start
    for step in range(1, tc["steps"] + 1):
        rows = rng.integers(0, x_train.shape[0], bs)
        t = draw_times(rng, tc["time_sampling"], bs, t_eps, end_time)
        noise = rng.standard_normal((bs, c * dims))
        zt, target = make_batch(kernel, outputs, x_train[rows], t, noise)
        if pre.enabled:  # the loss (F(W z) + G z - target)^2 with G z moved to the target
            target = target - pre.gaussian(zt, t, dims)
            zt = pre.inputs(zt, t, dims)
        lr = learning_rate_at(tc, step)
        for g in optimizer.param_groups:
            g["lr"] = lr
        optimizer.zero_grad(set_to_none=False)
        loss = torch.nn.functional.mse_loss(net(to_f32(zt), to_f32(t)), to_f32(target))
        loss.backward()
        if tc["gradient_clip"] > 0.0:
            torch.nn.utils.clip_grad_norm_(params, tc["gradient_clip"])
        optimizer.step()
        with torch.no_grad():
            d = min(tc["ema_decay"], (1.0 + step) / (10.0 + step))
            for e, p in zip(ema_params, params):
                e.lerp_(p, 1.0 - d)
        window_loss += float(loss.detach())
        window_steps += 1
        last = step == tc["steps"]
        if step % tc["log_every"] == 0 or last:
            now = time.perf_counter()
            last_loss = window_loss / window_steps
            rate = window_steps / max(now - window_start, 1e-9)
            history["step"].append(step)
            history["loss"].append(last_loss)
            history["it_per_s"].append(rate)
            window_loss, window_steps, window_start = 0.0, 0, now
            if not args.quiet:
                print(f"step {step}/{tc['steps']}: loss {last_loss:.4f}, {rate:.0f} it/s", file=sys.stderr)
        if val_batches and (step % tc["validation_every"] == 0 or last):
            raw, averaged = validation_loss(net), validation_loss(ema)
            history["validation"]["step"].append(step)
            history["validation"]["loss"].append(raw)
            history["validation"]["loss_ema"].append(averaged)
            if not args.quiet:
                print(f"step {step}: validation loss {raw:.4f} (EMA {averaged:.4f})", file=sys.stderr)
    wall = time.perf_counter() - run_start

    tmp = temporary_path(args.out)
    os.makedirs(tmp)
    try:
        torch.save({
            "format": FORMAT, "format_version": FORMAT_VERSION,
            "config": config, "features": spec, "dims": dims, "channels": c,
            "outputs": outputs, "end_time": end_time, "t_eps": t_eps, "steps": tc["steps"],
            "process": {"kind": process.kind, "drift": process.a.tolist(),
                        "diffusion": process.q.tolist(), "aux_start_variance": process.aux_var,
                        "describe": process.describe()},
            "state_dict": net.state_dict(), "ema_state_dict": ema.state_dict(),
        }, os.path.join(tmp, "model.pt"))
        write_json(os.path.join(tmp, "train.json"), {
            "torch_peer_output": "train",
            "command": " ".join(sys.argv),
            "data": os.path.abspath(args.data),
            "config_file": os.path.abspath(args.config) if args.config else None,
            "config": config,
            "process": process.describe(),
            "end_time": end_time,
            "features": spec,
            "train_rows": int(train_idx.size), "validation_rows": int(val_idx.size),
            "steps": tc["steps"], "wall_seconds": wall, "it_per_s": tc["steps"] / max(wall, 1e-9),
            "final_loss": last_loss,
            "final_validation_loss_ema": history["validation"]["loss_ema"][-1] if val_batches else None,
            "history": history,
            "threads": torch.get_num_threads(),
            "torch_version": torch.__version__, "numpy_version": np.__version__,
            "python": platform.python_version(),
        })
        commit_output(tmp, args.out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    print(json.dumps({"out": args.out, "steps": tc["steps"], "final_loss": last_loss,
                      "validation_loss_ema": history["validation"]["loss_ema"][-1] if val_batches else None,
                      "it_per_s": tc["steps"] / max(wall, 1e-9), "wall_seconds": wall}))


# --------------------------------------------------------------------------
# Sampling (model/src/samplers.cpp, model/src/time_grid.cpp)

def make_time_grid(grid, t_eps, end_time, steps):
    u = np.arange(steps + 1, dtype=np.float64) / steps
    if grid == "uniform":
        t = t_eps + u * (end_time - t_eps)
    elif grid == "dense-near-eps":
        a, b = np.cbrt(t_eps), np.cbrt(end_time)
        t = (a + u * (b - a)) ** 3
    elif grid == "log":
        t = t_eps * (end_time / t_eps) ** u
    else:
        raise PeerError(f"--grid {grid}: expected uniform, dense-near-eps or log "
                        "(log-sigma and edm are not built in torch_peer.py)")
    t[0], t[-1] = t_eps, end_time
    if not np.all(np.diff(t) > 0):
        raise PeerError(f"time grid {grid}: times do not increase (steps {steps})")
    return t


class ScoreFunction:
    """The network as a score model: score_c = output_c / sqrt(v_c(t))."""

    def __init__(self, net, kernel, outputs, dims, pre):
        self.net, self.kernel, self.outputs, self.dims, self.pre = net, kernel, outputs, dims, pre
        self.calls = 0

    def whitened(self, z, t):
        self.calls += 1
        with torch.inference_mode():
            out = self.net(to_f32(self.pre.inputs(z, t, self.dims)),
                           torch.full((z.shape[0],), t, dtype=torch.float32))
        out = out.numpy().astype(np.float64)
        if self.pre.enabled:
            out += self.pre.gaussian(z, t, self.dims)
        return out

    def __call__(self, z, t):
        """[n, c D] score; channels without an output stay 0 (no sampler reads them)."""
        w = self.whitened(z, t)
        sd = conditional_sd(self.kernel.given_x0(t)[1])[0]
        d = self.dims
        s = np.zeros_like(z)
        for block, ch in enumerate(self.outputs):
            s[:, ch * d:(ch + 1) * d] = w[:, block * d:(block + 1) * d] / sd[ch]
        return s


def apply_block(m, z, dims):
    """The c x c block m on every feature dimension of z [n, c D]."""
    c = m.shape[0]
    out = np.zeros_like(z)
    for i in range(c):
        for j in range(c):
            if m[i, j] != 0.0:
                out[:, i * dims:(i + 1) * dims] += m[i, j] * z[:, j * dims:(j + 1) * dims]
    return out


def reverse_drift(process, dims, z, s, weight):
    """A z - weight Q s (the reverse SDE: weight 1; the probability flow: 1/2)."""
    out = apply_block(process.a, z, dims)
    for ch in range(process.channels):
        if process.has_noise(ch):
            out[:, ch * dims:(ch + 1) * dims] -= weight * process.q[ch, ch] * s[:, ch * dims:(ch + 1) * dims]
    return out


def euler_maruyama(process, dims, grid, score, z, rng):
    for i in range(len(grid) - 1, 0, -1):
        t, h = grid[i], grid[i] - grid[i - 1]
        z = z - h * reverse_drift(process, dims, z, score(z, t), 1.0)
        if i > 1:  # the last step ends on its mean (issue 11)
            for ch in range(process.channels):
                if process.has_noise(ch):
                    z[:, ch * dims:(ch + 1) * dims] += math.sqrt(h * process.q[ch, ch]) * \
                        rng.standard_normal((z.shape[0], dims))
    return z


def heun(process, dims, grid, score, z):
    for i in range(len(grid) - 1, 0, -1):
        dt = grid[i - 1] - grid[i]
        k1 = reverse_drift(process, dims, z, score(z, grid[i]), 0.5)
        pred = z + dt * k1
        k2 = reverse_drift(process, dims, pred, score(pred, grid[i - 1]), 0.5)
        z = z + 0.5 * dt * (k1 + k2)
    return z


class DeisLinearPart:
    """A~_t = A + Q P_t / 2, P_t = (marginal covariance for data variance 1)^-1."""

    def __init__(self, kernel, reference_variance=1.0):
        self.kernel, self.ref = kernel, reference_variance

    def precision(self, t):
        return np.linalg.inv(self.kernel.marginal(t, self.ref))

    def drift(self, t):
        p = self.precision(t)
        return self.kernel.process.a[None] + 0.5 * self.kernel.process.q[None] @ p


DEIS_NODES = 24
DEIS_SUBSTEPS = 3


def deis_coefficients(kernel, linear, grid, order):
    """Per step i (t_i -> t_{i-1}): Phi(t_{i-1}, t_i) and one c x c weight per
    history value (samplers.cpp deisCoefficients)."""
    process = kernel.process
    c = process.channels
    gx, gw = np.polynomial.legendre.leggauss(DEIS_NODES)  # ascending nodes on [-1, 1]
    n = len(grid) - 1
    steps = [None] * (n + 1)
    for i in range(n, 0, -1):
        r = min(order, n - i + 1)
        nodes = [math.sqrt(grid[i + j]) for j in range(r)]
        ua, ub = math.sqrt(grid[i - 1]), math.sqrt(grid[i])
        uq = 0.5 * (ua + ub) + 0.5 * (ub - ua) * gx
        # Every u where the RK4 of Phi needs A~, in the order it needs them.
        segments = list(zip([ua] + list(uq), list(uq) + [ub]))
        points = []
        for u0, u1 in segments:
            hs = (u1 - u0) / DEIS_SUBSTEPS
            for k in range(DEIS_SUBSTEPS):
                u = u0 + k * hs
                points += [u, u + 0.5 * hs, u + 0.5 * hs, u + hs]
        points = np.array(points)
        drifts = linear.drift(points * points)
        sd = conditional_sd(kernel.given_x0(uq * uq)[1])
        phi = np.eye(c)
        weights = [np.zeros((c, c)) for _ in range(r)]
        p = 0

        def derivative(phi_, u, a_):
            return -2.0 * u * phi_ @ a_

        for g, (u0, u1) in enumerate(segments):
            hs = (u1 - u0) / DEIS_SUBSTEPS
            for k in range(DEIS_SUBSTEPS):
                u = u0 + k * hs
                k1 = derivative(phi, points[p], drifts[p])
                k2 = derivative(phi + 0.5 * hs * k1, points[p + 1], drifts[p + 1])
                k3 = derivative(phi + 0.5 * hs * k2, points[p + 2], drifts[p + 2])
                k4 = derivative(phi + hs * k3, points[p + 3], drifts[p + 3])
                phi = phi + (hs / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
                p += 4
            if g == DEIS_NODES:
                break  # the last segment ends at ub: Phi(t_{i-1}, t_i)
            u = uq[g]
            w = 0.5 * (ub - ua) * gw[g] * 2.0 * u  # dtau = 2 u du
            g2 = np.zeros((c, c))
            for ch in range(c):
                if process.has_noise(ch):
                    g2[ch, ch] = 0.5 * process.q[ch, ch] / sd[g, ch]
            at_node = phi @ g2
            for j in range(r):
                basis = 1.0
                for m in range(r):
                    if m != j:
                        basis *= (u - nodes[m]) / (nodes[j] - nodes[m])
                weights[j] -= (w * basis) * at_node
        steps[i] = (phi, weights)
    return steps


def deis(kernel, dims, grid, order):
    """Returns run(z, score): the DEIS sampler on this grid (coefficients computed once)."""
    process = kernel.process
    linear = DeisLinearPart(kernel)
    steps = deis_coefficients(kernel, linear, grid, order)

    def run(z, score):
        history = []
        for i in range(len(grid) - 1, 0, -1):
            t = grid[i]
            w = score.whitened(z, t)  # = sqrt(v_c) s_c
            sd = conditional_sd(kernel.given_x0(t)[1])[0]
            pz = apply_block(linear.precision(t)[0], z, dims)
            rho = np.zeros_like(z)
            for block, ch in enumerate(score.outputs):
                if process.has_noise(ch):
                    sl = slice(ch * dims, (ch + 1) * dims)
                    rho[:, sl] = -(w[:, block * dims:(block + 1) * dims] + sd[ch] * pz[:, sl])
            history.insert(0, rho)
            del history[order:]
            phi, weights = steps[i]
            moved = apply_block(phi, z, dims)
            for j, wj in enumerate(weights):
                moved += apply_block(wj, history[j], dims)
            z = moved
        return z
    return run


def cmd_sample(args):
    setup_threads(args.threads)
    model_file = os.path.join(args.model, "model.pt") if os.path.isdir(args.model) else args.model
    if not os.path.exists(model_file):
        raise PeerError(f"{args.model}: no model.pt (give a torch_peer.py train --out directory)")
    for name, value in (("--n", args.n), ("--steps", args.steps), ("--batch", args.batch)):
        if value < 1:
            raise PeerError(f"{name} {value}: must be >= 1")
    if not 1 <= args.order <= 3:
        raise PeerError(f"--order {args.order}: must be 1, 2 or 3")
    summary_path = args.out.rstrip(os.sep) + ".json"
    check_output_path(args.out, [args.model])
    check_output_path(summary_path, [args.model])
    try:
        ck = torch.load(model_file, map_location="cpu")
    except Exception as e:  # torch raises several kinds for a damaged file
        raise PeerError(f"{model_file}: cannot load: {e}") from None
    if not isinstance(ck, dict) or ck.get("format") != FORMAT:
        raise PeerError(f"{model_file}: not a torch_peer.py model")
    config, spec, dims = ck["config"], ck["features"], ck["dims"]
    process = make_process(config["process"])
    kernel = Kernel(process)
    end_time, t_eps = ck["end_time"], ck["t_eps"]
    net = ScoreNet(config["network"], process.channels * dims, len(ck["outputs"]) * dims, t_eps, end_time)
    net.load_state_dict(ck["state_dict"] if args.raw_weights else ck["ema_state_dict"])
    net.eval()
    grid = make_time_grid(args.grid, t_eps, end_time, args.steps)
    pre = Preconditioner(kernel, ck["outputs"], config["network"]["preconditioning"] == "marginal")
    c = process.channels
    prior_l = cholesky_on_channels(kernel.marginal(end_time, 1.0))[0]
    deis_run = None
    t0 = time.perf_counter()
    if args.sampler == "deis":
        deis_run = deis(kernel, dims, grid, args.order)
    setup_seconds = time.perf_counter() - t0
    chunks, calls, batches = [], 0, 0
    start = time.perf_counter()
    for b, first in enumerate(range(0, args.n, args.batch)):
        rows = min(args.batch, args.n - first)
        rng = np.random.default_rng([args.seed, b])
        noise = rng.standard_normal((rows, c * dims))
        z = apply_block(prior_l, noise, dims)  # N(0, marginal covariance at T, data variance 1)
        score = ScoreFunction(net, kernel, ck["outputs"], dims, pre)
        if args.sampler == "em":
            z = euler_maruyama(process, dims, grid, score, z, rng)
        elif args.sampler == "heun":
            z = heun(process, dims, grid, score, z)
        else:
            z = deis_run(z, score)
        chunks.append(z[:, :dims])
        calls += score.calls
        batches += 1
    seconds = time.perf_counter() - start + setup_seconds
    x = np.concatenate(chunks, axis=0)
    features = from_model(spec, x)

    cuts = []
    for d, periodic in enumerate(spec["periodic"]):
        cuts.append(branch_cut(features[:, d]) if periodic else None)
    summary = {
        "torch_peer_output": "sample-summary",
        "command": " ".join(sys.argv),
        "model": os.path.abspath(model_file),
        "process": process.describe(), "trained_steps": ck["steps"],
        "sampler": args.sampler, "steps": args.steps, "grid": args.grid,
        "order": args.order if args.sampler == "deis" else None,
        "weights": "raw" if args.raw_weights else "ema",
        "samples": args.n, "batch": args.batch, "seed": args.seed,
        "network_calls_per_sample": calls / batches,
        "score_calls": calls,
        "seconds": seconds, "coefficient_seconds": setup_seconds,
        "samples_per_s": args.n / max(seconds, 1e-9),
        "non_finite_rows": int(np.sum(~np.all(np.isfinite(features), axis=1))),
        "threads": torch.get_num_threads(), "torch_version": torch.__version__,
        "end_time": end_time, "t_eps": t_eps,
    }
    meta = {
        "format": "activediff-dataset", "format_version": 1,
        "torch_peer_output": "sample",
        "feature_set": spec["feature_set"], "frames": int(features.shape[0]), "dimension": dims,
        "features": [
            {"name": spec["names"][d], "unit": spec["units"][d], "kind": spec["kinds"][d],
             "periodic": spec["periodic"][d], "branch_cut_rad": cuts[d],
             "branch_cut_deg": None if cuts[d] is None else math.degrees(cuts[d])}
            for d in range(dims)],
        "sources": [{"file": os.path.abspath(model_file), "frames": int(features.shape[0])}],
        "topology": "",
        "files": {"features": "features.npy", "time_ps": "time_ps.npy",
                  "source_file": "source_file.npy", "source_frame": "source_frame.npy"},
        "periodic_convention": "periodic features are stored in (-pi, pi]; unwrap each to "
                               "[cut, cut + 2 pi) before standardizing",
        "generated": {"generator": "bench/torch_peer.py", "summary": summary,
                      "model_branch_cuts_rad": spec["branch_cuts_rad"], "config": config},
    }
    tmp = temporary_path(args.out)
    tmp_json = temporary_path(summary_path)
    os.makedirs(tmp)
    try:
        np.save(os.path.join(tmp, "features.npy"), np.ascontiguousarray(features, dtype=np.float64))
        n = features.shape[0]
        np.save(os.path.join(tmp, "time_ps.npy"), np.zeros(n, dtype=np.float64))
        np.save(os.path.join(tmp, "source_file.npy"), np.zeros(n, dtype=np.int64))
        np.save(os.path.join(tmp, "source_frame.npy"), np.arange(n, dtype=np.int64))
        write_json(os.path.join(tmp, "meta.json"), meta)
        write_json(tmp_json, summary)
        commit_output(tmp, args.out)
        commit_output(tmp_json, summary_path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if os.path.exists(tmp_json):
            os.remove(tmp_json)
        raise
    print(json.dumps({k: summary[k] for k in ("samples", "sampler", "steps", "network_calls_per_sample",
                                              "seconds", "samples_per_s", "non_finite_rows")}))


# --------------------------------------------------------------------------
# Kernel check

def ode_moments(process, t, substeps=4000):
    """exp(A t), S(t) by RK4 on dM/dt = A M, dS/dt = A S + S A^T + Q (geometric
    substeps from 1e-9 t, so small t is resolved): an independent reference."""
    a, q = process.a, process.q
    edges = np.concatenate([[0.0], t * np.geomspace(1e-9, 1.0, substeps)])

    def f(m, s):
        return a @ m, a @ s + s @ a.T + q
    m, s = np.eye(process.channels), np.zeros_like(q)
    for h in np.diff(edges):
        k1 = f(m, s)
        k2 = f(m + 0.5 * h * k1[0], s + 0.5 * h * k1[1])
        k3 = f(m + 0.5 * h * k2[0], s + 0.5 * h * k2[1])
        k4 = f(m + h * k3[0], s + h * k3[1])
        m = m + h / 6.0 * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0])
        s = s + h / 6.0 * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1])
    return m, s


def cmd_kernel(args):
    config = load_config(args.config, list(args.set or []))
    process = make_process(config["process"])
    kernel = Kernel(process)
    t_eps = config["process"]["t_eps"]
    end_time = config["process"]["end_time"] or kernel.choose_end_time()
    times = [float(x) for x in args.t.split(",")] if args.t else [t_eps, 0.01, 0.1, 1.0, end_time]
    m, s = kernel.moments(np.array(times))
    mean, cov = kernel.given_x0(np.array(times))
    out = {"torch_peer_output": "kernel", "process": process.describe(), "end_time": end_time,
           "t_eps": t_eps, "outputs": [["x", "aux"][c] for c in output_channels(process, config["network"]["all_channels"])],
           "times": []}
    worst_ode = 0.0
    for i, t in enumerate(times):
        entry = {"t": t, "exp_At": m[i].tolist(), "S": s[i].tolist(),
                 "mean_coefficient": mean[i].tolist(), "cov_given_x0": cov[i].tolist(),
                 "cov_marginal_unit_data": kernel.marginal(t, 1.0)[0].tolist(),
                 "whitening": conditional_sd(cov[i:i + 1])[0].tolist()}
        mo, so = ode_moments(process, t)
        err = max(float(np.max(np.abs(m[i] - mo)) / max(np.max(np.abs(mo)), 1e-300)),
                  float(np.max(np.abs(s[i] - so)) / max(np.max(np.abs(so)), 1e-300)))
        entry["max_rel_diff_vs_rk4_ode"] = err
        worst_ode = max(worst_ode, err)
        out["times"].append(entry)
    out["max_rel_diff_vs_rk4_ode"] = worst_ode
    if args.against:
        try:
            with open(args.against) as f:
                ex = json.load(f)
            wt = np.array(ex["whitening"]["t"], dtype=np.float64)
            names = ex["process"]["channel_names"]
            ex_end = ex["process"]["end_time_effective"]
        except (OSError, ValueError, KeyError) as e:
            raise PeerError(f"{args.against}: not an activediff export JSON ({e})") from None
        mine = conditional_sd(kernel.given_x0(wt)[1])
        worst = {}
        for ch, name in enumerate(names):
            if name in ex["whitening"]:
                theirs = np.array(ex["whitening"][name])
                worst[name] = float(np.max(np.abs(mine[:, ch] - theirs) / np.abs(theirs)))
        out["against"] = {"file": args.against, "end_time_activediff": ex_end,
                          "end_time_peer": end_time, "whitening_points": int(wt.size),
                          "whitening_max_rel_diff": worst}
    text = json.dumps(out, indent=2)
    print(text)


# --------------------------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="torch_peer.py",
        description="A plain PyTorch peer of activediff's 2D recipe (same data standardization, "
                    "process, kernel, network, HSM targets, training and samplers); see the module "
                    "docstring for what follows which activediff source.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a score network on a featurize dataset",
                       description="Train on DATA with an activediff TOML config; writes OUT/model.pt "
                                   "(weights, EMA weights, config, standardization) and OUT/train.json "
                                   "(config, steps, wall seconds, it/s, final loss, loss curve, torch "
                                   "version). An existing OUT of this script is backed up to #OUT.N#.")
    t.add_argument("--data", required=True, help="featurize dataset directory (meta.json, features.npy)")
    t.add_argument("--config", required=True, help="activediff TOML config (examples/configs/2d-*.toml)")
    t.add_argument("--steps", type=int, required=True, help="training steps (overrides training.steps)")
    t.add_argument("--seed", type=int, help="overrides training.seed")
    t.add_argument("--set", action="append", metavar="SECTION.KEY=VALUE", help="override a config key (repeatable)")
    t.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    t.add_argument("--out", required=True, help="run directory to write")
    t.add_argument("-q", "--quiet", action="store_true", help="no progress lines on stderr")
    t.set_defaults(func=cmd_train)

    s = sub.add_parser("sample", help="generate features from a trained run",
                       description="Sample N features with a reverse-time sampler; writes OUT (a featurize-"
                                   "style dataset: features.npy with periodic features in (-pi, pi], "
                                   "meta.json; `activediff evaluate --generated OUT` reads it) and OUT.json "
                                   "(samples/s, network calls per sample, wall seconds).")
    s.add_argument("--model", required=True, help="a train --out directory (or its model.pt)")
    s.add_argument("--n", type=int, required=True, help="number of samples")
    s.add_argument("--sampler", choices=["em", "heun", "deis"], default="deis",
                   help="em: Euler-Maruyama on the reverse SDE (1 call a step); heun: probability flow, "
                        "2 calls a step; deis: exponential integrator, 1 call a step (default)")
    s.add_argument("--steps", type=int, default=20, help="steps on the grid (default 20)")
    s.add_argument("--grid", default="dense-near-eps", choices=["dense-near-eps", "uniform", "log"],
                   help="time grid (default dense-near-eps, activediff's default)")
    s.add_argument("--order", type=int, default=3, help="DEIS polynomial order 1-3 (default 3)")
    s.add_argument("--seed", type=int, default=1, help="seed of the prior draws and EM noise (default 1)")
    s.add_argument("--batch", type=int, default=512, help="samples per network batch (default 512)")
    s.add_argument("--raw-weights", action="store_true", help="use the raw weights instead of the EMA")
    s.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    s.add_argument("--out", required=True, help="output dataset directory (OUT.json is written beside it)")
    s.set_defaults(func=cmd_sample)

    k = sub.add_parser("kernel", help="print a config's forward kernel; compare with an activediff export",
                       description="Mean coefficient and covariances of z_t | x_0 at the given times, each "
                                   "checked against an RK4 integration of the moment ODEs; with --against "
                                   "EXPORT.json (activediff export) also the end time and the whitening "
                                   "sqrt(v_c(t)) on its 129-point table.")
    k.add_argument("--config", required=True, help="activediff TOML config")
    k.add_argument("--set", action="append", metavar="SECTION.KEY=VALUE", help="override a config key")
    k.add_argument("--t", help="comma-separated times (default t_eps, 0.01, 0.1, 1, T)")
    k.add_argument("--against", help="the JSON written by `activediff export`")
    k.set_defaults(func=cmd_kernel)

    args = parser.parse_args(argv)
    try:
        args.func(args)
    except PeerError as e:
        print(f"torch_peer.py {args.command}: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
