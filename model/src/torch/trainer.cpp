// The LibTorch trainer behind trainer.h.
#include "activediff/model/trainer.h"

#include <chrono>
#include <cmath>
#include <sstream>
#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adam.h>

#include "../channel_ops.h"
#include "../checkpoint_file.h"
#include "../checkpoint_metadata.h"
#include "activediff/featurize/atomic_output.h"
#include "activediff/featurize/error.h"
#include "activediff/model/training_targets.h"
#include "activediff/version.h"
#include "torch_support.h"

namespace activediff::model {
namespace fs = std::filesystem;
using detail::CheckpointMetadata;

fs::path checkpointPath(const fs::path& outputDirectory) {
  return outputDirectory / "checkpoint.adck";
}

fs::path resolveCheckpoint(const fs::path& checkpointOrDirectory) {
  if (!fs::is_directory(checkpointOrDirectory)) return checkpointOrDirectory;
  const fs::path inside = checkpointPath(checkpointOrDirectory);
  if (!fs::exists(inside))
    throw Error(checkpointOrDirectory.string(),
                "is a directory without " + inside.filename().string() +
                    ": give a checkpoint or a training output directory (activediff train -o)");
  return inside;
}

ModelConfig readCheckpointConfig(const fs::path& checkpointOrDirectory) {
  const fs::path checkpoint = resolveCheckpoint(checkpointOrDirectory);
  const detail::CheckpointFile f = detail::readCheckpointFile(checkpoint);
  return detail::metadataFromJson(f.metadataJson, checkpoint.string()).config;
}

namespace {

using Clock = std::chrono::steady_clock;

double seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// What must agree between a checkpoint and the config that resumes it.
ModelConfig trainingRelevant(ModelConfig c) {
  c.training.steps = 0;
  c.runtime = RuntimeConfig{};
  c.sampler = SamplerConfig{};
  if (c.process.endTime == 0.0) c.process.endTime = effectiveEndTime(c);
  return c;
}

std::string joined(const std::vector<std::string>& items, const std::string& separator) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : separator) + item;
  return out;
}

// What differs between the data a checkpoint was trained on and the data it
// is resumed with (of the same dimension), one phrase each.
std::vector<std::string> dataDifferences(const CheckpointMetadata& meta, const TrainingData& data) {
  std::vector<std::string> d;
  if (meta.features.featureSet != data.spec.featureSet)
    d.push_back("feature set " + meta.features.featureSet + " vs " + data.spec.featureSet);
  if (meta.features.names != data.spec.names)
    d.push_back("feature names [" + joined(meta.features.names, ", ") + "] vs [" + joined(data.spec.names, ", ") + "]");
  const std::int64_t rows = meta.trainRows + meta.validationRows;
  const std::int64_t rowsNow = data.train.rows() + data.validation.rows();
  if (rows != rowsNow) d.push_back("rows " + std::to_string(rows) + " vs " + std::to_string(rowsNow));
  if (!meta.dataChecksum.empty() && !data.checksum.empty() && meta.dataChecksum != data.checksum)
    d.push_back("feature values checksum " + meta.dataChecksum + " vs " + data.checksum);
  return d;
}

// MATH.md 3: t ~ U(t_eps, T) through the core, the documented log-uniform
// importance schedule, or "mixed": each time from one of the two with
// probability 1/2 (config.h, training.time_sampling).
Eigen::ArrayXd drawTimes(const TrainingConfig& tc, int n, double tEps, double endTime, Rng& rng) {
  if (tc.timeSampling == "uniform") return drawTrainingTimes(n, tEps, endTime, rng);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  const double logRatio = std::log(endTime / tEps);
  const bool mixed = tc.timeSampling == "mixed";
  Eigen::ArrayXd t(n);
  for (int i = 0; i < n; ++i) {
    const double u = uniform(rng);
    if (mixed && uniform(rng) < 0.5)
      t(i) = tEps + (endTime - tEps) * u;
    else
      t(i) = tEps * std::exp(logRatio * u);
  }
  return t;
}

