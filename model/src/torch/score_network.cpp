#include "score_network.h"

#include <cmath>

#include "activediff/featurize/error.h"
#include "activediff/model/training_targets.h"

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
  if (c.preconditioning != "marginal" && c.preconditioning != "none")
    throw Error("score network: unknown preconditioning \"" + c.preconditioning + "\" (marginal or none)");
  if (c.timeConditioning != "every-layer" && c.timeConditioning != "input")
    throw Error("score network: unknown time conditioning \"" + c.timeConditioning +
                "\" (every-layer or input)");
  timeLayers_.resize(layers_.size(), nullptr);
  if (c.timeConditioning == "every-layer") {
    // mlp: hidden layers 1..depth-1; resmlp: the inner layer of each block.
    const std::size_t n = layers_.size();
    for (std::size_t i = 1; i + 1 < n; i += (c.kind == "mlp" ? 1 : 2))
      timeLayers_[i] = register_module("time_layer" + std::to_string(i),
                                       torch::nn::Linear(torch::nn::LinearOptions(2 * f, c.width).bias(false)));
  }
}

torch::Tensor ScoreNetworkImpl::timeFeatures(const torch::Tensor& t) const {
  const torch::Tensor u = (torch::log(t) - logAnchor_) / logRange_;
  const torch::Tensor phase = u.unsqueeze(1) * frequencies_.unsqueeze(0);
  return torch::cat({torch::sin(phase), torch::cos(phase)}, 1);
}

torch::Tensor ScoreNetworkImpl::forward(const torch::Tensor& z, const torch::Tensor& t,
                                        const torch::Tensor& preconditioning) {
  const bool preconditioned = shape_.config.preconditioning == "marginal";
  const int dims = shape_.dims;
  const bool twoChannels = shape_.channels == 2;
  torch::Tensor zx, za, column[kPreconditioningColumns];
  if (preconditioned) {
    if (!preconditioning.defined() || preconditioning.dim() != 2 ||
        preconditioning.size(1) != kPreconditioningColumns)
      throw Error("score network: a preconditioned network needs its [B, 7] preconditioning table");
    for (int k = 0; k < kPreconditioningColumns; ++k) column[k] = preconditioning.select(1, k).unsqueeze(1);
    zx = z.narrow(1, 0, dims);
    if (twoChannels) za = z.narrow(1, dims, dims);
  }
  torch::Tensor input = z;
  if (preconditioned) {
    input = column[kInputXX] * zx;
    if (twoChannels) input = torch::cat({input, column[kInputAuxX] * zx + column[kInputAuxAux] * za}, 1);
  }
  const torch::Tensor time = timeFeatures(t);
  torch::Tensor h = torch::cat({input, time}, 1);
  const std::size_t n = layers_.size();
  auto linear = [&](std::size_t i, const torch::Tensor& x) {
    torch::Tensor y = layers_[i]->forward(x);
    return timeLayers_[i] ? y + timeLayers_[i]->forward(time) : y;
  };
  torch::Tensor body;
  if (shape_.config.kind == "mlp") {
    for (std::size_t i = 0; i + 1 < n; ++i) h = torch::silu(linear(i, h));
    body = linear(n - 1, h);
  } else {
    h = linear(0, h);
    for (std::size_t i = 1; i + 2 < n; i += 2)
      h = h + linear(i + 1, torch::silu(linear(i, torch::silu(h))));
    body = linear(n - 1, torch::silu(h));
  }
  if (!preconditioned) return body;
  std::vector<torch::Tensor> gaussian;
  if (shape_.outputs.x)
    gaussian.push_back(twoChannels ? column[kGaussianXX] * zx + column[kGaussianXAux] * za
                                   : column[kGaussianXX] * zx);
  if (shape_.outputs.aux) gaussian.push_back(column[kGaussianAuxX] * zx + column[kGaussianAuxAux] * za);
  return body + torch::cat(gaussian, 1);
}

}  // namespace activediff::model::detail
