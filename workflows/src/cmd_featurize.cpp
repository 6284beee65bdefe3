// activediff featurize: trajectories + topology -> dataset directory.
#include <fmt/format.h>

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "activediff/featurize/error.h"
#include "activediff/featurize/featurizer.h"
#include "activediff/featurize/geometry.h"
#include "activediff/featurize/structure.h"
#include "commands.h"
#include "progress.h"
#include "provenance.h"

namespace activediff::cli {
namespace {

struct FeaturizeCliOptions {
  std::vector<std::string> trajectories;
  std::vector<std::string> positionalTrajectories;  // appended to trajectories before the run
  std::string topology;
  std::string output;
  std::string features = "2d";
  std::int64_t begin = 0;
  std::int64_t end = -1;
  std::int64_t stride = 1;
  int residue = 0;  // 0 = automatic
  std::string summaryJson;
  bool quiet = false;

  nlohmann::json toJson() const {
    return {{"trajectories", trajectories}, {"topology", topology}, {"output", output},
            {"features", features},         {"begin", begin},       {"end", end},
            {"stride", stride},             {"residue", residue == 0 ? nlohmann::json(nullptr) : nlohmann::json(residue)}};
  }
};

void runFeaturize(const FeaturizeCliOptions& options) {
  const FeatureSet set = featureSetFromName(options.features);
  if (options.stride < 1) throw Error("--stride", "must be >= 1");
  if (options.begin < 0) throw Error("--begin", "must be >= 0");
  if (options.end >= 0 && options.end <= options.begin) throw Error("--end", "must be after --begin");
  std::vector<std::string> inputs = options.trajectories;
  inputs.push_back(options.topology);
  declareInputs(inputs);
  checkOutputAllowed(options.output, OutputShape::Directory);
  std::unique_ptr<OutputClaim> summaryClaim;
  if (!options.summaryJson.empty()) summaryClaim = std::make_unique<OutputClaim>(options.summaryJson, OutputShape::File);
  const Structure topology = readStructure(options.topology);
  const std::optional<int> residue = options.residue == 0 ? std::nullopt : std::optional<int>(options.residue);
  const Featurizer featurizer(set, topology, options.topology, residue);

  const nlohmann::json provenanceJson = provenance(options.toJson());
  FeaturizeOptions run;
  run.begin = options.begin;
  run.end = options.end;
  run.stride = options.stride;
  run.extraJson = nlohmann::json{{"provenance", provenanceJson},
                                 {"selection", {{"begin", options.begin}, {"end", options.end}, {"stride", options.stride}}},
                                 {"residue_index", featurizer.backbone().residueIndex}}
                      .dump();
  std::unique_ptr<ProgressDisplay> progress;
  if (!options.quiet) {
    run.progress = [&progress](std::int64_t done, std::int64_t total) {
      if (!progress) progress = std::make_unique<ProgressDisplay>("featurize", total);
      progress->update(done, "frames");
    };
  }
  const FeaturizeSummary summary =
      featurizeTrajectories(featurizer, options.topology, options.trajectories, options.output, run);
  if (progress) progress->finish();

  nlohmann::json features = nlohmann::json::array();
  for (std::size_t k = 0; k < summary.info.features.size(); ++k) {
    const FeatureInfo& f = summary.info.features[k];
    nlohmann::json entry = {{"name", f.name}, {"unit", f.unit}, {"periodic", f.periodic}};
    if (f.periodic) entry["branch_cut_deg"] = summary.info.branchCutsRad[k] * kDegPerRad;
    features.push_back(entry);
  }
  nlohmann::json sources = nlohmann::json::array();
  for (const auto& s : summary.info.sources) sources.push_back({{"file", s.file}, {"frames", s.frames}});
  nlohmann::json document = provenanceJson;
  document["summary"] = {{"dataset", options.output},
                         {"feature_set", summary.info.featureSet},
                         {"dimension", summary.info.features.size()},
                         {"frames", summary.frames},
                         {"seconds", summary.seconds},
                         {"frames_per_second", summary.seconds > 0 ? summary.frames / summary.seconds : 0.0},
                         {"sources", sources},
                         {"features", features}};
  if (summaryClaim) writeJson(*summaryClaim, document);
  std::cout << document.dump(2) << "\n";
}

void addFeaturize(CLI::App& app) {
  auto options = std::make_shared<FeaturizeCliOptions>();
  CLI::App* sub = app.add_subcommand(
      "featurize",
      "Turn MD trajectories into a training dataset: phi/psi (2d) or the 25 internal coordinates of a capped "
      "residue (25d). Writes a directory that numpy opens directly (features.npy [frames, D] in nm and "
      "radians, time_ps.npy, source_file.npy, source_frame.npy, meta.json with names, units, periodic flags, "
      "branch cuts and provenance) and prints a JSON summary. Frames are streamed: memory does not grow with "
      "trajectory length. Corrupt or mismatched input is an error naming the file and frame; nothing is "
      "written then.");
  // One required group, so that --help does not call -f and the positional
  // form both REQUIRED: either (or both) will do.
  CLI::Option_group* inputs = sub->add_option_group(
      "Trajectories", "one or more trajectories (.xtc, .trr, .gro, multi-model .pdb), after -f or as positional "
                      "arguments (-f ones first); all go into one dataset");
  inputs->add_option("-f,--trajectory", options->trajectories, "trajectory files")->check(CLI::ExistingFile);
  inputs->add_option("trajectories", options->positionalTrajectories, "trajectory files")->check(CLI::ExistingFile);
  inputs->require_option();
  sub->add_option("-s,--topology", options->topology, "topology with atom names: .tpr, .gro or .pdb")
      ->required()
      ->check(CLI::ExistingFile);
  sub->add_option("-o,--output", options->output, "output dataset directory (written atomically; an existing one is backed up, see --overwrite)")
      ->required();
  sub->add_option("--features", options->features, "feature set: 2d (phi, psi) or 25d (internal coordinates)")
      ->capture_default_str();
  sub->add_option("--begin", options->begin, "first frame index taken from each file (0-based)")->capture_default_str();
  sub->add_option("--end", options->end, "one past the last frame index per file (-1 = to the end)")
      ->capture_default_str();
  sub->add_option("--stride", options->stride, "take every n-th frame")->capture_default_str();
  sub->add_option("--residue", options->residue,
                  "central residue number as in the topology (default: the one residue with phi and psi)");
  sub->add_option("--summary", options->summaryJson, "also write the JSON summary to this file");
  sub->add_flag("-q,--quiet", options->quiet, "no progress on stderr (warnings about the inputs still print)");
  sub->callback([options]() {
    options->trajectories.insert(options->trajectories.end(), options->positionalTrajectories.begin(),
                                 options->positionalTrajectories.end());
    options->positionalTrajectories.clear();
    runFeaturize(*options);
  });
}

const CommandRegistration registration(30, "featurize", addFeaturize);

}  // namespace
}  // namespace activediff::cli
