#!/usr/bin/python3
"""OpenMM's Python Simulation on the same System, structure, platform and
settings as `activediff simulate`: the reference for the ns/day benchmark.

usage: simulate_vs_openmm_python.py system.xml ala2.pdb length_ns threads out.dcd
prints: ns_per_day <value>
"""
import sys
import time

import openmm
import openmm.app as app
import openmm.unit as unit

system_xml, pdb_file, length_ns, threads, out = sys.argv[1:6]
with open(system_xml) as f:
    system = openmm.XmlSerializer.deserialize(f.read())
pdb = app.PDBFile(pdb_file)
integrator = openmm.LangevinMiddleIntegrator(300 * unit.kelvin, 1 / unit.picosecond, 2 * unit.femtosecond)
integrator.setRandomNumberSeed(1)
platform = openmm.Platform.getPlatformByName("CPU")
simulation = app.Simulation(pdb.topology, system, integrator, platform, {"Threads": threads})
simulation.context.setPositions(pdb.positions)
simulation.minimizeEnergy()
simulation.context.setVelocitiesToTemperature(300 * unit.kelvin, 1)
simulation.step(500)
# Same output work as activediff: a frame and an energy line every 1 ps.
simulation.reporters.append(app.DCDReporter(out, 500))
simulation.reporters.append(app.StateDataReporter(out + ".log", 500, step=True, time=True,
                                                  potentialEnergy=True, kineticEnergy=True,
                                                  totalEnergy=True, temperature=True))
steps = int(round(float(length_ns) * 1e6 / 2.0))
start = time.perf_counter()
simulation.step(steps)
wall = time.perf_counter() - start
print("ns_per_day %.1f" % (float(length_ns) / wall * 86400.0))
