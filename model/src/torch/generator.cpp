// The LibTorch side of generator.h: the network wrapped as the core's
// ScoreModel, and the core's samplers and likelihood integrator over it.
#include "activediff/model/generator.h"

#include <chrono>
#include <nlohmann/json.hpp>
#include <sstream>
#include <torch/autograd.h>

#include "../checkpoint_file.h"
#include "../checkpoint_metadata.h"
#include "activediff/featurize/error.h"
#include "activediff/model/eigen_score_network.h"
#include "activediff/model/log_density.h"
#include "activediff/model/samplers.h"
#include "activediff/model/trainer.h"
#include "activediff/model/training_targets.h"
#include "torch_support.h"

namespace activediff::model {
namespace {

// score_c = network_c / sqrt(v_c): TrainingTargets::scoresFromWhitened is the
// one definition; the Jacobian diagonal of the score is the network's
// (whitened) Jacobian diagonal through the same per-channel scaling.
class NetworkScoreModel : public ScoreModel {
 public:
  NetworkScoreModel(detail::ScoreNetwork net, const TrainingTargets& targets, torch::Device device)
      : net_(std::move(net)),
        targets_(targets),
        device_(device),
        preconditioned_(net_->shape().config.preconditioning == "marginal") {}
  ScoreChannels channels() const override { return targets_.outputs(); }

  void score(const Eigen::ArrayXXd& z, double t, Eigen::ArrayXXd& score) override {
    torch::InferenceMode inference;
    const torch::Tensor zt = detail::toTensor(z, device_);
    const torch::Tensor tt = torch::full({z.rows()}, t, zt.options());
    detail::toEigen(net_->forward(zt, tt, preconditioning(t)), whitened_);
    targets_.scoresFromWhitened(t, whitened_, score);
  }

  bool hasJacobianDiagonal() const override { return true; }

  // One vector-Jacobian product per output column: exact, not estimated.
  void scoreAndJacobianDiagonal(const Eigen::ArrayXXd& z, double t, Eigen::ArrayXXd& score,
                                Eigen::ArrayXXd& jacobianDiagonal) override {
    const int dims = static_cast<int>(z.cols()) / targets_.channels();
    const torch::Tensor zt = detail::toTensor(z, device_).requires_grad_(true);
    const torch::Tensor tt = torch::full({z.rows()}, t, zt.options().requires_grad(false));
    const torch::Tensor out = net_->forward(zt, tt, preconditioning(t));
    torch::Tensor diag = torch::zeros_like(out);
    const ScoreChannels outputs = targets_.outputs();
    int block = 0;
    for (int channel = 0; channel < targets_.channels(); ++channel) {
      if (!outputs.has(channel)) continue;
      for (int d = 0; d < dims; ++d) {
        const int outColumn = block * dims + d;
        const int inColumn = channel * dims + d;
        torch::Tensor seed = torch::zeros_like(out);
        seed.select(1, outColumn).fill_(1.0);
        const torch::Tensor grad =
            torch::autograd::grad({out}, {zt}, {seed}, /*retain_graph=*/true)[0];
        diag.select(1, outColumn).copy_(grad.select(1, inColumn));
      }
      ++block;
    }
    detail::toEigen(out, whitened_);
    targets_.scoresFromWhitened(t, whitened_, score);
    detail::toEigen(diag, whitened_);
    targets_.scoresFromWhitened(t, whitened_, jacobianDiagonal);
  }

  detail::ScoreNetwork& network() { return net_; }

 private:
  // One row for the common t of a sampler step (the network broadcasts it);
  // none for a network without preconditioning.
  torch::Tensor preconditioning(double t) const {
    if (!preconditioned_) return {};
    return detail::toTensor(targets_.preconditioningTable(Eigen::ArrayXd::Constant(1, t), true), device_);
  }
  detail::ScoreNetwork net_;
  const TrainingTargets& targets_;
  torch::Device device_;
  bool preconditioned_;
  Eigen::ArrayXXd whitened_;
};

}  // namespace

struct Generator::Impl {
  Impl(const std::filesystem::path& file, const GeneratorOptions& o)
      : options(o),
        meta(load(file)),
        sde(LinearSde::fromParameters(meta.config.process.sde)),
        kernel(sde),
        targets(kernel, meta.network.outputs),
        device(selectAfterThreads(o)),
        model(detail::ScoreNetwork(meta.network), targets, device) {
    if (meta.network.channels != sde.channels())
      throw Error(file.string(), "network channels disagree with the stored process");
    model.network()->to(device);
    detail::loadTensors(archive, file.string(), *model.network(), nullptr, nullptr, o.useEma,
                        device);
    archive.clear();
    model.network()->eval();
    if (o.eigenNetwork) {
      if (!device.is_cpu()) throw Error("generator: the Eigen network evaluator runs on the CPU only");
      eigen = std::make_unique<EigenScoreNetwork>(eigenWeights(), targets);
    }
  }

