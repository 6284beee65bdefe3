#pragma once
// Exact log-densities along the probability-flow ODE (MATH.md 4b):
//   log p_eps(z_eps) = log p_T(z_T) + integral_eps^T div_z f(z_t, t) dt,
//   f = A z - Q s / 2,  div_z f = D tr(A) - 1/2 sum_c Q_cc sum_d d s_c,d / d z_c,d,
// the divergence exact from the score model's Jacobian diagonal. Fixed-step
// classical RK4 on the augmented state (z, log p) over a grid dense near eps,
// t_i = (eps^(1/3) + (i/N) (T^(1/3) - eps^(1/3)))^3 by default. The density is
// joint in (x, aux); the x-marginal is not attempted.
#include <Eigen/Core>
#include <cstdint>

#include "activediff/model/score_model.h"
#include "activediff/model/time_grid.h"
#include "activediff/model/training_targets.h"
#include "activediff/model/van_loan_kernel.h"

namespace activediff::model {

struct LogDensityOptions {
  int steps = 100;  // RK4 steps: 4 score-and-Jacobian calls each
  TimeGrid grid = TimeGrid::DenseNearEpsilon;
  double tEps = kDefaultTimeEpsilon;
};

struct DensityResult {
  Eigen::ArrayXXd z;          // sample(): the points at tEps; evaluate(): their images at T
  Eigen::ArrayXd logDensity;  // log p_eps at the points at tEps, one per row
  long scoreCalls = 0;
};

class ProbabilityFlowDensity {
 public:
  ProbabilityFlowDensity(VanLoanKernel kernel, GaussianPrior prior, LogDensityOptions options);
  // Draws n prior points and integrates them back to tEps with their log-density
  // (the generator and its q for an independence Metropolis-Hastings proposal).
  DensityResult sample(ScoreModel& model, int n, int dims, std::uint64_t seed) const;
  // log p_eps at given points zEps (layout.h): integrates forwards to T and
  // adds the prior's log-density.
  DensityResult evaluate(ScoreModel& model, const Eigen::ArrayXXd& zEps) const;

 private:
  // RK4 from grid[from] to grid[to] (either direction) of dz/dt = f,
  // d ell/dt = -div f; returns the score calls.
  long integrate(ScoreModel& model, Eigen::ArrayXXd& z, Eigen::ArrayXd& ell, bool backwards) const;
  VanLoanKernel kernel_;
  GaussianPrior prior_;
  LogDensityOptions options_;
  std::vector<double> grid_;
};

}  // namespace activediff::model
