#!/usr/bin/python3
"""Oracle: OpenMM's Python layer evaluates potential energies of trajectory
frames for a serialized System (Reference platform, double precision).

usage: openmm_energies.py system.xml trajectory.xtc topology.pdb [max_frames] [--molecule-atoms=N]
  --molecule-atoms=N: the System is the first N atoms of a larger (solvated)
  trajectory; they are cut out and made whole by MDTraj's
  make_molecules_whole (right in rectangular boxes) before scoring.
prints one line per frame: <frame index> <potential energy kJ/mol>
"""
import sys

import mdtraj
import openmm
import openmm.unit as unit

flags = [a for a in sys.argv[1:] if a.startswith("--")]
args = [a for a in sys.argv[1:] if not a.startswith("--")]
system_xml, trajectory, topology = args[0:3]
max_frames = int(args[3]) if len(args) > 3 else None
molecule_atoms = None
for flag in flags:
    if flag.startswith("--molecule-atoms="):
        molecule_atoms = int(flag.split("=", 1)[1])
    else:
        sys.exit("unknown option " + flag)
with open(system_xml) as f:
    system = openmm.XmlSerializer.deserialize(f.read())
frames = mdtraj.load(trajectory, top=topology)
if max_frames is not None:
    frames = frames[:max_frames]
if molecule_atoms is not None:
    frames = frames.atom_slice(range(molecule_atoms))
    frames.make_molecules_whole(inplace=True)
context = openmm.Context(system, openmm.VerletIntegrator(0.001), openmm.Platform.getPlatformByName("Reference"))
for i, xyz in enumerate(frames.xyz):
    context.setPositions(xyz.astype(float) * unit.nanometer)
    energy = context.getState(getEnergy=True).getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole)
    print(i, repr(energy))
