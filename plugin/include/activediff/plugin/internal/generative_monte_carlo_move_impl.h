#pragma once
// The ForceImpl of GenerativeMonteCarloMove: zero energy; in
// updateContextState, one attempt before every step whose index (the step
// count so far) is a multiple of the interval, 0 included (the step count, not a counter of its own, so a
// checkpointed and resumed simulation attempts at the same steps).
#include <openmm/Kernel.h>
#include <openmm/internal/ForceImpl.h>

#include "activediff/plugin/generative_monte_carlo_move.h"

namespace activediff::plugin {

class GenerativeMonteCarloMoveImpl : public OpenMM::ForceImpl {
 public:
  explicit GenerativeMonteCarloMoveImpl(const GenerativeMonteCarloMove& owner) : owner_(owner) {}
  void initialize(OpenMM::ContextImpl& context) override;
  const GenerativeMonteCarloMove& getOwner() const override { return owner_; }
  void updateContextState(OpenMM::ContextImpl& context, bool& forcesInvalid) override;
  double calcForcesAndEnergy(OpenMM::ContextImpl&, bool, bool, int) override { return 0.0; }
  std::map<std::string, double> getDefaultParameters() override;
  std::vector<std::string> getKernelNames() override;

 private:
  const GenerativeMonteCarloMove& owner_;
  OpenMM::Kernel kernel_;
  long long lastAttemptStep_ = -1;
};

}  // namespace activediff::plugin
