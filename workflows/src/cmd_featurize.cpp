// activediff featurize: trajectories + topology -> dataset directory.
#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "activediff/featurize/error.h"
#include "activediff/featurize/featurizer.h"
#include "activediff/featurize/geometry.h"
#include "activediff/featurize/index_groups.h"
#include "activediff/featurize/output_policy.h"
#include "activediff/featurize/structure.h"
#include "commands.h"
#include "frame_selection_options.h"
#include "progress.h"
#include "provenance.h"
#include "xvg.h"

namespace activediff::cli {
namespace {

struct FeaturizeCliOptions {
  std::vector<std::string> trajectories;
  std::vector<std::string> positionalTrajectories;  // appended to trajectories before the run
  std::string topology;
  std::string output;
  std::string features = "2d";
  FrameSelectionOptions selection;
  int residue = 0;  // 0 = automatic
  std::string indexFile;  // -n: the molecule's atoms in a larger system
  std::string group;      // --group: name or number of the index group
  std::string xvg;        // per-frame features as an .xvg table (JSON beside)
  std::string summaryJson;

  nlohmann::json toJson() const {
    return {{"trajectories", trajectories},
            {"topology", topology},
            {"output", output},
            {"features", features},
            {"selection", selection.toJson()},
            {"index", indexFile.empty() ? nlohmann::json(nullptr) : nlohmann::json(indexFile)},
            {"group", group.empty() ? nlohmann::json(nullptr) : nlohmann::json(group)},
            {"xvg", xvg.empty() ? nlohmann::json(nullptr) : nlohmann::json(xvg)},
            {"residue", residue == 0 ? nlohmann::json(nullptr) : nlohmann::json(residue)}};
  }
};

// Per-frame features as an .xvg table, streamed to its claimed temporary:
// time in ps, then every feature in gmx units (angles in degrees, bonds in
// nm); its averages go into the JSON beside it.
class FeatureTable {
 public:
  FeatureTable(const std::string& file, const std::vector<FeatureInfo>& features)
      : claim_(file, OutputShape::File), jsonClaim_(jsonBeside(file), OutputShape::File), features_(features),
        sums_(features.size(), 0.0), squares_(features.size(), 0.0) {
    if (std::filesystem::path(file).extension() != ".xvg") throw Error(file, "--xvg table must end in .xvg");
    out_.open(claim_.temporary());
    if (!out_) throwWriteError(claim_.target(), "cannot open for writing");
    std::vector<std::string> legends;
    bool angles = false, lengths = false;
    for (const FeatureInfo& f : features_) {
      legends.push_back(f.name);
      (f.unit == "rad" ? angles : lengths) = true;
    }
    const std::string yLabel = angles && lengths ? "(degrees, nm)" : angles ? "(degrees)" : "(nm)";
    out_ << xvgHeader("activediff featurize", "Time (ps)", yLabel, legends, commandLine());
  }
  void add(double timePs, const double* values) {
    out_ << fmt::format("{:12.4f}", timePs);
    for (std::size_t k = 0; k < features_.size(); ++k) {
      const double v = features_[k].unit == "rad" ? values[k] * kDegPerRad : values[k];
      out_ << fmt::format(" {:14.7f}", v);
      // The average of what the table holds (as gmx analyze computes it).
      const double shown = std::stod(fmt::format("{:.7f}", v));
      sums_[k] += shown;
      squares_[k] += shown * shown;
    }
    out_ << '\n';
    ++rows_;
  }
  // Writes the JSON and commits both, once the dataset is complete.
  void commit(const nlohmann::json& provenanceJson) {
    out_.close();
    if (!out_) throwWriteError(claim_.target(), "write failed");
    nlohmann::json columns = nlohmann::json::array();
    for (std::size_t k = 0; k < features_.size(); ++k) {
      const double mean = rows_ > 0 ? sums_[k] / rows_ : NAN;
      const double variance = rows_ > 0 ? std::max(0.0, squares_[k] / rows_ - mean * mean) : NAN;
      columns.push_back({{"name", features_[k].name},
                         {"unit", features_[k].unit == "rad" ? "degree" : features_[k].unit},
                         {"average", mean},
                         {"std", std::sqrt(variance)}});
    }
    nlohmann::json document = provenanceJson;
    document["table"] = {{"file", claim_.target().filename().string()},
                         {"rows", rows_},
                         {"x", {{"name", "time"}, {"unit", "ps"}}},
                         {"columns", columns},
                         {"note", "angles in degrees as gmx writes them; averages are arithmetic means of the "
                                  "table's values, as gmx analyze reports them (not circular means)"}};
    writeJsonTemporary(jsonClaim_, document);
    claim_.commit();
    jsonClaim_.commit();
  }

