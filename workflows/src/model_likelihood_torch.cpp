// The torch half of evaluate's likelihood (model_likelihood.h), registered
// into the hook when activediff-torch starts.
#include <algorithm>
#include <cmath>

#include "activediff/featurize/geometry.h"
#include "activediff/model/generator.h"
#include "activediff/model/marginal_likelihood.h"
#include "activediff/model/trainer.h"
#include "model_likelihood.h"

namespace activediff::cli {
namespace {

// The model's log-likelihood of reference frames (exact, probability flow).
nlohmann::json likelihoodOfFrames(const std::string& checkpoint, const FeatureMatrix& frames, int samples) {
  using json = nlohmann::json;
  model::Generator generator(checkpoint);
  const model::VanLoanKernel kernel(generator.sde());
  const model::GaussianPrior prior = kernel.prior(generator.endTime(), 1.0);
  const Eigen::ArrayXXd x = generator.features().toModel(frames.array());
  const double dims = generator.dims();
  model::MarginalLikelihoodOptions options;
  options.flow.tEps = generator.timeEpsilon();
  options.samples = samples;
  const auto summary = [&](const model::MarginalLogDensity& r, double jacobian) {
    const Eigen::ArrayXd perFrame = r.logDensity + jacobian;
    const double n = static_cast<double>(perFrame.size());
    const double mean = perFrame.mean();
    const double frameSd = std::sqrt((perFrame - mean).square().sum() / std::max(n - 1.0, 1.0));
    return json{{"nats_per_dim", mean / dims},
                {"evaluation_time", r.evaluationTime},
                {"importance_samples", r.samples},
                {"mean_effective_sample_size", r.effectiveSampleSize.mean()},
                {"min_effective_sample_size", r.effectiveSampleSize.minCoeff()},
                // Monte-Carlo error of the estimate, and the spread from the
                // choice of frames, both for the mean per dimension.
                {"monte_carlo_standard_error_nats_per_dim", std::sqrt(r.standardError.square().mean() / n) / dims},
                {"frames_standard_error_nats_per_dim", frameSd / std::sqrt(n) / dims}};
  };
  json likelihood = {{"frames", frames.rows()}, {"model", generator.describe()}};
  // log p_eps(features): exact for one channel; the x-marginal by K-sample
  // importance weighting for two (marginal_likelihood.h).
  const model::MarginalLogDensity atEps =
      model::marginalLogDensity(generator.scoreModel(), kernel, prior, x, options);
  likelihood.update(summary(atEps, generator.features().logJacobianToModel()));
  likelihood["kind"] = generator.sde().channels() == 1
                           ? "exact log p_eps(features), probability-flow ODE"
                           : "log p_eps(features): K-sample importance-weighted estimate of the x-marginal of the "
                             "joint probability-flow density, aux drawn from its forward law at t_eps given x";
  // Comparable across processes: the data smoothed by one common Gaussian.
  const model::MarginalLogDensity comparable = model::comparableLogDensity(
      generator.scoreModel(), kernel, prior, x, model::kComparableXKernelSd, options);
  likelihood["comparable"] = summary(comparable, generator.features().logJacobianToModel());
  likelihood["comparable"]["x_smoothing_sd_standardized"] = model::kComparableXKernelSd;
  likelihood["comparable"]["definition"] =
      "log (data * N(0, sd^2))(features) in standardized units, the same target for every process: log p_t*(m_x x) "
      "+ D log m_x at the t* where the x-kernel's sd / m_x equals sd";
  return likelihood;
}

const bool registered = [] {
  modelLikelihood().resolveCheckpoint = [](const std::string& path) { return model::resolveCheckpoint(path).string(); };
  modelLikelihood().ofFrames = likelihoodOfFrames;
  return true;
}();

}  // namespace
}  // namespace activediff::cli
