#pragma once
// Samplers of the reverse process (MATH.md 4) over any ScoreModel:
//   EulerMaruyama  reverse SDE dz = [A z - Q s] dt + G dW_bar, N steps on the grid
//   Heun           probability-flow ODE dz/dt = A z - Q s / 2, 2nd order, N steps
//   Rk45           probability-flow ODE, adaptive Dormand-Prince 5(4), tolerances
//   Sscs           symmetric splitting: exact Gaussian half-step of the linear
//                  part, one Euler step of the score part, exact half-step
// and optional Tweedie denoising at t_eps. Only channels with Q_cc > 0 are
// read from the score (all channels for Tweedie).
//
// SSCS split (in reverse time s = T - t): Q s = -Q S_inf^{-1} z + Q (s + S_inf^{-1} z).
// The first part with -A gives the linear SDE dz = B z ds + G dW,
// B = -A - Q S_inf^{-1} = S_inf A^T S_inf^{-1} (stable, stationary N(0, S_inf)),
// solved exactly by vanLoan(B, Q, h/2): its mean map and covariance depend only
// on the step size and are computed once per step size. The score part,
// dz = Q (s + S_inf^{-1} z) ds, vanishes for the stationary law, and takes one
// Euler step with the score at the step's midpoint: one score call per step.
//
// Reproducible: the same seed, options and score give the same samples.
#include <Eigen/Core>
#include <cstdint>
#include <string>

#include "activediff/model/score_model.h"
#include "activediff/model/time_grid.h"
#include "activediff/model/training_targets.h"
#include "activediff/model/van_loan_kernel.h"

namespace activediff::model {

enum class SamplerKind { EulerMaruyama, Heun, Rk45, Sscs };
std::string samplerName(SamplerKind kind);  // "em", "heun", "rk45", "sscs"
SamplerKind parseSamplerKind(const std::string& name);  // throws activediff::Error

struct SamplerOptions {
  SamplerKind kind = SamplerKind::EulerMaruyama;
  int steps = 1000;                     // EM, Heun, SSCS
  TimeGrid grid = TimeGrid::Uniform;    // EM, Heun, SSCS
  double tEps = kDefaultTimeEpsilon;    // samplers stop here
  double relativeTolerance = 1e-5;      // RK45
  double absoluteTolerance = 1e-5;      // RK45
  int maxSteps = 100000;                // RK45: more is an error
  bool tweedie = false;                 // denoise at tEps (needs every channel's score)
};

struct SampleResult {
  // n x (c * D) at tEps (layout.h). With Tweedie the x block holds E[x_0 | z_eps];
  // the aux block stays z_eps's.
  Eigen::ArrayXXd z;
  long scoreCalls = 0;
  int steps = 0;          // accepted steps
  int rejectedSteps = 0;  // RK45 only
};

class Sampler {
 public:
  // The prior fixes the start time T = prior.endTime(). Throws on bad options.
  Sampler(VanLoanKernel kernel, GaussianPrior prior, SamplerOptions options);
  const SamplerOptions& options() const { return options_; }

  // n samples of D dimensions from the prior, reversed to tEps (+ Tweedie).
  SampleResult sample(ScoreModel& model, int n, int dims, std::uint64_t seed) const;
  // Reverses given states z (layout.h) from tStart down to tEnd with this
  // sampler (grids span [tEnd, tStart]); no prior draw, no Tweedie.
  SampleResult reverse(ScoreModel& model, Eigen::ArrayXXd z, double tStart, double tEnd,
                       Rng& rng) const;
  // Tweedie (MATH.md 4): x <- [exp(A t)^{-1} (z + S_x0(t) s(z, t))]_x at t. One call.
  void denoise(ScoreModel& model, Eigen::ArrayXXd& z, double t) const;

 private:
  VanLoanKernel kernel_;
  GaussianPrior prior_;
  SamplerOptions options_;
};

}  // namespace activediff::model
