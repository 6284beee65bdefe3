// activediff: one program, git-style subcommands.
#include <algorithm>
#include <iostream>

#include "activediff/featurize/error.h"
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
  for (const auto& command : registry) command.add(app);
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
