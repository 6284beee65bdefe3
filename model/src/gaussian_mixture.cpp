#include "activediff/model/gaussian_mixture.h"

#include <cmath>
#include <sstream>
#include <vector>

#include "activediff/featurize/error.h"
#include "channel_ops.h"

namespace activediff::model {

using Eigen::ArrayXd;
using Eigen::ArrayXXd;

GaussianMixture GaussianMixture::diamond(double halfDiagonal, double sd) {
  if (!(halfDiagonal > 0.0 && sd > 0.0)) throw Error("diamond mixture: need h > 0 and sd > 0");
  GaussianMixture m;
  m.weights = ArrayXd::Constant(9, 1.0 / 9.0);
  m.means.resize(9, 2);
  const double h = halfDiagonal;
  m.means << 0, 0,  //
      h, 0, -h, 0, 0, h, 0, -h,  //
      h / 2, h / 2, h / 2, -h / 2, -h / 2, h / 2, -h / 2, -h / 2;
  m.variances = ArrayXXd::Constant(9, 2, sd * sd);
  return m;
}

void GaussianMixture::validate() const {
  const bool ok = weights.size() > 0 && means.rows() == weights.size() &&
                  variances.rows() == weights.size() && variances.cols() == means.cols() &&
                  means.cols() > 0 && (weights > 0.0).all() &&
                  std::abs(weights.sum() - 1.0) < 1e-12 && (variances > 0.0).all();
  if (!ok)
    throw Error("Gaussian mixture: need K positive weights summing to 1, K x D means and "
                "K x D positive variances");
}

ArrayXXd GaussianMixture::sample(int n, Rng& rng) const {
  std::discrete_distribution<int> pick(weights.data(), weights.data() + weights.size());
  std::normal_distribution<double> normal(0.0, 1.0);
  ArrayXXd x(n, dims());
  for (int i = 0; i < n; ++i) {
    const int k = pick(rng);
    for (int d = 0; d < dims(); ++d)
      x(i, d) = means(k, d) + std::sqrt(variances(k, d)) * normal(rng);
  }
  return x;
}

ArrayXd GaussianMixture::variance() const {
  ArrayXd mean = (means.colwise() * weights).colwise().sum().transpose();
  ArrayXd second =
      ((variances + means.square()).colwise() * weights).colwise().sum().transpose();
  return second - mean.square();
}

Eigen::ArrayXi GaussianMixture::nearestMode(const ArrayXXd& x) const {
  Eigen::ArrayXi nearest(x.rows());
  for (Eigen::Index i = 0; i < x.rows(); ++i) {
    Eigen::Index k;
    (means.rowwise() - x.row(i)).square().rowwise().sum().minCoeff(&k);
    nearest(i) = static_cast<int>(k);
  }
  return nearest;
}

MixtureMarginal::MixtureMarginal(VanLoanKernel kernel, GaussianMixture data)
    : kernel_(std::move(kernel)), data_(std::move(data)) {
  data_.validate();
}

ScoreChannels MixtureMarginal::channels() const {
  return ScoreChannels{true, kernel_.channels() == 2};
}

void MixtureMarginal::evaluate(const ArrayXXd& z, double t, ArrayXd* logDensity, ArrayXXd* score,
                               ArrayXXd* jacobianDiagonal) const {
  constexpr double kLn2Pi = 1.8378770664093454836;
  const int c = kernel_.channels();
  const int dims = data_.dims();
  const int components = data_.components();
  if (z.cols() != c * dims) {
    std::ostringstream m;
    m << "mixture score: states have " << z.cols() << " columns, expected " << c * dims;
    throw Error(m.str());
  }
  const Eigen::Index rows = z.rows();
  const TransitionMoments moments = kernel_.moments(t);
  const double auxVariance = kernel_.sde().auxStartVariance();
  ArrayXXd logComponent(rows, components);
  std::vector<ArrayXXd> g(components, ArrayXXd(rows, c * dims));  // -C^{-1} (z - m)
  std::vector<Eigen::ArrayXXd> precisionDiagonal(components, ArrayXXd(c, dims));
  for (int k = 0; k < components; ++k) {
    ArrayXd quad = ArrayXd::Zero(rows);
    double logNormalizer = std::log(data_.weights(k));
    for (int d = 0; d < dims; ++d) {
      const Eigen::Matrix2d cov =
          VanLoanKernel::marginalCovariance(moments, data_.variances(k, d), auxVariance);
      const Eigen::Matrix2d p = detail::inverseOnChannels(cov, c);
      logNormalizer -= 0.5 * (c * kLn2Pi + detail::logDetOnChannels(cov, c));
      const double mu = data_.means(k, d);
      const ArrayXd dx = z.col(columnOf(0, d, dims)) - moments.transition(0, 0) * mu;
      if (c == 1) {
        g[k].col(d) = -p(0, 0) * dx;
        quad += p(0, 0) * dx.square();
        precisionDiagonal[k](0, d) = p(0, 0);
        continue;
      }
      const ArrayXd da = z.col(columnOf(1, d, dims)) - moments.transition(1, 0) * mu;
      g[k].col(columnOf(0, d, dims)) = -(p(0, 0) * dx + p(0, 1) * da);
      g[k].col(columnOf(1, d, dims)) = -(p(1, 0) * dx + p(1, 1) * da);
      quad += p(0, 0) * dx.square() + 2.0 * p(0, 1) * dx * da + p(1, 1) * da.square();
      precisionDiagonal[k](0, d) = p(0, 0);
      precisionDiagonal[k](1, d) = p(1, 1);
    }
    logComponent.col(k) = logNormalizer - 0.5 * quad;
  }
  const ArrayXd top = logComponent.rowwise().maxCoeff();
  const ArrayXXd shifted = (logComponent.colwise() - top).exp();
  const ArrayXd total = shifted.rowwise().sum();
  if (logDensity) *logDensity = top + total.log();
  if (!score) return;
  const ArrayXXd r = shifted.colwise() / total;  // responsibilities
  score->setZero(rows, c * dims);
  ArrayXXd secondMoment;
  if (jacobianDiagonal) secondMoment.setZero(rows, c * dims);
  for (int k = 0; k < components; ++k) {
    *score += g[k].colwise() * r.col(k);
    if (!jacobianDiagonal) continue;
    for (int ch = 0; ch < c; ++ch)
      for (int d = 0; d < dims; ++d) {
        const Eigen::Index col = columnOf(ch, d, dims);
        secondMoment.col(col) += r.col(k) * (g[k].col(col).square() - precisionDiagonal[k](ch, d));
      }
  }
  if (jacobianDiagonal) *jacobianDiagonal = secondMoment - score->square();
}

void MixtureMarginal::score(const ArrayXXd& z, double t, ArrayXXd& score) {
  evaluate(z, t, nullptr, &score, nullptr);
}

void MixtureMarginal::scoreAndJacobianDiagonal(const ArrayXXd& z, double t, ArrayXXd& score,
                                               ArrayXXd& jacobianDiagonal) {
  evaluate(z, t, nullptr, &score, &jacobianDiagonal);
}

ArrayXd MixtureMarginal::logDensity(const ArrayXXd& z, double t) const {
  ArrayXd out;
  evaluate(z, t, &out, nullptr, nullptr);
  return out;
}

}  // namespace activediff::model
