// The LibTorch side of network_export.h: a checkpoint's ScoreNetwork written
// as a torch::jit::Module. The one place that knows how each network kind's
// forward reads in TorchScript: when score_network.cpp changes what forward
// computes, change generateForward() with it (export_test compares the module
// with the C++ network on whatever network the checkpoint holds, and the
// exporter itself refuses a module that disagrees with the network).
#include "activediff/model/network_export.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/csrc/jit/api/compilation_unit.h>
#include <torch/csrc/jit/api/module.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

#include "../checkpoint_file.h"
#include "../checkpoint_metadata.h"
#include "activediff/featurize/error.h"
#include "activediff/model/linear_sde.h"
#include "activediff/model/trainer.h"
#include "activediff/model/training_targets.h"
#include "activediff/model/van_loan_kernel.h"
#include "torch_support.h"

namespace activediff::model {
namespace {

using nlohmann::json;

std::string linearCall(std::size_t layer, const std::string& input) {
  const std::string name = "self.layer" + std::to_string(layer);
  return "torch.linear(" + input + ", " + name + ".weight, " + name + ".bias)";
}

void expectLayers(const detail::ScoreNetworkImpl& net, std::size_t expected) {
  if (net.layers().size() != expected)
    throw Error("export: the " + net.shape().config.kind + " network has " + std::to_string(net.layers().size()) +
                " linear layers where the exporter expects " + std::to_string(expected) +
                "; the network changed without torchscript_export.cpp");
}

// forward() of ScoreNetworkImpl (score_network.cpp), written out for the
// network at hand: the same aten operations in the same order.
std::string generateForward(const detail::ScoreNetworkImpl& net) {
  const detail::NetworkShape& shape = net.shape();
  const std::string& kind = shape.config.kind;
  const std::size_t n = net.layers().size();
  std::ostringstream s;
  s << "def forward(self, z: Tensor, t: Tensor) -> Tensor:\n"
    << "    assert z.dim() == 2 and z.size(1) == " << shape.inputs()
    << " and t.dim() == 1 and t.size(0) == z.size(0), \"activediff score network: expects z of shape [B, "
    << shape.inputs() << "] and t of shape [B], float32\"\n"
    << "    u = (torch.log(t) - self.time_log_anchor) / self.time_log_range\n"
    << "    phase = torch.unsqueeze(u, 1) * torch.unsqueeze(self.time_frequencies, 0)\n"
    << "    h = torch.cat([z, torch.cat([torch.sin(phase), torch.cos(phase)], 1)], 1)\n";
  if (kind == "mlp") {
    expectLayers(net, std::size_t(shape.config.depth) + 1);
    for (std::size_t i = 0; i + 1 < n; ++i) s << "    h = torch.silu(" << linearCall(i, "h") << ")\n";
    s << "    return " << linearCall(n - 1, "h") << "\n";
  } else if (kind == "resmlp") {
    expectLayers(net, 2 * std::size_t(shape.config.depth) + 2);
    s << "    h = " << linearCall(0, "h") << "\n";
    for (std::size_t i = 1; i + 2 < n; i += 2)
      s << "    h = h + " << linearCall(i + 1, "torch.silu(" + linearCall(i, "torch.silu(h)") + ")") << "\n";
    s << "    return " << linearCall(n - 1, "torch.silu(h)") << "\n";
  } else {
    throw Error("export: network kind \"" + kind +
                "\" cannot be written as TorchScript yet (the exporter knows mlp and resmlp)");
  }
  return s.str();
}

torch::Tensor cpuCopy(const torch::Tensor& t) { return t.detach().to(torch::kCPU).clone(); }

// Test inputs for the exporter's own check: fixed-seed states, times spread
// over [t_eps, T] in log t.
void checkInputs(const detail::NetworkShape& shape, torch::Tensor& z, torch::Tensor& t) {
  const int rows = 16;
  const at::Generator gen = at::detail::createCPUGenerator(12345);
  z = at::randn({rows, shape.inputs()}, gen, torch::dtype(torch::kFloat32));
  t = torch::exp(torch::linspace(std::log(shape.tEps), std::log(shape.endTime), rows, torch::kFloat64))
          .to(torch::kFloat32);
}

json channelColumns(const LinearSde& sde, const FeatureSpec& f, int channels, const ScoreChannels* only) {
  json columns = json::array();
  for (int c = 0; c < channels; ++c) {
    if (only && !only->has(c)) continue;
    for (const std::string& name : f.names) columns.push_back(sde.channelName(c) + ":" + name);
  }
  return columns;
}

}  // namespace

struct NetworkExport::Impl {
  Impl(const std::filesystem::path& file, bool ema)
      : path(resolveCheckpoint(file)),
        useEma(ema),
        meta(load()),
        sde(LinearSde::fromParameters(meta.config.process.sde)),
        net(meta.network) {
    if (meta.network.channels != sde.channels())
      throw Error(path.string(), "network channels disagree with the stored process");
    detail::configureThreads(1);
    detail::loadTensors(archive, path.string(), *net, nullptr, nullptr, useEma, torch::Device(torch::kCPU));
    archive.clear();
    net->eval();
    source = generateForward(*net);
    module = build();
    selfCheck();
  }

