#include "activediff/model/van_loan_kernel.h"

#include <Eigen/Dense>
#include <cmath>
#include <sstream>

#include "activediff/featurize/error.h"
#include "channel_ops.h"

namespace activediff::model {
namespace {

constexpr double kLn2Pi = 1.8378770664093454836;

Eigen::Matrix2d symmetrized(const Eigen::Matrix2d& s) { return 0.5 * (s + s.transpose()); }

// Number of Taylor terms n whose remainder theta^(n+1) / (n+1)! stays below
// 1e-18 relative to the smallest entries of S(h), which are O(theta^2) times
// its largest (S_xx ~ h^3 when Q_xx = 0): theta^(n-1) / (n+1)! < 1e-18.
int taylorTerms(double theta) {
  int n = 2;
  double remainder = theta / 6.0;
  while (remainder >= 1e-18 && n < 30) {
    ++n;
    remainder *= theta / (n + 1);
  }
  return n;
}

}  // namespace

TransitionMoments vanLoan(const Eigen::Matrix2d& a, const Eigen::Matrix2d& q, double t) {
  if (!(t >= 0.0) || !std::isfinite(t)) {
    std::ostringstream m;
    m << "transition kernel: time t = " << t << " must be >= 0 and finite";
    throw Error(m.str());
  }
  TransitionMoments out{Eigen::Matrix2d::Identity(), Eigen::Matrix2d::Zero()};
  if (t == 0.0) return out;

  // h = t / 2^j with ||A||_1 h <= 0.5 (MATH.md 2).
  const double norm = a.cwiseAbs().colwise().sum().maxCoeff();
  int doublings = 0;
  double h = t;
  if (norm * t > 0.5) {
    doublings = std::max(0, static_cast<int>(std::ceil(std::log2(norm * t / 0.5))));
    h = std::ldexp(t, -doublings);
    while (norm * h > 0.5) {
      h *= 0.5;
      ++doublings;
    }
  }

  // Taylor series of E = exp(C h), C = [[-A, Q], [0, A^T]]. With
  // W_n = (A h)^n / n!, the blocks of C^n h^n / n! are
  // [[(-1)^n W_n, R_n], [0, W_n^T]], R_n = ((-1)^(n-1) W_(n-1) Q h + R_(n-1) A^T h) / n.
  const Eigen::Matrix2d ah = a * h;
  const Eigen::Matrix2d aht = ah.transpose();
  const Eigen::Matrix2d qh = q * h;
  Eigen::Matrix2d power = Eigen::Matrix2d::Identity();  // W_n
  Eigen::Matrix2d expAh = Eigen::Matrix2d::Identity();  // E22^T
  Eigen::Matrix2d r = Eigen::Matrix2d::Zero();          // R_n
  Eigen::Matrix2d e12 = Eigen::Matrix2d::Zero();        // E12
  double sign = 1.0;                                    // (-1)^(n-1)
  const int terms = taylorTerms(norm * h);
  for (int n = 1; n <= terms; ++n) {
    const double inv = 1.0 / n;
    r = (sign * inv) * (power * qh) + inv * (r * aht);
    power = (power * ah) * inv;
    expAh += power;
    e12 += r;
    sign = -sign;
  }
  Eigen::Matrix2d s = symmetrized(expAh * e12);
  Eigen::Matrix2d m = expAh;
  for (int j = 0; j < doublings; ++j) {
    s = symmetrized(s + m * s * m.transpose());
    m = m * m;
  }
  out.transition = m;
  out.covariance = s;
  return out;
}

Eigen::Matrix2d solveLyapunov(const Eigen::Matrix2d& a, const Eigen::Matrix2d& q,
                              int channels) {
  Eigen::Matrix2d s = Eigen::Matrix2d::Zero();
  if (channels == 1) {
    if (!(a(0, 0) < 0.0)) throw Error("Lyapunov equation: drift A is not stable");
    s(0, 0) = -q(0, 0) / (2.0 * a(0, 0));
    return s;
  }
  if (!(a.trace() < 0.0 && a.determinant() > 0.0))
    throw Error("Lyapunov equation: drift A is not stable");
  // Unknowns (s11, s12, s22) of the symmetric S.
  Eigen::Matrix3d m;
  m << 2 * a(0, 0), 2 * a(0, 1), 0,                 //
      a(1, 0), a(0, 0) + a(1, 1), a(0, 1),         //
      0, 2 * a(1, 0), 2 * a(1, 1);
  const Eigen::Vector3d rhs(-q(0, 0), -q(0, 1), -q(1, 1));
  const Eigen::Vector3d x = m.fullPivLu().solve(rhs);
  s << x(0), x(1), x(1), x(2);
  return s;
}

GaussianPrior::GaussianPrior(const Eigen::Matrix2d& covariance, int channels, double endTime)
    : covariance_(covariance), channels_(channels), endTime_(endTime) {
  cholesky_ = detail::choleskyLower(covariance, channels);
  precision_ = detail::inverseOnChannels(covariance, channels);
  logNormalizer_ = -0.5 * (channels * kLn2Pi + detail::logDetOnChannels(covariance, channels));
}

Eigen::ArrayXXd GaussianPrior::sample(int n, int dims, Rng& rng) const {
  Eigen::ArrayXXd noise(n, channels_ * dims);
  detail::fillStandardNormal(noise, rng);
  Eigen::ArrayXXd z;
  detail::applyBlock(cholesky_, noise, channels_, dims, z);
  return z;
}

Eigen::ArrayXd GaussianPrior::logDensity(const Eigen::ArrayXXd& z) const {
  const int dims = static_cast<int>(z.cols()) / channels_;
  Eigen::ArrayXXd pz;
  detail::applyBlock(precision_, z, channels_, dims, pz);
  return dims * logNormalizer_ - 0.5 * (z * pz).rowwise().sum();
}

VanLoanKernel::VanLoanKernel(LinearSde sde) : sde_(std::move(sde)) {
  stationary_ = solveLyapunov(sde_.drift(), sde_.diffusion(), sde_.channels());
}

TransitionMoments VanLoanKernel::moments(double t) const {
  TransitionMoments m = vanLoan(sde_.drift(), sde_.diffusion(), t);
  if (sde_.channels() == 1) m.transition(1, 1) = 0.0;  // padding stays zero
  return m;
}

Eigen::Matrix2d VanLoanKernel::marginalCovariance(const TransitionMoments& m, double x0Variance,
                                                  double auxStartVariance) {
  const Eigen::Matrix2d& e = m.transition;
  // e diag(vx, va) e^T, written out so that no cancellation enters.
  Eigen::Matrix2d start;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j)
      start(i, j) = e(i, 0) * e(j, 0) * x0Variance + e(i, 1) * e(j, 1) * auxStartVariance;
  return m.covariance + start;
}

