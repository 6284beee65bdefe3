#include "activediff/featurize/featurizer.h"

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "activediff/featurize/error.h"
#include "activediff/featurize/geometry.h"
#include "activediff/featurize/index_groups.h"

namespace activediff {

FeatureSet featureSetFromName(const std::string& name) {
  if (name == "2d" || name == "2D" || name == "phi-psi-2d") return FeatureSet::PhiPsi2D;
  if (name == "25d" || name == "25D" || name == "capped-residue-25d") return FeatureSet::ZMatrix25D;
  throw Error("--features", "unknown feature set '" + name + "' (use 2d or 25d)");
}

std::string featureSetName(FeatureSet set) {
  return set == FeatureSet::PhiPsi2D ? "phi-psi-2d" : "capped-residue-25d";
}

Featurizer::Featurizer(FeatureSet set, const Structure& topology, const std::string& topologyFile,
                       std::optional<int> residueNumber)
    : set_(set), topology_(topology.topology) {
  backbone_ = findBackboneDihedrals(topology_, topologyFile, residueNumber);
  std::vector<int> usedAtoms;
  if (set == FeatureSet::PhiPsi2D) {
    features_ = {{"phi", "rad", true, FeatureKind::TorsionRad}, {"psi", "rad", true, FeatureKind::TorsionRad}};
    usedAtoms.assign(backbone_.phi.begin(), backbone_.phi.end());
    usedAtoms.push_back(backbone_.psi[3]);
  } else {
    zmatrix_.emplace(cappedResidueZMatrix(), topology_, backbone_.residueIndex, topologyFile);
    features_ = zmatrix_->features();
    usedAtoms = zmatrix_->rowAtoms();
  }
  graph_.emplace(topology_, topology.positionsNm, usedAtoms);
  // Features are found by atom name: names that do not fit the structure
  // (CA and CB swapped gave phi/psi off by up to 64 degrees) must fail here.
  if (std::string problem = graph_->checkChemistry(usedAtoms, topology.positionsNm); !problem.empty()) {
    throw Error(topologyFile, problem + ": the atom names do not fit the chemistry of the structure (swapped or "
                                        "misnamed atoms?), so the " + featureSetName(set) +
                                  " features would be computed from the wrong atoms");
  }
  plausibility_.emplace(graph_->plausibility());
}

void Featurizer::compute(Frame& frame, const std::string& file, double* out) const {
  if (frame.positionsNm.rows() != static_cast<Eigen::Index>(topology_.size())) {
    throw Error(file, "frame " + std::to_string(frame.index) + ": has " + std::to_string(frame.positionsNm.rows()) +
                          " atoms but the topology has " + std::to_string(topology_.size()));
  }
  graph_->makeWhole(frame.positionsNm, frame.boxNm);
  if (std::string problem = plausibility_->check(frame.positionsNm); !problem.empty()) {
    throw Error(file, "frame " + std::to_string(frame.index) + ": unphysical frame: " + problem +
                          " -- corrupt coordinates, or a topology whose atom order differs from the trajectory");
  }
  if (set_ == FeatureSet::PhiPsi2D) {
    const auto phiPsi = phiPsiRad(backbone_, frame.positionsNm);
    out[0] = phiPsi[0];
    out[1] = phiPsi[1];
  } else {
    zmatrix_->featurize(frame.positionsNm, out);
  }
}

FeaturizeSummary featurizeTrajectories(const Featurizer& featurizer, const std::string& topologyFile,
                                       const std::vector<std::string>& trajectories,
                                       const std::filesystem::path& output, const FeaturizeOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  if (trajectories.empty()) throw Error("featurize: no trajectories given");
  // Progress total: exact for XTC/TRR (their headers are walked anyway),
  // refined as each file is opened.
  std::int64_t total = 0;
  DatasetInfo info;
  info.featureSet = featureSetName(featurizer.set());
  info.features = featurizer.features();
  info.topologyFile = topologyFile;
  info.extraJson = options.extraJson;
  DatasetWriter writer(output, info);
  const auto warn = [&](const std::string& message) {
    if (options.warn) {
      options.warn(message);
    } else {
      std::fprintf(stderr, "warning: %s\n", message.c_str());
    }
  };
  nlohmann::json duplicates = nlohmann::json::array();
  for (std::size_t f = 0; f < trajectories.size(); ++f) {
    for (std::size_t g = 0; g < f; ++g) {
      std::error_code ec;
      if (!std::filesystem::equivalent(trajectories[g], trajectories[f], ec) || ec) continue;
      warn(trajectories[f] + ": the same file as trajectory " + std::to_string(g + 1) + " (" + trajectories[g] +
           "); it is given twice, so its frames go into the dataset twice");
      duplicates.push_back({{"file", trajectories[f]}, {"source_index", f}, {"same_as_source_index", g}});
      break;
    }
  }
  nlohmann::json timeWarnings = nlohmann::json::array();
  std::vector<double> features(featurizer.dimension());
  std::int64_t done = 0;
  std::vector<DatasetSource> sources;
  for (std::size_t f = 0; f < trajectories.size(); ++f) {
    TrajectoryReader::Options readOptions;
    readOptions.begin = options.begin;
    readOptions.end = options.end;
    readOptions.stride = options.stride;
    readOptions.beginPs = options.beginPs;
    readOptions.endPs = options.endPs;
    readOptions.dtPs = options.dtPs;
    readOptions.expectedAtoms = options.atoms.empty() ? featurizer.atomCount() : options.systemAtoms;
    readOptions.warn = warn;
    TrajectoryReader reader(trajectories[f], readOptions);
    if (reader.framesInFile() >= 0) total += reader.selectedFrames();
    Frame frame;
    PositionsNm molecule;
    std::int64_t taken = 0;
    while (reader.next(frame)) {
      if (!options.atoms.empty()) {  // the index group's atoms only
        selectRows(frame.positionsNm, options.atoms, molecule);
        frame.positionsNm.swap(molecule);
      }
      featurizer.compute(frame, trajectories[f], features.data());
      writer.append(features.data(), frame.timePs, static_cast<std::int64_t>(f), frame.index);
      if (options.onFrame) options.onFrame(frame.timePs, features.data());
      ++taken;
      if (options.progress && (++done % 4096) == 0 && total > 0) options.progress(done, total);
    }
    if (taken == 0) {
      throw Error(trajectories[f], "no frames selected (by --first-frame " + std::to_string(options.begin) +
                                       ", --last-frame, --stride, -b, -e, -dt)");
    }
    sources.push_back({trajectories[f], taken});
    if (const auto& t = reader.timeWarning(); t.frames > 0) {
      timeWarnings.push_back({{"file", trajectories[f]},
                              {"source_index", f},
                              {"first_frame", t.firstFrame},
                              {"time_ps", t.timePs},
                              {"previous_time_ps", t.previousTimePs},
                              {"frames_not_increasing", t.frames},
                              {"meaning", "time does not increase: a concatenated trajectory or one without times"}});
    }
  }
  // Known only now: what was accepted with a warning goes into meta.json.
  nlohmann::json extra = nlohmann::json::parse(options.extraJson);
  extra["time_warnings"] = timeWarnings;
  extra["duplicate_trajectories"] = duplicates;
  writer.setExtraJson(extra.dump());
  // Sources are known only now; the writer reads them at commit.
  FeaturizeSummary summary;
  summary.frames = writer.frames();
  writer.setSources(std::move(sources));
  summary.info = writer.commit();
  if (options.progress) options.progress(summary.frames, summary.frames);
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

}  // namespace activediff
