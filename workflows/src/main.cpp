// activediff: one program, git-style subcommands.
#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>

#include "activediff/featurize/error.h"
#include "activediff/featurize/output_policy.h"
#include "activediff/version.h"
#include "commands.h"
#include "provenance.h"

namespace activediff::cli {
std::vector<RegisteredCommand>& commandRegistry() {
  static std::vector<RegisteredCommand> registry;
  return registry;
}
}  // namespace activediff::cli

int main(int argc, char** argv) {
  activediff::cli::setCommandLine(argc, argv);
  CLI::App app{
      "activediff: learn a molecule's conformational landscape from MD with active-noise "
      "diffusion, generate conformations, rebuild and validate them."};
  app.set_version_flag("--version", std::string("activediff ") + activediff::kVersion + " (" +
                                        activediff::kGitDescribe + ")");
  app.require_subcommand(1);
  auto& registry = activediff::cli::commandRegistry();
  std::sort(registry.begin(), registry.end(),
            [](const auto& a, const auto& b) { return a.order < b.order; });
  nlohmann::json outputCommands = nlohmann::json::array();
  for (const auto& command : registry) {
    command.add(app);
    if (!command.writesOutputs) continue;
    // One output policy for every command that writes: the registry adds it.
    CLI::App* sub = app.get_subcommand(command.name);
    sub->add_flag("--overwrite", activediff::outputSession().overwrite,
                  "replace an existing activediff output of this command's kind (default: an existing output "
                  "is backed up to #name.N#; foreign directories, inputs and system paths are refused)");
    const std::string name = command.name;
    sub->preparse_callback([name](std::size_t) { activediff::outputSession().kind = name; });
    outputCommands.push_back(name);
  }
  // For the tests: which commands run under the output policy.
  app.add_flag_callback(
         "--list-output-commands",
         [&outputCommands]() {
           std::cout << outputCommands.dump() << "\n";
           throw CLI::Success();
         },
         "print the subcommands that write outputs (JSON) and exit")
      ->group("");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const activediff::Error& e) {
    std::cerr << "activediff: error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "activediff: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
