#include "activediff/model/marginal_likelihood.h"

#include <cmath>
#include <string>

#include "activediff/featurize/error.h"
#include "activediff/model/layout.h"

namespace activediff::model {

namespace {
// sqrt(C_xx) / m_x: the width of the data's smoothing in x_t / m_x.
double xKernelSd(const VanLoanKernel& kernel, double t) {
  const DataConditionedKernel law = kernel.givenX0(t);
  return std::sqrt(law.covariance(0, 0)) / law.meanCoefficient(0);
}
}  // namespace

double evaluationTimeForXSd(const VanLoanKernel& kernel, double xSd, double tMin, double tMax) {
  double lo = tMin, hi = tMax;
  const double sdLo = xKernelSd(kernel, lo), sdHi = xKernelSd(kernel, hi);
  if (!(xSd >= sdLo && xSd <= sdHi)) {
    throw Error("likelihood", "an x-kernel sd of " + std::to_string(xSd) + " is outside this process's range [" +
                                  std::to_string(sdLo) + ", " + std::to_string(sdHi) + "] on [" +
                                  std::to_string(tMin) + ", " + std::to_string(tMax) + "]");
  }
  // Bisection in log t: the x-kernel variance is increasing in t.
  for (int i = 0; i < 200 && hi - lo > 1e-12 * hi; ++i) {
    const double mid = std::sqrt(lo * hi);
    (xKernelSd(kernel, mid) < xSd ? lo : hi) = mid;
  }
  return std::sqrt(lo * hi);
}

MarginalLogDensity marginalLogDensity(ScoreModel& model, const VanLoanKernel& kernel, const GaussianPrior& prior,
                                      const Eigen::ArrayXXd& x, const MarginalLikelihoodOptions& options) {
  const ProbabilityFlowDensity flow(kernel, prior, options.flow);
  const Eigen::Index n = x.rows(), dims = x.cols();
  MarginalLogDensity result;
  result.evaluationTime = options.flow.tEps;
  if (kernel.channels() == 1) {
    DensityResult exact = flow.evaluate(model, x);
    result.logDensity = exact.logDensity;
    result.effectiveSampleSize = Eigen::ArrayXd::Ones(n);
    result.standardError = Eigen::ArrayXd::Zero(n);
    result.scoreCalls = exact.scoreCalls;
    return result;
  }
  if (options.samples < 1) throw Error("likelihood", "K, the importance samples per frame, must be >= 1");
  const int k = options.samples;
  result.samples = k;
  // Proposal: the forward law of aux at t given x_0 = x (HSM kernel).
  const DataConditionedKernel law = kernel.givenX0(options.flow.tEps);
  const double meanPerX = law.meanCoefficient(1) / law.meanCoefficient(0);
  const double variance = law.covariance(1, 1);
  const double logNormalizer = -0.5 * static_cast<double>(dims) * std::log(2.0 * M_PI * variance);

  // All K draws of all rows in one batch: row r * K + j is draw j of row r.
  Eigen::ArrayXXd z(n * k, 2 * dims);
  Eigen::ArrayXXd noise(n * k, dims);
  Rng rng(options.seed);
  fillStandardNormal(noise, rng);
  Eigen::ArrayXd logProposal(n * k);
  for (Eigen::Index r = 0; r < n; ++r) {
    for (int j = 0; j < k; ++j) {
      const Eigen::Index row = r * k + j;
      z.row(row).head(dims) = x.row(r);
      z.row(row).tail(dims) = meanPerX * x.row(r) + std::sqrt(variance) * noise.row(row);
      logProposal(row) = logNormalizer - 0.5 * noise.row(row).square().sum();
    }
  }
  const DensityResult joint = flow.evaluate(model, z);
  result.scoreCalls = joint.scoreCalls;
  result.logDensity.resize(n);
  result.effectiveSampleSize.resize(n);
  result.standardError.resize(n);
  for (Eigen::Index r = 0; r < n; ++r) {
    const Eigen::ArrayXd logW = joint.logDensity.segment(r * k, k) - logProposal.segment(r * k, k);
    const double top = logW.maxCoeff();
    const Eigen::ArrayXd w = (logW - top).exp();  // scaled weights, max 1
    const double mean = w.mean();
    result.logDensity(r) = top + std::log(mean);
    result.effectiveSampleSize(r) = w.sum() * w.sum() / w.square().sum();
    const double sd = k > 1 ? std::sqrt((w - mean).square().sum() / (k - 1)) : 0.0;
    result.standardError(r) = k > 1 ? sd / (std::sqrt(static_cast<double>(k)) * mean) : NAN;
  }
  return result;
}

MarginalLogDensity comparableLogDensity(ScoreModel& model, const VanLoanKernel& kernel, const GaussianPrior& prior,
                                        const Eigen::ArrayXXd& x, double xSd, MarginalLikelihoodOptions options) {
  const double t = evaluationTimeForXSd(kernel, xSd, options.flow.tEps, prior.endTime());
  const double m = kernel.givenX0(t).meanCoefficient(0);
  options.flow.tEps = t;
  MarginalLogDensity result = marginalLogDensity(model, kernel, prior, m * x, options);
  result.logDensity += static_cast<double>(x.cols()) * std::log(m);
  return result;
}

}  // namespace activediff::model
