#include "generative_move_engine.h"

#include <openmm/Context.h>
#include <openmm/Integrator.h>
#include <openmm/OpenMMException.h>
#include <openmm/State.h>
#include <unistd.h>

#include <Eigen/Geometry>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>

#include "activediff/featurize/error.h"
#include "activediff/featurize/geometry.h"
#include "activediff/featurize/zmatrix.h"
#include "activediff/model/generator.h"
#include "activediff/model/layout.h"
#include "activediff/model/van_loan_kernel.h"
#include "activediff/plugin/backbone_torsions.h"
#include "activediff/plugin/openmm_setup.h"

namespace activediff::plugin {
namespace {

using OpenMM::OpenMMException;

// Generator reads checkpoints from files: the bytes go to a private
// mkstemp file that is removed as soon as the model is loaded.
std::unique_ptr<model::Generator> loadGenerator(const std::string& bytes) {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/activediff-move-XXXXXX";
  const int fd = mkstemp(pattern.data());
  if (fd < 0) throw OpenMMException("GenerativeMonteCarloMove: cannot create a temporary file for the checkpoint");
  const bool written = ::write(fd, bytes.data(), bytes.size()) == ssize_t(bytes.size());
  ::close(fd);
  struct Remove {
    std::string path;
    ~Remove() { std::remove(path.c_str()); }
  } remove{pattern};
  if (!written) throw OpenMMException("GenerativeMonteCarloMove: cannot write the checkpoint to " + pattern);
  model::GeneratorOptions options;
  options.batchSize = 64;
  options.eigenNetwork = true;  // one state at a time: no per-call LibTorch cost
  try {
    return std::make_unique<model::Generator>(pattern, options);
  } catch (const std::exception& e) {
    throw OpenMMException(std::string("GenerativeMonteCarloMove: the embedded checkpoint: ") + e.what());
  }
}

double potentialEnergy(OpenMM::ContextImpl& context) {
  const int groups = context.getIntegrator().getIntegrationForceGroups();
  return context.getOwner().getState(OpenMM::State::Energy, false, groups).getPotentialEnergy();
}

// The chart of the model's features on the System, its System-level checks
// (activediff::Error) turned into an OpenMMException.
std::unique_ptr<MoveChart> chartFor(const OpenMM::System& system, const model::FeatureSpec& spec,
                                    const std::vector<int>& atoms) {
  const ZMatrixDefinition zmatrix = cappedResidueZMatrix();
  const bool phiPsi = spec.dims() == 2 && spec.names[0] == "phi" && spec.names[1] == "psi";
  const bool internal = spec.featureSet == zmatrix.name;
  if (!phiPsi && !internal)
    throw OpenMMException("GenerativeMonteCarloMove: the checkpoint models " + std::to_string(spec.dims()) +
                          " features (" + spec.featureSet + "); the move needs a 2D (phi, psi) model or a 25D (" +
                          zmatrix.name + ") one");
  const std::size_t needed = phiPsi ? 5 : zmatrix.rows.size();
  if (atoms.size() != needed)
    throw OpenMMException("GenerativeMonteCarloMove: the move holds " + std::to_string(atoms.size()) +
                          " feature atoms, but its " + (phiPsi ? "2D" : "25D") + " checkpoint needs " +
                          std::to_string(needed));
  try {
    if (phiPsi) {
      std::array<int, 5> five{};
      std::copy(atoms.begin(), atoms.end(), five.begin());
      return std::make_unique<TorsionChart>(BackboneTorsions(system, five));
    }
    auto chart = std::make_unique<ZMatrixChart>(system, zmatrix, atoms);
    if (chart->dims() != spec.dims())
      throw Error("the checkpoint has " + std::to_string(spec.dims()) + " features, the Z-matrix " +
                  std::to_string(chart->dims()));
    for (int d = 0; d < spec.dims(); ++d)
      if (chart->zmatrix().features()[std::size_t(d)].periodic != bool(spec.periodic[std::size_t(d)]))
        throw Error("feature " + std::to_string(d) + " (" + spec.names[std::size_t(d)] +
                    ") is periodic in one of checkpoint and Z-matrix and not in the other");
    return chart;
  } catch (const OpenMMException&) {
    throw;
  } catch (const std::exception& e) {
    throw OpenMMException(std::string("GenerativeMonteCarloMove: ") + e.what());
  }
}

}  // namespace

GenerativeMoveEngine::GenerativeMoveEngine(const OpenMM::System& system, const GenerativeMonteCarloMove& move)
    : seed_(move.getRandomNumberSeed()),
      densitySteps_(move.getDensitySteps()),
      interval_(move.getInterval()),
      omitProposalDensity_(move.getOmitProposalDensityForTesting()),
      omitVolumeElement_(move.getOmitVolumeElementForTesting()) {
  for (int a : move.getFeatureAtoms())
    if (a >= system.getNumParticles())
      throw OpenMMException("GenerativeMonteCarloMove: feature atom " + std::to_string(a) +
                            " is beyond the System's " + std::to_string(system.getNumParticles()) +
                            " particles (made for another molecule?)");
  generator_ = loadGenerator(move.getCheckpoint());
  chart_ = chartFor(system, generator_->features(), move.getFeatureAtoms());
  if (generator_->sde().channels() == 2) {
    const model::DataConditionedKernel k = model::VanLoanKernel(generator_->sde()).givenX0(generator_->timeEpsilon());
    auxMean_ = k.meanCoefficient(1);
    auxVariance_ = k.covariance(1, 1);
  }
}

GenerativeMoveEngine::~GenerativeMoveEngine() = default;

bool GenerativeMoveEngine::attempt(OpenMM::ContextImpl& context, long long stepCount) {
  const model::FeatureSpec& spec = generator_->features();
  const int channels = generator_->sde().channels();
  const int dims = chart_->dims();
  model::Rng rng(model::streamSeed(seed_, 2 * std::uint64_t(stepCount)));
  std::normal_distribution<double> normal;
  std::uniform_real_distribution<double> uniform(0.0, 1.0);

  std::vector<OpenMM::Vec3> positions, velocities;
  context.getPositions(positions);
  context.getVelocities(velocities);
  Eigen::ArrayXXd features(1, dims);
  chart_->features(positions, features.data());
  Eigen::ArrayXXd current(1, channels * dims);
  current.leftCols(dims) = spec.toModel(features);
  auto logAux = [&](const Eigen::ArrayXXd& z) {
    double sum = 0.0;
    for (int d = 0; d < dims; ++d) {
      const double r = z(0, dims + d) - auxMean_ * z(0, d);
      sum += -0.5 * r * r / auxVariance_ - 0.5 * std::log(2.0 * M_PI * auxVariance_);
    }
    return sum;
  };
  if (channels == 2)
    for (int d = 0; d < dims; ++d)
      current(0, dims + d) = auxMean_ * current(0, d) + std::sqrt(auxVariance_) * normal(rng);

  // Proposals are independent of the chain's state, so they are drawn ahead
  // in blocks of kProposalBlock attempts (one batched density integral
  // instead of one per move). Block b serves attempts b*B .. b*B+B-1 (attempt
  // j at step j * interval) and is seeded from b alone, so a resumed run
  // draws the same proposals.
  const std::int64_t attemptIndex = stepCount / interval_;
  const std::int64_t block = attemptIndex / kProposalBlock;
  if (!proposals_ || block != proposalBlock_) {
    proposals_ = std::make_unique<model::GeneratedSamples>(generator_->sampleWithLogDensity(
        kProposalBlock, model::streamSeed(seed_, 2 * std::uint64_t(block) + 1), densitySteps_));
    proposalBlock_ = block;
  }
  const int row = int(attemptIndex - block * kProposalBlock);
  model::GeneratedSamples proposal;
  proposal.z = proposals_->z.row(row);
  proposal.features = proposals_->features.row(row);
  proposal.logDensity = proposals_->logDensity.segment(row, 1);
  // Outside the chart [cut, cut + 2 pi): zero target density there.
  for (int d = 0; d < dims; ++d) {
    if (!spec.periodic[d]) continue;
    const double unwrapped = spec.mean(d) + spec.stddev(d) * proposal.z(0, d);
    if (!(unwrapped >= spec.branchCutsRad[d] && unwrapped < spec.branchCutsRad[d] + 2.0 * M_PI)) return false;
  }
  // The proposal as a plain array for the chart (one row of an Eigen array).
  const std::vector<double> proposed(proposal.features.data(), proposal.features.data() + dims);
  std::vector<OpenMM::Vec3> newPositions = positions, newVelocities = velocities;
  if (!chart_->place(proposed.data(), newPositions, newVelocities)) return false;
  const double logQCurrent = generator_->logDensityOfStates(current, densitySteps_)(0);
  const double logQProposal = proposal.logDensity(0);

  const double energyBefore = potentialEnergy(context);
  context.setPositions(newPositions);
  const double energyAfter = potentialEnergy(context);
  const double kT = kMolarGasConstantKjPerMolK * context.getParameter(GenerativeMonteCarloMove::Temperature());
  double logAcceptance = -(energyAfter - energyBefore) / kT;
  if (!omitVolumeElement_)
    logAcceptance += chart_->logVolumeElement(proposed.data()) - chart_->logVolumeElement(features.data());
  if (!omitProposalDensity_) logAcceptance += logQCurrent - logQProposal;
  if (channels == 2) logAcceptance += logAux(proposal.z) - logAux(current);
  if (std::isfinite(energyAfter) && std::log(uniform(rng)) < logAcceptance) {
    const std::vector<int>& redrawn = chart_->redrawnVelocityAtoms();
    if (!redrawn.empty()) {
      // Maxwell-Boltzmann at the move's temperature, from the attempt's own
      // stream, then projected onto the constraints.
      const OpenMM::System& system = context.getSystem();
      for (int a : redrawn) {
        const double mass = system.getParticleMass(a);
        if (mass == 0.0) continue;
        const double sd = std::sqrt(kT / mass);
        newVelocities[std::size_t(a)] = OpenMM::Vec3(sd * normal(rng), sd * normal(rng), sd * normal(rng));
      }
      context.setVelocities(newVelocities);
      context.applyVelocityConstraints(context.getIntegrator().getConstraintTolerance());
    } else {
      context.setVelocities(newVelocities);
    }
    return true;
  }
  context.setPositions(positions);
  return false;
}

}  // namespace activediff::plugin
