#pragma once
// A trained generator, torch-free API: load a checkpoint (nothing else is
// needed), sample N conformations' features with a seed and a chosen sampler,
// and compute exact log-densities (MATH.md 4b). The CLI, the workflows and a
// future OpenMM plugin all call this; LibTorch stays behind the pimpl.
//
// Model space: x = standardized features (FeatureSpec::toModel), states
// z = (x, aux) in the layout of layout.h at t_eps. Densities are joint in
// (x, aux); for a passive model z = x and logDensityOfFeatures gives the
// density of the features themselves.
#include <Eigen/Core>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "activediff/model/config.h"
#include "activediff/model/feature_spec.h"
#include "activediff/model/linear_sde.h"
#include "activediff/model/score_model.h"
#include "activediff/model/time_grid.h"

namespace activediff::model {

struct GeneratorOptions {
  std::string device = "cpu";  // "cpu", "cuda", "cuda:N" (a clear Error without CUDA)
  int threads = 1;             // torch intra-op threads (and OpenBLAS)
  bool useEma = true;          // the EMA weights (default) or the raw ones
  int batchSize = 2048;        // network batch (2048: activations stay in cache; 4096 ran 3.5x slower per sample on one core)
  // Evaluate the network with Eigen (eigen_score_network.h)
  // instead of LibTorch: no per-call framework cost, for batches of a few
  // states (the Monte Carlo move). CPU only.
  bool eigenNetwork = false;
  // The time grid of the probability-flow log-density (sampleWithLogDensity,
  // logDensityOfStates): its RK4 steps are placed on it.
  TimeGrid densityGrid = TimeGrid::DenseNearEpsilon;
};

struct GeneratedSamples {
  Eigen::ArrayXXd features;  // N x D in dataset units; periodic ones in (-pi, pi]
  Eigen::ArrayXXd z;         // N x (c * D): the model-space states at t_eps
  Eigen::ArrayXd logDensity; // joint log p_eps(z) (sampleWithLogDensity only)
  long scoreCalls = 0;       // network calls (batches x calls per batch)
  double networkCallsPerSample = 0.0;  // calls one batch made (each evaluates the network for every row)
  double seconds = 0.0;
};

class Generator {
 public:
  // checkpoint: a checkpoint file or a training output directory
  // (resolveCheckpoint). Throws activediff::Error naming the file for a
  // missing, truncated or corrupt checkpoint, and for an unavailable device.
  explicit Generator(const std::filesystem::path& checkpoint, const GeneratorOptions& options = {});
  ~Generator();
  Generator(Generator&&) noexcept;
  Generator& operator=(Generator&&) noexcept;

  int dims() const;
  const FeatureSpec& features() const;
  const ModelConfig& config() const;  // the effective training config
  const LinearSde& sde() const;
  double endTime() const;
  double timeEpsilon() const;
  std::int64_t trainedSteps() const;
  std::string describe() const;        // one line: process, network, steps, features
  std::string metadataJson() const;    // the checkpoint's metadata (provenance etc.)

  // The network as the core's score callback (whitened outputs mapped back by
  // TrainingTargets::scoresFromWhitened), with the exact Jacobian diagonal.
  ScoreModel& scoreModel();

  // N samples with a sampler (sampler.kind/steps/grid/tolerances/tweedie);
  // batches of options.batchSize, batch b seeded from (seed, b), so the
  // result depends on the seed and the batch size only.
  GeneratedSamples sample(std::int64_t n, const SamplerConfig& sampler, std::uint64_t seed);
  // Probability-flow RK4 samples together with their joint log-density.
  GeneratedSamples sampleWithLogDensity(std::int64_t n, std::uint64_t seed, int steps = 100);
  // Exact joint log-density log p_eps(z) of model-space states (N x c*D).
  Eigen::ArrayXd logDensityOfStates(const Eigen::ArrayXXd& z, int steps = 100);
  // Log-density of features (dataset units) under a one-channel (passive)
  // model, including the standardization Jacobian. Error for two channels.
  Eigen::ArrayXd logDensityOfFeatures(const Eigen::ArrayXXd& features, int steps = 100);

  // The network parameters, flattened in a fixed order (tests, diagnostics).
  std::vector<float> parameters() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace activediff::model