struct Batch {
  torch::Tensor z, t, preconditioning, target;
};

// Draws (x0, t, noise) from the RNG and turns them into network inputs and
// targets with the core's TrainingTargets (the one definition of MATH.md 3).
Batch makeBatch(const TrainingTargets& targets, bool preconditioned, const Eigen::ArrayXXd& x0,
                const Eigen::ArrayXd& t, Rng& rng, const torch::Device& device) {
  Eigen::ArrayXXd noise(x0.rows(), targets.channels() * x0.cols());
  detail::fillStandardNormal(noise, rng);
  Eigen::ArrayXXd zt, target;
  targets.makeBatch(x0, t, noise, zt, target);
  return {detail::toTensor(zt, device), detail::toTensor(t, device),
          preconditioned ? detail::toTensor(targets.preconditioningTable(t, true), device) : torch::Tensor(),
          detail::toTensor(target, device)};
}

Eigen::ArrayXXd gatherRows(const Eigen::ArrayXXd& x, const std::vector<Eigen::Index>& rows) {
  Eigen::ArrayXXd out(static_cast<Eigen::Index>(rows.size()), x.cols());
  for (std::size_t b = 0; b < rows.size(); ++b) out.row(Eigen::Index(b)) = x.row(rows[b]);
  return out;
}

// Fixed validation draws: every validation row in turn, times and noises from
// their own seed, so the number is comparable across steps and runs.
std::vector<Batch> validationBatches(const TrainingTargets& targets, bool preconditioned,
                                     const Eigen::ArrayXXd& x,
                                     const TrainingConfig& tc, double tEps, double endTime,
                                     const torch::Device& device) {
  std::vector<Batch> batches;
  if (x.rows() == 0) return batches;
  Rng rng(tc.seed ^ 0x9e3779b97f4a7c15ull);
  const int chunk = 4096;
  for (int start = 0; start < tc.validationSamples; start += chunk) {
    const int n = std::min(chunk, tc.validationSamples - start);
    std::vector<Eigen::Index> rows(n);
    for (int i = 0; i < n; ++i) rows[i] = (start + i) % x.rows();
    const Eigen::ArrayXd t = drawTimes(tc, n, tEps, endTime, rng);
    batches.push_back(makeBatch(targets, preconditioned, gatherRows(x, rows), t, rng, device));
  }
  return batches;
}

double validationLoss(detail::ScoreNetworkImpl& net, const std::vector<Batch>& batches) {
  torch::NoGradGuard noGrad;
  double sum = 0.0;
  std::int64_t count = 0;
  for (const Batch& b : batches) {
    sum += torch::mse_loss(net.forward(b.z, b.t, b.preconditioning), b.target, at::Reduction::Sum).item<double>();
    count += b.target.numel();
  }
  return sum / double(count);
}

void setLearningRate(torch::optim::Adam& optimizer, double lr) {
  for (auto& group : optimizer.param_groups())
    static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
}

}  // namespace

