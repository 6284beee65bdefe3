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

#include <algorithm>
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

// layers()[i] applied to `input`, plus the time projection where the network
// has one (ScoreNetworkImpl::forward's `linear`).
std::string linearCall(const detail::ScoreNetworkImpl& net, std::size_t layer, const std::string& input) {
  const std::string name = "self.layer" + std::to_string(layer);
  std::string call = "torch.linear(" + input + ", " + name + ".weight, " + name + ".bias)";
  if (net.timeLayers()[layer])
    call = "(" + call + " + torch.linear(time, self.time_layer" + std::to_string(layer) + ".weight))";
  return call;
}

void expectLayers(const detail::ScoreNetworkImpl& net, std::size_t expected) {
  if (net.layers().size() != expected)
    throw Error("export: the " + net.shape().config.kind + " network has " + std::to_string(net.layers().size()) +
                " linear layers where the exporter expects " + std::to_string(expected) +
                "; the network changed without torchscript_export.cpp");
}

// TrainingTargets::preconditioningTable (training_targets.h) in TorchScript,
// from the SDE's drift A and diffusion Q per dimension (buffers, float64):
// the Van Loan kernel of van_loan_kernel.h (one matrix exponential at
// h = t / 2^j with ||A||_1 h <= 0.5, then exact doubling), the covariance
// given x_0 and the marginal one for unit data variance, then W = L_C^-1
// and G = -diag(sqrt(v_c)) C^-1. Agrees with the C++ table to rounding.
std::string generatePreconditioning(const detail::NetworkShape& shape) {
  const int c = shape.channels;
  std::ostringstream s;
  s << "def preconditioning(self, t: Tensor) -> Tensor:\n"
    << "    td = t.double()\n"
    << "    a = self.drift\n"
    << "    q = self.diffusion\n"
    << "    reach = self.drift_norm1 * float(torch.max(td))\n"
    << "    j = 0\n"
    << "    scale = 1.0\n"
    << "    while reach > 0.5:\n"
    << "        reach = 0.5 * reach\n"
    << "        scale = 0.5 * scale\n"
    << "        j += 1\n"
    << "    h = (td * scale).reshape(-1, 1, 1)\n"
    << "    b = td.size(0)\n"
    << "    block = torch.zeros([b, " << 2 * c << ", " << 2 * c << "], dtype=td.dtype)\n"
    << "    block[:, :" << c << ", :" << c << "] = -a * h\n"
    << "    block[:, :" << c << ", " << c << ":] = q * h\n"
    << "    block[:, " << c << ":, " << c << ":] = a.t() * h\n"
    << "    e = torch.matrix_exp(block)\n"
    << "    m = e[:, " << c << ":, " << c << ":].transpose(1, 2)\n"
    << "    cov = torch.matmul(m, e[:, :" << c << ", " << c << ":])\n"
    << "    for _ in range(j):\n"
    << "        cov = cov + torch.matmul(torch.matmul(m, cov), m.transpose(1, 2))\n"
    << "        m = torch.matmul(m, m)\n"
    << "    cov = 0.5 * (cov + cov.transpose(1, 2))\n";
  if (c == 2)
    s << "    cov = cov + self.aux_start_variance * torch.matmul(m[:, :, 1:2], m[:, :, 1:2].transpose(1, 2))\n";
  // 2x2 (or 1x1) Cholesky factor and inverses in closed form, as channel_ops.h.
  s << "    marginal = cov + torch.matmul(m[:, :, 0:1], m[:, :, 0:1].transpose(1, 2))\n"
    << "    out = torch.zeros([b, " << kPreconditioningColumns << "], dtype=td.dtype)\n"
    << "    l00 = torch.sqrt(marginal[:, 0, 0])\n"
    << "    out[:, " << kInputXX << "] = 1.0 / l00\n";
  if (c == 1) {
    if (shape.outputs.x)
      s << "    out[:, " << kGaussianXX << "] = -torch.sqrt(cov[:, 0, 0]) / marginal[:, 0, 0]\n";
  } else {
    s << "    l10 = marginal[:, 1, 0] / l00\n"
      << "    l11 = torch.sqrt(marginal[:, 1, 1] - l10 * l10)\n"
      << "    out[:, " << kInputAuxX << "] = -l10 / (l00 * l11)\n"
      << "    out[:, " << kInputAuxAux << "] = 1.0 / l11\n"
      << "    det = marginal[:, 0, 0] * marginal[:, 1, 1] - marginal[:, 0, 1] * marginal[:, 1, 0]\n"
      << "    cdet = cov[:, 0, 0] * cov[:, 1, 1] - cov[:, 0, 1] * cov[:, 1, 0]\n";
    // whitening_c = sqrt(1 / (S^-1)_cc) = sqrt(det S / S_other,other).
    if (shape.outputs.x)
      s << "    wx = torch.sqrt(cdet / cov[:, 1, 1])\n"
        << "    out[:, " << kGaussianXX << "] = -wx * marginal[:, 1, 1] / det\n"
        << "    out[:, " << kGaussianXAux << "] = wx * marginal[:, 0, 1] / det\n";
    if (shape.outputs.aux)
      s << "    wa = torch.sqrt(cdet / cov[:, 0, 0])\n"
        << "    out[:, " << kGaussianAuxX << "] = wa * marginal[:, 1, 0] / det\n"
        << "    out[:, " << kGaussianAuxAux << "] = -wa * marginal[:, 0, 0] / det\n";
  }
  s << "    return out.float()\n";
  return s.str();
}

