#pragma once
// Exact Gaussian transition kernels of a LinearSde (MATH.md 2), the
// stationary covariance, the prior at the end time and the rule for choosing
// the end time. All float64.
//
// Van Loan (1978): S(t) = integral_0^t exp(A s) Q exp(A^T s) ds is read off
// ONE matrix exponential E = exp(C h), C = [[-A, Q], [0, A^T]], as
// S(h) = E22^T E12, exp(A h) = E22^T. E is evaluated at h = t / 2^j with
// ||A||_1 h <= 0.5 by its Taylor series (blockwise: the lower-left block of C
// is zero, so only E22 and E12 are formed), then doubled exactly,
// S(2h) = S(h) + M S(h) M^T, M(2h) = M(h)^2: sums of positive semi-definite
// terms, no cancellation, so S stays positive definite even at stiff
// ||A|| t (tau = 0.1, t = 7). No closed form is used anywhere (it is singular
// at k tau = 1 and cancels at small t).
//
// Cost: about 0.2 microseconds per t on one core (bench/model_bench: ~0.1 ms
// for the 512 per-sample kernels of a training batch), so the trainer
// evaluates the exact kernel per sample; no tabulation is needed.
#include <Eigen/Core>

#include "activediff/model/layout.h"
#include "activediff/model/linear_sde.h"

namespace activediff::model {

// z_t | z_0 ~ N(transition z_0, covariance): exp(A t) and S(t).
struct TransitionMoments {
  Eigen::Matrix2d transition;
  Eigen::Matrix2d covariance;
};

// Van Loan for any 2x2 block, t >= 0; S symmetrized. (For a zero-padded
// one-channel block the padded diagonal entry of exp(A t) is exp(0) = 1;
// VanLoanKernel::moments zeroes it.)
TransitionMoments vanLoan(const Eigen::Matrix2d& a, const Eigen::Matrix2d& q, double t);

// The x0-only kernel (MATH.md 2, "HSM"): the auxiliary start is marginalized,
//   z_t | x_0 ~ N(meanCoefficient * x_0, covariance),
// meanCoefficient = exp(A t) (1, 0)^T, covariance = S(t) + exp(A t) S0 exp(A^T t),
// S0 = diag(0, Var aux0). The same for every feature dimension.
struct DataConditionedKernel {
  Eigen::Vector2d meanCoefficient;
  Eigen::Matrix2d covariance;
};

// N(0, covariance) on every feature dimension independently, at `endTime`.
class GaussianPrior {
 public:
  GaussianPrior(const Eigen::Matrix2d& covariance, int channels, double endTime);
  int channels() const { return channels_; }
  double endTime() const { return endTime_; }
  const Eigen::Matrix2d& covariance() const { return covariance_; }
  // n x (channels * dims), the layout of layout.h.
  Eigen::ArrayXXd sample(int n, int dims, Rng& rng) const;
  // Joint log-density over all channels and dimensions, one per row.
  Eigen::ArrayXd logDensity(const Eigen::ArrayXXd& z) const;

 private:
  Eigen::Matrix2d covariance_;
  Eigen::Matrix2d cholesky_;
  Eigen::Matrix2d precision_;
  double logNormalizer_;  // per dimension: -0.5 log det(2 pi covariance)
  int channels_;
  double endTime_;
};

class VanLoanKernel {
 public:
  // Throws activediff::Error if A is not stable (no stationary law).
  explicit VanLoanKernel(LinearSde sde);
  const LinearSde& sde() const { return sde_; }
  int channels() const { return sde_.channels(); }

  // exp(A t) and S(t): the kernel given the full start z_0 (padding zero).
  TransitionMoments moments(double t) const;
  // The kernel given x_0 alone (aux start marginalized). Training uses this.
  DataConditionedKernel givenX0(double t) const;
  // Covariance of z_t when x_0 has variance x0Variance (per dimension) and
  // aux_0 its start law: S(t) + exp(A t) diag(x0Variance, Var aux0) exp(A^T t).
  // x0Variance = 0 gives givenX0(t).covariance; at the end time with the data
  // variance it is the prior's covariance. The one definition of both.
  Eigen::Matrix2d marginalCovariance(double t, double x0Variance) const;
  static Eigen::Matrix2d marginalCovariance(const TransitionMoments& m, double x0Variance,
                                            double auxStartVariance);
  // S_inf with A S_inf + S_inf A^T + Q = 0.
  const Eigen::Matrix2d& stationaryCovariance() const { return stationary_; }
  // Prior at the end time: N(0, S(T) + exp(A T) diag(dataVariance, Var aux0) exp(A^T T)),
  // i.e. S_inf plus the data term, written as the exact second moment of z_T
  // for zero-mean data of variance dataVariance per dimension (1 after
  // standardization). Throws if endTime is too short (checkEndTime).
  GaussianPrior prior(double endTime, double dataVariance = 1.0) const;

 private:
  LinearSde sde_;
  Eigen::Matrix2d stationary_;
};

// Solves A S + S A^T + Q = 0 on the first `channels` channels (padding stays 0).
Eigen::Matrix2d solveLyapunov(const Eigen::Matrix2d& a, const Eigen::Matrix2d& q, int channels);

// ||exp(A t)||_2, the forgetting of the start.
double transitionNorm(const LinearSde& sde, double t);

// The end-time rule: the smallest T with ||exp(A T)||_2 < tolerance, rounded
// up to a multiple of 0.05. Values: passive(k=1) -> 6.95 (ln 1000 = 6.91),
// active(k=1, tau=0.5) -> 7.30, active(k=1, tau=1) -> 9.15 (Jordan block,
// t e^{-t}), active(k=1, tau=0.1) -> 6.95, cld(beta=4, M=0.25) -> 1.30.
inline constexpr double kDefaultPriorTolerance = 1e-3;
double chooseEndTime(const LinearSde& sde, double tolerance = kDefaultPriorTolerance);
// Throws activediff::Error naming end_time, ||exp(A T)|| and the shortest
// acceptable T when ||exp(A endTime)||_2 >= tolerance.
void checkEndTime(const LinearSde& sde, double endTime,
                  double tolerance = kDefaultPriorTolerance);

}  // namespace activediff::model
