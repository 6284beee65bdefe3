#pragma once
// Training a score network (torch-free API; the LibTorch trainer is private).
//
// Denoising score matching on the x0-only kernel (MATH.md 2-3): passive DSM,
// and for active/CLD "hybrid" score matching with the auxiliary start
// marginalized, through TrainingTargets (training_targets.h) -- the whitened
// per-channel targets are computed there, never here. Adam with a linear LR
// warm-up, an EMA of the weights, a fixed-seed RNG (torch::manual_seed for the
// initial weights, the core's Rng for batches, times and noises), a periodic
// validation loss on the held-out split (fixed draws, raw and EMA weights).
//
// Files in outputDirectory (all written atomically):
//   checkpoint.adck     weights, EMA, Adam state, RNG state, step, config,
//                       SDE, feature spec + standardization, version
//                       (every training.checkpoint_every steps and at the end)
//   training_log.json   the loss curve (steps, loss, it/s, validation losses)
//   config.toml         the effective configuration
// resume = true continues from checkpoint.adck exactly: the same weights as an
// uninterrupted run with the same seed (CPU).
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "activediff/model/config.h"
#include "activediff/model/feature_spec.h"

namespace activediff::model {

struct TrainingProgress {
  std::int64_t step = 0;
  std::int64_t totalSteps = 0;
  double loss = 0.0;             // mean over the last logging window
  double itPerSecond = 0.0;      // over the last logging window
  double validationLoss = -1.0;  // EMA weights; < 0 when not evaluated at this step
};

struct TrainOptions {
  std::filesystem::path outputDirectory;
  // Continue checkpoint.adck. The config given must equal the checkpoint's
  // (readCheckpointConfig) except training.steps, runtime.* and sampler.*.
  bool resume = false;
  std::string provenanceJson = "{}";  // merged into the checkpoint and the log
  std::function<void(const TrainingProgress&)> progress;  // every log_every steps
};

struct TrainSummary {
  std::int64_t steps = 0;
  std::int64_t resumedFrom = 0;
  double finalLoss = 0.0;
  double finalValidationLoss = -1.0;  // EMA weights; < 0 without a validation split
  double itPerSecond = 0.0;           // training steps / wall time of this run
  std::filesystem::path checkpoint;
  std::filesystem::path log;
  std::string effectiveConfigToml;
};

// The checkpoint file inside a training output directory.
std::filesystem::path checkpointPath(const std::filesystem::path& outputDirectory);

// A model given on a command line: a checkpoint file, or a training output
// directory (its checkpoint.adck; Error naming the directory when it has none).
std::filesystem::path resolveCheckpoint(const std::filesystem::path& checkpointOrDirectory);

// The effective config stored in a checkpoint or training directory
// (resolveCheckpoint; Error naming the file when it is missing, truncated or
// corrupt).
ModelConfig readCheckpointConfig(const std::filesystem::path& checkpoint);

// Throws activediff::Error for bad data (dimension != the resumed model's,
// too few rows), an existing checkpoint without resume, a missing or corrupt
// one with resume, or a config that differs from the resumed checkpoint's in
// anything but training.steps, runtime.* and sampler.*.
TrainSummary train(const ModelConfig& config, const TrainingData& data,
                   const TrainOptions& options);

}  // namespace activediff::model
