// activediff seed: MD starting structures from a trained 2D model
// (plugin/seeding.h), tagged with their metastable state and energy.
#include <fmt/format.h>

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "activediff/featurize/error.h"
#include "activediff/featurize/output_policy.h"
#include "activediff/featurize/structure.h"
#include "activediff/model/generator.h"
#include "activediff/model/trainer.h"
#include "activediff/plugin/seeding.h"
#include "commands.h"
#include "provenance.h"
#include "structure_pipeline.h"

namespace activediff::cli {
namespace {

struct SeedCommand {
  std::string model, system, topology, output, spread = "states", relax = "none", platform = "CPU";
  std::int64_t count = 100;
  std::uint64_t seed = 1;
  int drawsPerSeed = 20;
  std::optional<int> residue;
};

void runSeed(const SeedCommand& c) {
  const std::filesystem::path output = c.output;
  const std::string extension = output.extension().string();
  if (extension != ".pdb" && extension != ".xtc" && extension != ".gro" && extension != ".trr")
    throw Error(c.output, "the seeds go to a .pdb (MODEL per seed), .xtc, .gro or .trr");
  std::filesystem::path jsonPath = output;
  jsonPath.replace_extension(".json");
  if (jsonPath == output) throw Error(c.output, "the output and its JSON would be the same file");
  if (c.spread != "states" && c.spread != "model")
    throw Error("--spread", "must be 'states' or 'model', not '" + c.spread + "'");
  const std::filesystem::path checkpoint = model::resolveCheckpoint(c.model);
  declareInputs({checkpoint.string(), c.system, c.topology});
  OutputClaim structuresClaim(output, OutputShape::File);
  OutputClaim jsonClaim(jsonPath, OutputShape::File);

  model::Generator generator(checkpoint);
  const model::SamplerConfig sampler = generator.config().sampler;
  const Structure templateStructure = readStructure(c.topology);
  plugin::SeedOptions options;
  options.count = c.count;
  options.seed = c.seed;
  options.spreadOverStates = c.spread == "states";
  options.drawsPerSeed = c.drawsPerSeed;
  options.relax = plugin::relaxFromName(c.relax);
  options.platform = c.platform;
  options.residue = c.residue;
  const plugin::SeedSet set =
      plugin::generateSeeds(generator, sampler, c.system, templateStructure, c.topology, options);

  const int atoms = int(templateStructure.topology.size());
  StructureBatchNm structures(set.seeds.size(), 3 * atoms);
  nlohmann::json seeds = nlohmann::json::array();
  std::array<std::int64_t, kMetastableStateCount> perState{};
  for (std::size_t k = 0; k < set.seeds.size(); ++k) {
    const plugin::GeneratedSeed& s = set.seeds[k];
    for (int a = 0; a < atoms; ++a)
      for (int d = 0; d < 3; ++d) structures(k, 3 * a + d) = s.positionsNm(a, d);
    ++perState[int(s.state)];
    seeds.push_back({{"index", k},
                     {"model_draw", s.draw},
                     {"state", stateName(s.state)},
                     {"phi_deg", s.phiRad * 180.0 / M_PI},
                     {"psi_deg", s.psiRad * 180.0 / M_PI},
                     {"potential_energy_kj_per_mol", s.potentialEnergyKjPerMol}});
  }
  nlohmann::json seedsPerState, drawsPerState;
  for (int s = 0; s < kMetastableStateCount; ++s) {
    seedsPerState[stateName(MetastableState(s))] = perState[s];
    drawsPerState[stateName(MetastableState(s))] = set.drawsPerState[s];
  }
  nlohmann::json document = provenance({{"model", checkpoint.string()},
                                        {"system", c.system},
                                        {"topology", c.topology},
                                        {"output", output.string()},
                                        {"count", c.count},
                                        {"seed", c.seed},
                                        {"spread", c.spread},
                                        {"draws_per_seed", c.drawsPerSeed},
                                        {"relax", c.relax},
                                        {"platform", c.platform},
                                        {"residue", c.residue ? nlohmann::json(*c.residue) : nlohmann::json()},
                                        {"sampler", {{"kind", sampler.kind}, {"steps", sampler.steps},
                                                     {"grid", sampler.grid}}}});
  document["result"] = {{"model", generator.describe()},
                        {"structures", output.filename().string()},
                        {"seeds", set.seeds.size()},
                        {"model_draws", set.draws},
                        {"network_calls_per_draw", set.networkCallsPerDraw},
                        {"seeds_per_state", seedsPerState},
                        {"model_draws_per_state", drawsPerState},
                        {"per_seed", seeds}};
  writeStructures(structuresClaim, templateStructure.topology, structures);
  writeJsonTemporary(jsonClaim, document);
  structuresClaim.commit();
  jsonClaim.commit();
  std::string summary;
  for (int s = 0; s < kMetastableStateCount; ++s)
    if (perState[s]) summary += fmt::format(" {} {}", stateName(MetastableState(s)), perState[s]);
  std::cout << fmt::format("{} seeds from {} model draws:{}\nwrote {} and {}\n", set.seeds.size(), set.draws,
                           summary, output.string(), jsonPath.string());
}

void addSeed(CLI::App& app) {
  auto c = std::make_shared<SeedCommand>();
  CLI::App* sub = app.add_subcommand("seed", commandSummary("seed"));
  sub->footer("Example: activediff seed -m run/ --system examples/ala2/system.xml -s examples/ala2/ala2.pdb -n 20 "
              "-o seeds.pdb; then workflows/swarm.py starts short MD runs from them.");
  sub->add_option("-m,--model", c->model, "checkpoint.adck or a training output directory (a 2D phi/psi model)")
      ->required();
  sub->add_option("--system", c->system, "OpenMM System XML (XmlSerializer format)")->required();
  sub->add_option("-s,--topology", c->topology,
                  "template structure (.pdb/.gro/.tpr), atoms in the System's order; the seeds are it with the "
                  "model's phi/psi")
      ->required();
  sub->add_option("-o,--output", c->output, "seeds as .pdb (a MODEL each), .xtc, .gro or .trr; a JSON beside it")
      ->required();
  sub->add_option("-n,--count", c->count, "number of seeds")->capture_default_str()->check(CLI::Range(1, 10000000));
  sub->add_option("--spread", c->spread,
                  "states: equal shares over the metastable states the model reaches; model: the model's own "
                  "proportions")
      ->capture_default_str();
  sub->add_option("--draws-per-seed", c->drawsPerSeed, "model draws per seed when spreading over states")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  sub->add_option("--relax", c->relax, "none, or phi-psi: minimize with phi and psi restrained")->capture_default_str();
  sub->add_option("--platform", c->platform, "OpenMM platform for energies and relaxation")->capture_default_str();
  sub->add_option("--seed", c->seed, "random seed of the model draws")->capture_default_str();
  sub->add_option("--residue", c->residue, "residue number whose phi/psi the model describes (default: the only one)");
  sub->callback([c] { runSeed(*c); });
}

const CommandRegistration registration(130, "seed", addSeed);

}  // namespace
}  // namespace activediff::cli
