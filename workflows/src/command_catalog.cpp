// Every subcommand's name and summary, linked into all three executables, so
// that `activediff --help` lists commands whose code lives in a fuller one.
#include <stdexcept>

#include "commands.h"

namespace activediff::cli {

const std::vector<CommandSummary>& commandCatalog() {
  static const std::vector<CommandSummary> catalog = {
      {10, "simulate",
       "Langevin (middle) MD through OpenMM from a System XML and a structure; frames to XTC/TRR via "
       "libgromacs, energies to <output>.log.csv, summary to <output>.json. Minimizes and equilibrates "
       "first; checkpoints to <output>.chk so that --resume continues a killed run with no frame lost or "
       "repeated, on the platform that wrote the checkpoint. Runs with one seed are reproducible, and a "
       "resumed run's frames equal the uninterrupted run's, on Reference and on CPU with --threads 1 "
       "(with more CPU threads OpenMM 7.7's force sums vary in the last bits from run to run)."},
      {20, "energy",
       "OpenMM potential energy (kJ/mol) of every frame of a trajectory (.xtc/.trr/.dcd/.pdb/.gro) for a "
       "System XML; writes a CSV table and a JSON file (table + summary) beside it."},
      {30, "featurize",
       "Turn MD trajectories into a training dataset: phi/psi (2d) or the 25 internal coordinates of a capped "
       "residue (25d). Writes a directory that numpy opens directly (features.npy [frames, D] in nm and "
       "radians, time_ps.npy, source_file.npy, source_frame.npy, meta.json with names, units, periodic flags, "
       "branch cuts and provenance) and prints a JSON summary. Frames are streamed: memory does not grow with "
       "trajectory length. Corrupt or mismatched input is an error naming the file and frame; nothing is "
       "written then."},
      {40, "train",
       "Train a score network (passive, active or CLD diffusion) on a featurize dataset "
       "directory or a plain N x D float64 .npy. Settings come from a TOML config "
       "(examples/configs/); every key can be overridden with --set section.key=value."},
      {50, "sample",
       "Generate features from a trained model (checkpoint or training directory) with a chosen "
       "sampler (deis, sdeis, em, heun, rk45, sscs, gsscs); writes a featurize dataset directory and <output>.json."},
      {60, "rebuild",
       "Rebuild full-atom structures from a feature dataset (generated or MD): 25D through the exact Z-matrix "
       "inverse plus standard-geometry hydrogens, 2D by setting phi/psi on the template. Optional OpenMM "
       "relaxation and energies. Invalid rows (NaN/inf, bond outside (0, 0.3 nm], angle outside (0, pi), a "
       "rebuilt structure that is not finite) are counted and skipped."},
      {70, "evaluate",
       "Compare generated samples with reference MD: Ramachandran JS divergence beside the MD-vs-MD floor, "
       "metastable-state populations with 95% intervals, energies after the same rebuild/relax path, clashes, "
       "per-feature distances (25D), likelihood of MD frames, training-loss curve. Writes report.json, report.md "
       "and PNG plots into the output directory."},
      {80, "export",
       "Write a trained model's score network as a TorchScript module that Python loads with torch.jit.load "
       "and calls, with the SDE, standardization and feature spec in a JSON beside it."},
      {90, "fisher-memory",
       "Fisher memory curve J(t) of the forward process (MATH.md 6) for passive and active over a range of tau, all "
       "at the same k and stationary Var(x); no model or data needed. Writes report.json, report.md and "
       "fisher_memory.png into the output directory."},
      {100, "speciation",
       "Speciation time against tau (MATH.md 6): the t where a_x(t)^2 Lambda equals the kernel's noise variance in x, "
       "Lambda the largest eigenvalue of a dataset's model-space covariance, for passive and active at the same k "
       "and stationary Var(x). Writes report.json, report.md and speciation.png into the output directory."},
      {110, "state-memory",
       "Metastable-state memory experiment (MATH.md 6): MD frames labelled by state are noised to t* and reversed by "
       "trained models with the auxiliary variable kept and shuffled across the batch; the fraction returning to "
       "its starting state against t*, with standard errors. --mixture diamond uses the exact mixture score "
       "instead (states = modes). Writes report.json, report.md and state_memory.png."},
      {120, "mcmove",
       "Write a trained 2D (phi, psi) or 25D model as an OpenMM Force (XML) that moves the backbone torsions (or "
       "the 25 internal coordinates, hydrogens carried along) by exact "
       "Metropolis-Hastings every N steps inside any OpenMM simulation, C++ or Python; load the plugin directory "
       "(activediff --plugin-dir) first."},
      {130, "seed",
       "Starting structures for MD from a trained 2D (phi, psi) model: N conformations of a System (the template "
       "structure with the model's phi/psi, by rigid rotations), spread over the metastable states or in the "
       "model's proportions, optionally minimized with phi/psi restrained; each tagged with its state and energy. "
       "Writes a PDB/XTC/GRO and a JSON; workflows/swarm.py runs MD from them."},
  };
  return catalog;
}

std::string commandSummary(const std::string& name) {
  for (const CommandSummary& entry : commandCatalog())
    if (name == entry.name) return entry.summary;
  throw std::logic_error("activediff: command '" + name + "' is missing from command_catalog.cpp");
}

}  // namespace activediff::cli
