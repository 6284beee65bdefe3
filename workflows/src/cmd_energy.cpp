// activediff energy: OpenMM potential energy of every frame of a trajectory.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "activediff/featurize/output_policy.h"
#include "activediff/featurize/error.h"
#include "activediff/featurize/index_groups.h"
#include "activediff/featurize/molecule_graph.h"
#include "activediff/featurize/structure.h"
#include "activediff/plugin/openmm_setup.h"
#include "activediff/plugin/potential_energy.h"
#include "openmm/System.h"  // owns the loaded System until the evaluator takes it
#include "commands.h"
#include "distribution_summary.h"
#include "frame_selection_options.h"
#include "progress.h"
#include "provenance.h"
#include "xvg.h"

namespace activediff::cli {
namespace {

struct EnergyOptions {
  std::string systemXml;
  std::string trajectory;
  std::string output = "energies.csv";
  std::string platform = "Reference";
  int threads = 0;
  std::string indexFile;  // -n: the System's atoms in a larger (solvated) trajectory
  std::string group;      // --group: name or number of the index group
  FrameSelectionOptions selection;

  nlohmann::json toJson() const {
    return {{"system", systemXml}, {"trajectory", trajectory}, {"output", output},
            {"platform", platform}, {"threads", threads},      {"selection", selection.toJson()},
            {"index", indexFile.empty() ? nlohmann::json(nullptr) : nlohmann::json(indexFile)},
            {"group", group.empty() ? nlohmann::json(nullptr) : nlohmann::json(group)}};
  }
};

void runEnergy(const EnergyOptions& options) {
  options.selection.check();
  if (options.threads < 0) throw Error("--threads", "must be >= 0, 0 = the platform's default (got " +
                                                       std::to_string(options.threads) + ")");
  std::filesystem::path csvPath = options.output;
  const bool xvg = csvPath.extension() == ".xvg";
  if (csvPath.extension() != ".csv" && !xvg) throw Error(options.output, "output table must end in .csv or .xvg");
  std::filesystem::path jsonPath = csvPath;
  jsonPath.replace_extension(".json");
  if (!options.group.empty() && options.indexFile.empty()) throw Error("--group", "needs an index file (-n index.ndx)");
  std::vector<std::string> inputs = {options.systemXml, options.trajectory};
  if (!options.indexFile.empty()) inputs.push_back(options.indexFile);
  declareInputs(inputs);
  // Claimed before any work, so a refusal costs nothing; the table is
  // committed first and its JSON summary last.
  OutputClaim csvClaim(csvPath, OutputShape::File);
  OutputClaim jsonClaim(jsonPath, OutputShape::File);

  std::unique_ptr<OpenMM::System> system = plugin::loadSystemXml(options.systemXml);
  const BondPlausibility plausibility = plugin::bondPlausibilityOf(*system);
  plugin::PotentialEnergyEvaluator evaluator(std::move(system), options.platform, options.threads);
  const int particles = evaluator.particleCount();
  // -n: the System is the index group's atoms of each (larger) frame.
  std::vector<int> groupAtoms;
  std::string groupName;
  if (!options.indexFile.empty()) {
    const std::vector<IndexGroup> groups = readIndexFile(options.indexFile);
    const IndexGroup& group = chooseIndexGroup(groups, options.group, options.indexFile);
    if (static_cast<int>(group.atoms.size()) != particles) {
      throw Error(options.indexFile, fmt::format("group '{}' has {} atoms but the System ({}) has {} particles",
                                                 group.name, group.atoms.size(), options.systemXml, particles));
    }
    groupAtoms = group.atoms;
    groupName = group.name;
  }
  // Molecules broken across the periodic box are made whole along the
  // System's bonds first, as gmx trjconv -pbc mol does.
  const std::vector<std::pair<int, int>> forest = spanningForest(particles, plausibility.bonds());
  TrajectoryReader::Options readOptions;
  options.selection.applyTo(readOptions);
  readOptions.expectedAtoms = groupAtoms.empty() ? particles : -1;
  TrajectoryReader reader(options.trajectory, readOptions);
  const int highestGroupAtom = groupAtoms.empty() ? -1 : *std::max_element(groupAtoms.begin(), groupAtoms.end());
  PositionsNm molecule;

  std::vector<std::int64_t> frames;
  std::vector<double> times;
  std::vector<double> energies;
  Frame frame;
  ProgressDisplay progress("energy", reader.selectedFrames());
  while (reader.next(frame)) {
    frames.push_back(frame.index);
    times.push_back(frame.timePs);
    if (groupAtoms.empty()) {
      molecule = frame.positionsNm;
    } else {
      if (frame.positionsNm.rows() <= highestGroupAtom) {
        throw Error(options.trajectory, fmt::format("frame {}: has {} atoms; index group '{}' of {} needs atom {}",
                                                    frame.index, frame.positionsNm.rows(), groupName,
                                                    options.indexFile, highestGroupAtom + 1));
      }
      selectRows(frame.positionsNm, groupAtoms, molecule);
    }
    makeWholeAlong(forest, molecule, frame.boxNm);
    if (std::string problem = plausibility.check(molecule); !problem.empty()) {
      throw Error(options.trajectory, "frame " + std::to_string(frame.index) + ": unphysical frame: " + problem +
                                          " -- corrupt coordinates, a molecule broken across a box the file does "
                                          "not record, or a trajectory of another system");
    }
    energies.push_back(evaluator.energyKjPerMol(molecule));
    if (frames.size() % 1000 == 0) progress.update(static_cast<std::int64_t>(frames.size()));
  }
  if (frames.empty()) throw Error(options.trajectory, "no frames selected");
  progress.finish(fmt::format("{} frames", frames.size()));

  // .csv: frame, time, energy; .xvg: time and energy, with gmx's headers.
  std::string csv = xvg ? xvgHeader("Potential energy", "Time (ps)", "(kJ/mol)", {"Potential"}, commandLine())
                        : "frame,time_ps,potential_kj_mol\n";
  nlohmann::json table = nlohmann::json::array();
  for (std::size_t i = 0; i < frames.size(); ++i) {
    csv += xvg ? fmt::format("{:12.4f} {:16.6f}\n", times[i], energies[i])
               : fmt::format("{},{:.4f},{:.6f}\n", frames[i], times[i], energies[i]);
    table.push_back({{"frame", frames[i]}, {"time_ps", times[i]}, {"potential_kj_mol", energies[i]}});
  }
  nlohmann::json summary = distributionSummary(energies);
  summary["platform"] = evaluator.platformName();
  summary["unit"] = "kJ/mol";
  nlohmann::json document = provenance(options.toJson());
  document["summary"] = summary;
  document["energies"] = table;
  // Both complete before either is committed: never a table without its JSON.
  writeTemporary(csvClaim, csv);
  writeJsonTemporary(jsonClaim, document);
  csvClaim.commit();
  jsonClaim.commit();
  const auto number = [&](const char* key) { return summary[key].is_null() ? NAN : summary[key].get<double>(); };
  std::cout << fmt::format(
      "{} frames, platform {}: potential energy mean {:.3f} +/- {:.3f} kJ/mol, median {:.3f}, "
      "5-95% [{:.3f}, {:.3f}], non-finite {}\nwrote {} and {}\n",
      frames.size(), evaluator.platformName(), number("mean"), number("std"), number("median"), number("q05"),
      number("q95"), summary["non_finite"].get<std::int64_t>(), csvPath.string(), jsonPath.string());
}

void addEnergy(CLI::App& app) {
  auto options = std::make_shared<EnergyOptions>();
  CLI::App* sub = app.add_subcommand("energy", commandSummary("energy"));
  sub->add_option("--system", options->systemXml, "OpenMM System XML")->required();
  sub->add_option("-f,--trajectory", options->trajectory, "trajectory: .xtc, .trr, .dcd, .pdb or .gro")->required();
  sub->add_option("-o,--output", options->output,
                  "output table: .csv, or .xvg as gmx energy writes it (time in ps, kJ/mol); the JSON goes beside it")
      ->capture_default_str();
  sub->add_option("--platform", options->platform, "OpenMM platform (Reference is exact double precision)")
      ->capture_default_str();
  sub->add_option("--threads", options->threads, "CPU platform threads (0 = default)")->capture_default_str();
  addIndexGroupOptions(sub, options->indexFile, options->group,
                       "whose group holds the System's atoms in a larger (e.g. solvated) trajectory: each frame is "
                       "cut to them. Molecules are made whole across the periodic box with the System's bonds "
                       "first, as gmx trjconv -pbc mol does");
  options->selection.addTo(sub, "");
  sub->callback([options] { runEnergy(*options); });
}

const CommandRegistration registration(20, "energy", addEnergy);

}  // namespace
}  // namespace activediff::cli
