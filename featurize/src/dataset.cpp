#include "activediff/featurize/dataset.h"

#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "activediff/featurize/error.h"
#include "activediff/featurize/geometry.h"
#include "activediff/version.h"

namespace activediff {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const char* kindName(FeatureKind kind) {
  switch (kind) {
    case FeatureKind::BondNm: return "bond";
    case FeatureKind::AngleRad: return "angle";
    case FeatureKind::TorsionRad: return "torsion";
  }
  return "torsion";
}

FeatureKind kindFromName(const std::string& name, const std::string& file) {
  if (name == "bond") return FeatureKind::BondNm;
  if (name == "angle") return FeatureKind::AngleRad;
  if (name == "torsion") return FeatureKind::TorsionRad;
  throw Error(file, "unknown feature kind '" + name + "'");
}

}  // namespace

int Dataset::featureIndex(const std::string& name) const {
  for (std::size_t k = 0; k < info.features.size(); ++k)
    if (info.features[k].name == name) return static_cast<int>(k);
  return -1;
}

DatasetWriter::DatasetWriter(const fs::path& directory, DatasetInfo info)
    : directory_(directory), info_(std::move(info)), output_(directory, OutputShape::Directory) {
  const auto dim = static_cast<std::int64_t>(info_.features.size());
  if (dim == 0) throw Error(directory.string(), "dataset has no features");
  features_ = std::make_unique<NpyWriter>(output_.temporary() / "features.npy", NpyType::Float64, dim);
  time_ = std::make_unique<NpyWriter>(output_.temporary() / "time_ps.npy", NpyType::Float64, 0);
  sourceFile_ = std::make_unique<NpyWriter>(output_.temporary() / "source_file.npy", NpyType::Int64, 0);
  sourceFrame_ = std::make_unique<NpyWriter>(output_.temporary() / "source_frame.npy", NpyType::Int64, 0);
  cutHistograms_.resize(info_.features.size());
}

void DatasetWriter::append(const double* features, double timePs, std::int64_t sourceFile, std::int64_t sourceFrame) {
  features_->appendRow(features);
  time_->appendRow(&timePs);
  sourceFile_->appendRow(&sourceFile);
  sourceFrame_->appendRow(&sourceFrame);
  for (std::size_t k = 0; k < info_.features.size(); ++k)
    if (info_.features[k].periodic) cutHistograms_[k].add(features[k]);
  ++frames_;
}

DatasetInfo DatasetWriter::commit() {
  if (frames_ == 0) throw Error(directory_.string(), "no frames to write");
  features_->finish();
  time_->finish();
  sourceFile_->finish();
  sourceFrame_->finish();
  info_.branchCutsRad.assign(info_.features.size(), std::numeric_limits<double>::quiet_NaN());
  json features = json::array();
  for (std::size_t k = 0; k < info_.features.size(); ++k) {
    const FeatureInfo& f = info_.features[k];
    json entry = {{"name", f.name}, {"unit", f.unit}, {"kind", kindName(f.kind)}, {"periodic", f.periodic}};
    if (f.periodic) {
      info_.branchCutsRad[k] = cutHistograms_[k].cutRad();
      entry["branch_cut_rad"] = info_.branchCutsRad[k];
      entry["branch_cut_deg"] = info_.branchCutsRad[k] * kDegPerRad;
    } else {
      entry["branch_cut_rad"] = nullptr;
      entry["branch_cut_deg"] = nullptr;
    }
    features.push_back(entry);
  }
  json sources = json::array();
  for (const DatasetSource& s : info_.sources) sources.push_back({{"file", s.file}, {"frames", s.frames}});
  json meta = json::parse(info_.extraJson);
  meta["format"] = "activediff-dataset";
  if (!outputSession().kind.empty()) meta["activediff_output"] = outputSession().kind;
  meta["format_version"] = kDatasetFormatVersion;
  meta["activediff_version"] = kVersion;
  meta["feature_set"] = info_.featureSet;
  meta["frames"] = frames_;
  meta["dimension"] = info_.features.size();
  meta["features"] = features;
  meta["sources"] = sources;
  meta["topology"] = info_.topologyFile;
  meta["files"] = {{"features", "features.npy"},
                   {"time_ps", "time_ps.npy"},
                   {"source_file", "source_file.npy"},
                   {"source_frame", "source_frame.npy"}};
  meta["periodic_convention"] =
      "periodic features are stored in (-pi, pi]; unwrap each to [cut, cut + 2 pi) before standardizing";
  writeTextFile(output_.temporary() / "meta.json", directory_ / "meta.json", meta.dump(2) + "\n");
  output_.commit();
  return info_;
}