  detail::CheckpointMetadata load() {
    if (!std::filesystem::exists(path)) throw Error(path.string(), "no such checkpoint");
    detail::CheckpointFile f = detail::readCheckpointFile(path);
    archive = std::move(f.tensorArchive);
    return detail::metadataFromJson(f.metadataJson, path.string());
  }

  torch::jit::Module build() const {
    auto unit = std::make_shared<torch::jit::CompilationUnit>();
    torch::jit::Module root(c10::QualifiedName("__torch__.activediff.ScoreNetwork"), unit);
    root.register_attribute("time_log_anchor", c10::FloatType::get(), net->timeLogAnchor());
    root.register_attribute("time_log_range", c10::FloatType::get(), net->timeLogRange());
    root.register_attribute("input_width", c10::IntType::get(), std::int64_t(meta.network.inputs()));
    root.register_attribute("output_width", c10::IntType::get(), std::int64_t(meta.network.outputCount()));
    root.register_buffer("time_frequencies", cpuCopy(net->timeFrequencies()));
    c10::ClassTypePtr linearType;
    for (std::size_t i = 0; i < net->layers().size(); ++i) {
      const torch::nn::Linear& layer = net->layers()[i];
      torch::jit::Module m = linearType ? torch::jit::Module(unit, linearType)
                                        : torch::jit::Module(c10::QualifiedName("__torch__.activediff.Linear"), unit);
      if (!linearType) linearType = m.type();
      m.register_parameter("weight", cpuCopy(layer->weight).requires_grad_(true), false);
      m.register_parameter("bias", cpuCopy(layer->bias).requires_grad_(true), false);
      root.register_module("layer" + std::to_string(i), m);
    }
    try {
      root.define(source);
    } catch (const std::exception& e) {
      std::string what = e.what();
      throw Error("export: the generated TorchScript does not compile (an exporter bug): " + what);
    }
    root.eval();
    return root;
  }

  // The compiled module must compute what the network computes.
  void selfCheck() {
    torch::Tensor z, t;
    checkInputs(meta.network, z, t);
    torch::NoGradGuard noGrad;
    const torch::Tensor expected = net->forward(z, t);
    torch::jit::Module copy = module;
    const torch::Tensor got = copy.forward({z, t}).toTensor();
    const double diff = got.sizes() == expected.sizes() ? (got - expected).abs().max().item<double>() : INFINITY;
    if (!(diff <= 1e-6))
      throw Error("export: the TorchScript module disagrees with the network by " + std::to_string(diff) +
                  " (an exporter bug; nothing was written)");
  }

