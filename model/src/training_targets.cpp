#include "activediff/model/training_targets.h"

#include <cmath>
#include <sstream>

#include "activediff/featurize/error.h"
#include "channel_ops.h"

namespace activediff::model {

ScoreChannels requiredScoreChannels(const LinearSde& sde, bool tweedie) {
  ScoreChannels c;
  c.x = tweedie || sde.hasNoise(0);
  c.aux = sde.channels() == 2 && (tweedie || sde.hasNoise(1));
  return c;
}

TrainingTargets::TrainingTargets(VanLoanKernel kernel, ScoreChannels outputs)
    : kernel_(std::move(kernel)), outputs_(outputs) {
  const ScoreChannels needed = requiredScoreChannels(kernel_.sde(), false);
  if ((needed.x && !outputs_.x) || (needed.aux && !outputs_.aux))
    throw Error("training targets for " + kernel_.sde().describe() +
                ": the network must output every channel with noise");
  if (outputs_.aux && channels() == 1)
    throw Error("training targets for " + kernel_.sde().describe() + ": there is no aux channel");
}

TargetCoefficients TrainingTargets::coefficients(double t) const {
  const DataConditionedKernel k = kernel_.givenX0(t);
  const int c = channels();
  TargetCoefficients out;
  out.mean = k.meanCoefficient;
  if (c == 1) out.mean(1) = 0.0;
  out.cholesky = detail::choleskyLower(k.covariance, c);
  const Eigen::Matrix2d precision = detail::inverseOnChannels(k.covariance, c);
  out.whitening.setZero();
  for (int i = 0; i < c; ++i) out.whitening(i) = 1.0 / std::sqrt(precision(i, i));
  // s_true = -L^{-T} noise; L^{-T} is upper triangular.
  const Eigen::Matrix2d& l = out.cholesky;
  Eigen::Matrix2d invLt = Eigen::Matrix2d::Zero();
  invLt(0, 0) = 1.0 / l(0, 0);
  if (c == 2) {
    invLt(1, 1) = 1.0 / l(1, 1);
    invLt(0, 1) = -l(1, 0) / (l(0, 0) * l(1, 1));
  }
  out.targetFromNoise = -(out.whitening.asDiagonal() * invLt);
  return out;
}

Eigen::ArrayXXd TrainingTargets::coefficientTable(const Eigen::ArrayXd& t) const {
  Eigen::ArrayXXd table(t.size(), kTargetTableColumns);
  for (Eigen::Index b = 0; b < t.size(); ++b) {
    const TargetCoefficients k = coefficients(t(b));
    table(b, kMeanX) = k.mean(0);
    table(b, kMeanAux) = k.mean(1);
    table(b, kCholXX) = k.cholesky(0, 0);
    table(b, kCholAuxX) = k.cholesky(1, 0);
    table(b, kCholAuxAux) = k.cholesky(1, 1);
    table(b, kWhiteningX) = k.whitening(0);
    table(b, kWhiteningAux) = k.whitening(1);
    table(b, kTargetXX) = k.targetFromNoise(0, 0);
    table(b, kTargetXAux) = k.targetFromNoise(0, 1);
    table(b, kTargetAuxX) = k.targetFromNoise(1, 0);
    table(b, kTargetAuxAux) = k.targetFromNoise(1, 1);
  }
  return table;
}

void TrainingTargets::makeBatch(const Eigen::ArrayXXd& x0, const Eigen::ArrayXd& t,
                                const Eigen::ArrayXXd& noise, Eigen::ArrayXXd& zt,
                                Eigen::ArrayXXd& targets) const {
  const int c = channels();
  const Eigen::Index rows = x0.rows();
  const int dims = static_cast<int>(x0.cols());
  if (t.size() != rows || noise.rows() != rows || noise.cols() != c * dims) {
    std::ostringstream m;
    m << "training batch: x0 is " << rows << " x " << dims << ", t has " << t.size()
      << " entries, noise is " << noise.rows() << " x " << noise.cols() << " (expected "
      << rows << " x " << c * dims << ")";
    throw Error(m.str());
  }
  const Eigen::ArrayXXd table = coefficientTable(t);
  zt.resize(rows, c * dims);
  targets.resize(rows, outputs_.count() * dims);
  for (int d = 0; d < dims; ++d) {
    const auto nx = noise.col(columnOf(0, d, dims));
    zt.col(columnOf(0, d, dims)) = table.col(kMeanX) * x0.col(d) + table.col(kCholXX) * nx;
    if (c == 1) {
      if (outputs_.x) targets.col(d) = table.col(kTargetXX) * nx;
      continue;
    }
    const auto na = noise.col(columnOf(1, d, dims));
    zt.col(columnOf(1, d, dims)) = table.col(kMeanAux) * x0.col(d) +
                                   table.col(kCholAuxX) * nx + table.col(kCholAuxAux) * na;
    int block = 0;
    if (outputs_.x)
      targets.col(columnOf(block++, d, dims)) =
          table.col(kTargetXX) * nx + table.col(kTargetXAux) * na;
    if (outputs_.aux)
      targets.col(columnOf(block, d, dims)) =
          table.col(kTargetAuxX) * nx + table.col(kTargetAuxAux) * na;
  }
}

void TrainingTargets::scoresFromWhitened(double t, const Eigen::ArrayXXd& whitened,
                                         Eigen::ArrayXXd& score) const {
  scoresFromWhitened(coefficients(t), whitened, score);
}

void TrainingTargets::scoresFromWhitened(const TargetCoefficients& k, const Eigen::ArrayXXd& whitened,
                                         Eigen::ArrayXXd& score) const {
  const int c = channels();
  const int dims = static_cast<int>(whitened.cols()) / std::max(outputs_.count(), 1);
  if (whitened.cols() != outputs_.count() * dims)
    throw Error("scores from network outputs: column count is not a multiple of the outputs");
  score.setZero(whitened.rows(), c * dims);
  int block = 0;
  for (int ch = 0; ch < c; ++ch) {
    if (!outputs_.has(ch)) continue;
    score.middleCols(ch * dims, dims) = whitened.middleCols(block * dims, dims) / k.whitening(ch);
    ++block;
  }
}

Eigen::ArrayXXd TrainingTargets::preconditioningTable(const Eigen::ArrayXd& t,
                                                      bool preconditioned) const {
  Eigen::ArrayXXd table = Eigen::ArrayXXd::Zero(t.size(), kPreconditioningColumns);
  const int c = channels();
  for (Eigen::Index b = 0; b < t.size(); ++b) {
    if (!preconditioned) {
      table(b, kInputXX) = 1.0;
      if (c == 2) table(b, kInputAuxAux) = 1.0;
      continue;
    }
    const Eigen::Matrix2d marginal = kernel_.marginalCovariance(t(b), 1.0);
    const Eigen::Matrix2d l = detail::choleskyLower(marginal, c);
    const Eigen::Matrix2d precision = detail::inverseOnChannels(marginal, c);
    const TargetCoefficients k = coefficients(t(b));
    table(b, kInputXX) = 1.0 / l(0, 0);
    if (c == 2) {
      table(b, kInputAuxX) = -l(1, 0) / (l(0, 0) * l(1, 1));
      table(b, kInputAuxAux) = 1.0 / l(1, 1);
    }
    if (outputs_.x) {
      table(b, kGaussianXX) = -k.whitening(0) * precision(0, 0);
      if (c == 2) table(b, kGaussianXAux) = -k.whitening(0) * precision(0, 1);
    }
    if (outputs_.aux) {
      table(b, kGaussianAuxX) = -k.whitening(1) * precision(1, 0);
      table(b, kGaussianAuxAux) = -k.whitening(1) * precision(1, 1);
    }
  }
  return table;
}

Eigen::ArrayXd drawTrainingTimes(int n, double tEps, double endTime, Rng& rng) {
  if (!(tEps > 0.0 && endTime > tEps))
    throw Error("training times: need 0 < t_eps < end_time");
  std::uniform_real_distribution<double> uniform(tEps, endTime);
  Eigen::ArrayXd t(n);
  for (int i = 0; i < n; ++i) t(i) = uniform(rng);
  return t;
}

}  // namespace activediff::model