bool isPreconditioned(const detail::NetworkShape& shape) { return shape.config.preconditioning == "marginal"; }

// forward() of ScoreNetworkImpl (score_network.cpp), written out for the
// network at hand: the same aten operations in the same order.
std::string generateForward(const detail::ScoreNetworkImpl& net) {
  const detail::NetworkShape& shape = net.shape();
  const std::string& kind = shape.config.kind;
  const std::size_t n = net.layers().size();
  const int d = shape.dims;
  const bool two = shape.channels == 2;
  auto column = [](int k) { return "p[:, " + std::to_string(k) + ":" + std::to_string(k + 1) + "]"; };
  std::ostringstream s;
  if (isPreconditioned(shape)) s << generatePreconditioning(shape) << "\n";
  s << "def forward(self, z: Tensor, t: Tensor) -> Tensor:\n"
    << "    assert z.dim() == 2 and z.size(1) == " << shape.inputs()
    << " and t.dim() == 1 and t.size(0) == z.size(0), \"activediff score network: expects z of shape [B, "
    << shape.inputs() << "] and t of shape [B], float32\"\n"
    << "    u = (torch.log(t) - self.time_log_anchor) / self.time_log_range\n"
    << "    phase = torch.unsqueeze(u, 1) * torch.unsqueeze(self.time_frequencies, 0)\n"
    << "    time = torch.cat([torch.sin(phase), torch.cos(phase)], 1)\n";
  std::string input = "z";
  if (isPreconditioned(shape)) {
    s << "    p = self.preconditioning(t)\n"
      << "    zx = torch.narrow(z, 1, 0, " << d << ")\n";
    if (two) s << "    za = torch.narrow(z, 1, " << d << ", " << d << ")\n";
    s << "    zin = " << column(kInputXX) << " * zx\n";
    if (two)
      s << "    zin = torch.cat([zin, " << column(kInputAuxX) << " * zx + " << column(kInputAuxAux) << " * za], 1)\n";
    input = "zin";
  }
  s << "    h = torch.cat([" << input << ", time], 1)\n";
  if (kind == "mlp") {
    expectLayers(net, std::size_t(shape.config.depth) + 1);
    for (std::size_t i = 0; i + 1 < n; ++i) s << "    h = torch.silu(" << linearCall(net, i, "h") << ")\n";
    s << "    body = " << linearCall(net, n - 1, "h") << "\n";
  } else if (kind == "resmlp") {
    expectLayers(net, 2 * std::size_t(shape.config.depth) + 2);
    s << "    h = " << linearCall(net, 0, "h") << "\n";
    for (std::size_t i = 1; i + 2 < n; i += 2)
      s << "    h = h + " << linearCall(net, i + 1, "torch.silu(" + linearCall(net, i, "torch.silu(h)") + ")")
        << "\n";
    s << "    body = " << linearCall(net, n - 1, "torch.silu(h)") << "\n";
  } else {
    throw Error("export: network kind \"" + kind +
                "\" cannot be written as TorchScript yet (the exporter knows mlp and resmlp)");
  }
  if (!isPreconditioned(shape)) {
    s << "    return body\n";
    return s.str();
  }
  std::vector<std::string> gaussian;
  if (shape.outputs.x)
    gaussian.push_back(two ? column(kGaussianXX) + " * zx + " + column(kGaussianXAux) + " * za"
                           : column(kGaussianXX) + " * zx");
  if (shape.outputs.aux) gaussian.push_back(column(kGaussianAuxX) + " * zx + " + column(kGaussianAuxAux) + " * za");
  s << "    return body + torch.cat([";
  for (std::size_t i = 0; i < gaussian.size(); ++i) s << (i ? ", " : "") << gaussian[i];
  s << "], 1)\n";
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
    if (isPreconditioned(meta.network)) {
      const int c = sde.channels();
      torch::Tensor a = torch::zeros({c, c}, torch::kFloat64), q = torch::zeros({c, c}, torch::kFloat64);
      double norm1 = 0.0;
      for (int col = 0; col < c; ++col) {
        double sum = 0.0;
        for (int r = 0; r < c; ++r) {
          a[r][col] = sde.drift()(r, col);
          q[r][col] = sde.diffusion()(r, col);
          sum += std::abs(sde.drift()(r, col));
        }
        norm1 = std::max(norm1, sum);
      }
      root.register_buffer("drift", a);
      root.register_buffer("diffusion", q);
      root.register_attribute("drift_norm1", c10::FloatType::get(), norm1);
      root.register_attribute("aux_start_variance", c10::FloatType::get(), sde.auxStartVariance());
    }
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
    c10::ClassTypePtr timeLinearType;
    for (std::size_t i = 0; i < net->timeLayers().size(); ++i) {
      const torch::nn::Linear& layer = net->timeLayers()[i];
      if (!layer) continue;
      torch::jit::Module m = timeLinearType
                                 ? torch::jit::Module(unit, timeLinearType)
                                 : torch::jit::Module(c10::QualifiedName("__torch__.activediff.TimeLinear"), unit);
      if (!timeLinearType) timeLinearType = m.type();
      m.register_parameter("weight", cpuCopy(layer->weight).requires_grad_(true), false);
      root.register_module("time_layer" + std::to_string(i), m);
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
    const torch::Tensor expected = net->forward(z, t, preconditioningOf(t));
    torch::jit::Module copy = module;
    const torch::Tensor got = copy.forward({z, t}).toTensor();
    const double diff = got.sizes() == expected.sizes() ? (got - expected).abs().max().item<double>() : INFINITY;
    if (!(diff <= 1e-6))
      throw Error("export: the TorchScript module disagrees with the network by " + std::to_string(diff) +
                  " (an exporter bug; nothing was written)");
  }

  // The table the samplers give the network (generator.cpp), for these t.
  torch::Tensor preconditioningOf(const torch::Tensor& t) const {
    if (!isPreconditioned(meta.network)) return {};
    const torch::Tensor td = t.to(torch::kFloat64).contiguous();
    const Eigen::ArrayXd times = Eigen::Map<const Eigen::ArrayXd>(td.data_ptr<double>(), td.numel());
    const TrainingTargets targets(VanLoanKernel(sde), meta.network.outputs);
    return detail::toTensor(targets.preconditioningTable(times, true), torch::Device(torch::kCPU));
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
        {"preconditioning",
         {{"kind", shape.config.preconditioning},
          {"definition",
           shape.config.preconditioning == "marginal"
               ? "per feature dimension, C(t) = covariance of z_t for unit-variance data (S(t) + exp(A t) "
                 "diag(1, aux_start_variance) exp(A^T t)); the layers see W z with W = cholesky(C)^-1, and "
                 "output = G z + layers, G = -diag(whitening(t)) C^-1 (the score of N(0, C) in output units); "
                 "computed inside the module (its preconditioning method)"
               : "none: the layers see z and output the whole whitened score"}}},
        {"time_conditioning", shape.config.timeConditioning},
        {"activation", "silu"},
        {"layers", layers},
        {"time_embedding",
         {{"definition", "u = (log t - log_anchor) / log_range; phase = u * frequencies; time = [sin(phase), "
                         "cos(phase)]; input = [z, time]; with time_conditioning every-layer, also W_t time "
                         "(time_layer<i>, no bias) added after layer i, before its activation"},
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
  const torch::Tensor tt = detail::toTensor(t, cpu);
  detail::toEigen(impl_->net->forward(detail::toTensor(z, cpu), tt, impl_->preconditioningOf(tt)), out);
  return out;
}

}  // namespace activediff::model
