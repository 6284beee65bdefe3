#pragma once
// Datasets on disk: a directory that numpy opens directly.
//   features.npy      float64 [frames, D]  features in program units (nm, rad);
//                     periodic ones in (-pi, pi]
//   time_ps.npy       float64 [frames]     time stamp of each frame
//   source_file.npy   int64   [frames]     index into meta.json "sources"
//   source_frame.npy  int64   [frames]     frame index within that file
//   meta.json         feature names, units, periodic flags, branch cuts
//                     (rad and deg), sources, topology, selection, the
//                     command and the activediff version (provenance)
// The directory is written under a temporary name and renamed into place when
// complete, under the output policy (OutputClaim): a failed run leaves
// nothing behind, and an existing path is backed up or refused.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "activediff/featurize/output_policy.h"
#include "activediff/featurize/npy.h"
#include "activediff/featurize/periodic.h"
#include "activediff/featurize/zmatrix.h"

namespace activediff {

constexpr int kDatasetFormatVersion = 1;

struct DatasetSource {
  std::string file;
  std::int64_t frames = 0;  // frames taken from this file
};

struct DatasetInfo {
  std::string featureSet;              // "phi-psi-2d" or "capped-residue-25d"
  std::vector<FeatureInfo> features;
  std::vector<double> branchCutsRad;   // per feature; NaN when not periodic
  std::vector<DatasetSource> sources;
  std::string topologyFile;
  std::string extraJson = "{}";        // merged into meta.json (provenance, selection, ...)
};

struct Dataset {
  DatasetInfo info;
  FeatureMatrix features;              // [frames, D]
  std::vector<double> timePs;
  std::vector<std::int64_t> sourceFile;
  std::vector<std::int64_t> sourceFrame;
  std::int64_t frames() const { return features.rows(); }
  int dimension() const { return static_cast<int>(features.cols()); }
  int featureIndex(const std::string& name) const;  // -1 when absent
};

// Streams frames to disk with constant memory; branch cuts are chosen from
// the data at commit().
class DatasetWriter {
 public:
  DatasetWriter(const std::filesystem::path& directory, DatasetInfo info);
  void append(const double* features, double timePs, std::int64_t sourceFile, std::int64_t sourceFrame);
  std::int64_t frames() const { return frames_; }
  // Sources are often known only at the end (frames per file).
  void setSources(std::vector<DatasetSource> sources) { info_.sources = std::move(sources); }
  // So is part of the provenance (warnings about the inputs, issue 9).
  void setExtraJson(std::string json) { info_.extraJson = std::move(json); }
  // Finishes all files and moves the directory into place; returns the info
  // as written (with branch cuts).
  DatasetInfo commit();

 private:
  std::filesystem::path directory_;
  DatasetInfo info_;
  OutputClaim output_;
  std::unique_ptr<NpyWriter> features_, time_, sourceFile_, sourceFrame_;
  std::vector<BranchCutHistogram> cutHistograms_;
  std::int64_t frames_ = 0;
};

// Reads and validates a dataset: consistent shapes, finite features, periodic
// features inside (-pi, pi], known format version. Errors name the file.
// Generated samples may hold non-finite values (a diverged sampler); tools
// that count and report those read with AllowNonFinite.
enum class FeatureValidation { Strict, AllowNonFinite };
Dataset readDataset(const std::filesystem::path& directory,
                    FeatureValidation validation = FeatureValidation::Strict);

// Train/validation split by contiguous time blocks (MD frames are correlated,
// so random frames would leak the validation set into training). The frames
// are cut into `blocks` contiguous blocks of (nearly) equal size; round(blocks
// * validationFraction) of them, evenly spaced, form the validation set.
struct DatasetSplit {
  std::vector<std::int64_t> train;
  std::vector<std::int64_t> validation;
};
DatasetSplit splitByTimeBlocks(std::int64_t frames, double validationFraction, int blocks = 10);

}  // namespace activediff
