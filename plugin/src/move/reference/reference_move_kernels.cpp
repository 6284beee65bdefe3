// The plugin library (in activediff-openmm-plugins/): the kernel of
// GenerativeMonteCarloMove for the Reference and CPU platforms, registered
// through registerKernelFactories when Platform::loadPluginsFromDirectory
// loads it. Load OpenMM's own plugin directory first: CPU is itself a plugin,
// and only platforms registered before this runs get the kernel.
#include <openmm/KernelFactory.h>
#include <openmm/OpenMMException.h>
#include <openmm/Platform.h>

#include <memory>

#include "activediff/plugin/generative_move_kernels.h"
#include "generative_move_engine.h"

namespace activediff::plugin {
namespace {

class GenerativeMoveKernel : public ApplyGenerativeMoveKernel {
 public:
  GenerativeMoveKernel(std::string name, const OpenMM::Platform& platform)
      : ApplyGenerativeMoveKernel(std::move(name), platform) {}
  void initialize(const OpenMM::System& system, const GenerativeMonteCarloMove& move) override {
    engine_ = std::make_unique<GenerativeMoveEngine>(system, move);
  }
  bool attempt(OpenMM::ContextImpl& context, long long stepCount) override {
    return engine_->attempt(context, stepCount);
  }

 private:
  std::unique_ptr<GenerativeMoveEngine> engine_;
};

class GenerativeMoveKernelFactory : public OpenMM::KernelFactory {
 public:
  OpenMM::KernelImpl* createKernelImpl(std::string name, const OpenMM::Platform& platform,
                                       OpenMM::ContextImpl&) const override {
    if (name == ApplyGenerativeMoveKernel::Name()) return new GenerativeMoveKernel(name, platform);
    throw OpenMM::OpenMMException("activediff plugin: no kernel named " + name);
  }
};

}  // namespace
}  // namespace activediff::plugin

extern "C" __attribute__((visibility("default"))) void registerKernelFactories() {
  for (int i = 0; i < OpenMM::Platform::getNumPlatforms(); ++i) {
    OpenMM::Platform& platform = OpenMM::Platform::getPlatform(i);
    if (platform.getName() == "Reference" || platform.getName() == "CPU")
      platform.registerKernelFactory(activediff::plugin::ApplyGenerativeMoveKernel::Name(),
                                     new activediff::plugin::GenerativeMoveKernelFactory());
  }
}
