#!/usr/bin/python3
"""Oracle: OpenMM's Python layer evaluates potential energies of trajectory
frames for a serialized System (Reference platform, double precision).

usage: openmm_energies.py system.xml trajectory.xtc topology.pdb [max_frames]
prints one line per frame: <frame index> <potential energy kJ/mol>
"""
import sys

import mdtraj
import openmm
import openmm.unit as unit

system_xml, trajectory, topology = sys.argv[1:4]
max_frames = int(sys.argv[4]) if len(sys.argv) > 4 else None
with open(system_xml) as f:
    system = openmm.XmlSerializer.deserialize(f.read())
frames = mdtraj.load(trajectory, top=topology)
if max_frames is not None:
    frames = frames[:max_frames]
context = openmm.Context(system, openmm.VerletIntegrator(0.001), openmm.Platform.getPlatformByName("Reference"))
for i, xyz in enumerate(frames.xyz):
    context.setPositions(xyz.astype(float) * unit.nanometer)
    energy = context.getState(getEnergy=True).getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole)
    print(i, repr(energy))
