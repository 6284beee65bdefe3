#pragma once
// The kernel behind GenerativeMonteCarloMove (openmm-torch's shape): the
// ForceImpl asks the platform for it by Name(); the plugin library registers
// an implementation for the Reference and CPU platforms.
#include <openmm/KernelImpl.h>
#include <openmm/System.h>
#include <openmm/internal/ContextImpl.h>

#include <string>

#include "activediff/plugin/generative_monte_carlo_move.h"

namespace activediff::plugin {

class ApplyGenerativeMoveKernel : public OpenMM::KernelImpl {
 public:
  static std::string Name() { return "ApplyActivediffGenerativeMove"; }
  ApplyGenerativeMoveKernel(std::string name, const OpenMM::Platform& platform) : KernelImpl(name, platform) {}
  // Loads the model and checks it against the System (throws OpenMMException).
  virtual void initialize(const OpenMM::System& system, const GenerativeMonteCarloMove& move) = 0;
  // One attempted move at this step count; true if accepted (positions and
  // velocities changed), false if the Context is as it was.
  virtual bool attempt(OpenMM::ContextImpl& context, long long stepCount) = 0;
};

}  // namespace activediff::plugin
