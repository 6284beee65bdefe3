#pragma once
// The likelihood of x alone under a two-channel model (active, CLD), whose
// probability-flow density is joint in (x, aux) (log_density.h), and a
// likelihood comparable across processes.
//
// K-sample importance weighting (Burda et al. 2016's estimator): with the
// proposal r(aux | x) = the forward law of aux at t given x_0 = x,
// N(m_a / m_x * x, C_aa) per dimension from VanLoanKernel::givenX0(t),
//   p_hat(x) = 1/K sum_k p_t(x, aux_k) / r(aux_k | x),  aux_k ~ r,
// unbiased for p_t(x); log p_hat is a lower bound on log p_t(x) whose gap
// shrinks like Var(w) / (2 K E[w]^2) (the old one-draw bound with aux from its
// START law had a Jensen gap of 0.063 nats/dim for CLD, where Var v at t_eps
// is 0.0176 against the start law's 0.01). Reported per row: the estimate,
// the effective sample size (sum w)^2 / sum w^2 and the delta-method standard
// error sd(w) / (sqrt(K) mean(w)) of log p_hat. One channel: the exact density.
//
// Comparable across processes: at the same t_eps the processes' x-kernels
// differ ~25x in width (passive sd sqrt(2 T_p t), active ~ t^(3/2)), so
// log p_eps(x) of two processes estimates two different smoothings of the
// data. Since x_t = m_x x_0 + noise of variance C_xx, x_t / m_x is the data
// convolved with N(0, C_xx / m_x^2): at the time t* where C_xx / m_x^2 equals
// a common sigma^2 (evaluationTimeForXSd), every process's
//   log p_t*(m_x x) + D log m_x
// estimates the same target, log (data * N(0, sigma^2))(x)
// (comparableLogDensity).
#include <Eigen/Core>
#include <cstdint>

#include "activediff/model/log_density.h"
#include "activediff/model/score_model.h"
#include "activediff/model/van_loan_kernel.h"

namespace activediff::model {

// The common x-kernel sd of the comparable likelihood, in standardized units:
// above the widest x-kernel at t_eps = 1e-3 of the shipped and tested
// processes (passive, T_p = 1: sqrt(2e-3) = 0.0447; the shipped T_p = 0.667:
// 0.0365; active and CLD are far narrower there), so that t* >= t_eps for all.
inline constexpr double kComparableXKernelSd = 0.05;

// The time in [tMin, tMax] at which the x-kernel's sd relative to its mean
// coefficient, sqrt(C_xx(t)) / m_x(t) from givenX0(t), equals xSd (bisection;
// it grows with t). Throws activediff::Error when xSd is outside its range on
// [tMin, tMax].
double evaluationTimeForXSd(const VanLoanKernel& kernel, double xSd, double tMin, double tMax);

struct MarginalLikelihoodOptions {
  int samples = 32;           // K, draws of aux per row (ignored for one channel)
  std::uint64_t seed = 20261201;
  LogDensityOptions flow;     // RK4 steps and grid; flow.tEps = the evaluation time
};

struct MarginalLogDensity {
  Eigen::ArrayXd logDensity;            // log p_hat_t(x), model space, one per row
  Eigen::ArrayXd effectiveSampleSize;   // K for one channel
  Eigen::ArrayXd standardError;         // of logDensity; 0 for one channel
  int samples = 1;
  double evaluationTime = 0.0;
  long scoreCalls = 0;
};

// log p_t(x) at t = options.flow.tEps; x: n x D model-space features
// (FeatureSpec::toModel).
MarginalLogDensity marginalLogDensity(ScoreModel& model, const VanLoanKernel& kernel, const GaussianPrior& prior,
                                      const Eigen::ArrayXXd& x, const MarginalLikelihoodOptions& options);

// log (data * N(0, xSd^2))(x) under the model: at t* = evaluationTimeForXSd
// (from options.flow.tEps, the lowest time the model was trained for, to the
// prior's end time), log p_t*(m_x x) + D log m_x.
MarginalLogDensity comparableLogDensity(ScoreModel& model, const VanLoanKernel& kernel, const GaussianPrior& prior,
                                        const Eigen::ArrayXXd& x, double xSd, MarginalLikelihoodOptions options);

}  // namespace activediff::model
