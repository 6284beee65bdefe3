#!/usr/bin/python3
"""Corrupted-XTC fuzzing: a seeded generator of damaged files and MDTraj's
decoding of each, for tests/featurize/test_fuzz_xtc.cpp and bench/fuzz_xtc.sh.

usage:
  xtc_fuzz.py make SOURCE.xtc OUTDIR --frames N --count C --seed S
      Cuts the first N frames of SOURCE (N = 0: the whole file) at a frame
      boundary, byte for byte (re-writing would change the precision), and
      writes C damaged copies OUTDIR/fuzz_NNN.xtc: a burst of bit flips, a
      run of random bytes, a zeroed block, bit flips scattered over the file,
      in turn;
      then the undamaged cut, OUTDIR/clean.xtc, as a control. OUTDIR/
      manifest.tsv has one line per file:
        name kind first_damaged_byte first_damaged_frame frames description
      (first_damaged_* are -1 when no byte changed, as in the control).
  xtc_fuzz.py decode OUTDIR TOPOLOGY.pdb [SYSTEM.xml]
      Decodes every file of the manifest with MDTraj in this one process and
      writes OUTDIR/mdtraj.tsv:
        file NAME ok FRAMES            the whole file was read
        file NAME error FRAMES MESSAGE MDTraj failed after reading FRAMES
      each followed by FRAMES lines: phi_deg psi_deg energy. energy is
      OpenMM's potential (kJ/mol, Reference platform) of MDTraj's coordinates
      when SYSTEM.xml is given, else nan.
"""
import argparse
import bisect
import os
import struct
import sys
import warnings

import numpy as np


def frame_offsets(data):
    """Byte offset of every frame of a compressed XTC (> 9 atoms), from the
    byte count at offset 88 of each frame header."""
    offsets = []
    offset = 0
    while offset < len(data):
        magic, natoms = struct.unpack(">ii", data[offset:offset + 8])
        if magic != 1995 or natoms <= 9:
            sys.exit("%d: not a compressed XTC frame" % offset)
        offsets.append(offset)
        (nbytes,) = struct.unpack(">i", data[offset + 88:offset + 92])
        offset += 92 + (nbytes + 3) // 4 * 4
    if offset != len(data):
        sys.exit("source file does not end at a frame boundary")
    return offsets


def damage(clean, kind, rng):
    """One damaged copy of clean (a bytes object) and a description."""
    data = bytearray(clean)
    size = len(data)
    if kind in ("bitflip", "scattered"):
        # A burst of 1-8 flips within 64 bytes, as a bad sector or a transfer
        # error makes, or 2-8 flips anywhere in the file. Scattered flips can
        # put damage no reader can see (a low bit of a coordinate) before the
        # damage an error then names, and a reader that checks all headers
        # before any coordinates names a later frame than it must.
        flips = int(rng.integers(1, 9)) if kind == "bitflip" else int(rng.integers(2, 9))
        start = int(rng.integers(0, size)) if kind == "bitflip" else 0
        end = min(start + 64, size) if kind == "bitflip" else size
        positions = np.sort(rng.integers(start, end, flips))
        for p in positions:
            data[p] ^= 1 << int(rng.integers(0, 8))
        text = "%d bit flips at bytes %s" % (flips, ",".join(str(p) for p in positions))
    elif kind == "random":
        length = int(rng.integers(1, 65))
        start = int(rng.integers(0, size - length + 1))
        data[start:start + length] = rng.integers(0, 256, length, dtype=np.uint8).tobytes()
        text = "%d random bytes at byte %d" % (length, start)
    else:
        # Block lengths log-uniform from one word to a few frames.
        length = int(np.exp(rng.uniform(np.log(4), np.log(4096))))
        start = int(rng.integers(0, size))
        length = min(length, size - start)
        data[start:start + length] = bytes(length)
        text = "%d zeroed bytes at byte %d" % (length, start)
    return bytes(data), text


def make(args):
    with open(args.source, "rb") as f:
        source = f.read()
    offsets = frame_offsets(source)
    if args.frames > 0:
        if args.frames > len(offsets):
            sys.exit("source has only %d frames" % len(offsets))
        end = offsets[args.frames] if args.frames < len(offsets) else len(source)
        clean = source[:end]
        offsets = offsets[:args.frames]
    else:
        clean = source
    os.makedirs(args.outdir, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    kinds = ["bitflip", "random", "zero", "scattered"]
    clean_array = np.frombuffer(clean, dtype=np.uint8)
    lines = []
    for i in range(args.count):
        kind = kinds[i % len(kinds)]
        data, text = damage(clean, kind, rng)
        changed = np.nonzero(np.frombuffer(data, dtype=np.uint8) != clean_array)[0]
        first_byte = int(changed[0]) if changed.size else -1
        first_frame = bisect.bisect_right(offsets, first_byte) - 1 if changed.size else -1
        name = "fuzz_%03d.xtc" % i
        with open(os.path.join(args.outdir, name), "wb") as f:
            f.write(data)
        lines.append("%s\t%s\t%d\t%d\t%d\t%s\n" % (name, kind, first_byte, first_frame, len(offsets), text))
    # The control; decode also computes energies only where the decoded
    # coordinates differ from its frames.
    with open(os.path.join(args.outdir, "clean.xtc"), "wb") as f:
        f.write(clean)
    lines.append("clean.xtc\tcontrol\t-1\t-1\t%d\tundamaged\n" % len(offsets))
    with open(os.path.join(args.outdir, "manifest.tsv"), "w") as f:
        f.writelines(lines)


def potential_kj_mol(context, xyz_nm, clean):
    """OpenMM's potential energy of one frame; the clean file's value when the
    frame is bit for bit one of its frames (OpenMM's Python layer costs
    milliseconds a frame)."""
    if context is None or not np.all(np.isfinite(xyz_nm)):
        return float("nan")
    key = xyz_nm.tobytes()
    if key in clean:
        return clean[key]
    import openmm.unit as unit

    try:
        context.setPositions(xyz_nm.astype(float) * unit.nanometer)
        return context.getState(getEnergy=True).getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole)
    except Exception:
        return float("nan")


