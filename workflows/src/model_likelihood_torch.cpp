// The torch half of evaluate's likelihood (model_likelihood.h), registered
// into the hook when activediff-torch starts.
#include <cmath>

#include "activediff/featurize/geometry.h"
#include "activediff/model/generator.h"
#include "activediff/model/trainer.h"
#include "model_likelihood.h"

namespace activediff::cli {
namespace {

// The model's log-likelihood of reference frames (exact, probability flow).
nlohmann::json likelihoodOfFrames(const std::string& checkpoint, const FeatureMatrix& frames) {
  using json = nlohmann::json;
  model::Generator generator(checkpoint);
  json likelihood = {{"frames", frames.rows()}, {"model", generator.describe()}};
  if (generator.sde().channels() == 1) {
    const Eigen::ArrayXd logp = generator.logDensityOfFeatures(frames.array());
    likelihood["nats_per_dim"] = logp.mean() / generator.dims();
    likelihood["kind"] = "exact log p(features), probability-flow ODE";
  } else if (generator.sde().auxStartVariance() > 0.0) {
    // The density is joint in (x, aux) (MATH.md 4b); with aux drawn from its
    // start law r, E_r[log p(x, aux) - log r(aux)] is a lower bound on log p(x)
    // (Jensen), estimated here with one draw per frame.
    const Eigen::ArrayXXd x = generator.features().toModel(frames.array());
    const double variance = generator.sde().auxStartVariance();
    Eigen::ArrayXXd aux(x.rows(), x.cols());
    model::Rng rng(20261123);
    model::fillStandardNormal(aux, rng);
    aux *= std::sqrt(variance);
    Eigen::ArrayXXd z(x.rows(), 2 * x.cols());
    z << x, aux;
    const Eigen::ArrayXd joint = generator.logDensityOfStates(z);
    const Eigen::ArrayXd logR =
        (-0.5 * aux.square() / variance).rowwise().sum() - 0.5 * x.cols() * std::log(2.0 * kPi * variance);
    const Eigen::ArrayXd bound = joint - logR + generator.features().logJacobianToModel();
    likelihood["nats_per_dim"] = bound.mean() / generator.dims();
    likelihood["kind"] =
        "lower bound on log p(features): E over aux ~ its start law of log p(x, aux) - log r(aux), "
        "probability-flow ODE, one draw per frame";
  } else {
    likelihood["nats_per_dim"] = nullptr;
    likelihood["kind"] = "not available: joint density in (x, aux) and no auxiliary start law to bound it";
  }
  return likelihood;
}

const bool registered = [] {
  modelLikelihood().resolveCheckpoint = [](const std::string& path) { return model::resolveCheckpoint(path).string(); };
  modelLikelihood().ofFrames = likelihoodOfFrames;
  return true;
}();

}  // namespace
}  // namespace activediff::cli
