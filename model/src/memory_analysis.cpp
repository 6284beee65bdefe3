#include "activediff/model/memory_analysis.h"

#include <sstream>

#include "activediff/featurize/error.h"
#include "channel_ops.h"

namespace activediff::model {

double fisherMemory(const VanLoanKernel& kernel, double t) {
  if (!(t > 0.0)) throw Error("Fisher memory: t must be > 0");
  const DataConditionedKernel k = kernel.givenX0(t);
  const Eigen::Matrix2d precision = detail::inverseOnChannels(k.covariance, kernel.channels());
  const Eigen::Vector2d m =
      kernel.channels() == 1 ? Eigen::Vector2d(k.meanCoefficient(0), 0.0) : k.meanCoefficient;
  return m.dot(precision * m);
}

double speciationTime(const VanLoanKernel& kernel, double largestEigenvalue, double tMax) {
  if (!(largestEigenvalue > 0.0 && tMax > 0.0))
    throw Error("speciation time: need Lambda > 0 and t_max > 0");
  // Signal minus noise in x; positive at t -> 0, negative after the crossing.
  auto excess = [&](double t) {
    const DataConditionedKernel k = kernel.givenX0(t);
    return k.meanCoefficient(0) * k.meanCoefficient(0) * largestEigenvalue - k.covariance(0, 0);
  };
  if (excess(tMax) > 0.0) {
    std::ostringstream m;
    m << "speciation time: no crossing before t_max = " << tMax << " for "
      << kernel.sde().describe();
    throw Error(m.str());
  }
  double lo = 0.0, hi = tMax;
  for (int i = 0; i < 100 && hi - lo > 1e-13 * hi; ++i) {
    const double mid = 0.5 * (lo + hi);
    (excess(mid) > 0.0 ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

}  // namespace activediff::model
