// Fisher memory and speciation time (MATH.md 6).
#include <gtest/gtest.h>

#include <cmath>

#include "activediff/featurize/error.h"
#include "activediff/model/gaussian_mixture.h"
#include "activediff/model/memory_analysis.h"

namespace activediff::model {
namespace {

TEST(FisherMemory, PassiveIsExpMinus2ktOverSigma2) {
  const double k = 1.3, temperature = 0.7;
  const VanLoanKernel kernel(LinearSde::passive(k, temperature));
  for (double t : {1e-4, 1e-2, 0.5, 2.0, 6.0}) {
    const double sigma2 = -temperature / k * std::expm1(-2 * k * t);
    const double expected = std::exp(-2 * k * t) / sigma2;
    EXPECT_NEAR(fisherMemory(kernel, t), expected, 1e-12 * expected) << t;
  }
}

TEST(FisherMemory, LargerTauDecaysMoreSlowly) {
  // Equal stationary Var(x) = 1 (Ta = k (1 + k tau)), as in the fair comparison.
  const double k = 1.0;
  const std::vector<double> taus = {0.1, 0.25, 0.5, 1.0, 2.0};
  for (double t : {0.05, 0.2, 0.5, 1.0, 2.0, 4.0}) {
    double previous = fisherMemory(VanLoanKernel(LinearSde::passive(k, 1.0)), t);
    for (double tau : taus) {
      const double j = fisherMemory(VanLoanKernel(LinearSde::active(k, tau, k * (1 + k * tau))), t);
      EXPECT_GT(j, previous) << "t " << t << " tau " << tau;
      previous = j;
    }
  }
}

TEST(SpeciationTime, ActiveSpeciatesEarlierInReverseThanPassive) {
  // Earlier in the reverse direction = at a larger forward time.
  const LinearSde active = LinearSde::active(1.0, 0.5, 1.5, 0.0);
  const double lambda = 0.76;
  const double tActive = speciationTime(VanLoanKernel(active), lambda, 20.0);
  const double tPassive =
      speciationTime(VanLoanKernel(LinearSde::passiveMatching(active)), lambda, 20.0);
  EXPECT_GT(tActive, tPassive);
  // Passive closed form: Lambda e^{-2kt} = (T/k)(1 - e^{-2kt}) => e^{-2kt} = 1 / (1 + Lambda).
  EXPECT_NEAR(tPassive, 0.5 * std::log(1 + lambda), 1e-10);
  EXPECT_THROW(speciationTime(VanLoanKernel(active), lambda, 1e-3), Error);
}

TEST(StateMemory, FractionsAndPairedDifferenceFromCounts) {
  const std::vector<int> start = {0, 0, 1, 1, 2};
  const std::vector<int> kept = {0, 0, 1, 2, 2};
  const std::vector<int> shuffled = {0, 1, 0, 2, 2};
  const ReturnFraction k = returnFraction(start, kept);
  EXPECT_EQ(k.n, 5);
  EXPECT_EQ(k.returned, 4);
  EXPECT_DOUBLE_EQ(k.standardError, std::sqrt(0.8 * 0.2 / 5));
  EXPECT_EQ(returnFraction(start, kept, {1, 1, 0, 0, 0}).returned, 2);
  // Per-point differences 0, 1, 1, 0, 0: mean 0.4, sample variance 0.3.
  const PairedDifference d = pairedReturnDifference(start, kept, shuffled);
  EXPECT_DOUBLE_EQ(d.mean, 0.4);
  EXPECT_NEAR(d.standardError, std::sqrt(0.3 / 5), 1e-15);
}

TEST(StateMemory, ExactMixtureScoreReturnsFromSmallNoiseAndShufflingOnlyTouchesAux) {
  const GaussianMixture diamond = GaussianMixture::diamond();
  Rng rng(5);
  const Eigen::ArrayXXd x0 = diamond.sample(300, rng);
  const Eigen::ArrayXi modes = diamond.nearestMode(x0);
  const std::vector<int> start(modes.data(), modes.data() + modes.size());
  const auto classify = [&](const Eigen::ArrayXXd& x) {
    const Eigen::ArrayXi m = diamond.nearestMode(x);
    return std::vector<int>(m.data(), m.data() + m.size());
  };
  SamplerOptions options;
  options.kind = SamplerKind::EulerMaruyama;
  options.steps = 40;
  options.grid = TimeGrid::Uniform;
  for (const LinearSde& sde : {LinearSde::passive(1.0, 1.0), LinearSde::active(1.0, 0.5, 1.5, 0.0)}) {
    const VanLoanKernel kernel(sde);
    MixtureMarginal score(kernel, diamond);
    const Sampler sampler(kernel, kernel.prior(chooseEndTime(sde), diamond.variance()(0)), options);
    const auto runs = stateMemoryExperiment(sampler, kernel, score, x0, {0.005, 6.0}, 1e-3, classify, 9, 128);
    ASSERT_EQ(runs.size(), 2u);
    EXPECT_GT(returnFraction(start, runs[0].finalKept).fraction, 0.97) << sde.describe();
    // Far beyond the mixing time nothing is remembered: chance is 1/9.
    EXPECT_LT(returnFraction(start, runs[1].finalKept).fraction, 0.25) << sde.describe();
    EXPECT_EQ(runs[0].finalShuffled.empty(), sde.channels() == 1);
    // Same seed, same result (chunks of 128 rows seeded on their own).
    const auto again = stateMemoryExperiment(sampler, kernel, score, x0, {0.005}, 1e-3, classify, 9, 128);
    EXPECT_EQ(again[0].finalKept, runs[0].finalKept);
    EXPECT_THROW(stateMemoryExperiment(sampler, kernel, score, x0, {1e-3}, 1e-3, classify, 9), Error);
  }
}

}  // namespace
}  // namespace activediff::model
