#pragma once
// Each subcommand of the activediff program lives in its own cmd_<name>.cpp
// and registers itself with a static CommandRegistration; main() adds every
// registered command in a stable order and dispatches.
#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

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

}  // namespace activediff::cli