def read_frames_in_child(path, natoms):
    """Reads path frame by frame with MDTraj's XTC reader in a forked child
    (its xdrfile library segfaults on some damaged files) and returns
    (xyz [frames, natoms, 3], box [frames, 3, 3], error or None): the frames
    read before an error are kept, so that a failing file's prefix can be
    compared too."""
    record = natoms * 3 * 4 + 9 * 4
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        null = os.open(os.devnull, os.O_WRONLY)  # xdrfile prints its complaints
        os.dup2(null, 1)
        os.dup2(null, 2)

        def send(data):
            view = memoryview(data)
            while view:
                view = view[os.write(write_fd, view):]

        try:
            from mdtraj.formats import XTCTrajectoryFile

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with XTCTrajectoryFile(path) as f:
                    while True:
                        xyz, _, _, box = f.read(n_frames=1)
                        if xyz.shape[0] == 0:
                            break
                        if xyz.shape[1] != natoms:
                            raise RuntimeError("%d atoms, the topology has %d" % (xyz.shape[1], natoms))
                        # MDTraj returns no box for an all-zero one.
                        box = np.zeros((3, 3)) if box is None else box[0]
                        send(b"F" + xyz[0].astype(">f4").tobytes() + box.astype(">f4").tobytes())
            send(b"K")
        except BaseException as e:  # any failure of MDTraj is an outcome to report
            send(b"E" + " ".join(("%s: %s" % (type(e).__name__, e)).split())[:300].encode())
        os._exit(0)
    os.close(write_fd)
    chunks = []
    while True:
        chunk = os.read(read_fd, 1 << 20)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(read_fd)
    _, status = os.waitpid(pid, 0)
    data = b"".join(chunks)
    xyz, box = [], []
    offset = 0
    while offset < len(data) and data[offset:offset + 1] == b"F" and offset + 1 + record <= len(data):
        values = np.frombuffer(data[offset + 1:offset + 1 + record], dtype=">f4").astype(np.float32)
        xyz.append(values[:natoms * 3].reshape(natoms, 3))
        box.append(values[natoms * 3:].reshape(3, 3))
        offset += 1 + record
    tail = data[offset:]
    if os.WIFSIGNALED(status):
        error = "MDTraj killed by signal %d" % os.WTERMSIG(status)
    elif tail == b"K":
        error = None
    elif tail[:1] == b"E":
        error = tail[1:].decode(errors="replace")
    else:
        error = "MDTraj's reader stopped without a result"
    return np.array(xyz, dtype=np.float32).reshape(-1, natoms, 3), np.array(box, dtype=np.float32).reshape(-1, 3, 3), error


def decode(args):
    import mdtraj

    context = None
    if args.system:
        import openmm

        with open(args.system) as f:
            system = openmm.XmlSerializer.deserialize(f.read())
        context = openmm.Context(system, openmm.VerletIntegrator(0.001),
                                 openmm.Platform.getPlatformByName("Reference"))
    topology = mdtraj.load_topology(args.topology)
    with open(os.path.join(args.outdir, "manifest.tsv")) as f:
        names = [line.split("\t")[0] for line in f if line.strip()]
    clean = {}
    if context is not None:
        for xyz in mdtraj.load(os.path.join(args.outdir, "clean.xtc"), top=topology).xyz:
            clean[xyz.tobytes()] = potential_kj_mol(context, xyz, {})
    out = []
    for name in names:
        xyz, box, error = read_frames_in_child(os.path.join(args.outdir, name), topology.n_atoms)
        frames = xyz.shape[0]
        if error is None:
            out.append("file %s ok %d\n" % (name, frames))
        else:
            out.append("file %s error %d %s\n" % (name, frames, error))
        if frames == 0:
            continue
        # As mdtraj.load builds it: the box as unit cell vectors, so that the
        # dihedrals use the minimum image like MDTraj's own. An all-zero box
        # means no periodicity (GROMACS), which MDTraj turns into a NaN cell
        # and NaN dihedrals: those frames are measured without a box.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            traj = mdtraj.Trajectory(xyz, topology)
            traj.unitcell_vectors = box
            _, phi = mdtraj.compute_phi(traj)
            _, psi = mdtraj.compute_psi(traj)
            no_box = np.all(box.reshape(frames, 9) == 0, axis=1)
            if np.any(no_box):
                _, phi[no_box] = mdtraj.compute_phi(traj[no_box], periodic=False)
                _, psi[no_box] = mdtraj.compute_psi(traj[no_box], periodic=False)
        for k in range(frames):
            energy = potential_kj_mol(context, xyz[k], clean)
            out.append("%.6f %.6f %r\n" % (np.degrees(phi[k, 0]), np.degrees(psi[k, 0]), energy))
    with open(os.path.join(args.outdir, "mdtraj.tsv"), "w") as f:
        f.writelines(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("make")
    p.add_argument("source")
    p.add_argument("outdir")
    p.add_argument("--frames", type=int, default=200)
    p.add_argument("--count", type=int, default=110)
    p.add_argument("--seed", type=int, default=9)
    p.set_defaults(run=make)
    p = sub.add_parser("decode")
    p.add_argument("outdir")
    p.add_argument("topology")
    p.add_argument("system", nargs="?")
    p.set_defaults(run=decode)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
