// The likelihood of x alone for two-channel models (marginal_likelihood.h)
// against the closed form: with the exact score of a Gaussian mixture, the
// x-marginal at t is itself a mixture, x_t | mode c ~ N(m_x mu_c, m_x^2 s_c^2
// + C_xx(t)) per dimension (VanLoanKernel::givenX0), written out here.
#include <gtest/gtest.h>

#include <cmath>

#include "activediff/featurize/error.h"
#include "activediff/model/gaussian_mixture.h"
#include "activediff/model/marginal_likelihood.h"
#include "model_test_processes.h"

namespace activediff::model {
namespace {

using Eigen::ArrayXd;
using Eigen::ArrayXXd;

// log p_t(x) of the data mixture pushed through the x-kernel at t.
ArrayXd exactXMarginal(const VanLoanKernel& kernel, const GaussianMixture& data, const ArrayXXd& x, double t) {
  const DataConditionedKernel law = kernel.givenX0(t);
  const double m = law.meanCoefficient(0), cxx = law.covariance(0, 0);
  ArrayXd out(x.rows());
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    ArrayXd logTerms(data.components());
    for (int c = 0; c < data.components(); ++c) {
      const ArrayXd variance = m * m * data.variances.row(c).transpose() + cxx;
      const ArrayXd d = x.row(r).transpose() - m * data.means.row(c).transpose();
      logTerms(c) = std::log(data.weights(c)) - 0.5 * (d.square() / variance + (2.0 * M_PI * variance).log()).sum();
    }
    const double top = logTerms.maxCoeff();
    out(r) = top + std::log((logTerms - top).exp().sum());
  }
  return out;
}

TEST(MarginalLikelihood, ImportanceWeightedXDensityMatchesTheClosedForm) {
  const GaussianMixture diamond = GaussianMixture::diamond();
  // The likelihood processes (test_log_density.cpp); the stiff tau = 0.1 needs
  // more than the default 100 RK4 steps for its flow, whatever the estimator.
  for (const auto& [name, sde] : testing::acceptanceProcesses()) {
    const VanLoanKernel kernel(sde);
    const GaussianPrior prior = kernel.prior(chooseEndTime(sde), diamond.variance()(0));
    MixtureMarginal score(kernel, diamond);
    Rng rng(5);
    const ArrayXXd x = diamond.sample(200, rng);
    MarginalLikelihoodOptions options;
    options.samples = 16;
    const MarginalLogDensity estimate = marginalLogDensity(score, kernel, prior, x, options);
    const ArrayXd exact = exactXMarginal(kernel, diamond, x, options.flow.tEps);
    const double bias = (estimate.logDensity - exact).mean();
    const double meanAbs = (estimate.logDensity - exact).abs().mean();
    std::printf("%-14s K=%d: mean error %+.2e nats (|.| %.2e), mean ESS %.1f, mean se %.1e\n", name.c_str(),
                estimate.samples, bias, meanAbs, estimate.effectiveSampleSize.mean(), estimate.standardError.mean());
    EXPECT_LT(meanAbs, 0.02) << name;
    if (sde.channels() == 2) {
      EXPECT_EQ(estimate.samples, 16);
      EXPECT_GT(estimate.effectiveSampleSize.mean(), 8.0) << name << ": the proposal should fit the posterior";
      // A lower bound in expectation: no systematic excess beyond the noise.
      EXPECT_LT(bias, 3.0 * estimate.standardError.mean() / std::sqrt(200.0) + 2e-3) << name;
    } else {
      EXPECT_EQ(estimate.effectiveSampleSize.mean(), 1.0);
    }
  }
}

TEST(MarginalLikelihood, TheOneDrawStartLawBoundIsFarWorseForCld) {
  // What the K-sample estimate replaces: aux from its START law, one draw.
  const GaussianMixture diamond = GaussianMixture::diamond();
  const LinearSde sde = LinearSde::cld(4.0, 0.25, 0.04);
  const VanLoanKernel kernel(sde);
  const GaussianPrior prior = kernel.prior(chooseEndTime(sde), diamond.variance()(0));
  MixtureMarginal score(kernel, diamond);
  Rng rng(9);
  const ArrayXXd x = diamond.sample(200, rng);
  const double tEps = LogDensityOptions{}.tEps;
  const ArrayXd exact = exactXMarginal(kernel, diamond, x, tEps);
  MarginalLikelihoodOptions options;
  options.samples = 16;
  const double iwGap = (exact - marginalLogDensity(score, kernel, prior, x, options).logDensity).mean();
  ArrayXXd aux(x.rows(), x.cols());
  fillStandardNormal(aux, rng);
  const double v0 = sde.auxStartVariance();
  aux *= std::sqrt(v0);
  ArrayXXd z(x.rows(), 2 * x.cols());
  z << x, aux;
  const ProbabilityFlowDensity flow(kernel, prior, LogDensityOptions{});
  const ArrayXd joint = flow.evaluate(score, z).logDensity;
  const ArrayXd logR = (-0.5 * aux.square() / v0).rowwise().sum() - 0.5 * x.cols() * std::log(2.0 * M_PI * v0);
  const double oneDrawGap = (exact - (joint - logR)).mean();
  std::printf("cld gap below log p_eps(x): one draw from the start law %.3f nats, K=16 from the law at t_eps %.4f\n",
              oneDrawGap, iwGap);
  EXPECT_GT(oneDrawGap, 0.05);
  EXPECT_LT(std::abs(iwGap), 0.01);
}

TEST(MarginalLikelihood, AtACommonSmoothingEveryProcessEstimatesTheSameTarget) {
  // The target: the data convolved with N(0, sigma^2), in closed form; every
  // process's comparable log-density estimates it, while their densities at
  // the same t_eps are different smoothings of the data.
  // Sharp modes (sd 0.03), so that the kernels' widths at t_eps matter.
  const GaussianMixture diamond = GaussianMixture::diamond(1.5, 0.03);
  GaussianMixture smoothed = diamond;
  smoothed.variances += kComparableXKernelSd * kComparableXKernelSd;
  Rng rng(11);
  const ArrayXXd x = diamond.sample(300, rng);
  const double target = [&] {
    // log (data * N(0, sigma^2))(x): the same mixture formula at t = 0 of a
    // kernel-free push-forward (m = 1, C_xx = 0) with widened modes.
    const VanLoanKernel identity(LinearSde::passive(1.0, 1.0));
    return exactXMarginal(identity, smoothed, x, 0.0).mean();
  }();
  const double tEps = LogDensityOptions{}.tEps;
  double spreadEps = 0.0;
  double first = NAN;
  for (const auto& [name, sde] : testing::acceptanceProcesses()) {
    const VanLoanKernel kernel(sde);
    const GaussianPrior prior = kernel.prior(chooseEndTime(sde), diamond.variance()(0));
    MixtureMarginal score(kernel, diamond);
    const double atEps = exactXMarginal(kernel, diamond, x, tEps).mean();
    if (std::isnan(first)) first = atEps;
    spreadEps = std::max(spreadEps, std::abs(atEps - first));
    MarginalLikelihoodOptions options;
    // At t* the forward aux law given x_0 = x fits the posterior less well
    // (ESS ~7 of 16 on these sharp modes, against 16 of 16 at t_eps): more draws.
    options.samples = 64;
    const MarginalLogDensity comparable = comparableLogDensity(score, kernel, prior, x, kComparableXKernelSd, options);
    const double t = comparable.evaluationTime;
    const DataConditionedKernel law = kernel.givenX0(t);
    EXPECT_NEAR(std::sqrt(law.covariance(0, 0)) / law.meanCoefficient(0), kComparableXKernelSd, 1e-9) << name;
    const double closedForm =
        (exactXMarginal(kernel, diamond, law.meanCoefficient(0) * x, t) + x.cols() * std::log(law.meanCoefficient(0)))
            .mean();
    std::printf("%-8s t* = %.3e: comparable mean log p %.4f (closed form %.4f, ESS %.1f, se %.1e), target %.4f; at "
                "t_eps %.4f\n",
                name.c_str(), t, comparable.logDensity.mean(), closedForm, comparable.effectiveSampleSize.mean(),
                comparable.standardError.mean(), target, atEps);
    EXPECT_NEAR(closedForm, target, 1e-9) << name;
    EXPECT_NEAR(comparable.logDensity.mean(), target, 0.02) << name;
  }
  EXPECT_GT(spreadEps, 0.5) << "sharp modes: the processes' t_eps densities should differ";
  // Narrower than the kernel at t_eps: a clear error.
  EXPECT_THROW(evaluationTimeForXSd(VanLoanKernel(LinearSde::passive(1.0, 1.0)), 1e-4, tEps, 5.0), Error);
}

}  // namespace
}  // namespace activediff::model
