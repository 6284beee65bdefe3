#!/usr/bin/python3
"""Oracle: a multi-model PDB written by activediff, read back by MDTraj and by
OpenMM's PDBFile, against the template the structures were built on.

usage: pdb_check.py written.pdb template.pdb full_precision.trr
checks
  - the element column: MDTraj's and OpenMM's elements of the written file
    equal OpenMM's elements of the template (from its residue templates);
  - the CONECT records (parsed here) give exactly OpenMM's bonds of the
    template (from its standard residue templates); MDTraj's bonds of the
    written file are the same set;
  - MODEL records are numbered 1..N, N = frames MDTraj and OpenMM read;
  - coordinates equal the full-precision TRR's (MDTraj) to PDB precision.
prints 'OK <frames> <bonds>' or one line per discrepancy; exit 1 on any.
"""
import sys

import mdtraj
import numpy as np
from openmm import unit
from openmm.app import PDBFile

written, template, trr = sys.argv[1:4]
errors = []

ref = PDBFile(template)
ref_elements = [a.element.symbol for a in ref.topology.atoms()]
ref_bonds = sorted(tuple(sorted((b[0].index, b[1].index))) for b in ref.topology.bonds())

# The element column as written, and the CONECT records, parsed by hand.
columns, conect, models = [], set(), []
with open(written) as f:
    for line in f:
        if line.startswith("MODEL"):
            models.append(int(line[10:14]))
        elif line.startswith("ATOM") and len(models) == 1:
            columns.append(line[76:78].strip())
        elif line.startswith("CONECT"):
            serials = [int(line[k:k + 5]) for k in range(6, len(line.rstrip("\n")), 5) if line[k:k + 5].strip()]
            for other in serials[1:]:
                conect.add(tuple(sorted((serials[0] - 1, other - 1))))

traj = mdtraj.load(written)
omm = PDBFile(written)
n = traj.n_frames
if models != list(range(1, n + 1)):
    errors.append("MODEL numbers %s, expected 1..%d" % (models[:10], n))
if omm.getNumFrames() != n:
    errors.append("OpenMM reads %d models, MDTraj %d" % (omm.getNumFrames(), n))
if [e.upper() for e in ref_elements] != columns:
    errors.append("element column %s, expected %s" % (columns, ref_elements))
mdtraj_elements = [a.element.symbol for a in traj.topology.atoms]
if mdtraj_elements != ref_elements:
    errors.append("MDTraj elements %s, expected %s" % (mdtraj_elements, ref_elements))
omm_elements = [a.element.symbol for a in omm.topology.atoms()]
if omm_elements != ref_elements:
    errors.append("OpenMM elements %s, expected %s" % (omm_elements, ref_elements))
if sorted(conect) != ref_bonds:
    errors.append("CONECT bonds differ from the template's: extra %s, missing %s"
                  % (sorted(conect - set(ref_bonds)), sorted(set(ref_bonds) - conect)))
# MDTraj adds its residue templates' bonds to the CONECT ones without
# removing duplicates: compare as sets.
mdtraj_bonds = sorted(set(tuple(sorted((b[0].index, b[1].index))) for b in traj.topology.bonds))
if mdtraj_bonds != ref_bonds:
    errors.append("MDTraj bonds of the written file differ from the template's")
full = mdtraj.load(trr, top=template)
if full.n_frames != n:
    errors.append("TRR has %d frames, PDB %d" % (full.n_frames, n))
else:
    worst = np.abs(traj.xyz - full.xyz).max()
    if not worst <= 1e-4:  # PDB: 0.001 A = 1e-4 nm, rounding 5e-5
        errors.append("coordinates differ from the TRR's by %.2e nm" % worst)
    for k in range(n):
        xyz = np.array(omm.getPositions(asNumpy=True, frame=k).value_in_unit(unit.nanometer))
        if not np.abs(xyz - full.xyz[k]).max() <= 1e-4:
            errors.append("OpenMM's coordinates of model %d differ from the TRR's" % (k + 1))
print("\n".join(errors) if errors else "OK %d %d" % (n, len(conect)))
sys.exit(1 if errors else 0)