  // The loaded network's weights for the Eigen evaluator.
  EigenNetworkWeights eigenWeights() {
    auto matrix = [](const torch::Tensor& t) {
      const torch::Tensor c = t.detach().to(torch::kCPU).to(torch::kFloat64).contiguous();
      const Eigen::Index rows = c.size(0), cols = c.dim() > 1 ? c.size(1) : 1;
      return Eigen::MatrixXd(
          Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(c.data_ptr<double>(),
                                                                                                 rows, cols));
    };
    detail::ScoreNetworkImpl& net = *model.network();
    EigenNetworkWeights w;
    w.kind = meta.network.config.kind;
    w.preconditioned = meta.network.config.preconditioning == "marginal";
    w.dims = meta.network.dims;
    w.channels = meta.network.channels;
    w.timeLogAnchor = net.timeLogAnchor();
    w.timeLogRange = net.timeLogRange();
    w.timeFrequencies = matrix(net.timeFrequencies()).col(0);
    for (std::size_t i = 0; i < net.layers().size(); ++i) {
      w.weights.push_back(matrix(net.layers()[i]->weight));
      w.biases.push_back(matrix(net.layers()[i]->bias).col(0));
      w.timeWeights.push_back(net.timeLayers()[i] ? matrix(net.timeLayers()[i]->weight) : Eigen::MatrixXd());
    }
    return w;
  }
  ScoreModel& scoreModel() { return eigen ? static_cast<ScoreModel&>(*eigen) : model; }

  detail::CheckpointMetadata load(const std::filesystem::path& file) {
    if (!std::filesystem::exists(file)) throw Error(file.string(), "no such checkpoint");
    detail::CheckpointFile f = detail::readCheckpointFile(file);
    archive = std::move(f.tensorArchive);
    return detail::metadataFromJson(f.metadataJson, file.string());
  }
  static torch::Device selectAfterThreads(const GeneratorOptions& o) {
    if (o.threads < 1) throw Error("generator: threads must be >= 1");
    if (o.batchSize < 1) throw Error("generator: batch size must be >= 1");
    detail::configureThreads(o.threads);
    return detail::selectDevice(o.device);
  }
  GaussianPrior prior() const { return kernel.prior(meta.network.endTime, 1.0); }
  // The probability-flow log-density of sampleWithLogDensity and
  // logDensityOfStates: RK4 steps on options.densityGrid.
  ProbabilityFlowDensity densityFlow(int steps) const {
    LogDensityOptions o;
    o.steps = steps;
    o.tEps = meta.config.process.tEps;
    o.grid = options.densityGrid;
    return ProbabilityFlowDensity(kernel, prior(), o);
  }

