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
};

std::vector<RegisteredCommand>& commandRegistry();

struct CommandRegistration {
  CommandRegistration(int order, std::string name, AddCommand add) {
    commandRegistry().push_back({order, std::move(name), std::move(add)});
  }
};

}  // namespace activediff::cli
