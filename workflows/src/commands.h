#pragma once
// Each subcommand of the activediff program lives in its own cmd_<name>.cpp
// and registers itself with a static CommandRegistration; main() adds every
// registered command in a stable order and dispatches.
#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

#include "progress.h"  // Verbosity

namespace activediff::cli {

using AddCommand = std::function<void(CLI::App&)>;

struct RegisteredCommand {
  int order;  // position in --help
  std::string name;
  AddCommand add;
  // Commands that write outputs get --overwrite and run under the output
  // policy with their name as the output kind (output_policy.h).
  bool writesOutputs = true;
};

std::vector<RegisteredCommand>& commandRegistry();

struct CommandRegistration {
  CommandRegistration(int order, std::string name, AddCommand add, bool writesOutputs = true) {
    commandRegistry().push_back({order, std::move(name), std::move(add), writesOutputs});
  }
};

// The program is three executables built from the same sources, so that a
// command loads only the heavy libraries it uses (LibTorch's static
// initialization alone costs ~0.9 s and ~160 MB at every start):
//   activediff          featurize, rebuild/evaluate without energies or model,
//                       --help, --version
//   activediff-openmm   + OpenMM: simulate, energy, energies in rebuild/evaluate
//   activediff-torch    + LibTorch: train, sample, export, evaluate --model
// Each hands a command line it cannot run to the next one (execv, same argv).
enum class Capability { OpenMM, Torch };
bool hasCapability(Capability capability);
// Makes sure this process can do `capability`; otherwise runs the same command
// line in the next fuller executable and never returns. Call it before any
// output is claimed (an exec'd process runs no destructors).
void requireCapability(Capability capability);

// Every subcommand by name, with its one-line summary, whether or not this
// executable holds it: `activediff --help` lists them all without loading
// the libraries of the fuller executables. One definition of each summary.
struct CommandSummary {
  int order;
  const char* name;
  const char* summary;
};
const std::vector<CommandSummary>& commandCatalog();
// The summary of a command in the catalog (throws on an unknown name).
std::string commandSummary(const std::string& name);

}  // namespace activediff::cli
