// activediff rebuild: features (generated or MD) -> full-atom structures.
#include <fmt/format.h>

#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "activediff/featurize/output_policy.h"
#include "activediff/featurize/error.h"
#include "commands.h"
#include "option_checks.h"
#include "distribution_summary.h"
#include "provenance.h"
#include "structure_chunks.h"
#include "structure_pipeline.h"

namespace activediff::cli {
namespace {

struct RebuildOptions {
  std::string features;
  StructurePathOptions path;
  std::vector<std::string> outputs;
  std::string summary;
  std::int64_t limit = 0;
  nlohmann::json toJson() const {
    return {{"features", features}, {"structure_path", path.toJson()}, {"outputs", outputs}, {"limit", limit}};
  }
};

void runRebuild(const RebuildOptions& options) {
  if (options.outputs.empty()) throw Error("-o", "give at least one output (.pdb, .xtc, .dcd, .gro or .trr)");
  if (!options.path.systemXml.empty()) requireCapability(Capability::OpenMM);  // before any claim
  declareInputs({options.features, options.path.topology, options.path.systemXml});
  std::string summary = options.summary;
  if (summary.empty()) summary = options.outputs.front() + ".json";
  // Every output is claimed before any work; structures are committed in
  // the order given, the JSON summary last.
  std::vector<std::unique_ptr<OutputClaim>> claims;
  for (const std::string& output : options.outputs) {
    for (const auto& claim : claims)
      if (claim->target() == absoluteNormal(output)) throw Error(output, "given twice as an output");
    claims.push_back(std::make_unique<OutputClaim>(output, OutputShape::File));
  }
  OutputClaim summaryClaim(summary, OutputShape::File);
  const Dataset dataset = readDataset(options.features, FeatureValidation::AllowNonFinite);
  const StructurePath path(dataset.info.featureSet, options.path);
  if (dataset.dimension() != path.featurizer().dimension()) {
    throw Error(options.features, fmt::format("has {} features per sample; {} needs {}", dataset.dimension(),
                                              dataset.info.featureSet, path.featurizer().dimension()));
  }
  const FeatureMatrix features = evenlySpacedRows(dataset.features, options.limit);
  ProgressDisplay progress(path.scoresEnergies() ? "rebuild (relax, energies)" : "rebuild", features.rows());
  const StructurePath::Result result = runInChunks(path, features, progress);
  progress.finish();

  std::map<std::string, std::int64_t> reasons;
  for (const std::string& reason : result.rebuilt.invalid)
    if (!reason.empty()) ++reasons[reason.substr(0, reason.find(':'))];

  nlohmann::json written = nlohmann::json::object();
  for (std::size_t k = 0; k < options.outputs.size(); ++k) {
    written[options.outputs[k]] = writeStructures(*claims[k], path.templateStructure().topology, result.structures);
  }
  nlohmann::json document = provenance(options.toJson());
  document["result"] = {{"samples", features.rows()},
                        {"invalid_features", result.rebuilt.invalidCount()},
                        {"invalid_reasons", reasons},
                        {"structures_with_clashes", result.structuresWithClashes},
                        {"structures_written", written}};
  if (path.scoresEnergies()) {
    document["result"]["energy_kj_mol"] = distributionSummary(result.energiesKjPerMol);
    document["result"]["non_finite_energy"] = document["result"]["energy_kj_mol"]["non_finite"];
    document["energies_kj_mol"] = result.energiesKjPerMol;
  }
  // Every file complete before any is committed; the JSON summary last.
  writeJsonTemporary(summaryClaim, document);
  for (auto& claim : claims) claim->commit();
  summaryClaim.commit();
  std::cout << fmt::format("{} samples: {} invalid feature rows, {} structures with clashes", features.rows(),
                           result.rebuilt.invalidCount(), result.structuresWithClashes);
  if (path.scoresEnergies()) {
    std::cout << fmt::format(", {} non-finite energies, median energy {} kJ/mol",
                             document["result"]["non_finite_energy"].get<std::int64_t>(),
                             document["result"]["energy_kj_mol"]["median"].is_null()
                                 ? std::string("n/a")
                                 : fmt::format("{:.2f}", document["result"]["energy_kj_mol"]["median"].get<double>()));
  }
  std::cout << "\n";
  for (const auto& [file, count] : written.items()) std::cout << "wrote " << count << " structures to " << file << "\n";
  std::cout << "summary: " << summary << "\n";
}

void addRebuild(CLI::App& app) {
  auto options = std::make_shared<RebuildOptions>();
  CLI::App* sub = app.add_subcommand("rebuild", commandSummary("rebuild"));
  sub->add_option("--features", options->features, "feature dataset directory (from featurize or sample)")->required();
  sub->add_option("--topology,--template", options->path.topology, "template structure the features refer to (.pdb/.gro/.tpr)")
      ->required();
  sub->add_option("-o,--output", options->outputs, "output structures: .pdb (multi-model), .xtc, .dcd, .gro, .trr; repeatable")
      ->required();
  sub->add_option("--system", options->path.systemXml, "OpenMM System XML: energies (and relaxation)");
  sub->add_option("--relax", options->path.relax, "none | hydrogens (25D, heavy atoms restrained) | phi-psi (2D)")
      ->capture_default_str();
  sub->add_option("--platform", options->path.platform, "OpenMM platform for energies")->capture_default_str();
  sub->add_option("--workers", options->path.workers, "parallel OpenMM contexts")
      ->capture_default_str()
      ->check(atLeast(1));
  sub->add_option("--limit", options->limit, "use at most this many evenly spaced samples (0 = all)")
      ->capture_default_str()
      ->check(atLeast(0));
  sub->add_option("--summary", options->summary, "JSON summary (default: <first output>.json)");
  sub->callback([options] { runRebuild(*options); });
}

const CommandRegistration registration(60, "rebuild", addRebuild);

}  // namespace
}  // namespace activediff::cli
