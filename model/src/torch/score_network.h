#pragma once
// Score networks (private to model/; LibTorch never reaches a public header).
//
// Input: the state z (B x c*D, layout.h: [x_1..x_D | aux_1..aux_D]) and the
// time t (B); output: the whitened score channels the process needs
// (training_targets.h), B x outputs*D. Time enters through fixed sinusoidal
// features, at geometrically spaced frequencies, of the log-time
// u = log(t / a) / log(T / a), a = t_eps / 10: equal resolution per decade,
// because the score changes fastest near t_eps (a linear t / T left the
// peaks of the 9-mode test mixture blurred after a few thousand steps).
//   mlp:    depth hidden layers of `width` with SiLU (the paper's 2D model: 4 x 128)
//   resmlp: an input layer, `depth` residual blocks h + W2 silu(W1 silu(h)), SiLU, output
// Time conditioning "every-layer" adds a learned projection of the same time
// features (no bias) to every later hidden layer (mlp) or the inner layer of
// every residual block (resmlp), before the activation; "input" only
// concatenates them to the input.
// Preconditioning (training_targets.h): forward takes the per-row table of
// TrainingTargets::preconditioningTable ([B or 1, kPreconditioningColumns]):
// the network body F sees z~ = W z and the output is G z + F(z~, t).
// float32, on any torch::Device.
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <string>
#include <vector>

#include "../checkpoint_metadata.h"

namespace activediff::model::detail {

class ScoreNetworkImpl : public torch::nn::Module {
 public:
  explicit ScoreNetworkImpl(const NetworkShape& shape);
  // z: [B, c*D] float32, t: [B] float32, preconditioning: [B or 1, 7]
  // float32 (undefined, and unread, for a network without preconditioning)
  // -> [B, outputs*D].
  torch::Tensor forward(const torch::Tensor& z, const torch::Tensor& t,
                        const torch::Tensor& preconditioning);
  const NetworkShape& shape() const { return shape_; }
  // What forward() computes with, for the TorchScript export
  // (torchscript_export.cpp): u = (log t - timeLogAnchor()) / timeLogRange(),
  // phase = u * timeFrequencies(), and the linear layers in forward's order.
  double timeLogAnchor() const { return logAnchor_; }
  double timeLogRange() const { return logRange_; }
  const torch::Tensor& timeFrequencies() const { return frequencies_; }
  const std::vector<torch::nn::Linear>& layers() const { return layers_; }
  // timeLayers()[i] is added before the activation that follows layers()[i]
  // (undefined where none): registered as time_layer<i>.
  const std::vector<torch::nn::Linear>& timeLayers() const { return timeLayers_; }

 private:
  torch::Tensor timeFeatures(const torch::Tensor& t) const;
  NetworkShape shape_;
  torch::Tensor frequencies_;  // buffer, [F]
  double logAnchor_ = 0.0, logRange_ = 1.0;
  std::vector<torch::nn::Linear> layers_;  // registered as layer0, layer1, ...
  std::vector<torch::nn::Linear> timeLayers_;  // one slot per layer, nullptr where none
};
TORCH_MODULE(ScoreNetwork);

}  // namespace activediff::model::detail
