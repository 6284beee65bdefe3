#pragma once
// What a model knows about its features: names, units, periodic flags, branch
// cuts (featurize/dataset.h, MATH.md 5) and the standardization statistics.
// The map between dataset features and the model's standardized x:
//   toModel:   periodic values unwrapped to [cut, cut + 2 pi), then (f - mean) / std
//   fromModel: f = mean + std x, periodic values wrapped to (-pi, pi]
// Torch-free; stored in every checkpoint.
#include <Eigen/Core>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace activediff::model {

struct FeatureSpec {
  std::string featureSet;  // featurize's name ("phi-psi-2d", ...) or "plain-npy"
  std::vector<std::string> names;
  std::vector<std::string> units;
  std::vector<int> kinds;  // activediff::FeatureKind as int (featurize/zmatrix.h)
  std::vector<bool> periodic;
  std::vector<double> branchCutsRad;  // NaN where not periodic
  Eigen::ArrayXd mean;                // standardization (set by the trainer)
  Eigen::ArrayXd stddev;

  int dims() const { return static_cast<int>(names.size()); }
  // Throws activediff::Error if the vectors disagree in length.
  void validate() const;
  // Sets mean/stddev from features (rows = frames) after unwrapping.
  void fitStandardization(const Eigen::ArrayXXd& features);
  Eigen::ArrayXXd toModel(const Eigen::ArrayXXd& features) const;
  Eigen::ArrayXXd fromModel(const Eigen::ArrayXXd& x) const;
  // log |d x / d f| per row, summed over dimensions: -sum_d log std_d. Adds to a
  // model-space log-density to give the density of the features.
  double logJacobianToModel() const;
};

// Training data as the trainer reads it, in dataset units (periodic features in
// (-pi, pi]); mean/stddev of `spec` unset.
struct TrainingData {
  std::string source;  // file or directory, for messages and provenance
  // What the data is, whatever its path: "fnv1a64:<16 hex digits>" of the
  // N x D float64 feature values in row-major order (the data bytes of
  // features.npy, little-endian). Stored in checkpoints so that --resume on
  // other data of the same dimension is refused; empty: not known.
  std::string checksum;
  FeatureSpec spec;
  Eigen::ArrayXXd train;
  Eigen::ArrayXXd validation;
};

// A featurize dataset directory, or a plain .npy of shape N x D (float64;
// non-periodic features "f0".."f{D-1}"). Both are split into train and
// validation by contiguous time blocks (featurize's splitByTimeBlocks).
// Errors name the file.
TrainingData loadTrainingData(const std::filesystem::path& path, double validationFraction);

// The checksum of TrainingData::checksum for a feature matrix (rows = frames).
std::string featureChecksum(const Eigen::ArrayXXd& features);

// Writes generated features (dataset units) as a featurize dataset directory;
// `extraJson` is merged into meta.json (provenance, sampler settings).
void writeFeatureDataset(const std::filesystem::path& directory, const FeatureSpec& spec,
                         const Eigen::ArrayXXd& features, const std::string& source,
                         const std::string& extraJson);

}  // namespace activediff::model