Eigen::Matrix2d VanLoanKernel::marginalCovariance(double t, double x0Variance) const {
  return marginalCovariance(moments(t), x0Variance, sde_.auxStartVariance());
}

DataConditionedKernel VanLoanKernel::givenX0(double t) const {
  const TransitionMoments m = moments(t);
  return {m.transition.col(0), marginalCovariance(m, 0.0, sde_.auxStartVariance())};
}

GaussianPrior VanLoanKernel::prior(double endTime, double dataVariance) const {
  checkEndTime(sde_, endTime);
  if (!(dataVariance >= 0.0) || !std::isfinite(dataVariance)) {
    std::ostringstream m;
    m << "prior: data variance " << dataVariance << " must be >= 0 and finite";
    throw Error(m.str());
  }
  return GaussianPrior(marginalCovariance(endTime, dataVariance), channels(), endTime);
}

double transitionNorm(const LinearSde& sde, double t) {
  const Eigen::Matrix2d m = vanLoan(sde.drift(), Eigen::Matrix2d::Zero(), t).transition;
  if (sde.channels() == 1) return std::abs(m(0, 0));
  // Largest singular value of a 2x2 matrix, from the eigenvalues of M^T M.
  const Eigen::Matrix2d b = m.transpose() * m;
  const double half = 0.5 * b.trace();
  return std::sqrt(half + std::sqrt(std::max(half * half - b.determinant(), 0.0)));
}

double chooseEndTime(const LinearSde& sde, double tolerance) {
  if (!(tolerance > 0.0 && tolerance < 1.0))
    throw Error("end-time rule: tolerance must lie in (0, 1)");
  double hi = 0.125;
  while (transitionNorm(sde, hi) >= tolerance) {
    hi *= 2.0;
    if (hi > 1e7) throw Error(sde.describe() + ": the process never forgets its start");
  }
  double lo = 0.0;
  for (int i = 0; i < 60; ++i) {
    const double mid = 0.5 * (lo + hi);
    (transitionNorm(sde, mid) < tolerance ? hi : lo) = mid;
  }
  double chosen = std::ceil(hi / 0.05) * 0.05;
  // ||exp(A t)|| may wiggle for a non-normal A; never return a T that fails.
  while (transitionNorm(sde, chosen) >= tolerance) chosen += 0.05;
  return chosen;
}

void checkEndTime(const LinearSde& sde, double endTime, double tolerance) {
  if (!(endTime > 0.0) || !std::isfinite(endTime)) {
    std::ostringstream m;
    m << "end_time = " << endTime << " must be > 0 and finite";
    throw Error(m.str());
  }
  const double norm = transitionNorm(sde, endTime);
  if (norm < tolerance) return;
  std::ostringstream m;
  m << "end_time = " << endTime << " is too short for " << sde.describe()
    << ": ||exp(A T)|| = " << norm << " >= " << tolerance
    << ", the prior would still remember the data; use end_time >= "
    << chooseEndTime(sde, tolerance);
  throw Error(m.str());
}

}  // namespace activediff::model
