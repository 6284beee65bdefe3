#!/usr/bin/python3
"""Builds a solvated system whose molecule is split across the periodic box,
and gives MDTraj's phi/psi of it after make_molecules_whole (the oracle).

usage: split_across_box.py solvated.gro md.xtc md_topology.pdb frames out.gro out.xtc
  solvated.gro: the molecule solvated by gmx solvate (molecule atoms first)
  md.xtc:       frames whose molecule coordinates are put into the system
Each output frame: the solvent of solvated.gro, the molecule from frame k of
md.xtc, translated so that its centre sits near a box corner (a different one
per frame), then every atom wrapped into the (possibly triclinic) box as
GROMACS writes solvated systems. out.gro is frame 0.
Prints one line per frame:
  <phi> <psi> <phi'> <psi'> <bonds crossing the box>
in degrees, by MDTraj from out.xtc read back: phi, psi after MDTraj's
make_molecules_whole; phi', psi' after undoing the known wrap of each atom
(the box vectors it was moved by), which is right in any box. (MDTraj 1.9's
make_molecules_whole is right in rectangular boxes only: in a dodecahedron
it leaves some frames broken.)
"""
import sys

import mdtraj
import numpy as np

solvated_file, md_file, md_top, frames, out_gro, out_xtc = sys.argv[1:7]
frames = int(frames)
system = mdtraj.load(solvated_file)
md = mdtraj.load(md_file, top=md_top)[:frames]
n_mol = md.n_atoms
box = system.unitcell_vectors[0]  # rows are box vectors, nm
corners = [np.zeros(3), box[0], box[1], box[2], box[0] + box[1], box[0] + box[2], box[1] + box[2], box.sum(axis=0)]
xyz = np.repeat(system.xyz[:1], frames, axis=0)
shifts = np.zeros((frames, n_mol, 3))
for k in range(frames):
    molecule = md.xyz[k] - md.xyz[k].mean(axis=0) + corners[k % len(corners)] + 0.01 * (k + 1)
    xyz[k, :n_mol] = molecule
    # Wrap every atom into the box: fractional coordinates modulo 1.
    fractional = xyz[k] @ np.linalg.inv(box)
    shifts[k] = (np.floor(fractional) @ box)[:n_mol]
    xyz[k] = (fractional - np.floor(fractional)) @ box
out = mdtraj.Trajectory(xyz, system.topology, time=np.arange(frames, dtype=float) + 1.0,
                        unitcell_lengths=np.repeat(system.unitcell_lengths[:1], frames, axis=0),
                        unitcell_angles=np.repeat(system.unitcell_angles[:1], frames, axis=0))
out[0].save_gro(out_gro)
out.save_xtc(out_xtc)

back = mdtraj.load(out_xtc, top=out_gro)
molecule = back.atom_slice(range(n_mol))
bonds = [(b[0].index, b[1].index) for b in molecule.topology.bonds]
crossing = [int(sum(np.linalg.norm(molecule.xyz[k, i] - molecule.xyz[k, j]) > 0.3 for i, j in bonds))
            for k in range(frames)]
unwrapped = molecule.slice(range(frames), copy=True)
unwrapped.xyz = (molecule.xyz + shifts).astype(np.float32)
# (make_molecules_whole(inplace=False) still changes its input in MDTraj 1.9.)
whole = molecule.slice(range(frames), copy=True).make_molecules_whole(inplace=False)
_, phi = mdtraj.compute_phi(whole)
_, psi = mdtraj.compute_psi(whole)
_, phi2 = mdtraj.compute_phi(unwrapped)
_, psi2 = mdtraj.compute_psi(unwrapped)
for k in range(frames):
    print("%.6f %.6f %.6f %.6f %d" % (np.degrees(phi[k, 0]), np.degrees(psi[k, 0]), np.degrees(phi2[k, 0]),
                                      np.degrees(psi2[k, 0]), crossing[k]))
