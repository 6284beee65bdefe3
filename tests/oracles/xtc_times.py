#!/usr/bin/python3
"""Oracle: frame count and time stamps of a trajectory as MDTraj reads them.

usage: xtc_times.py trajectory.xtc topology.pdb
prints one line per frame: <time ps>
"""
import sys

import mdtraj

for t in mdtraj.load(sys.argv[1], top=sys.argv[2]).time:
    print("%.4f" % t)
