// activediff simulate: reference MD through OpenMM's C++ API.
#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "activediff/plugin/md_simulation.h"
#include "commands.h"
#include "progress.h"
#include "provenance.h"

namespace activediff::cli {
namespace {

void runSimulate(const plugin::MdOptions& options) {
  declareInputs({options.systemXml.string(), options.structure.string()});
  // The summary is claimed first (refused before any MD) and committed last,
  // after runMd has put the trajectory and the log in place.
  std::filesystem::path jsonPath = options.output;
  jsonPath.replace_extension(".json");
  OutputClaim jsonClaim(jsonPath, OutputShape::File);
  ProgressDisplay progress("simulate", options.frameCount());
  const plugin::MdSummary summary = plugin::runMd(options, [&](const plugin::MdProgress& p) {
    progress.update(p.framesWritten,
                    fmt::format("{:.0f} ns/day, T {:.1f} K, U {:.1f} kJ/mol", p.nsPerDay, p.temperatureK,
                                p.potentialKjPerMol));
  });
  progress.finish(fmt::format("{:.0f} ns/day", summary.nsPerDay));

  nlohmann::json result = {
      {"trajectory", summary.trajectory.string()},
      {"log", summary.log.string()},
      {"frames", summary.frames},
      {"simulated_ns", summary.simulatedNs},
      {"wall_seconds", summary.wallSeconds},
      {"ns_per_day", summary.nsPerDay},
      {"mean_temperature_k", summary.meanTemperatureK},
      {"mean_potential_kj_mol", summary.meanPotentialKjPerMol},
      {"std_potential_kj_mol", summary.stdPotentialKjPerMol},
      {"degrees_of_freedom", summary.degreesOfFreedom},
      {"platform", summary.platform},
      {"seed", summary.seed},
      {"resumed", summary.resumed},
      {"resumed_from_frame", summary.resumedFromFrame}};
  nlohmann::json document = provenance(options.toJson());
  document["result"] = result;
  writeJson(jsonClaim, document);

  std::cout << fmt::format(
      "wrote {} ({} frames, {:.3f} ns) and {}\n"
      "platform {}: {:.0f} ns/day; mean T {:.2f} K (target {:.2f} K, {} degrees of freedom)\n"
      "potential energy {:.2f} +/- {:.2f} kJ/mol\nsummary: {}\n",
      summary.trajectory.string(), summary.frames, summary.simulatedNs, summary.log.string(), summary.platform,
      summary.nsPerDay, summary.meanTemperatureK, options.temperatureK, summary.degreesOfFreedom,
      summary.meanPotentialKjPerMol, summary.stdPotentialKjPerMol, jsonPath.string());
}

void addSimulate(CLI::App& app) {
  auto options = std::make_shared<plugin::MdOptions>();
  CLI::App* sub = app.add_subcommand("simulate", commandSummary("simulate"));
  sub->add_option("--system", options->systemXml, "OpenMM System XML (XmlSerializer format)")
      ->required();
  sub->add_option("--structure,--pdb", options->structure,
                  "starting structure (.pdb/.gro), atoms in the System's order")
      ->required();
  sub->add_option("-o,--output", options->output, "output trajectory (.xtc or .trr)")->required();
  sub->add_option("--temperature", options->temperatureK, "temperature in K")->capture_default_str();
  sub->add_option("--friction", options->frictionPerPs, "Langevin friction in 1/ps")->capture_default_str();
  sub->add_option("--timestep", options->timestepFs, "time step in fs")->capture_default_str();
  sub->add_option("--length", options->lengthNs, "production length in ns")->capture_default_str();
  sub->add_option("--frame-interval", options->frameIntervalPs, "ps between saved frames")
      ->capture_default_str();
  sub->add_option("--seed", options->seed,
                  "random seed (velocities and integrator); -1: a random one, recorded as result.seed in "
                  "<output>.json (with --resume: the checkpoint's)")
      ->capture_default_str();
  sub->add_option("--platform", options->platform, "OpenMM platform: Reference, CPU, CUDA, OpenCL, ...")
      ->capture_default_str();
  sub->add_option("--threads", options->threads,
                  "CPU platform threads (0 = OpenMM default); 1 for bitwise-reproducible runs")
      ->capture_default_str();
  sub->add_flag("!--no-minimize", options->minimize, "skip energy minimization");
  sub->add_option("--equilibrate", options->equilibrationPs, "equilibration before production, ps")
      ->capture_default_str();
  sub->add_option("--checkpoint-interval", options->checkpointIntervalFrames, "frames between checkpoints")
      ->capture_default_str();
  sub->add_flag("--resume", options->resume, "continue a killed run from <output>.chk");
  sub->callback([options] { runSimulate(*options); });
}

const CommandRegistration registration(10, "simulate", addSimulate);

}  // namespace
}  // namespace activediff::cli
