#pragma once
// Samplers of the reverse process (MATH.md 4) over any ScoreModel:
//   EulerMaruyama  reverse SDE dz = [A z - Q s] dt + G dW_bar, N steps on the grid
//   Heun           probability-flow ODE dz/dt = A z - Q s / 2, 2nd order, N steps
//   Rk45           probability-flow ODE, adaptive Dormand-Prince 5(4), tolerances
//   Sscs           symmetric splitting: exact Gaussian half-step of the linear
//                  part, one Euler step of the score part, exact half-step
//   Deis           exponential integrator of the probability-flow ODE (Zhang &
//                  Chen 2022, "tAB-DEIS"), multistep, one score call per step
//   GaussianSscs   ("gsscs") SSCS split around DEIS's Gaussian reference instead
//                  of the stationary law; one score call per step
//   StochasticDeis ("sdeis") DEIS's multistep residual on GSSCS's linear SDE:
//                  the stochastic member lambda of the family, one call a step
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
// DEIS. Write the flow as dz/dt = A~_t z + (1/2) Q W_t^{-1} rho(z, t), with
// A~_t = A + (1/2) Q P_t, the residual r = s + P_t z and its per-channel
// whitening rho_c = -sqrt(v_c(t)) r_c, v_c the conditional variances of the
// kernel given x_0 (training_targets.h; for P = 0, -rho is a network's own
// whitened output). Over a step t_i -> t_{i-1} the linear part is exact,
//   z_{i-1} = Phi(t_{i-1}, t_i) z_i
//             - int_{t_{i-1}}^{t_i} Phi(t_{i-1}, tau) (1/2) Q W_tau^{-1} rho(tau) dtau,
// Phi the transition of dz/dt = A~_t z, and rho is the Lagrange polynomial, in
// u = sqrt(t), through its values at the last `order` grid points (t_i,
// t_{i+1}, ...; fewer on the first steps). The 2x2 coefficient of each value
// is a Gauss-Legendre sum in u (24 nodes a step; dtau = 2 u du removes the
// 1/sqrt(tau) of W^{-1}) with the kernel evaluated at every node, and Phi is
// integrated alongside by RK4 in u; computed once per grid (a few ms).
// Default P_t = C_t^{-1}, C_t the marginal covariance of Gaussian data of
// variance deisReferenceVariance (1: standardized data): A~_t is then that
// Gaussian's probability flow and the sampler is exact for such data. Plain
// DEIS (P = 0) diverges for two-channel processes at 20 steps: the score's
// Gaussian feedback is as stiff as A and would be extrapolated explicitly
// (docs/departures.md, BENCHMARKS.md "samplers at few calls").
// The last step lands on t_eps without a score call there: N steps, N calls.
//
// Stochastic DEIS. The family member lambda (stochasticity),
//   dz = [A z - w Q s] dt + lambda G dW_bar, w = (1 + lambda^2) / 2,
// with s = -P_t z + r is the linear SDE dz = M_t z dt + lambda G dW_bar,
// M_t = A + w Q P_t, plus the residual drift -w Q r. Over a step the linear SDE
// is exact (transition Phi of M, noise xi with Cov = int Phi lambda^2 Q Phi^T
// dtau) and the residual is DEIS's Lagrange polynomial in sqrt(t) through the
// last `order` values, integrated against Phi with the weight w:
//   z_{i-1} = Phi z_i - int Phi w Q W^{-1} rho dtau + xi.
// lambda = 0 is DEIS. Like the multistep SDE solvers of the literature
// (SA-Solver, DPM-Solver++ 2M SDE), the history values come from the noisy
// path, so the polynomial extrapolates the residual along it.
//
// Euler-Maruyama injects no noise on its last step (it ends on the mean).
//
// GSSCS. The reverse SDE dz = [A z - Q s] dt + G dW_bar with s = -P_t z + r
// (P_t DEIS's reference precision) splits into the linear SDE
// dz = M_t z dt + G dW_bar, M_t = A + Q P_t, solved exactly (transition and
// noise covariance by RK4 in sqrt(t)), and the residual part dz = -Q r dt,
// one Euler step with r at the step's midpoint: half linear step, residual
// step, half linear step. Exact for Gaussian data of the reference variance
// (r = 0). SSCS splits around the stationary law S_inf instead, whose residual
// is large at small t.
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

enum class SamplerKind { EulerMaruyama, Heun, Rk45, Sscs, Deis, GaussianSscs, StochasticDeis };
// "em", "heun", "rk45", "sscs", "deis", "gsscs", "sdeis"
std::string samplerName(SamplerKind kind);
SamplerKind parseSamplerKind(const std::string& name);  // throws activediff::Error

// Defaults: DEIS of order 3 on the grid dense near t_eps, the measured best
// at <= 20 network calls for passive, active (tau 0.5, 0.1) and CLD on the
// exact 9-peak mixture score (BENCHMARKS.md "samplers at few calls").
struct SamplerOptions {
  SamplerKind kind = SamplerKind::Deis;
  int steps = 20;                       // EM, Heun, SSCS, DEIS
  TimeGrid grid = TimeGrid::DenseNearEpsilon;  // EM, Heun, SSCS, DEIS
  int order = 3;                        // DEIS: polynomial order 1-3 (multistep)
  // DEIS linear part A~_t = A + Q P_t / 2 (see above): Gaussian (P_t the
  // precision of p_t for Gaussian data of variance deisReferenceVariance:
  // exact for such data), Stationary (P = S_inf^{-1}), Drift (P = 0, plain DEIS).
  enum class DeisLinearPart { Gaussian, Stationary, Drift } deisLinearPart = DeisLinearPart::Gaussian;
  double deisReferenceVariance = 1.0;   // DEIS: standardized data have variance 1
  double tEps = kDefaultTimeEpsilon;    // samplers stop here
  double relativeTolerance = 1e-5;      // RK45
  double absoluteTolerance = 1e-5;      // RK45
  int maxSteps = 100000;                // RK45: more is an error
  bool tweedie = false;                 // denoise at tEps (needs every channel's score)
  // GSSCS and SDEIS: lambda in [0, 1] of the reverse-time family
  //   dz = [A z - (1 + lambda^2) / 2 Q s] dt + lambda G dW_bar
  // (every member has the marginals p_t): 1 the reverse SDE, 0 the
  // probability flow.
  double stochasticity = 1.0;
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
