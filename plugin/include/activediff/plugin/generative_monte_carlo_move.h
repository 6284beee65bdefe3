#pragma once
// GenerativeMonteCarloMove: an OpenMM Force with zero energy that, every
// `interval` steps, proposes new internal coordinates from a trained
// activediff model -- backbone torsions (phi, psi) for a 2D model, the 25
// Z-matrix coordinates for a 25D one -- and accepts them by
// Metropolis-Hastings with the Context's energy (MATH.md 4b), so the
// simulation still samples the Boltzmann distribution. OpenMM's MonteCarloBarostat is the mould: the work happens in
// ForceImpl::updateContextState, behind the kernel name of
// generative_move_kernels.h (Reference and CPU platforms: the plugin library
// in pluginDirectory(), loaded with Platform::loadPluginsFromDirectory).
//
// A plain value type, torch-free: it holds the checkpoint bytes (so a
// serialized System is self-contained), the atoms the features refer to, the
// interval, the default temperature, the seed and the density integrator's
// steps. The atoms: for a 2D model the five of the torsions C(i-1), N, CA,
// C, N(i+1) (phi = atoms 0-3, psi = atoms 1-4); for a 25D model the eleven
// Z-matrix atoms in row order (featurize's zmatrix.h, ZMatrix::rowAtoms()).
// Context parameters it declares:
//   ActivediffTemperature     (K; the Boltzmann weight of the acceptance)
//   ActivediffMovesAttempted  (count, read with Context::getParameter)
//   ActivediffMovesAccepted
// Non-periodic Systems only (vacuum or implicit solvent): in explicit
// solvent torsion moves clash with the water and acceptance vanishes.
#include <openmm/Force.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace activediff::plugin {

class GenerativeMonteCarloMove : public OpenMM::Force {
 public:
  static const std::string& Temperature();
  static const std::string& MovesAttempted();
  static const std::string& MovesAccepted();

  // checkpointBytes: the bytes of an activediff checkpoint (checkpoint.adck)
  // of a 2D (phi, psi) or 25D model; featureAtoms as above. Whether model and
  // atoms fit the System is checked when a Context is made.
  GenerativeMonteCarloMove(std::string checkpointBytes, std::vector<int> featureAtoms, int interval,
                           double defaultTemperatureK, std::uint32_t seed = 1);
  // The 2D form: torsionAtoms C(i-1), N, CA, C, N(i+1).
  GenerativeMonteCarloMove(std::string checkpointBytes, const std::array<int, 5>& torsionAtoms, int interval,
                           double defaultTemperatureK, std::uint32_t seed = 1)
      : GenerativeMonteCarloMove(std::move(checkpointBytes), std::vector<int>(torsionAtoms.begin(), torsionAtoms.end()),
                                 interval, defaultTemperatureK, seed) {}

  const std::string& getCheckpoint() const { return checkpoint_; }
  const std::vector<int>& getFeatureAtoms() const { return featureAtoms_; }
  int getInterval() const { return interval_; }
  void setInterval(int steps);
  double getDefaultTemperature() const { return temperatureK_; }
  void setDefaultTemperature(double kelvin);
  std::uint32_t getRandomNumberSeed() const { return seed_; }
  void setRandomNumberSeed(std::uint32_t seed) { seed_ = seed; }
  // RK4 steps of the probability-flow log-density (proposal and current
  // state alike); the round trip of a state's log-density is tested to < 1e-3
  // nats at the default 120 (active tau 0.5 needs ~100; passive 40).
  int getDensitySteps() const { return densitySteps_; }
  void setDensitySteps(int steps);

  // Test hook (never serialized): leave the proposal density out of the
  // acceptance ratio, which makes the move inexact -- the negative control.
  void setOmitProposalDensityForTesting(bool omit) { omitProposalDensity_ = omit; }
  bool getOmitProposalDensityForTesting() const { return omitProposalDensity_; }
  // Test hook (never serialized): leave the Z-matrix volume element of a 25D
  // move out of the ratio -- the negative control of its Jacobian.
  void setOmitVolumeElementForTesting(bool omit) { omitVolumeElement_ = omit; }
  bool getOmitVolumeElementForTesting() const { return omitVolumeElement_; }

  bool usesPeriodicBoundaryConditions() const override { return false; }

 protected:
  OpenMM::ForceImpl* createImpl() const override;

 private:
  std::string checkpoint_;
  std::vector<int> featureAtoms_;
  int interval_;
  double temperatureK_;
  std::uint32_t seed_;
  int densitySteps_ = 120;
  bool omitProposalDensity_ = false;
  bool omitVolumeElement_ = false;
};

// The directory of the plugin library (Reference/CPU kernels) for
// Platform::loadPluginsFromDirectory: the build tree's or the installed one,
// whichever exists beside this library. Empty if neither does.
std::string pluginDirectory();

}  // namespace activediff::plugin
