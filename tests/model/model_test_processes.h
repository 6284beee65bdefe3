#pragma once
// The processes every model test runs on: the seed paper's settings with the
// stationary Var(x) = 1 (Ta = k (1 + k tau)), the Jordan case k tau = 1, a
// small passive noise, the stiff tau = 0.1, and CLD with Dockhorn et al.'s values.
#include <string>
#include <vector>

#include "activediff/model/linear_sde.h"

namespace activediff::model::testing {

struct NamedProcess {
  std::string name;
  LinearSde sde;
};

inline std::vector<NamedProcess> processesUnderTest() {
  return {
      {"passive", LinearSde::passive(1.0, 1.0)},
      {"active_tau0.5", LinearSde::active(1.0, 0.5, 1.5, 0.0)},
      {"active_ktau1", LinearSde::active(1.0, 1.0, 2.0, 0.0)},
      {"active_Tp0.1", LinearSde::active(1.0, 0.5, 1.5, 0.1)},
      {"active_tau0.1", LinearSde::active(1.0, 0.1, 1.1, 0.0)},
      {"cld", LinearSde::cld(4.0, 0.25, 0.04)},
  };
}

// The three processes of the sampler and likelihood acceptance tests.
inline std::vector<NamedProcess> acceptanceProcesses() {
  return {
      {"passive", LinearSde::passive(1.0, 1.0)},
      {"active", LinearSde::active(1.0, 0.5, 1.5, 0.0)},
      {"cld", LinearSde::cld(4.0, 0.25, 0.04)},
  };
}

}  // namespace activediff::model::testing