TrainSummary train(const ModelConfig& configIn, const TrainingData& data,
                   const TrainOptions& options) {
  const fs::path& dir = options.outputDirectory;
  if (dir.empty()) throw Error("training: no output directory given");
  fs::create_directories(dir);
  const fs::path ckPath = checkpointPath(dir);
  const fs::path logPath = dir / "training_log.json";

  CheckpointMetadata meta;
  std::string archive;
  ModelConfig config = configIn;
  FeatureSpec spec = data.spec;
  const int dims = spec.dims();
  if (data.train.cols() != dims || data.validation.cols() != dims)
    throw Error(data.source, "feature spec and data disagree in dimension");
  if (options.resume) {
    if (!fs::exists(ckPath))
      throw Error(ckPath.string(), "--resume: there is no checkpoint to resume from");
    detail::CheckpointFile file = detail::readCheckpointFile(ckPath);
    meta = detail::metadataFromJson(file.metadataJson, ckPath.string());
    archive = std::move(file.tensorArchive);
    if (meta.features.dims() != dims)
      throw Error(data.source, "has " + std::to_string(dims) +
                                   " features per row, but the checkpoint being resumed (" +
                                   ckPath.string() + ") models " +
                                   std::to_string(meta.features.dims()));
    const std::vector<std::string> changedData = dataDifferences(meta, data);
    if (!changedData.empty())
      throw Error(data.source, "--resume: not the data the checkpoint " + ckPath.string() +
                                   " was trained on (" + meta.dataSource + "): " +
                                   joined(changedData, "; ") + " (checkpoint vs now)");
    const std::vector<std::string> changedKeys =
        configDifferences(trainingRelevant(meta.config), trainingRelevant(configIn));
    if (!changedKeys.empty())
      throw Error(ckPath.string(),
                  "--resume: only training.steps, runtime.* and sampler.* may change, but " +
                      joined(changedKeys, "; ") + " (checkpoint vs now)");
    config.process = meta.config.process;
    if (meta.step > config.training.steps)
      throw Error(ckPath.string(), "--resume: the checkpoint is at step " +
                                       std::to_string(meta.step) + ", beyond training.steps = " +
                                       std::to_string(config.training.steps));
    spec = meta.features;  // the standardization of the original run
  } else {
    if (fs::exists(ckPath))
      throw Error(ckPath.string(),
                  "a checkpoint already exists; pass --resume to continue it, or choose "
                  "another output directory");
    spec.fitStandardization(data.train);
    config.process.endTime = effectiveEndTime(config);
  }
  validateConfig(config);
  const TrainingConfig& tc = config.training;
  const double endTime = config.process.endTime;
  const double tEps = config.process.tEps;

  detail::configureThreads(config.runtime.threads);
  const torch::Device device = detail::selectDevice(config.runtime.device);
  const LinearSde sde = LinearSde::fromParameters(config.process.sde);
  const VanLoanKernel kernel(sde);
  const ScoreChannels outputs = requiredScoreChannels(sde, config.network.allChannels);
  const TrainingTargets targets(kernel, outputs);
  const bool preconditioned = config.network.preconditioning == "marginal";

  detail::NetworkShape shape{config.network, dims, sde.channels(), outputs, endTime, tEps};
  torch::manual_seed(tc.seed);
  detail::ScoreNetwork net(shape);
  detail::ScoreNetwork average(shape);
  net->to(device);
  average->to(device);
  std::vector<torch::Tensor> params = net->parameters();
  std::vector<torch::Tensor> ema = average->parameters();
  {
    torch::NoGradGuard noGrad;
    for (std::size_t i = 0; i < params.size(); ++i) ema[i].copy_(params[i]);
  }
  torch::optim::Adam optimizer(params, torch::optim::AdamOptions(tc.learningRate));
  Rng rng(tc.seed);
  const std::int64_t startStep = meta.step;
  if (options.resume) {
    detail::loadTensors(archive, ckPath.string(), *net, &ema, &optimizer, false, device);
    std::istringstream state(meta.rngState);
    state >> rng;
    if (state.fail()) throw Error(ckPath.string(), "checkpoint RNG state is malformed");
  }

  meta.activediffVersion = kVersion;
  meta.config = config;
  meta.features = spec;
  meta.network = shape;
  meta.dataSource = data.source;
  meta.dataChecksum = data.checksum;
  meta.trainRows = data.train.rows();
  meta.validationRows = data.validation.rows();
  meta.provenanceJson = options.provenanceJson;
  writeFileAtomically(dir / "config.toml", toToml(config));

  const Eigen::ArrayXXd xTrain = spec.toModel(data.train);
  const std::vector<Batch> validation =
      validationBatches(targets, preconditioned, spec.toModel(data.validation), tc, tEps, endTime, device);
  if (xTrain.rows() < 1) throw Error(data.source, "no training rows after the validation split");

  auto saveCheckpoint = [&](std::int64_t step) {
    meta.step = step;
    std::ostringstream state;
    state << rng;
    meta.rngState = state.str();
    detail::writeCheckpointFile(
        ckPath, {detail::metadataToJson(meta), detail::saveTensors(*net, &ema, &optimizer)});
    writeFileAtomically(logPath, detail::historyToJson(meta));
  };

  TrainSummary summary;
  summary.resumedFrom = startStep;
  std::uniform_int_distribution<Eigen::Index> pick(0, xTrain.rows() - 1);
  std::vector<Eigen::Index> rows(tc.batchSize);
  torch::Tensor windowLoss = torch::zeros({}, torch::TensorOptions().device(device));
  std::int64_t windowSteps = 0;
  const Clock::time_point runStart = Clock::now();
  Clock::time_point windowStart = runStart;
  double lastLoss = std::nan("");

  for (std::int64_t step = startStep + 1; step <= tc.steps; ++step) {
    for (auto& r : rows) r = pick(rng);
    const Eigen::ArrayXd t = drawTimes(tc, tc.batchSize, tEps, endTime, rng);
    const Batch batch = makeBatch(targets, preconditioned, gatherRows(xTrain, rows), t, rng, device);

    setLearningRate(optimizer, learningRateAt(tc, step));
    optimizer.zero_grad();
    const torch::Tensor loss = torch::mse_loss(net->forward(batch.z, batch.t, batch.preconditioning), batch.target);
    loss.backward();
    if (tc.gradientClip > 0.0) torch::nn::utils::clip_grad_norm_(params, tc.gradientClip);
    optimizer.step();
    {
      torch::NoGradGuard noGrad;
      const double d = std::min(tc.emaDecay, (1.0 + step) / (10.0 + step));
      for (std::size_t i = 0; i < params.size(); ++i) ema[i].lerp_(params[i], 1.0 - d);
    }
    windowLoss.add_(loss.detach());
    ++windowSteps;

    const bool last = step == tc.steps;
    TrainingProgress progress;
    progress.step = step;
    progress.totalSteps = tc.steps;
    bool report = false;
    if (step % tc.logEvery == 0 || last) {
      const Clock::time_point now = Clock::now();
      lastLoss = windowLoss.item<double>() / double(windowSteps);
      const double rate = double(windowSteps) / std::max(seconds(windowStart, now), 1e-9);
      meta.history.steps.push_back(step);
      meta.history.loss.push_back(lastLoss);
      meta.history.itPerSecond.push_back(rate);
      windowLoss.zero_();
      windowSteps = 0;
      windowStart = now;
      progress.loss = lastLoss;
      progress.itPerSecond = rate;
      report = true;
    }
    if (!validation.empty() && (step % tc.validationEvery == 0 || last)) {
      const double raw = validationLoss(*net, validation);
      const double averaged = validationLoss(*average, validation);
      meta.history.validationSteps.push_back(step);
      meta.history.validationLoss.push_back(raw);
      meta.history.validationLossEma.push_back(averaged);
      progress.validationLoss = averaged;
      summary.finalValidationLoss = averaged;
      report = true;
    }
    if (step % tc.checkpointEvery == 0 || last) saveCheckpoint(step);
    if (report && options.progress) {
      if (!(progress.loss > 0.0)) {  // a validation-only report: repeat the last window
        progress.loss = meta.history.loss.empty() ? 0.0 : meta.history.loss.back();
        progress.itPerSecond = meta.history.itPerSecond.empty() ? 0.0 : meta.history.itPerSecond.back();
      }
      options.progress(progress);
    }
  }
  if (startStep == tc.steps) saveCheckpoint(tc.steps);  // nothing to do: still write the log

  summary.steps = tc.steps;
  summary.finalLoss = lastLoss;
  const double elapsed = seconds(runStart, Clock::now());
  summary.itPerSecond = double(tc.steps - startStep) / std::max(elapsed, 1e-9);
  summary.checkpoint = ckPath;
  summary.log = logPath;
  summary.effectiveConfigToml = toToml(config);
  return summary;
}

}  // namespace activediff::model
