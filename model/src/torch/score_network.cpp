#include "score_network.h"

#include <cmath>

#include "activediff/featurize/error.h"

namespace activediff::model::detail {

ScoreNetworkImpl::ScoreNetworkImpl(const NetworkShape& shape) : shape_(shape) {
  const NetworkConfig& c = shape.config;
  if (shape.dims < 1 || shape.outputs.count() < 1)
    throw Error("score network: needs at least one dimension and one output channel");
  // Frequencies 0.25 .. 64 cycles over u in [0, 1]: the slowest resolves the
  // whole range, the fastest fine changes within a decade of t.
  logAnchor_ = std::log(shape.tEps / 10.0);
  logRange_ = std::log(shape.endTime) - logAnchor_;
  if (!(shape.tEps > 0.0) || !(logRange_ > 0.0))
    throw Error("score network: needs 0 < t_eps < end_time");
  const int f = c.timeFrequencies;
  std::vector<float> freq(f);
  for (int i = 0; i < f; ++i)
    freq[i] = float(2.0 * M_PI * 0.25 * std::pow(256.0, f > 1 ? double(i) / (f - 1) : 0.0));
  frequencies_ = register_buffer("frequencies", torch::tensor(freq));
  const int in = shape.inputs() + 2 * f;
  auto add = [&](int from, int to) {
    const std::string name = "layer" + std::to_string(layers_.size());
    layers_.push_back(register_module(name, torch::nn::Linear(from, to)));
  };
  if (c.kind == "mlp") {
    add(in, c.width);
    for (int i = 1; i < c.depth; ++i) add(c.width, c.width);
  } else if (c.kind == "resmlp") {
    add(in, c.width);
    for (int i = 0; i < 2 * c.depth; ++i) add(c.width, c.width);
  } else {
    throw Error("score network: unknown kind \"" + c.kind + "\" (mlp or resmlp)");
  }
  add(c.width, shape.outputCount());
}

torch::Tensor ScoreNetworkImpl::timeFeatures(const torch::Tensor& t) const {
  const torch::Tensor u = (torch::log(t) - logAnchor_) / logRange_;
  const torch::Tensor phase = u.unsqueeze(1) * frequencies_.unsqueeze(0);
  return torch::cat({torch::sin(phase), torch::cos(phase)}, 1);
}

torch::Tensor ScoreNetworkImpl::forward(const torch::Tensor& z, const torch::Tensor& t) {
  torch::Tensor h = torch::cat({z, timeFeatures(t)}, 1);
  const std::size_t n = layers_.size();
  auto linear = [&](std::size_t i, const torch::Tensor& x) { return layers_[i]->forward(x); };
  if (shape_.config.kind == "mlp") {
    for (std::size_t i = 0; i + 1 < n; ++i) h = torch::silu(linear(i, h));
    return linear(n - 1, h);
  }
  h = linear(0, h);
  for (std::size_t i = 1; i + 2 < n; i += 2)
    h = h + linear(i + 1, torch::silu(linear(i, torch::silu(h))));
  return linear(n - 1, torch::silu(h));
}

}  // namespace activediff::model::detail
