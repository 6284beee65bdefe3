#!/usr/bin/python3
"""Oracle for activediff's DCD reader and writer: DCDs written by MDTraj and
by OpenMM's DCDReporter, and what MDTraj reads from a DCD.

usage:
  dcd_oracle.py mdtraj XTC TOP FRAMES OUT.dcd cell|nocell
      first FRAMES frames of XTC, written by MDTraj (with the XTC's box or none)
  dcd_oracle.py openmm XTC TOP SYSTEM.xml FRAMES OUT.dcd triclinic|nocell
      the same frames through openmm.app.DCDReporter (every 500 steps of
      2 fs, so frame k is at step 500 (k + 1), t = k + 1 ps as in the XTC);
      'triclinic' gives the context a triclinic box per frame
  dcd_oracle.py dump DCD TOP OUT.txt
      what MDTraj reads: one line per frame, 9 box vector components (nm,
      rows a, b, c; zeros without a unit cell) then x y z of every atom (nm)
  dcd_oracle.py compare A B TOP TOLERANCE_NM [positions]
      MDTraj loads both; exits 1 unless frame counts agree and positions and
      unit cells (when both have them, unless 'positions') agree within
      TOLERANCE_NM
"""
import sys

import mdtraj
import numpy as np


def first_frames(xtc, top, frames):
    return mdtraj.load(xtc, top=top)[: int(frames)]


def write_mdtraj(xtc, top, frames, out, cell):
    traj = first_frames(xtc, top, frames)
    if cell == "nocell":
        traj = mdtraj.Trajectory(traj.xyz, traj.topology)
    traj.save_dcd(out)


def write_openmm(xtc, top, system_xml, frames, out, cell):
    import openmm
    import openmm.app as app
    import openmm.unit as unit

    traj = first_frames(xtc, top, frames)
    pdb = app.PDBFile(top)
    with open(system_xml) as f:
        system = openmm.XmlSerializer.deserialize(f.read())
    topology = pdb.topology
    triclinic = cell == "triclinic"

    def box(k):  # a valid reduced triclinic box, different in every frame
        s = 4.0 + 0.01 * k
        return (openmm.Vec3(s, 0, 0), openmm.Vec3(0.8, s, 0), openmm.Vec3(-0.6, 1.1, s)) * unit.nanometer

    if triclinic:
        topology.setPeriodicBoxVectors(box(0))
    else:
        topology.setPeriodicBoxVectors(None)
    integrator = openmm.VerletIntegrator(0.002 * unit.picoseconds)
    simulation = app.Simulation(topology, system, integrator, openmm.Platform.getPlatformByName("Reference"))
    reporter = app.DCDReporter(out, 500)
    for k in range(traj.n_frames):
        simulation.currentStep = 500 * (k + 1)
        simulation.context.setPositions(traj.xyz[k].astype(np.float64) * unit.nanometer)
        if triclinic:
            simulation.context.setPeriodicBoxVectors(*box(k))
        state = simulation.context.getState(getPositions=True)
        reporter.report(simulation, state)
    del reporter  # closes the file


def dump(dcd, top, out):
    traj = mdtraj.load(dcd, top=top)
    boxes = traj.unitcell_vectors
    if boxes is None:
        boxes = np.zeros((traj.n_frames, 3, 3))
    table = np.hstack([boxes.reshape(traj.n_frames, 9), traj.xyz.reshape(traj.n_frames, -1)])
    np.savetxt(out, table, fmt="%.8g")


def compare(a, b, top, tolerance, boxes=True):
    ta, tb = mdtraj.load(a, top=top), mdtraj.load(b, top=top)
    if ta.n_frames != tb.n_frames:
        print("frame counts differ: %d vs %d" % (ta.n_frames, tb.n_frames))
        return 1
    worst = float(np.abs(ta.xyz.astype(np.float64) - tb.xyz).max())
    print("frames %d, max |position difference| %.3g nm" % (ta.n_frames, worst))
    status = 0 if worst <= tolerance else 1
    if boxes and ta.unitcell_vectors is not None and tb.unitcell_vectors is not None:
        box = float(np.abs(ta.unitcell_vectors.astype(np.float64) - tb.unitcell_vectors).max())
        print("max |box difference| %.3g nm" % box)
        if box > max(tolerance, 1e-5):
            status = 1
    return status


def main(argv):
    command = argv[1]
    if command == "mdtraj":
        write_mdtraj(*argv[2:7])
    elif command == "openmm":
        write_openmm(*argv[2:8])
    elif command == "dump":
        dump(*argv[2:5])
    elif command == "compare":
        return compare(argv[2], argv[3], argv[4], float(argv[5]), argv[6:7] != ["positions"])
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
