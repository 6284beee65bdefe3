#!/usr/bin/python3
"""Oracle: every frame of a trajectory as MDTraj decodes it.

usage: xtc_positions.py trajectory.xtc topology.pdb
prints one line per frame: <time ps> then x y z of every atom in nm
(%.4f: XTC stores 1e-3 nm, so equal decoded frames print equal lines).
"""
import sys

import mdtraj

trajectory = mdtraj.load(sys.argv[1], top=sys.argv[2])
for time, xyz in zip(trajectory.time, trajectory.xyz):
    print("%.4f " % time + " ".join("%.4f" % v for v in xyz.ravel()))
