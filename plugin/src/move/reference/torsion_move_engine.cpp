#include "torsion_move_engine.h"

#include <openmm/Context.h>
#include <openmm/Integrator.h>
#include <openmm/OpenMMException.h>
#include <openmm/State.h>
#include <unistd.h>

#include <Eigen/Geometry>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>

#include "activediff/featurize/error.h"
#include "activediff/featurize/geometry.h"
#include "activediff/model/generator.h"
#include "activediff/model/layout.h"
#include "activediff/model/van_loan_kernel.h"
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

// Atoms reachable from `start` without crossing the bond (blocked, start).
std::vector<int> sideOf(const std::vector<std::vector<int>>& neighbours, int blocked, int start) {
  std::vector<char> seen(neighbours.size(), 0);
  std::vector<int> stack{start}, side;
  seen[start] = 1;
  seen[blocked] = 1;
  while (!stack.empty()) {
    const int a = stack.back();
    stack.pop_back();
    side.push_back(a);
    for (int b : neighbours[a])
      if (!seen[b]) {
        seen[b] = 1;
        stack.push_back(b);
      }
  }
  return side;
}

Eigen::Vector3d toEigen(const OpenMM::Vec3& v) { return {v[0], v[1], v[2]}; }
OpenMM::Vec3 toVec3(const Eigen::Vector3d& v) { return {v[0], v[1], v[2]}; }

double dihedralOf(const std::vector<OpenMM::Vec3>& p, int a, int b, int c, int d) {
  return dihedralRad(toEigen(p[a]), toEigen(p[b]), toEigen(p[c]), toEigen(p[d]));
}

// Sets the dihedral (a, b, c, d) to targetRad by turning `fragment` about b-c.
void setDihedral(std::vector<OpenMM::Vec3>& positions, std::vector<OpenMM::Vec3>& velocities,
                 const std::vector<int>& fragment, const std::array<int, 4>& q, double targetRad) {
  const Eigen::Vector3d origin = toEigen(positions[q[1]]);
  const Eigen::Vector3d axis = (toEigen(positions[q[2]]) - origin).normalized();
  const double current = dihedralOf(positions, q[0], q[1], q[2], q[3]);
  auto turn = [&](double angle) {
    const Eigen::Matrix3d r = Eigen::AngleAxisd(angle, axis).toRotationMatrix();
    for (int a : fragment) {
      positions[a] = toVec3(origin + r * (toEigen(positions[a]) - origin));
      velocities[a] = toVec3(r * toEigen(velocities[a]));
    }
  };
  const double delta = wrapToPiRad(targetRad - current);
  turn(delta);
  if (std::abs(wrapToPiRad(dihedralOf(positions, q[0], q[1], q[2], q[3]) - targetRad)) > 1e-6) turn(-2.0 * delta);
  if (std::abs(wrapToPiRad(dihedralOf(positions, q[0], q[1], q[2], q[3]) - targetRad)) > 1e-6)
    throw OpenMMException("GenerativeMonteCarloMove: a fragment rotation missed its dihedral (an activediff bug)");
}

double potentialEnergy(OpenMM::ContextImpl& context) {
  const int groups = context.getIntegrator().getIntegrationForceGroups();
  return context.getOwner().getState(OpenMM::State::Energy, false, groups).getPotentialEnergy();
}

}  // namespace

TorsionMoveEngine::TorsionMoveEngine(const OpenMM::System& system, const GenerativeMonteCarloMove& move)
    : atoms_(move.getTorsionAtoms()),
      seed_(move.getRandomNumberSeed()),
      densitySteps_(move.getDensitySteps()),
      omitProposalDensity_(move.getOmitProposalDensityForTesting()) {
  const int n = system.getNumParticles();
  for (int a : atoms_)
    if (a >= n)
      throw OpenMMException("GenerativeMonteCarloMove: torsion atom " + std::to_string(a) + " is beyond the System's " +
                            std::to_string(n) + " particles (a move made for another molecule?)");
  // C(i-1), N, CA, C, N(i+1): masses of C and N (within 2.5 u, which admits
  // hydrogen mass repartitioning of the N-H).
  const char* element = "CNCCN";
  const double expected[] = {12.011, 14.007, 12.011, 12.011, 14.007};
  for (int i = 0; i < 5; ++i) {
    const double mass = system.getParticleMass(atoms_[i]);
    if (std::abs(mass - expected[i]) > 2.5)
      throw OpenMMException("GenerativeMonteCarloMove: torsion atom " + std::to_string(atoms_[i]) + " has mass " +
                            std::to_string(mass) + ", not that of " + element[i] +
                            " (the atoms must be C(i-1), N, CA, C, N(i+1) of this System)");
  }
  std::vector<std::vector<int>> neighbours(n);
  for (const auto& [i, j] : covalentBondsOf(system)) {
    neighbours[i].push_back(j);
    neighbours[j].push_back(i);
  }
  auto bonded = [&](int i, int j) {
    for (int k : neighbours[i])
      if (k == j) return true;
    return false;
  };
  for (int i = 0; i + 1 < 5; ++i)
    if (!bonded(atoms_[i], atoms_[i + 1]))
      throw OpenMMException("GenerativeMonteCarloMove: torsion atoms " + std::to_string(atoms_[i]) + " and " +
                            std::to_string(atoms_[i + 1]) +
                            " are not bonded in the System (bonds and constraints): not C(i-1)-N-CA-C-N(i+1)");
  phiFragment_ = sideOf(neighbours, atoms_[1], atoms_[2]);
  psiFragment_ = sideOf(neighbours, atoms_[2], atoms_[3]);
  for (int a : phiFragment_)
    if (a == atoms_[1]) throw OpenMMException("GenerativeMonteCarloMove: the N-CA bond is in a ring; phi cannot turn");
  for (int a : psiFragment_)
    if (a == atoms_[2]) throw OpenMMException("GenerativeMonteCarloMove: the CA-C bond is in a ring; psi cannot turn");

  generator_ = loadGenerator(move.getCheckpoint());
  const model::FeatureSpec& spec = generator_->features();
  if (spec.dims() != 2 || spec.names[0] != "phi" || spec.names[1] != "psi")
    throw OpenMMException("GenerativeMonteCarloMove: the checkpoint models " + std::to_string(spec.dims()) +
                          " features (" + spec.featureSet + "); the move needs a 2D (phi, psi) model");
  if (generator_->sde().channels() == 2) {
    const model::DataConditionedKernel k = model::VanLoanKernel(generator_->sde()).givenX0(generator_->timeEpsilon());
    auxMean_ = k.meanCoefficient(1);
    auxVariance_ = k.covariance(1, 1);
  }
}