  std::filesystem::path path;
  bool useEma;
  std::string archive;
  detail::CheckpointMetadata meta;
  LinearSde sde;
  detail::ScoreNetwork net;
  std::string source;
  torch::jit::Module module;
};

NetworkExport::NetworkExport(const std::filesystem::path& checkpoint, bool useEma)
    : impl_(std::make_unique<Impl>(checkpoint, useEma)) {}
NetworkExport::~NetworkExport() = default;
NetworkExport::NetworkExport(NetworkExport&&) noexcept = default;
NetworkExport& NetworkExport::operator=(NetworkExport&&) noexcept = default;

int NetworkExport::inputWidth() const { return impl_->meta.network.inputs(); }
int NetworkExport::outputWidth() const { return impl_->meta.network.outputCount(); }
const std::filesystem::path& NetworkExport::checkpoint() const { return impl_->path; }
const std::string& NetworkExport::forwardSource() const { return impl_->source; }

std::string NetworkExport::forwardSignature() const {
  return "forward(z: Tensor[B, " + std::to_string(inputWidth()) + "] float32, t: Tensor[B] float32) -> Tensor[B, " +
         std::to_string(outputWidth()) + "] float32";
}

std::string NetworkExport::torchScriptModule(const std::string& embeddedJson) const {
  std::ostringstream out;
  try {
    impl_->module.save(out, {{"activediff.json", embeddedJson}});
  } catch (const std::exception& e) {
    throw Error("export: cannot serialize the TorchScript module: " + std::string(e.what()));
  }
  return out.str();
}

std::string NetworkExport::describeJson(const std::string& moduleFile) const {
  const detail::CheckpointMetadata& m = impl_->meta;
  const detail::NetworkShape& shape = m.network;
  const LinearSde& sde = impl_->sde;
  const FeatureSpec& f = m.features;
  const int channels = sde.channels();
  const int dims = shape.dims;

  json channelNames = json::array(), outputNames = json::array();
  for (int c = 0; c < channels; ++c) {
    channelNames.push_back(sde.channelName(c));
    if (shape.outputs.has(c)) outputNames.push_back(sde.channelName(c));
  }
  json layers = json::array();
  for (const torch::nn::Linear& l : impl_->net->layers())
    layers.push_back({{"in", l->weight.size(1)}, {"out", l->weight.size(0)}});
  const torch::Tensor freq = cpuCopy(impl_->net->timeFrequencies()).to(torch::kFloat64).contiguous();
  std::vector<double> frequencies(freq.data_ptr<double>(), freq.data_ptr<double>() + freq.numel());

  json drift = json::array(), diffusion = json::array();
  for (int r = 0; r < channels; ++r) {
    json a = json::array(), q = json::array();
    for (int c = 0; c < channels; ++c) {
      a.push_back(sde.drift()(r, c));
      q.push_back(sde.diffusion()(r, c));
    }
    drift.push_back(a);
    diffusion.push_back(q);
  }
  const json config = json::parse(toJsonText(m.config));
  json process = config.at("process");
  process["describe"] = sde.describe();
  process["channels"] = channels;
  process["channel_names"] = channelNames;
  process["drift_per_dimension"] = drift;
  process["diffusion_per_dimension"] = diffusion;
  process["aux_start_variance"] = sde.auxStartVariance();
  process["end_time_effective"] = shape.endTime;
  process["equation"] = "dz = A z dt + G dW per feature dimension, A = drift_per_dimension, "
                        "Q = G G^T = diffusion_per_dimension, over the channels channel_names";

  // sqrt(v_c(t)) on a log grid, so that Python can turn outputs into scores.
  const TrainingTargets targets(VanLoanKernel(sde), shape.outputs);
  const int gridSize = 129;
  Eigen::ArrayXd grid(gridSize);
  for (int i = 0; i < gridSize; ++i)
    grid(i) = std::exp(std::log(shape.tEps) + (std::log(shape.endTime) - std::log(shape.tEps)) * i / (gridSize - 1));
  const Eigen::ArrayXXd table = targets.coefficientTable(grid);
  json whitening = {{"t", std::vector<double>(grid.data(), grid.data() + gridSize)},
                    {"definition",
                     "score_c(z, t) = output_c / whitening_c(t), whitening_c = sqrt(1 / (S(t)^-1)_cc), S(t) the "
                     "covariance of z_t given x_0 (MATH.md 3); tabulated on a log grid of t from t_eps to T "
                     "(interpolate in log t)"}};
  if (shape.outputs.x) {
    const Eigen::ArrayXd col = table.col(kWhiteningX);
    whitening[sde.channelName(0)] = std::vector<double>(col.data(), col.data() + gridSize);
  }
  if (channels > 1 && shape.outputs.aux) {
    const Eigen::ArrayXd col = table.col(kWhiteningAux);
    whitening[sde.channelName(1)] = std::vector<double>(col.data(), col.data() + gridSize);
  }

  json features = detail::featureSpecJson(f);
  features["standardization"] =
      "x = (f - mean) / stddev, periodic f first unwrapped to [cut, cut + 2 pi); back: f = mean + stddev x, "
      "periodic values wrapped to (-pi, pi]";

  json j = {
      {"format", "activediff-torchscript-export"},
      {"format_version", 1},
      {"module",
       {{"file", moduleFile},
        {"load", "torch.jit.load(file); module(z, t)"},
        {"forward", forwardSignature()},
        {"embedded_json", "activediff.json (torch.jit.load(file, _extra_files={'activediff.json': ''}))"},
        {"weights", impl_->useEma ? "ema" : "raw"},
        {"torchscript", impl_->source}}},
      {"forward_inputs",
       {{"z",
         {{"shape", json::array({"B", shape.inputs()})},
          {"dtype", "float32"},
          {"layout", "channel-major: columns [c*D, (c+1)*D) hold channel c of the D features; channel 0 is x, "
                     "the standardized features (features.standardization)"},
          {"columns", channelColumns(sde, f, channels, nullptr)}}},
        {"t",
         {{"shape", json::array({"B"})},
          {"dtype", "float32"},
          {"range", json::array({shape.tEps, shape.endTime})},
          {"meaning", "diffusion time; t_eps (samplers stop there) to the end time T"}}}}},
      {"forward_output",
       {{"shape", json::array({"B", shape.outputCount()})},
        {"dtype", "float32"},
        {"channels", outputNames},
        {"columns", channelColumns(sde, f, channels, &shape.outputs)},
        {"meaning", "whitened score of the output channels (unit variance at every t); score_c = output_c / "
                    "whitening_c(t), see whitening"}}},
      {"network",
       {{"kind", shape.config.kind},
        {"width", shape.config.width},
        {"depth", shape.config.depth},
        {"time_frequencies", shape.config.timeFrequencies},
        {"all_channels", shape.config.allChannels},
        {"activation", "silu"},
        {"layers", layers},
        {"time_embedding",
         {{"definition", "u = (log t - log_anchor) / log_range; phase = u * frequencies; input = [z, sin(phase), "
                         "cos(phase)]"},
          {"log_anchor", impl_->net->timeLogAnchor()},
          {"log_range", impl_->net->timeLogRange()},
          {"frequencies", frequencies}}}}},
      {"process", process},
      {"whitening", whitening},
      {"features", features},
      {"checkpoint",
       {{"path", impl_->path.string()},
        {"step", m.step},
        {"activediff_version", m.activediffVersion},
        {"data", {{"source", m.dataSource}, {"checksum", m.dataChecksum}, {"train_rows", m.trainRows},
                  {"validation_rows", m.validationRows}}},
        {"config", config},
        {"provenance", json::parse(m.provenanceJson)}}}};
  return j.dump();
}

Eigen::ArrayXXd NetworkExport::referenceOutputs(const Eigen::ArrayXXd& z, const Eigen::ArrayXd& t) const {
  if (z.cols() != inputWidth())
    throw Error("export: reference states have " + std::to_string(z.cols()) + " columns, the network takes " +
                std::to_string(inputWidth()));
  if (t.size() != z.rows())
    throw Error("export: " + std::to_string(t.size()) + " times for " + std::to_string(z.rows()) + " states");
  torch::InferenceMode inference;
  const torch::Device cpu(torch::kCPU);
  Eigen::ArrayXXd out;
  detail::toEigen(impl_->net->forward(detail::toTensor(z, cpu), detail::toTensor(t, cpu)), out);
  return out;
}

}  // namespace activediff::model
