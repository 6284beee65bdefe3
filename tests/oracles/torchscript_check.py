#!/usr/bin/python3
"""An `activediff export` module, loaded and called by Python's own torch.

    torchscript_check.py MODULE.pt MODULE.json INPUTS.npy REFERENCE.npy [TOLERANCE]

INPUTS.npy holds rows (z, t); REFERENCE.npy the network outputs activediff's
C++ network computed on them (`activediff export --reference-outputs`). This
script has no network code: it loads the module with torch.jit.load, calls its
forward, and compares. Prints a JSON line; exits 1 on any disagreement.
"""
import json
import os
import sys

# One BLAS thread, as activediff runs by default (runtime.threads = 1): the
# same matrix products in the same order, so the comparison is of the
# network, not of how OpenBLAS splits a product over threads (which moves
# float32 sums by a few 1e-7).
os.environ["OPENBLAS_NUM_THREADS"] = "1"
os.environ["OMP_NUM_THREADS"] = "1"

import numpy as np  # noqa: E402
import torch  # noqa: E402


def main():
    module_file, json_file, inputs_file, reference_file = sys.argv[1:5]
    tolerance = float(sys.argv[5]) if len(sys.argv) > 5 else 1e-6
    problems = []
    torch.set_num_threads(1)

    extra = {"activediff.json": ""}
    module = torch.jit.load(module_file, map_location="cpu", _extra_files=extra)
    module.eval()
    with open(json_file) as f:
        description = json.load(f)
    embedded = json.loads(extra["activediff.json"])
    for key in ("format", "forward_inputs", "forward_output", "process", "features", "network"):
        if embedded.get(key) != description.get(key):
            problems.append(f"embedded activediff.json differs from {json_file} in '{key}'")

    rows = np.load(inputs_file)
    reference = np.load(reference_file)
    width = description["forward_inputs"]["z"]["shape"][1]
    outputs = description["forward_output"]["shape"][1]
    if rows.shape[1] != width + 1:
        problems.append(f"inputs have {rows.shape[1]} columns, the JSON says z has {width} (+ t)")
    z = torch.from_numpy(np.ascontiguousarray(rows[:, :-1], dtype=np.float32))
    t = torch.from_numpy(np.ascontiguousarray(rows[:, -1], dtype=np.float32))

    with torch.no_grad():
        out = module(z, t).numpy().astype(np.float64)
        single = module(z[:1], t[:1]).numpy().astype(np.float64)
    if out.shape != reference.shape or out.shape != (rows.shape[0], outputs):
        problems.append(f"forward gave {out.shape}, reference {reference.shape}, JSON [B, {outputs}]")
        max_diff = float("inf")
    else:
        max_diff = float(np.max(np.abs(out - reference)))
        if not max_diff <= tolerance:
            problems.append(f"forward differs from activediff's network by {max_diff:.3g} > {tolerance:g}")
        single_diff = float(np.max(np.abs(single[0] - reference[0])))
        if not single_diff <= tolerance:
            problems.append(f"a batch of one differs by {single_diff:.3g}")
    if not np.all(np.isfinite(out)):
        problems.append("forward gave non-finite values")

    # A wrong input width is the module's own clear error, not a wrong answer.
    try:
        module(torch.zeros(2, width + 1), torch.ones(2))
        problems.append("forward accepted z of the wrong width")
    except Exception as e:  # torch.jit.Error
        if "activediff score network" not in str(e):
            problems.append(f"wrong width gave an unclear error: {e}")

    print(json.dumps({"rows": int(rows.shape[0]), "max_abs_diff": max_diff,
                      "max_abs_output": float(np.max(np.abs(reference))) if reference.size else 0.0,
                      "parameters": sum(p.numel() for p in module.parameters()),
                      "problems": problems}))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
