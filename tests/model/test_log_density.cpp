// Probability-flow log-densities against the exact marginal of the 9-peak
// diamond (issue 5 acceptance: mean error < 0.02 nats on 1,000 generated
// points), the forward evaluation of given points, and the mixture oracle's
// own derivatives.
#include <gtest/gtest.h>

#include <Eigen/Cholesky>

#include "activediff/featurize/error.h"
#include "activediff/model/gaussian_mixture.h"
#include "activediff/model/log_density.h"
#include "model_test_processes.h"

namespace activediff::model {
namespace {

using Eigen::ArrayXd;
using Eigen::ArrayXXd;
using testing::acceptanceProcesses;

TEST(LogDensity, GeneratedPointsMatchTheExactMarginal) {
  const GaussianMixture diamond = GaussianMixture::diamond();
  for (const auto& [name, sde] : acceptanceProcesses()) {
    const VanLoanKernel kernel(sde);
    const GaussianPrior prior = kernel.prior(chooseEndTime(sde), diamond.variance()(0));
    MixtureMarginal score(kernel, diamond);
    LogDensityOptions options;
    options.steps = 100;
    const ProbabilityFlowDensity flow(kernel, prior, options);
    const DensityResult r = flow.sample(score, 1000, 2, 17);
    const ArrayXd exact = score.logDensity(r.z, options.tEps);
    const double meanError = (r.logDensity - exact).abs().mean();
    std::printf("%-8s generated: mean |log p error| = %.2e nats, %ld calls\n", name.c_str(),
                meanError, r.scoreCalls);
    EXPECT_LT(meanError, 0.02) << name;
    EXPECT_EQ(r.scoreCalls, 400);

    // Given points: the same points integrated forwards.
    const DensityResult back = flow.evaluate(score, r.z);
    const double roundTrip = (back.logDensity - exact).abs().mean();
    std::printf("%-8s given:     mean |log p error| = %.2e nats\n", name.c_str(), roundTrip);
    EXPECT_LT(roundTrip, 0.02) << name;
  }
}

TEST(LogDensity, GivenPointsFromTheTrueMarginal) {
  // Points drawn from p_eps itself (data pushed through the exact kernel).
  const GaussianMixture diamond = GaussianMixture::diamond();
  const LinearSde sde = LinearSde::active(1.0, 0.5, 1.5, 0.0);
  const VanLoanKernel kernel(sde);
  const double tEps = kDefaultTimeEpsilon;
  Rng rng(4);
  const ArrayXXd x0 = diamond.sample(500, rng);
  const DataConditionedKernel k = kernel.givenX0(tEps);
  const Eigen::Matrix2d l = k.covariance.llt().matrixL();
  ArrayXXd z(500, 4);
  std::normal_distribution<double> normal;
  for (int i = 0; i < 500; ++i)
    for (int d = 0; d < 2; ++d) {
      const double n0 = normal(rng), n1 = normal(rng);
      z(i, d) = k.meanCoefficient(0) * x0(i, d) + l(0, 0) * n0;
      z(i, 2 + d) = k.meanCoefficient(1) * x0(i, d) + l(1, 0) * n0 + l(1, 1) * n1;
    }
  MixtureMarginal score(kernel, diamond);
  const ProbabilityFlowDensity flow(
      kernel, kernel.prior(chooseEndTime(sde), diamond.variance()(0)), LogDensityOptions{});
  const DensityResult r = flow.evaluate(score, z);
  EXPECT_LT((r.logDensity - score.logDensity(z, tEps)).abs().mean(), 0.02);
}

TEST(LogDensity, NeedsAJacobian) {
  const VanLoanKernel kernel(LinearSde::passive(1, 1));
  FunctionScoreModel noJacobian(ScoreChannels{true, false},
                                [](const ArrayXXd& z, double, ArrayXXd& s) { s = -z; });
  const ProbabilityFlowDensity flow(kernel, kernel.prior(7.0), LogDensityOptions{});
  EXPECT_THROW(flow.sample(noJacobian, 3, 1, 0), Error);
}

TEST(MixtureMarginal, ScoreAndJacobianMatchFiniteDifferences) {
  const GaussianMixture diamond = GaussianMixture::diamond();
  for (const auto& [name, sde] : acceptanceProcesses()) {
    MixtureMarginal mixture(VanLoanKernel(sde), diamond);
    const int cols = 2 * sde.channels();
    Rng rng(2);
    ArrayXXd z = ArrayXXd::Random(20, cols) * 1.5;
    for (double t : {1e-3, 0.05, 0.7}) {
      ArrayXXd s, jac;
      mixture.scoreAndJacobianDiagonal(z, t, s, jac);
      for (int col = 0; col < cols; ++col) {
        const double h = 1e-6;
        ArrayXXd up = z, down = z;
        up.col(col) += h;
        down.col(col) -= h;
        const ArrayXd fdScore =
            (mixture.logDensity(up, t) - mixture.logDensity(down, t)) / (2 * h);
        ArrayXXd sUp, sDown;
        mixture.score(up, t, sUp);
        mixture.score(down, t, sDown);
        const ArrayXd fdJac = (sUp.col(col) - sDown.col(col)) / (2 * h);
        for (int i = 0; i < z.rows(); ++i) {
          EXPECT_NEAR(s(i, col), fdScore(i), 1e-5 * (1 + std::abs(s(i, col)))) << name << t;
          EXPECT_NEAR(jac(i, col), fdJac(i), 1e-4 * (1 + std::abs(jac(i, col)))) << name << t;
        }
      }
    }
  }
}

TEST(MixtureMarginal, IsNormalized) {
  // Passive on the 2D diamond: integrate p_t on a grid.
  const GaussianMixture diamond = GaussianMixture::diamond();
  const MixtureMarginal mixture(VanLoanKernel(LinearSde::passive(1, 1)), diamond);
  const int n = 500;
  const double lo = -6.0, step = 12.0 / n;
  ArrayXXd z(n * n, 2);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) z.row(i * n + j) << lo + (i + 0.5) * step, lo + (j + 0.5) * step;
  EXPECT_NEAR(mixture.logDensity(z, 0.3).exp().sum() * step * step, 1.0, 1e-6);
}

}  // namespace
}  // namespace activediff::model
