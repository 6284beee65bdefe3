#pragma once
// evaluate's log-likelihood of reference frames under a trained model. The
// model half needs LibTorch, so it lives in model_likelihood_torch.cpp, linked
// only into activediff-torch (commands.h); evaluate without --model runs in
// the executable without LibTorch.
#include <nlohmann/json.hpp>
#include <string>

#include "activediff/featurize/dataset.h"

namespace activediff::cli {

struct ModelLikelihood {
  // A checkpoint file or a training directory -> the checkpoint file; throws
  // activediff::Error naming the path.
  std::string (*resolveCheckpoint)(const std::string& checkpointOrDirectory) = nullptr;
  // {"frames", "model", "nats_per_dim", "kind", importance sampling, "comparable"}
  // for these feature rows; samples: K (model/marginal_likelihood.h).
  nlohmann::json (*ofFrames)(const std::string& checkpoint, const FeatureMatrix& frames, int samples) = nullptr;
};
ModelLikelihood& modelLikelihood();  // empty without LibTorch

}  // namespace activediff::cli
