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

#include <array>
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
#include "progress.h"
#include "provenance.h"

namespace activediff::cli {
namespace {

struct McMoveCommand {
  std::string model, topology, output;
  int interval = 50;
  double temperatureK = 300.0;
  std::uint32_t seed = 1;
  std::string densitySteps = "auto";
  std::optional<int> residue;
};

// "Exact" rests on the round trip (docs/departures.md): the log-density of a
// proposal integrated while sampling and that of the same state integrated
// back agree to < 1e-3 nats at the move's density steps. How many steps that
// takes depends on the model (a preconditioned passive 2D model 40-80, a 25D
// one 160), so it is measured on the move's own path (the Eigen network).
constexpr int kRoundTripStates = 32;
constexpr double kRoundTripBoundNats = 1e-3;
// --density-steps auto: the cheapest rung whose worst round trip over the
// 32 proposals is within half the bound (the margin covers states the 32 did
// not sample); the last rung if none is. Rungs ~15-25 % apart: the round
// trip falls about 30x per doubling of the steps (h^5), so one rung halves
// it and a model pays at most ~25 % more steps than it needs (the coarser
// ladder before 2026-12-08 made a 25D model that missed 160 by 1 % take 240).
constexpr std::array<int, 12> kDensityStepLadder = {20, 40, 60, 80, 100, 120, 140, 160, 200, 240, 280, 320};

std::string ladderText() {
  std::string text;
  for (std::size_t i = 0; i < kDensityStepLadder.size(); ++i)
    text += (i == 0 ? "" : ", ") + std::to_string(kDensityStepLadder[i]);
  return text;
}
constexpr double kAutoMarginFraction = 0.5;

struct RoundTrip {
  int densitySteps = 0;
  double worstNats = 0.0, meanNats = 0.0;
  bool finite = true;
};

RoundTrip measureRoundTrip(model::Generator& generator, int densitySteps, std::uint32_t seed) {
  const model::GeneratedSamples proposals = generator.sampleWithLogDensity(kRoundTripStates, seed, densitySteps);
  const Eigen::ArrayXd back = generator.logDensityOfStates(proposals.z, densitySteps);
  const Eigen::ArrayXd gap = (back - proposals.logDensity).abs();
  RoundTrip r;
  r.densitySteps = densitySteps;
  r.finite = gap.allFinite();
  r.worstNats = r.finite ? gap.maxCoeff() : std::numeric_limits<double>::infinity();
  r.meanNats = r.finite ? gap.mean() : std::numeric_limits<double>::infinity();
  return r;
}

// An integer >= 4, or "auto".
std::optional<int> parseDensitySteps(const std::string& text) {
  if (text == "auto") return std::nullopt;
  std::size_t used = 0;
  int value = 0;
  try {
    value = std::stoi(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || value < 4 || value > 100000)
    throw Error(fmt::format("mcmove: --density-steps {}: expected auto or an integer in [4, 100000]", text));
  return value;
}

void runMcMove(const McMoveCommand& c) {
  if (c.output.empty()) throw Error("mcmove: -o/--output is required (the Force's XML, <name>.xml)");
  const std::filesystem::path xmlPath = c.output;
  if (xmlPath.extension() != ".xml") throw Error(c.output, "the serialized move must end in .xml");
  const std::optional<int> requestedSteps = parseDensitySteps(c.densitySteps);
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

  // The Force first: it validates every option (a bad one fails before the
  // round trip's cost and before anything is written); the density steps are
  // set again once the round trip has chosen them.
  auto forceErrors = [](auto&& build) {
    try {
      build();
    } catch (const std::exception& e) {
      throw Error(std::string("mcmove: ") + e.what());
    }
  };
  std::unique_ptr<plugin::GenerativeMonteCarloMove> move;
  forceErrors([&] {
    move = std::make_unique<plugin::GenerativeMonteCarloMove>(bytes, atoms, c.interval, c.temperatureK, c.seed);
    move->setDensitySteps(requestedSteps.value_or(kDensityStepLadder.front()));
  });
  RoundTrip roundTrip;
  std::vector<RoundTrip> tried;
  if (requestedSteps) {
    roundTrip = measureRoundTrip(generator, *requestedSteps, c.seed);
    tried.push_back(roundTrip);
  } else {
    for (const int steps : kDensityStepLadder) {
      roundTrip = measureRoundTrip(generator, steps, c.seed);
      tried.push_back(roundTrip);
      if (verbosity() != Verbosity::Quiet)
        std::cerr << fmt::format("mcmove: density steps {}: round trip max {:.2g} nats over {} proposals\n", steps,
                                 roundTrip.worstNats, kRoundTripStates);
      if (roundTrip.worstNats < kAutoMarginFraction * kRoundTripBoundNats) break;
    }
  }
  const int densitySteps = roundTrip.densitySteps;
  const double worstNats = roundTrip.worstNats;
  const bool withinBound = worstNats < kRoundTripBoundNats;

  std::ostringstream xml;
  forceErrors([&] {
    move->setDensitySteps(densitySteps);
    OpenMM::XmlSerializer::serialize<OpenMM::Force>(move.get(), "Force", xml);
  });
  if (!withinBound)
    std::cerr << fmt::format(
        "mcmove: warning: at {} density steps the log-density round trip of {} proposals is up to {:.3g} nats "
        "(bound {:g}): the move's acceptance is not exact to that bound; {}\n",
        densitySteps, kRoundTripStates, worstNats, kRoundTripBoundNats,
        requestedSteps ? "raise --density-steps or leave it at auto"
                       : "no step count up to the ladder's last reached it (is the model trained?)");
  nlohmann::json triedJson = nlohmann::json::array();
  for (const RoundTrip& t : tried)
    triedJson.push_back({{"density_steps", t.densitySteps},
                         {"max_nats", t.finite ? nlohmann::json(t.worstNats) : nlohmann::json(nullptr)}});

  nlohmann::json document = provenance({{"model", checkpoint.string()},
                                        {"topology", c.topology},
                                        {"output", xmlPath.string()},
                                        {"interval_steps", c.interval},
                                        {"temperature_k", c.temperatureK},
                                        {"seed", c.seed},
                                        {"density_steps_requested", c.densitySteps},
                                        {"density_steps", densitySteps}});
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
        {"density_steps", densitySteps},
        {"chosen_by", requestedSteps ? "--density-steps" : "auto"},
        {"tried", triedJson},
        {"max_nats", roundTrip.finite ? nlohmann::json(worstNats) : nlohmann::json(nullptr)},
        {"mean_nats", roundTrip.finite ? nlohmann::json(roundTrip.meanNats) : nlohmann::json(nullptr)},
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
                           c.interval, c.temperatureK, fmt::join(atoms, " "), generator.describe(), densitySteps,
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
  sub->add_option("--density-steps", c->densitySteps,
                  "RK4 steps of the probability-flow log-density, or auto: the cheapest of " + ladderText() +
                      " whose log-density round trip over 32 proposals is within half of 1e-3 nats")
      ->capture_default_str();
  sub->add_option("--residue", c->residue, "residue number whose phi/psi (2D) or capped Z-matrix (25D) the model describes (default: the only one)");
  sub->callback([c] { runMcMove(*c); });
}

const CommandRegistration registration(120, "mcmove", addMcMove);

}  // namespace
}  // namespace activediff::cli
