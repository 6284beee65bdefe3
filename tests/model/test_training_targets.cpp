// Whitened denoising targets (MATH.md 3): unit variance at every t for every
// process and channel, agreement with the definition, and the inverse map.
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cmath>

#include "activediff/featurize/error.h"
#include "activediff/model/gaussian_mixture.h"
#include "activediff/model/training_targets.h"
#include "model_test_processes.h"

namespace activediff::model {
namespace {

using Eigen::ArrayXd;
using Eigen::ArrayXXd;
using testing::processesUnderTest;

struct Batch {
  ArrayXXd x0, noise, zt, targets;
  ArrayXd t;
};

Batch makeBatchAt(const TrainingTargets& targets, double t, int n, Rng& rng) {
  Batch b;
  b.x0 = GaussianMixture::diamond().sample(n, rng);
  b.t = ArrayXd::Constant(n, t);
  b.noise.resize(n, targets.channels() * 2);
  std::normal_distribution<double> normal;
  for (Eigen::Index i = 0; i < b.noise.size(); ++i) b.noise.data()[i] = normal(rng);
  targets.makeBatch(b.x0, b.t, b.noise, b.zt, b.targets);
  return b;
}

TEST(TrainingTargets, RequiredChannels) {
  const ScoreChannels passive = requiredScoreChannels(LinearSde::passive(1, 1), false);
  EXPECT_TRUE(passive.x);
  EXPECT_FALSE(passive.aux);
  const LinearSde active = LinearSde::active(1, 0.5, 1.5, 0.0);
  EXPECT_FALSE(requiredScoreChannels(active, false).x);
  EXPECT_TRUE(requiredScoreChannels(active, false).aux);
  EXPECT_TRUE(requiredScoreChannels(active, true).x);  // Tweedie
  EXPECT_TRUE(requiredScoreChannels(LinearSde::active(1, 0.5, 1.5, 0.1), false).x);
  EXPECT_FALSE(requiredScoreChannels(LinearSde::cld(4, 0.25, 0.04), false).x);
  EXPECT_THROW(TrainingTargets(VanLoanKernel(active), ScoreChannels{true, false}), Error);
  EXPECT_THROW(TrainingTargets(VanLoanKernel(LinearSde::passive(1, 1)), ScoreChannels{true, true}),
               Error);
}

TEST(TrainingTargets, UnitVarianceAtEveryTimeForEveryProcess) {
  const int n = 100000;  // variance estimate sd ~ 0.0045
  for (const auto& [name, sde] : processesUnderTest()) {
    const ScoreChannels all{true, sde.channels() == 2};
    const TrainingTargets targets(VanLoanKernel(sde), all);
    const double end = chooseEndTime(sde);
    Rng rng(11);
    for (double t : {1e-3, 1e-2, 0.1, 1.0, end}) {
      const Batch b = makeBatchAt(targets, t, n, rng);
      for (Eigen::Index col = 0; col < b.targets.cols(); ++col) {
        const double mean = b.targets.col(col).mean();
        const double var = (b.targets.col(col) - mean).square().mean();
        EXPECT_NEAR(var, 1.0, 0.025) << name << " t " << t << " column " << col;
        EXPECT_NEAR(mean, 0.0, 0.02) << name << " t " << t << " column " << col;
      }
    }
  }
}

TEST(TrainingTargets, OneScalarWhitenerWouldBeWrong) {
  // The trap of MATH.md 3: sqrt(det S) s_true,eta is far from unit variance at
  // small t; the per-channel whitener is not. Guards the test above.
  const LinearSde sde = LinearSde::active(1.0, 0.5, 1.5, 0.0);
  const TrainingTargets targets(VanLoanKernel(sde), ScoreChannels{false, true});
  Rng rng(3);
  const Batch b = makeBatchAt(targets, 1e-3, 20000, rng);
  const TargetCoefficients k = targets.coefficients(1e-3);
  const double detScale = std::sqrt(targets.kernel().givenX0(1e-3).covariance.determinant());
  const ArrayXd scalarWhitened = b.targets.col(0) / k.whitening(1) * detScale;
  EXPECT_LT(scalarWhitened.square().mean(), 0.01);
  EXPECT_NEAR(b.targets.col(0).square().mean(), 1.0, 0.05);
}

TEST(TrainingTargets, TargetsFollowTheDefinitionAndInvert) {
  for (const auto& [name, sde] : processesUnderTest()) {
    const int c = sde.channels();
    const ScoreChannels all{true, c == 2};
    const TrainingTargets targets(VanLoanKernel(sde), all);
    Rng rng(5);
    for (double t : {1e-3, 0.37, 4.0}) {
      const Batch b = makeBatchAt(targets, t, 64, rng);
      const DataConditionedKernel k = targets.kernel().givenX0(t);
      const Eigen::MatrixXd s = k.covariance.topLeftCorner(c, c);
      const Eigen::MatrixXd precision = s.inverse();
      ArrayXXd score;
      targets.scoresFromWhitened(t, b.targets, score);
      for (int i = 0; i < 64; ++i)
        for (int d = 0; d < 2; ++d) {
          Eigen::VectorXd diff(c);
          for (int ch = 0; ch < c; ++ch)
            diff(ch) = b.zt(i, ch * 2 + d) - k.meanCoefficient(ch) * b.x0(i, d);
          const Eigen::VectorXd trueScore = -precision * diff;
          for (int ch = 0; ch < c; ++ch) {
            const double whitened = trueScore(ch) / std::sqrt(precision(ch, ch));
            EXPECT_NEAR(b.targets(i, ch * 2 + d), whitened, 1e-9 * (1 + std::abs(whitened)))
                << name << " t " << t;
            EXPECT_NEAR(score(i, ch * 2 + d), trueScore(ch), 1e-9 * (1 + std::abs(trueScore(ch))))
                << name << " t " << t;
          }
        }
    }
  }
}

TEST(TrainingTargets, PassiveTargetIsMinusNoise) {
  const TrainingTargets targets(VanLoanKernel(LinearSde::passive(1, 1)), ScoreChannels{true, false});
  Rng rng(1);
  const Batch b = makeBatchAt(targets, 0.2, 100, rng);
  EXPECT_LT((b.targets + b.noise).abs().maxCoeff(), 1e-12);
}

TEST(TrainingTargets, AuxOnlyOutputsAndTableAgree) {
  const LinearSde sde = LinearSde::cld(4.0, 0.25, 0.04);
  const TrainingTargets auxOnly(VanLoanKernel(sde), ScoreChannels{false, true});
  const TrainingTargets both(VanLoanKernel(sde), ScoreChannels{true, true});
  Rng rng1(9), rng2(9);
  const Batch a = makeBatchAt(auxOnly, 0.05, 50, rng1);
  const Batch b = makeBatchAt(both, 0.05, 50, rng2);
  ASSERT_EQ(a.targets.cols(), 2);
  EXPECT_EQ(a.zt.matrix(), b.zt.matrix());
  EXPECT_EQ(a.targets.matrix(), b.targets.rightCols(2).matrix());
  const ArrayXXd table = both.coefficientTable(ArrayXd::Constant(3, 0.05));
  const TargetCoefficients k = both.coefficients(0.05);
  EXPECT_EQ(table(2, kCholAuxAux), k.cholesky(1, 1));
  EXPECT_EQ(table(1, kWhiteningAux), k.whitening(1));
  EXPECT_EQ(table(0, kTargetAuxX), 0.0);
}

TEST(TrainingTargets, BadShapesAreErrors) {
  const TrainingTargets targets(VanLoanKernel(LinearSde::passive(1, 1)), ScoreChannels{true, false});
  ArrayXXd zt, out;
  EXPECT_THROW(targets.makeBatch(ArrayXXd::Zero(4, 2), ArrayXd::Constant(3, 0.1),
                                 ArrayXXd::Zero(4, 2), zt, out),
               Error);
  Rng rng(1);
  EXPECT_THROW(drawTrainingTimes(5, 0.0, 1.0, rng), Error);
  const ArrayXd t = drawTrainingTimes(1000, 1e-3, 7.0, rng);
  EXPECT_GE(t.minCoeff(), 1e-3);
  EXPECT_LE(t.maxCoeff(), 7.0);
}

// The preconditioning table (training_targets.h) for every process under
// test: W whitens the marginal covariance of z_t for unit data variance
// (W C W^T = I), and G z, divided by the per-channel whitening, is the exact
// score of that marginal -- computed here independently as the score of a
// one-component N(0, 1) data "mixture" pushed through the kernel.
TEST(TrainingTargets, PreconditioningWhitensTheMarginalAndGivesItsGaussianScore) {
  GaussianMixture unit;
  unit.weights = ArrayXd::Ones(1);
  unit.means = ArrayXXd::Zero(1, 2);
  unit.variances = ArrayXXd::Ones(1, 2);
  Rng rng(11);
  for (const auto& [name, sde] : processesUnderTest()) {
    const VanLoanKernel kernel(sde);
    const ScoreChannels all{true, sde.channels() == 2};
    const TrainingTargets targets(kernel, all);
    MixtureMarginal gaussian(kernel, unit);
    const int c = sde.channels();
    for (double t : {1e-3, 0.03, 0.5, 2.0, 6.0}) {
      const ArrayXd times = ArrayXd::Constant(1, t);
      const ArrayXXd p = targets.preconditioningTable(times, true);
      Eigen::Matrix2d w = Eigen::Matrix2d::Zero();
      w(0, 0) = p(0, kInputXX);
      w(1, 0) = p(0, kInputAuxX);
      w(1, 1) = p(0, kInputAuxAux);
      const Eigen::Matrix2d whitened = w * kernel.marginalCovariance(t, 1.0) * w.transpose();
      for (int i = 0; i < c; ++i)
        for (int j = 0; j < c; ++j)
          EXPECT_NEAR(whitened(i, j), i == j ? 1.0 : 0.0, 1e-9) << name << " t " << t;

      ArrayXXd z(8, c * 2);
      fillStandardNormal(z, rng);
      ArrayXXd exact;
      gaussian.score(z, t, exact);
      const TargetCoefficients k = targets.coefficients(t);
      for (int d = 0; d < 2; ++d) {
        const ArrayXd zx = z.col(columnOf(0, d, 2));
        const ArrayXd za = c == 2 ? ArrayXd(z.col(columnOf(1, d, 2))) : ArrayXd::Zero(8);
        const ArrayXd gx = p(0, kGaussianXX) * zx + p(0, kGaussianXAux) * za;
        const ArrayXd sx = exact.col(columnOf(0, d, 2));
        EXPECT_LT((gx / k.whitening(0) - sx).abs().maxCoeff(), 1e-8 * (1.0 + sx.abs().maxCoeff()))
            << name << " t " << t;
        if (c == 2) {
          const ArrayXd ga = p(0, kGaussianAuxX) * zx + p(0, kGaussianAuxAux) * za;
          const ArrayXd sa = exact.col(columnOf(1, d, 2));
          EXPECT_LT((ga / k.whitening(1) - sa).abs().maxCoeff(), 1e-8 * (1.0 + sa.abs().maxCoeff()))
              << name << " t " << t;
        }
      }
    }
    // Off: the identity on the input, no Gaussian part.
    const ArrayXXd off = targets.preconditioningTable(ArrayXd::Constant(2, 0.5), false);
    EXPECT_EQ(off(1, kInputXX), 1.0);
    EXPECT_EQ(off(1, kInputAuxAux), c == 2 ? 1.0 : 0.0);
    EXPECT_EQ(off(1, kInputAuxX), 0.0);
    for (int col = kGaussianXX; col <= kGaussianAuxAux; ++col) EXPECT_EQ(off(1, col), 0.0);
  }
}

}  // namespace
}  // namespace activediff::model
