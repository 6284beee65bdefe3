#!/usr/bin/python3
"""Oracle: backbone phi/psi (degrees) of every frame, computed by MDTraj.

usage: mdtraj_phi_psi.py trajectory.xtc topology.pdb
prints one line per frame: <phi deg> <psi deg>
"""
import sys

import mdtraj
import numpy as np

traj = mdtraj.load(sys.argv[1], top=sys.argv[2])
_, phi = mdtraj.compute_phi(traj)
_, psi = mdtraj.compute_psi(traj)
for a, b in zip(np.degrees(phi[:, 0]), np.degrees(psi[:, 0])):
    print("%.6f %.6f" % (a, b))