TorsionMoveEngine::~TorsionMoveEngine() = default;

bool TorsionMoveEngine::attempt(OpenMM::ContextImpl& context, long long stepCount) {
  const model::FeatureSpec& spec = generator_->features();
  const int channels = generator_->sde().channels();
  model::Rng rng(model::streamSeed(seed_, 2 * std::uint64_t(stepCount)));
  std::normal_distribution<double> normal;
  std::uniform_real_distribution<double> uniform(0.0, 1.0);

  std::vector<OpenMM::Vec3> positions, velocities;
  context.getPositions(positions);
  context.getVelocities(velocities);
  Eigen::ArrayXXd features(1, 2);
  features(0, 0) = dihedralOf(positions, atoms_[0], atoms_[1], atoms_[2], atoms_[3]);
  features(0, 1) = dihedralOf(positions, atoms_[1], atoms_[2], atoms_[3], atoms_[4]);
  Eigen::ArrayXXd current(1, channels * 2);
  current.leftCols(2) = spec.toModel(features);
  auto logAux = [&](const Eigen::ArrayXXd& z) {
    double sum = 0.0;
    for (int d = 0; d < 2; ++d) {
      const double r = z(0, 2 + d) - auxMean_ * z(0, d);
      sum += -0.5 * r * r / auxVariance_ - 0.5 * std::log(2.0 * M_PI * auxVariance_);
    }
    return sum;
  };
  if (channels == 2)
    for (int d = 0; d < 2; ++d) current(0, 2 + d) = auxMean_ * current(0, d) + std::sqrt(auxVariance_) * normal(rng);

  const model::GeneratedSamples proposal =
      generator_->sampleWithLogDensity(1, model::streamSeed(seed_, 2 * std::uint64_t(stepCount) + 1), densitySteps_);
  // Outside the chart [cut, cut + 2 pi): zero target density there.
  for (int d = 0; d < 2; ++d) {
    if (!spec.periodic[d]) continue;
    const double unwrapped = spec.mean(d) + spec.stddev(d) * proposal.z(0, d);
    if (!(unwrapped >= spec.branchCutsRad[d] && unwrapped < spec.branchCutsRad[d] + 2.0 * M_PI)) return false;
  }
  const double logQCurrent = generator_->logDensityOfStates(current, densitySteps_)(0);
  const double logQProposal = proposal.logDensity(0);

  const double energyBefore = potentialEnergy(context);
  std::vector<OpenMM::Vec3> newPositions = positions, newVelocities = velocities;
  setDihedral(newPositions, newVelocities, phiFragment_, {atoms_[0], atoms_[1], atoms_[2], atoms_[3]},
              proposal.features(0, 0));
  setDihedral(newPositions, newVelocities, psiFragment_, {atoms_[1], atoms_[2], atoms_[3], atoms_[4]},
              proposal.features(0, 1));
  context.setPositions(newPositions);
  const double energyAfter = potentialEnergy(context);
  const double kT = kMolarGasConstantKjPerMolK * context.getParameter(GenerativeMonteCarloMove::Temperature());
  double logAcceptance = -(energyAfter - energyBefore) / kT;
  if (!omitProposalDensity_) logAcceptance += logQCurrent - logQProposal;
  if (channels == 2) logAcceptance += logAux(proposal.z) - logAux(current);
  if (std::isfinite(energyAfter) && std::log(uniform(rng)) < logAcceptance) {
    context.setVelocities(newVelocities);
    return true;
  }
  context.setPositions(positions);
  return false;
}

}  // namespace activediff::plugin
