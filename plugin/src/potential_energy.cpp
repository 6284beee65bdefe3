#include "activediff/plugin/potential_energy.h"

#include <OpenMM.h>

#include "activediff/featurize/error.h"
#include "activediff/plugin/openmm_setup.h"

namespace activediff::plugin {

std::map<std::string, std::string> platformProperties(const std::string& platform, int threads) {
  std::map<std::string, std::string> properties;
  if (platform == "CPU" && threads > 0) properties["Threads"] = std::to_string(threads);
  return properties;
}

struct PotentialEnergyEvaluator::Impl {
  std::unique_ptr<OpenMM::System> system;
  std::unique_ptr<OpenMM::VerletIntegrator> integrator;
  std::unique_ptr<OpenMM::Context> context;
  std::string platformName;
  std::vector<OpenMM::Vec3> positions;
};

PotentialEnergyEvaluator::PotentialEnergyEvaluator(std::unique_ptr<OpenMM::System> system,
                                                   const std::string& platform, int threads)
    : impl_(std::make_unique<Impl>()) {
  OpenMM::Platform& chosen = platformByName(platform);
  impl_->system = std::move(system);
  impl_->integrator = std::make_unique<OpenMM::VerletIntegrator>(0.001);
  impl_->context = std::make_unique<OpenMM::Context>(*impl_->system, *impl_->integrator, chosen,
                                                     platformProperties(platform, threads));
  impl_->platformName = chosen.getName();
  impl_->positions.resize(impl_->system->getNumParticles());
}

PotentialEnergyEvaluator::PotentialEnergyEvaluator(const std::filesystem::path& systemXml,
                                                   const std::string& platform, int threads)
    : PotentialEnergyEvaluator(loadSystemXml(systemXml), platform, threads) {}

PotentialEnergyEvaluator::~PotentialEnergyEvaluator() = default;

int PotentialEnergyEvaluator::particleCount() const { return impl_->system->getNumParticles(); }

const std::string& PotentialEnergyEvaluator::platformName() const { return impl_->platformName; }

double PotentialEnergyEvaluator::energyKjPerMol(const PositionsNm& positionsNm) {
  if (positionsNm.rows() != particleCount()) {
    throw Error("structure has " + std::to_string(positionsNm.rows()) + " atoms but the System has " +
                std::to_string(particleCount()) + " particles");
  }
  for (int i = 0; i < particleCount(); ++i) {
    impl_->positions[i] = OpenMM::Vec3(positionsNm(i, 0), positionsNm(i, 1), positionsNm(i, 2));
  }
  impl_->context->setPositions(impl_->positions);
  return impl_->context->getState(OpenMM::State::Energy).getPotentialEnergy();
}

}  // namespace activediff::plugin
