#!/usr/bin/python3
"""Write the OpenMM System XML that activediff needs (--system of energy,
simulate, rebuild and evaluate) for your own molecule, from a PDB and the
names of OpenMM force-field XML files.

OpenMM's ForceField lives in its Python app layer only, so this step is a
Python script rather than an activediff subcommand. The System's particles
are the PDB's atoms in the PDB's order: use the same PDB as activediff's
--topology/-s. No atoms are added or renamed; a PDB that lacks hydrogens or
has residues the force field does not know is refused (fix it first, e.g.
with pdbfixer or gmx pdb2gmx).

Example (alanine dipeptide in implicit solvent):
  workflows/prepare_system.py examples/ala2/ala2.pdb -o system.xml \\
      --forcefield amber14-all.xml --implicit obc2
  activediff energy --system system.xml -f examples/ala2/ala2.pdb

An existing output is never overwritten: it is backed up to #name.N#, as
activediff does. Needs Debian's python3-openmm (or python3-simtk); run it
with /usr/bin/python3 if `python3` on your PATH is another Python.
"""
import argparse
import os
import sys
import tempfile

IMPLICIT = {"obc1": "implicit/obc1.xml", "obc2": "implicit/obc2.xml", "gbn": "implicit/gbn.xml",
            "gbn2": "implicit/gbn2.xml", "hct": "implicit/hct.xml"}


def parse_arguments():
    parser = argparse.ArgumentParser(
        prog="prepare_system.py", description=__doc__,
        epilog="Force-field names are files OpenMM ships (amber14-all.xml, amber99sbildn.xml, charmm36.xml, "
               "amber14/tip3p.xml, ...) or paths to your own XML files.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pdb", help="structure with all atoms, hydrogens included (the activediff topology)")
    parser.add_argument("-o", "--output", required=True, help="System XML to write (an existing file is backed up)")
    parser.add_argument("--forcefield", action="append", required=True, metavar="XML",
                        help="OpenMM force-field XML; repeat for several (e.g. amber14-all.xml)")
    parser.add_argument("--implicit", choices=["none"] + sorted(IMPLICIT), default="none",
                        help="implicit solvent model added to the force field (default: none, i.e. vacuum "
                             "unless the force field files bring solvent)")
    parser.add_argument("--nonbonded", choices=["NoCutoff", "CutoffNonPeriodic", "CutoffPeriodic", "PME"],
                        default="NoCutoff", help="nonbonded method (default NoCutoff, as for a molecule in "
                                                 "vacuum or implicit solvent)")
    parser.add_argument("--cutoff", type=float, default=1.0, help="nonbonded cutoff in nm when one is used")
    parser.add_argument("--constraints", choices=["none", "HBonds", "AllBonds", "HAngles"], default="HBonds",
                        help="constrained bonds (default HBonds, as examples/ala2/system.xml)")
    parser.add_argument("--rigid-water", choices=["yes", "no"], default="yes", help="rigid water molecules")
    parser.add_argument("--hydrogen-mass", type=float, default=None, metavar="DALTON",
                        help="hydrogen mass repartitioning: hydrogen mass in Da (default: unchanged)")
    return parser.parse_args()


def backup_path(path):
    """#name.N#, the first N free, beside path (activediff's convention)."""
    directory, name = os.path.split(os.path.abspath(path))
    n = 1
    while os.path.lexists(os.path.join(directory, "#%s.%d#" % (name, n))):
        n += 1
    return os.path.join(directory, "#%s.%d#" % (name, n))


def main():
    args = parse_arguments()
    try:
        import openmm
        import openmm.app as app
        import openmm.unit as unit
    except ImportError:
        try:
            import simtk.openmm as openmm
            import simtk.openmm.app as app
            import simtk.unit as unit
        except ImportError:
            sys.exit("prepare_system.py: OpenMM's Python layer is not installed (Debian: apt install python3-openmm)")

    if not os.path.isfile(args.pdb):
        sys.exit("%s: no such file" % args.pdb)
    output = os.path.abspath(args.output)
    if os.path.isdir(output):
        sys.exit("%s: is a directory" % args.output)
    if os.path.abspath(args.pdb) == output:
        sys.exit("%s: the output would replace the input PDB" % args.output)
    files = list(args.forcefield) + ([IMPLICIT[args.implicit]] if args.implicit != "none" else [])
    try:
        pdb = app.PDBFile(args.pdb)
    except Exception as e:
        sys.exit("%s: cannot read the PDB (%s)" % (args.pdb, e))
    try:
        forcefield = app.ForceField(*files)
    except Exception as e:
        sys.exit("force field %s: cannot load (%s)" % (" ".join(files), e))
    options = {"nonbondedMethod": getattr(app, args.nonbonded),
               "constraints": None if args.constraints == "none" else getattr(app, args.constraints),
               "rigidWater": args.rigid_water == "yes"}
    if args.nonbonded != "NoCutoff":
        options["nonbondedCutoff"] = args.cutoff * unit.nanometer
    if args.hydrogen_mass is not None:
        options["hydrogenMass"] = args.hydrogen_mass * unit.amu
    try:
        system = forcefield.createSystem(pdb.topology, **options)
    except Exception as e:
        sys.exit("%s: the force field does not fit this structure: %s\n(missing hydrogens or unknown residues: "
                 "complete the structure first, e.g. with pdbfixer or gmx pdb2gmx, and use that PDB as "
                 "activediff's topology too)" % (args.pdb, e))
    atoms = pdb.topology.getNumAtoms()
    if system.getNumParticles() != atoms:
        sys.exit("%s: the System has %d particles but the PDB %d atoms (virtual sites?): activediff needs one "
                 "particle per PDB atom, in the PDB's order" % (args.pdb, system.getNumParticles(), atoms))

    # The input structure's energy, to compare with `activediff energy`.
    context = openmm.Context(system, openmm.VerletIntegrator(0.001), openmm.Platform.getPlatformByName("Reference"))
    context.setPositions(pdb.positions)
    energy = context.getState(getEnergy=True).getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole)

    text = openmm.XmlSerializer.serialize(system)
    directory = os.path.dirname(output)
    handle, temporary = tempfile.mkstemp(prefix="." + os.path.basename(output) + ".", suffix=".tmp", dir=directory)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # as a plain open() would create it
        with os.fdopen(handle, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        if os.path.lexists(output):
            backup = backup_path(output)
            os.rename(output, backup)
            print("backed up the existing %s to %s" % (args.output, backup), file=sys.stderr)
        os.rename(temporary, output)
    except OSError as e:
        if os.path.exists(temporary):
            os.unlink(temporary)
        sys.exit("%s: cannot write (%s)" % (args.output, e))
    print("wrote %s: %d particles, %d constraints, force field %s; potential energy of %s: %.4f kJ/mol "
          "(OpenMM Reference)" % (args.output, system.getNumParticles(), system.getNumConstraints(),
                                  " ".join(files), args.pdb, energy))


if __name__ == "__main__":
    main()
