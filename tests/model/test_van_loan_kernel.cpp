// Van Loan kernels against an independent high-accuracy integration of the
// Lyapunov ODE dS/dt = A S + S A^T + Q (and dM/dt = A M), the tau -> 0 limit,
// the stationary law, the prior and the end-time rule.
#include <gtest/gtest.h>

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>

#include "activediff/featurize/error.h"
#include "activediff/model/van_loan_kernel.h"
#include "model_test_processes.h"

namespace activediff::model {
namespace {

using testing::processesUnderTest;
using Mat2L = Eigen::Matrix<long double, 2, 2>;

// Classical RK4 in long double with ||A|| h <= 1e-3 (global error ~1e-13
// relative), integrating S and M together from 0 through the requested times.
std::vector<TransitionMoments> lyapunovReference(const LinearSde& sde,
                                                 const std::vector<double>& times) {
  const Mat2L a = sde.drift().cast<long double>();
  const Mat2L q = sde.diffusion().cast<long double>();
  const long double norm = a.cwiseAbs().colwise().sum().maxCoeff();
  auto rhsS = [&](const Mat2L& s) -> Mat2L { return a * s + s * a.transpose() + q; };
  Mat2L s = Mat2L::Zero(), m = Mat2L::Identity();
  long double t = 0;
  std::vector<TransitionMoments> out;
  for (double target : times) {
    const long double span = target - t;
    const long long steps = std::max<long long>(400, std::ceil(span * norm / 1e-3L));
    const long double h = span / steps;
    for (long long i = 0; i < steps; ++i) {
      const Mat2L k1 = rhsS(s), k2 = rhsS(s + 0.5L * h * k1), k3 = rhsS(s + 0.5L * h * k2),
                  k4 = rhsS(s + h * k3);
      s += (h / 6) * (k1 + 2 * k2 + 2 * k3 + k4);
      const Mat2L j1 = a * m, j2 = a * (m + 0.5L * h * j1), j3 = a * (m + 0.5L * h * j2),
                  j4 = a * (m + h * j3);
      m += (h / 6) * (j1 + 2 * j2 + 2 * j3 + j4);
    }
    t = target;
    out.push_back({m.cast<double>(), s.cast<double>()});
  }
  return out;
}

// Largest error entry by entry: relative on the diagonal, relative to
// sqrt(S_ii S_jj) off it (an off-diagonal may cross zero).
double covarianceError(const Eigen::Matrix2d& s, const Eigen::Matrix2d& ref, int channels) {
  double worst = 0.0;
  for (int i = 0; i < channels; ++i)
    for (int j = 0; j < channels; ++j)
      worst = std::max(worst, std::abs(s(i, j) - ref(i, j)) / std::sqrt(ref(i, i) * ref(j, j)));
  return worst;
}

const std::vector<double> kTimes = {1e-4, 3e-4, 1e-3, 1e-2, 0.1, 0.5, 1.0, 2.0, 7.0, 20.0};

TEST(VanLoanKernel, CovarianceMatchesLyapunovOdeTo1e10) {
  for (const auto& [name, sde] : processesUnderTest()) {
    const auto ref = lyapunovReference(sde, kTimes);
    const VanLoanKernel kernel(sde);
    for (std::size_t i = 0; i < kTimes.size(); ++i) {
      const TransitionMoments m = kernel.moments(kTimes[i]);
      EXPECT_LT(covarianceError(m.covariance, ref[i].covariance, sde.channels()), 1e-10)
          << name << " t = " << kTimes[i] << "\nS =\n"
          << m.covariance << "\nreference =\n"
          << ref[i].covariance;
      const int c = sde.channels();  // compare the channels, not the padding
      const Eigen::MatrixXd mt = m.transition.topLeftCorner(c, c);
      const Eigen::MatrixXd rt = ref[i].transition.topLeftCorner(c, c);
      EXPECT_LT((mt - rt).cwiseAbs().maxCoeff() / rt.cwiseAbs().maxCoeff(), 1e-10)
          << name << " t = " << kTimes[i];
      if (c == 1) EXPECT_EQ(m.transition(1, 1), 0.0);
      EXPECT_EQ(m.covariance(0, 1), m.covariance(1, 0));  // symmetrized
    }
  }
}

TEST(VanLoanKernel, StiffCaseTau01AtT7IsPositiveDefinite) {
  const LinearSde sde = LinearSde::active(1.0, 0.1, 1.1, 0.0);
  const TransitionMoments m = VanLoanKernel(sde).moments(7.0);
  const Eigen::Vector2d eig = Eigen::SelfAdjointEigenSolver<Eigen::Matrix2d>(m.covariance).eigenvalues();
  EXPECT_GT(eig.minCoeff(), 0.0);
  // Next to the stationary law by t = 7: S(t) = S_inf - M S_inf M^T.
  const Eigen::Matrix2d sInf = VanLoanKernel(sde).stationaryCovariance();
  EXPECT_LT(covarianceError(m.covariance, sInf - m.transition * sInf * m.transition.transpose(), 2),
            1e-12);
}

TEST(VanLoanKernel, JordanCaseKTauOneHasNoSingularity) {
  // k tau = 1: A is a Jordan block; exp(A t) = e^{-t} [[1, t], [0, 1]].
  const LinearSde sde = LinearSde::active(1.0, 1.0, 2.0, 0.0);
  for (double t : {1e-4, 0.3, 1.0, 5.0}) {
    const Eigen::Matrix2d m = VanLoanKernel(sde).moments(t).transition;
    EXPECT_NEAR(m(0, 0), std::exp(-t), 1e-15);
    EXPECT_NEAR(m(0, 1), t * std::exp(-t), 1e-15);
    EXPECT_EQ(m(1, 0), 0.0);
  }
}

TEST(VanLoanKernel, StationaryCovarianceSolvesLyapunov) {
  for (const auto& [name, sde] : processesUnderTest()) {
    const VanLoanKernel kernel(sde);
    const Eigen::Matrix2d s = kernel.stationaryCovariance();
    const Eigen::Matrix2d residual = sde.drift() * s + s * sde.drift().transpose() + sde.diffusion();
    EXPECT_LT(residual.cwiseAbs().maxCoeff(), 1e-12 * sde.diffusion().cwiseAbs().maxCoeff())
        << name;
    EXPECT_LT(covarianceError(kernel.moments(60.0).covariance, s, sde.channels()), 1e-12) << name;
  }
}

TEST(VanLoanKernel, GivenX0MarginalizesTheAuxStart) {
  const LinearSde sde = LinearSde::active(1.0, 0.5, 1.5, 0.0);
  const VanLoanKernel kernel(sde);
  const double t = 0.3;
  const TransitionMoments m = kernel.moments(t);
  const Eigen::Matrix2d s0 = Eigen::Vector2d(0.0, sde.auxStartVariance()).asDiagonal();
  const DataConditionedKernel k = kernel.givenX0(t);
  EXPECT_LT((k.covariance - (m.covariance + m.transition * s0 * m.transition.transpose()))
                .cwiseAbs()
                .maxCoeff(),
            1e-14);
  EXPECT_EQ(k.meanCoefficient, Eigen::Vector2d(m.transition.col(0)));
  // With eta0 stationary the eta marginal stays stationary: Var eta_t = Ta / tau.
  EXPECT_NEAR(k.covariance(1, 1), sde.auxStartVariance(), 1e-12);
}

TEST(VanLoanKernel, ActiveXKernelApproachesPassiveAtTeqAsTauVanishes) {
  // Fixed T_eq = Ta / (1 + k tau) = 1: the x-marginal of the x0-only kernel
  // tends to the passive kernel at T_eq; the gap shrinks like tau.
  const double k = 1.0;
  const VanLoanKernel passive(LinearSde::passive(k, 1.0));
  double previousGap = 1e300;
  for (double tau : {1e-1, 1e-2, 1e-3, 1e-4}) {
    const LinearSde active = LinearSde::active(k, tau, 1.0 + k * tau, 0.0);
    EXPECT_NEAR(LinearSde::passiveMatching(active).parameters().temperature, 1.0, 1e-15);
    const VanLoanKernel kernel(active);
    double gap = 0.0;
    for (double t : {0.05, 0.2, 1.0, 3.0, 8.0}) {
      const DataConditionedKernel a = kernel.givenX0(t);
      const DataConditionedKernel p = passive.givenX0(t);
      // Equal up to the rounding of 2^j squarings (j ~ 15 at tau = 1e-4).
      EXPECT_NEAR(a.meanCoefficient(0), p.meanCoefficient(0), 1e-11 * p.meanCoefficient(0));
      gap = std::max(gap, std::abs(a.covariance(0, 0) / p.covariance(0, 0) - 1.0));
    }
    EXPECT_LT(gap, 0.8 * previousGap) << "tau " << tau;
    EXPECT_LT(gap, 20.0 * tau) << "tau " << tau;
    previousGap = gap;
  }
  EXPECT_LT(previousGap, 2e-3);
}

TEST(VanLoanKernel, EndTimeRuleAndPrior) {
  for (const auto& [name, sde] : processesUnderTest()) {
    const double end = chooseEndTime(sde);
    EXPECT_LT(transitionNorm(sde, end), 1e-3) << name;
    EXPECT_GE(transitionNorm(sde, end - 0.05), 1e-3) << name;
    EXPECT_NO_THROW(checkEndTime(sde, end));
    try {
      checkEndTime(sde, 0.5 * end);
      ADD_FAILURE() << name << ": a short end time passed";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("end_time"), std::string::npos) << e.what();
    }
    EXPECT_THROW(VanLoanKernel(sde).prior(0.5 * end), Error);
    // The prior is the exact second moment of z_T for unit-variance data.
    const VanLoanKernel kernel(sde);
    const GaussianPrior prior = kernel.prior(end, 1.0);
    const Eigen::Matrix2d sInf = kernel.stationaryCovariance();
    EXPECT_LT(covarianceError(prior.covariance(), sInf, sde.channels()), 2e-3) << name;
    EXPECT_EQ(prior.endTime(), end);
  }
  EXPECT_NEAR(chooseEndTime(LinearSde::passive(1.0, 1.0)), 6.95, 1e-12);  // ln 1000 = 6.91
}

TEST(VanLoanKernel, PriorSamplesAndDensityAgree) {
  const VanLoanKernel kernel(LinearSde::active(1.0, 0.5, 1.5, 0.0));
  const GaussianPrior prior = kernel.prior(chooseEndTime(kernel.sde()));
  Rng rng(7);
  const Eigen::ArrayXXd z = prior.sample(200000, 2, rng);
  ASSERT_EQ(z.cols(), 4);
  // Sample covariance of (x_1, eta_1).
  const double cxx = z.col(0).square().mean(), cxa = (z.col(0) * z.col(2)).mean(),
               caa = z.col(2).square().mean();
  EXPECT_NEAR(cxx, prior.covariance()(0, 0), 0.01 * prior.covariance()(0, 0));
  EXPECT_NEAR(cxa, prior.covariance()(0, 1), 0.01 * prior.covariance()(1, 1));
  EXPECT_NEAR(caa, prior.covariance()(1, 1), 0.01 * prior.covariance()(1, 1));
  // E[-log p] = entropy = D/2 log det(2 pi e S) for D = 2 two-channel dimensions.
  const double entropy = std::log((2 * M_PI * M_E) * (2 * M_PI * M_E) * prior.covariance().determinant());
  EXPECT_NEAR(-prior.logDensity(z).mean(), entropy, 0.02);
}

TEST(VanLoanKernel, NegativeTimeIsAnError) {
  EXPECT_THROW(VanLoanKernel(LinearSde::passive(1, 1)).moments(-1e-3), Error);
}

}  // namespace
}  // namespace activediff::model
