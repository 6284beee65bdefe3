#include "activediff/model/log_density.h"

#include "activediff/featurize/error.h"
#include "reverse_dynamics.h"

namespace activediff::model {

using Eigen::ArrayXd;
using Eigen::ArrayXXd;

ProbabilityFlowDensity::ProbabilityFlowDensity(VanLoanKernel kernel, GaussianPrior prior,
                                               LogDensityOptions options)
    : kernel_(std::move(kernel)), prior_(std::move(prior)), options_(options) {
  if (prior_.channels() != kernel_.channels())
    throw Error("log-density: the prior's channels differ from the process's");
  grid_ = makeTimeGrid(options_.grid, options_.tEps, prior_.endTime(), options_.steps, &kernel_);
}

long ProbabilityFlowDensity::integrate(ScoreModel& model, ArrayXXd& z, ArrayXd& ell,
                                       bool backwards) const {
  const LinearSde& sde = kernel_.sde();
  const int dims = static_cast<int>(z.cols()) / sde.channels();
  detail::requireLayout(z, sde, dims, "log-density");
  detail::requireScoreChannels(model, sde, false, "log-density");
  if (!model.hasJacobianDiagonal())
    throw Error("log-density: the score model provides no Jacobian diagonal");
  long calls = 0;
  ArrayXXd s, jac;
  // Right-hand side of the augmented ODE: (f, -div f).
  auto rhs = [&](const ArrayXXd& state, double t, ArrayXXd& dz, ArrayXd& dell) {
    model.scoreAndJacobianDiagonal(state, t, s, jac);
    ++calls;
    detail::reverseDrift(sde, dims, state, s, 0.5, dz);
    dell = -detail::flowDivergence(sde, dims, jac);
  };
  ArrayXXd k1, k2, k3, k4;
  ArrayXd l1, l2, l3, l4;
  const int n = static_cast<int>(grid_.size()) - 1;
  for (int step = 0; step < n; ++step) {
    const double t0 = backwards ? grid_[n - step] : grid_[step];
    const double t1 = backwards ? grid_[n - step - 1] : grid_[step + 1];
    const double h = t1 - t0;
    rhs(z, t0, k1, l1);
    rhs(z + (0.5 * h) * k1, t0 + 0.5 * h, k2, l2);
    rhs(z + (0.5 * h) * k2, t0 + 0.5 * h, k3, l3);
    rhs(z + h * k3, t1, k4, l4);
    z += (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4);
    ell += (h / 6.0) * (l1 + 2.0 * l2 + 2.0 * l3 + l4);
  }
  return calls;
}

DensityResult ProbabilityFlowDensity::sample(ScoreModel& model, int n, int dims,
                                             std::uint64_t seed) const {
  if (n < 1 || dims < 1) throw Error("log-density: need n >= 1 samples of dims >= 1");
  Rng rng(seed);
  DensityResult result;
  result.z = prior_.sample(n, dims, rng);
  result.logDensity = prior_.logDensity(result.z);  // ell(T)
  result.scoreCalls = integrate(model, result.z, result.logDensity, true);
  return result;
}

DensityResult ProbabilityFlowDensity::evaluate(ScoreModel& model, const ArrayXXd& zEps) const {
  DensityResult result;
  result.z = zEps;
  ArrayXd ell = ArrayXd::Zero(zEps.rows());  // ell(T) - ell(eps) = -integral div f
  result.scoreCalls = integrate(model, result.z, ell, false);
  result.logDensity = prior_.logDensity(result.z) - ell;
  return result;
}

}  // namespace activediff::model