 private:
  static std::filesystem::path jsonBeside(const std::string& file) {
    std::filesystem::path json = file;
    return json.replace_extension(".json");
  }
  OutputClaim claim_;
  OutputClaim jsonClaim_;
  std::vector<FeatureInfo> features_;
  std::ofstream out_;
  std::vector<double> sums_, squares_;
  std::int64_t rows_ = 0;
};

void runFeaturize(const FeaturizeCliOptions& options) {
  const FeatureSet set = featureSetFromName(options.features);
  options.selection.check();
  if (!options.group.empty() && options.indexFile.empty()) throw Error("--group", "needs an index file (-n index.ndx)");
  std::vector<std::string> inputs = options.trajectories;
  inputs.push_back(options.topology);
  if (!options.indexFile.empty()) inputs.push_back(options.indexFile);
  declareInputs(inputs);
  checkOutputAllowed(options.output, OutputShape::Directory);
  std::unique_ptr<OutputClaim> summaryClaim;
  if (!options.summaryJson.empty()) summaryClaim = std::make_unique<OutputClaim>(options.summaryJson, OutputShape::File);
  const Structure system = readStructure(options.topology);
  // -n: the molecule is the index group's atoms, made whole across the box.
  std::vector<int> groupAtoms;
  std::string groupName;
  if (!options.indexFile.empty()) {
    const std::vector<IndexGroup> groups = readIndexFile(options.indexFile);
    const IndexGroup& group = chooseIndexGroup(groups, options.group, options.indexFile);
    groupAtoms = group.atoms;
    groupName = group.name;
  }
  const Structure topology =
      groupAtoms.empty() ? system : selectAtoms(system, groupAtoms, options.indexFile + " group " + groupName);
  const std::optional<int> residue = options.residue == 0 ? std::nullopt : std::optional<int>(options.residue);
  const Featurizer featurizer(set, topology, options.topology, residue);
  std::unique_ptr<FeatureTable> table;
  if (!options.xvg.empty()) table = std::make_unique<FeatureTable>(options.xvg, featurizer.features());

  const nlohmann::json provenanceJson = provenance(options.toJson());
  FeaturizeOptions run;
  run.begin = options.selection.firstFrame;
  run.end = options.selection.endIndex();
  run.stride = options.selection.stride;
  run.beginPs = options.selection.beginPs;
  run.endPs = options.selection.endPs;
  run.dtPs = options.selection.dtPs;
  run.atoms = groupAtoms;
  run.systemAtoms = static_cast<int>(system.topology.size());
  if (table) run.onFrame = [&table](double timePs, const double* values) { table->add(timePs, values); };
  nlohmann::json group = nullptr;
  if (!groupAtoms.empty()) group = {{"index_file", options.indexFile}, {"name", groupName}, {"atoms", groupAtoms.size()}};
  run.extraJson = nlohmann::json{{"provenance", provenanceJson},
                                 {"selection", options.selection.toJson()},
                                 {"index_group", group},
                                 {"residue_index", featurizer.backbone().residueIndex}}
                      .dump();
  std::unique_ptr<ProgressDisplay> progress;
  if (verbosity() != Verbosity::Quiet) {
    run.progress = [&progress](std::int64_t done, std::int64_t total) {
      if (!progress) progress = std::make_unique<ProgressDisplay>("featurize", total);
      progress->update(done, "frames");
    };
  }
  const FeaturizeSummary summary =
      featurizeTrajectories(featurizer, options.topology, options.trajectories, options.output, run);
  if (progress) progress->finish();
  if (table) table->commit(provenanceJson);

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
  CLI::App* sub = app.add_subcommand("featurize", commandSummary("featurize"));
  // One required group, so that --help does not call -f and the positional
  // form both REQUIRED: either (or both) will do.
  CLI::Option_group* inputs = sub->add_option_group(
      "Trajectories", "one or more trajectories (.xtc, .trr, .dcd, .gro, multi-model .pdb), after -f or as positional "
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
  options->selection.addTo(sub, " from each file");
  addIndexGroupOptions(sub, options->indexFile, options->group,
                       "whose group holds the molecule's atoms in a larger (e.g. solvated) system; -s and the "
                       "trajectories are then the whole system. The molecule is made whole across the periodic box "
                       "with its bonds, as gmx trjconv -pbc mol does, in the topology and in every frame");
  sub->add_option("--xvg", options->xvg,
                  "also write the per-frame features as an .xvg table (time in ps; angles in degrees, bonds in nm, "
                  "as gmx writes them), with a JSON of its column averages beside it");
  sub->add_option("--residue", options->residue,
                  "central residue number as in the topology (default: the one residue with phi and psi)");
  sub->add_option("--summary", options->summaryJson, "also write the JSON summary to this file");
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