  GeneratorOptions options;
  std::string archive;
  detail::CheckpointMetadata meta;
  LinearSde sde;
  VanLoanKernel kernel;
  TrainingTargets targets;
  torch::Device device;
  NetworkScoreModel model;
  std::unique_ptr<EigenScoreNetwork> eigen;
};

Generator::Generator(const std::filesystem::path& checkpoint, const GeneratorOptions& options)
    : impl_(std::make_unique<Impl>(resolveCheckpoint(checkpoint), options)) {}
Generator::~Generator() = default;
Generator::Generator(Generator&&) noexcept = default;
Generator& Generator::operator=(Generator&&) noexcept = default;

int Generator::dims() const { return impl_->meta.network.dims; }
const FeatureSpec& Generator::features() const { return impl_->meta.features; }
const ModelConfig& Generator::config() const { return impl_->meta.config; }
const LinearSde& Generator::sde() const { return impl_->sde; }
double Generator::endTime() const { return impl_->meta.network.endTime; }
double Generator::timeEpsilon() const { return impl_->meta.config.process.tEps; }
std::int64_t Generator::trainedSteps() const { return impl_->meta.step; }
ScoreModel& Generator::scoreModel() { return impl_->scoreModel(); }
std::string Generator::metadataJson() const { return detail::metadataToJson(impl_->meta); }

std::string Generator::describe() const {
  const auto& m = impl_->meta;
  std::ostringstream s;
  s << impl_->sde.describe() << ", " << m.config.network.kind << " " << m.config.network.depth
    << "x" << m.config.network.width << ", " << m.step << " steps, " << dims() << " features ("
    << m.features.featureSet << "), T = " << endTime();
  return s.str();
}

GeneratedSamples Generator::sample(std::int64_t n, const SamplerConfig& sc, std::uint64_t seed) {
  if (n < 1) throw Error("generator: the number of samples must be >= 1");
  SamplerOptions o;
  o.kind = parseSamplerKind(sc.kind);
  o.steps = sc.steps;
  o.grid = parseTimeGrid(sc.grid);
  o.order = sc.order;
  o.tEps = timeEpsilon();
  o.relativeTolerance = sc.relativeTolerance;
  o.absoluteTolerance = sc.absoluteTolerance;
  o.tweedie = sc.tweedie;
  o.stochasticity = sc.stochasticity;
  const Sampler sampler(impl_->kernel, impl_->prior(), o);
  const auto start = std::chrono::steady_clock::now();
  GeneratedSamples out;
  out.z.resize(n, impl_->sde.channels() * dims());
  const std::int64_t batch = impl_->options.batchSize;
  std::int64_t batches = 0;
  for (std::int64_t first = 0, b = 0; first < n; first += batch, ++b) {
    const int rows = static_cast<int>(std::min(batch, n - first));
    SampleResult r = sampler.sample(impl_->scoreModel(), rows, dims(), streamSeed(seed, b));
    out.z.middleRows(first, rows) = r.z;
    out.scoreCalls += r.scoreCalls;
    ++batches;
  }
  // Every batch makes the same calls; one call evaluates the network once for each row of its batch.
  out.networkCallsPerSample = double(out.scoreCalls) / double(batches);
  out.features = features().fromModel(out.z.leftCols(dims()));
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

GeneratedSamples Generator::sampleWithLogDensity(std::int64_t n, std::uint64_t seed, int steps) {
  if (n < 1) throw Error("generator: the number of samples must be >= 1");
  const ProbabilityFlowDensity flow = impl_->densityFlow(steps);
  const auto start = std::chrono::steady_clock::now();
  GeneratedSamples out;
  out.z.resize(n, impl_->sde.channels() * dims());
  out.logDensity.resize(n);
  const std::int64_t batch = impl_->options.batchSize;
  std::int64_t batches = 0;
  for (std::int64_t first = 0, b = 0; first < n; first += batch, ++b) {
    const int rows = static_cast<int>(std::min(batch, n - first));
    DensityResult r = flow.sample(impl_->scoreModel(), rows, dims(), streamSeed(seed, b));
    out.z.middleRows(first, rows) = r.z;
    out.logDensity.segment(first, rows) = r.logDensity;
    out.scoreCalls += r.scoreCalls;
    ++batches;
  }
  // Every batch makes the same calls; one call evaluates the network once for each row of its batch.
  out.networkCallsPerSample = double(out.scoreCalls) / double(batches);
  out.features = features().fromModel(out.z.leftCols(dims()));
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

Eigen::ArrayXd Generator::logDensityOfStates(const Eigen::ArrayXXd& z, int steps) {
  if (z.cols() != impl_->sde.channels() * dims())
    throw Error("log-density: states have " + std::to_string(z.cols()) + " columns, the model " +
                std::to_string(impl_->sde.channels() * dims()));
  const ProbabilityFlowDensity flow = impl_->densityFlow(steps);
  Eigen::ArrayXd out(z.rows());
  const Eigen::Index batch = impl_->options.batchSize;
  for (Eigen::Index first = 0; first < z.rows(); first += batch) {
    const Eigen::Index rows = std::min(batch, z.rows() - first);
    out.segment(first, rows) = flow.evaluate(impl_->scoreModel(), z.middleRows(first, rows)).logDensity;
  }
  return out;
}

Eigen::ArrayXd Generator::logDensityOfFeatures(const Eigen::ArrayXXd& f, int steps) {
  if (impl_->sde.channels() != 1)
    throw Error("log-density of features: " + impl_->sde.describe() +
                " has an auxiliary channel, so its density is joint in (x, aux); use "
                "logDensityOfStates");
  return logDensityOfStates(features().toModel(f), steps) + features().logJacobianToModel();
}

std::vector<float> Generator::parameters() const {
  std::vector<float> out;
  for (const torch::Tensor& p : impl_->model.network()->parameters()) {
    const torch::Tensor c = p.detach().to(torch::kCPU).contiguous();
    out.insert(out.end(), c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
  }
  return out;
}

}  // namespace activediff::model