Dataset readDataset(const fs::path& directory, FeatureValidation validation) {
  const fs::path metaFile = directory / "meta.json";
  std::ifstream in(metaFile);
  if (!fs::is_directory(directory)) throw Error(directory.string(), "not a dataset directory");
  if (!in) throw Error(metaFile.string(), "missing or unreadable");
  json meta;
  try {
    meta = json::parse(in);
  } catch (const std::exception& e) {
    throw Error(metaFile.string(), std::string("invalid JSON: ") + e.what());
  }
  Dataset dataset;
  std::int64_t frames = 0;
  try {
    if (meta.at("format").get<std::string>() != "activediff-dataset") throw Error(metaFile.string(), "not an activediff dataset");
    const int version = meta.at("format_version").get<int>();
    if (version > kDatasetFormatVersion) {
      throw Error(metaFile.string(), "format version " + std::to_string(version) + " is newer than this activediff (" +
                                         std::to_string(kDatasetFormatVersion) + ")");
    }
    dataset.info.featureSet = meta.at("feature_set").get<std::string>();
    dataset.info.topologyFile = meta.value("topology", "");
    for (const json& f : meta.at("features")) {
      FeatureInfo info;
      info.name = f.at("name").get<std::string>();
      info.unit = f.at("unit").get<std::string>();
      info.periodic = f.at("periodic").get<bool>();
      info.kind = kindFromName(f.at("kind").get<std::string>(), metaFile.string());
      dataset.info.features.push_back(info);
      const json& cut = f.at("branch_cut_rad");
      dataset.info.branchCutsRad.push_back(cut.is_null() ? std::numeric_limits<double>::quiet_NaN() : cut.get<double>());
      if (info.periodic && cut.is_null()) throw Error(metaFile.string(), "periodic feature " + info.name + " has no branch cut");
    }
    for (const json& s : meta.at("sources")) dataset.info.sources.push_back({s.at("file").get<std::string>(), s.at("frames").get<std::int64_t>()});
    frames = meta.at("frames").get<std::int64_t>();
    if (meta.at("dimension").get<std::size_t>() != dataset.info.features.size()) {
      throw Error(metaFile.string(), "dimension disagrees with the feature list");
    }
    json extra = meta;
    for (const char* key : {"format", "format_version", "activediff_output", "feature_set", "features", "sources", "frames", "dimension", "topology"})
      extra.erase(key);
    dataset.info.extraJson = extra.dump();
  } catch (const json::exception& e) {
    throw Error(metaFile.string(), std::string("missing or malformed field: ") + e.what());
  }
  const auto dim = static_cast<std::int64_t>(dataset.info.features.size());
  const fs::path featuresFile = directory / "features.npy";
  NpyArray features = readNpy(featuresFile);
  if (features.type != NpyType::Float64 || features.shape.size() != 2) throw Error(featuresFile.string(), "must be a 2-D float64 array");
  if (features.columns() != dim) {
    throw Error(featuresFile.string(), "has " + std::to_string(features.columns()) + " features per frame, meta.json lists " +
                                           std::to_string(dim));
  }
  if (features.rows() != frames) {
    throw Error(featuresFile.string(), "has " + std::to_string(features.rows()) + " frames, meta.json says " + std::to_string(frames));
  }
  dataset.features = Eigen::Map<FeatureMatrix>(features.float64.data(), frames, dim);
  for (std::int64_t i = 0; i < frames; ++i) {
    for (std::int64_t k = 0; k < dim; ++k) {
      const double v = dataset.features(i, k);
      const FeatureInfo& f = dataset.info.features[k];
      if (!std::isfinite(v)) {
        if (validation == FeatureValidation::AllowNonFinite) continue;
        throw Error(featuresFile.string(), "frame " + std::to_string(i) + ", feature " + f.name + " is not finite");
      }
      if (f.periodic && (v <= -kPi - 1e-12 || v > kPi + 1e-12)) {
        throw Error(featuresFile.string(), "frame " + std::to_string(i) + ", periodic feature " + f.name + " outside (-pi, pi]");
      }
    }
  }
  auto readColumn = [&](const char* name, NpyType type) {
    const fs::path file = directory / name;
    NpyArray a = readNpy(file);
    if (a.type != type || a.shape.size() != 1 || a.rows() != frames) {
      throw Error(file.string(), "must be a 1-D array of " + std::to_string(frames) + " entries");
    }
    return a;
  };
  dataset.timePs = readColumn("time_ps.npy", NpyType::Float64).float64;
  dataset.sourceFile = readColumn("source_file.npy", NpyType::Int64).int64;
  dataset.sourceFrame = readColumn("source_frame.npy", NpyType::Int64).int64;
  for (std::int64_t i = 0; i < frames; ++i) {
    if (dataset.sourceFile[i] < 0 || dataset.sourceFile[i] >= static_cast<std::int64_t>(dataset.info.sources.size())) {
      throw Error((directory / "source_file.npy").string(), "frame " + std::to_string(i) + " refers to an unknown source");
    }
  }
  return dataset;
}

DatasetSplit splitByTimeBlocks(std::int64_t frames, double validationFraction, int blocks) {
  if (frames <= 0) throw Error("train/validation split: no frames");
  if (!(validationFraction >= 0.0 && validationFraction < 1.0)) {
    throw Error("train/validation split: validation fraction must be in [0, 1)");
  }
  if (blocks < 1) throw Error("train/validation split: need at least one block");
  blocks = static_cast<int>(std::min<std::int64_t>(blocks, frames));
  const int validationBlocks = static_cast<int>(std::lround(blocks * validationFraction));
  std::vector<char> isValidation(blocks, 0);
  // Evenly spaced: block b is a validation block when floor((b+1) v / B)
  // steps up, which picks exactly v blocks spread over the whole run.
  for (int b = 0; b < blocks; ++b) {
    const std::int64_t before = static_cast<std::int64_t>(b) * validationBlocks / blocks;
    const std::int64_t after = static_cast<std::int64_t>(b + 1) * validationBlocks / blocks;
    isValidation[b] = after > before;
  }
  DatasetSplit split;
  for (std::int64_t i = 0; i < frames; ++i) {
    const int block = static_cast<int>(i * blocks / frames);
    (isValidation[block] ? split.validation : split.train).push_back(i);
  }
  return split;
}

}  // namespace activediff
