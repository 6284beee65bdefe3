#!/usr/bin/python3
"""Regenerate the alanine-dipeptide example inputs in examples/ala2/.

ala2.pdb   22 atoms, ACE-ALA-NME, atom names as gmx pdb2gmx writes them for
           amber99sb-ildn, energy-minimized with the OpenMM System below
topol.top  GROMACS topology from gmx pdb2gmx (amber99sb-ildn, no water)
ala2.tpr   made by gmx grompp (vacuum; a topology for gmx tools, not for mdrun)
system.xml OpenMM System: amber99sb-ildn + OBC2 implicit solvent, no cutoff,
           bonds to hydrogen constrained, serialized by OpenMM's XmlSerializer

Uses only Debian packages: gromacs, python3-simtk (OpenMM), python3-numpy.
Usage: workflows/prepare_ala2.py [output_dir]   (default examples/ala2)
"""
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import openmm
import openmm.app as app
import openmm.unit as unit


def place(a, b, c, bond, angle_deg, torsion_deg):
    """Position of d with |cd| = bond, angle bcd, torsion abcd (NeRF)."""
    bc = (c - b) / np.linalg.norm(c - b)
    n = np.cross(b - a, bc)
    n /= np.linalg.norm(n)
    m = np.cross(n, bc)
    ang, tor = np.radians(angle_deg), np.radians(torsion_deg)
    d = np.array([-bond * np.cos(ang), bond * np.sin(ang) * np.cos(tor), bond * np.sin(ang) * np.sin(tor)])
    return c + d[0] * bc + d[1] * m + d[2] * n


def heavy_atoms():
    """Heavy atoms of ACE-ALA-NME (Angstrom) in the C7eq region, L-alanine."""
    ch3 = np.zeros(3)
    c0 = np.array([1.51, 0.0, 0.0])
    n1 = c0 + 1.33 * np.array([np.cos(np.radians(64)), np.sin(np.radians(64)), 0.0])
    ca = place(ch3, c0, n1, 1.46, 122, 180)
    c2 = place(c0, n1, ca, 1.52, 111, -80)   # phi = -80
    n2 = place(n1, ca, c2, 1.33, 116, 80)    # psi = 80
    cb = place(c2, n1, ca, 1.53, 110, -120)  # L chirality
    o1 = place(ca, n1, c0, 1.23, 123, 0)
    c3 = place(ca, c2, n2, 1.45, 122, 180)
    o2 = place(c3, n2, c2, 1.23, 123, 0)
    return [("CH3", "ACE", 1, ch3), ("C", "ACE", 1, c0), ("O", "ACE", 1, o1),
            ("N", "ALA", 2, n1), ("CA", "ALA", 2, ca), ("CB", "ALA", 2, cb),
            ("C", "ALA", 2, c2), ("O", "ALA", 2, o2), ("N", "NME", 3, n2), ("CH3", "NME", 3, c3)]


def run(cmd, cwd):
    result = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        sys.exit("command failed: %s\n%s" % (" ".join(cmd), result.stdout[-3000:]))


def main():
    out = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "examples", "ala2"))
    os.makedirs(out, exist_ok=True)
    work = tempfile.mkdtemp(prefix="ala2-prep-")
    with open(os.path.join(work, "heavy.pdb"), "w") as f:
        for i, (name, res, resnr, x) in enumerate(heavy_atoms(), 1):
            f.write("ATOM  %5d %-4s %3s A%4d    %8.3f%8.3f%8.3f  1.00  0.00\n"
                    % (i, " " + name, res, resnr, x[0], x[1], x[2]))
        f.write("END\n")
    run(["gmx", "-quiet", "pdb2gmx", "-f", "heavy.pdb", "-o", "conf.gro", "-p", "topol.top",
         "-ff", "amber99sb-ildn", "-water", "none", "-ignh"], work)
    run(["gmx", "-quiet", "editconf", "-f", "conf.gro", "-o", "named.pdb"], work)

    # OpenMM System from OpenMM's own force-field files.
    pdb = app.PDBFile(os.path.join(work, "named.pdb"))
    forcefield = app.ForceField("amber99sbildn.xml", "implicit/obc2.xml")
    system = forcefield.createSystem(pdb.topology, nonbondedMethod=app.NoCutoff, constraints=app.HBonds)
    integrator = openmm.VerletIntegrator(0.001)
    context = openmm.Context(system, integrator, openmm.Platform.getPlatformByName("Reference"))
    context.setPositions(pdb.positions)
    openmm.LocalEnergyMinimizer.minimize(context, 1.0, 0)
    positions = context.getState(getPositions=True).getPositions(asNumpy=True).value_in_unit(unit.angstrom)

    # Keep pdb2gmx's atom names: rewrite only the coordinates of named.pdb,
    # and give it a box that encloses the molecule (gmx tools use it for PBC).
    lines, k = [], 0
    for line in open(os.path.join(work, "named.pdb")):
        if line.startswith(("ATOM", "HETATM")):
            x = positions[k]
            k += 1
            line = line[:30] + "%8.3f%8.3f%8.3f" % tuple(x) + line[54:]
        if line.startswith(("ATOM", "HETATM", "TER", "END")):
            lines.append(line)
    assert k == system.getNumParticles() == 22, "expected 22 atoms"
    box = 30.0
    with open(os.path.join(out, "ala2.pdb"), "w") as f:
        f.write("TITLE     alanine dipeptide ACE-ALA-NME, amber99sb-ildn/OBC2 minimized\n")
        f.write("CRYST1%9.3f%9.3f%9.3f  90.00  90.00  90.00 P 1           1\n" % (box, box, box))
        f.writelines(lines)
    with open(os.path.join(out, "system.xml"), "w") as f:
        f.write(openmm.XmlSerializer.serialize(system))

    # GROMACS topology and run input for gmx tools (gmx rama, trjconv, ...).
    shutil.copy(os.path.join(work, "topol.top"), os.path.join(out, "topol.top"))
    with open(os.path.join(work, "vac.mdp"), "w") as f:
        f.write("integrator = md\nnsteps = 0\ncutoff-scheme = Verlet\npbc = xyz\n"
                "coulombtype = cut-off\nrcoulomb = 1.0\nrvdw = 1.0\n")
    run(["gmx", "-quiet", "grompp", "-f", "vac.mdp", "-c", os.path.join(out, "ala2.pdb"),
         "-p", os.path.join(out, "topol.top"), "-o", os.path.join(out, "ala2.tpr"), "-maxwarn", "5"], work)
    shutil.rmtree(work)
    print("wrote ala2.pdb, topol.top, ala2.tpr, system.xml to", out)


if __name__ == "__main__":
    main()
