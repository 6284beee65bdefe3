// GenerativeMonteCarloMove and its ForceImpl (generative_monte_carlo_move.h).
#include "activediff/plugin/generative_monte_carlo_move.h"

#include <dlfcn.h>
#include <openmm/OpenMMException.h>
#include <openmm/System.h>
#include <openmm/internal/ContextImpl.h>

#include <cmath>
#include <filesystem>

#include "activediff/plugin/generative_move_kernels.h"
#include "activediff/plugin/internal/generative_monte_carlo_move_impl.h"

namespace activediff::plugin {

const std::string& GenerativeMonteCarloMove::Temperature() {
  static const std::string name = "ActivediffTemperature";
  return name;
}
const std::string& GenerativeMonteCarloMove::MovesAttempted() {
  static const std::string name = "ActivediffMovesAttempted";
  return name;
}
const std::string& GenerativeMonteCarloMove::MovesAccepted() {
  static const std::string name = "ActivediffMovesAccepted";
  return name;
}

GenerativeMonteCarloMove::GenerativeMonteCarloMove(std::string checkpointBytes, std::vector<int> featureAtoms,
                                                   int interval, double defaultTemperatureK, std::uint32_t seed)
    : checkpoint_(std::move(checkpointBytes)), featureAtoms_(std::move(featureAtoms)), interval_(1),
      temperatureK_(300.0), seed_(seed) {
  if (checkpoint_.empty()) throw OpenMM::OpenMMException("GenerativeMonteCarloMove: the checkpoint is empty");
  if (featureAtoms_.empty()) throw OpenMM::OpenMMException("GenerativeMonteCarloMove: no feature atoms given");
  for (int a : featureAtoms_)
    if (a < 0) throw OpenMM::OpenMMException("GenerativeMonteCarloMove: feature atom indices must be >= 0");
  setInterval(interval);
  setDefaultTemperature(defaultTemperatureK);
}

void GenerativeMonteCarloMove::setInterval(int steps) {
  if (steps < 1)
    throw OpenMM::OpenMMException("GenerativeMonteCarloMove: the interval must be >= 1 step, not " +
                                  std::to_string(steps));
  interval_ = steps;
}

void GenerativeMonteCarloMove::setDefaultTemperature(double kelvin) {
  if (!(kelvin > 0.0) || !std::isfinite(kelvin))
    throw OpenMM::OpenMMException("GenerativeMonteCarloMove: the temperature must be > 0 K and finite");
  temperatureK_ = kelvin;
}

void GenerativeMonteCarloMove::setDensitySteps(int steps) {
  if (steps < 4 || steps > 100000)
    throw OpenMM::OpenMMException("GenerativeMonteCarloMove: density steps must be in [4, 100000], not " +
                                  std::to_string(steps));
  densitySteps_ = steps;
}

OpenMM::ForceImpl* GenerativeMonteCarloMove::createImpl() const { return new GenerativeMonteCarloMoveImpl(*this); }

std::string pluginDirectory() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&pluginDirectory), &info) == 0 || info.dli_fname == nullptr) return {};
  const std::filesystem::path dir =
      std::filesystem::path(info.dli_fname).parent_path() / "activediff-openmm-plugins";
  std::error_code ec;
  return std::filesystem::is_directory(dir, ec) ? std::filesystem::canonical(dir, ec).string() : std::string();
}

void GenerativeMonteCarloMoveImpl::initialize(OpenMM::ContextImpl& context) {
  const OpenMM::System& system = context.getSystem();
  if (system.usesPeriodicBoundaryConditions())
    throw OpenMM::OpenMMException(
        "GenerativeMonteCarloMove: the System is periodic; the move is for vacuum or implicit solvent "
        "(in explicit solvent, torsion moves clash with the water and acceptance vanishes)");
  kernel_ = context.getPlatform().createKernel(ApplyGenerativeMoveKernel::Name(), context);
  kernel_.getAs<ApplyGenerativeMoveKernel>().initialize(system, owner_);
}

void GenerativeMonteCarloMoveImpl::updateContextState(OpenMM::ContextImpl& context, bool& forcesInvalid) {
  const long long step = context.getStepCount();
  // Before every step whose index is a multiple of the interval (0 included):
  // N steps at interval k make N / k attempts when k divides N.
  if (step < 0 || step % owner_.getInterval() != 0 || step == lastAttemptStep_) return;
  lastAttemptStep_ = step;
  const bool accepted = kernel_.getAs<ApplyGenerativeMoveKernel>().attempt(context, step);
  context.setParameter(GenerativeMonteCarloMove::MovesAttempted(),
                       context.getParameter(GenerativeMonteCarloMove::MovesAttempted()) + 1.0);
  if (accepted)
    context.setParameter(GenerativeMonteCarloMove::MovesAccepted(),
                         context.getParameter(GenerativeMonteCarloMove::MovesAccepted()) + 1.0);
  // Also after a rejection: the attempt evaluated the proposed positions
  // before restoring the old ones, so forces an integrator kept from its last
  // step must not be trusted.
  forcesInvalid = true;
}

std::map<std::string, double> GenerativeMonteCarloMoveImpl::getDefaultParameters() {
  return {{GenerativeMonteCarloMove::Temperature(), owner_.getDefaultTemperature()},
          {GenerativeMonteCarloMove::MovesAttempted(), 0.0},
          {GenerativeMonteCarloMove::MovesAccepted(), 0.0}};
}

std::vector<std::string> GenerativeMonteCarloMoveImpl::getKernelNames() {
  return {ApplyGenerativeMoveKernel::Name()};
}

}  // namespace activediff::plugin
