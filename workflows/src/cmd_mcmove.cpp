// activediff mcmove: a trained 2D (phi, psi) or 25D model as an OpenMM Force
// (GenerativeMonteCarloMove, plugin/generative_monte_carlo_move.h) in OpenMM's
// XML, with a JSON beside it. OpenMM programs -- Python included, with no
// binding to build -- load the plugin directory (`activediff --plugin-dir`),
// deserialize the file and add the Force to their System:
//   Platform.loadPluginsFromDirectory(Platform.getDefaultPluginsDirectory())
//   Platform.loadPluginsFromDirectory(plugin_dir)
//   system.addForce(XmlSerializer.deserialize(open('move.xml').read()))
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <openmm/serialization/XmlSerializer.h>

#include <cmath>
#include <fstream>
#include <iostream>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "activediff/featurize/backbone.h"
#include "activediff/featurize/error.h"
#include "activediff/featurize/output_policy.h"
#include "activediff/featurize/structure.h"
#include "activediff/featurize/zmatrix.h"
#include "activediff/model/generator.h"
#include "activediff/model/trainer.h"
#include "activediff/plugin/generative_monte_carlo_move.h"
#include "commands.h"
#include "provenance.h"

namespace activediff::cli {
namespace {

struct McMoveCommand {
  std::string model, topology, output;
  int interval = 50;
  double temperatureK = 300.0;
  std::uint32_t seed = 1;
  int densitySteps = 120;
  std::optional<int> residue;
};

void runMcMove(const McMoveCommand& c) {
  if (c.output.empty()) throw Error("mcmove: -o/--output is required (the Force's XML, <name>.xml)");
  const std::filesystem::path xmlPath = c.output;
  if (xmlPath.extension() != ".xml") throw Error(c.output, "the serialized move must end in .xml");
  std::filesystem::path jsonPath = xmlPath;
  jsonPath.replace_extension(".json");
  const std::filesystem::path checkpoint = model::resolveCheckpoint(c.model);
  declareInputs({checkpoint.string(), c.topology});
  OutputClaim xmlClaim(xmlPath, OutputShape::File);
  OutputClaim jsonClaim(jsonPath, OutputShape::File);

  // The model must be a 2D phi/psi or a 25D Z-matrix model (the Force checks
  // it again against the System when a Context is made). Loaded as the move
  // loads it (the Eigen network), for the round-trip check below.
  model::GeneratorOptions moveOptions;
  moveOptions.eigenNetwork = true;
  model::Generator generator(checkpoint, moveOptions);
  const model::FeatureSpec& spec = generator.features();
  const ZMatrixDefinition zmatrixDefinition = cappedResidueZMatrix();
  const bool phiPsi = spec.dims() == 2 && spec.names[0] == "phi" && spec.names[1] == "psi";
  if (!phiPsi && spec.featureSet != zmatrixDefinition.name)
    throw Error(checkpoint.string(),
                fmt::format("models {} features ({}); the move needs a 2D (phi, psi) model or a 25D ({}) one",
                            spec.dims(), spec.featureSet, zmatrixDefinition.name));
  const Structure structure = readStructure(c.topology);
  const BackboneDihedralAtoms dihedrals = findBackboneDihedrals(structure.topology, c.topology, c.residue);
  std::vector<int> atoms;
  std::string atomsMeaning;
  if (phiPsi) {
    atoms = {dihedrals.phi[0], dihedrals.phi[1], dihedrals.phi[2], dihedrals.phi[3], dihedrals.psi[3]};
    atomsMeaning = "0-based System particle indices of C(i-1), N, CA, C, N(i+1)";
  } else {
    const ZMatrix zmatrix(zmatrixDefinition, structure.topology, dihedrals.residueIndex, c.topology);
    if (zmatrix.featureCount() != spec.dims())
      throw Error(checkpoint.string(), fmt::format("models {} features, the {} Z-matrix has {}", spec.dims(),
                                                   zmatrixDefinition.name, zmatrix.featureCount()));
    atoms = zmatrix.rowAtoms();
    atomsMeaning = "0-based System particle indices of the " + zmatrixDefinition.name +
                   " Z-matrix rows, in row order (ACE CH3, ACE C, N, CA, C, NME N, NME CH3, ACE O, CB, O, H)";
  }
  std::ifstream in(checkpoint, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) throw Error(checkpoint.string(), "cannot read the checkpoint");

  std::ostringstream xml;
  try {
    plugin::GenerativeMonteCarloMove move(bytes, atoms, c.interval, c.temperatureK, c.seed);
    move.setDensitySteps(c.densitySteps);
    OpenMM::XmlSerializer::serialize<OpenMM::Force>(&move, "Force", xml);
  } catch (const std::exception& e) {
    throw Error(std::string("mcmove: ") + e.what());
  }
  // "Exact" rests on the round trip (docs/departures.md): the log-density of
  // a proposal integrated while sampling and that of the same state
  // integrated back agree to < 1e-3 nats at the move's density steps. How
  // many steps that takes depends on the model (a preconditioned passive 2D
  // model 60-80, a 25D one 160), so it is measured here on the move's own path
  // (the Eigen network) and recorded, once the Force has accepted the options;
  // beyond the bound is a warning.
  constexpr int kRoundTripStates = 32;
  constexpr double kRoundTripBoundNats = 1e-3;
  const model::GeneratedSamples proposals = generator.sampleWithLogDensity(kRoundTripStates, c.seed, c.densitySteps);
  const Eigen::ArrayXd back = generator.logDensityOfStates(proposals.z, c.densitySteps);
  const Eigen::ArrayXd gap = (back - proposals.logDensity).abs();
  const double worstNats = gap.allFinite() ? gap.maxCoeff() : std::numeric_limits<double>::infinity();
  const bool withinBound = worstNats < kRoundTripBoundNats;
  if (!withinBound)
    std::cerr << fmt::format(
        "mcmove: warning: at {} density steps the log-density round trip of {} proposals is up to {:.3g} nats "
        "(bound {:g}): the move's acceptance is not exact to that bound; raise --density-steps "
        "(a preconditioned passive 2D model needs 60-80, a 25D model about 160)\n",
        c.densitySteps, kRoundTripStates, worstNats, kRoundTripBoundNats);

  nlohmann::json document = provenance({{"model", checkpoint.string()},
                                        {"topology", c.topology},
                                        {"output", xmlPath.string()},
                                        {"interval_steps", c.interval},
                                        {"temperature_k", c.temperatureK},
                                        {"seed", c.seed},
                                        {"density_steps", c.densitySteps}});
  document["move"] = {
      {"xml", xmlPath.filename().string()},
      {"force", "ActivediffGenerativeMonteCarloMove"},
      {"feature_atoms", atoms},
      {"feature_atoms_meaning", atomsMeaning},
      {"phi_psi_atoms",
       {dihedrals.phi[0], dihedrals.phi[1], dihedrals.phi[2], dihedrals.phi[3], dihedrals.psi[3]}},
      {"phi_psi_atoms_meaning", "0-based System particle indices of C(i-1), N, CA, C, N(i+1)"},
      {"model", generator.describe()},
      {"density_round_trip",
       {{"states", kRoundTripStates},
        {"density_steps", c.densitySteps},
        {"max_nats", std::isfinite(worstNats) ? nlohmann::json(worstNats) : nlohmann::json(nullptr)},
        {"mean_nats", gap.allFinite() ? nlohmann::json(gap.mean()) : nlohmann::json(nullptr)},
        {"bound_nats", kRoundTripBoundNats},
        {"within_bound", withinBound},
        {"meaning",
         "|log-density of a proposal integrated while sampling - that of the same state integrated back|, "
         "on the move's own network path; < bound_nats is what the move's exactness rests on"}}},
      {"plugin_directory", plugin::pluginDirectory()},
      {"context_parameters",
       {plugin::GenerativeMonteCarloMove::Temperature(), plugin::GenerativeMonteCarloMove::MovesAttempted(),
        plugin::GenerativeMonteCarloMove::MovesAccepted()}},
      {"python",
       "Platform.loadPluginsFromDirectory(Platform.getDefaultPluginsDirectory()); "
       "Platform.loadPluginsFromDirectory(plugin_directory); "
       "system.addForce(XmlSerializer.deserialize(open(xml).read()))"}};
  writeTemporary(xmlClaim, xml.str());
  writeJsonTemporary(jsonClaim, document);
  xmlClaim.commit();
  jsonClaim.commit();
  std::cout << fmt::format("move every {} steps at {} K, feature atoms {}, {}\n"
                           "log-density round trip at {} density steps: max {:.2g} nats over {} proposals ({})\n"
                           "wrote {} and {}\n",
                           c.interval, c.temperatureK, fmt::join(atoms, " "), generator.describe(), c.densitySteps,
                           worstNats, kRoundTripStates,
                           fmt::format("{} {:g}", withinBound ? "within" : "OVER", kRoundTripBoundNats),
                           xmlPath.string(), jsonPath.string());
}

void addMcMove(CLI::App& app) {
  auto c = std::make_shared<McMoveCommand>();
  CLI::App* sub = app.add_subcommand("mcmove", commandSummary("mcmove"));
  sub->footer(
      "In Python (OpenMM's own layer, no binding): Platform.loadPluginsFromDirectory(<activediff --plugin-dir>), "
      "then system.addForce(XmlSerializer.deserialize(open('move.xml').read())). Read the counters with "
      "context.getParameter('ActivediffMovesAttempted') / ('ActivediffMovesAccepted').");
  sub->add_option("-m,--model", c->model, "checkpoint.adck or a training output directory (a 2D phi/psi or a 25D model)")
      ->required();
  sub->add_option("-s,--topology", c->topology,
                  "structure of the simulated System (.pdb/.gro/.tpr), atoms in the System's order")
      ->required();
  sub->add_option("-o,--output", c->output, "the serialized Force, <name>.xml (its JSON goes to <name>.json)");
  sub->add_option("--interval", c->interval, "MD steps between moves")->capture_default_str()->check(CLI::Range(1, 1 << 30));
  sub->add_option("--temperature", c->temperatureK, "default temperature in K (Context parameter ActivediffTemperature)")
      ->capture_default_str()
      ->check(CLI::Range(1e-3, 1e5));
  sub->add_option("--seed", c->seed, "seed of the move's random stream")->capture_default_str();
  sub->add_option("--density-steps", c->densitySteps, "RK4 steps of the probability-flow log-density")
      ->capture_default_str()
      ->check(CLI::Range(4, 100000));
  sub->add_option("--residue", c->residue, "residue number whose phi/psi (2D) or capped Z-matrix (25D) the model describes (default: the only one)");
  sub->callback([c] { runMcMove(*c); });
}

const CommandRegistration registration(120, "mcmove", addMcMove);

}  // namespace
}  // namespace activediff::cli
