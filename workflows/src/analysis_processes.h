#pragma once
// The processes of the forward-process analyses (fisher-memory, speciation;
// MATH.md 6): passive and active over a range of tau, all with the same k and
// the same stationary Var(x) = V, so that they differ only in how the noise
// is correlated in time (the fair comparison of MATH.md 1):
//   passive        T  = k V
//   active(tau)    Ta = (1 + k tau) (k V - Tp),  Tp as given (default 0)
// V = 2/3 with k = 1 gives examples/configs/2d-active.toml (tau 0.5, Ta 1)
// and its baseline 2d-passive.toml (T = 0.667).
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "activediff/featurize/error.h"
#include "activediff/model/linear_sde.h"
#include "option_checks.h"

namespace activediff::cli {

struct AnalysisProcesses {
  double k = 1.0;
  double variance = 1.0;  // stationary Var(x) of every process
  double passiveTemperature = 0.0;  // Tp of the active processes
  std::vector<double> taus = {0.1, 0.25, 0.5, 1.0, 2.0};

  void addOptions(CLI::App* sub) {
    sub->add_option("--k", k, "restoring rate k of every process")->capture_default_str()->check(finitePositive());
    sub->add_option("--variance", variance,
                    "stationary Var(x) V of every process: passive T = k V, active Ta = (1 + k tau) (k V - Tp) "
                    "(V = 0.667 with k = 1 gives examples/configs/2d-active.toml and 2d-passive.toml)")
        ->capture_default_str()
        ->check(finitePositive());
    sub->add_option("--tp", passiveTemperature, "passive temperature Tp of the active processes (0: noise only through eta)")
        ->capture_default_str()
        ->check(finiteNonNegative());
    sub->add_option("--tau", taus, "correlation times tau of the active processes (comma-separated)")
        ->delimiter(',')
        ->capture_default_str()
        ->check(finitePositive());
  }
  void validate() const {
    if (taus.empty()) throw Error("--tau: give at least one correlation time");
    if (!(k * variance > passiveTemperature))
      throw Error(fmt::format("--tp {} must be below k V = {}: the active noise Ta = (1 + k tau) (k V - Tp) "
                              "must be positive", passiveTemperature, k * variance));
  }
  model::LinearSde passive() const { return model::LinearSde::passive(k, k * variance); }
  model::LinearSde active(double tau) const {
    return model::LinearSde::active(k, tau, (1.0 + k * tau) * (k * variance - passiveTemperature), passiveTemperature);
  }
  nlohmann::json toJson() const {
    return {{"k", k},
            {"stationary_variance", variance},
            {"tp", passiveTemperature},
            {"taus", taus},
            {"rule", "same k and stationary Var(x) = V for every process: passive T = k V, active Ta = (1 + k tau) "
                     "(k V - Tp)"}};
  }
};

inline nlohmann::json sdeJson(const model::LinearSde& sde) {
  const model::LinearSdeParameters& p = sde.parameters();
  if (sde.kind() == model::ProcessKind::Passive)
    return {{"kind", "passive"}, {"describe", sde.describe()}, {"k", p.k}, {"temperature", p.temperature}};
  return {{"kind", "active"},
          {"describe", sde.describe()},
          {"k", p.k},
          {"tau", p.tau},
          {"active_temperature", p.activeTemperature},
          {"passive_temperature", p.passiveTemperature}};
}

}  // namespace activediff::cli
