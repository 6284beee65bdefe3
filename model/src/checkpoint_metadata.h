#pragma once
// The metadata of a checkpoint (private to model/; torch-free): everything
// besides the tensors that training needs to resume and sampling needs to
// run -- effective config, feature spec and standardization, network shape,
// step, RNG state, loss history, data source, provenance, version.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "activediff/model/config.h"
#include "activediff/model/feature_spec.h"
#include "activediff/model/layout.h"

namespace activediff::model::detail {

struct NetworkShape {
  NetworkConfig config;
  int dims = 0;
  int channels = 1;
  ScoreChannels outputs;
  double endTime = 1.0;
  double tEps = 1e-3;  // process.t_eps: the lower end of the log-time features
  int inputs() const { return channels * dims; }
  int outputCount() const { return outputs.count() * dims; }
};

struct TrainingHistory {
  std::vector<std::int64_t> steps;  // logged every training.log_every steps
  std::vector<double> loss;         // mean training loss over the window
  std::vector<double> itPerSecond;
  std::vector<std::int64_t> validationSteps;
  std::vector<double> validationLoss;     // raw weights
  std::vector<double> validationLossEma;  // EMA weights
};

struct CheckpointMetadata {
  std::string activediffVersion;
  ModelConfig config;  // effective: process.end_time is the one used
  FeatureSpec features;
  NetworkShape network;
  std::int64_t step = 0;
  std::string rngState;  // Rng (mt19937_64) state after `step` steps
  TrainingHistory history;
  std::string dataSource;
  // TrainingData::checksum of the data trained on; empty in checkpoints
  // written before it was recorded.
  std::string dataChecksum;
  std::int64_t trainRows = 0, validationRows = 0;
  std::string provenanceJson = "{}";
};

// The feature spec as checkpoints and exports record it: feature_set, names,
// units, kinds, periodic, branch_cuts_rad (null where none), mean, stddev.
nlohmann::json featureSpecJson(const FeatureSpec& features);

std::string metadataToJson(const CheckpointMetadata& m);
// Throws activediff::Error naming `file` when a field is missing or malformed.
CheckpointMetadata metadataFromJson(const std::string& text, const std::string& file);
// The training log (loss curve) as JSON text, for training_log.json.
std::string historyToJson(const CheckpointMetadata& m);

}  // namespace activediff::model::detail
